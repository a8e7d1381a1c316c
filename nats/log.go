package nats

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// Log is the event log on the EVENTS stream.
type Log struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	LogID  string

	group   chan groupReq // group commit of unkeyed appends
	claims  chan claimReq // atomic batches of claims (log_claims.go); nil: one publish each
	noBatch atomic.Bool
	batches atomic.Int64 // claim batches stored atomically
	resent  atomic.Int64 // claim batches re-sent claim by claim
	stop    chan struct{}
	life    context.Context // cancelled by Close: ends an in-flight publish
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closing sync.Once
}

// OpenLog binds to the EVENTS stream, which must exist (see CheckStreams).
func OpenLog(ctx context.Context, js jetstream.JetStream) (*Log, error) {
	logID, err := CheckStreams(ctx, js)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return nil, vigil.Wrap("nats.open_log", vigil.Unavailable, err)
	}
	l := &Log{js: js, stream: st, LogID: logID, group: make(chan groupReq, 4096), stop: make(chan struct{})}
	l.life, l.cancel = context.WithCancel(context.Background())
	l.wg.Add(1)
	go l.groupCommitter()
	l.allowAtomic(ctx)
	return l, nil
}

// Close stops the group committer; pending appends fail with Unavailable.
func (l *Log) Close() {
	l.closing.Do(func() {
		l.cancel()
		close(l.stop)
	})
	l.wg.Wait()
}

var plainToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// SubjectToken encodes a key as one NATS subject token.
func SubjectToken(key string) string {
	if key == "" {
		return "_"
	}
	if plainToken.MatchString(key) {
		return key
	}
	return "=" + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// ReadBufferBytes bounds what a reader of the log buffers ahead. A bound in
// messages (it was 4,096-8,192) let a reader of voter-import entries (2-4
// MiB each) buffer gigabytes: memory then grew with the size of the data.
const ReadBufferBytes = 64 << 20

// Subject is the subject an event is stored under: ev.<noun>.<key>. All
// events about one object share a subject, so a claim on it is atomic.
func Subject(ev vigil.Event) string {
	noun, _, _ := strings.Cut(string(ev.Type), ".")
	return "ev." + SubjectToken(noun) + "." + SubjectToken(ev.Key)
}

// Append stores events as one entry and returns its sequence number, which
// is also its leaf index + 1 in the Merkle tree.
//
// A single event is stored under its own subject. Several events are stored
// atomically under ev.batch. Entries without ExpectSubjectSeq may be merged
// with concurrent appends into one entry (group commit): one fsync then
// covers many events. Errors: Invalid, Conflict (claim lost), Unavailable.
func (l *Log) Append(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	const op = "log.append"
	if len(events) == 0 {
		return 0, vigil.Errorf(vigil.Invalid, op, "no events to append")
	}
	for _, ev := range events {
		if err := ev.Validate(); err != nil {
			return 0, err
		}
	}
	if o.ExpectSubjectSeq == nil {
		return l.appendGrouped(ctx, events)
	}
	if len(events) != 1 {
		return 0, vigil.Errorf(vigil.Invalid, op, "a claim appends exactly one event")
	}
	return l.appendClaim(ctx, events[0], *o.ExpectSubjectSeq)
}

func (l *Log) publish(ctx context.Context, subject string, events []vigil.Event, expect *uint64) (uint64, error) {
	const op = "log.append"
	data, err := vigil.MarshalEntry(events)
	if err != nil {
		return 0, err
	}
	msg := natsgo.NewMsg(subject)
	msg.Data = data
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(entryID(events)), jetstream.WithExpectStream(EventsStream)}
	if expect != nil {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*expect))
	}
	var ack *jetstream.PubAck
	for attempt := 0; ; attempt++ {
		// Bound each attempt: a publish that reaches the cluster while the
		// stream has no leader (a server was killed, an election is under
		// way) is never answered, and waiting for it until ctx ends would
		// stall every append queued behind it.
		actx, cancel := context.WithTimeout(ctx, publishAttemptTimeout)
		ack, err = l.js.PublishMsg(actx, msg, opts...)
		cancel()
		if err == nil {
			break
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return 0, &vigil.Error{Op: op, Kind: vigil.Conflict, Message: "another entry claimed this first", Err: err}
		}
		// No response: the server may be electing a leader or restarting.
		// Retrying with the same Nats-Msg-Id cannot store the entry twice.
		// "In process": an earlier attempt is still being stored; a later
		// retry is acknowledged with its sequence.
		if (errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, natsgo.ErrTimeout) ||
			errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(err, natsgo.ErrNoResponders) || errors.Is(err, natsgo.ErrConnectionReconnecting) ||
			apiErr != nil && apiErr.ErrorCode == errCodeDuplicateInProcess) &&
			ctx.Err() == nil && attempt < 50 {
			select {
			case <-time.After(100 * time.Millisecond):
				continue
			case <-ctx.Done():
			}
		}
		return 0, &vigil.Error{Op: op, Kind: vigil.Unavailable, Message: "the event log did not acknowledge the write; retry", Err: err}
	}
	return ack.Sequence, nil
}

