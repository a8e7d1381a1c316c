package node

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	vnats "github.com/vigil-elections/vigil/nats"
	"golang.org/x/crypto/bcrypt"
)

// A remote mirror site (docs/decisions/0009-mirror.md).
//
// On the hub, DIR/mirrors.json lists the mirrors it admits (name and bcrypt
// hash of the password) and the TLS listener they reach; `vigil serve`
// opens that listener when the file exists. On a mirror, DIR/mirror.json
// says which hub it mirrors and how to reach it; while it exists the
// directory is a mirror: its log cannot be appended to, it signs no
// checkpoints, and only `vigil mirror` may own it. Promotion renames it to
// DIR/mirror.promoted.json, after which the directory is an ordinary node.

func mirrorPath(dir string) string      { return filepath.Join(dir, "mirror.json") }
func promotedPath(dir string) string    { return filepath.Join(dir, "mirror.promoted.json") }
func hubMirrorsPath(dir string) string  { return filepath.Join(dir, "mirrors.json") }
func mirrorStatePath(dir string) string { return filepath.Join(dir, "mirror", "state.json") }
func hubCAPath(dir string) string       { return filepath.Join(keyringDir(dir), "hub-ca.crt") }
func hubCertPaths(dir string) (c, k string) {
	return filepath.Join(keyringDir(dir), "mirror-tls.crt"), filepath.Join(keyringDir(dir), "mirror-tls.key")
}

