package bench

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/vigil-elections/vigil"
	"golang.org/x/mod/sumdb/tlog"
)

// DetectOptions size the detection benchmark.
type DetectOptions struct {
	Days   int    // simulated days of normal activity (the primary is on the second-last day)
	Voters int    // voters on the county's roll
	Seed   uint64 // the same seed generates the same county and the same month
	Zone   string // the county's time zone
}

func (o *DetectOptions) defaults() {
	if o.Days < 16 {
		o.Days = 30
	}
	if o.Voters < 2000 {
		o.Voters = 50_000
	}
	if o.Zone == "" {
		o.Zone = "America/Denver"
	}
}

// Scenario is one scripted interference injected into the month.
type Scenario struct {
	Name   string
	Start  time.Time       // when the interference began (event time)
	Events map[string]bool // ids of the injected events
}

// genEvent is an event with the time it reaches the log (later than its own
// time when its site was offline).
type genEvent struct {
	ev      vigil.Event
	arrival time.Time
}

type gen struct {
	o        DetectOptions
	rng      *rand.Rand
	loc      *time.Location
	start    time.Time
	out      []genEvent
	n        int
	voters   []genVoter
	addrs    []genAddr
	county   string
	origin   string
	scenario *Scenario
}

type genVoter struct {
	id, precinct, party string
	addr                int
	cancelled           bool
	voted               bool
}

type genAddr struct{ line1, zip string }

var (
	genPrecincts = 20
	genPlaces    = 5
	genParties   = []string{"DEM", "REP", "UNA", "UNA", "DEM", "REP", "LIB", "GRN"}
	genClerks    = []string{"reg-ann", "reg-bob", "reg-cat"}
	genStreets   = []string{"MAIN ST", "OAK AVE", "PINE ST", "MAPLE DR", "CEDAR LN", "ELM ST", "COLFAX AVE", "LINCOLN ST", "PEARL ST", "WALNUT ST"}
)

// Generate builds the month: normal activity with daily noise, and the
// scripted interference. Events are returned in log order.
func GenerateDetect(o DetectOptions) ([]vigil.Event, []uint64, []*Scenario, error) {
	o.defaults()
	loc, err := time.LoadLocation(o.Zone)
	if err != nil {
		return nil, nil, nil, vigil.Errorf(vigil.Invalid, "bench.detect", "unknown zone %q", o.Zone)
	}
	g := &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x5eed)), loc: loc, county: "ADAMS", origin: "hub"}
	// A Monday, so that weekends fall where a clerk expects them.
	g.start = time.Date(2026, 5, 4, 0, 0, 0, 0, loc)
	g.roll()
	election := g.day(o.Days - 2)
	votingStart, votingEnd := election.Add(7*time.Hour), election.Add(19*time.Hour)
	g.emit(g.at(0, 9, 30), "st-eve", vigil.RoleStateAdmin, vigil.ScopeState, vigil.EventElectionDefined, "primary",
		vigil.ElectionDay{ID: "primary", Name: "Primary", Day: election.Format("2006-01-02"), VotingStart: votingStart, VotingEnd: votingEnd})
	for d := range o.Days {
		g.normalDay(d, d == o.Days-2)
	}
	var scenarios []*Scenario
	scenarios = append(scenarios, g.purge(g.at(o.Days-13, 13, 30)))
	scenarios = append(scenarios, g.nightParty(g.at(o.Days-12, 23, 10)))
	scenarios = append(scenarios, g.nightExport(g.at(o.Days-8, 3, 12)))
	scenarios = append(scenarios, g.lateCheckins(g.at(o.Days-2, 20, 30)))
	sort.SliceStable(g.out, func(i, j int) bool { return g.out[i].arrival.Before(g.out[j].arrival) })
	rewrite, err := g.rewriteHistory(g.at(o.Days-2, 22, 0), g.at(o.Days-2, 22, 40))
	if err != nil {
		return nil, nil, nil, err
	}
	scenarios = append(scenarios, rewrite)
	events := make([]vigil.Event, len(g.out))
	seqs := make([]uint64, len(g.out))
	for i, e := range g.out {
		events[i], seqs[i] = e.ev, uint64(i+1)
	}
	return events, seqs, scenarios, nil
}

