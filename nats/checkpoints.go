package nats

import (
	"context"
	"errors"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// PublishCheckpoint stores a signed checkpoint note under ckpt.<signer>.
func PublishCheckpoint(ctx context.Context, js jetstream.JetStream, signer string, note []byte) error {
	msg := natsgo.NewMsg("ckpt." + SubjectToken(signer))
	msg.Data = note
	if _, err := js.PublishMsg(ctx, msg, jetstream.WithExpectStream(CheckpointsStream)); err != nil {
		return vigil.Wrap("checkpoint.publish", vigil.Unavailable, err)
	}
	return nil
}

// ReadCheckpoints calls fn with every stored checkpoint note, oldest first.
// An unreadable entry in the stream is an Integrity error.
func ReadCheckpoints(ctx context.Context, js jetstream.JetStream, fn func(seq uint64, note []byte) error) error {
	st, err := js.Stream(ctx, CheckpointsStream)
	if err != nil {
		return vigil.Wrap("checkpoint.read", vigil.Unavailable, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return vigil.Wrap("checkpoint.read", vigil.Unavailable, err)
	}
	if info.State.LastSeq == 0 {
		return nil
	}
	if info.State.Msgs != info.State.LastSeq || info.State.FirstSeq != 1 {
		return vigil.Errorf(vigil.Integrity, "checkpoint.read",
			"the checkpoint stream has gaps: %d checkpoints in sequences %d..%d",
			info.State.Msgs, info.State.FirstSeq, info.State.LastSeq)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		data, err := getMsg(ctx, js, st, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return vigil.Errorf(vigil.Integrity, "checkpoint.read", "checkpoint entry %d cannot be read", seq)
		}
		if err != nil {
			return vigil.Wrap("checkpoint.read", vigil.Unavailable, err)
		}
		if err := fn(seq, data); err != nil {
			return err
		}
	}
	return nil
}

// LatestCheckpoint returns the newest checkpoint note signed by signer,
// or nil if there is none. Every node of a shared log signs its own, over
// its own view of the tree, so a node serves its own.
func LatestCheckpoint(ctx context.Context, js jetstream.JetStream, signer string) ([]byte, error) {
	st, err := js.Stream(ctx, CheckpointsStream)
	if err != nil {
		return nil, vigil.Wrap("checkpoint.latest", vigil.Unavailable, err)
	}
	m, err := st.GetLastMsgForSubject(ctx, "ckpt."+SubjectToken(signer))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, vigil.Wrap("checkpoint.latest", vigil.Unavailable, err)
	}
	return m.Data, nil
}