// publishAttemptTimeout bounds one publish attempt. A healthy cluster
// answers in milliseconds; a retry of a slow attempt is deduplicated by
// Nats-Msg-Id and acknowledged with the original sequence.
const publishAttemptTimeout = 2 * time.Second

// errCodeDuplicateInProcess is JetStream's JSStreamDuplicateMessageConflict
// ("duplicate message id is in process"), which nats.go does not name.
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

// entryID is the entry's Nats-Msg-Id: a retry of the same entry is stored once.
func entryID(events []vigil.Event) string {
	if len(events) == 1 {
		return events[0].ID
	}
	return fmt.Sprintf("b%d:%s", len(events), events[0].ID)
}

type groupReq struct {
	ctx    context.Context
	events []vigil.Event
	done   chan groupResp
}

type groupResp struct {
	seq uint64
	err error
}

const maxGroupEvents = 1024

func (l *Log) appendGrouped(ctx context.Context, events []vigil.Event) (uint64, error) {
	req := groupReq{ctx: ctx, events: events, done: make(chan groupResp, 1)}
	select {
	case l.group <- req:
	case <-ctx.Done():
		return 0, vigil.Wrap("log.append", vigil.Unavailable, ctx.Err())
	case <-l.stop:
		return 0, vigil.Errorf(vigil.Unavailable, "log.append", "the log is closing")
	}
	select {
	case r := <-req.done:
		return r.seq, r.err
	case <-l.stop:
		// Closed while queued: the entry may or may not have been stored.
		return 0, vigil.Errorf(vigil.Unavailable, "log.append", "the log closed before the write was acknowledged")
	case <-ctx.Done():
		// The entry may still be stored; the caller's retry is deduplicated
		// by event id in the projections.
		return 0, vigil.Wrap("log.append", vigil.Unavailable, ctx.Err())
	}
}

// groupCommitter publishes queued appends, merging whatever queued up while
// the previous publish was being fsynced into the next entry.
func (l *Log) groupCommitter() {
	defer l.wg.Done()
	var carry *groupReq // a request that did not fit the previous entry
	for {
		var batch []groupReq
		if carry != nil {
			batch, carry = append(batch, *carry), nil
		} else {
			select {
			case r := <-l.group:
				batch = append(batch, r)
			case <-l.stop:
				return
			}
		}
		n, size := len(batch[0].events), approxSize(batch[0].events)
	drain:
		for n < maxGroupEvents {
			select {
			case r := <-l.group:
				// Keep entries well under the stream's message size limit.
				if sz := approxSize(r.events); size+sz > maxGroupBytes {
					carry = &r
					break drain
				} else {
					size += sz
				}
				batch = append(batch, r)
				n += len(r.events)
			default:
				break drain
			}
		}
		var events []vigil.Event
		for _, r := range batch {
			events = append(events, r.events...)
		}
		subject := "ev.batch._"
		if len(events) == 1 {
			subject = Subject(events[0])
		}
		ctx, cancel := context.WithTimeout(l.life, 30*time.Second)
		seq, err := l.publish(ctx, subject, events, nil)
		cancel()
		for _, r := range batch {
			r.done <- groupResp{seq: seq, err: err}
		}
	}
}

// maxGroupBytes bounds a merged entry; one append alone may be larger (up
// to the stream's 8 MiB message limit).
const maxGroupBytes = 2 << 20

// approxSize estimates the encoded size of events: their payloads plus the
// envelope fields.
func approxSize(events []vigil.Event) int {
	n := 0
	for _, ev := range events {
		n += len(ev.Payload) + len(ev.Key) + len(ev.Actor) + len(ev.Scope) + 200
	}
	return n
}

// LastSeq returns the sequence of the newest entry (0 when empty).
func (l *Log) LastSeq(ctx context.Context) (uint64, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return 0, vigil.Wrap("log.last_seq", vigil.Unavailable, err)
	}
	return info.State.LastSeq, nil
}

// State returns the stream's message count and first and last sequence.
func (l *Log) State(ctx context.Context) (msgs, first, last uint64, err error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return 0, 0, 0, vigil.Wrap("log.state", vigil.Unavailable, err)
	}
	return info.State.Msgs, info.State.FirstSeq, info.State.LastSeq, nil
}

