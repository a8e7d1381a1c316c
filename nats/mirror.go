package nats

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// A remote mirror site (docs/decisions/0009-mirror.md) is a separate vigil
// node whose embedded server is a TLS leaf node of the hub and whose EVENTS
// and CHECKPOINTS streams are JetStream mirrors of the hub's. The hub
// listens for mirrors on a leaf-node port that requires TLS and one of the
// credentials it issued; it then has the JetStream domain HubDomain, through
// which a mirror's streams address the hub's API.

// HubDomain is the JetStream domain of a hub that serves mirrors.
const HubDomain = "hub"

// MirrorDomain is the JetStream domain of the mirror called name.
func MirrorDomain(name string) string { return "mirror-" + SubjectToken(name) }

// MirrorListener is the hub's side of the mirror links.
type MirrorListener struct {
	Host     string
	Port     int
	CertFile string // TLS certificate and key presented to mirrors
	KeyFile  string
	Mirrors  []MirrorAccount
}

// MirrorAccount is one mirror the hub admits: its name and the bcrypt hash
// of its password (the hub never stores the password itself).
type MirrorAccount struct {
	Name         string
	PasswordHash string
	Site         bool // a polling-place site: it may also send appends (nats/site.go)
}

// MirrorUplink is the mirror's side: how it reaches the hub.
type MirrorUplink struct {
	URL      string // host:port of the hub's mirror listener
	Name     string
	Password string
	// CAFile holds the certificate(s) the hub's certificate must chain to;
	// "" uses the system's roots (a hub with a certificate from a public or
	// organisational CA).
	CAFile string
}

// The leaf link carries subject interest both ways. These subjects must not
// cross it: the hub's and the mirror's session buckets are separate (a
// session made on one must never be valid on the other), and a mirror never
// publishes events or checkpoints into the hub's streams (the hub's streams
// listen on ev.> and ckpt.>, and a publish on the mirror would reach them).
// The mirror's own findings travel as requests on MirrorReportSubject,
// which the hub checks and appends itself.
var mirrorDenied = []string{"$KV.>", "ckpt.>", "ev.>", "site.>"}

// MirrorReportSubject is where the mirror called name sends its reports
// (mirror.checked, log.checkpoint_inconsistent) for the hub to append to its
// log; the hub lets each mirror publish on its own subject only, so the
// name in the subject is authenticated.
func MirrorReportSubject(name string) string { return mirrorReportPrefix + SubjectToken(name) }

// MirrorReportSubjects matches every mirror's report subject.
const MirrorReportSubjects = mirrorReportPrefix + "*"

const mirrorReportPrefix = "vigil.mirror.report."

func applyMirror(opts *server.Options, cfg Config) error {
	const op = "nats.mirror"
	// The uplink first: it names this server's JetStream domain, which the
	// listener's permissions then use.
	if u := cfg.MirrorUplink; u != nil {
		host, port, err := net.SplitHostPort(u.URL)
		if err != nil {
			if pu, perr := url.Parse(u.URL); perr == nil && pu.Host != "" {
				host, port, err = net.SplitHostPort(pu.Host)
			}
		}
		if err != nil {
			return vigil.FieldError(op, "hub", "%q is not HOST:PORT of the hub's mirror listener", u.URL)
		}
		if _, err := strconv.Atoi(port); err != nil {
			return vigil.FieldError(op, "hub", "%q has no port", u.URL)
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		if u.CAFile != "" {
			pem, err := os.ReadFile(u.CAFile)
			if err != nil {
				return vigil.Errorf(vigil.Invalid, op, "cannot read the hub's CA certificate: %v", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return vigil.Errorf(vigil.Invalid, op, "%s holds no PEM certificate", u.CAFile)
			}
		}
		target := &url.URL{Scheme: "tls", User: url.UserPassword(u.Name, u.Password), Host: net.JoinHostPort(host, port)}
		opts.LeafNode.ReconnectInterval = 250 * time.Millisecond
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, &server.RemoteLeafOpts{URLs: []*url.URL{target},
			TLS: true, TLSConfig: tc, TLSTimeout: 5, DenyExports: mirrorDenied, DenyImports: mirrorDenied})
		if opts.JetStreamDomain == "" {
			opts.JetStreamDomain = MirrorDomain(u.Name)
		}
		// Replies to the mirror's requests to the hub come on subjects
		// that name this mirror, so that the hub can let it receive its
		// own replies and no one else's: the stream's internal API replies
		// name stream and consumer ($JSC.R.<domain>.<account>.<stream>.
		// <consumer>), and its clients use their own inbox prefix.
		if opts.FeatureFlags == nil {
			opts.FeatureFlags = map[string]bool{}
		}
		opts.FeatureFlags[server.FeatureFlagJsAPIReplyFormatV2] = true
	}
	if l := cfg.MirrorListener; l != nil {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: l.CertFile, KeyFile: l.KeyFile, Timeout: 5})
		if err != nil {
			return vigil.Errorf(vigil.Invalid, op, "the mirror listener's TLS certificate cannot be used: %v", err)
		}
		opts.LeafNode.Host, opts.LeafNode.Port = l.Host, l.Port
		opts.LeafNode.TLSConfig, opts.LeafNode.TLSTimeout = tc, 5
		opts.LeafNode.NoAdvertise = true
		if len(l.Mirrors) == 0 {
			return vigil.Errorf(vigil.Invalid, op, "the mirror listener has no mirror credentials; issue one with `vigil mirror allow`")
		}
		// nats-server applies no permissions to leaf users listed in
		// LeafNode.Users, so the hub authenticates every connection itself
		// (mirrorAuth) and gives each mirror only the subjects it needs.
		if opts.JetStreamDomain == "" {
			opts.JetStreamDomain = HubDomain
		}
		// A polling-place site that also listens (for the laptops joined
		// to it) keeps its own domain: its laptops mirror its streams.
		auth := &mirrorAuth{token: opts.Authorization, domain: opts.JetStreamDomain, mirrors: map[string]string{}, sites: map[string]bool{}}
		for _, m := range l.Mirrors {
			auth.mirrors[m.Name] = m.PasswordHash
			auth.sites[m.Name] = m.Site
		}
		opts.Authorization = ""
		opts.CustomClientAuthentication = auth
	}
	return nil
}

