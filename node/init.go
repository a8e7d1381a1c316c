package node

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	vnats "github.com/vigil-elections/vigil/nats"
)

// InitOptions configure a new data directory.
type InitOptions struct {
	Dir  string
	Name string // node name; signs checkpoints
	// External NATS (empty URL: embedded engine).
	NATS     vnats.ClientOptions
	Replicas int // stream replicas on an external cluster (default 3)
	// SecretsKey (hex) is the shared secrets key of an existing log this
	// node joins; required when the log exists.
	SecretsKey string
	Now        func() time.Time
}

// Init creates a data directory: keyring, metadata and the log's streams.
// It refuses a directory that already holds a node.
func Init(ctx context.Context, o InitOptions) (Meta, error) {
	const op = "node.init"
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = "vigil-" + host
	}
	if _, err := os.Stat(filepath.Join(o.Dir, metaFile)); err == nil {
		return Meta{}, vigil.Errorf(vigil.Conflict, op, "%s already holds a vigil node; use it, or choose an empty directory", o.Dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	// Reach an external cluster before writing anything, so that a wrong
	// URL or token leaves the directory as it was.
	var external *natsgo.Conn
	if o.NATS.URL != "" {
		nc, err := vnats.Dial(o.NATS)
		if err != nil {
			return Meta{}, err
		}
		defer nc.Close()
		external = nc
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if external != nil {
		js, err := jetstream.New(external)
		if err != nil {
			return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if _, err := vnats.CheckStreams(ctx, js); err == nil && o.SecretsKey == "" {
			return Meta{}, vigil.Errorf(vigil.Invalid, op,
				"the log at %s already exists: copy keyring/secrets.key from one of its nodes and pass it with --secrets-key, so this node can read what the others sealed", o.NATS.URL)
		}
	}
	keys, err := keyring.Create(keyringDir(o.Dir), o.Name, o.SecretsKey)
	if err != nil {
		return Meta{}, err
	}
	m := Meta{FormatVersion: vigil.FormatVersion, NodeName: o.Name, Created: o.Now().UTC(),
		StoreKeyFingerprint: keys.StoreKeyFingerprint(), Replicas: 1}
	set := vnats.StreamSet{Replicas: 1, LogID: vigil.NewEventID(), SecretsFP: keys.SecretsFingerprint()}
	var js jetstream.JetStream
	if o.NATS.URL != "" {
		m.NATSURL, m.NATSToken, m.NATSCreds = o.NATS.URL, o.NATS.Token, o.NATS.CredsFile
		m.NATSCA, m.NATSCert, m.NATSKey = o.NATS.CAFile, o.NATS.CertFile, o.NATS.KeyFile
		m.Replicas = max(o.Replicas, 1)
		if o.Replicas == 0 {
			m.Replicas = 3
		}
		set.Replicas = m.Replicas
		if js, err = jetstream.New(external); err != nil {
			return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		// Several nodes share one external log: the first creates it.
		if _, err := vnats.CheckStreams(ctx, js); err == nil {
			fp, err := vnats.SecretsFingerprint(ctx, js)
			if err != nil {
				return Meta{}, err
			}
			if fp != keys.SecretsFingerprint() {
				os.RemoveAll(keyringDir(o.Dir))
				return Meta{}, vigil.Errorf(vigil.Invalid, op, "the secrets key given is not this log's (fingerprint %s, the log's is %s)", keys.SecretsFingerprint(), fp)
			}
			return m, writeMeta(o.Dir, m)
		}
	} else {
		srv, err := vnats.Start(vnats.Config{Name: o.Name, StoreDir: storeDir(o.Dir), Key: keys.StoreKey})
		if err != nil {
			return Meta{}, err
		}
		defer srv.Shutdown()
		nc, err := srv.Connect("vigil init")
		if err != nil {
			return Meta{}, err
		}
		defer nc.Close()
		if js, err = jetstream.New(nc); err != nil {
			return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	if err := vnats.CreateStreams(ctx, js, set); err != nil {
		return Meta{}, err
	}
	return m, writeMeta(o.Dir, m)
}