var mirrorName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// linkName is the name in a credential: a mirror's or a site's, or a
// laptop's joined to a site, SITE_LAPTOP (node/site_relay.go). A name
// holds no "_" otherwise, so the hub knows whose laptop it is.
var linkName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}(_[a-z0-9][a-z0-9-]{0,31})?$`)

// MirrorCredential is what a hub issues to one mirror: a secret, carried to
// the mirror site by hand. It holds the password the hub checks, the hub's
// certificate when the hub made its own (the mirror then trusts exactly
// that certificate), and the hub's checkpoint key, with which the mirror
// checks every checkpoint it receives.
type MirrorCredential struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	HubCert  string `json:"hub_cert,omitempty"`
	HubKey   string `json:"hub_key"`
	// Place is set for a polling-place site (`vigil site allow`): the
	// place's scope, county/C/place/P. A site also writes (node/site.go).
	Place vigil.Scope `json:"place,omitempty"`
	// Domain is the JetStream domain of the node issuing it when that is
	// not the hub: a site admitting a laptop (node/site_relay.go).
	Domain string `json:"domain,omitempty"`
}

type hubMirrors struct {
	Listen   string      `json:"listen"`
	CertFile string      `json:"cert_file"`
	KeyFile  string      `json:"key_file"`
	Mirrors  []hubMirror `json:"mirrors"`
}

type hubMirror struct {
	Name         string      `json:"name"`
	PasswordHash string      `json:"password_hash"`
	Issued       time.Time   `json:"issued"`
	Place        vigil.Scope `json:"place,omitempty"` // a polling-place site
}

// mirrorConfig is DIR/mirror.json on a mirror.
type mirrorConfig struct {
	Hub      string    `json:"hub"`
	Name     string    `json:"name"`
	Password string    `json:"password"`
	CAFile   string    `json:"ca_file,omitempty"`
	HubKey   string    `json:"hub_key"`
	Created  time.Time `json:"created"`
	// Place is set on a polling-place site (node/site.go).
	Place vigil.Scope `json:"place,omitempty"`
}

// AllowMirrorOptions configure AllowMirror.
type AllowMirrorOptions struct {
	Dir    string
	Name   string // the mirror's name: lower-case letters, digits, dashes
	Listen string // HOST:PORT of the hub's mirror listener; "" keeps the current one
	// CertFile and KeyFile are the operator's certificate for the listener;
	// empty makes (once) a self-signed one that the credential pins.
	CertFile, KeyFile string
	Now               func() time.Time
	// Place makes the credential a polling-place site's (AllowSite).
	Place vigil.Scope
}

// AllowMirror admits a mirror on a hub and returns its credential. Issuing
// again for the same name replaces the password. The listener starts, or
// admits the new mirror, at the next start of `vigil serve`.
func AllowMirror(o AllowMirrorOptions) (MirrorCredential, error) {
	const op = "mirror.allow"
	if o.Now == nil {
		o.Now = time.Now
	}
	if !mirrorName.MatchString(o.Name) {
		return MirrorCredential{}, vigil.FieldError(op, "name", "use 1-32 lower-case letters, digits and dashes")
	}
	if _, err := readMeta(o.Dir); err != nil {
		return MirrorCredential{}, err
	}
	// On a polling-place site: a laptop joined to it. It mirrors the
	// site's copy of the hub's log (so it checks the hub's checkpoints)
	// and serves the site's place.
	var site *mirrorConfig
	if err := readJSON(mirrorPath(o.Dir), &site); err == nil {
		if site.Place == "" || o.Place == "" {
			return MirrorCredential{}, vigil.Errorf(vigil.Conflict, op, "%s is itself a mirror; mirrors are allowed on the primary", o.Dir)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return MirrorCredential{}, err
	}
	keys, err := keyring.Load(keyringDir(o.Dir))
	if err != nil {
		return MirrorCredential{}, err
	}
	cred := MirrorCredential{Name: o.Name, Password: randomSecret(), HubKey: keys.VerifierKey, Place: o.Place}
	if site != nil {
		cred.Name, cred.HubKey, cred.Domain = site.Name+"_"+o.Name, site.HubKey, vnats.MirrorDomain(site.Name)
	}
	var hm hubMirrors
	if b, err := os.ReadFile(hubMirrorsPath(o.Dir)); err == nil {
		if err := json.Unmarshal(b, &hm); err != nil {
			return MirrorCredential{}, vigil.Errorf(vigil.Integrity, op, "%s is not valid JSON: %v", hubMirrorsPath(o.Dir), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return MirrorCredential{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if o.Listen != "" {
		if _, _, err := net.SplitHostPort(o.Listen); err != nil {
			return MirrorCredential{}, vigil.FieldError(op, "listen", "%q is not HOST:PORT", o.Listen)
		}
		hm.Listen = o.Listen
	}
	if hm.Listen == "" {
		return MirrorCredential{}, vigil.FieldError(op, "listen", "say where mirrors reach this hub (HOST:PORT, e.g. 0.0.0.0:7422)")
	}
	switch {
	case o.CertFile != "" || o.KeyFile != "":
		if o.CertFile == "" || o.KeyFile == "" {
			return MirrorCredential{}, vigil.FieldError(op, "tls-cert", "give both --tls-cert and --tls-key")
		}
		if hm.CertFile, err = filepath.Abs(o.CertFile); err != nil {
			return MirrorCredential{}, vigil.Wrap(op, vigil.Other, err)
		}
		if hm.KeyFile, err = filepath.Abs(o.KeyFile); err != nil {
			return MirrorCredential{}, vigil.Wrap(op, vigil.Other, err)
		}
	case hm.CertFile == "":
		host, _, _ := net.SplitHostPort(hm.Listen)
		hosts := []string{"127.0.0.1", "::1", "localhost"}
		if name, err := os.Hostname(); err == nil {
			hosts = append(hosts, name)
		}
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			hosts = append(hosts, host)
		}
		hm.CertFile, hm.KeyFile = hubCertPaths(o.Dir)
		if err := vnats.GenerateMirrorCert(hm.CertFile, hm.KeyFile, hosts, o.Now()); err != nil {
			return MirrorCredential{}, err
		}
	}
	if c, _ := hubCertPaths(o.Dir); hm.CertFile == c {
		pem, err := os.ReadFile(c)
		if err != nil {
			return MirrorCredential{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		cred.HubCert = string(pem)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(cred.Password), bcrypt.DefaultCost)
	if err != nil {
		return MirrorCredential{}, vigil.Wrap(op, vigil.Other, err)
	}
	entry := hubMirror{Name: cred.Name, PasswordHash: string(hash), Issued: o.Now().UTC(), Place: o.Place}
	replaced := false
	for i := range hm.Mirrors {
		if hm.Mirrors[i].Name == cred.Name {
			hm.Mirrors[i], replaced = entry, true
		}
	}
	if !replaced {
		hm.Mirrors = append(hm.Mirrors, entry)
	}
	if err := writeJSON(hubMirrorsPath(o.Dir), hm); err != nil {
		return MirrorCredential{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	return cred, nil
}

// RevokeMirror removes a mirror from the hub's list. Its link is refused,
// and the hub's consumers for it are deleted, when `vigil serve` next
// starts. Errors: NotFound.
func RevokeMirror(dir, name string) error {
	const op = "mirror.revoke"
	var hm hubMirrors
	if err := readJSON(hubMirrorsPath(dir), &hm); errors.Is(err, fs.ErrNotExist) {
		return vigil.Errorf(vigil.NotFound, op, "%s admits no mirrors", dir)
	} else if err != nil {
		return err
	}
	var site mirrorConfig
	if readJSON(mirrorPath(dir), &site) == nil && site.Place != "" && !strings.HasPrefix(name, site.Name+"_") {
		name = site.Name + "_" + name // a laptop joined to this site
	}
	kept := hm.Mirrors[:0]
	for _, m := range hm.Mirrors {
		if m.Name != name {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(hm.Mirrors) {
		return vigil.Errorf(vigil.NotFound, op, "%s admits no mirror called %q", dir, name)
	}
	hm.Mirrors = kept
	if err := writeJSON(hubMirrorsPath(dir), hm); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	return nil
}

func randomSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return vigil.Errorf(vigil.Integrity, "node.open", "%s is not valid JSON: %v", path, err)
	}
	return nil
}

// MirrorInitOptions configure InitMirror.
type MirrorInitOptions struct {
	Dir        string
	Hub        string // HOST:PORT of the hub's mirror listener
	Credential MirrorCredential
	// CAFile is the CA the hub's certificate chains to, when the hub uses
	// an operator's certificate (the credential then carries none); ""
	// with no certificate in the credential uses the system's roots.
	CAFile string
	// SecretsKey (hex) is the hub's keyring/secrets.key: the mirror needs
	// it to open sealed values once it is promoted.
	SecretsKey string
	Now        func() time.Time
}

// InitMirror makes dir a mirror of the hub: its own keyring (its own store
// key, so the mirror's disk is encrypted with a key the hub never had), the
// hub's secrets key, and EVENTS and CHECKPOINTS created as mirrors of the
// hub's over the TLS link. It refuses a directory that holds a node, and
// removes what it made when the hub cannot be reached.
func InitMirror(ctx context.Context, o MirrorInitOptions) (m Meta, err error) {
	const op = "mirror.init"
	if o.Now == nil {
		o.Now = time.Now
	}
	cred := o.Credential
	if !linkName.MatchString(cred.Name) || cred.Password == "" || cred.HubKey == "" {
		return Meta{}, vigil.FieldError(op, "credential", "is incomplete: issue one on the hub with `vigil mirror allow`")
	}
	if o.SecretsKey == "" {
		return Meta{}, vigil.FieldError(op, "secrets-key",
			"copy keyring/secrets.key from the hub and pass it with --secrets-key, so that a promoted mirror can open what the hub sealed")
	}
	if _, err := os.Stat(filepath.Join(o.Dir, metaFile)); err == nil {
		return Meta{}, vigil.Errorf(vigil.Conflict, op, "%s already holds a vigil node; use it, or choose an empty directory", o.Dir)
	}
	if entries, _ := os.ReadDir(o.Dir); len(entries) > 0 {
		return Meta{}, vigil.Errorf(vigil.Conflict, op, "%s is not empty; a mirror starts in an empty directory", o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer func() {
		if err != nil {
			for _, p := range []string{keyringDir(o.Dir), storeDir(o.Dir), mirrorPath(o.Dir), filepath.Join(o.Dir, metaFile)} {
				os.RemoveAll(p)
			}
		}
	}()
	keys, err := keyring.Create(keyringDir(o.Dir), cred.Name, o.SecretsKey)
	if err != nil {
		return Meta{}, err
	}
	mc := mirrorConfig{Hub: o.Hub, Name: cred.Name, Password: cred.Password, HubKey: cred.HubKey, Created: o.Now().UTC(),
		Place: cred.Place}
	switch {
	case cred.HubCert != "":
		if err := os.WriteFile(hubCAPath(o.Dir), []byte(cred.HubCert), 0o600); err != nil {
			return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		mc.CAFile = hubCAPath(o.Dir)
	case o.CAFile != "":
		if mc.CAFile, err = filepath.Abs(o.CAFile); err != nil {
			return Meta{}, vigil.Wrap(op, vigil.Other, err)
		}
	}
	srv, err := vnats.Start(vnats.Config{Name: cred.Name, StoreDir: storeDir(o.Dir), Key: keys.StoreKey, MirrorUplink: mc.uplink()})
	if err != nil {
		return Meta{}, err
	}
	defer srv.Shutdown()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := srv.WaitLink(wctx); err != nil {
		return Meta{}, err
	}
	nc, err := srv.Connect("vigil mirror init")
	if err != nil {
		return Meta{}, err
	}
	defer nc.Close()
	local, err := jetstream.New(nc)
	if err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	domain := cmp.Or(cred.Domain, vnats.HubDomain)
	hub, err := jetstream.NewWithDomain(nc, domain)
	if err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := vnats.CreateMirrorStreams(ctx, local, hub, cred.Name, domain); err != nil {
		return Meta{}, err
	}
	if fp, err := vnats.SecretsFingerprint(ctx, local); err != nil {
		return Meta{}, err
	} else if fp != "" && fp != keys.SecretsFingerprint() {
		return Meta{}, vigil.Errorf(vigil.Invalid, op,
			"the secrets key given is not the hub's (fingerprint %s, the hub's is %s); copy keyring/secrets.key from the hub", keys.SecretsFingerprint(), fp)
	}
	if err := writeJSON(mirrorPath(o.Dir), mc); err != nil {
		return Meta{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	m = Meta{FormatVersion: vigil.FormatVersion, NodeName: cred.Name, Created: o.Now().UTC(),
		StoreKeyFingerprint: keys.StoreKeyFingerprint(), Replicas: 1}
	return m, writeMeta(o.Dir, m)
}

func (mc *mirrorConfig) uplink() *vnats.MirrorUplink {
	return &vnats.MirrorUplink{URL: mc.Hub, Name: mc.Name, Password: mc.Password, CAFile: mc.CAFile}
}

// IsMirrorDir reports whether dir is a mirror that has not been promoted.
func IsMirrorDir(dir string) bool {
	_, err := os.Stat(mirrorPath(dir))
	return err == nil
}

// openMirror runs in Open once the lock is settled: it loads the mirror's
// configuration and keeps each process in its lane. Only `vigil mirror`
// (Options.Mirror) may own a mirror's directory (Inspect may too: verify
// reads a stopped mirror), and `vigil mirror` only a mirror's.
func (n *Node) openMirror(o Options) error {
	const op = "node.open"
	err := readJSON(mirrorPath(n.Dir), &n.mirror)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		n.mirror = nil
		if o.Mirror {
			return vigil.Errorf(vigil.Invalid, op, "%s is not a mirror (no mirror.json); start a mirror in an empty directory with `vigil mirror --hub HOST:PORT --credential FILE`", n.Dir)
		}
		return nil
	case err != nil:
		n.mirror = nil
		return err
	}
	if site := n.mirror.Place != ""; n.Owner && !o.Inspect && o.Mirror && site != o.Site {
		if site {
			return vigil.Errorf(vigil.Conflict, op, "%s is the polling-place site %s: run it with `vigil site --data %s`", n.Dir, n.mirror.Name, n.Dir)
		}
		return vigil.Errorf(vigil.Conflict, op, "%s is a mirror of %s, not a polling-place site: run it with `vigil mirror --data %s`", n.Dir, n.mirror.Hub, n.Dir)
	}
	if n.Owner && !o.Inspect && !o.Mirror {
		if n.mirror.Place != "" {
			return vigil.Errorf(vigil.Conflict, op, "%s is the polling-place site %s: run it with `vigil site --data %s`", n.Dir, n.mirror.Name, n.Dir)
		}
		return vigil.Errorf(vigil.Conflict, op,
			"%s is a mirror of %s: run it with `vigil mirror --data %s`, or make it the primary with `vigil mirror promote --data %s`",
			n.Dir, n.mirror.Hub, n.Dir, n.Dir)
	}
	if n.Owner && o.Mirror {
		// A mirror signs nothing: its CHECKPOINTS stream is the hub's.
		n.every = math.MaxInt64
	}
	return nil
}

// natsMirrorConfig adds the mirror listener (a hub's `vigil serve`) or the
// uplink (a mirror) to the embedded server's configuration.
func (n *Node) natsMirrorConfig(cfg *vnats.Config, o Options) error {
	if n.mirror != nil {
		if o.Mirror {
			cfg.MirrorUplink = n.mirror.uplink()
		}
		if !o.Site || n.mirror.Place == "" {
			return nil
		}
		// A site listens too, for the laptops joined to it.
	}
	if !o.Listen {
		return nil
	}
	var hm hubMirrors
	if err := readJSON(hubMirrorsPath(n.Dir), &hm); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(hm.Listen)
	if err != nil {
		return vigil.Errorf(vigil.Invalid, "node.open", "%s: listen %q is not HOST:PORT", hubMirrorsPath(n.Dir), hm.Listen)
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return vigil.Errorf(vigil.Invalid, "node.open", "%s: bad port %q", hubMirrorsPath(n.Dir), port)
	}
	n.hubMirrors, n.links = &hm, newAdmitted(&hm)
	if len(hm.Mirrors) == 0 {
		return nil // every mirror revoked: no listener (startMirrorHub removes their consumers)
	}
	l := &vnats.MirrorListener{Host: host, Port: p, CertFile: hm.CertFile, KeyFile: hm.KeyFile}
	for _, m := range hm.Mirrors {
		l.Mirrors = append(l.Mirrors, vnats.MirrorAccount{Name: m.Name, PasswordHash: m.PasswordHash, Site: m.Place != ""})
	}
	cfg.MirrorListener = l
	return nil
}

// errReadOnly refuses an append on a mirror.
func (n *Node) errReadOnly() error {
	return vigil.Errorf(vigil.Permission, "log.append",
		"this node is a read-only mirror of %s: make changes on the primary, or promote this mirror with `vigil mirror promote`", n.mirror.Hub)
}

// Mirror reports whether the node is an unpromoted mirror, and of which hub.
func (n *Node) Mirror() (hub string, ok bool) {
	if n.mirror == nil {
		return "", false
	}
	return n.mirror.Hub, true
}

// EventMirrorPromoted is the first entry a promoted mirror appends: the
// log itself records when and by whom it changed hands, and from which
// entry on it was written by the new primary.
const EventMirrorPromoted vigil.EventType = "mirror.promoted"

// MirrorPromoted is the payload of mirror.promoted.
type MirrorPromoted struct {
	Mirror      string `json:"mirror"`
	Hub         string `json:"hub"`
	Entries     uint64 `json:"entries"`     // entries mirrored from the old primary
	Checkpoints uint64 `json:"checkpoints"` // the old primary's checkpoints held
	Verified    int    `json:"verified"`    // of those, checked against the entries at promotion
	HubSigned   int64  `json:"hub_signed"`  // the largest tree the old primary signed
}

// PromoteReport says what a promotion found.
type PromoteReport struct {
	Hub         string
	Entries     uint64 // entries in the promoted log
	Checkpoints uint64 // the hub's checkpoints it holds
	// The old primary's checkpoints are checked once more against the
	// entries being promoted: Verified matched; HubSigned is the largest
	// tree it signed (above Entries: signed entries that never reached the
	// mirror, lost with the primary); Problems are checkpoints that do not
	// match (the promotion goes ahead: after a fork, the mirror's copy is
	// the one to keep; the operator decides, with the evidence).
	Verified  int
	HubSigned int64
	Problems  []string
}

// PromoteMirror makes a stopped mirror the primary: its mirrored streams
// become ordinary streams holding every entry the mirror had stored, and
// mirror.json is set aside (without the hub password). The directory then
// starts as a normal `vigil serve` node, signing checkpoints of the same
// log (same log id) with its own key.
func PromoteMirror(ctx context.Context, dir string, actor vigil.Actor) (PromoteReport, error) {
	const op = "mirror.promote"
	var mc mirrorConfig
	if err := readJSON(mirrorPath(dir), &mc); errors.Is(err, fs.ErrNotExist) {
		if _, perr := os.Stat(promotedPath(dir)); perr == nil {
			return PromoteReport{}, vigil.Errorf(vigil.Conflict, op, "%s was already promoted; start it with `vigil serve --data %s`", dir, dir)
		}
		return PromoteReport{}, vigil.Errorf(vigil.Invalid, op, "%s is not a mirror (no mirror.json)", dir)
	} else if err != nil {
		return PromoteReport{}, err
	}
	meta, err := readMeta(dir)
	if err != nil {
		return PromoteReport{}, err
	}
	keys, err := keyring.Load(keyringDir(dir))
	if err != nil {
		return PromoteReport{}, err
	}
	if keys.StoreKeyFingerprint() != meta.StoreKeyFingerprint {
		return PromoteReport{}, vigil.Errorf(vigil.Integrity, op, "the store key in %s is not this mirror's", keyringDir(dir))
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return PromoteReport{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return PromoteReport{}, vigil.Errorf(vigil.Conflict, op, "the mirror is still running on %s; stop it first", dir)
	}
	// No uplink: whatever the hub still is, the promoted streams never
	// pull from it again.
	srv, err := vnats.Start(vnats.Config{Name: meta.NodeName, StoreDir: storeDir(dir), Key: keys.StoreKey})
	if err != nil {
		return PromoteReport{}, err
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("vigil mirror promote")
	if err != nil {
		return PromoteReport{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return PromoteReport{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := vnats.PromoteMirror(ctx, js); err != nil {
		return PromoteReport{}, err
	}
	if _, err := vnats.CheckStreams(ctx, js); err != nil {
		return PromoteReport{}, err
	}
	rep := PromoteReport{Hub: mc.Hub}
	for name, dst := range map[string]*uint64{vnats.EventsStream: &rep.Entries, vnats.CheckpointsStream: &rep.Checkpoints} {
		if *dst, _, err = vnats.MirrorState(ctx, js, name); err != nil {
			return rep, err
		}
	}
	log, err := vnats.OpenLog(ctx, js)
	if err != nil {
		return rep, err
	}
	if err := checkHubCheckpoints(ctx, js, log, mc.HubKey, &rep); err != nil {
		log.Close()
		return rep, err
	}
	actor.Origin = meta.NodeName
	ev, err := vigil.NewEvent(actor, EventMirrorPromoted, mc.Name, time.Now(),
		MirrorPromoted{Mirror: mc.Name, Hub: mc.Hub, Entries: rep.Entries, Checkpoints: rep.Checkpoints,
			Verified: rep.Verified, HubSigned: rep.HubSigned})
	if err == nil {
		_, err = log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
	log.Close()
	if err != nil {
		return rep, err
	}
	mc.Password = ""
	if err := writeJSON(promotedPath(dir), struct {
		mirrorConfig
		Promoted time.Time `json:"promoted"`
		Entries  uint64    `json:"entries"`
	}{mc, time.Now().UTC(), rep.Entries}); err != nil {
		return rep, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := os.Remove(mirrorPath(dir)); err != nil {
		return rep, vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("the streams are promoted but %s could not be removed: %w; remove it by hand", mirrorPath(dir), err))
	}
	return rep, nil
}
