package vigil_test

import (
	"testing"

	"github.com/vigil-elections/vigil"
)

// FuzzDeviceToken: a token parses only when its id is the one derived
// from its key, and a parsed token's key hash is what that key hashes to.
func FuzzDeviceToken(f *testing.F) {
	var k vigil.DeviceKey
	for i := range k {
		k[i] = byte(i)
	}
	f.Add(k.Token())
	f.Add("pb-000000000000.AAAA")
	f.Add("")
	f.Add(".")
	f.Fuzz(func(t *testing.T, s string) {
		id, hash, ok := vigil.ParseDeviceToken(s)
		if !ok {
			return
		}
		if len(id) != 15 || id[:3] != "pb-" || "pb-"+hash[:12] != id {
			t.Fatalf("token %q parsed to id %q hash %q", s, id, hash)
		}
	})
}

// FuzzEnrolmentCode: a normalized code is always 16 characters of the
// alphabet, and normalizing it again changes nothing.
func FuzzEnrolmentCode(f *testing.F) {
	f.Add("7K2M-QX9D-4HVB-T1ZE")
	f.Add("7k2m qx9d 4hvb t1ze")
	f.Add("OIL0-0000-0000-0000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		n := vigil.NormalizeEnrolmentCode(s)
		if n == "" {
			return
		}
		if len(n) != vigil.EnrolmentCodeLen || vigil.NormalizeEnrolmentCode(n) != n {
			t.Fatalf("%q normalized to %q", s, n)
		}
	})
}
