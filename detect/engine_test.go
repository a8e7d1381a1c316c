package detect_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
)

var denver, _ = time.LoadLocation("America/Denver")

// local builds a time in the rules' zone on a given day of May 2026
// (the 4th is a Monday).
func local(day, h, m int) time.Time { return time.Date(2026, 5, day, h, m, 0, 0, denver) }

func mustRules(t testing.TB, text string) *detect.Rules {
	t.Helper()
	rs, err := detect.Parse([]byte("zone America/Denver\nhours mon-fri 07:00-19:00\n"+text), "test")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var evN int

func event(typ vigil.EventType, actor string, role vigil.Role, scope vigil.Scope, at time.Time, payload any) vigil.Event {
	evN++
	ev := vigil.Event{ID: fmt.Sprintf("ev%06d", evN), Origin: "hub", Actor: actor, Role: role, Scope: scope, Type: typ, Time: at.UTC()}
	if payload != nil {
		ev.Payload, _ = json.Marshal(payload)
	}
	return ev
}

func cancel(actor string, at time.Time, n int) vigil.Event {
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{"id": fmt.Sprint(i), "county": "ADAMS", "status": map[string]string{"code": "cancelled"}})
	}
	return event("voter.changed", actor, vigil.RoleRegistrar, "county/ADAMS", at, map[string]any{"reason": "moved", "records": recs})
}

func run(e *detect.Engine, evs ...vigil.Event) []vigil.AlertRaised {
	var out []vigil.AlertRaised
	for i, ev := range evs {
		out = append(out, e.Observe(uint64(i+1), ev)...)
	}
	return out
}

