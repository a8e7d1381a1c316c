package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Engine evaluates rules over a stream of events. It is pure: the same
// events in the same order give the same alerts with the same ids. Time is
// the events' time (and Tick's), never the wall clock.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	rules    *Rules
	byType   map[vigil.EventType][]*ruleState
	byNoun   map[string][]*ruleState
	states   map[string]*ruleState // by rule signature, kept across reloads
	high     time.Time             // newest event time seen
	lastTick time.Time
	voting   map[string][2]time.Time // election id → voting period
}

// NewEngine returns an engine running rs.
func NewEngine(rs *Rules) *Engine {
	e := &Engine{states: map[string]*ruleState{}, voting: map[string][2]time.Time{}}
	e.SetRules(rs)
	return e
}

// Rules returns the rules the engine runs.
func (e *Engine) Rules() *Rules { return e.rules }

// SetRules replaces the rules. A rule whose definition did not change keeps
// its windows and cooldowns, so reloading a file does not re-raise alerts.
func (e *Engine) SetRules(rs *Rules) {
	e.rules = rs
	e.byType = map[vigil.EventType][]*ruleState{}
	e.byNoun = map[string][]*ruleState{}
	keep := map[string]*ruleState{}
	for _, r := range rs.Rules {
		sig := signature(r, rs)
		st := e.states[sig]
		if st == nil {
			st = &ruleState{rule: r, groups: map[string]*groupState{}}
		}
		st.rule = r
		keep[sig] = st
		for _, t := range r.Events {
			if noun, ok := strings.CutSuffix(t, ".*"); ok {
				e.byNoun[noun] = append(e.byNoun[noun], st)
			} else {
				e.byType[vigil.EventType(t)] = append(e.byType[vigil.EventType(t)], st)
			}
		}
	}
	e.states = keep
}

func signature(r *Rule, rs *Rules) string {
	c := *r
	c.Line = 0
	h := c.Hours
	c.Hours = nil
	return fmt.Sprintf("%+v|%v|%v|%s", c, h, rs.Hours, rs.Zone)
}

// Alert is what the engine raises; the runner turns it into alert.raised.
type Alert = vigil.AlertRaised

type ruleState struct {
	rule    *Rule
	groups  map[string]*groupState
	firstDy int // baseline: the first local day this rule saw an event (+1, 0 = none)
}

type obs struct {
	t        time.Time
	ev       vigil.Evidence
	distinct string
}

type groupState struct {
	window    []obs           // threshold, baseline: items in the current window
	days      map[int]float64 // baseline: items per local day
	quiet     time.Time       // cooldown: no alert before this time
	lastAlert string          // baseline: the local day last alerted
	last      time.Time       // absence: the newest event
	lastEv    vigil.Evidence  // absence: that event
	alerted   time.Time       // absence: `last` already alerted for
}

// Observe feeds one event (seq is its log entry, 0 if unknown) and returns
// the alerts it causes.
func (e *Engine) Observe(seq uint64, ev vigil.Event) []Alert {
	var out []Alert
	prevHigh := e.high
	if ev.Type == vigil.EventElectionDefined {
		var d vigil.ElectionDay
		if p, ok := decodePayload(&ev).(map[string]any); ok {
			d.ID, _ = p["id"].(string)
			s, _ := p["voting_start"].(string)
			en, _ := p["voting_end"].(string)
			d.VotingStart, _ = time.Parse(time.RFC3339Nano, s)
			d.VotingEnd, _ = time.Parse(time.RFC3339Nano, en)
		}
		if d.ID != "" && d.VotingEnd.After(d.VotingStart) {
			e.voting[d.ID] = [2]time.Time{d.VotingStart, d.VotingEnd}
		}
	}
	noun, _, _ := strings.Cut(string(ev.Type), ".")
	matched := append(e.byType[ev.Type][:len(e.byType[ev.Type]):len(e.byType[ev.Type])], e.byNoun[noun]...)
	if len(matched) > 0 {
		payload := decodePayload(&ev)
		for _, st := range matched {
			out = append(out, e.observeRule(st, seq, &ev, payload, prevHigh)...)
		}
	}
	if ev.Time.After(e.high) {
		e.high = ev.Time
	}
	out = append(out, e.Tick(e.high)...)
	return out
}

// Tick advances the engine's clock without an event (the runner calls it
// with the wall clock when the log is quiet) and returns absence alerts.
func (e *Engine) Tick(now time.Time) []Alert {
	if now.Sub(e.lastTick) < time.Minute {
		return nil
	}
	e.lastTick = now
	e.prune(now)
	var out []Alert
	for _, st := range e.sortedStates() {
		r := st.rule
		if r.Kind != KindAbsence {
			continue
		}
		for _, g := range sortedKeys(st.groups) {
			gs := st.groups[g]
			if gs.last.IsZero() || now.Sub(gs.last) < r.Max || gs.alerted.Equal(gs.last) {
				continue
			}
			gs.alerted = gs.last
			out = append(out, Alert{ID: alertID(r.Name, g, gs.last.UTC().Format(time.RFC3339Nano)), Rule: r.Name,
				Kind: string(r.Kind), Severity: r.Severity, Title: r.Title, Group: g,
				WindowStart: gs.last, WindowEnd: gs.last.Add(r.Max),
				Count: 0, Threshold: r.Max.Hours(),
				Summary: fmt.Sprintf("no %s for %s since %s (allowed gap %s)", strings.Join(r.Events, " or "),
					groupText(g), gs.last.In(e.rules.Zone).Format("2006-01-02 15:04 MST"), human(r.Max)),
				Evidence: []vigil.Evidence{gs.lastEv}})
		}
	}
	return out
}

