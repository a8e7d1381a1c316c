package detect

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Kind is what a rule measures.
type Kind string

const (
	// KindThreshold counts matching items per group in a sliding window and
	// alerts at Min. With the defaults (Min 1) every matching event alerts.
	KindThreshold Kind = "threshold"
	// KindBaseline compares the count in the current window with the daily
	// counts of the trailing Days days: it alerts above
	// max(Floor, mean + K·stddev).
	KindBaseline Kind = "baseline"
	// KindAbsence alerts when no matching event arrived for Max (a backup
	// overdue, a mirror silent). Time advances with the log's events and
	// with the runner's ticks.
	KindAbsence Kind = "absence"
	// KindLag alerts when an event arrives in the log Max or more after the
	// newest event time already seen: a site or device that synced late.
	KindLag Kind = "lag"
	// KindSkew alerts when a timestamp field of the event (a device's own
	// clock) differs from the event time by Max or more.
	KindSkew Kind = "skew"
)

// When restricts a rule to events by their time.
type When string

const (
	WhenAny           When = ""
	WhenOffHours      When = "off-hours"      // outside the business hours, in the zone
	WhenBusinessHours When = "business-hours" // inside them
	WhenOutsideVoting When = "outside-voting" // outside every election's voting period (election.defined)
	WhenVoting        When = "voting"         // inside one
)

// Rules is a parsed rule file.
type Rules struct {
	Zone    *time.Location
	Hours   Hours
	Rules   []*Rule
	Webhook []string // URLs alerts are POSTed to
	Syslog  []string // "udp://host:port" or "tcp://host:port"
	Source  string   // where the rules came from (a path, "built-in")
}

// Hours are business hours: on these weekdays, from From to To (minutes
// after local midnight).
type Hours struct {
	Days     [7]bool // by time.Weekday
	From, To int
}

// Contains reports whether local time t lies inside the hours.
func (h Hours) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	return h.Days[t.Weekday()] && m >= h.From && m < h.To
}

// Rule is one detection rule.
type Rule struct {
	Name     string
	Kind     Kind
	Severity vigil.AlertSeverity
	Title    string
	Events   []string // exact types, or "noun.*"
	Each     string   // a payload array: one item per element
	Where    []Cond
	When     When
	Group    []string
	Distinct string        // count distinct values of this field instead of items
	Window   time.Duration // threshold, baseline: the counting window
	Min      float64       // threshold: alert at this count
	Days     int           // baseline: trailing days
	K        float64       // baseline: stddev multiplier
	Floor    float64       // baseline: never alert below
	Max      time.Duration // absence, lag, skew
	Field    string        // skew: the timestamp field
	Cooldown time.Duration // after an alert, the same group stays quiet this long
	Grace    time.Duration // when voting/outside-voting: the period's end is extended by this
	Hours    *Hours        // overrides the file's business hours
	Line     int           // where the rule starts in its file
}

// Cond is one where-condition: Field Op Value.
type Cond struct {
	Field  string
	Op     string // = != in !in > >= < <= ~ exists
	Values []string
	Num    float64 // for numeric ops
}

// LineError is a rule-file error at one line.
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseError lists every error found in a rule file.
type ParseError []LineError

func (e ParseError) Error() string {
	var b strings.Builder
	for i, le := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(e)-10)
			break
		}
		b.WriteString(le.Error())
	}
	return b.String()
}

// Limits on a rule file: it is data an officer edits, but it is also input.
const (
	MaxRuleFileBytes = 1 << 20
	MaxRules         = 500
	maxLineBytes     = 4096
	maxGroupFields   = 6
	maxConds         = 16
)

var (
	nameRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	typeRe  = regexp.MustCompile(`^[a-z0-9_]+\.([a-z0-9_]+|\*)$`)
	fieldRe = regexp.MustCompile(`^(type|actor|role|scope|key|origin|id|county|place|(payload|item)(\.[A-Za-z0-9_]+){1,8})$`)
)

