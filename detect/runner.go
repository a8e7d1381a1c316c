package detect

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
)

// Source is the event log as the runner reads it (*nats.Log).
type Source interface {
	// Follow calls fn for every entry from sequence from on, as entries
	// arrive, until ctx is done.
	Follow(ctx context.Context, from uint64, fn func(seq uint64, data []byte) error) error
	// LastSeq returns the newest entry's sequence.
	LastSeq(ctx context.Context) (uint64, error)
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Log      Source
	Appender vigil.EventAppender // where alert.raised goes (a node: returns once applied)
	Origin   string              // the node's name, in events
	// RulesPath is the officer's rule file; missing means the built-in
	// rules. It is re-read when it changes.
	RulesPath string
	// StatePath keeps the runner's cursor (the last entry fully handled and
	// the newest event time) across restarts.
	StatePath string
	// SeqAtTime, when set, returns the first entry at or after t, so that a
	// restart replays only the rules' look-back instead of the whole log.
	SeqAtTime func(ctx context.Context, t time.Time) (uint64, error)
	// Verify reports the node's background log verification (node.VerifyStatus);
	// a failure becomes a log.verification_failed event.
	Verify  func() (done bool, err error)
	Deliver func(Alert) // called once per alert this runner raised (webhook, syslog)
	Logger  *slog.Logger
	Now     func() time.Time
	// Poll is how often the rule file, the verification status and the
	// absence rules are checked (default 5s).
	Poll time.Duration
}

// Runner follows the log durably and raises alerts.
//
// Durability contract: the cursor is written only after every alert caused
// by the entries up to it was appended, so after a crash the runner
// replays from before the cursor. It never alerts twice for one cause:
// alert.raised is claimed on the alert's subject (ev.alert.<id>) with an
// expected last sequence of 0, so the log itself refuses a second raise —
// from a restarted runner or from another node's.
type Runner struct {
	cfg RunnerConfig

	mu       sync.Mutex
	eng      *Engine
	cursor   state
	loadedAt time.Time
	ruleMod  time.Time
	ruleSize int64
	ruleErr  error
	raised   int
	dups     int
	verified bool
	catchUp  uint64 // absence rules wait until the log is read up to here
}

type state struct {
	Seq  uint64    `json:"seq"`
	High time.Time `json:"high"`
}

// NewRunner loads the rules (falling back to the built-in ones if the file
// is broken, which is reported by Status) and the cursor.
func NewRunner(cfg RunnerConfig) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Second
	}
	r := &Runner{cfg: cfg}
	rs, err := LoadFile(cfg.RulesPath)
	if err != nil {
		r.ruleErr = err
		cfg.Logger.Error("detection rules refused; running the built-in rules", "err", err)
		rs = DefaultRules()
	}
	r.eng = NewEngine(rs)
	r.loadedAt = cfg.Now()
	r.statRules()
	if b, err := os.ReadFile(cfg.StatePath); err == nil {
		json.Unmarshal(b, &r.cursor)
	}
	return r
}

// Status is what the security officer's page shows about detection.
type Status struct {
	Rules    string    `json:"rules"` // where the running rules came from
	Count    int       `json:"count"`
	LoadedAt time.Time `json:"loaded_at"`
	Error    string    `json:"error,omitempty"` // why the file on disk is not running
	Cursor   uint64    `json:"cursor"`
	Raised   int       `json:"raised"`
}

// Status reports the running rules and the last rule-file error.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{Rules: r.eng.Rules().Source, Count: len(r.eng.Rules().Rules), LoadedAt: r.loadedAt,
		Cursor: r.cursor.Seq, Raised: r.raised}
	if r.ruleErr != nil {
		s.Error = vigil.ErrorMessage(r.ruleErr)
	}
	return s
}

// lookback is how far before the cursor a restart must replay so that
// every window and baseline is rebuilt.
func (r *Runner) lookback() time.Duration {
	d := 24 * time.Hour
	for _, rule := range r.eng.Rules().Rules {
		d = max(d, rule.Window+rule.Cooldown, rule.Max+rule.Cooldown, time.Duration(rule.Days+2)*24*time.Hour)
	}
	return d + 24*time.Hour
}

// Run follows the log until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	from := uint64(1)
	r.mu.Lock()
	resume := r.cursor
	r.mu.Unlock()
	if resume.Seq > 0 && r.cfg.SeqAtTime != nil && !resume.High.IsZero() {
		if s, err := r.cfg.SeqAtTime(ctx, resume.High.Add(-r.lookback())); err == nil && s > 0 && s <= resume.Seq {
			from = s
		}
	}
	last, err := r.cfg.Log.LastSeq(ctx)
	if err != nil {
		last = resume.Seq // absence rules then wait only for the replay
	}
	r.mu.Lock()
	r.catchUp = last
	r.mu.Unlock()
	r.cfg.Logger.Info("detection started", "from", from, "cursor", resume.Seq, "rules", r.Status().Rules)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.poll(runCtx)
	}()
	defer wg.Wait()
	defer cancel()
	// The log can be unreachable for a while (a cluster electing a
	// leader): follow again from the entry after the last one handled,
	// keeping the engine's windows.
	for pause := time.Second; ; pause = min(2*pause, 30*time.Second) {
		err := r.follow(runCtx, from, resume.Seq)
		r.save()
		if ctx.Err() != nil {
			return nil
		}
		r.cfg.Logger.Error("detection lost the log; following again", "err", err, "pause", pause)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		r.mu.Lock()
		from = max(from, r.cursor.Seq+1)
		r.mu.Unlock()
	}
}

