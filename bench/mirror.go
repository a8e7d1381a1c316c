package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	"github.com/vigil-elections/vigil/node"
)

// MirrorOptions size the mirror benchmark.
type MirrorOptions struct {
	Dir         string        // an empty directory for the hub and the mirror
	Rate        int           // events per second offered to the primary
	Duration    time.Duration // length of the load
	Concurrency int           // concurrent appenders on the primary
}

// MirrorResult is what RunMirror measured. Lag is, per entry, the time
// from the primary acknowledging it (fsynced) to the mirror's follower
// receiving it from the mirror's own stream (stored and fsynced there):
// the recovery point an operator loses if the primary dies at that moment.
// The anchor is the same measurement on the primary's own stream: what
// delivering a stored entry to a consumer costs without the TLS link.
type MirrorResult struct {
	Events, Entries    int
	EventsPerSec       float64
	LagP50, LagP99     time.Duration
	LagMax             time.Duration
	LocalP50, LocalP99 time.Duration // anchor
	Drain              time.Duration // after the load: until the mirror held every entry
	// Resume: from the mirror's start (its server restarted after
	// initialisation) until it held a new entry of the hub.
	Resume time.Duration
}

// RunMirror runs a hub and a mirror in this process, linked over TLS on
// loopback exactly as `vigil serve` and `vigil mirror` are, offers the
// primary Rate events/s and measures the mirror's lag.
func RunMirror(ctx context.Context, o MirrorOptions, progress io.Writer) (MirrorResult, error) {
	var res MirrorResult
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	hubDir, mirDir := filepath.Join(o.Dir, "hub"), filepath.Join(o.Dir, "mirror")
	if _, err := node.Init(ctx, node.InitOptions{Dir: hubDir, Name: "bench-hub"}); err != nil {
		return res, err
	}
	listen, err := freeListenAddr("bench.mirror")
	if err != nil {
		return res, err
	}
	cred, err := node.AllowMirror(node.AllowMirrorOptions{Dir: hubDir, Name: "bench-mirror", Listen: listen})
	if err != nil {
		return res, err
	}
	hub, err := node.Open(ctx, node.Options{Dir: hubDir, Listen: true})
	if err != nil {
		return res, err
	}
	defer hub.Close()
	secrets, err := keyring.ReadSecretsKey(filepath.Join(hubDir, "keyring", "secrets.key"))
	if err != nil {
		return res, err
	}
	if _, err := node.InitMirror(ctx, node.MirrorInitOptions{Dir: mirDir, Hub: listen, Credential: cred, SecretsKey: secrets}); err != nil {
		return res, err
	}
	mir, err := node.Open(ctx, node.Options{Dir: mirDir, Listen: true, Mirror: true})
	if err != nil {
		return res, err
	}
	defer mir.Close()
	// Warm up: the mirror's consumer on the hub is set up when the link
	// comes up; measure the steady state, not the first connection.
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	opened := time.Now()
	for warm := time.Now(); res.Resume == 0 || time.Since(warm) < 2*time.Second; {
		seq, err := hub.Log.Append(wctx, []vigil.Event{event(-1)}, vigil.AppendOptions{})
		if err == nil {
			err = mir.WaitApplied(wctx, seq)
		}
		if err != nil {
			return res, vigil.Errorf(vigil.Unavailable, "bench.mirror", "the mirror did not start following the hub: %v", err)
		}
		if res.Resume == 0 {
			res.Resume, warm = time.Since(opened), time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	say("hub and mirror linked over TLS at %s; offering %d events/s for %v", listen, o.Rate, o.Duration)

	var mu sync.Mutex
	acked := map[uint64]time.Time{}    // entry -> first acknowledgement on the primary
	mirrored := map[uint64]time.Time{} // entry -> received from the mirror's stream
	local := map[uint64]time.Time{}    // entry -> received from the primary's stream (anchor)
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	var fwg sync.WaitGroup
	follow := func(n *node.Node, into map[uint64]time.Time) {
		defer fwg.Done()
		n.Log.Follow(fctx, 1, func(seq uint64, _ []byte) error {
			now := time.Now()
			mu.Lock()
			into[seq] = now
			mu.Unlock()
			return nil
		})
	}
	fwg.Add(2)
	go follow(mir, mirrored)
	go follow(hub, local)

	total := int(float64(o.Rate) * o.Duration.Seconds())
	interval := time.Second / time.Duration(o.Rate)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
					time.Sleep(d)
				}
				seq, err := hub.Log.Append(ctx, []vigil.Event{event(i)}, vigil.AppendOptions{})
				now := time.Now()
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				if t, ok := acked[seq]; !ok || now.Before(t) {
					acked[seq] = now
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		return res, vigil.Errorf(vigil.Unavailable, "bench.mirror", "%d appends failed", f)
	}
	last, err := hub.Log.LastSeq(ctx)
	if err != nil {
		return res, err
	}
	drainStart := time.Now()
	for {
		mu.Lock()
		_, done := mirrored[last]
		mu.Unlock()
		if done {
			break
		}
		if time.Since(drainStart) > time.Minute {
			return res, vigil.Errorf(vigil.Unavailable, "bench.mirror", "the mirror did not catch up within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.Drain = time.Since(drainStart)
	time.Sleep(50 * time.Millisecond)
	stop()
	fwg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var lags, locals []time.Duration
	for seq, t := range acked {
		if m, ok := mirrored[seq]; ok {
			lags = append(lags, max(m.Sub(t), 0))
		}
		if l, ok := local[seq]; ok {
			locals = append(locals, max(l.Sub(t), 0))
		}
	}
	if len(lags) == 0 {
		return res, vigil.Errorf(vigil.Unavailable, "bench.mirror", "no entry was mirrored")
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	res.Events, res.Entries = total, len(acked)
	res.EventsPerSec = float64(total) / elapsed.Seconds()
	res.LagP50, res.LagP99, res.LagMax = pct(lags, 0.50), pct(lags, 0.99), pct(lags, 1)
	res.LocalP50, res.LocalP99 = pct(locals, 0.50), pct(locals, 0.99)
	return res, nil
}
