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
)

// StreamSet is the layout of one log: replicas (1 embedded, 3 on a cluster)
// and the identity of the log, fixed when the streams are first created.
type StreamSet struct {
	Replicas int
	LogID    string
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
			Metadata:   map[string]string{logIDMetadata: s.LogID},
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
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating stream %s: %w", cfg.Name, err))
		}
	}
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: SessionsBucket, Description: "login sessions",
		TTL: 12 * time.Hour, Storage: jetstream.FileStorage, Replicas: set.Replicas,
	})
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating bucket %s: %w", SessionsBucket, err))
	}
	return nil
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
	if _, err := js.KeyValue(ctx, SessionsBucket); err != nil {
		return "", vigil.Errorf(vigil.Integrity, op, "bucket %s is missing: %v", SessionsBucket, err)
	}
	if logID == "" {
		return "", vigil.Errorf(vigil.Integrity, op, "stream %s carries no log id; it was not made by vigil", EventsStream)
	}
	return logID, nil
}
