package vigil

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// Pollbook devices. A tablet using a site node's pages, or a laptop running
// its own node, checks voters in only once it is enrolled: a supervisor or
// the county issues a one-time code for a polling place; the device redeems
// it and receives its key, which it presents with every request. The
// device is identified by that key (its id is derived from the key's hash;
// only the hash is stored), reports its vigil version and operating system,
// and can be revoked. Everything is an event on the device's subject.

const (
	// EventEnrolmentCodeIssued: a one-time enrolment code was issued; an
	// EnrolmentCode (the code's hash, never the code), claimed on
	// ev.device.<code id> as its first event.
	EventEnrolmentCodeIssued EventType = "device.code_issued"
	// EventDeviceEnrolled: a device redeemed a code; a DeviceEnrolment,
	// claimed on the code's subject over the issue, so a code is used once.
	EventDeviceEnrolled EventType = "device.enrolled"
	// EventDeviceRevoked: a device may no longer act; a DeviceRevocation.
	EventDeviceRevoked EventType = "device.revoked"
	// EventDeviceReported: a device reported a different vigil version or
	// operating system at sync; a DeviceReport.
	EventDeviceReported EventType = "device.reported"
)

// EnrolmentCode is the payload of device.code_issued.
type EnrolmentCode struct {
	ID       string    `json:"id"`        // enrol-<16 hex>: the event key
	CodeHash string    `json:"code_hash"` // hex SHA-256 of the normalized code
	Site     Scope     `json:"site"`      // the polling place the device will serve
	Name     string    `json:"name"`      // a label for people
	Expires  time.Time `json:"expires"`
}

// DeviceEnrolment is the payload of device.enrolled.
type DeviceEnrolment struct {
	Code    string `json:"code"` // the EnrolmentCode id
	Device  string `json:"device"`
	KeyHash string `json:"key_hash"` // hex SHA-256 of the device key
	Site    Scope  `json:"site"`
	Name    string `json:"name"`
	Version string `json:"version"`
	OS      string `json:"os"`
}

// DeviceRevocation is the payload of device.revoked.
type DeviceRevocation struct {
	Device string `json:"device"`
	Reason string `json:"reason"`
}

// DeviceReport is the payload of device.reported.
type DeviceReport struct {
	Device  string `json:"device"`
	Version string `json:"version"`
	OS      string `json:"os"`
}

// Device refusal codes beyond the lifecycle rules' (DeviceRefusal.Codes).
const (
	DeviceUnenrolled = "unenrolled" // no key, or a key no enrolled device has
	DeviceRevoked    = "revoked"
	DeviceWrongSite  = "wrong_site" // enrolled for another polling place
)

// EnrolmentCodeLen is the number of characters of a code (without dashes):
// 16 characters of Crockford base32, 80 bits, read aloud or typed.
const EnrolmentCodeLen = 16

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewEnrolmentCode returns a fresh code like "7K2M-QX9D-…" from 10 random
// bytes.
func NewEnrolmentCode(random [10]byte) string {
	var b strings.Builder
	var acc uint64
	bits := 0
	n := 0
	for _, x := range random {
		acc = acc<<8 | uint64(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(crockford[(acc>>uint(bits))&31])
			n++
		}
	}
	return b.String()
}

// NormalizeEnrolmentCode upper-cases a typed code, drops spaces and dashes
// and reads the letters people confuse (O as 0, I and L as 1); "" if what
// is left is not a code.
func NormalizeEnrolmentCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(crockford, r) {
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != EnrolmentCodeLen {
		return ""
	}
	return b.String()
}

// EnrolmentCodeID returns the id and hash of a normalized code.
func EnrolmentCodeID(normalized string) (id, hash string) {
	h := sha256.Sum256([]byte("vigil enrolment code\n" + normalized))
	hash = hex.EncodeToString(h[:])
	return "enrol-" + hash[:16], hash
}

// DeviceKey is a device's secret: 32 random bytes. Its token form, which
// the device presents, is "<device id>.<base64url key>".
type DeviceKey [32]byte

// Hash returns the hex SHA-256 stored in place of the key.
func (k DeviceKey) Hash() string {
	h := sha256.Sum256(k[:])
	return hex.EncodeToString(h[:])
}

// ID returns the device id derived from the key: "pb-" and the first 12
// hex digits of its hash.
func (k DeviceKey) ID() string { return "pb-" + k.Hash()[:12] }

// Token returns what the device presents with every request.
func (k DeviceKey) Token() string {
	return k.ID() + "." + base64.RawURLEncoding.EncodeToString(k[:])
}

// ParseDeviceToken splits a token into the device id it claims and the hash
// of its key; ok is false for anything that is not a well-formed token
// whose id matches its key.
func ParseDeviceToken(token string) (id, keyHash string, ok bool) {
	id, enc, found := strings.Cut(strings.TrimSpace(token), ".")
	if !found || len(enc) != base64.RawURLEncoding.EncodedLen(32) {
		return "", "", false
	}
	var k DeviceKey
	if n, err := base64.RawURLEncoding.Decode(k[:], []byte(enc)); err != nil || n != 32 {
		return "", "", false
	}
	if subtle.ConstantTimeCompare([]byte(k.ID()), []byte(id)) != 1 {
		return "", "", false
	}
	return id, k.Hash(), true
}

// PollbookDevice is an enrolled device as the register knows it.
type PollbookDevice struct {
	ID         string    `json:"id"`
	Site       Scope     `json:"site"`
	County     string    `json:"county"`
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	OS         string    `json:"os"`
	EnrolledBy string    `json:"enrolled_by"`
	Enrolled   time.Time `json:"enrolled"`
	Reported   time.Time `json:"reported"`
	Status     string    `json:"status"` // enrolled | revoked
	RevokedBy  string    `json:"revoked_by,omitempty"`
	Revoked    time.Time `json:"revoked,omitzero"`
	Reason     string    `json:"reason,omitempty"`
}
