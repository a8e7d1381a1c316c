// Package bench measures vigil against the targets in its issues; `vigil
// bench …` runs it and docs/BENCHMARKS.md records the results. Every
// measurement is paired with an anchor measured in the same run (here: the
// disk's own rate of synchronous writes) and reported as a ratio.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

// LogOptions size the log benchmark.
type LogOptions struct {
	Dir         string        // an empty directory to build the node in
	Duration    time.Duration // per append phase
	Concurrency int           // concurrent appenders (simulated clients)
	Batch       int           // events per Append in the batched phase
	VerifyN     int           // events in the log for the verify and ready phases
}

// LogResult is what RunLog measured.
type LogResult struct {
	FsyncPerSec     float64 // anchor: 256-byte write+fdatasync pairs per second
	SingleEntryPerS float64 // one event per entry, one fsync each (claims)
	GroupPerSec     float64 // single-event appends from many clients, group-committed
	GroupP99        time.Duration
	BatchedPerSec   float64 // Append of Batch events at a time
	VerifyEvents    int
	VerifyEntries   uint64
	VerifyTime      time.Duration
	ReadyTime       time.Duration
	VerifyOK        bool
}

func event(i int) vigil.Event {
	ev, _ := vigil.NewEvent(vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "bench"},
		"bench.appended", fmt.Sprintf("k%d", i), time.Now(), map[string]int{"n": i})
	return ev
}

// RunLog measures durable appends, verification and start-up.
func RunLog(ctx context.Context, o LogOptions, progress io.Writer) (LogResult, error) {
	var res LogResult
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	dir := filepath.Join(o.Dir, "node")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "bench"}); err != nil {
		return res, err
	}
	var err error
	if res.FsyncPerSec, err = fsyncRate(o.Dir, o.Duration); err != nil {
		return res, err
	}
	say("anchor: %.0f synchronous 256-byte writes/s on this disk", res.FsyncPerSec)
	n, err := node.Open(ctx, node.Options{Dir: dir})
	if err != nil {
		return res, err
	}
	defer func() {
		if n != nil {
			n.Close()
		}
	}()
	var counter atomic.Int64
	// Phase 1: every event its own entry and its own fsync (a claim).
	res.SingleEntryPerS, _ = run(ctx, o.Concurrency, o.Duration, func(i int) error {
		var zero uint64
		ev := event(int(counter.Add(1)))
		_, err := n.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		return err
	}, 1)
	say("one entry per event: %.0f events/s (%.2f of the disk's sync rate)", res.SingleEntryPerS, res.SingleEntryPerS/res.FsyncPerSec)
	// Phase 2: single-event appends, group-committed.
	var lat []time.Duration
	res.GroupPerSec, lat = run(ctx, o.Concurrency, o.Duration, func(i int) error {
		_, err := n.Log.Append(ctx, []vigil.Event{event(int(counter.Add(1)))}, vigil.AppendOptions{})
		return err
	}, 1)
	res.GroupP99 = percentile(lat, 0.99)
	say("group commit, %d clients: %.0f events/s, p99 %v", o.Concurrency, res.GroupPerSec, res.GroupP99)
	// Phase 3: batches.
	res.BatchedPerSec, _ = run(ctx, max(1, o.Concurrency/10), o.Duration, func(i int) error {
		evs := make([]vigil.Event, o.Batch)
		for j := range evs {
			evs[j] = event(int(counter.Add(1)))
		}
		_, err := n.Log.Append(ctx, evs, vigil.AppendOptions{})
		return err
	}, o.Batch)
	say("batched (%d per append): %.0f events/s", o.Batch, res.BatchedPerSec)
	// Fill to VerifyN events, then verify and restart.
	have := int(counter.Load())
	for have < o.VerifyN {
		k := min(1000, o.VerifyN-have)
		evs := make([]vigil.Event, k)
		for j := range evs {
			evs[j] = event(have + j)
		}
		if _, err := n.Log.Append(ctx, evs, vigil.AppendOptions{}); err != nil {
			return res, err
		}
		have += k
	}
	if err := n.WaitApplied(ctx, mustLast(ctx, n)); err != nil {
		return res, err
	}
	if err := n.Close(); err != nil {
		return res, err
	}
	n = nil
	start := time.Now()
	n2, err := node.Open(ctx, node.Options{Dir: dir})
	if err != nil {
		return res, err
	}
	res.ReadyTime = time.Since(start)
	n = n2
	start = time.Now()
	rep, err := n.VerifyLog(ctx, nil)
	if err != nil {
		return res, err
	}
	res.VerifyTime = time.Since(start)
	res.VerifyEvents, res.VerifyEntries, res.VerifyOK = rep.Events, rep.Entries, rep.OK()
	say("log verify: %d events in %d entries in %v (ok=%v); ready after restart in %v",
		rep.Events, rep.Entries, res.VerifyTime.Round(time.Millisecond), rep.OK(), res.ReadyTime.Round(time.Millisecond))
	return res, nil
}

func mustLast(ctx context.Context, n *node.Node) uint64 {
	last, _ := n.Log.LastSeq(ctx)
	return last
}

// run calls op from c goroutines for d and returns units/s and latencies.
func run(ctx context.Context, c int, d time.Duration, op func(i int) error, unitsPerOp int) (float64, []time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	var ops atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local []time.Duration
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t := time.Now()
				if err := op(i); err != nil {
					continue
				}
				local = append(local, time.Since(t))
				ops.Add(1)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return float64(ops.Load()*int64(unitsPerOp)) / time.Since(start).Seconds(), lat
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// fsyncRate is the anchor: how many 256-byte append+fdatasync pairs the
// disk under dir completes per second from one writer.
func fsyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-anchor-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 256)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
