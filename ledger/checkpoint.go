package ledger

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a commitment to a tree: the C2SP tlog-checkpoint body.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text returns the checkpoint body: origin, size and base64 root, one per line.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint parses a checkpoint body; extension lines are ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, fmt.Errorf("checkpoint: want origin, size and root lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	c := Checkpoint{Origin: lines[0], Size: size}
	copy(c.Root[:], raw)
	return c, nil
}

// Sign returns the checkpoint as a signed note.
func (c Checkpoint) Sign(s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// SignedCheckpoint is a checkpoint with the raw signed note it came from.
type SignedCheckpoint struct {
	Checkpoint
	Note   []byte
	Signer string // name of the key that signed it
}

// OpenCheckpoint verifies a signed note with any of verifiers and parses it.
func OpenCheckpoint(msg []byte, verifiers note.Verifiers) (SignedCheckpoint, error) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: bytes.Clone(msg), Signer: n.Sigs[0].Name}, nil
}

// Signer holds a node's checkpoint key.
type Signer struct {
	note.Signer
	Verifier note.Verifier
	VKey     string // the public verifier key, "name+hash+base64"
}

// NewSigner loads a signer from note's private key encoding.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Signer{Signer: s, Verifier: v, VKey: vkey}, nil
}

// VerifierKey derives the public verifier key from a private signer key.
func VerifierKey(skey string) (string, error) {
	// PRIVATE+KEY+name+hash+base64(alg || seed)
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("ledger: malformed signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", fmt.Errorf("ledger: malformed signer key")
	}
	return note.NewEd25519VerifierKey(parts[2], ed25519PublicFromSeed(raw[1:]))
}
