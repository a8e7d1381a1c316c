package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// CheckInOptions size the check-in benchmark.
type CheckInOptions struct {
	Dir       string        // an empty directory to build the node in
	Duration  time.Duration // how long check-ins are sustained
	Pollbooks int           // simulated pollbooks (concurrent goroutines)
	Voters    int           // voters in the synthetic county (an upper bound on check-ins)
	Anchor    time.Duration // how long the disk's sync rate is measured
	// BatchedClaims adds a phase measuring claims in atomic batches (see
	// BatchedClaims) on the same node, for comparison.
	BatchedClaims bool
	// CPUProfile, when set, receives a CPU profile of the sustained phase.
	CPUProfile string
}

// CheckInResult is what RunCheckIn measured.
type CheckInResult struct {
	FsyncPerSec   float64 // anchor: 256-byte write+fdatasync pairs per second
	CheckIns      int     // check-ins acknowledged in the sustained phase
	PerSec        float64 // of them, per second
	P50, P99      time.Duration
	Errors        int // check-ins that failed (not refused): should be 0
	Retried       int // voters re-tried from a second pollbook
	RetryRefused  int // …and refused, naming the first check-in
	AcceptedTwice int // voters with two accepted check-ins (service retries, raw claims, or the log)
	Lost          int // acknowledged check-ins missing from the log read back
	LogCheckIns   int // checkin.recorded events in the log
	Elapsed       time.Duration
	Batched       *BatchedClaimsResult
}

// CheckInRig is a node with a synthetic county whose election is open now,
// and its pollbook service: what the benchmark and the Go benchmark share.
type CheckInRig struct {
	Node    *node.Node
	Service *sqlite.Pollbook
	County  demo.County
	// ByPlace lists the county's active voters by polling place.
	ByPlace map[string][]vigil.VoterID
}

// NewCheckInRig initializes dir, opens a node and loads a county of n voters.
func NewCheckInRig(ctx context.Context, dir string, n int) (*CheckInRig, error) {
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "bench-checkin"}); err != nil {
		return nil, err
	}
	nd, err := node.Open(ctx, node.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	c := demo.Generate(demo.Options{Seed: 4, Voters: n, Today: now})
	c.Election.VotingStart, c.Election.VotingEnd = now.Add(-time.Hour), now.Add(24*time.Hour)
	op := vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: nd.Origin()}
	if err := demo.LoadRoll(ctx, nd, op, c, now, nil); err != nil {
		nd.Close()
		return nil, err
	}
	placeOf := map[string]string{}
	for _, p := range c.Precincts {
		placeOf[p.ID] = p.Place
	}
	by := map[string][]vigil.VoterID{}
	for _, v := range c.Voters {
		if v.Status == "active" {
			by[placeOf[v.Precinct]] = append(by[placeOf[v.Precinct]], vigil.VoterID(v.ID))
		}
	}
	return &CheckInRig{Node: nd, Service: sqlite.NewPollbook(nd.DB, nd, nd.Now), County: c, ByPlace: by}, nil
}

// Pollbook returns the actor and site of simulated pollbook i: pollbooks
// are spread over the county's polling places.
func (r *CheckInRig) Pollbook(i int) (vigil.Actor, vigil.Scope) {
	p := r.County.Places[i%len(r.County.Places)]
	site := vigil.PlaceScope(r.County.County.ID, p.ID)
	return vigil.Actor{Name: fmt.Sprintf("pollbook-%03d", i), Role: vigil.RolePollWorker, Scope: site, Origin: r.Node.Origin()}, site
}

