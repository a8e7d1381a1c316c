package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// MirrorCheckpoint is a hub checkpoint as the mirror recorded it.
type MirrorCheckpoint struct {
	Seq  uint64 `json:"seq"` // its sequence in the CHECKPOINTS stream
	Size int64  `json:"size"`
	Root string `json:"root"` // base64, as in the note
}

// MirrorProblem is a hub checkpoint that failed the mirror's checks: the
// hub's history was rewritten or forked (or rolled back).
type MirrorProblem struct {
	Time       time.Time         `json:"time"`
	Checkpoint MirrorCheckpoint  `json:"checkpoint"`
	Previous   *MirrorCheckpoint `json:"previous,omitempty"`
	Message    string            `json:"message"`
	Note       string            `json:"note"` // the signed note, the evidence
	Reported   bool              `json:"reported"`
}

// MirrorStatus is what a mirror knows about itself and its hub.
type MirrorStatus struct {
	Hub        string  `json:"hub"`
	Name       string  `json:"name"`
	LinkUp     bool    `json:"link_up"`
	Entries    uint64  `json:"entries"` // entries the mirror has stored
	Applied    uint64  `json:"applied"` // entries in its tree and projections
	HubSilence float64 `json:"hub_silence_seconds"`
	// Verified is the newest hub checkpoint checked consistent with the
	// entries held and with every earlier one.
	Verified *MirrorCheckpoint `json:"verified,omitempty"`
	Checked  int               `json:"checked"` // hub checkpoints checked
	Problems []MirrorProblem   `json:"problems"`
}

// mirrorState is DIR/mirror/state.json: where the checker is, so that a
// restarted mirror neither re-reports nor skips a checkpoint.
type mirrorState struct {
	Next     uint64            `json:"next"` // next CHECKPOINTS sequence to check
	Verified *MirrorCheckpoint `json:"verified,omitempty"`
	Checked  int               `json:"checked"`
	Problems []MirrorProblem   `json:"problems"`
}

