package nats

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// Claims in atomic batches (decision 0002, issue 4's 5,000 check-ins/s).
//
// A claim (an append with ExpectSubjectSeq) cannot be merged into another
// entry the way group commit merges plain appends: its check is per
// subject, and the entry must stay one event under the voter's subject. One
// publish per claim costs one fsync per claim. JetStream's atomic batch
// publish (nats-server >= 2.12, stream option AllowAtomicPublish) stores a
// batch of messages all-or-nothing with one sync, each message keeping its
// own subject, sequence and expected-last-subject-sequence check. So claims
// that queue up while the previous batch is being stored go out together as
// the next batch. A batch that fails (a lost claim in it, or no answer) is
// re-sent claim by claim, so each claim gets its own answer and a lost one
// fails alone; Nats-Msg-Id makes a re-sent claim that was stored already
// acknowledged with its original sequence.

// maxClaimBatch bounds a batch: the server accepts up to 1,000 messages.
const maxClaimBatch = 256

type claimReq struct {
	ctx    context.Context
	ev     vigil.Event
	expect uint64
	done   chan claimResp
}

type claimResp struct {
	seq uint64
	err error
}

// allowAtomic turns atomic batches on for the EVENTS stream (an existing
// store is updated once). A stream that cannot take them (a mirror, an
// external cluster that refuses the update) keeps one publish per claim.
func (l *Log) allowAtomic(ctx context.Context) {
	cfg := l.stream.CachedInfo().Config
	if cfg.Mirror != nil {
		return
	}
	if !cfg.AllowAtomicPublish {
		cfg.AllowAtomicPublish = true
		st, err := l.js.UpdateStream(ctx, cfg)
		if err != nil {
			return
		}
		l.stream = st
	}
	l.claims = make(chan claimReq, 4096)
	l.wg.Add(1)
	go l.claimCommitter()
}

// SetClaimBatching switches atomic claim batches off (false) or back on,
// for benchmarks that compare the two; it is on by default where the
// stream allows it.
func (l *Log) SetClaimBatching(on bool) { l.noBatch.Store(!on) }

// ClaimBatches counts the batches of claims stored atomically and those
// that failed and were re-sent claim by claim.
func (l *Log) ClaimBatches() (stored, resent int64) { return l.batches.Load(), l.resent.Load() }

func (l *Log) appendClaim(ctx context.Context, ev vigil.Event, expect uint64) (uint64, error) {
	if l.claims == nil || l.noBatch.Load() {
		return l.publish(ctx, Subject(ev), []vigil.Event{ev}, &expect)
	}
	req := claimReq{ctx: ctx, ev: ev, expect: expect, done: make(chan claimResp, 1)}
	select {
	case l.claims <- req:
	case <-ctx.Done():
		return 0, vigil.Wrap("log.append", vigil.Unavailable, ctx.Err())
	case <-l.stop:
		return 0, vigil.Errorf(vigil.Unavailable, "log.append", "the log is closing")
	}
	select {
	case r := <-req.done:
		return r.seq, r.err
	case <-l.stop:
		return 0, vigil.Errorf(vigil.Unavailable, "log.append", "the log closed before the claim was acknowledged")
	case <-ctx.Done():
		// The claim may still be stored; a retry is deduplicated by id.
		return 0, vigil.Wrap("log.append", vigil.Unavailable, ctx.Err())
	}
}

// claimCommitter sends queued claims, batching whatever queued up while the
// previous batch was being stored.
func (l *Log) claimCommitter() {
	defer l.wg.Done()
	for {
		var batch []claimReq
		select {
		case r := <-l.claims:
			batch = append(batch, r)
		case <-l.stop:
			return
		}
		size := approxSize([]vigil.Event{batch[0].ev})
	drain:
		for len(batch) < maxClaimBatch && size < maxGroupBytes {
			select {
			case r := <-l.claims:
				batch = append(batch, r)
				size += approxSize([]vigil.Event{r.ev})
			default:
				break drain
			}
		}
		// Two claims of one subject in a batch would fail it whole: the
		// later ones go on their own, after it.
		var later []claimReq
		if len(batch) > 1 {
			subjects := make(map[string]bool, len(batch))
			first := batch[:0]
			for _, r := range batch {
				if sub := Subject(r.ev); subjects[sub] {
					later = append(later, r)
				} else {
					subjects[sub] = true
					first = append(first, r)
				}
			}
			batch = first
		}
		if len(batch) > 1 {
			seqs, err := l.publishClaimBatch(batch)
			if err == nil {
				l.batches.Add(1)
				for i, r := range batch {
					r.done <- claimResp{seq: seqs[i]}
				}
				batch = nil
			} else {
				l.resent.Add(1)
			}
		}
		l.publishEach(batch)
		l.publishEach(later)
	}
}

// publishEach sends claims one publish each, concurrently: each gets its
// own answer.
func (l *Log) publishEach(claims []claimReq) {
	var wg sync.WaitGroup
	for _, r := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.ctx.Err() != nil {
				r.done <- claimResp{err: vigil.Wrap("log.append", vigil.Unavailable, r.ctx.Err())}
				return
			}
			seq, err := l.publish(r.ctx, Subject(r.ev), []vigil.Event{r.ev}, &r.expect)
			r.done <- claimResp{seq: seq, err: err}
		}()
	}
	wg.Wait()
}

// publishClaimBatch stores batch atomically and returns each claim's
// sequence.
func (l *Log) publishClaimBatch(batch []claimReq) ([]uint64, error) {
	nc := l.js.Conn()
	id := vigil.NewEventID()
	var commit *natsgo.Msg
	for i, r := range batch {
		data, err := vigil.MarshalEntry([]vigil.Event{r.ev})
		if err != nil {
			return nil, err
		}
		m := natsgo.NewMsg(Subject(r.ev))
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, r.ev.ID)
		m.Header.Set(jetstream.ExpectedStreamHeader, EventsStream)
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(r.expect, 10))
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(batch)-1 {
			m.Header.Set("Nats-Batch-Commit", "1")
			commit = m
			break
		}
		if err := nc.PublishMsg(m); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(l.life, publishAttemptTimeout)
	defer cancel()
	resp, err := nc.RequestMsgWithContext(ctx, commit)
	if err != nil {
		return nil, err
	}
	var ack struct {
		Seq   uint64              `json:"seq"`
		Count int                 `json:"count"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return nil, err
	}
	if ack.Error != nil {
		return nil, ack.Error
	}
	if ack.Count != 0 && ack.Count != len(batch) || ack.Seq < uint64(len(batch)) {
		return nil, vigil.Errorf(vigil.Integrity, "log.append", "the batch ack names %d messages ending at %d, not %d", ack.Count, ack.Seq, len(batch))
	}
	seqs := make([]uint64, len(batch))
	for i := range batch {
		seqs[i] = ack.Seq - uint64(len(batch)-1-i)
	}
	return seqs, nil
}
