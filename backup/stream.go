package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
)

// readStream calls fn for messages from..to of a stream, in order, with
// their subjects (nats.Log.Read gives the bytes only; a restore needs the
// subject too, because claims are made per subject). A gap is Integrity.
func readStream(ctx context.Context, js jetstream.JetStream, name string, from, to uint64,
	fn func(seq uint64, subject string, data []byte) error) error {
	const op = "backup.read"
	if from == 0 {
		from = 1
	}
	if to < from {
		return nil
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
	})
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(vnats.ReadBufferBytes))
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer it.Stop()
	for want := from; want <= to; want++ {
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := it.Next(jetstream.NextContext(wait))
		cancel()
		if err != nil {
			if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrMsgIteratorClosed)) {
				return vigil.Errorf(vigil.Integrity, op,
					"stream %s: entry %d cannot be read; run `vigil log verify` before backing up", name, want)
			}
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return vigil.Wrap(op, vigil.Other, err)
		}
		if md.Sequence.Stream != want {
			return vigil.Errorf(vigil.Integrity, op,
				"stream %s: entry %d is missing (next readable is %d); run `vigil log verify`", name, want, md.Sequence.Stream)
		}
		if err := fn(want, msg.Subject(), msg.Data()); err != nil {
			return err
		}
	}
	return nil
}

// streamState returns a stream's last sequence and stored bytes.
func streamState(ctx context.Context, js jetstream.JetStream, name string) (last, bytes uint64, err error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, 0, vigil.Wrap("backup.state", vigil.Unavailable, fmt.Errorf("stream %s: %w", name, err))
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, 0, vigil.Wrap("backup.state", vigil.Unavailable, err)
	}
	return info.State.LastSeq, info.State.Bytes, nil
}
