package campaign

import (
	"strings"
	"testing"
)

// Punycode is unexported, so its conformance vectors run inside the package.
// The vectors are RFC 3492 §7.1 samples (A), (B), (L), (S) and the
// well-known "bücher" and "münchen" labels; "аррӏе" is the 2017 Cyrillic
// apple.com lookalike, published as xn--80ak6aa92e.com.
func TestPunycodeVectors(t *testing.T) {
	tests := []struct{ name, unicode, puny string }{
		{"RFC 3492 sample A (Arabic) round-trips",
			"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
		{"RFC 3492 sample B (Chinese) round-trips",
			"\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
		{"RFC 3492 sample L (mixed with ASCII) round-trips", "3\u5E74b\u7D44\u91D1\u516B\u5148\u751F", "3b-ww4c5e180e575a65lsy2b"},
		{"RFC 3492 sample S (ASCII with a hyphen) round-trips", "-> $1.00 <-", "-> $1.00 <--"},
		{"bücher round-trips", "bücher", "bcher-kva"},
		{"münchen round-trips", "münchen", "mnchen-3ya"},
		{"the Cyrillic apple lookalike encodes as published", "аррӏе", "80ak6aa92e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := punyEncode(tt.unicode)
			if err != nil || got != tt.puny {
				t.Errorf("encode = %q, %v; want %q", got, err, tt.puny)
			}
			back, err := punyDecode(tt.puny)
			if err != nil || back != tt.unicode {
				t.Errorf("decode = %q, %v; want %q", back, err, tt.unicode)
			}
		})
	}
	t.Run("an upper-case encoding decodes too", func(t *testing.T) {
		// Digits decode case-insensitively; basic code points keep their case.
		if got, err := punyDecode("MNCHEN-3YA"); err != nil || got != "MüNCHEN" {
			t.Errorf("decode = %q, %v", got, err)
		}
	})
	t.Run("invalid encodings are refused", func(t *testing.T) {
		for _, s := range []string{"a-!", "99999999999999", "abc-ü", strings.Repeat("9", 300)} {
			if _, err := punyDecode(s); err == nil {
				t.Errorf("%q accepted", s)
			}
		}
	})
	t.Run("a label that decodes to ASCII is not canonical", func(t *testing.T) {
		if _, err := toUnicodeLabel("xn--abc-"); err == nil {
			t.Error("xn--abc- accepted")
		}
	})
}

func FuzzPunycode(f *testing.F) {
	for _, s := range []string{"bücher", "аррӏе", "3年b組", "", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, err := punyEncode(s)
		if err == nil {
			dec, err := punyDecode(enc)
			if err != nil || dec != s {
				t.Fatalf("%q encodes to %q, which decodes to %q, %v", s, enc, dec, err)
			}
		}
		punyDecode(s)
		toUnicodeLabel("xn--" + s)
	})
}