// MirrorReport is the body of a request on nats.MirrorReportSubject(name).
type MirrorReport struct {
	Mirror  string          `json:"mirror"`
	Type    vigil.EventType `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// CheckpointInconsistent is the payload of log.checkpoint_inconsistent
// that a mirror reports.
type CheckpointInconsistent struct {
	Mirror       string `json:"mirror"`
	Message      string `json:"message"`
	Size         int64  `json:"size"`
	Root         string `json:"root"`
	PreviousSize int64  `json:"previous_size,omitempty"`
	PreviousRoot string `json:"previous_root,omitempty"`
	Note         string `json:"note"`
}

// MirrorChecked is the payload of mirror.checked.
type MirrorChecked struct {
	Mirror     string  `json:"mirror"`
	Entries    uint64  `json:"entries"`
	Verified   int64   `json:"verified_size"`
	LagSeconds float64 `json:"lag_seconds"` // time since the mirror last heard from the hub
	// Version is the vigil version the mirror (site, laptop) runs.
	Version string `json:"version,omitempty"`
}

// MirrorChecker checks the hub's checkpoints as they arrive on a mirror.
type MirrorChecker struct {
	n        *Node
	verifier note.Verifiers
	// ReportEvery is how often the mirror reports mirror.checked to the
	// hub (default 1 min; the default rules alert after 30 min of silence).
	ReportEvery time.Duration

	mu    sync.Mutex
	state mirrorState
}

// NewMirrorChecker returns the checker of an owning mirror node.
func (n *Node) NewMirrorChecker() (*MirrorChecker, error) {
	const op = "mirror.check"
	if n.mirror == nil || !n.Owner || n.Tree == nil {
		return nil, vigil.Errorf(vigil.Invalid, op, "only a running mirror checks its hub's checkpoints")
	}
	v, err := note.NewVerifier(n.mirror.HubKey)
	if err != nil {
		return nil, vigil.Errorf(vigil.Integrity, op, "mirror.json holds a malformed hub key: %v", err)
	}
	c := &MirrorChecker{n: n, verifier: note.VerifierList(v), ReportEvery: time.Minute}
	if err := readJSON(mirrorStatePath(n.Dir), &c.state); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if c.state.Next == 0 {
		c.state.Next = 1
	}
	return c, nil
}

// Run checks checkpoints until ctx ends. Every new hub checkpoint must
// verify with the hub's key, match the root of the entries the mirror
// holds, and be consistent (an RFC 6962 consistency proof from the
// mirror's tree, checked against both signed roots) with the previous one.
// A failure is kept in the state, logged, and reported to the hub as
// log.checkpoint_inconsistent (the hub's detection raises the critical
// alert checkpoint-inconsistent); the mirror keeps its copy either way.
func (c *MirrorChecker) Run(ctx context.Context) error {
	lastReport := time.Time{}
	for {
		if err := c.step(ctx); err != nil && ctx.Err() == nil {
			c.n.log.Error("mirror check failed", "err", err)
		}
		c.reportProblems(ctx)
		if c.ReportEvery > 0 && time.Since(lastReport) >= c.ReportEvery && c.n.server.LinkUp() {
			if c.reportChecked(ctx) == nil {
				lastReport = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errBehind: the checkpoint covers entries the mirror has not stored yet
// (the two streams are mirrored independently).
var errBehind = errors.New("mirror: entries not yet mirrored")

func (c *MirrorChecker) step(ctx context.Context) error {
	st, err := c.n.JS.Stream(ctx, vnats.CheckpointsStream)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	for c.state.Next <= info.State.LastSeq {
		msg, err := st.GetMsg(ctx, c.state.Next)
		if err != nil {
			return fmt.Errorf("reading checkpoint %d: %w", c.state.Next, err)
		}
		if err := c.check(c.state.Next, msg.Data); errors.Is(err, errBehind) {
			return nil
		} else if err != nil {
			return err
		}
		c.mu.Lock()
		c.state.Next++
		err = writeJSON(mirrorStatePath(c.n.Dir), c.state)
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *MirrorChecker) check(seq uint64, msg []byte) error {
	sc, err := ledger.OpenCheckpoint(msg, c.verifier)
	if err != nil {
		var unknown *note.UnknownVerifierError
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unknown) || errors.As(err, &unverified) {
			return nil // signed by another node of the hub's cluster
		}
		c.problem(seq, sc.Checkpoint, msg, fmt.Sprintf("checkpoint %d carries a bad signature of the hub's key: %v", seq, err))
		return nil
	}
	cp := MirrorCheckpoint{Seq: seq, Size: sc.Size, Root: base64.StdEncoding.EncodeToString(sc.Root[:])}
	if sc.Origin != c.n.CheckpointOrigin() {
		c.problem(seq, sc.Checkpoint, msg, fmt.Sprintf("the hub signed a checkpoint of another log (%q, this log is %q)", sc.Origin, c.n.CheckpointOrigin()))
		return nil
	}
	if sc.Size > c.n.Tree.Size() {
		return errBehind
	}
	root, err := c.n.Tree.RootAt(sc.Size)
	if err != nil {
		return err
	}
	if root != sc.Root {
		c.problem(seq, sc.Checkpoint, msg, fmt.Sprintf(
			"the hub signed a tree of %d entries whose root is not the root of the %d entries it sent this mirror: the primary's history was rewritten or forked",
			sc.Size, sc.Size))
		return nil
	}
	c.mu.Lock()
	prev := c.state.Verified
	c.mu.Unlock()
	if prev != nil {
		var prevRoot tlog.Hash
		raw, _ := base64.StdEncoding.DecodeString(prev.Root)
		copy(prevRoot[:], raw)
		m, n, mr, nr := prev.Size, sc.Size, prevRoot, sc.Root
		if n < m {
			m, n, mr, nr = n, m, nr, mr
		}
		proof, err := c.n.Tree.ConsistencyProof(m, n)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(proof, n, nr, m, mr); err != nil {
			c.problem(seq, sc.Checkpoint, msg, fmt.Sprintf(
				"checkpoint %d (size %d) is not consistent with the previous checkpoint (size %d): the primary's history was rewritten or forked",
				seq, sc.Size, prev.Size))
			return nil
		}
		if sc.Size < prev.Size {
			c.problem(seq, sc.Checkpoint, msg, fmt.Sprintf(
				"the hub signed a checkpoint of %d entries after one of %d: its log was rolled back (restored from an older backup?); entries %d..%d are on this mirror only",
				sc.Size, prev.Size, sc.Size+1, prev.Size))
			return nil
		}
	}
	c.mu.Lock()
	c.state.Verified = &cp
	c.state.Checked++
	c.mu.Unlock()
	return nil
}

func (c *MirrorChecker) problem(seq uint64, cp ledger.Checkpoint, msg []byte, text string) {
	p := MirrorProblem{Time: c.n.Now().UTC(), Message: text, Note: string(msg),
		Checkpoint: MirrorCheckpoint{Seq: seq, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:])}}
	c.mu.Lock()
	p.Previous = c.state.Verified
	c.state.Problems = append(c.state.Problems, p)
	c.state.Checked++
	c.mu.Unlock()
	c.n.log.Error("HUB HISTORY INCONSISTENT", "problem", text, "checkpoint_seq", seq)
}

// reportProblems sends every unreported problem to the hub. A hub that is
// down (or refuses) is tried again on the next round; the problem stays in
// the mirror's state and status either way.
func (c *MirrorChecker) reportProblems(ctx context.Context) {
	c.mu.Lock()
	var todo []int
	for i, p := range c.state.Problems {
		if !p.Reported {
			todo = append(todo, i)
		}
	}
	problems := append([]MirrorProblem(nil), c.state.Problems...)
	c.mu.Unlock()
	for _, i := range todo {
		p := problems[i]
		pl := CheckpointInconsistent{Mirror: c.n.mirror.Name, Message: p.Message, Size: p.Checkpoint.Size,
			Root: p.Checkpoint.Root, Note: p.Note}
		if p.Previous != nil {
			pl.PreviousSize, pl.PreviousRoot = p.Previous.Size, p.Previous.Root
		}
		if err := c.report(ctx, vigil.EventLogCheckpointInconsistent, pl); err != nil {
			c.n.log.Warn("could not report a problem to the hub; will retry", "err", err)
			return
		}
		c.mu.Lock()
		c.state.Problems[i].Reported = true
		err := writeJSON(mirrorStatePath(c.n.Dir), c.state)
		c.mu.Unlock()
		if err != nil {
			c.n.log.Error("could not save the mirror's state", "err", err)
		}
	}
}

func (c *MirrorChecker) reportChecked(ctx context.Context) error {
	s, err := c.Status(ctx)
	if err != nil {
		return err
	}
	pl := MirrorChecked{Mirror: s.Name, Entries: s.Entries, LagSeconds: s.HubSilence, Version: vigil.Version}
	if s.Verified != nil {
		pl.Verified = s.Verified.Size
	}
	return c.report(ctx, vigil.EventMirrorChecked, pl)
}

func (c *MirrorChecker) report(ctx context.Context, typ vigil.EventType, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(MirrorReport{Mirror: c.n.mirror.Name, Type: typ, Payload: b})
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.n.NC.RequestWithContext(rctx, vnats.MirrorReportSubject(c.n.mirror.Name), body)
	if err != nil {
		return err
	}
	var r struct {
		Seq   uint64 `json:"seq"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return err
	}
	if r.Error != "" {
		return errors.New(r.Error)
	}
	return nil
}