// mirrorInbox is the inbox prefix of a mirror's clients.
func mirrorInbox(name string) string { return "_INBOX_MIRROR_" + SubjectToken(name) }

// mirrorClientOptions: on a mirror, in-process clients use the mirror's
// inbox prefix (see applyMirror).
func (s *Server) mirrorClientOptions() []natsgo.Option {
	if s.cfg.MirrorUplink == nil {
		return nil
	}
	return []natsgo.Option{natsgo.CustomInboxPrefix(mirrorInbox(s.cfg.MirrorUplink.Name))}
}

// LinkUp reports whether the server has a leaf link (a mirror: to its hub;
// a hub: to at least one mirror). A site that also listens, for its
// laptops, counts only its own link to the hub.
func (s *Server) LinkUp() bool {
	if s.cfg.MirrorUplink == nil || s.cfg.MirrorListener == nil {
		return s.ns.NumLeafNodes() > 0
	}
	lz, err := s.ns.Leafz(nil)
	if err != nil {
		return false
	}
	for _, l := range lz.Leafs {
		if l.IsSpoke {
			return true
		}
	}
	return false
}

// WaitLink waits until the leaf link is up.
func (s *Server) WaitLink(ctx context.Context) error {
	for !s.LinkUp() {
		select {
		case <-ctx.Done():
			return vigil.Errorf(vigil.Unavailable, "nats.mirror",
				"the hub did not accept this mirror's link: check --hub, the credential and the hub's certificate")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// mirrorStreams are the streams a mirror holds, in the order they are made.
var mirrorStreams = []string{EventsStream, CheckpointsStream}

// mirrorConsumer names the hub's durable consumer that feeds mirror name's
// copy of stream, and the subject it delivers on.
//
// A mirror uses JetStream's durable sourcing (nats-server >= 2.12) rather
// than the ephemeral consumer a mirror makes by default: when a mirror's
// server restarts, its first request to the hub usually leaves before the
// leaf link is up, and the server then waits 30 s for an answer to a
// consumer create before it retries (measured: a restarted mirror resumed
// after 35-40 s in about half the runs). The request to reposition a
// durable consumer is retried after 5 s.
func mirrorConsumer(name, stream string) (consumer, deliver string) {
	return "MIRROR_" + SubjectToken(name) + "_" + stream, "vigil.mirrored." + SubjectToken(name) + "." + stream
}

// EnsureMirrorConsumers creates (or updates) on the hub the durable
// consumers that feed the named mirrors, and deletes those of mirrors no
// longer named (revoked). A hub that admits mirrors calls it at start; the
// consumers hold no messages, only each mirror's position.
func EnsureMirrorConsumers(ctx context.Context, js jetstream.JetStream, mirrors []string) error {
	keep := map[string]bool{}
	for _, m := range mirrors {
		for _, stream := range mirrorStreams {
			name, _ := mirrorConsumer(m, stream)
			keep[stream+"/"+name] = true
		}
	}
	for _, stream := range mirrorStreams {
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return vigil.Wrap("nats.mirror_consumers", vigil.Unavailable, err)
		}
		names := st.ConsumerNames(ctx)
		var stale []string
		for name := range names.Name() {
			if strings.HasPrefix(name, "MIRROR_") && !keep[stream+"/"+name] {
				stale = append(stale, name)
			}
		}
		if err := names.Err(); err != nil {
			return vigil.Wrap("nats.mirror_consumers", vigil.Unavailable, err)
		}
		for _, name := range stale {
			if err := st.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				return vigil.Wrap("nats.mirror_consumers", vigil.Unavailable, err)
			}
		}
	}
	for _, m := range mirrors {
		for _, stream := range mirrorStreams {
			name, deliver := mirrorConsumer(m, stream)
			_, err := js.CreateOrUpdatePushConsumer(ctx, stream, jetstream.ConsumerConfig{
				Durable: name, Description: "feeds the remote mirror " + m, DeliverSubject: deliver,
				DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckFlowControlPolicy,
				FlowControl: true, IdleHeartbeat: time.Second, MaxAckPending: 65536,
			})
			if err != nil {
				return vigil.Wrap("nats.mirror_consumers", vigil.Unavailable, fmt.Errorf("consumer %s on %s: %w", name, stream, err))
			}
		}
	}
	return nil
}

// CreateMirrorStreams makes this server's EVENTS and CHECKPOINTS mirrors of
// the upstream's (reached through hub, a JetStream context in domain: the
// hub's HubDomain, or a site's MirrorDomain for a laptop joined to it), fed
// by the durable consumers the upstream keeps for the mirror called name. The
// mirrored EVENTS carries the hub's log id and secrets fingerprint, so a
// promoted mirror is the same log. It fails if the streams exist.
func CreateMirrorStreams(ctx context.Context, local, hub jetstream.JetStream, mirror, domain string) error {
	const op = "nats.create_mirror"
	want := map[string]jetstream.StreamConfig{}
	for _, c := range (StreamSet{Replicas: 1}).configs() {
		want[c.Name] = c
	}
	for _, name := range mirrorStreams {
		st, err := hub.Stream(ctx, name)
		if err != nil {
			return vigil.Errorf(vigil.Unavailable, op, "cannot read the hub's stream %s: %v", name, err)
		}
		src := st.CachedInfo().Config
		cfg := want[name]
		cfg.Subjects = nil
		cfg.Description = "mirror of the hub's " + name
		cfg.Metadata = src.Metadata
		cfg.Duplicates = 0
		consumer, deliver := mirrorConsumer(mirror, name)
		if _, err := hub.PushConsumer(ctx, name, consumer); err != nil {
			return vigil.Errorf(vigil.Unavailable, op,
				"the hub keeps no consumer for this mirror on %s (%v): restart the hub's `vigil serve` after `vigil mirror allow`", name, err)
		}
		cfg.Mirror = &jetstream.StreamSource{Name: name, Domain: domain,
			Consumer: &jetstream.StreamConsumerSource{Name: consumer, DeliverSubject: deliver}}
		if _, err := local.CreateStream(ctx, cfg); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("creating mirror stream %s: %w", name, err))
		}
	}
	if _, err := local.CreateKeyValue(ctx, sessionsConfig(1)); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	return nil
}

