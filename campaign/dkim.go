package campaign

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/vigil-elections/vigil"
)

// DKIMKey is a parsed DKIM key record (RFC 6376 §3.6.1), the TXT value at
// selector._domainkey.example.com.
type DKIMKey struct {
	Version  string   // "DKIM1" or "" when absent
	KeyType  string   // "rsa" (the default) or "ed25519"
	Hashes   []string // h=, empty when absent (any)
	Services []string // s=, empty when absent (*)
	Flags    []string // t=: "y" testing, "s" strict
	Revoked  bool     // p= is empty
	Bits     int      // key size for RSA; 256 for Ed25519
	Unknown  []string // tags this grader does not know; receivers ignore them
}

// ParseDKIM parses a DKIM key record strictly. The public key is decoded
// and its size measured; it is never echoed in errors.
func ParseDKIM(record string) (DKIMKey, error) {
	const op = "campaign.dkim"
	s, err := txtValue(op, record)
	if err != nil {
		return DKIMKey{}, err
	}
	tags, err := parseTagList(op, s)
	if err != nil {
		return DKIMKey{}, err
	}
	k := DKIMKey{KeyType: "rsa"}
	var p *string
	for i, t := range tags {
		switch t.name {
		case "v":
			if i != 0 {
				return DKIMKey{}, vigil.FieldError(op, "v", "v= must be the first tag")
			}
			if t.value != "DKIM1" {
				return DKIMKey{}, vigil.FieldError(op, "v", "the version must be DKIM1")
			}
			k.Version = t.value
		case "k":
			k.KeyType = strings.ToLower(t.value)
		case "h":
			k.Hashes = colonList(t.value)
		case "s":
			k.Services = colonList(t.value)
		case "t":
			k.Flags = colonList(t.value)
		case "n":
		case "p":
			v := t.value
			p = &v
		default:
			k.Unknown = append(k.Unknown, t.name)
		}
	}
	if p == nil {
		return DKIMKey{}, vigil.FieldError(op, "p", "the public key tag p= is missing")
	}
	key := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, *p)
	if key == "" {
		k.Revoked = true
		return k, nil
	}
	der, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return DKIMKey{}, vigil.FieldError(op, "p", "the public key is not valid base64; copy it again from your mail provider")
	}
	switch k.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			if pk, err1 := x509.ParsePKCS1PublicKey(der); err1 == nil {
				pub, err = pk, nil
			}
		}
		if err != nil {
			return DKIMKey{}, vigil.FieldError(op, "p", "the public key is not an RSA key")
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return DKIMKey{}, vigil.FieldError(op, "p", "k=rsa but the public key is not an RSA key")
		}
		k.Bits = rk.N.BitLen()
	case "ed25519":
		if len(der) != 32 {
			return DKIMKey{}, vigil.FieldError(op, "p", "an Ed25519 key is 32 bytes, this one is %d", len(der))
		}
		k.Bits = 256
	default:
		return DKIMKey{}, vigil.FieldError(op, "k", "unknown key type %q; use rsa or ed25519", clip(k.KeyType))
	}
	return k, nil
}

func colonList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ":") {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// GradeDKIM grades a DKIM key record.
func GradeDKIM(record string) Report {
	k, err := ParseDKIM(record)
	if err != nil {
		return report("DKIM", []Finding{invalid("dkim-invalid", err)})
	}
	var fs []Finding
	switch {
	case k.Revoked:
		fs = append(fs, Finding{High, "dkim-revoked", "p= is empty: this key is revoked and mail signed with this selector fails DKIM; publish the current key, or remove the selector once unused"})
	case k.KeyType == "rsa" && k.Bits < 1024:
		fs = append(fs, Finding{Critical, "dkim-key-too-short", fmt.Sprintf("a %d-bit RSA key is ignored by receivers (RFC 8301 requires at least 1024) and can be broken; publish a 2048-bit key", k.Bits)})
	case k.KeyType == "rsa" && k.Bits < 2048:
		fs = append(fs, Finding{High, "dkim-key-short", fmt.Sprintf("a %d-bit RSA key is within reach of a well-funded attacker; rotate to a 2048-bit key", k.Bits)})
	case k.KeyType == "ed25519":
		fs = append(fs, Finding{Info, "dkim-ed25519", "not every receiver verifies Ed25519 signatures yet; also sign with a 2048-bit RSA key"})
	}
	if len(k.Hashes) > 0 {
		sha256 := false
		for _, h := range k.Hashes {
			sha256 = sha256 || h == "sha256"
		}
		if !sha256 {
			fs = append(fs, Finding{Critical, "dkim-sha1-only", "h= allows only SHA-1, which receivers must not accept (RFC 8301); use h=sha256 or remove h="})
		} else if len(k.Hashes) > 1 {
			fs = append(fs, Finding{Low, "dkim-sha1-allowed", "h= still allows SHA-1; remove it and keep sha256"})
		}
	}
	for _, f := range k.Flags {
		if f == "y" {
			fs = append(fs, Finding{Medium, "dkim-testing", "t=y marks the key as testing: receivers may treat your mail as unsigned; remove t=y"})
		}
	}
	if len(k.Services) > 0 {
		email := false
		for _, s := range k.Services {
			email = email || s == "*" || s == "email"
		}
		if !email {
			fs = append(fs, Finding{High, "dkim-not-email", "s= does not include email, so receivers will not use this key for mail"})
		}
	}
	if len(k.Unknown) > 0 {
		fs = append(fs, Finding{Info, "dkim-unknown-tags", "receivers ignore the tags " + strings.Join(k.Unknown, ", ")})
	}
	return report("DKIM", fs)
}
