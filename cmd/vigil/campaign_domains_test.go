package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// runCampaign runs "vigil campaign ARGS..." in-process and returns its output.
func runCampaign(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCampaignCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestCampaignDomains(t *testing.T) {
	t.Run("lookalikes are printed one per line in a stable order", func(t *testing.T) {
		out, err := runCampaign(t, "domains", "apple.com")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if lines[0] != "pple.com" || lines[len(lines)-1] != "apple.me" {
			t.Errorf("first %q, last %q", lines[0], lines[len(lines)-1])
		}
		if !strings.Contains(out, "\nxn--80ak6aa92e.com\n") {
			t.Error("the Cyrillic lookalike is not printed in punycode")
		}
		again, _ := runCampaign(t, "domains", "apple.com")
		if again != out {
			t.Error("two runs differ")
		}
	})
	t.Run("explain adds the technique and the Unicode form", func(t *testing.T) {
		out, err := runCampaign(t, "domains", "--explain", "apple.com")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "xn--80ak6aa92e.com\tidn-homoglyph\tаррӏе.com\n") || !strings.Contains(out, "pple.com\tomission\n") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("a bad domain is an invalid-input error", func(t *testing.T) {
		_, err := runCampaign(t, "domains", "localhost")
		if vigil.ErrorKind(err) != vigil.Invalid {
			t.Errorf("error %v", err)
		}
	})
	t.Run("the domain is required", func(t *testing.T) {
		if _, err := runCampaign(t, "domains"); err == nil {
			t.Error("no error")
		}
	})
}

func TestCampaignEmail(t *testing.T) {
	t.Run("each record given is graded with its findings", func(t *testing.T) {
		out, err := runCampaign(t, "email", "--spf", "v=spf1 +all", "--dmarc", `"v=DMARC1; p=reject; rua=mailto:d@example.org"`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "SPF: grade F\n  critical ") || !strings.Contains(out, "\nDMARC: grade ") || strings.Contains(out, "DKIM") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("no record is an invalid-input error", func(t *testing.T) {
		if _, err := runCampaign(t, "email"); vigil.ErrorKind(err) != vigil.Invalid {
			t.Errorf("error %v", err)
		}
	})
}