// Get returns the stored bytes of entry seq. Errors: NotFound.
func (l *Log) Get(ctx context.Context, seq uint64) ([]byte, error) {
	data, err := getMsg(ctx, l.js, l.stream, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, vigil.Errorf(vigil.NotFound, "log.get", "no entry %d", seq)
	}
	if err != nil {
		return nil, vigil.Wrap("log.get", vigil.Unavailable, err)
	}
	return data, nil
}

// getMsg reads message seq of st. The streams allow direct gets, which any
// replica answers — including one that has not applied seq yet (it was
// restarted, or is a moment behind), whose "not found" proves nothing. So
// "not found" is believed only when the stream leader says it too.
func getMsg(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, seq uint64) ([]byte, error) {
	m, err := st.GetMsg(ctx, seq)
	if err == nil {
		return m.Data, nil
	}
	cfg := st.CachedInfo().Config
	if !errors.Is(err, jetstream.ErrMsgNotFound) || !cfg.AllowDirect {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	req, err := json.Marshal(struct {
		Seq uint64 `json:"seq"`
	}{seq})
	if err != nil {
		return nil, err
	}
	// The non-direct get API is answered by the stream leader only.
	resp, err := js.Conn().RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+cfg.Name, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		Message *struct {
			Data []byte `json:"data"`
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Error != nil && r.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, jetstream.ErrMsgNotFound
	case r.Error != nil:
		return nil, r.Error
	case r.Message == nil:
		return nil, jetstream.ErrInvalidJetStreamResponse
	}
	return r.Message.Data, nil
}

// Read calls fn for every entry from sequence from through to, in order.
// It stops at the first error fn returns. A gap (an entry that cannot be
// read) is reported as Integrity naming the missing sequence.
func (l *Log) Read(ctx context.Context, from, to uint64, fn func(seq uint64, data []byte) error) error {
	const op = "log.read"
	if from == 0 {
		from = 1
	}
	if to < from {
		return nil
	}
	var it jetstream.MessagesContext
	open := func(at uint64) error {
		if it != nil {
			it.Stop()
		}
		cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: at,
		})
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		it, err = cons.Messages(jetstream.PullMaxBytes(ReadBufferBytes))
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := open(from); err != nil {
		return err
	}
	defer func() { it.Stop() }()
	want, stalls := from, 0
	for want <= to {
		// A message the store cannot read is never delivered; after a
		// pause, ask for it directly to learn whether it is gone.
		wait, cancel := context.WithTimeout(ctx, readStall)
		msg, err := nextWithContext(wait, it)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			if _, gerr := l.Get(ctx, want); vigil.ErrorKind(gerr) == vigil.NotFound {
				return &vigil.Error{Op: op, Kind: vigil.Integrity,
					Message: fmt.Sprintf("entry %d is missing from the stored log", want)}
			} else if gerr == nil {
				// It exists: delivery is slow (a loaded cluster), or the
				// consumer lost its way after a leader change and will
				// never deliver it. Start a new one there; give up (the
				// caller retries) if that keeps happening.
				if stalls++; stalls > maxReadStalls {
					return vigil.Errorf(vigil.Unavailable, op, "the log stopped delivering entries at %d; retry", want)
				}
				if err := open(want); err != nil {
					return err
				}
				continue
			}
		}
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return vigil.Wrap(op, vigil.Other, err)
		}
		seq := md.Sequence.Stream
		if seq != want {
			return &vigil.Error{Op: op, Kind: vigil.Integrity,
				Message: fmt.Sprintf("entry %d is missing from the stored log (next readable entry is %d)", want, seq)}
		}
		if err := fn(seq, msg.Data()); err != nil {
			return err
		}
		want, stalls = want+1, 0
	}
	return nil
}

// maxReadStalls bounds how often Read starts a new consumer for an entry
// that exists but is not delivered.
const maxReadStalls = 6

// readStall is how long Read waits for the next entry before checking
// whether it exists at all.
const readStall = 5 * time.Second

func nextWithContext(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	return it.Next(jetstream.NextContext(ctx))
}

// Follow calls fn for every entry from sequence from on, as entries arrive,
// until ctx is done.
func (l *Log) Follow(ctx context.Context, from uint64, fn func(seq uint64, data []byte) error) error {
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(from, 1),
	})
	if err != nil {
		return vigil.Wrap("log.follow", vigil.Unavailable, err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(ReadBufferBytes))
	if err != nil {
		return vigil.Wrap("log.follow", vigil.Unavailable, err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return vigil.Wrap("log.follow", vigil.Unavailable, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		if err := fn(md.Sequence.Stream, msg.Data()); err != nil {
			return err
		}
	}
}
