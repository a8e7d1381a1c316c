package node

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-elections/vigil"
)

// Meta is DIR/vigil.json: what the directory is and how to open it.
type Meta struct {
	FormatVersion       int       `json:"format_version"`
	NodeName            string    `json:"node_name"`
	Created             time.Time `json:"created"`
	StoreKeyFingerprint string    `json:"store_key_fingerprint"`
	// NATSURL is set when the node uses an external NATS cluster.
	NATSURL   string `json:"nats_url,omitempty"`
	NATSCreds string `json:"nats_creds,omitempty"`
	NATSCA    string `json:"nats_ca,omitempty"`
	NATSCert  string `json:"nats_cert,omitempty"`
	NATSKey   string `json:"nats_key,omitempty"`
	NATSToken string `json:"nats_token,omitempty"`
	Replicas  int    `json:"replicas"`
}

const metaFile = "vigil.json"

func readMeta(dir string) (Meta, error) {
	const op = "node.open"
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, vigil.Errorf(vigil.NotFound, op, "%s is not a vigil data directory; run `vigil init --data %s` first", dir, dir)
	}
	if err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, vigil.Errorf(vigil.Integrity, op, "%s is not valid JSON: %v", filepath.Join(dir, metaFile), err)
	}
	if m.FormatVersion != vigil.FormatVersion {
		return Meta{}, vigil.Errorf(vigil.Invalid, op,
			"%s was written by data format version %d; this vigil (%s) reads version %d only and will not touch it",
			dir, m.FormatVersion, vigil.Version, vigil.FormatVersion)
	}
	return m, nil
}

func writeMeta(dir string, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, metaFile))
}

// runInfo is DIR/run/node.json, written by the process that owns the
// directory so that local commands can reach it while it runs.
type runInfo struct {
	PID     int    `json:"pid"`
	NATSURL string `json:"nats_url"`
	HTTP    string `json:"http,omitempty"`
}
