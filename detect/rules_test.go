package detect_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
)

func TestBuiltInRulesParse(t *testing.T) {
	rs := detect.DefaultRules()
	if len(rs.Rules) < 20 {
		t.Fatalf("only %d built-in rules", len(rs.Rules))
	}
	if rs.Zone.String() != "America/Denver" {
		t.Fatalf("zone %s", rs.Zone)
	}
	kinds := map[detect.Kind]bool{}
	for _, r := range rs.Rules {
		kinds[r.Kind] = true
	}
	for _, k := range []detect.Kind{detect.KindThreshold, detect.KindBaseline, detect.KindAbsence, detect.KindLag, detect.KindSkew} {
		if !kinds[k] {
			t.Errorf("no built-in rule of kind %s", k)
		}
	}
}

func TestRuleFileErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, file string
		line       int
		want       string
	}{
		{"an unknown setting", "colour red\n", 1, "unknown setting"},
		{"an unknown zone", "zone Nowhere/City\n", 1, "time zone"},
		{"bad business hours", "hours mon-fri 19:00-07:00\n", 1, "end after the start"},
		{"a rule without events", "rule a\n  kind threshold\n", 1, "needs an events line"},
		{"an unknown kind", "rule a\n events voter.changed\n kind magic\n", 3, "unknown kind"},
		{"an unknown directive", "rule a\n events voter.changed\n colour red\n", 3, "unknown directive"},
		{"a bad event type", "rule a\n events VOTER\n", 2, "not an event type"},
		{"a rule watching alerts", "rule a\n events alert.raised\n", 2, "cannot watch alert events"},
		{"a bad field", "rule a\n events voter.changed\n group payload.\n", 3, "not a field"},
		{"a bad operator", "rule a\n events voter.changed\n where actor like x\n", 3, "unknown operator"},
		{"a non-numeric comparison", "rule a\n events voter.changed\n where payload.n > many\n", 3, "takes a number"},
		{"a bad duration", "rule a\n events voter.changed\n window forever\n", 3, "not a duration"},
		{"a baseline without a floor", "rule a\n kind baseline\n events voter.changed\n window 24h\n", 1, "floor"},
		{"a skew without a field", "rule a\n kind skew\n events checkin.recorded\n max 5m\n", 1, "field"},
		{"a duplicate rule", "rule a\n events x.y\nrule a\n events x.y\n", 3, "already defined at line 1"},
		{"a threshold above 1 without a window", "rule a\n events x.y\n min 5\n", 1, "window"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused at its line", func(t *testing.T) {
			_, err := detect.Parse([]byte(tt.file), "test.rules")
			if err == nil {
				t.Fatal("accepted")
			}
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v", vigil.ErrorKind(err))
			}
			var pe detect.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("no ParseError in %v", err)
			}
			found := false
			for _, le := range pe {
				found = found || (le.Line == tt.line && strings.Contains(le.Msg, tt.want))
			}
			if !found {
				t.Fatalf("want line %d %q, got %v", tt.line, tt.want, err)
			}
		})
	}
	t.Run("every error is reported at once", func(t *testing.T) {
		_, err := detect.Parse([]byte("zone X/Y\nrule a\n kind k\n events E\n"), "f")
		var pe detect.ParseError
		errors.As(err, &pe)
		if len(pe) < 3 {
			t.Fatalf("%d errors: %v", len(pe), err)
		}
	})
	t.Run("an oversized file is refused", func(t *testing.T) {
		_, err := detect.Parse(make([]byte, detect.MaxRuleFileBytes+1), "f")
		if vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("%v", err)
		}
	})
	t.Run("an overlong line is refused without echoing it", func(t *testing.T) {
		_, err := detect.Parse([]byte("rule a\n title "+strings.Repeat("x", 10000)+"\n"), "f")
		if err == nil || len(err.Error()) > 1000 {
			t.Fatalf("%d bytes: %.200v", len(err.Error()), err)
		}
	})
}

func TestRuleFileSettings(t *testing.T) {
	rs, err := detect.Parse([]byte(`
zone America/New_York   # comment
hours mon,wed,fri 08:30-17:00
webhook https://hooks.example/alerts
syslog udp://127.0.0.1:514
rule my-rule
  events voter.* login.failed
  each payload.records
  where item.status.code in cancelled,inactive
  where payload.n >= 3
  when off-hours
  group county actor
  window 2h
  min 5
  cooldown 30m
`), "f")
	if err != nil {
		t.Fatal(err)
	}
	r := rs.Rules[0]
	if r.Window != 2*time.Hour || r.Min != 5 || r.Cooldown != 30*time.Minute || len(r.Where) != 2 || r.When != detect.WhenOffHours {
		t.Fatalf("%+v", r)
	}
	if rs.Hours.Days[time.Tuesday] || !rs.Hours.Days[time.Wednesday] || rs.Hours.From != 8*60+30 {
		t.Fatalf("hours %+v", rs.Hours)
	}
	if len(rs.Webhook) != 1 || len(rs.Syslog) != 1 {
		t.Fatal("delivery targets not read")
	}
}

// FuzzParse: any input is parsed or refused with line-numbered errors,
// never a panic; accepted rules can be run.
func FuzzParse(f *testing.F) {
	f.Add(detect.DefaultRulesText())
	f.Add([]byte("rule a\n events x.y\n"))
	f.Add([]byte("hours sat-mon 00:00-24:00\nrule b\n kind baseline\n events v.*\n window 24h\n floor 1\n days 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := detect.Parse(data, "fuzz")
		if err != nil {
			var pe detect.ParseError
			if !errors.As(err, &pe) && vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		e := detect.NewEngine(rs)
		ev := vigil.Event{ID: "e1", Origin: "o", Actor: "a", Type: "x.y", Time: time.Unix(1e9, 0),
			Payload: []byte(`{"records":[{"county":"A"}],"n":3}`)}
		e.Observe(1, ev)
		e.Tick(time.Unix(2e9, 0))
	})
}

// TestDefaultRulesAlertOnAReconciliationDiscrepancy: a precinct whose
// check-ins and counted ballots disagree beyond the threshold (recorded
// by `vigil reconcile`) raises one high alert for the county.
func TestDefaultRulesAlertOnAReconciliationDiscrepancy(t *testing.T) {
	e := detect.NewEngine(detect.DefaultRules())
	d := vigil.Discrepancy{County: "ADAMS", Kind: "precinct", ID: "PCT-004", CheckIns: 812, Ballots: 790, Difference: -22}
	at := time.Date(2026, 11, 4, 2, 0, 0, 0, time.UTC)
	alerts := run(e, event(vigil.EventReconciliationDiscrepancy, "operator", vigil.RoleOperator, vigil.ScopeState, at, d))
	if len(alerts) != 1 || alerts[0].Rule != "reconciliation-discrepancy" || alerts[0].Severity != vigil.AlertHigh ||
		!strings.Contains(alerts[0].Group, "PCT-004") {
		t.Fatalf("alerts %+v", alerts)
	}
	// The same line recorded again within the hour is the same cause.
	if again := run(e, event(vigil.EventReconciliationDiscrepancy, "operator", vigil.RoleOperator, vigil.ScopeState, at.Add(time.Minute), d)); len(again) != 0 {
		t.Fatalf("raised again: %+v", again)
	}
}
