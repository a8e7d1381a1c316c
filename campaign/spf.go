package campaign

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// SPFTerm is one mechanism or modifier of an SPF record (RFC 7208).
type SPFTerm struct {
	Qualifier byte   // '+', '-', '~' or '?' for mechanisms; 0 for modifiers
	Name      string // mechanism (all, include, a, mx, ptr, ip4, ip6, exists) or modifier name, lower case
	Value     string // domain-spec, address or modifier value; "" when absent
	Prefix4   int    // ip4 or a/mx IPv4 prefix length; -1 when absent
	Prefix6   int    // ip6 or a/mx IPv6 prefix length; -1 when absent
}

// Modifier reports whether t is a name=value modifier.
func (t SPFTerm) Modifier() bool { return t.Qualifier == 0 }

// SPFRecord is a parsed SPF record.
type SPFRecord struct {
	Terms []SPFTerm // in order
}

// ParseSPF parses an SPF record strictly: a record that a receiver would
// answer with "permerror" is an Invalid error naming the bad term.
func ParseSPF(record string) (SPFRecord, error) {
	const op = "campaign.spf"
	s, err := txtValue(op, record)
	if err != nil {
		return SPFRecord{}, err
	}
	fields := strings.Fields(s)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "v=spf1") {
		return SPFRecord{}, vigil.FieldError(op, "version", "an SPF record starts with v=spf1")
	}
	var rec SPFRecord
	mods := map[string]bool{}
	for _, f := range fields[1:] {
		t, err := parseSPFTerm(op, f)
		if err != nil {
			return SPFRecord{}, err
		}
		if t.Modifier() && (t.Name == "redirect" || t.Name == "exp") {
			if mods[t.Name] {
				return SPFRecord{}, vigil.FieldError(op, t.Name, "%s appears twice", t.Name)
			}
			mods[t.Name] = true
		}
		rec.Terms = append(rec.Terms, t)
	}
	return rec, nil
}

func parseSPFTerm(op, f string) (SPFTerm, error) {
	t := SPFTerm{Prefix4: -1, Prefix6: -1}
	bad := func(format string, args ...any) (SPFTerm, error) {
		return SPFTerm{}, vigil.FieldError(op, "term", "%q: "+format, append([]any{clip(f)}, args...)...)
	}
	// A modifier is name=value where name starts with a letter and has no ':'.
	if i := strings.IndexByte(f, '='); i > 0 && !strings.ContainsAny(f[:i], ":/") {
		name := strings.ToLower(f[:i])
		if !validModifierName(name) {
			return bad("not a valid modifier name")
		}
		t.Name, t.Value = name, f[i+1:]
		if (name == "redirect" || name == "exp") && !validDomainSpec(t.Value) {
			return bad("%s needs a domain", name)
		}
		return t, nil
	}
	t.Qualifier = '+'
	if strings.ContainsRune("+-~?", rune(f[0])) {
		t.Qualifier, f = f[0], f[1:]
	}
	name, arg := f, ""
	if i := strings.IndexAny(f, ":/"); i >= 0 {
		name, arg = f[:i], f[i:]
	}
	t.Name = strings.ToLower(name)
	switch t.Name {
	case "all":
		if arg != "" {
			return bad("all takes no argument")
		}
	case "include", "exists":
		v, ok := strings.CutPrefix(arg, ":")
		if !ok || !validDomainSpec(v) {
			return bad("%s needs a domain, as in %s:_spf.example.com", t.Name, t.Name)
		}
		t.Value = v
	case "ptr":
		if arg != "" {
			v, ok := strings.CutPrefix(arg, ":")
			if !ok || !validDomainSpec(v) {
				return bad("ptr takes an optional :domain")
			}
			t.Value = v
		}
	case "a", "mx":
		rest := arg
		if v, ok := strings.CutPrefix(rest, ":"); ok {
			dom, cidr, _ := strings.Cut(v, "/")
			if !validDomainSpec(dom) {
				return bad("%s:domain needs a domain", t.Name)
			}
			t.Value = dom
			rest = ""
			if cidr != "" || strings.Contains(v, "/") {
				rest = "/" + cidr
			}
		}
		if rest != "" {
			p4, p6, ok := dualCIDR(rest)
			if !ok {
				return bad("a prefix length must be /0–/32 for IPv4 and //0–//128 for IPv6")
			}
			t.Prefix4, t.Prefix6 = p4, p6
		}
	case "ip4", "ip6":
		v, ok := strings.CutPrefix(arg, ":")
		if !ok {
			return bad("%s needs an address", t.Name)
		}
		addr, plen, hasLen := strings.Cut(v, "/")
		ip, err := netip.ParseAddr(addr)
		if err != nil || ip.Zone() != "" || (t.Name == "ip4") != ip.Is4() {
			return bad("not an %s address", map[string]string{"ip4": "IPv4", "ip6": "IPv6"}[t.Name])
		}
		t.Value = addr
		if hasLen {
			n, err := strconv.Atoi(plen)
			if err != nil || n < 0 || n > ip.BitLen() || plen != strconv.Itoa(n) {
				return bad("the prefix length must be 0–%d", ip.BitLen())
			}
			if t.Name == "ip4" {
				t.Prefix4 = n
			} else {
				t.Prefix6 = n
			}
		}
	default:
		return bad("unknown mechanism; receivers answer permerror")
	}
	return t, nil
}

