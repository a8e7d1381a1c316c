package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// The streams and buckets vigil expects. Their configuration is data so
// that boot can check what exists against what should.
const (
	EventsStream      = "EVENTS"
	CheckpointsStream = "CHECKPOINTS"
	SessionsBucket    = "SESSIONS"

	eventsSubjects     = "ev.>"
	checkpointSubjects = "ckpt.>"
	logIDMetadata      = "vigil_log_id"
	secretsMetadata    = "vigil_secrets_fp"
)

// StreamSet is the layout of one log: replicas (1 embedded, 3 on a cluster)
// and the identity of the log, fixed when the streams are first created.
type StreamSet struct {
	Replicas  int
	LogID     string
	SecretsFP string // fingerprint of the log's shared secrets key
}

func (s StreamSet) configs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name: EventsStream, Subjects: []string{eventsSubjects},
			Description: "vigil event log: the source of truth",
			Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
			Replicas: s.Replicas, Duplicates: 2 * time.Minute,
			DenyDelete: true, DenyPurge: true, AllowDirect: true,
			MaxMsgSize: 8 << 20,
			Metadata:   map[string]string{logIDMetadata: s.LogID, secretsMetadata: s.SecretsFP},
		},
		{
			Name: CheckpointsStream, Subjects: []string{checkpointSubjects},
			Description: "signed checkpoints of the event log",
			Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
			Replicas: s.Replicas, DenyDelete: true, DenyPurge: true, AllowDirect: true,
		},
	}
}

// CreateStreams creates the streams of a new log. It fails if they exist.
func CreateStreams(ctx context.Context, js jetstream.JetStream, set StreamSet) error {
	const op = "nats.create_streams"
	for _, cfg := range set.configs() {
		err := whilePlacing(ctx, func() error { _, err := js.CreateStream(ctx, cfg); return err })
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating stream %s: %w", cfg.Name, err))
		}
	}
	err := whilePlacing(ctx, func() error { _, err := js.CreateKeyValue(ctx, sessionsConfig(set.Replicas)); return err })
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating bucket %s: %w", SessionsBucket, err))
	}
	return nil
}

// sessionsConfig: memory storage, because sessions are short-lived secrets
// that need no disk (a restart of a standalone node signs everyone out), and
// the only files under DIR/nats are then the log's own, every byte of which
// verify checks.
func sessionsConfig(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: SessionsBucket, Description: "login sessions",
		TTL: 12 * time.Hour, Storage: jetstream.MemoryStorage, Replicas: replicas}
}

// CheckStreams verifies that every expected stream exists and returns the
// log id. A missing stream means a wrong encryption key or a damaged store;
// the node must not start, because starting would begin an empty log.
func CheckStreams(ctx context.Context, js jetstream.JetStream) (string, error) {
	const op = "nats.check_streams"
	var logID string
	for _, cfg := range (StreamSet{}).configs() {
		st, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return "", vigil.Errorf(vigil.Integrity, op,
				"stream %s is missing: the store key is wrong or the store is damaged; check DIR/keyring/store.key, or restore from a backup",
				cfg.Name)
		}
		if err != nil {
			return "", vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("looking up stream %s: %w", cfg.Name, err))
		}
		if cfg.Name == EventsStream {
			logID = st.CachedInfo().Config.Metadata[logIDMetadata]
		}
	}
	if _, err := js.KeyValue(ctx, SessionsBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		// A memory bucket does not survive a restart of a standalone node.
		if _, err := js.CreateKeyValue(ctx, sessionsConfig(1)); err != nil {
			return "", vigil.Wrap(op, vigil.Unavailable, err)
		}
	} else if err != nil {
		return "", vigil.Wrap(op, vigil.Unavailable, err)
	}
	if logID == "" {
		return "", vigil.Errorf(vigil.Integrity, op, "stream %s carries no log id; it was not made by vigil", EventsStream)
	}
	return logID, nil
}

// Damage lists, for every stream of the account, the messages the server
// found corrupt and dropped when it loaded its store. Corruption in a
// stream that has no checkpoints (sessions) is only visible here.
func Damage(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var out []string
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return nil, vigil.Wrap("nats.damage", vigil.Unavailable, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return nil, vigil.Wrap("nats.damage", vigil.Unavailable, err)
		}
		if l := info.State.Lost; l != nil && (len(l.Msgs) > 0 || l.Bytes > 0) {
			out = append(out, fmt.Sprintf("stream %s: the store dropped %d corrupt messages (%d bytes) when it was loaded: %v",
				name, len(l.Msgs), l.Bytes, l.Msgs))
		}
	}
	if err := names.Err(); err != nil {
		return nil, vigil.Wrap("nats.damage", vigil.Unavailable, err)
	}
	return out, nil
}

// SecretsFingerprint returns the fingerprint of the secrets key the log was
// created with ("" for a log made before it was recorded).
func SecretsFingerprint(ctx context.Context, js jetstream.JetStream) (string, error) {
	st, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return "", vigil.Wrap("nats.secrets_fp", vigil.Unavailable, err)
	}
	return st.CachedInfo().Config.Metadata[secretsMetadata], nil
}

// whilePlacing retries create while a cluster that is still forming has
// too few peers online to place replicas (for up to 30 s).
func whilePlacing(ctx context.Context, create func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := create()
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != errCodeNoPeers ||
			time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// errCodeNoPeers is JetStream's "no suitable peers for placement"
// (nats-server's JSClusterNoPeersErr), which nats.go does not name.
const errCodeNoPeers jetstream.ErrorCode = 10005