// MirrorState reports how far this server's mirror of a stream has got:
// its last sequence and how long ago it last heard from the hub (-1 when it
// never did, or the stream is not a mirror).
func MirrorState(ctx context.Context, js jetstream.JetStream, name string) (last uint64, active time.Duration, err error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, -1, vigil.Wrap("nats.mirror_state", vigil.Unavailable, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, -1, vigil.Wrap("nats.mirror_state", vigil.Unavailable, err)
	}
	active = -1
	if info.Mirror != nil {
		active = info.Mirror.Active
	}
	return info.State.LastSeq, active, nil
}

// IsMirror reports whether the EVENTS stream of js is still a mirror.
func IsMirror(ctx context.Context, js jetstream.JetStream) (bool, error) {
	st, err := js.Stream(ctx, EventsStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return false, vigil.Errorf(vigil.Integrity, "nats.mirror", "stream %s is missing", EventsStream)
	}
	if err != nil {
		return false, vigil.Wrap("nats.mirror", vigil.Unavailable, err)
	}
	return st.CachedInfo().Config.Mirror != nil, nil
}

// PromoteMirror turns mirrored streams into the ordinary streams of a
// primary: the mirror configuration is removed (the server stops pulling
// from the hub and keeps every stored message with its sequence) and the
// streams take their subjects and duplicate window. It is idempotent: a
// stream already promoted is left as it is.
func PromoteMirror(ctx context.Context, js jetstream.JetStream) error {
	const op = "nats.promote"
	want := map[string]jetstream.StreamConfig{}
	for _, c := range (StreamSet{Replicas: 1}).configs() {
		want[c.Name] = c
	}
	for _, name := range mirrorStreams {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return vigil.Errorf(vigil.Integrity, op, "stream %s is missing: %v", name, err)
		}
		cfg := st.CachedInfo().Config
		if cfg.Mirror == nil {
			continue
		}
		cfg.Mirror = nil
		cfg.Subjects = want[name].Subjects
		cfg.Duplicates = want[name].Duplicates
		cfg.Description = want[name].Description
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("promoting stream %s: %w", name, err))
		}
	}
	return nil
}