// RunCheckIn runs the benchmark: Pollbooks goroutines check distinct voters
// in, durably, for Duration; then every voter checked in is re-tried from a
// second pollbook, once through the service (as a poll worker would) and
// once as a raw claim expecting the voter's subject to be empty (a pollbook
// that never saw the first check-in); then the log is read back.
func RunCheckIn(ctx context.Context, o CheckInOptions, progress io.Writer) (CheckInResult, error) {
	var res CheckInResult
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	var err error
	if res.FsyncPerSec, err = fsyncRate(o.Dir, o.Anchor); err != nil {
		return res, err
	}
	say("anchor: %.0f synchronous 256-byte writes/s on this disk", res.FsyncPerSec)
	start := time.Now()
	rig, err := NewCheckInRig(ctx, filepath.Join(o.Dir, "node"), o.Voters)
	if err != nil {
		return res, err
	}
	defer rig.Node.Close()
	say("county loaded: %d voters, %d polling places, in %v", len(rig.County.Voters), len(rig.County.Places), time.Since(start).Round(time.Millisecond))

	// Each place's voters are dealt to its pollbooks through one queue.
	queues := map[string]chan vigil.VoterID{}
	for place, ids := range rig.ByPlace {
		q := make(chan vigil.VoterID, len(ids))
		for _, id := range ids {
			q <- id
		}
		close(q)
		queues[place] = q
	}
	type done struct {
		voter vigil.VoterID
		event string
		by    int
	}
	var (
		mu     sync.Mutex
		acked  []done
		lat    []time.Duration
		errs   atomic.Int64
		wg     sync.WaitGroup
		first  error
		cutoff = time.Now().Add(o.Duration)
	)
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	for i := 0; i < o.Pollbooks; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			actor, site := rig.Pollbook(i)
			_, place, _ := pollbook.SitePlace(site)
			var local []done
			var llat []time.Duration
			for time.Now().Before(cutoff) && ctx.Err() == nil {
				id, ok := <-queues[place]
				if !ok {
					break
				}
				t := time.Now()
				rec, err := rig.Service.CheckIn(ctx, actor, vigil.CheckInRequest{Voter: id, Site: site, Identity: "licence"})
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					continue
				}
				llat = append(llat, time.Since(t))
				local = append(local, done{id, rec.Event, i})
			}
			mu.Lock()
			acked = append(acked, local...)
			lat = append(lat, llat...)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	res.Elapsed = time.Since(t0)
	stopProfile()
	res.CheckIns, res.Errors = len(acked), int(errs.Load())
	res.PerSec = float64(len(acked)) / res.Elapsed.Seconds()
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	say("sustained: %d check-ins in %v from %d pollbooks: %.0f/s (%.2f of the anchor), p50 %v, p99 %v, %d errors",
		res.CheckIns, res.Elapsed.Round(time.Millisecond), o.Pollbooks, res.PerSec, res.PerSec/res.FsyncPerSec,
		res.P50.Round(100*time.Microsecond), res.P99.Round(100*time.Microsecond), res.Errors)
	if first != nil {
		say("first error: %v", first)
	}

	// Re-try every voter from a second pollbook at the same place.
	var twice, refused atomic.Int64
	work := make(chan done, len(acked))
	for _, d := range acked {
		work <- d
	}
	close(work)
	for i := 0; i < o.Pollbooks; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				// The second pollbook: the next one at the same place.
				actor, site := rig.Pollbook(d.by + len(rig.County.Places))
				_, place, _ := pollbook.SitePlace(site)
				_, err := rig.Service.CheckIn(ctx, actor, vigil.CheckInRequest{Voter: d.voter, Site: site})
				if err == nil {
					twice.Add(1)
				} else if vigil.ErrorKind(err) == vigil.Conflict {
					refused.Add(1)
				}
				// A pollbook that never saw the check-in claims the empty subject.
				ev, _ := vigil.NewEvent(actor, vigil.EventCheckInRecorded, string(d.voter), time.Now(),
					vigil.CheckIn{Voter: d.voter, Election: rig.County.Election.ID, County: rig.County.County.ID,
						Place: place, Method: vigil.MethodInPerson})
				var zero uint64
				if _, err := rig.Node.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err == nil {
					twice.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.Retried, res.RetryRefused = len(acked), int(refused.Load())
	say("re-tried %d voters from a second pollbook: %d refused naming the first check-in, %d accepted again",
		res.Retried, res.RetryRefused, twice.Load())

	// Read the log back.
	inLog, fromLog, last, err := LogCheckIns(ctx, rig.Node.Log)
	if err != nil {
		return res, err
	}
	res.LogCheckIns = len(inLog)
	for _, d := range acked {
		if !inLog[d.event] {
			res.Lost++
		}
	}
	res.AcceptedTwice = max(int(twice.Load()), fromLog)
	say("log read back: %d entries, %d check-ins, %d voters checked in twice, %d acknowledged check-ins missing",
		last, res.LogCheckIns, fromLog, res.Lost)
	if o.BatchedClaims {
		b, err := BatchedClaims(ctx, rig.Node, o.Pollbooks, o.Duration)
		if err != nil {
			return res, err
		}
		res.Batched = &b
		say("bare claims, one per publish: %.0f/s (%.2f of the anchor); in atomic batches: %d claims, %.0f/s (%.2f of the anchor), %d batches, %d re-claims refused, %d accepted twice",
			b.SinglePerSec, b.SinglePerSec/res.FsyncPerSec, b.Claims, b.PerSec, b.PerSec/res.FsyncPerSec, b.Batches, b.Conflicts, b.AcceptedTwice)
	}
	return res, nil
}