func dualCIDR(s string) (p4, p6 int, ok bool) {
	p4, p6 = -1, -1
	num := func(v string, max int) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0 && n <= max && v == strconv.Itoa(n)
	}
	if v, found := strings.CutPrefix(s, "//"); found {
		p6, ok = num(v, 128)
		return
	}
	v, found := strings.CutPrefix(s, "/")
	if !found {
		return -1, -1, false
	}
	four, six, dual := strings.Cut(v, "//")
	if p4, ok = num(four, 32); !ok {
		return
	}
	if dual {
		p6, ok = num(six, 128)
	}
	return
}

func validModifierName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// validDomainSpec accepts a domain name that may contain SPF macros
// (%{i}, %%, %_, %-); it must have a dot or a macro.
func validDomainSpec(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return strings.Contains(s, ".") || strings.Contains(s, "%{")
}

// dnsMechanisms are the terms that cost a DNS lookup (RFC 7208 §4.6.4).
var dnsMechanisms = map[string]bool{"include": true, "a": true, "mx": true, "ptr": true, "exists": true, "redirect": true}

// GradeSPF grades an SPF record.
func GradeSPF(record string) Report {
	const op = "campaign.spf"
	if v, err := txtValue(op, record); err == nil && strings.Count(strings.ToLower(v), "v=spf1") > 1 {
		return report("SPF", []Finding{{Critical, "spf-multiple",
			"more than one SPF record: receivers answer permerror and SPF fails for all your mail; merge them into one record"}})
	}
	rec, err := ParseSPF(record)
	if err != nil {
		return report("SPF", []Finding{invalid("spf-invalid", err)})
	}
	var fs []Finding
	lookups, includes := 0, 0
	var all *SPFTerm
	redirect := false
	for i := range rec.Terms {
		t := rec.Terms[i]
		if dnsMechanisms[t.Name] && (t.Modifier() == (t.Name == "redirect")) {
			lookups++
		}
		switch {
		case t.Name == "include":
			includes++
		case t.Name == "redirect":
			redirect = true
		case t.Name == "ptr" && !t.Modifier():
			fs = append(fs, Finding{Medium, "spf-ptr", "ptr is slow, unreliable and deprecated (RFC 7208 §5.5); list your senders with ip4, ip6 or include instead"})
		case (t.Name == "ip4" && t.Prefix4 >= 0 && t.Prefix4 < 8 || t.Name == "ip6" && t.Prefix6 >= 0 && t.Prefix6 < 16) && t.Qualifier == '+':
			sev := High
			if t.Prefix4 == 0 || t.Prefix6 == 0 {
				sev = Critical
			}
			fs = append(fs, Finding{sev, "spf-broad-range", fmt.Sprintf("%s:%s/%d lets a large part of the internet send as you; list only your mail servers", t.Name, t.Value, max(t.Prefix4, t.Prefix6))})
		}
		if t.Name == "all" && !t.Modifier() && all == nil {
			all = &rec.Terms[i]
			if i < len(rec.Terms)-1 {
				for _, after := range rec.Terms[i+1:] {
					if !after.Modifier() {
						fs = append(fs, Finding{Low, "spf-after-all", "terms after all are never evaluated; move them before all or remove them"})
						break
					}
				}
			}
		}
	}
	switch {
	case all == nil && !redirect:
		fs = append(fs, Finding{High, "spf-no-all", "the record does not end in -all or ~all, so mail from anyone else gets a neutral result; end it with -all"})
	case all == nil:
	case all.Qualifier == '+':
		fs = append(fs, Finding{Critical, "spf-pass-all", "+all (or a bare all) lets anyone on the internet send mail as your domain; end the record with -all"})
	case all.Qualifier == '?':
		fs = append(fs, Finding{High, "spf-neutral-all", "?all gives other senders a neutral result, which protects nothing; end the record with -all"})
	case all.Qualifier == '~':
		fs = append(fs, Finding{Low, "spf-softfail-all", "~all only marks other senders as suspicious; with DMARC at p=reject this is acceptable, -all is stricter"})
	}
	if all != nil && redirect {
		fs = append(fs, Finding{Info, "spf-redirect-ignored", "redirect is ignored because the record has an all mechanism"})
	}
	switch {
	case lookups > 10:
		fs = append(fs, Finding{Critical, "spf-too-many-lookups", fmt.Sprintf("%d DNS lookups in this record alone; more than 10 makes receivers answer permerror, so SPF fails for all your mail. Remove unused includes or replace them with ip4/ip6", lookups)})
	case includes > 0:
		fs = append(fs, Finding{Info, "spf-lookups", fmt.Sprintf("%d DNS lookups in this record; each include adds its own lookups, and the total must stay at 10 or fewer. Check the whole chain with a DNS tool", lookups)})
	}
	if len(rec.Terms) == 1 && all != nil && all.Qualifier == '-' {
		fs = append(fs, Finding{Info, "spf-no-mail", "v=spf1 -all says this domain sends no mail at all; right for a domain that never sends"})
	}
	return report("SPF", fs)
}
