package access_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/access"
)

func TestPasswords(t *testing.T) {
	h := access.HashPassword("correct horse battery", access.FastArgon2)
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if !access.CheckPassword("correct horse battery", h) {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"correct horse batterY", "", "correct horse battery "} {
		if access.CheckPassword(bad, h) {
			t.Fatalf("wrong password %q accepted", bad)
		}
	}
	if access.CheckPassword("x", "$argon2id$v=19$m=999999999,t=1,p=1$AAAA$AAAA") {
		t.Fatal("absurd parameters accepted")
	}
	if err := access.CheckPasswordPolicy("short"); err == nil {
		t.Fatal("short password accepted")
	}
}

func TestThrottle(t *testing.T) {
	th := access.NewThrottle(3, time.Minute)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if b, _ := th.Blocked("u:a", now); b {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("u:a", now)
	}
	if b, _ := th.Blocked("u:a", now); !b {
		t.Fatal("not blocked after 3 failures")
	}
	if b, _ := th.Blocked("u:b", now); b {
		t.Fatal("another key is blocked")
	}
	if b, _ := th.Blocked("u:a", now.Add(61*time.Second)); b {
		t.Fatal("still blocked after the window")
	}
}

func TestTOTP(t *testing.T) {
	secret, url, err := access.NewTOTP("vigil", "alice")
	if err != nil || !strings.HasPrefix(url, "otpauth://totp/") {
		t.Fatal(err, url)
	}
	now := time.Now()
	code, _ := access.TOTPCode(secret, now)
	if !access.CheckTOTP(code, secret, now) {
		t.Fatal("current code refused")
	}
	if access.CheckTOTP(code, secret, now.Add(5*time.Minute)) {
		t.Fatal("a code five minutes old accepted")
	}
}
