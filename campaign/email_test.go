package campaign_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

// rsaKey returns the base64 SubjectPublicKeyInfo of an RSA public key of
// the given size. The modulus is not a product of primes: only its length
// matters to the grader.
func rsaKey(t testing.TB, bits int) string {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(12345))
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func codesOf(r campaign.Report) string {
	var c []string
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return strings.Join(c, " ")
}

type gradeCase struct {
	name   string
	record string
	grade  campaign.Grade
	codes  string // the findings' codes, most severe first
}

func runGrades(t *testing.T, grade func(string) campaign.Report, tests []gradeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := grade(tt.record)
			if r.Grade != tt.grade || codesOf(r) != tt.codes {
				t.Errorf("grade %s findings %q, want %s %q\n%+v", r.Grade, codesOf(r), tt.grade, tt.codes, r.Findings)
			}
			for _, f := range r.Findings {
				if f.Message == "" {
					t.Errorf("finding %s has no message", f.Code)
				}
			}
		})
	}
}

func TestGradeSPF(t *testing.T) {
	manyIncludes := "v=spf1"
	for i := 0; i < 11; i++ {
		manyIncludes += fmt.Sprintf(" include:_spf%d.example.com", i)
	}
	runGrades(t, campaign.GradeSPF, []gradeCase{
		{"a hard fail with provider includes is an A with a lookup note", "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 -all", "A", "spf-lookups"},
		{"+all lets anyone send", "v=spf1 include:_spf.google.com +all", "F", "spf-pass-all spf-lookups"},
		{"a bare all is +all", "v=spf1 mx all", "F", "spf-pass-all"},
		{"?all protects nothing", "v=spf1 mx ?all", "D", "spf-neutral-all"},
		{"~all is acceptable but noted", "v=spf1 mx ~all", "B", "spf-softfail-all"},
		{"no all at all is high", "v=spf1 mx", "D", "spf-no-all"},
		{"a redirect stands in for all", "v=spf1 redirect=_spf.example.com", "A", ""},
		{"eleven includes exceed the lookup limit", manyIncludes + " -all", "F", "spf-too-many-lookups"},
		{"ptr is deprecated", "v=spf1 ptr -all", "C", "spf-ptr"},
		{"ip4:0.0.0.0/0 is the whole internet", "v=spf1 ip4:0.0.0.0/0 -all", "F", "spf-broad-range"},
		{"a /4 IPv4 range is far too broad", "v=spf1 ip4:16.0.0.0/4 -all", "D", "spf-broad-range"},
		{"terms after all are dead", "v=spf1 -all mx", "B", "spf-after-all"},
		{"two records are a permerror", "v=spf1 -all v=spf1 mx -all", "F", "spf-multiple"},
		{"a domain that sends nothing is told so", "v=spf1 -all", "A", "spf-no-mail"},
		{"quoted zone-file strings are joined", `"v=spf1 include:_spf.google.com " "-all"`, "A", "spf-lookups"},
		{"an unknown mechanism is invalid", "v=spf1 foo -all", "F", "spf-invalid"},
		{"a malformed ip4 is invalid", "v=spf1 ip4:192.0.2.300 -all", "F", "spf-invalid"},
		{"an IPv6 address under ip4 is invalid", "v=spf1 ip4:2001:db8::1 -all", "F", "spf-invalid"},
		{"an include without a domain is invalid", "v=spf1 include -all", "F", "spf-invalid"},
		{"a second redirect is invalid", "v=spf1 redirect=a.example redirect=b.example", "F", "spf-invalid"},
		{"a record without v=spf1 is invalid", "include:_spf.google.com -all", "F", "spf-invalid"},
		{"a prefix beyond 32 is invalid", "v=spf1 a/33 -all", "F", "spf-invalid"},
	})
	t.Run("a record parses into its terms", func(t *testing.T) {
		rec, err := campaign.ParseSPF("v=spf1 a:mail.example.com/24//64 ~ip6:2001:db8::/32 exp=explain.example.com -all")
		if err != nil {
			t.Fatal(err)
		}
		want := []campaign.SPFTerm{
			{Qualifier: '+', Name: "a", Value: "mail.example.com", Prefix4: 24, Prefix6: 64},
			{Qualifier: '~', Name: "ip6", Value: "2001:db8::", Prefix4: -1, Prefix6: 32},
			{Name: "exp", Value: "explain.example.com", Prefix4: -1, Prefix6: -1},
			{Qualifier: '-', Name: "all", Prefix4: -1, Prefix6: -1},
		}
		if fmt.Sprint(rec.Terms) != fmt.Sprint(want) {
			t.Errorf("terms %+v", rec.Terms)
		}
	})
	t.Run("a parse error names the term and is invalid", func(t *testing.T) {
		_, err := campaign.ParseSPF("v=spf1 ip4:nope -all")
		if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), `"ip4:nope"`) {
			t.Errorf("error %v", err)
		}
	})
}