// prune drops groups that hold nothing any more (an empty window, a
// cooldown that has passed, no baseline days left), so that input with
// ever-new group values (a password spray over invented user names)
// cannot grow the engine without bound.
func (e *Engine) prune(now time.Time) {
	for _, st := range e.states {
		r := st.rule
		if r.Kind == KindAbsence {
			continue
		}
		horizon := now.Add(-max(r.Window, time.Nanosecond))
		for g, gs := range st.groups {
			if len(gs.window) > 0 && gs.window[len(gs.window)-1].t.After(horizon) || now.Before(gs.quiet) {
				continue
			}
			if r.Kind == KindBaseline {
				day := localDay(now, e.rules.Zone)
				live := false
				for d := range gs.days {
					live = live || d >= day-r.Days-1
				}
				if live {
					continue
				}
			}
			delete(st.groups, g)
		}
	}
}

func (e *Engine) sortedStates() []*ruleState {
	out := make([]*ruleState, 0, len(e.states))
	for _, st := range e.states {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rule.Name < out[j].rule.Name })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (e *Engine) observeRule(st *ruleState, seq uint64, ev *vigil.Event, payload any, prevHigh time.Time) []Alert {
	r := st.rule
	if !e.when(r, ev.Time) {
		return nil
	}
	var out []Alert
	evid := vigil.Evidence{EventID: ev.ID, Seq: seq, Type: ev.Type, Actor: ev.Actor, Time: ev.Time}
	// Count matching items per group first, so that one event carrying
	// 500 records raises one alert, not 500.
	type hit struct {
		n        int
		distinct []string
	}
	hits := map[string]*hit{}
	var order []string
	for _, it := range items(ev, payload, r.Each) {
		ok := true
		for _, c := range r.Where {
			if !c.match(&it) {
				ok = false
				break
			}
		}
		if ok && r.Kind == KindLag {
			ok = !prevHigh.IsZero() && prevHigh.Sub(ev.Time) >= r.Max
		}
		if ok && r.Kind == KindSkew {
			dt, has := it.timeField(r.Field)
			ok = has && absDur(ev.Time.Sub(dt)) >= r.Max
		}
		if !ok {
			continue
		}
		g := groupKey(&it, r.Group)
		h := hits[g]
		if h == nil {
			h = &hit{}
			hits[g] = h
			order = append(order, g)
		}
		h.n++
		if r.Distinct != "" {
			v, _ := it.get(r.Distinct)
			h.distinct = append(h.distinct, v)
		}
	}
	for _, g := range order {
		h := hits[g]
		gs := st.groups[g]
		if gs == nil {
			gs = &groupState{}
			st.groups[g] = gs
		}
		switch r.Kind {
		case KindAbsence:
			if ev.Time.After(gs.last) {
				gs.last, gs.lastEv = ev.Time, evid
			}
		case KindBaseline:
			if a, ok := e.baseline(st, gs, g, ev.Time, evid, h.n); ok {
				out = append(out, a)
			}
		default:
			if a, ok := e.threshold(st, gs, g, ev.Time, evid, h.n, h.distinct); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// when applies the rule's time filter.
func (e *Engine) when(r *Rule, t time.Time) bool {
	switch r.When {
	case WhenOffHours, WhenBusinessHours:
		h := e.rules.Hours
		if r.Hours != nil {
			h = *r.Hours
		}
		return h.Contains(t.In(e.rules.Zone)) == (r.When == WhenBusinessHours)
	case WhenOutsideVoting, WhenVoting:
		in := false
		for _, p := range e.voting {
			in = in || (!t.Before(p[0]) && t.Before(p[1].Add(r.Grace)))
		}
		return in == (r.When == WhenVoting)
	}
	return true
}

// add records n items at t in the sliding window and drops what fell out.
func (gs *groupState) add(t time.Time, w time.Duration, ev vigil.Evidence, n int, distinct []string) {
	for i := range n {
		d := ""
		if i < len(distinct) {
			d = distinct[i]
		}
		gs.window = append(gs.window, obs{t: t, ev: ev, distinct: d})
	}
	cut := 0
	for cut < len(gs.window) && !gs.window[cut].t.After(t.Add(-w)) {
		cut++
	}
	if cut > 0 {
		gs.window = append(gs.window[:0], gs.window[cut:]...)
	}
}

func (gs *groupState) count(distinct bool) float64 {
	if !distinct {
		return float64(len(gs.window))
	}
	seen := map[string]bool{}
	for _, o := range gs.window {
		seen[o.distinct] = true
	}
	return float64(len(seen))
}

// evidence lists the distinct events behind the window, newest last,
// bounded by MaxEvidence.
func (gs *groupState) evidence() []vigil.Evidence {
	var out []vigil.Evidence
	for i := len(gs.window) - 1; i >= 0 && len(out) < vigil.MaxEvidence; i-- {
		o := gs.window[i]
		if len(out) > 0 && out[len(out)-1].EventID == o.ev.EventID {
			continue
		}
		out = append(out, o.ev)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (e *Engine) threshold(st *ruleState, gs *groupState, g string, t time.Time, ev vigil.Evidence, n int, distinct []string) (Alert, bool) {
	r := st.rule
	w := r.Window
	if w == 0 {
		w = time.Nanosecond // Min 1 without a window: each event on its own
	}
	gs.add(t, w, ev, n, distinct)
	c := gs.count(r.Distinct != "")
	if c < r.Min || t.Before(gs.quiet) {
		return Alert{}, false
	}
	gs.quiet = t.Add(r.Cooldown)
	start := gs.window[0].t
	what := "event"
	if r.Each != "" {
		what = "record"
	}
	if c != 1 {
		what += "s"
	}
	if r.Distinct != "" {
		what = "distinct " + shortName(r.Distinct) + " values"
	}
	sum := fmt.Sprintf("%g %s of %s for %s", c, what, strings.Join(r.Events, ", "), groupText(g))
	if r.Window > 0 {
		sum += " within " + human(r.Window)
	}
	switch r.Kind {
	case KindLag:
		sum += fmt.Sprintf(", arriving %s or more after newer events", human(r.Max))
	case KindSkew:
		sum += fmt.Sprintf(", with the device clock off by %s or more", human(r.Max))
	}
	if r.When != WhenAny {
		sum += " (" + string(r.When) + ")"
	}
	return Alert{ID: alertID(r.Name, g, t.Truncate(r.Cooldown).UTC().Format(time.RFC3339)), Rule: r.Name, Kind: string(r.Kind),
		Severity: r.Severity, Title: r.Title, Summary: sum, Group: g, WindowStart: start, WindowEnd: t,
		Count: c, Threshold: r.Min, Evidence: gs.evidence()}, true
}

// baseline: the count in the current window against the trailing days.
func (e *Engine) baseline(st *ruleState, gs *groupState, g string, t time.Time, ev vigil.Evidence, n int) (Alert, bool) {
	r := st.rule
	day := localDay(t, e.rules.Zone)
	if gs.days == nil {
		gs.days = map[int]float64{}
	}
	gs.days[day] += float64(n)
	if st.firstDy == 0 || day+1 < st.firstDy {
		st.firstDy = day + 1
	}
	for d := range gs.days {
		if d < day-r.Days-1 {
			delete(gs.days, d)
		}
	}
	gs.add(t, r.Window, ev, n, nil)
	c := gs.count(false)
	from := max(day-r.Days, st.firstDy-1)
	var sum, sq float64
	k := 0
	for d := from; d < day; d++ {
		v := gs.days[d]
		sum += v
		sq += v * v
		k++
	}
	mean, sd := 0.0, 0.0
	if k > 0 {
		mean = sum / float64(k)
		sd = math.Sqrt(math.Max(0, sq/float64(k)-mean*mean))
	}
	limit := math.Max(r.Floor, mean+r.K*sd)
	dayKey := fmt.Sprint(day)
	if c < limit || gs.lastAlert == dayKey {
		return Alert{}, false
	}
	gs.lastAlert = dayKey
	summary := fmt.Sprintf("%g records of %s for %s within %s; the trailing %d days averaged %.1f a day (sd %.1f), so the limit was %.1f",
		c, strings.Join(r.Events, ", "), groupText(g), human(r.Window), k, mean, sd, limit)
	if r.Each == "" {
		summary = strings.Replace(summary, " records", " events", 1)
	}
	return Alert{ID: alertID(r.Name, g, "day"+dayKey), Rule: r.Name, Kind: string(r.Kind), Severity: r.Severity,
		Title: r.Title, Summary: summary, Group: g, WindowStart: gs.window[0].t, WindowEnd: t,
		Count: c, Threshold: math.Round(limit*10) / 10, Evidence: gs.evidence()}, true
}

// localDay numbers days in the zone (days since 1970-01-01 local).
func localDay(t time.Time, loc *time.Location) int {
	y, m, d := t.In(loc).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// alertID is the alert's identity: the same rule, group and window always
// give the same id, which is how "never twice" is checked against the log.
func alertID(rule, group, window string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + group + "\x00" + window))
	return hex.EncodeToString(h[:16])
}

func groupText(g string) string {
	if g == "" {
		return "all"
	}
	return g
}

func human(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// Groups counts the groups the engine keeps state for (its memory).
func (e *Engine) Groups() int {
	n := 0
	for _, st := range e.states {
		n += len(st.groups)
	}
	return n
}