// follow handles entries from `from` on; entries up to replayTo only
// rebuild the engine's state (their alerts were raised before a restart).
func (r *Runner) follow(ctx context.Context, from, replayTo uint64) error {
	lastSave := time.Now()
	return r.cfg.Log.Follow(ctx, from, func(seq uint64, data []byte) error {
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			r.cfg.Logger.Error("detection skipped an unreadable entry", "seq", seq, "err", err)
		}
		r.mu.Lock()
		var alerts []Alert
		for _, ev := range entry {
			alerts = append(alerts, r.eng.Observe(seq, ev)...)
		}
		replay := seq <= replayTo
		r.mu.Unlock()
		if !replay {
			for _, a := range alerts {
				if err := r.raise(ctx, a); err != nil {
					return err
				}
			}
		}
		r.mu.Lock()
		if seq > r.cursor.Seq {
			r.cursor = state{Seq: seq, High: r.eng.high}
		}
		r.mu.Unlock()
		if time.Since(lastSave) > time.Second {
			lastSave = time.Now()
			r.save()
		}
		return nil
	})
}

// poll reloads the rule file, checks verification and runs absence rules.
func (r *Runner) poll(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.Reload()
		r.checkVerify(ctx)
		r.mu.Lock()
		var alerts []Alert
		if r.cursor.Seq >= r.catchUp {
			// Replaying history with today's clock would find every old gap.
			alerts = r.eng.Tick(r.cfg.Now())
		}
		r.mu.Unlock()
		for _, a := range alerts {
			if err := r.raise(ctx, a); err != nil {
				return
			}
		}
		r.save()
	}
}

func (r *Runner) statRules() (changed bool) {
	fi, err := os.Stat(r.cfg.RulesPath)
	if err != nil {
		changed = !r.ruleMod.IsZero()
		r.ruleMod, r.ruleSize = time.Time{}, 0
		return changed
	}
	changed = !fi.ModTime().Equal(r.ruleMod) || fi.Size() != r.ruleSize
	r.ruleMod, r.ruleSize = fi.ModTime(), fi.Size()
	return changed
}

// Reload re-reads the rule file if it changed. A broken file is refused
// with every bad line logged; the last good rules keep running.
func (r *Runner) Reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.statRules() {
		return
	}
	rs, err := LoadFile(r.cfg.RulesPath)
	if err != nil {
		r.ruleErr = err
		r.cfg.Logger.Error("detection rules refused; the last good rules keep running", "err", err)
		return
	}
	r.ruleErr = nil
	r.eng.SetRules(rs)
	r.loadedAt = r.cfg.Now()
	r.cfg.Logger.Info("detection rules loaded", "source", rs.Source, "rules", len(rs.Rules))
}

func (r *Runner) checkVerify(ctx context.Context) {
	if r.cfg.Verify == nil || r.verified {
		return
	}
	done, verr := r.cfg.Verify()
	if !done {
		return
	}
	r.verified = true
	if verr == nil {
		return
	}
	ev, err := vigil.NewEvent(r.actor(), vigil.EventLogVerificationFailed, r.cfg.Origin, r.cfg.Now(),
		map[string]string{"problem": vigil.ErrorMessage(verr)})
	if err == nil {
		_, err = r.cfg.Appender.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
	if err != nil {
		r.cfg.Logger.Error("could not record the failed verification", "err", err)
	}
}

func (r *Runner) actor() vigil.Actor {
	return vigil.Actor{Name: "detect", Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: r.cfg.Origin}
}

// raise appends alert.raised, claimed on the alert's subject. A lost claim
// means the alert is already in the log. Other failures are retried until
// ctx ends: moving on would lose the alert.
func (r *Runner) raise(ctx context.Context, a Alert) error {
	if err := a.Validate(); err != nil {
		r.cfg.Logger.Error("an alert is malformed", "rule", a.Rule, "err", err)
		return nil
	}
	ev, err := vigil.NewEvent(r.actor(), vigil.EventAlertRaised, a.ID, r.cfg.Now(), a)
	if err != nil {
		return err
	}
	zero := uint64(0)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 10*time.Second) {
		_, err = r.cfg.Appender.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		switch {
		case err == nil:
			r.mu.Lock()
			r.raised++
			r.mu.Unlock()
			r.cfg.Logger.Warn("alert raised", "id", a.ID, "rule", a.Rule, "severity", a.Severity, "summary", a.Summary)
			if r.cfg.Deliver != nil {
				r.cfg.Deliver(a)
			}
			return nil
		case vigil.ErrorKind(err) == vigil.Conflict:
			r.mu.Lock()
			r.dups++
			r.mu.Unlock()
			return nil
		case vigil.ErrorKind(err) == vigil.Invalid:
			// Retrying cannot help, and waiting would stop detection.
			r.cfg.Logger.Error("an alert could not be recorded", "id", a.ID, "rule", a.Rule, "err", err)
			return nil
		}
		r.cfg.Logger.Error("could not raise an alert; retrying", "id", a.ID, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// save writes the cursor atomically.
func (r *Runner) save() {
	if r.cfg.StatePath == "" {
		return
	}
	r.mu.Lock()
	b, _ := json.Marshal(r.cursor)
	r.mu.Unlock()
	os.MkdirAll(filepath.Dir(r.cfg.StatePath), 0o700)
	tmp := r.cfg.StatePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err == nil {
		os.Rename(tmp, r.cfg.StatePath)
	}
}

// Targets returns the delivery targets of the running rules.
func (r *Runner) Targets() (webhooks, syslogs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.eng.Rules()
	return append([]string(nil), rs.Webhook...), append([]string(nil), rs.Syslog...)
}
