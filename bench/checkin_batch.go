package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

// Claims with and without atomic batches (nats/log_claims.go).
//
// A check-in is one claimed entry, and JetStream (SyncAlways) fsyncs each
// published message, so one publish per claim cannot go faster than the
// disk syncs. The log sends claims that queue up together as one atomic
// batch (one sync); BatchedClaims measures bare claims through the log with
// batching off and on, on the same node and in the same run, and checks
// that every re-claim of a claimed subject is refused.

// BatchedClaimsResult is what BatchedClaims measured.
type BatchedClaimsResult struct {
	Claims        int
	PerSec        float64
	SinglePerSec  float64 // the same bare claims one per publish, same node and run
	P99           time.Duration
	Batches       int
	FailedBatches int
	Conflicts     int // claims over an already-claimed subject refused (re-tries)
	AcceptedTwice int
}

// BatchedClaims claims distinct subjects from c goroutines for d, one
// publish per claim and then in atomic batches, then re-claims each
// batched subject once expecting it empty (all must fail).
func BatchedClaims(ctx context.Context, nd *node.Node, c int, d time.Duration) (BatchedClaimsResult, error) {
	var res BatchedClaimsResult
	l := nd.Log
	defer l.SetClaimBatching(true)
	claim := func(key string) error {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "bench", Role: vigil.RolePollWorker, Scope: vigil.ScopeState, Origin: "bench"},
			vigil.EventCheckInRecorded, key, time.Now(), nil)
		var zero uint64
		_, err := l.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		return err
	}
	var counter atomic.Int64
	l.SetClaimBatching(false)
	res.SinglePerSec, _ = run(ctx, c, d, func(int) error { return claim(fmt.Sprintf("SINGLE%08d", counter.Add(1))) }, 1)
	l.SetClaimBatching(true)
	stored0, resent0 := l.ClaimBatches()
	var keys sync.Map
	var lat []time.Duration
	res.PerSec, lat = run(ctx, c, d, func(int) error {
		k := fmt.Sprintf("BATCH%08d", counter.Add(1))
		if err := claim(k); err != nil {
			return err
		}
		keys.Store(k, true)
		return nil
	}, 1)
	res.P99 = percentile(lat, 0.99)
	stored, resent := l.ClaimBatches()
	res.Batches, res.FailedBatches = int(stored-stored0), int(resent-resent0)
	var all []string
	keys.Range(func(k, _ any) bool { all = append(all, k.(string)); return true })
	res.Claims = len(all)
	work := make(chan string, len(all))
	for _, k := range all {
		work <- k
	}
	close(work)
	var twice, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				err := claim(k)
				switch {
				case err == nil:
					twice.Add(1)
				case vigil.ErrorKind(err) == vigil.Conflict:
					conflicts.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.Conflicts, res.AcceptedTwice = int(conflicts.Load()), int(twice.Load())
	return res, nil
}