// Parse reads a rule file. It reports every bad line at once (as a
// vigil.Error of kind Invalid wrapping a ParseError); a file with any error
// yields no rules, so a half-edited file never runs half its rules.
func Parse(data []byte, source string) (*Rules, error) {
	rs := &Rules{Zone: time.UTC, Hours: defaultHours(), Source: source}
	var errs ParseError
	fail := func(line int, format string, a ...any) {
		if len(errs) < 100 {
			errs = append(errs, LineError{line, fmt.Sprintf(format, a...)})
		}
	}
	if len(data) > MaxRuleFileBytes {
		return nil, &vigil.Error{Op: "detect.parse", Kind: vigil.Invalid, Field: "rules",
			Message: fmt.Sprintf("the rule file is larger than %d bytes", MaxRuleFileBytes)}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes+1)
	var cur *Rule
	seen := map[string]int{}
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if len(line) > maxLineBytes {
			fail(n, "line is longer than %d bytes", maxLineBytes)
			continue
		}
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		key, args := f[0], f[1:]
		if key == "rule" {
			if cur != nil {
				finish(cur, fail)
			}
			if len(args) != 1 || !nameRe.MatchString(args[0]) {
				fail(n, "write `rule NAME` with a name of lower-case letters, digits, '.', '_' or '-'")
				cur = &Rule{Name: "?", Line: n}
				continue
			}
			if prev, ok := seen[args[0]]; ok {
				fail(n, "rule %s is already defined at line %d", args[0], prev)
			}
			seen[args[0]] = n
			if len(rs.Rules) >= MaxRules {
				fail(n, "at most %d rules", MaxRules)
				continue
			}
			cur = &Rule{Name: args[0], Line: n, Kind: KindThreshold, Severity: vigil.AlertMedium, Min: 1, K: 3}
			rs.Rules = append(rs.Rules, cur)
			continue
		}
		if cur == nil {
			parseGlobal(rs, n, key, args, fail)
			continue
		}
		parseDirective(cur, n, key, args, fail)
	}
	if err := sc.Err(); err != nil {
		fail(n+1, "line is longer than %d bytes", maxLineBytes)
	}
	if cur != nil {
		finish(cur, fail)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, &vigil.Error{Op: "detect.parse", Kind: vigil.Invalid, Field: "rules",
			Message: source + ": " + errs.Error(), Err: errs}
	}
	return rs, nil
}

func defaultHours() Hours {
	h := Hours{From: 7 * 60, To: 19 * 60}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = true
	}
	return h
}

type failFunc func(line int, format string, a ...any)

