package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
)

// Claims in atomic batches: a measurement, not yet the log's write path.
//
// A check-in is one claimed entry, and JetStream (SyncAlways) fsyncs each
// published message, so one node cannot claim faster than its disk syncs
// (about 0.7 of the anchor, see BENCHMARKS.md). JetStream's atomic batch
// publish (nats-server 2.12+, stream option AllowAtomicPublish) stores a
// batch of messages all-or-nothing with one coalesced sync, and checks each
// message's Nats-Expected-Last-Subject-Sequence. So claims from many
// pollbooks can share one fsync and still each be its own entry (its own
// Merkle leaf, on its own subject). A batch with one stale claim fails as a
// whole; its claims are then published one by one, so a conflict costs the
// others only a retry. BatchedClaims measures that path on a scratch node.

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

// claimBatcher sends queued claims as atomic batches, one at a time.
type claimBatcher struct {
	nc      *natsgo.Conn
	queue   chan *claimReq
	batches atomic.Int64
	failed  atomic.Int64
}

type claimReq struct {
	ev     vigil.Event
	expect uint64
	done   chan error
	seq    uint64
}

const maxClaimBatch = 256

func (b *claimBatcher) run(ctx context.Context) {
	for {
		var batch []*claimReq
		select {
		case r := <-b.queue:
			batch = append(batch, r)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < maxClaimBatch {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.batches.Add(1)
		if len(batch) == 1 {
			batch[0].done <- b.publishOne(ctx, batch[0])
			continue
		}
		if err := b.publishBatch(ctx, batch); err != nil {
			// One stale claim fails the whole batch: claim one by one.
			b.failed.Add(1)
			for _, r := range batch {
				r.done <- b.publishOne(ctx, r)
			}
			continue
		}
		for _, r := range batch {
			r.done <- nil
		}
	}
}

func (b *claimBatcher) msg(r *claimReq) (*natsgo.Msg, error) {
	data, err := vigil.MarshalEntry([]vigil.Event{r.ev})
	if err != nil {
		return nil, err
	}
	m := natsgo.NewMsg(vnats.Subject(r.ev))
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, r.ev.ID)
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(r.expect, 10))
	return m, nil
}

func (b *claimBatcher) publishOne(ctx context.Context, r *claimReq) error {
	m, err := b.msg(r)
	if err != nil {
		return err
	}
	resp, err := b.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return err
	}
	return ackErr(resp.Data, &r.seq)
}

func (b *claimBatcher) publishBatch(ctx context.Context, batch []*claimReq) error {
	id := vigil.NewEventID()
	var last *natsgo.Msg
	for i, r := range batch {
		m, err := b.msg(r)
		if err != nil {
			return err
		}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(batch)-1 {
			m.Header.Set("Nats-Batch-Commit", "1")
			last = m
			break
		}
		if err := b.nc.PublishMsg(m); err != nil {
			return err
		}
	}
	resp, err := b.nc.RequestMsgWithContext(ctx, last)
	if err != nil {
		return err
	}
	var seq uint64
	if err := ackErr(resp.Data, &seq); err != nil {
		return err
	}
	for i, r := range batch {
		r.seq = seq - uint64(len(batch)-1-i)
	}
	return nil
}

func ackErr(data []byte, seq *uint64) error {
	var ack struct {
		Seq   uint64              `json:"seq"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(data, &ack); err != nil {
		return err
	}
	if ack.Error != nil {
		if ack.Error.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return vigil.Errorf(vigil.Conflict, "claim", "claimed first by another")
		}
		return ack.Error
	}
	*seq = ack.Seq
	return nil
}

// BatchedClaims claims n distinct subjects from c goroutines through atomic
// batches on nd (whose EVENTS stream it switches to AllowAtomicPublish),
// then re-claims each once expecting the subject empty (all must fail).
func BatchedClaims(ctx context.Context, nd *node.Node, c int, d time.Duration) (BatchedClaimsResult, error) {
	var res BatchedClaimsResult
	st, err := nd.JS.Stream(ctx, vnats.EventsStream)
	if err != nil {
		return res, err
	}
	cfg := st.CachedInfo().Config
	cfg.AllowAtomicPublish = true
	if _, err := nd.JS.UpdateStream(ctx, cfg); err != nil {
		return res, fmt.Errorf("allowing atomic publish: %w", err)
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &claimBatcher{nc: nd.NC, queue: make(chan *claimReq, 4096)}
	go b.run(bctx)
	claim := func(key string, expect uint64) error {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "bench", Role: vigil.RolePollWorker, Scope: vigil.ScopeState, Origin: "bench"},
			vigil.EventCheckInRecorded, key, time.Now(), map[string]string{"voter": key})
		r := &claimReq{ev: ev, expect: expect, done: make(chan error, 1)}
		b.queue <- r
		return <-r.done
	}
	var counter atomic.Int64
	res.SinglePerSec, _ = run(ctx, c, d, func(i int) error {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "bench", Role: vigil.RolePollWorker, Scope: vigil.ScopeState, Origin: "bench"},
			vigil.EventCheckInRecorded, fmt.Sprintf("SINGLE%08d", counter.Add(1)), time.Now(), nil)
		var zero uint64
		_, err := nd.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		return err
	}, 1)
	var keys sync.Map
	res.PerSec, _ = run(ctx, c, d, func(i int) error {
		k := fmt.Sprintf("BATCH%08d", counter.Add(1))
		if err := claim(k, 0); err != nil {
			return err
		}
		keys.Store(k, true)
		return nil
	}, 1)
	var twice, conflicts atomic.Int64
	var all []string
	keys.Range(func(k, _ any) bool { all = append(all, k.(string)); return true })
	res.Claims = len(all)
	work := make(chan string, len(all))
	for _, k := range all {
		work <- k
	}
	close(work)
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				err := claim(k, 0)
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
	res.Batches, res.FailedBatches = int(b.batches.Load()), int(b.failed.Load())
	res.Conflicts, res.AcceptedTwice = int(conflicts.Load()), int(twice.Load())
	return res, nil
}
