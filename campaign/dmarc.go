package campaign

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// DMARCRecord is a parsed DMARC record (RFC 7489 §6.3), the TXT value at
// _dmarc.example.com.
type DMARCRecord struct {
	Policy          string   // p: none, quarantine, reject
	SubdomainPolicy string   // sp, "" when absent (same as p)
	NonexistentPol  string   // np (RFC 9091), "" when absent
	Percent         int      // pct, 100 when absent
	RUA             []string // aggregate report URIs
	RUF             []string // failure report URIs
	ADKIM, ASPF     string   // "r" or "s"; "r" when absent
	FailureOptions  []string // fo
	Interval        int      // ri in seconds, 86400 when absent
	Unknown         []string
}

// ParseDMARC parses a DMARC record strictly.
func ParseDMARC(record string) (DMARCRecord, error) {
	const op = "campaign.dmarc"
	s, err := txtValue(op, record)
	if err != nil {
		return DMARCRecord{}, err
	}
	tags, err := parseTagList(op, s)
	if err != nil {
		return DMARCRecord{}, err
	}
	if tags[0].name != "v" || tags[0].value != "DMARC1" {
		return DMARCRecord{}, vigil.FieldError(op, "v", "a DMARC record starts with v=DMARC1")
	}
	r := DMARCRecord{Percent: 100, ADKIM: "r", ASPF: "r", Interval: 86400}
	policy := func(name, v string) (string, error) {
		switch v = strings.ToLower(v); v {
		case "none", "quarantine", "reject":
			return v, nil
		}
		return "", vigil.FieldError(op, name, "%s must be none, quarantine or reject", name)
	}
	for _, t := range tags[1:] {
		switch t.name {
		case "p":
			if r.Policy, err = policy("p", t.value); err != nil {
				return DMARCRecord{}, err
			}
		case "sp":
			if r.SubdomainPolicy, err = policy("sp", t.value); err != nil {
				return DMARCRecord{}, err
			}
		case "np":
			if r.NonexistentPol, err = policy("np", t.value); err != nil {
				return DMARCRecord{}, err
			}
		case "pct":
			n, err := strconv.Atoi(t.value)
			if err != nil || n < 0 || n > 100 {
				return DMARCRecord{}, vigil.FieldError(op, "pct", "pct must be a whole number from 0 to 100")
			}
			r.Percent = n
		case "rua", "ruf":
			var uris []string
			for _, u := range strings.Split(t.value, ",") {
				if u = strings.TrimSpace(u); u == "" {
					return DMARCRecord{}, vigil.FieldError(op, t.name, "an empty address in %s", t.name)
				}
				uris = append(uris, u)
			}
			if t.name == "rua" {
				r.RUA = uris
			} else {
				r.RUF = uris
			}
		case "adkim", "aspf":
			v := strings.ToLower(t.value)
			if v != "r" && v != "s" {
				return DMARCRecord{}, vigil.FieldError(op, t.name, "%s must be r (relaxed) or s (strict)", t.name)
			}
			if t.name == "adkim" {
				r.ADKIM = v
			} else {
				r.ASPF = v
			}
		case "fo":
			for _, o := range strings.Split(t.value, ":") {
				o = strings.ToLower(strings.TrimSpace(o))
				if o != "0" && o != "1" && o != "d" && o != "s" {
					return DMARCRecord{}, vigil.FieldError(op, "fo", "fo options are 0, 1, d and s, separated by colons")
				}
				r.FailureOptions = append(r.FailureOptions, o)
			}
		case "ri":
			n, err := strconv.Atoi(t.value)
			if err != nil || n < 0 {
				return DMARCRecord{}, vigil.FieldError(op, "ri", "ri must be a number of seconds")
			}
			r.Interval = n
		case "rf":
		case "v":
			return DMARCRecord{}, vigil.FieldError(op, "v", "v appears twice")
		default:
			r.Unknown = append(r.Unknown, t.name)
		}
	}
	if r.Policy == "" {
		return DMARCRecord{}, vigil.FieldError(op, "p", "the policy tag p= is missing; add p=none to start monitoring, then move to quarantine and reject")
	}
	return r, nil
}

// mailtoAddress returns the address of a "mailto:addr[!size]" report URI.
func mailtoAddress(uri string) (string, bool) {
	if len(uri) < 7 || !strings.EqualFold(uri[:7], "mailto:") {
		return "", false
	}
	addr := uri[7:]
	if i := strings.LastIndexByte(addr, '!'); i >= 0 {
		addr = addr[:i]
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", false
	}
	return addr, true
}

// GradeDMARC grades a DMARC record.
func GradeDMARC(record string) Report {
	r, err := ParseDMARC(record)
	if err != nil {
		return report("DMARC", []Finding{invalid("dmarc-invalid", err)})
	}
	var fs []Finding
	switch r.Policy {
	case "none":
		fs = append(fs, Finding{High, "dmarc-p-none", "p=none only monitors: spoofed mail in your name is still delivered. Once the reports show your own mail passes, move to p=quarantine, then p=reject"})
	case "quarantine":
		fs = append(fs, Finding{Low, "dmarc-p-quarantine", "p=quarantine sends spoofed mail to spam; p=reject refuses it outright"})
	}
	if r.Policy != "none" && r.SubdomainPolicy == "none" {
		fs = append(fs, Finding{Medium, "dmarc-sp-none", "sp=none leaves every subdomain open to spoofing (e.g. donate.yourdomain); remove sp= or set it to reject"})
	}
	if r.Percent < 100 && r.Policy != "none" {
		fs = append(fs, Finding{Medium, "dmarc-pct", fmt.Sprintf("pct=%d applies the policy to only %d%% of failing mail; raise it to 100", r.Percent, r.Percent)})
	}
	if len(r.RUA) == 0 {
		fs = append(fs, Finding{Medium, "dmarc-no-rua", "no rua= address: you receive no aggregate reports, so you cannot see who sends as you; add rua=mailto:… (DDC offers a free monitoring service)"})
	}
	for _, u := range append(append([]string{}, r.RUA...), r.RUF...) {
		if _, ok := mailtoAddress(u); !ok {
			fs = append(fs, Finding{Medium, "dmarc-bad-uri", fmt.Sprintf("%q is not a mailto: address; receivers send reports only to mailto: URIs", clip(u))})
		}
	}
	if len(r.RUA) > 0 {
		fs = append(fs, Finding{Info, "dmarc-rua-authorization", "a report address at another domain works only if that domain publishes an authorization record (RFC 7489 §7.1); check with your monitoring provider"})
	}
	if len(r.RUF) > 0 {
		fs = append(fs, Finding{Info, "dmarc-ruf", "failure reports (ruf) can contain message content; few receivers send them, and only to addresses you trust"})
	}
	if len(r.Unknown) > 0 {
		fs = append(fs, Finding{Info, "dmarc-unknown-tags", "receivers ignore the tags " + strings.Join(r.Unknown, ", ")})
	}
	return report("DMARC", fs)
}