func TestThresholdCountsItemsPerGroupInAWindow(t *testing.T) {
	rs := mustRules(t, "rule bulk\n events voter.changed\n each payload.records\n group actor\n window 1h\n min 10\n")
	t.Run("nine records in an hour do not alert", func(t *testing.T) {
		e := detect.NewEngine(rs)
		if a := run(e, cancel("ann", local(5, 10, 0), 5), cancel("ann", local(5, 10, 30), 4)); len(a) != 0 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("records spread beyond the window do not alert", func(t *testing.T) {
		e := detect.NewEngine(rs)
		if a := run(e, cancel("ann", local(5, 10, 0), 6), cancel("ann", local(5, 11, 30), 6)); len(a) != 0 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("ten records by one actor alert once, with the evidence", func(t *testing.T) {
		e := detect.NewEngine(rs)
		evs := []vigil.Event{cancel("ann", local(5, 10, 0), 6), cancel("bob", local(5, 10, 1), 6), cancel("ann", local(5, 10, 2), 6), cancel("ann", local(5, 10, 3), 6)}
		a := run(e, evs...)
		if len(a) != 1 {
			t.Fatalf("%d alerts: %v", len(a), a)
		}
		if a[0].Group != "actor=ANN" || a[0].Count != 12 || len(a[0].Evidence) != 2 || a[0].Evidence[1].Seq != 3 {
			t.Fatalf("%+v", a[0])
		}
	})
	t.Run("the same stream gives the same alert ids", func(t *testing.T) {
		evs := []vigil.Event{cancel("ann", local(5, 10, 0), 20)}
		a1, a2 := run(detect.NewEngine(rs), evs...), run(detect.NewEngine(rs), evs...)
		if len(a1) != 1 || a1[0].ID != a2[0].ID {
			t.Fatalf("%v %v", a1, a2)
		}
	})
}

func TestBaselineAgainstTrailingDays(t *testing.T) {
	rs := mustRules(t, "rule spike\n kind baseline\n events voter.changed\n each payload.records\n group county\n window 24h\n days 14\n k 4\n floor 20\n")
	e := detect.NewEngine(rs)
	var evs []vigil.Event
	for d := 4; d < 18; d++ { // two weeks of 8–15 cancellations a day
		evs = append(evs, cancel("ann", local(d, 11, 0), 8+d%8))
	}
	if a := run(e, evs...); len(a) != 0 {
		t.Fatalf("normal days alerted: %v", a)
	}
	t.Run("a normal day does not alert", func(t *testing.T) {
		if a := run(e, cancel("ann", local(18, 11, 0), 14)); len(a) != 0 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("a spike above mean + k·sd alerts once that day", func(t *testing.T) {
		a := run(e, cancel("bob", local(19, 14, 0), 30), cancel("bob", local(19, 14, 5), 30))
		if len(a) != 1 || a[0].Rule != "spike" || a[0].Count < 30 {
			t.Fatalf("%v", a)
		}
		if a[0].Threshold < 20 {
			t.Fatalf("threshold %v below the floor", a[0].Threshold)
		}
	})
	t.Run("below the floor nothing alerts, even on a quiet history", func(t *testing.T) {
		e := detect.NewEngine(rs)
		if a := run(e, cancel("ann", local(5, 11, 0), 19)); len(a) != 0 {
			t.Fatalf("%v", a)
		}
		if a := run(e, cancel("ann", local(5, 11, 1), 1)); len(a) != 1 {
			t.Fatalf("at the floor: %v", a)
		}
	})
}

func TestTimeFilters(t *testing.T) {
	rs := mustRules(t, `
rule night
  events voter.exported
  when off-hours
  group actor
rule late-checkin
  events checkin.recorded
  when outside-voting
  grace 30m
  group place
`)
	e := detect.NewEngine(rs)
	exp := func(at time.Time) vigil.Event {
		return event("voter.exported", "dee", vigil.RoleCountyAdmin, "county/ADAMS", at, map[string]string{"format": "csv"})
	}
	t.Run("an export on a weekday afternoon is quiet", func(t *testing.T) {
		if a := run(e, exp(local(5, 14, 0))); len(a) != 0 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("an export at 3 a.m. local alerts", func(t *testing.T) {
		if a := run(e, exp(local(6, 3, 0))); len(a) != 1 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("an export on Saturday afternoon alerts", func(t *testing.T) {
		if a := run(e, exp(local(9, 14, 0))); len(a) != 1 {
			t.Fatalf("%v", a)
		}
	})
	election := event(vigil.EventElectionDefined, "eve", vigil.RoleStateAdmin, "state", local(4, 9, 0),
		vigil.ElectionDay{ID: "primary", Day: "2026-05-12", VotingStart: local(12, 7, 0), VotingEnd: local(12, 19, 0)})
	run(e, election)
	checkin := func(at time.Time) vigil.Event {
		return event("checkin.recorded", "pw", vigil.RolePollWorker, "county/ADAMS/place/PL01", at, map[string]string{"voter": "V1"})
	}
	t.Run("check-ins during voting and in line at close are quiet", func(t *testing.T) {
		if a := run(e, checkin(local(12, 7, 0)), checkin(local(12, 18, 59)), checkin(local(12, 19, 20))); len(a) != 0 {
			t.Fatalf("%v", a)
		}
	})
	t.Run("a check-in after the polls closed alerts, naming the place", func(t *testing.T) {
		a := run(e, checkin(local(12, 20, 30)))
		if len(a) != 1 || a[0].Group != "place=PL01" {
			t.Fatalf("%v", a)
		}
	})
}

func TestAbsenceLagAndSkew(t *testing.T) {
	rs := mustRules(t, `
rule backup-overdue
  kind absence
  events backup.completed
  group origin
  max 26h
rule sync-lag
  kind lag
  events checkin.recorded
  group origin
  max 15m
rule skew
  kind skew
  events checkin.recorded
  field payload.device_time
  group payload.device
  max 5m
`)
	t.Run("a missed backup alerts once when time passes", func(t *testing.T) {
		e := detect.NewEngine(rs)
		backup := event("backup.completed", "backup", vigil.RoleSystem, "state", local(5, 2, 0), nil)
		if a := run(e, backup); len(a) != 0 {
			t.Fatal(a)
		}
		if a := e.Tick(local(6, 2, 0)); len(a) != 0 {
			t.Fatalf("on time: %v", a)
		}
		a := e.Tick(local(6, 5, 0))
		if len(a) != 1 || a[0].Rule != "backup-overdue" || a[0].Evidence[0].EventID != backup.ID {
			t.Fatalf("%v", a)
		}
		if a := e.Tick(local(6, 8, 0)); len(a) != 0 {
			t.Fatalf("alerted twice: %v", a)
		}
	})
	t.Run("events arriving late after newer ones alert as sync lag", func(t *testing.T) {
		e := detect.NewEngine(rs)
		ci := func(origin string, at time.Time) vigil.Event {
			ev := event("checkin.recorded", "pw", vigil.RolePollWorker, "county/A/place/P", at,
				map[string]any{"device": "PB1", "device_time": at.UTC()})
			ev.Origin = origin
			return ev
		}
		if a := run(e, ci("site-1", local(12, 10, 0)), ci("site-2", local(12, 9, 50))); len(a) != 0 {
			t.Fatalf("10 minutes late: %v", a)
		}
		a := run(e, ci("site-2", local(12, 9, 30)))
		if len(a) != 1 || a[0].Group != "origin=SITE-2" {
			t.Fatalf("%v", a)
		}
	})
	t.Run("a device clock off by more than max alerts", func(t *testing.T) {
		e := detect.NewEngine(rs)
		at := local(12, 10, 0)
		ok := event("checkin.recorded", "pw", vigil.RolePollWorker, "", at, map[string]any{"device": "PB1", "device_time": at.Add(2 * time.Minute)})
		bad := event("checkin.recorded", "pw", vigil.RolePollWorker, "", at, map[string]any{"device": "PB2", "device_time": at.Add(-7 * time.Minute)})
		a := run(e, ok, bad)
		if len(a) != 1 || a[0].Group != "device=PB2" {
			t.Fatalf("%v", a)
		}
	})
}

func TestReloadKeepsUnchangedRulesState(t *testing.T) {
	text := "rule bulk\n events voter.changed\n each payload.records\n group actor\n window 1h\n min 10\n"
	e := detect.NewEngine(mustRules(t, text))
	if a := run(e, cancel("ann", local(5, 10, 0), 12)); len(a) != 1 {
		t.Fatal(a)
	}
	e.SetRules(mustRules(t, text+"rule other\n events x.y\n"))
	if a := run(e, cancel("ann", local(5, 10, 5), 12)); len(a) != 0 {
		t.Fatalf("a reload re-raised the alert: %v", a)
	}
}

func TestStateForEverNewGroupsIsDropped(t *testing.T) {
	rs := mustRules(t, "rule spray\n events login.failed\n group payload.name\n window 15m\n min 6\n")
	e := detect.NewEngine(rs)
	at := local(5, 10, 0)
	for i := range 5000 {
		run(e, event(vigil.EventLoginFailed, "x", vigil.RoleAnonymous, "state", at.Add(time.Duration(i)*time.Millisecond),
			vigil.LoginAttempt{Name: fmt.Sprintf("user%d", i), Addr: "192.0.2.1"}))
	}
	if e.Groups() < 4000 {
		t.Fatalf("only %d groups", e.Groups())
	}
	e.Tick(at.Add(time.Hour))
	if e.Groups() != 0 {
		t.Fatalf("%d groups kept an hour later", e.Groups())
	}
}

// FuzzObserve: the built-in rules over any event payload never panic, and
// every alert they raise is well formed.
func FuzzObserve(f *testing.F) {
	f.Add("voter.changed", `{"reason":"moved","records":[{"county":"A","status":{"code":"cancelled"}}]}`, int64(0))
	f.Add("checkin.recorded", `{"device":"PB1","device_time":"2026-05-12T10:00:00Z","place":"P1"}`, int64(-3600))
	f.Add("mirror.checked", `{"lag_seconds":1e308}`, int64(99999))
	f.Add("election.defined", `{"id":"e","voting_start":"2026-05-12T07:00:00Z","voting_end":"2026-05-12T19:00:00Z"}`, int64(1))
	rs := detect.DefaultRules()
	f.Fuzz(func(t *testing.T, typ, payload string, dt int64) {
		e := detect.NewEngine(rs)
		at := local(12, 12, 0)
		for i := range 3 {
			ev := vigil.Event{ID: fmt.Sprint(i), Origin: "o", Actor: "a", Role: vigil.RoleRegistrar, Scope: "county/A",
				Type: vigil.EventType(typ), Time: at.Add(time.Duration(dt*int64(i)) * time.Second), Payload: []byte(payload)}
			for _, a := range e.Observe(uint64(i+1), ev) {
				if err := a.Validate(); err != nil {
					t.Fatalf("malformed alert %+v: %v", a, err)
				}
			}
		}
		e.Tick(at.Add(48 * time.Hour))
	})
}