func TestGradeDKIM(t *testing.T) {
	k512, k1024, k2048 := rsaKey(t, 512), rsaKey(t, 1024), rsaKey(t, 2048)
	ed := base64.StdEncoding.EncodeToString(make([]byte, 32))
	runGrades(t, campaign.GradeDKIM, []gradeCase{
		{"a 2048-bit RSA key is an A", "v=DKIM1; k=rsa; p=" + k2048, "A", ""},
		{"a 1024-bit key is too short for a campaign", "v=DKIM1; k=rsa; p=" + k1024, "D", "dkim-key-short"},
		{"a 512-bit key is ignored by receivers", "v=DKIM1; p=" + k512, "F", "dkim-key-too-short"},
		{"a key split across quoted strings and spaces is joined", `"v=DKIM1; k=rsa; p=` + k2048[:100] + `" "` + k2048[100:] + `"`, "A", ""},
		{"an empty key is revoked", "v=DKIM1; p=", "D", "dkim-revoked"},
		{"testing mode is flagged", "v=DKIM1; t=y; p=" + k2048, "C", "dkim-testing"},
		{"SHA-1 only is forbidden", "v=DKIM1; h=sha1; p=" + k2048, "F", "dkim-sha1-only"},
		{"SHA-1 alongside SHA-256 is noted", "v=DKIM1; h=sha1:sha256; p=" + k2048, "B", "dkim-sha1-allowed"},
		{"a key not for email is flagged", "v=DKIM1; s=other; p=" + k2048, "D", "dkim-not-email"},
		{"an Ed25519 key is fine with a note", "v=DKIM1; k=ed25519; p=" + ed, "A", "dkim-ed25519"},
		{"unknown tags are noted", "v=DKIM1; x=1; p=" + k2048, "A", "dkim-unknown-tags"},
		{"a missing key tag is invalid", "v=DKIM1; k=rsa", "F", "dkim-invalid"},
		{"bad base64 is invalid", "v=DKIM1; p=@@@", "F", "dkim-invalid"},
		{"a short Ed25519 key is invalid", "v=DKIM1; k=ed25519; p=AAAA", "F", "dkim-invalid"},
		{"an unknown key type is invalid", "v=DKIM1; k=dsa; p=" + k2048, "F", "dkim-invalid"},
		{"v that is not first is invalid", "k=rsa; v=DKIM1; p=" + k2048, "F", "dkim-invalid"},
		{"a repeated tag is invalid", "v=DKIM1; p=" + k2048 + "; p=" + k2048, "F", "dkim-invalid"},
	})
	t.Run("the key size is measured and the key never appears in errors", func(t *testing.T) {
		k, err := campaign.ParseDKIM("v=DKIM1; p=" + k2048)
		if err != nil || k.Bits != 2048 || k.KeyType != "rsa" {
			t.Errorf("%+v %v", k, err)
		}
		_, err = campaign.ParseDKIM("v=DKIM1; k=dsa; p=" + k2048)
		if err == nil || strings.Contains(err.Error(), k2048[:20]) {
			t.Errorf("error %v", err)
		}
	})
}

