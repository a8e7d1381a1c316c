package detect_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
	"github.com/vigil-elections/vigil/node"
)

func MustOpenNode(t *testing.T) *node.Node {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "detect-test"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(t.Context(), node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

const runnerRules = `zone UTC
hours mon-sun 00:00-24:00
rule export
  severity high
  events voter.exported
  group actor
rule verify-failed
  severity critical
  events log.verification_failed
  group origin
`

// running is a Runner started in the background.
type running struct {
	r       *detect.Runner
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	deliver []vigil.AlertRaised
}

func startRunner(t *testing.T, n *node.Node, verify func() (bool, error)) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{cancel: cancel, done: make(chan struct{})}
	rn.r = detect.NewRunner(detect.RunnerConfig{Log: n.Log, Appender: n, Origin: n.Origin(),
		RulesPath: detect.RulesPath(n.Dir), StatePath: detect.StatePath(n.Dir), SeqAtTime: n.DB.SeqAtTime,
		Verify: verify, Poll: 50 * time.Millisecond,
		Deliver: func(a vigil.AlertRaised) { rn.mu.Lock(); rn.deliver = append(rn.deliver, a); rn.mu.Unlock() }})
	go func() {
		defer close(rn.done)
		if err := rn.r.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	}()
	t.Cleanup(rn.stop)
	return rn
}

func (rn *running) stop() {
	rn.cancel()
	<-rn.done
}

func export(t *testing.T, n *node.Node, actor string) {
	t.Helper()
	ev, _ := vigil.NewEvent(vigil.Actor{Name: actor, Role: vigil.RoleCountyAdmin, Scope: "county/ADAMS", Origin: n.Origin()},
		"voter.exported", "ADAMS", time.Now(), vigil.VoterExport{Format: "csv", Target: "county/ADAMS"})
	if _, err := n.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// raisedEvents counts alert.raised events in the log (not the projection).
func raisedEvents(t *testing.T, n *node.Node) map[string]int {
	t.Helper()
	last, err := n.Log.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	err = n.Log.Read(t.Context(), 1, last, func(seq uint64, data []byte) error {
		entry, err := vigil.UnmarshalEntry(data)
		for _, ev := range entry {
			if ev.Type == vigil.EventAlertRaised {
				out[ev.Key]++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func waitAlerts(t *testing.T, n *node.Node, want int) []vigil.Alert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := n.DB.Alerts(t.Context(), true, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) >= want || time.Now().After(deadline) {
			if len(as) != want {
				t.Fatalf("%d alerts, want %d: %+v", len(as), want, as)
			}
			return as
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunnerRaisesOnceAcrossRestarts(t *testing.T) {
	n := MustOpenNode(t)
	os.MkdirAll(filepath.Dir(detect.RulesPath(n.Dir)), 0o700)
	if err := os.WriteFile(detect.RulesPath(n.Dir), []byte(runnerRules), 0o600); err != nil {
		t.Fatal(err)
	}
	rn := startRunner(t, n, nil)
	export(t, n, "dee")
	as := waitAlerts(t, n, 1)
	if as[0].Rule != "export" || as[0].Status != vigil.AlertOpen || len(as[0].Evidence) != 1 || as[0].Evidence[0].Seq == 0 {
		t.Fatalf("%+v", as[0])
	}
	t.Run("the alert was delivered once", func(t *testing.T) {
		// Delivery follows the append, which the projection may show first.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			rn.mu.Lock()
			got := len(rn.deliver)
			rn.mu.Unlock()
			if got >= 1 || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // a second delivery would come at once
		rn.mu.Lock()
		defer rn.mu.Unlock()
		if len(rn.deliver) != 1 {
			t.Fatalf("%d deliveries", len(rn.deliver))
		}
	})
	rn.stop()

	t.Run("a restarted runner resumes and raises only new causes", func(t *testing.T) {
		rn := startRunner(t, n, nil)
		export(t, n, "eve")
		waitAlerts(t, n, 2)
		rn.stop()
	})
	t.Run("a runner that lost its cursor replays the log and still raises nothing twice", func(t *testing.T) {
		os.Remove(detect.StatePath(n.Dir))
		rn := startRunner(t, n, nil)
		export(t, n, "fay")
		waitAlerts(t, n, 3)
		time.Sleep(200 * time.Millisecond)
		rn.stop()
		for id, c := range raisedEvents(t, n) {
			if c != 1 {
				t.Errorf("alert %s raised %d times in the log", id, c)
			}
		}
		rn.mu.Lock()
		defer rn.mu.Unlock()
		if len(rn.deliver) != 1 {
			t.Fatalf("the replay delivered %d alerts, want only the new one", len(rn.deliver))
		}
	})
	t.Run("the alerts projection rebuilds from the log", func(t *testing.T) {
		diffs, _, err := n.VerifyProjections(t.Context(), t.TempDir())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("%v %v", err, diffs)
		}
	})
}

func TestBrokenRuleFileKeepsTheLastGoodRules(t *testing.T) {
	n := MustOpenNode(t)
	path := detect.RulesPath(n.Dir)
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(runnerRules), 0o600)
	rn := startRunner(t, n, nil)
	if err := os.WriteFile(path, []byte(runnerRules+"rule broken\n  kind nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rn.r.Status().Error == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st := rn.r.Status()
	if st.Error == "" || st.Count != 2 {
		t.Fatalf("status %+v", st)
	}
	export(t, n, "dee")
	waitAlerts(t, n, 1)
	t.Run("a fixed file is picked up", func(t *testing.T) {
		os.WriteFile(path, []byte(runnerRules+"rule third\n  events x.y\n"), 0o600)
		deadline := time.Now().Add(5 * time.Second)
		for rn.r.Status().Count != 3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if st := rn.r.Status(); st.Count != 3 || st.Error != "" {
			t.Fatalf("%+v", st)
		}
	})
}

func TestFailedVerificationBecomesAnAlert(t *testing.T) {
	n := MustOpenNode(t)
	os.MkdirAll(filepath.Dir(detect.RulesPath(n.Dir)), 0o700)
	os.WriteFile(detect.RulesPath(n.Dir), []byte(runnerRules), 0o600)
	startRunner(t, n, func() (bool, error) {
		return true, vigil.Errorf(vigil.Integrity, "node.verify", "entry 7 does not match")
	})
	as := waitAlerts(t, n, 1)
	if as[0].Rule != "verify-failed" || as[0].Severity != vigil.AlertCritical {
		t.Fatalf("%+v", as[0])
	}
}

// flakyLog is a log in memory whose first Follow fails after one entry.
type flakyLog struct {
	mu      sync.Mutex
	entries [][]byte
	calls   int
}

func (l *flakyLog) LastSeq(context.Context) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.entries)), nil
}

func (l *flakyLog) Follow(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	l.mu.Lock()
	l.calls++
	first := l.calls == 1
	entries := l.entries
	l.mu.Unlock()
	for i := from; i <= uint64(len(entries)); i++ {
		if err := fn(i, entries[i-1]); err != nil {
			return err
		}
		if first {
			return errors.New("connection lost")
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

type appendFunc func(context.Context, []vigil.Event, vigil.AppendOptions) (uint64, error)

func (f appendFunc) Append(ctx context.Context, evs []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	return f(ctx, evs, o)
}

func TestRunnerFollowsAgainAfterLosingTheLog(t *testing.T) {
	log := &flakyLog{}
	for _, actor := range []string{"dee", "eve"} {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: actor, Role: vigil.RoleCountyAdmin, Origin: "n"}, "voter.exported", "A", time.Now(), nil)
		b, _ := vigil.MarshalEntry([]vigil.Event{ev})
		log.entries = append(log.entries, b)
	}
	var mu sync.Mutex
	raised := map[string]int{}
	app := appendFunc(func(_ context.Context, evs []vigil.Event, o vigil.AppendOptions) (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		if o.ExpectSubjectSeq == nil || *o.ExpectSubjectSeq != 0 {
			t.Error("alert.raised was appended without its claim")
		}
		raised[evs[0].Key]++
		return 1, nil
	})
	path := filepath.Join(t.TempDir(), "rules")
	os.WriteFile(path, []byte(runnerRules), 0o600)
	r := detect.NewRunner(detect.RunnerConfig{Log: log, Appender: app, Origin: "n", RulesPath: path,
		StatePath: filepath.Join(t.TempDir(), "cursor.json"), Poll: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for r.Status().Cursor < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(raised) != 2 {
		t.Fatalf("raised %v after the log came back", raised)
	}
}
