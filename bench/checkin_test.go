package bench_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/bench"
)

// BenchmarkCheckIn: durable check-ins of distinct voters from 100
// concurrent pollbooks through the pollbook service (eligibility read,
// claim in the log, projection applied). One op is one check-in.
//
//	go test ./bench/ -run XXX -bench CheckIn -benchtime 5000x
func BenchmarkCheckIn(b *testing.B) {
	rig, err := bench.NewCheckInRig(b.Context(), b.TempDir(), b.N*11/10+200)
	if err != nil {
		b.Fatal(err)
	}
	defer rig.Node.Close()
	var voters []vigil.VoterID
	var sites []int
	for k, p := range rig.County.Places {
		for _, id := range rig.ByPlace[p.ID] {
			voters = append(voters, id)
			sites = append(sites, k)
		}
	}
	var next, pb atomic.Int64
	b.SetParallelism(50) // × GOMAXPROCS (2 here) ≈ 100 pollbooks
	b.ResetTimer()
	b.RunParallel(func(p *testing.PB) {
		me := int(pb.Add(1))
		for p.Next() {
			k := int(next.Add(1)) - 1
			if k >= len(voters) {
				b.Error("ran out of voters")
				return
			}
			// Pollbook me, moved to the voter's place.
			actor, site := rig.Pollbook(sites[k] + len(rig.County.Places)*me)
			if _, err := rig.Service.CheckIn(b.Context(), actor, vigil.CheckInRequest{Voter: voters[k], Site: site}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
}

// TestBatchedClaims checks the atomic-batch claim path on a scratch node:
// distinct claims all succeed, and every re-claim of a claimed subject is
// refused.
func TestBatchedClaims(t *testing.T) {
	rig, err := bench.NewCheckInRig(t.Context(), t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Node.Close()
	r, err := bench.BatchedClaims(t.Context(), rig.Node, 100, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d claims, %.0f/s, %d batches (%d failed), %d re-claims refused, %d accepted twice",
		r.Claims, r.PerSec, r.Batches, r.FailedBatches, r.Conflicts, r.AcceptedTwice)
	if r.Claims < 100 || r.AcceptedTwice != 0 || r.Conflicts != r.Claims {
		t.Fatalf("%+v", r)
	}
}