func parseGlobal(rs *Rules, n int, key string, args []string, fail failFunc) {
	switch key {
	case "zone":
		if len(args) != 1 {
			fail(n, "write `zone America/Denver` (an IANA time zone)")
			return
		}
		loc, err := time.LoadLocation(args[0])
		if err != nil || strings.Contains(args[0], "..") {
			fail(n, "unknown time zone %q", clip(args[0]))
			return
		}
		rs.Zone = loc
	case "hours":
		h, err := parseHours(args)
		if err != nil {
			fail(n, "%v", err)
			return
		}
		rs.Hours = h
	case "webhook":
		if len(args) != 1 || !(strings.HasPrefix(args[0], "https://") || strings.HasPrefix(args[0], "http://")) {
			fail(n, "write `webhook https://host/path`")
			return
		}
		rs.Webhook = append(rs.Webhook, args[0])
	case "syslog":
		if len(args) != 1 || !(strings.HasPrefix(args[0], "udp://") || strings.HasPrefix(args[0], "tcp://")) {
			fail(n, "write `syslog udp://host:514` or `syslog tcp://host:601`")
			return
		}
		rs.Syslog = append(rs.Syslog, args[0])
	default:
		fail(n, "unknown setting %q before the first rule (zone, hours, webhook, syslog, rule)", clip(key))
	}
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// parseHours reads "mon-fri 07:00-19:00" or "mon,wed,fri 08:00-17:30".
func parseHours(args []string) (Hours, error) {
	var h Hours
	if len(args) != 2 {
		return h, fmt.Errorf("write `hours mon-fri 07:00-19:00`")
	}
	for _, part := range strings.Split(args[0], ",") {
		a, b, isRange := strings.Cut(part, "-")
		da, ok1 := dayNames[a]
		db, ok2 := dayNames[b]
		if !isRange {
			db, ok2 = da, ok1
		}
		if !ok1 || !ok2 {
			return h, fmt.Errorf("days %q: use mon,tue,… or a range like mon-fri", clip(args[0]))
		}
		for d := da; ; d = (d + 1) % 7 {
			h.Days[d] = true
			if d == db {
				break
			}
		}
	}
	from, to, ok := strings.Cut(args[1], "-")
	var err1, err2 error
	h.From, err1 = clock(from)
	h.To, err2 = clock(to)
	if !ok || err1 != nil || err2 != nil || h.To <= h.From {
		return h, fmt.Errorf("times %q: write HH:MM-HH:MM with the end after the start", clip(args[1]))
	}
	return h, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func parseDirective(r *Rule, n int, key string, args []string, fail failFunc) {
	one := func() (string, bool) {
		if len(args) != 1 {
			fail(n, "%s takes one value", key)
			return "", false
		}
		return args[0], true
	}
	num := func() (float64, bool) {
		s, ok := one()
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1e9 || v != v {
			fail(n, "%s must be a number from 0 to 1e9, got %q", key, clip(s))
			return 0, false
		}
		return v, true
	}
	dur := func() (time.Duration, bool) {
		s, ok := one()
		if !ok {
			return 0, false
		}
		d, err := ParseDuration(s)
		if err != nil {
			fail(n, "%s: %v", key, err)
			return 0, false
		}
		return d, true
	}
	switch key {
	case "kind":
		if s, ok := one(); ok {
			switch k := Kind(s); k {
			case KindThreshold, KindBaseline, KindAbsence, KindLag, KindSkew:
				r.Kind = k
			default:
				fail(n, "unknown kind %q (threshold, baseline, absence, lag, skew)", clip(s))
			}
		}
	case "severity":
		if s, ok := one(); ok {
			if sv := vigil.AlertSeverity(s); sv.Valid() {
				r.Severity = sv
			} else {
				fail(n, "unknown severity %q (low, medium, high, critical)", clip(s))
			}
		}
	case "title":
		t := strings.Join(args, " ")
		if t == "" || len(t) > 200 {
			fail(n, "title must be 1-200 characters")
		}
		r.Title = t
	case "events":
		if len(args) == 0 || len(args) > 32 {
			fail(n, "events takes 1-32 event types (noun.verb or noun.*)")
		}
		for _, a := range args {
			if !typeRe.MatchString(a) {
				fail(n, "%q is not an event type (noun.verb or noun.*)", clip(a))
				continue
			}
			if strings.HasPrefix(a, "alert.") {
				fail(n, "rules cannot watch alert events (an alert would feed itself)")
				continue
			}
			r.Events = append(r.Events, a)
		}
	case "each":
		if s, ok := one(); ok {
			if !strings.HasPrefix(s, "payload") || !fieldRe.MatchString(s) && s != "payload" {
				fail(n, "each names a payload array, like payload.records")
				return
			}
			r.Each = s
		}
	case "where":
		c, err := parseCond(args)
		if err != nil {
			fail(n, "%v", err)
			return
		}
		if len(r.Where) >= maxConds {
			fail(n, "at most %d where lines in a rule", maxConds)
			return
		}
		r.Where = append(r.Where, c)
	case "when":
		if s, ok := one(); ok {
			switch w := When(s); w {
			case WhenOffHours, WhenBusinessHours, WhenOutsideVoting, WhenVoting:
				r.When = w
			default:
				fail(n, "unknown when %q (off-hours, business-hours, outside-voting, voting)", clip(s))
			}
		}
	case "group":
		if len(args) == 0 || len(args) > maxGroupFields {
			fail(n, "group takes 1-%d fields", maxGroupFields)
		}
		for _, a := range args {
			if !fieldRe.MatchString(a) {
				fail(n, "%q is not a field (type, actor, role, scope, key, origin, county, place, payload.x, item.x)", clip(a))
				continue
			}
			r.Group = append(r.Group, a)
		}
	case "distinct":
		if s, ok := one(); ok {
			if !fieldRe.MatchString(s) {
				fail(n, "%q is not a field", clip(s))
				return
			}
			r.Distinct = s
		}
	case "field":
		if s, ok := one(); ok {
			if !fieldRe.MatchString(s) {
				fail(n, "%q is not a field", clip(s))
				return
			}
			r.Field = s
		}
	case "window":
		if d, ok := dur(); ok {
			r.Window = d
		}
	case "max":
		if d, ok := dur(); ok {
			r.Max = d
		}
	case "cooldown":
		if d, ok := dur(); ok {
			r.Cooldown = d
		}
	case "grace":
		if d, ok := dur(); ok {
			r.Grace = d
		}
	case "min":
		if v, ok := num(); ok {
			r.Min = v
		}
	case "k":
		if v, ok := num(); ok {
			r.K = v
		}
	case "floor":
		if v, ok := num(); ok {
			r.Floor = v
		}
	case "days":
		if v, ok := num(); ok {
			if v < 2 || v > 366 || v != float64(int(v)) {
				fail(n, "days must be a whole number from 2 to 366")
				return
			}
			r.Days = int(v)
		}
	case "hours":
		h, err := parseHours(args)
		if err != nil {
			fail(n, "%v", err)
			return
		}
		r.Hours = &h
	default:
		fail(n, "unknown directive %q in rule %s (kind, severity, title, events, each, where, when, group, distinct, window, min, days, k, floor, max, field, cooldown, grace, hours)", clip(key), r.Name)
	}
}

var condOps = map[string]bool{"=": true, "!=": true, "in": true, "!in": true, ">": true, ">=": true,
	"<": true, "<=": true, "~": true, "exists": true}

func parseCond(args []string) (Cond, error) {
	if len(args) < 2 {
		return Cond{}, fmt.Errorf("write `where FIELD OP VALUE` (ops: = != in !in > >= < <= ~ exists)")
	}
	c := Cond{Field: args[0], Op: args[1]}
	if !fieldRe.MatchString(c.Field) {
		return c, fmt.Errorf("%q is not a field", clip(c.Field))
	}
	if !condOps[c.Op] {
		return c, fmt.Errorf("unknown operator %q (= != in !in > >= < <= ~ exists)", clip(c.Op))
	}
	rest := args[2:]
	switch c.Op {
	case "exists":
		if len(rest) != 0 {
			return c, fmt.Errorf("exists takes no value")
		}
	case "in", "!in":
		if len(rest) != 1 {
			return c, fmt.Errorf("%s takes a comma-separated list without spaces", c.Op)
		}
		c.Values = strings.Split(rest[0], ",")
	case ">", ">=", "<", "<=":
		if len(rest) != 1 {
			return c, fmt.Errorf("%s takes one number", c.Op)
		}
		v, err := strconv.ParseFloat(rest[0], 64)
		if err != nil || v != v {
			return c, fmt.Errorf("%s takes a number, got %q", c.Op, clip(rest[0]))
		}
		c.Num = v
	default:
		if len(rest) != 1 {
			return c, fmt.Errorf("%s takes one value (no spaces)", c.Op)
		}
		c.Values = rest
	}
	return c, nil
}

// finish checks what a rule needs once all its lines are read.
func finish(r *Rule, fail failFunc) {
	if r.Name == "?" {
		return
	}
	need := func(ok bool, what string) {
		if !ok {
			fail(r.Line, "rule %s (%s) needs %s", r.Name, r.Kind, what)
		}
	}
	need(len(r.Events) > 0, "an events line")
	switch r.Kind {
	case KindThreshold:
		need(r.Window > 0 || r.Min <= 1, "a window (when min is above 1)")
		need(r.Min >= 1, "min of at least 1")
	case KindBaseline:
		need(r.Window > 0 && r.Window <= 7*24*time.Hour, "a window of at most 7d")
		if r.Days == 0 {
			r.Days = 14
		}
		need(r.Floor >= 1, "a floor of at least 1 (the count below which it never alerts)")
	case KindAbsence, KindLag:
		need(r.Max > 0, "a max duration")
	case KindSkew:
		need(r.Max > 0, "a max duration")
		need(r.Field != "", "a field naming the device's timestamp")
	}
	if r.Title == "" {
		r.Title = r.Name
	}
	if r.Cooldown == 0 {
		r.Cooldown = max(r.Window, time.Hour)
		if r.Kind == KindAbsence {
			r.Cooldown = r.Max
		}
	}
}

// ParseDuration is time.ParseDuration that also accepts days ("14d").
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var v int
		v, err = strconv.Atoi(n)
		if err == nil && (v < 0 || v > 3660) {
			err = fmt.Errorf("too many days")
		}
		d = time.Duration(v) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 || d > 3660*24*time.Hour {
		return 0, fmt.Errorf("%q is not a duration (like 10m, 24h or 14d)", clip(s))
	}
	return d, nil
}

// clip bounds input echoed in an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
