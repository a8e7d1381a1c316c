package node_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

func benchEvent(i int) vigil.Event {
	ev, _ := vigil.NewEvent(vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "bench"},
		"bench.appended", fmt.Sprintf("k%d", i), time.Now(), map[string]int{"n": i})
	return ev
}

// BenchmarkAppendGroupCommit: single-event appends from many goroutines,
// each durable (fsynced) before it returns; concurrent appends share fsyncs.
func BenchmarkAppendGroupCommit(b *testing.B) {
	n := MustOpenB(b, MustInitB(b))
	defer n.Close()
	b.SetParallelism(50) // 50 × GOMAXPROCS clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := n.Log.Append(b.Context(), []vigil.Event{benchEvent(i)}, vigil.AppendOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendClaim: one event per entry with a subject claim: one fsync
// per event, the pollbook check-in path.
func BenchmarkAppendClaim(b *testing.B) {
	n := MustOpenB(b, MustInitB(b))
	defer n.Close()
	b.SetParallelism(50)
	var ctr = make(chan int, 1)
	ctr <- 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := <-ctr
			ctr <- i + 1
			var zero uint64
			if _, err := n.Log.Append(b.Context(), []vigil.Event{benchEvent(i)}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendBatch100: 100 events per append, 5 appenders.
func BenchmarkAppendBatch100(b *testing.B) {
	n := MustOpenB(b, MustInitB(b))
	defer n.Close()
	b.SetParallelism(3)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		evs := make([]vigil.Event, 100)
		for pb.Next() {
			for j := range evs {
				evs[j] = benchEvent(j)
			}
			if _, err := n.Log.Append(b.Context(), evs, vigil.AppendOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

func MustInitB(b *testing.B) string {
	dir := b.TempDir() + "/data"
	if _, err := node.Init(b.Context(), node.InitOptions{Dir: dir, Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	return dir
}

func MustOpenB(b *testing.B, dir string) *node.Node {
	n, err := node.Open(b.Context(), node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