func TestGradeDMARC(t *testing.T) {
	runGrades(t, campaign.GradeDMARC, []gradeCase{
		{"reject with reports is an A", "v=DMARC1; p=reject; rua=mailto:dmarc@example.com", "A", "dmarc-rua-authorization"},
		{"p=none only monitors", "v=DMARC1; p=none; rua=mailto:dmarc@example.com", "D", "dmarc-p-none dmarc-rua-authorization"},
		{"quarantine is good, reject better", "v=DMARC1; p=quarantine; rua=mailto:d@example.com", "B", "dmarc-p-quarantine dmarc-rua-authorization"},
		{"a missing rua is flagged", "v=DMARC1; p=reject", "C", "dmarc-no-rua"},
		{"p=none without rua shows both", "v=DMARC1; p=none", "D", "dmarc-p-none dmarc-no-rua"},
		{"sp=none leaves subdomains open", "v=DMARC1; p=reject; sp=none; rua=mailto:d@example.com", "C", "dmarc-sp-none dmarc-rua-authorization"},
		{"pct below 100 is partial enforcement", "v=DMARC1; p=reject; pct=20; rua=mailto:d@example.com", "C", "dmarc-pct dmarc-rua-authorization"},
		{"a report address that is not mailto is flagged", "v=DMARC1; p=reject; rua=https://example.com/r", "C", "dmarc-bad-uri dmarc-rua-authorization"},
		{"a size limit on a mailto is accepted", "v=DMARC1; p=reject; rua=mailto:d@example.com!10m", "A", "dmarc-rua-authorization"},
		{"ruf is noted", "v=DMARC1; p=reject; rua=mailto:d@example.com; ruf=mailto:f@example.com", "A", "dmarc-rua-authorization dmarc-ruf"},
		{"a missing policy is invalid", "v=DMARC1; rua=mailto:d@example.com", "F", "dmarc-invalid"},
		{"an unknown policy is invalid", "v=DMARC1; p=block", "F", "dmarc-invalid"},
		{"a wrong version is invalid", "v=DMARC2; p=reject", "F", "dmarc-invalid"},
		{"a version that is not first is invalid", "p=reject; v=DMARC1", "F", "dmarc-invalid"},
		{"pct over 100 is invalid", "v=DMARC1; p=reject; pct=150", "F", "dmarc-invalid"},
		{"an alignment other than r or s is invalid", "v=DMARC1; p=reject; adkim=x", "F", "dmarc-invalid"},
		{"a repeated tag is invalid", "v=DMARC1; p=reject; p=none", "F", "dmarc-invalid"},
		{"a quoted record is unquoted", `"v=DMARC1; p=reject; rua=mailto:d@example.com;"`, "A", "dmarc-rua-authorization"},
	})
	t.Run("defaults are filled in", func(t *testing.T) {
		r, err := campaign.ParseDMARC("v=DMARC1; p=reject")
		if err != nil || r.Percent != 100 || r.ADKIM != "r" || r.ASPF != "r" || r.Interval != 86400 {
			t.Errorf("%+v %v", r, err)
		}
	})
}

func FuzzGradeSPF(f *testing.F) {
	for _, s := range []string{"v=spf1 include:_spf.google.com ~all", "v=spf1 a/24//64 ip6:::1/128 -all", `"v=spf1 " "-all"`, "v=spf1 redirect=x.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkReport(t, campaign.GradeSPF(s)) })
}

func FuzzGradeDKIM(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=" + rsaKey(f, 1024))
	f.Add("v=DKIM1; k=ed25519; h=sha256; t=y:s; p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, s string) { checkReport(t, campaign.GradeDKIM(s)) })
}

func FuzzGradeDMARC(f *testing.F) {
	f.Add("v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:a@example.com!10m,mailto:b@example.org; fo=1:d; ri=3600")
	f.Fuzz(func(t *testing.T, s string) { checkReport(t, campaign.GradeDMARC(s)) })
}

func checkReport(t *testing.T, r campaign.Report) {
	if !strings.Contains("ABCDF", string(r.Grade)) || len(r.Grade) != 1 {
		t.Fatalf("grade %q", r.Grade)
	}
	for i, f := range r.Findings {
		if f.Code == "" || f.Message == "" || i > 0 && f.Severity > r.Findings[i-1].Severity {
			t.Fatalf("findings %+v", r.Findings)
		}
	}
}