func (g *gen) day(d int) time.Time { return g.start.AddDate(0, 0, d) }

func (g *gen) at(d, h, m int) time.Time {
	t := g.day(d)
	return time.Date(t.Year(), t.Month(), t.Day(), h, m, 0, 0, g.loc)
}

// between returns a random time on day d between two local hours.
func (g *gen) between(d int, from, to float64) time.Time {
	h := from + g.rng.Float64()*(to-from)
	return g.day(d).Add(time.Duration(h * float64(time.Hour)))
}

func (g *gen) roll() {
	g.addrs = make([]genAddr, g.o.Voters/2)
	for i := range g.addrs {
		g.addrs[i] = genAddr{fmt.Sprintf("%d %s", 100+g.rng.IntN(9900), genStreets[g.rng.IntN(len(genStreets))]),
			fmt.Sprintf("806%02d", g.rng.IntN(40))}
	}
	g.voters = make([]genVoter, g.o.Voters)
	for i := range g.voters {
		g.voters[i] = genVoter{id: fmt.Sprintf("CO%08d", i+1), precinct: fmt.Sprintf("P%02d", 1+g.rng.IntN(genPrecincts)),
			party: genParties[g.rng.IntN(len(genParties))], addr: g.rng.IntN(len(g.addrs))}
	}
}

func (g *gen) emit(t time.Time, actor string, role vigil.Role, scope vigil.Scope, typ vigil.EventType, key string, payload any) *vigil.Event {
	return g.emitAt(t, t, g.origin, actor, role, scope, typ, key, payload)
}

func (g *gen) emitAt(t, arrival time.Time, origin, actor string, role vigil.Role, scope vigil.Scope, typ vigil.EventType, key string, payload any) *vigil.Event {
	g.n++
	var id [16]byte
	for i := range id {
		id[i] = byte(g.rng.Uint32())
	}
	ev := vigil.Event{ID: hex.EncodeToString(id[:]), Origin: origin, Actor: actor, Role: role, Scope: scope,
		Type: typ, Time: t.UTC(), Key: key}
	if payload != nil {
		ev.Payload, _ = json.Marshal(payload)
	}
	g.out = append(g.out, genEvent{ev: ev, arrival: arrival})
	if g.scenario != nil {
		g.scenario.Events[ev.ID] = true
	}
	return &g.out[len(g.out)-1].ev
}

