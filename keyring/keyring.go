// Package keyring holds a node's keys: the Ed25519 checkpoint key, the
// JetStream encryption-at-rest key, the key that seals secrets inside events,
// and the token local commands use to reach the running node.
//
// Keys are files of mode 0600 under DIR/keyring. The store key is what makes
// the log readable: a node MUST refuse to start with a missing or different
// store key rather than start an empty log, so the data directory records the
// store key's fingerprint and Load checks it.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-elections/vigil"
	"golang.org/x/mod/sumdb/note"
)

const (
	nodeKeyFile    = "node.key"
	nodePubFile    = "node.pub"
	storeKeyFile   = "store.key"
	secretsKeyFile = "secrets.key"
	tokenFile      = "nats.token"
)

// Keyring is a loaded set of node keys.
type Keyring struct {
	Dir         string
	SignerKey   string // note private key, "PRIVATE+KEY+name+hash+base64"
	VerifierKey string // note public key
	StoreKey    string // JetStream encryption key (hex)
	secrets     cipher.AEAD
	secretsRaw  []byte
	Token       string // local client token for the node's NATS listener
}

// Create makes a new keyring in dir (which must not hold one) for a node
// named name. secrets is the log's shared secrets key (hex) when the node
// joins an existing log; "" makes a new one.
func Create(dir, name, secrets string) (*Keyring, error) {
	const op = "keyring.create"
	if _, err := os.Stat(filepath.Join(dir, storeKeyFile)); err == nil {
		return nil, vigil.Errorf(vigil.Conflict, op, "%s already holds a keyring; refusing to overwrite keys", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, vigil.Wrap(op, vigil.Other, err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Other, err)
	}
	files := map[string]string{
		nodeKeyFile:    skey + "\n",
		nodePubFile:    vkey + "\n",
		storeKeyFile:   randomHex(32) + "\n",
		secretsKeyFile: secretsOrNew(secrets) + "\n",
		tokenFile:      randomHex(24) + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, vigil.Wrap(op, vigil.Other, err)
		}
	}
	return Load(dir)
}

// Load reads the keyring in dir.
func Load(dir string) (*Keyring, error) {
	const op = "keyring.load"
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return "", vigil.Errorf(vigil.Integrity, op,
				"key file %s is missing; restore the keyring from its backup (the log cannot be read without it)",
				filepath.Join(dir, name))
		}
		if err != nil {
			return "", vigil.Wrap(op, vigil.Other, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	k := &Keyring{Dir: dir}
	var err error
	if k.SignerKey, err = read(nodeKeyFile); err != nil {
		return nil, err
	}
	if k.VerifierKey, err = read(nodePubFile); err != nil {
		return nil, err
	}
	if k.StoreKey, err = read(storeKeyFile); err != nil {
		return nil, err
	}
	if k.Token, err = read(tokenFile); err != nil {
		return nil, err
	}
	sk, err := read(secretsKeyFile)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(sk)
	if err != nil || len(raw) != 32 {
		return nil, vigil.Errorf(vigil.Integrity, op, "%s is malformed", secretsKeyFile)
	}
	k.secretsRaw = raw
	block, _ := aes.NewCipher(raw)
	k.secrets, _ = cipher.NewGCM(block)
	if b, err := hex.DecodeString(k.StoreKey); err != nil || len(b) != 32 {
		return nil, vigil.Errorf(vigil.Integrity, op, "%s is malformed", storeKeyFile)
	}
	return k, nil
}

func secretsOrNew(hexKey string) string {
	if hexKey != "" {
		return hexKey
	}
	return randomHex(32)
}

// SecretsFingerprint identifies the secrets key without revealing it. The
// log records it, so a node with another secrets key cannot join.
func (k *Keyring) SecretsFingerprint() string {
	sum := sha256.Sum256(append([]byte("vigil secrets key\x00"), k.secretsRaw...))
	return hex.EncodeToString(sum[:8])
}

// StoreKeyFingerprint identifies the store key without revealing it.
func (k *Keyring) StoreKeyFingerprint() string {
	sum := sha256.Sum256([]byte("vigil store key\x00" + k.StoreKey))
	return hex.EncodeToString(sum[:8])
}

// Seal encrypts a secret for storage inside an event payload.
func (k *Keyring) Seal(plain []byte) string {
	nonce := make([]byte, k.secrets.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := k.secrets.Seal(nonce, nonce, plain, nil)
	return "sealed:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal.
func (k *Keyring) Open(sealed string) ([]byte, error) {
	b64, ok := strings.CutPrefix(sealed, "sealed:")
	if !ok {
		return nil, fmt.Errorf("keyring: value is not sealed")
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < k.secrets.NonceSize() {
		return nil, fmt.Errorf("keyring: sealed value is malformed")
	}
	n := k.secrets.NonceSize()
	return k.secrets.Open(nil, raw[:n], raw[n:], nil)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ReadSecretsKey reads a secrets.key file copied from a node of an existing
// log, for a new node joining it.
func ReadSecretsKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", vigil.Errorf(vigil.Invalid, "keyring.secrets", "cannot read the secrets key: %v", err)
	}
	k := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(k); err != nil || len(raw) != 32 {
		return "", vigil.Errorf(vigil.Invalid, "keyring.secrets", "%s is not a vigil secrets key (64 hex digits)", path)
	}
	return k, nil
}
