package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/vigil-elections/vigil"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106's second recommended option, with 64 MiB).
// They are stored in each hash, so raising them later keeps old hashes valid.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is used for new passwords.
var DefaultArgon2 = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// FastArgon2 is for tests and the demo's bulk users only.
var FastArgon2 = Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}

// MinPasswordLength follows NIST SP 800-63B for memorised secrets.
const MinPasswordLength = 12

// CheckPasswordPolicy validates a new password.
func CheckPasswordPolicy(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return vigil.FieldError("password.policy", "password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 256 {
		return vigil.FieldError("password.policy", "password", "must be at most 256 bytes")
	}
	return nil
}

// HashPassword returns an argon2id PHC string.
func HashPassword(pw string, p Argon2Params) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether pw matches the PHC string hash.
func CheckPassword(pw, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || p.Memory > 1<<21 || p.Time > 16 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