// Status reports the mirror's state.
func (c *MirrorChecker) Status(ctx context.Context) (MirrorStatus, error) {
	s := MirrorStatus{Hub: c.n.mirror.Hub, Name: c.n.mirror.Name, LinkUp: c.n.server.LinkUp(), Applied: c.n.Applied()}
	last, active, err := vnats.MirrorState(ctx, c.n.JS, vnats.EventsStream)
	if err != nil {
		return s, err
	}
	s.Entries, s.HubSilence = last, active.Seconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Verified, s.Checked = c.state.Verified, c.state.Checked
	s.Problems = append([]MirrorProblem{}, c.state.Problems...)
	return s, nil
}

// startMirrorHub: on a hub that admits mirrors, keep the durable consumers
// that feed them and append the reports they send. Only the two report types are accepted, from enrolled
// names, with the hub's own clock; each becomes an event by the system
// actor "mirror:NAME", so the detection rules (checkpoint-inconsistent,
// mirror-lag, mirror-silent) see them.
func (n *Node) startMirrorHub(ctx context.Context) error {
	if n.hubMirrors == nil || n.Log == nil {
		return nil
	}
	if err := vnats.EnsureMirrorConsumers(ctx, n.JS, n.HubMirrorNames()); err != nil {
		return err
	}
	n.background(n.watchRevocations)
	if n.mirror != nil {
		return nil // a site: its laptops' reports go on to the hub (siteRelay)
	}
	_, err := n.NC.Subscribe(vnats.MirrorReportSubjects, func(msg *natsgo.Msg) {
		reply := func(seq uint64, err error) {
			b, _ := json.Marshal(map[string]any{"seq": seq, "error": errString(err)})
			msg.Respond(b)
		}
		var r MirrorReport
		if len(msg.Data) > 64<<10 || json.Unmarshal(msg.Data, &r) != nil {
			reply(0, errors.New("malformed report"))
			return
		}
		// The subject names the mirror: the hub lets each mirror publish on
		// its own subject only. A site passes on its laptops' reports
		// (SITE_LAPTOP) on its own.
		sender := r.Mirror
		if site, _, ok := strings.Cut(r.Mirror, "_"); ok {
			if place, _ := n.links.place(site); place != "" {
				sender = site
			}
		}
		if _, ok := n.links.place(sender); !ok || msg.Subject != vnats.MirrorReportSubject(sender) {
			reply(0, fmt.Errorf("mirror %q is not enrolled on this hub, or reports under another name", r.Mirror))
			return
		}
		if r.Type != vigil.EventMirrorChecked && r.Type != vigil.EventLogCheckpointInconsistent {
			reply(0, fmt.Errorf("a mirror may not report %q", r.Type))
			return
		}
		if !json.Valid(r.Payload) {
			reply(0, errors.New("malformed payload"))
			return
		}
		a := vigil.Actor{Name: "mirror:" + r.Mirror, Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: r.Mirror}
		ev, err := vigil.NewEvent(a, r.Type, r.Mirror, n.Now(), r.Payload)
		if err != nil {
			reply(0, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		seq, err := n.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
		reply(seq, err)
	})
	if err != nil {
		return vigil.Wrap("node.mirror_reports", vigil.Unavailable, err)
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return vigil.ErrorMessage(err)
}

// HubMirrorNames lists the mirrors a hub admits (nil if none).
func (n *Node) HubMirrorNames() []string {
	return n.links.names()
}

// checkHubCheckpoints recomputes the tree of the entries being promoted and
// checks every checkpoint of the old primary (signed with hubKey) that they
// cover; see PromoteReport.
func checkHubCheckpoints(ctx context.Context, js jetstream.JetStream, log *vnats.Log, hubKey string, rep *PromoteReport) error {
	v, err := note.NewVerifier(hubKey)
	if err != nil {
		return vigil.Errorf(vigil.Integrity, "mirror.promote", "mirror.json holds a malformed hub key: %v", err)
	}
	origin := "vigil.log/" + log.LogID
	var cps []ledger.SignedCheckpoint
	err = vnats.ReadCheckpoints(ctx, js, func(seq uint64, msg []byte) error {
		c, err := ledger.OpenCheckpoint(msg, note.VerifierList(v))
		if err != nil || c.Origin != origin {
			return nil // another signer's, or not this log's (the mirror's checks reported it)
		}
		rep.HubSigned = max(rep.HubSigned, c.Size)
		if c.Size <= int64(rep.Entries) {
			cps = append(cps, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].Size < cps[j].Size })
	var h ledger.Hasher
	next := 0
	check := func() {
		for next < len(cps) && cps[next].Size == h.Size() {
			if h.Root() == cps[next].Root {
				rep.Verified++
			} else {
				rep.Problems = append(rep.Problems, fmt.Sprintf(
					"the old primary's checkpoint of %d entries does not match the entries promoted", cps[next].Size))
			}
			next++
		}
	}
	check()
	if rep.Entries == 0 {
		return nil
	}
	return log.Read(ctx, 1, rep.Entries, func(seq uint64, data []byte) error {
		h.Add(data)
		check()
		return nil
	})
}
