package campaign_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

var hostnameLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkHostname fails the test unless d is a valid lower-case hostname
// whose labels are LDH and not reserved ("ab--") unless they are "xn--".
func checkHostname(t *testing.T, d string) {
	t.Helper()
	if len(d) > 253 {
		t.Errorf("%q is longer than 253", d)
	}
	for _, l := range strings.Split(d, ".") {
		if !hostnameLabel.MatchString(l) || len(l) >= 4 && l[2:4] == "--" && !strings.HasPrefix(l, "xn--") {
			t.Errorf("%q has an invalid label %q", d, l)
		}
	}
}

func domainsOf(list []campaign.Lookalike) map[string]campaign.Lookalike {
	m := map[string]campaign.Lookalike{}
	for _, l := range list {
		m[l.Domain] = l
	}
	return m
}

func TestLookalikes(t *testing.T) {
	list, err := campaign.Lookalikes("example.com")
	if err != nil {
		t.Fatal(err)
	}
	got := domainsOf(list)
	tests := []struct {
		name, domain string
		technique    campaign.Technique
		unicode      string
	}{
		{"a letter left out is generated", "exampe.com", campaign.Omission, ""},
		{"a doubled letter is generated", "exammple.com", campaign.Insertion, ""},
		{"a neighbouring key added is generated", "exaample.com", campaign.Insertion, ""},
		{"swapped letters are generated", "exmaple.com", campaign.Transposition, ""},
		{"a neighbouring key replacing a letter is generated", "exanple.com", campaign.Replacement, ""},
		{"a swapped vowel is generated", "exampla.com", campaign.Replacement, ""},
		{"rn for m is generated", "exarnple.com", campaign.Homoglyph, ""},
		{"1 for l is generated", "examp1e.com", campaign.Homoglyph, ""},
		{"a Cyrillic а is generated in punycode", "xn--exmple-4nf.com", campaign.IDNHomoglyph, "exаmple.com"},
		{"a hyphen is generated", "exa-mple.com", campaign.Hyphenation, ""},
		{"the .vote top-level domain is generated", "example.vote", campaign.OtherTLD, ""},
		{"the .org top-level domain is generated", "example.org", campaign.OtherTLD, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok := got[tt.domain]
			if !ok {
				t.Fatalf("%s not generated", tt.domain)
			}
			if l.Technique != tt.technique || l.Unicode != tt.unicode {
				t.Errorf("%+v, want technique %s unicode %q", l, tt.technique, tt.unicode)
			}
		})
	}
	t.Run("the domain itself is not listed", func(t *testing.T) {
		if _, ok := got["example.com"]; ok {
			t.Error("example.com listed")
		}
	})
	t.Run("no domain is listed twice", func(t *testing.T) {
		if len(got) != len(list) {
			t.Errorf("%d entries, %d distinct", len(list), len(got))
		}
	})
	t.Run("every domain is a valid hostname", func(t *testing.T) {
		for _, l := range list {
			checkHostname(t, l.Domain)
		}
	})
	t.Run("the order is the same on every run and follows the techniques", func(t *testing.T) {
		again, _ := campaign.Lookalikes("EXAMPLE.com.")
		if !reflect.DeepEqual(list, again) {
			t.Error("two runs differ")
		}
		rank := map[campaign.Technique]int{}
		for i, tech := range campaign.Techniques() {
			rank[tech] = i
		}
		for i := 1; i < len(list); i++ {
			if rank[list[i].Technique] < rank[list[i-1].Technique] {
				t.Fatalf("%v after %v", list[i], list[i-1])
			}
		}
		if list[0].Domain != "xample.com" {
			t.Errorf("first = %s", list[0].Domain)
		}
	})
}

func TestLookalikesOfNames(t *testing.T) {
	t.Run("the whole-script Cyrillic lookalike of apple is the published one", func(t *testing.T) {
		list, _ := campaign.Lookalikes("apple.com")
		if l, ok := domainsOf(list)["xn--80ak6aa92e.com"]; !ok || l.Unicode != "аррӏе.com" {
			t.Errorf("xn--80ak6aa92e.com missing or wrong: %+v", l)
		}
	})
	t.Run("subdomains are dropped and a two-label suffix is kept", func(t *testing.T) {
		list, err := campaign.Lookalikes("www.smith.co.uk")
		if err != nil {
			t.Fatal(err)
		}
		m := domainsOf(list)
		if _, ok := m["smth.co.uk"]; !ok {
			t.Error("smth.co.uk missing")
		}
		if _, ok := m["smith.com"]; !ok {
			t.Error("smith.com missing")
		}
		for _, l := range list {
			if strings.HasPrefix(l.Domain, "www") {
				t.Errorf("%s keeps the subdomain", l.Domain)
			}
		}
	})
	t.Run("a Unicode domain and its punycode give the same list", func(t *testing.T) {
		a, err1 := campaign.Lookalikes("münchen.de")
		b, err2 := campaign.Lookalikes("xn--mnchen-3ya.de")
		if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) || len(a) == 0 {
			t.Fatalf("%v %v", err1, err2)
		}
		if _, ok := domainsOf(a)["xn--mnchen-3ya.de"]; ok {
			t.Error("the domain itself is listed")
		}
		if _, ok := domainsOf(a)["mnchen.de"]; !ok {
			t.Error("dropping the ü should give mnchen.de")
		}
	})
	t.Run("hyphens are never doubled into a reserved label", func(t *testing.T) {
		list, _ := campaign.Lookalikes("ab-cd.org")
		for _, l := range list {
			checkHostname(t, l.Domain)
		}
	})
}

func TestLookalikesRefuses(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"an empty domain is refused", " "},
		{"a name without a top-level domain is refused", "localhost"},
		{"a public suffix alone is refused", "co.uk"},
		{"a space inside is refused", "exa mple.com"},
		{"a leading hyphen is refused", "-example.com"},
		{"a label over 63 characters is refused", strings.Repeat("a", 64) + ".com"},
		{"a path is refused", "example.com/donate"},
		{"broken punycode is refused", "xn--a-!.com"},
		{"a reserved label is refused", "ab--cd.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := campaign.Lookalikes(tt.in)
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != "domain" {
				t.Errorf("error %v", err)
			}
		})
	}
}

func FuzzLookalikes(f *testing.F) {
	for _, s := range []string{"example.com", "smithforsenate.com", "www.smith.co.uk", "münchen.de", "xn--80ak6aa92e.com", "a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		list, err := campaign.Lookalikes(in)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range list {
			checkHostname(t, l.Domain)
			if seen[l.Domain] {
				t.Fatalf("%s listed twice", l.Domain)
			}
			seen[l.Domain] = true
		}
	})
}