// poisson draws a count with mean m (Knuth; m is small here).
func (g *gen) poisson(m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// noise is the day's activity level: busy and quiet days, about ±30%.
func (g *gen) noise() float64 { return math.Exp(g.rng.NormFloat64() * 0.3) }

type genRecord struct {
	ID        string         `json:"id"`
	County    string         `json:"county"`
	Precinct  string         `json:"precinct"`
	Party     string         `json:"party"`
	Residence map[string]any `json:"residence"`
	Status    map[string]any `json:"status"`
}

func (g *gen) record(v *genVoter) genRecord {
	a := g.addrs[v.addr]
	st := map[string]any{"code": "active"}
	if v.cancelled {
		st = map[string]any{"code": "cancelled", "reason": "moved"}
	}
	return genRecord{ID: v.id, County: g.county, Precinct: v.precinct, Party: v.party,
		Residence: map[string]any{"line1": a.line1, "city": "BRIGHTON", "state": "CO", "zip": a.zip}, Status: st}
}

func (g *gen) change(t time.Time, clerk, reason string, recs ...genRecord) *vigil.Event {
	return g.emit(t, clerk, vigil.RoleRegistrar, vigil.CountyScope(g.county), "voter.changed", recs[0].ID,
		map[string]any{"reason": reason, "records": recs})
}

func (g *gen) activeVoter() *genVoter {
	for {
		v := &g.voters[g.rng.IntN(len(g.voters))]
		if !v.cancelled {
			return v
		}
	}
}

func (g *gen) normalDay(d int, electionDay bool) {
	wd := g.day(d).Weekday()
	g.emit(g.at(d, 2, 0).Add(time.Duration(g.rng.IntN(300))*time.Second), "backup", vigil.RoleSystem, vigil.ScopeState,
		"backup.completed", "hub", map[string]any{"file": fmt.Sprintf("vigil-%s.age", g.day(d).Format("20060102"))})
	for m := 0; m < 24*60; m += 5 {
		lag := 0.2 + g.rng.ExpFloat64()*0.8
		if g.rng.IntN(288) == 0 {
			lag = 30 + g.rng.Float64()*30 // a slow link for a moment
		}
		g.emitAt(g.day(d).Add(time.Duration(m)*time.Minute), g.day(d).Add(time.Duration(m)*time.Minute), "mirror-west", "mirror",
			vigil.RoleSystem, vigil.ScopeState, "mirror.checked", "hub", map[string]any{"lag_seconds": math.Round(lag*10) / 10})
	}
	if wd == time.Saturday && g.rng.IntN(2) == 0 {
		// Catching up on a Saturday morning: a couple of changes.
		for range 1 + g.rng.IntN(2) {
			v := g.activeVoter()
			v.addr = g.rng.IntN(len(g.addrs))
			g.change(g.between(d, 9.5, 11.5), "reg-ann", "address-change", g.record(v))
		}
	}
	if wd == time.Saturday || wd == time.Sunday {
		return
	}
	lvl := g.noise()
	for _, c := range genClerks {
		g.login(g.between(d, 7.6, 8.4), c)
		g.login(g.between(d, 12.8, 13.3), c)
	}
	g.login(g.between(d, 8, 9), "adm-dee")
	work := func() time.Time { return g.between(d, 8, 17) }
	clerk := func() string { return genClerks[g.rng.IntN(len(genClerks))] }
	for range g.poisson(25 * lvl) {
		v := genVoter{id: fmt.Sprintf("CO%08d", len(g.voters)+1), precinct: fmt.Sprintf("P%02d", 1+g.rng.IntN(genPrecincts)),
			party: genParties[g.rng.IntN(len(genParties))], addr: g.rng.IntN(len(g.addrs))}
		if g.rng.IntN(10) < 7 { // a new address for most
			g.addrs = append(g.addrs, genAddr{fmt.Sprintf("%d %s", 100+g.rng.IntN(9900), genStreets[g.rng.IntN(len(genStreets))]),
				fmt.Sprintf("806%02d", g.rng.IntN(40))})
			v.addr = len(g.addrs) - 1
		}
		g.voters = append(g.voters, v)
		g.emit(work(), clerk(), vigil.RoleRegistrar, vigil.CountyScope(g.county), "voter.added", v.id,
			map[string]any{"reason": "new-registration", "records": []genRecord{g.record(&v)}})
	}
	for range g.poisson(20 * lvl) {
		v := g.activeVoter()
		v.addr = g.rng.IntN(len(g.addrs))
		g.change(work(), clerk(), "address-change", g.record(v))
	}
	for range g.poisson(4 * lvl) {
		v := g.activeVoter()
		v.party = genParties[g.rng.IntN(len(genParties))]
		g.change(work(), clerk(), "party-change", g.record(v))
	}
	for range g.poisson(5 * lvl) {
		v := g.activeVoter()
		g.change(work(), clerk(), "correction", g.record(v))
	}
	for range g.poisson(8 * lvl) {
		v := g.activeVoter()
		v.cancelled = true
		g.change(work(), clerk(), []string{"deceased", "moved", "voter-request"}[g.rng.IntN(3)], g.record(v))
	}
	if wd == time.Wednesday {
		// The state health department's weekly death records, as one batch.
		var recs []genRecord
		for range 8 + g.rng.IntN(11) {
			v := g.activeVoter()
			v.cancelled = true
			recs = append(recs, g.record(v))
		}
		g.change(g.between(d, 10, 11), clerk(), "deceased", recs...)
	}
	if g.rng.IntN(4) == 0 {
		// Overtime: a clerk finishes a few changes after hours.
		t := g.at(d, 19, 5+g.rng.IntN(30))
		for i := range 1 + g.rng.IntN(3) {
			v := g.activeVoter()
			g.change(t.Add(time.Duration(i)*4*time.Minute), clerk(), "correction", g.record(v))
		}
	}
	if wd == time.Monday {
		g.emit(g.between(d, 9.5, 11), "adm-dee", vigil.RoleCountyAdmin, vigil.CountyScope(g.county), "voter.exported", g.county,
			vigil.VoterExport{Format: "csv", Target: vigil.CountyScope(g.county), Detail: "weekly list for the parties"})
	}
	for range g.poisson(1.5) {
		who := append(genClerks, "adm-dee")[g.rng.IntN(4)]
		t := g.between(d, 7.5, 17)
		for i := range 1 + g.poisson(0.5) {
			g.emit(t.Add(time.Duration(i)*20*time.Second), who, vigil.RoleAnonymous, vigil.ScopeState, vigil.EventLoginFailed, who,
				vigil.LoginAttempt{Name: who, Addr: "10.20.0.17", Reason: "wrong password"})
		}
		g.login(t.Add(2*time.Minute), who)
	}
	for range g.poisson(0.7) {
		c := clerk()
		g.emit(work(), c, vigil.RoleRegistrar, vigil.CountyScope(g.county), vigil.EventAccessDenied, c,
			vigil.Denial{Action: "user.read", Route: "GET /admin/users", Reason: "no role of yours may user.read"})
	}
	switch d {
	case g.o.Days - 7: // poll workers are given their election-day roles
		for p := 1; p <= genPlaces; p++ {
			for k := range 2 {
				name := fmt.Sprintf("pw-%d%d", p, k)
				t := g.between(d, 9, 11)
				g.emit(t, "adm-dee", vigil.RoleCountyAdmin, vigil.CountyScope(g.county), vigil.EventUserCreated, name,
					map[string]string{"name": name, "display_name": "Poll worker"})
				g.emit(t.Add(time.Minute), "adm-dee", vigil.RoleCountyAdmin, vigil.CountyScope(g.county), vigil.EventRoleGranted, name,
					vigil.RoleChange{User: name, Grant: vigil.Grant{Role: vigil.RolePollWorker, Scope: g.place(p),
						NotBefore: g.at(g.o.Days-2, 6, 0), NotAfter: g.at(g.o.Days-2, 21, 0)}})
			}
		}
	case g.o.Days - 6: // each polling place's pollbooks are enrolled
		for p := 1; p <= genPlaces; p++ {
			for k := range 2 {
				dev := fmt.Sprintf("PB-%d%c", p, 'A'+k)
				g.emit(g.between(d, 13, 15), "adm-dee", vigil.RoleCountyAdmin, g.place(p), vigil.EventDeviceEnrolled, dev,
					map[string]string{"device": dev, "place": fmt.Sprintf("PL%02d", p)})
			}
		}
	}
	if electionDay {
		g.checkins(d)
	}
}

func (g *gen) place(p int) vigil.Scope { return vigil.PlaceScope(g.county, fmt.Sprintf("PL%02d", p)) }

func (g *gen) login(t time.Time, who string) {
	g.emit(t, who, vigil.RoleAnonymous, vigil.ScopeState, vigil.EventLoginSucceeded, who, vigil.LoginAttempt{Name: who, Addr: "10.20.0.17"})
}

// checkins: election day at every polling place, 07:00 to the close plus
// the voters still in line; one site drops offline for ten minutes.
func (g *gen) checkins(d int) {
	turnout := len(g.voters) / 5
	offFrom, offTo := g.at(d, 11, 0), g.at(d, 11, 10)
	for p := 1; p <= genPlaces; p++ {
		for k := range 2 {
			g.login(g.at(d, 6, 30).Add(time.Duration(g.rng.IntN(20))*time.Minute), fmt.Sprintf("pw-%d%d", p, k))
		}
	}
	for range turnout {
		v := g.activeVoter()
		if v.voted {
			continue
		}
		v.voted = true
		// Morning and evening rushes.
		h := 7 + 12*g.rng.Float64()
		if r := g.rng.IntN(10); r < 2 {
			h = 7 + 1.5*g.rng.Float64()
		} else if r < 4 {
			h = 16.5 + 2.5*g.rng.Float64()
		}
		t := g.day(d).Add(time.Duration(h * float64(time.Hour)))
		if g.rng.IntN(100) == 0 { // in line when the polls closed
			t = g.at(d, 19, 0).Add(time.Duration(g.rng.IntN(15*60)) * time.Second)
		}
		pl := 1 + (int(v.precinct[1]-'0')*10+int(v.precinct[2]-'0'))%genPlaces
		k := g.rng.IntN(2)
		skew := time.Duration(g.rng.NormFloat64()*2) * time.Second
		if pl == 2 && k == 1 {
			skew += 90 * time.Second // a tablet whose clock drifted
		}
		arrival := t
		if pl == 3 && !t.Before(offFrom) && t.Before(offTo) {
			arrival = offTo.Add(30 * time.Second) // synced when the link came back
		}
		g.emitAt(t, arrival, fmt.Sprintf("site-PL%02d", pl), fmt.Sprintf("pw-%d%d", pl, k), vigil.RolePollWorker, g.place(pl),
			"checkin.recorded", v.id, map[string]any{"voter": v.id, "place": fmt.Sprintf("PL%02d", pl),
				"device": fmt.Sprintf("PB-%d%c", pl, 'A'+k), "device_time": t.Add(skew).UTC()})
	}
}

func (g *gen) begin(name string, t time.Time) *Scenario {
	g.scenario = &Scenario{Name: name, Start: t, Events: map[string]bool{}}
	return g.scenario
}

// purge: a registrar cancels every active voter of one precinct in
// batches during business hours.
func (g *gen) purge(t time.Time) *Scenario {
	s := g.begin("mass purge of precinct P07", t)
	defer func() { g.scenario = nil }()
	var batch []genRecord
	n := 0
	for i := range g.voters {
		v := &g.voters[i]
		if v.precinct != "P07" || v.cancelled {
			continue
		}
		v.cancelled = true
		batch = append(batch, g.record(v))
		if len(batch) == 100 {
			g.change(t.Add(time.Duration(n)*30*time.Second), "reg-bob", "moved", batch...)
			batch, n = nil, n+1
		}
	}
	if len(batch) > 0 {
		g.change(t.Add(time.Duration(n)*30*time.Second), "reg-bob", "moved", batch...)
	}
	return s
}

// nightParty: a clerk changes party affiliations one by one late at night.
func (g *gen) nightParty(t time.Time) *Scenario {
	s := g.begin("party affiliations changed at night", t)
	defer func() { g.scenario = nil }()
	g.login(t.Add(-2*time.Minute), "reg-cat")
	for i := range 60 {
		v := g.activeVoter()
		v.party = "UNA"
		g.change(t.Add(time.Duration(i)*time.Minute+time.Duration(g.rng.IntN(40))*time.Second), "reg-cat", "party-change", g.record(v))
	}
	return s
}

// nightExport: the whole roll exported at 3 a.m.
func (g *gen) nightExport(t time.Time) *Scenario {
	s := g.begin("off-hours bulk export", t)
	defer func() { g.scenario = nil }()
	g.login(t.Add(-3*time.Minute), "adm-dee")
	g.emit(t, "adm-dee", vigil.RoleCountyAdmin, vigil.CountyScope(g.county), "voter.exported", g.county,
		vigil.VoterExport{Format: "csv", Target: vigil.CountyScope(g.county), Detail: "full roll with history"})
	return s
}

// lateCheckins: one pollbook keeps checking in voters after the polls
// closed (ballots stuffed under names of voters who did not vote).
func (g *gen) lateCheckins(t time.Time) *Scenario {
	s := g.begin("pollbook checking in voters after polls close", t)
	defer func() { g.scenario = nil }()
	for i := range 30 {
		v := g.activeVoter()
		if v.voted {
			continue
		}
		v.voted = true
		at := t.Add(time.Duration(i) * time.Minute)
		g.emitAt(at, at, "site-PL04", "pw-41", vigil.RolePollWorker, g.place(4), "checkin.recorded", v.id,
			map[string]any{"voter": v.id, "place": "PL04", "device": "PB-4B", "device_time": at.UTC()})
	}
	return s
}

// rewriteHistory really rewrites the log: the mirror holds a checkpoint of
// the history at mirrorAt; at rewriteAt the primary, having altered one of
// the day's check-ins, publishes a new tree. The mirror's consistency check
// (RFC 6962, golang.org/x/mod/sumdb/tlog) fails and it records
// log.checkpoint_inconsistent.
func (g *gen) rewriteHistory(mirrorAt, rewriteAt time.Time) (*Scenario, error) {
	s := &Scenario{Name: "rewritten history at the primary", Start: rewriteAt, Events: map[string]bool{}}
	old := sort.Search(len(g.out), func(i int) bool { return g.out[i].arrival.After(mirrorAt) })
	cur := sort.Search(len(g.out), func(i int) bool { return g.out[i].arrival.After(rewriteAt) })
	victim := -1
	for i := old - 1; i >= 0; i-- {
		if g.out[i].ev.Type == "checkin.recorded" {
			victim = i
			break
		}
	}
	if victim < 0 || cur <= old {
		return nil, fmt.Errorf("bench: no history to rewrite")
	}
	honest, err := treeOf(g.out[:old], -1)
	if err != nil {
		return nil, err
	}
	oldRoot, err := tlog.TreeHash(int64(old), honest)
	if err != nil {
		return nil, err
	}
	forged, err := treeOf(g.out[:cur], victim)
	if err != nil {
		return nil, err
	}
	newRoot, err := tlog.TreeHash(int64(cur), forged)
	if err != nil {
		return nil, err
	}
	proof, err := tlog.ProveTree(int64(cur), int64(old), forged)
	if err != nil {
		return nil, err
	}
	if tlog.CheckTree(proof, int64(cur), newRoot, int64(old), oldRoot) == nil {
		return nil, fmt.Errorf("bench: the rewritten history passed the consistency check")
	}
	ev := vigil.Event{ID: fmt.Sprintf("%032x", g.rng.Uint64()), Origin: "mirror-west", Actor: "mirror", Role: vigil.RoleSystem,
		Scope: vigil.ScopeState, Type: vigil.EventLogCheckpointInconsistent, Time: rewriteAt.UTC(), Key: "hub"}
	ev.Payload, _ = json.Marshal(map[string]any{"old_size": old, "new_size": cur, "old_root": oldRoot.String(),
		"new_root": newRoot.String(), "problem": "the new checkpoint is not an extension of the one the mirror holds"})
	s.Events[ev.ID] = true
	g.out = append(g.out[:cur], append([]genEvent{{ev: ev, arrival: rewriteAt}}, g.out[cur:]...)...)
	return s, nil
}

// treeOf hashes entries into an in-memory tlog; entry `alter` (if ≥ 0) is
// rewritten: its voter becomes another.
func treeOf(entries []genEvent, alter int) (tlog.HashReaderFunc, error) {
	var hashes []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		ev := e.ev
		if i == alter {
			ev.Key = "CO99999999"
		}
		data, err := vigil.MarshalEntry([]vigil.Event{ev})
		if err != nil {
			return nil, err
		}
		hs, err := tlog.StoredHashes(int64(i), data, r)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, hs...)
	}
	return r, nil
}
