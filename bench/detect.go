package bench

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
)

// ScenarioResult is how one injected scenario was detected.
type ScenarioResult struct {
	Name     string
	Detected bool
	Latency  time.Duration // from the interference's start to the first alert's trigger (event time)
	Rules    []string      // the rules that fired on it
}

// DetectResult is what RunDetect measured.
type DetectResult struct {
	Days        int
	Events      int
	Alerts      []vigil.AlertRaised
	Scenarios   []ScenarioResult
	False       []vigil.AlertRaised // alerts with no injected event behind them
	FalsePerDay float64
	Elapsed     time.Duration // the engine's time over the whole month
}

// Detected counts the scenarios with at least one alert.
func (r DetectResult) Detected() int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Detected {
			n++
		}
	}
	return n
}

// RunDetect generates the month, runs the pure engine over it with rules
// (nil: the built-in rules) and scores the alerts: an alert detects a
// scenario when its evidence holds an injected event; an alert whose
// evidence holds none is a false alert.
func RunDetect(o DetectOptions, rules *detect.Rules, progress io.Writer) (DetectResult, error) {
	o.defaults()
	if rules == nil {
		rules = detect.DefaultRules()
	}
	events, seqs, scenarios, err := GenerateDetect(o)
	if err != nil {
		return DetectResult{}, err
	}
	if progress != nil {
		fmt.Fprintf(progress, "generated %d days of county activity: %d events, %d scenarios\n", o.Days, len(events), len(scenarios))
	}
	res := DetectResult{Days: o.Days, Events: len(events)}
	eng := detect.NewEngine(rules)
	start := time.Now()
	for i, ev := range events {
		res.Alerts = append(res.Alerts, eng.Observe(seqs[i], ev)...)
	}
	res.Elapsed = time.Since(start)
	first := map[string]time.Time{}
	fired := map[string]map[string]bool{}
	for _, a := range res.Alerts {
		hit := false
		for _, s := range scenarios {
			for _, e := range a.Evidence {
				if s.Events[e.EventID] {
					hit = true
					if t, ok := first[s.Name]; !ok || a.WindowEnd.Before(t) {
						first[s.Name] = a.WindowEnd
					}
					if fired[s.Name] == nil {
						fired[s.Name] = map[string]bool{}
					}
					fired[s.Name][a.Rule] = true
					break
				}
			}
		}
		if !hit {
			res.False = append(res.False, a)
		}
	}
	for _, s := range scenarios {
		sr := ScenarioResult{Name: s.Name}
		if t, ok := first[s.Name]; ok {
			sr.Detected, sr.Latency = true, max(0, t.Sub(s.Start))
			for r := range fired[s.Name] {
				sr.Rules = append(sr.Rules, r)
			}
			sort.Strings(sr.Rules)
		}
		res.Scenarios = append(res.Scenarios, sr)
	}
	res.FalsePerDay = float64(len(res.False)) / float64(o.Days)
	return res, nil
}

// Report writes the result; its last line is the one the issue asks for.
func (r DetectResult) Report(w io.Writer) {
	fmt.Fprintf(w, "engine: %d events in %.2f s (%.0f events/s), %d alerts\n", r.Events, r.Elapsed.Seconds(),
		float64(r.Events)/max(r.Elapsed.Seconds(), 1e-9), len(r.Alerts))
	for _, s := range r.Scenarios {
		if s.Detected {
			fmt.Fprintf(w, "  detected  %-48s after %6s by %v\n", s.Name, s.Latency.Round(time.Second), s.Rules)
		} else {
			fmt.Fprintf(w, "  MISSED    %s\n", s.Name)
		}
	}
	for _, a := range r.False {
		fmt.Fprintf(w, "  false alert: %s [%s] %s at %s\n", a.Rule, a.Severity, a.Summary, a.WindowEnd.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "detected %d/%d scenarios; false alerts %.2f per day\n", r.Detected(), len(r.Scenarios), r.FalsePerDay)
}
