package backup

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// FormatVersion is the version of the archive layout.
const FormatVersion = 1

// Part names inside the archive.
const (
	partMeta       = "meta.json"
	partCheckpoint = "checkpoint"
	partNodePub    = "keyring/node.pub"
	partNodeKey    = "keyring/node.key"
	partSecretsKey = "keyring/secrets.key"
	partLog        = "log/"         // + 6-digit chunk number
	partCkpts      = "checkpoints/" // + 6-digit chunk number
	partDB         = "vigil.db"
	partManifest   = "manifest"
)

// chunkTarget is the size at which a log chunk is closed. A chunk is
// buffered in memory so that its tar header can carry its size: this bounds
// Backup's memory (one chunk plus one entry of at most 8 MiB).
const chunkTarget = 4 << 20

// Meta is meta.json: what the archive holds. It is covered by the manifest.
type Meta struct {
	Format       int       `json:"format"`
	NodeName     string    `json:"node_name"`
	LogID        string    `json:"log_id"`
	Origin       string    `json:"origin"` // checkpoint origin, "vigil.log/<log id>"
	Created      time.Time `json:"created"`
	Entries      uint64    `json:"entries"`     // log entries 1..Entries; the checkpoint's size
	Checkpoints  uint64    `json:"checkpoints"` // notes in the checkpoint stream
	DBCursor     uint64    `json:"db_cursor"`   // entries applied in vigil.db (≤ Entries)
	VerifierKey  string    `json:"verifier_key"`
	SecretsFP    string    `json:"secrets_fp,omitempty"` // the log's secrets key fingerprint, as its streams record it
	VigilVersion string    `json:"vigil_version"`
}

// manifest is the signed list of parts.
type manifest struct {
	Origin  string
	Node    string
	Created time.Time
	Entries uint64
	Parts   []partSum
}

type partSum struct {
	Name   string
	Size   int64
	SHA256 [32]byte
}

const manifestHeader = "vigil-backup v1"

// text is the manifest as a note body: one field per line, no blank line.
func (m manifest) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nlog %s\nnode %s\ncreated %s\nentries %d\n", manifestHeader, m.Origin, m.Node,
		m.Created.UTC().Format(time.RFC3339Nano), m.Entries)
	for _, p := range m.Parts {
		fmt.Fprintf(&b, "part %x %d %s\n", p.SHA256, p.Size, p.Name)
	}
	return b.String()
}

// parseManifest parses a manifest note body.
func parseManifest(text string) (manifest, error) {
	var m manifest
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 5 || lines[0] != manifestHeader {
		return m, fmt.Errorf("manifest: not a %q manifest", manifestHeader)
	}
	field := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok {
			return "", fmt.Errorf("manifest line %d: want %q", i+1, name)
		}
		return v, nil
	}
	var err error
	if m.Origin, err = field(1, "log"); err != nil {
		return m, err
	}
	if m.Node, err = field(2, "node"); err != nil {
		return m, err
	}
	created, err := field(3, "created")
	if err != nil {
		return m, err
	}
	if m.Created, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return m, fmt.Errorf("manifest: bad created time")
	}
	entries, err := field(4, "entries")
	if err != nil {
		return m, err
	}
	if m.Entries, err = strconv.ParseUint(entries, 10, 64); err != nil {
		return m, fmt.Errorf("manifest: bad entry count")
	}
	for i, line := range lines[5:] {
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 || f[0] != "part" {
			return m, fmt.Errorf("manifest line %d: want a part", i+6)
		}
		var p partSum
		sum, err := hex.DecodeString(f[1])
		if err != nil || len(sum) != 32 {
			return m, fmt.Errorf("manifest line %d: bad hash", i+6)
		}
		copy(p.SHA256[:], sum)
		if p.Size, err = strconv.ParseInt(f[2], 10, 64); err != nil || p.Size < 0 {
			return m, fmt.Errorf("manifest line %d: bad size", i+6)
		}
		p.Name = f[3]
		m.Parts = append(m.Parts, p)
	}
	return m, nil
}

func (m manifest) sign(s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: m.text()}, s)
}

// A chunk of a stream is a sequence of records:
//
//	uvarint(seq) uvarint(len(subject)) subject uvarint(len(data)) data
//
// Sequences within and across chunks of one stream are consecutive from 1.
func appendRecord(buf []byte, seq uint64, subject string, data []byte) []byte {
	buf = binary.AppendUvarint(buf, seq)
	buf = binary.AppendUvarint(buf, uint64(len(subject)))
	buf = append(buf, subject...)
	buf = binary.AppendUvarint(buf, uint64(len(data)))
	return append(buf, data...)
}

// maxRecordData bounds one record's data when reading: JetStream messages
// are at most 8 MiB in vigil's streams.
const maxRecordData = 16 << 20

// readRecords calls fn for every record in r.
func readRecords(r *bufio.Reader, fn func(seq uint64, subject string, data []byte) error) error {
	var data []byte
	for {
		seq, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bad record header: %w", err)
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1024 {
			return fmt.Errorf("bad subject length after entry %d", seq)
		}
		subj := make([]byte, n)
		if _, err := io.ReadFull(r, subj); err != nil {
			return fmt.Errorf("entry %d: truncated subject", seq)
		}
		n, err = binary.ReadUvarint(r)
		if err != nil || n > maxRecordData {
			return fmt.Errorf("entry %d: bad data length", seq)
		}
		if uint64(cap(data)) < n {
			data = make([]byte, n)
		}
		data = data[:n]
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("entry %d: truncated data", seq)
		}
		if err := fn(seq, string(subj), data); err != nil {
			return err
		}
	}
}

func chunkName(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }
