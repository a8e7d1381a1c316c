package nats_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
	"golang.org/x/crypto/bcrypt"
)

// mirrorPair starts a hub with a TLS mirror listener and the log's streams,
// and a mirror linked to it with the given password.
type mirrorPair struct {
	hub, mirror     *vnats.Server
	hubJS, mirrorJS jetstream.JetStream
	hubNC, mirNC    *natsgo.Conn
	uplink          vnats.MirrorUplink
	mirrorDir       string
}

func startHub(t *testing.T, password string) (*vnats.Server, vnats.MirrorUplink, func() *vnats.Server) {
	t.Helper()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := vnats.GenerateMirrorCert(cert, key, []string{"127.0.0.1", "localhost"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	port := mirrorPort(t)
	start := func() *vnats.Server {
		hub, err := vnats.Start(vnats.Config{Name: "hub", StoreDir: filepath.Join(dir, "store"), Key: strings.Repeat("ab", 32),
			MirrorListener: &vnats.MirrorListener{Host: "127.0.0.1", Port: port, CertFile: cert, KeyFile: key,
				Mirrors: []vnats.MirrorAccount{{Name: "m1", PasswordHash: string(hash)}}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hub.Shutdown)
		return hub
	}
	return start(), vnats.MirrorUplink{URL: fmt.Sprintf("127.0.0.1:%d", port), Name: "m1", Password: password, CAFile: cert}, start
}

// waitMirrored waits until the mirror's EVENTS ends at want.
func waitMirrored(t *testing.T, ctx context.Context, js jetstream.JetStream, want uint64, within time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	for {
		last, _, err := vnats.MirrorState(ctx, js, vnats.EventsStream)
		if err == nil && last == want {
			return time.Since(t0)
		}
		if time.Since(t0) > within {
			t.Fatalf("the mirror holds %d entries after %v, want %d", last, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startMirrorServer(t *testing.T, dir string, up vnats.MirrorUplink) *vnats.Server {
	t.Helper()
	s, err := vnats.Start(vnats.Config{Name: "m1", StoreDir: dir, Key: strings.Repeat("cd", 32), MirrorUplink: &up})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func js(t *testing.T, s *vnats.Server) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := s.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	j, _ := jetstream.New(nc)
	return nc, j
}

func appendN(t *testing.T, ctx context.Context, l *vnats.Log, n int, tag string) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "t", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "hub"},
			"load.appended", fmt.Sprintf("%s-%d", tag, i), time.Now(), nil)
		if _, err := l.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMirrorFollowsHubOverTLSAndIsPromoted(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	hub, up, restartHub := startHub(t, "s3cret-mirror-password")
	_, hubJS := js(t, hub)
	if err := vnats.CreateStreams(ctx, hubJS, vnats.StreamSet{Replicas: 1, LogID: "LOG1", SecretsFP: "fp1"}); err != nil {
		t.Fatal(err)
	}
	// A revoked mirror's consumers go when the hub next starts.
	if err := vnats.EnsureMirrorConsumers(ctx, hubJS, []string{"m1", "m2"}); err != nil {
		t.Fatal(err)
	}
	if err := vnats.EnsureMirrorConsumers(ctx, hubJS, []string{"m1"}); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{vnats.EventsStream, vnats.CheckpointsStream} {
		st, _ := hubJS.Stream(ctx, stream)
		var names []string
		for n := range st.ConsumerNames(ctx).Name() {
			names = append(names, n)
		}
		if len(names) != 1 || names[0] != "MIRROR_m1_"+stream {
			t.Fatalf("consumers on %s: %v", stream, names)
		}
	}
	hubLog, err := vnats.OpenLog(ctx, hubJS)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, ctx, hubLog, 50, "before")

	t.Run("a wrong password is refused", func(t *testing.T) {
		bad := up
		bad.Password = "wrong"
		s := startMirrorServer(t, t.TempDir(), bad)
		defer s.Shutdown()
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		if err := s.WaitLink(wctx); err == nil {
			t.Fatal("a mirror with a wrong password was linked")
		}
	})
	t.Run("a hub certificate other than the pinned one is refused", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.crt")
		if err := vnats.GenerateMirrorCert(other, other+".key", []string{"127.0.0.1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		bad := up
		bad.CAFile = other
		s := startMirrorServer(t, t.TempDir(), bad)
		defer s.Shutdown()
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		if err := s.WaitLink(wctx); err == nil {
			t.Fatal("a mirror linked to a hub whose certificate it does not trust")
		}
	})

	mdir := t.TempDir()
	mir := startMirrorServer(t, mdir, up)
	if err := mir.WaitLink(ctx); err != nil {
		t.Fatal(err)
	}
	mnc, mirJS := js(t, mir)
	toHub, _ := jetstream.NewWithDomain(mnc, vnats.HubDomain)
	if err := vnats.CreateMirrorStreams(ctx, mirJS, toHub, "m1", vnats.HubDomain); err != nil {
		t.Fatal(err)
	}
	// The mirror is the same log: CheckStreams finds the hub's log id.
	if id, err := vnats.CheckStreams(ctx, mirJS); err != nil || id != "LOG1" {
		t.Fatalf("mirror's log id %q, %v", id, err)
	}
	appendN(t, ctx, hubLog, 50, "after")
	waitMsgs(t, ctx, mirJS, vnats.EventsStream, 100)

	t.Run("the mirror holds the hub's entries byte for byte", func(t *testing.T) {
		mlog, err := vnats.OpenLog(ctx, mirJS)
		if err != nil {
			t.Fatal(err)
		}
		defer mlog.Close()
		for seq := uint64(1); seq <= 100; seq++ {
			a, err1 := hubLog.Get(ctx, seq)
			b, err2 := mlog.Get(ctx, seq)
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
				t.Fatalf("entry %d differs: %v %v", seq, err1, err2)
			}
		}
	})
	t.Run("the mirror cannot store events itself", func(t *testing.T) {
		mlog, err := vnats.OpenLog(ctx, mirJS)
		if err != nil {
			t.Fatal(err)
		}
		defer mlog.Close()
		// Events, checkpoints and session writes never cross the link.
		actx, acancel := context.WithTimeout(ctx, time.Second)
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "t", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "m1"},
			"user.created", "intruder", time.Now(), nil)
		_, err = mlog.Append(actx, []vigil.Event{ev}, vigil.AppendOptions{})
		acancel()
		if err == nil {
			t.Fatal("an event appended on the mirror was stored (by the hub?)")
		}
		if last, _ := hubLog.LastSeq(ctx); last != 100 {
			t.Fatalf("the hub's log holds %d entries after the mirror's attempt, want 100", last)
		}
		if err := vnats.PublishCheckpoint(ctx, mirJS, "m1", []byte("x")); err == nil {
			t.Fatal("a checkpoint published on the mirror was stored")
		}
		kv, err := mirJS.KeyValue(ctx, vnats.SessionsBucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "sessionM", []byte("m")); err != nil {
			t.Fatal(err)
		}
		hkv, _ := hubJS.KeyValue(ctx, vnats.SessionsBucket)
		time.Sleep(200 * time.Millisecond)
		if _, err := hkv.Get(ctx, "sessionM"); err == nil {
			t.Fatal("a session made on the mirror reached the hub's bucket")
		}
	})

	// A restarted mirror resumes from its last entry within seconds (the
	// hub's durable consumer is repositioned; see mirrorConsumer).
	for round := 0; round < 3; round++ {
		mir.Shutdown()
		t0 := time.Now()
		mir = startMirrorServer(t, mdir, up)
		_, mirJS = js(t, mir)
		appendN(t, ctx, hubLog, 10, fmt.Sprintf("restart%d", round))
		waitMirrored(t, ctx, mirJS, uint64(110+10*round), 12*time.Second)
		t.Logf("restart %d: the mirror resumed after %v", round, time.Since(t0).Round(time.Millisecond))
	}
	// So does a mirror whose hub restarted (an upgrade, a reboot).
	hubLog.Close()
	hub.Shutdown()
	t0 := time.Now()
	hub = restartHub()
	_, hubJS = js(t, hub)
	if hubLog, err = vnats.OpenLog(ctx, hubJS); err != nil {
		t.Fatal(err)
	}
	appendN(t, ctx, hubLog, 10, "hub-restarted")
	waitMirrored(t, ctx, mirJS, 140, 30*time.Second)
	t.Logf("after the hub's restart the mirror resumed after %v", time.Since(t0).Round(time.Millisecond))

	t.Run("a mirror credential in a rogue server cannot write the hub's log or read its sessions", func(t *testing.T) {
		// A leaf server configured by hand with the mirror's credential,
		// without the denies vigil's mirror sets on its own side.
		u, _ := url.Parse("tls://" + up.URL)
		u.User = url.UserPassword(up.Name, up.Password)
		pem, _ := os.ReadFile(up.CAFile)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		rogue, err := server.NewServer(&server.Options{ServerName: "rogue", Host: "127.0.0.1", Port: server.RANDOM_PORT,
			NoLog: true, NoSigs: true, LeafNode: server.LeafNodeOpts{ReconnectInterval: 100 * time.Millisecond,
				Remotes: []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: true,
					TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}}}})
		if err != nil {
			t.Fatal(err)
		}
		rogue.Start()
		defer rogue.Shutdown()
		waitLeaf(t, rogue, true)
		rc, err := natsgo.Connect(rogue.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		sessions, err := rc.SubscribeSync("$KV.SESSIONS.>")
		if err != nil {
			t.Fatal(err)
		}
		// Replies to the hub's own clients (a session read among them).
		replies, err := rc.SubscribeSync("_INBOX.>")
		if err != nil {
			t.Fatal(err)
		}
		rc.Flush()
		time.Sleep(300 * time.Millisecond)
		before, _ := hubLog.LastSeq(ctx)
		for _, subj := range []string{"ev.user.intruder", "ev.batch", "ckpt.hub"} {
			rc.Publish(subj, []byte(`{"id":"x"}`))
		}
		rc.Flush()
		hkv, _ := hubJS.KeyValue(ctx, vnats.SessionsBucket)
		if _, err := hkv.Put(ctx, "hubsession", []byte("secret")); err != nil {
			t.Fatal(err)
		}
		if _, err := hkv.Get(ctx, "hubsession"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if m, err := replies.NextMsg(100 * time.Millisecond); err == nil {
			t.Fatalf("a rogue leaf saw a reply to the hub's client: %q %q", m.Subject, m.Data)
		}
		if after, _ := hubLog.LastSeq(ctx); after != before {
			t.Fatalf("a rogue leaf with the mirror credential appended to the hub's log (%d -> %d)", before, after)
		}
		if m, err := sessions.NextMsg(200 * time.Millisecond); err == nil {
			t.Fatalf("a rogue leaf read the hub's session write %q", m.Subject)
		}
		// The real mirror still follows.
		appendN(t, ctx, hubLog, 1, "after-rogue")
		waitMirrored(t, ctx, mirJS, before+1, 15*time.Second)
	})

	// Disaster: the hub is gone. The mirror restarts without its uplink and
	// is promoted; it keeps every entry and takes new ones.
	hubLog.Close()
	hub.Shutdown()
	mir.Shutdown()
	mir, err = vnats.Start(vnats.Config{Name: "m1", StoreDir: mdir, Key: strings.Repeat("cd", 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer mir.Shutdown()
	_, mirJS = js(t, mir)
	if is, err := vnats.IsMirror(ctx, mirJS); err != nil || !is {
		t.Fatalf("before promotion IsMirror = %v, %v", is, err)
	}
	if err := vnats.PromoteMirror(ctx, mirJS); err != nil {
		t.Fatal(err)
	}
	if err := vnats.PromoteMirror(ctx, mirJS); err != nil {
		t.Fatalf("promoting twice: %v", err)
	}
	if is, _ := vnats.IsMirror(ctx, mirJS); is {
		t.Fatal("still a mirror after promotion")
	}
	plog, err := vnats.OpenLog(ctx, mirJS)
	if err != nil {
		t.Fatal(err)
	}
	defer plog.Close()
	appendN(t, ctx, plog, 5, "promoted")
	if last, err := plog.LastSeq(ctx); err != nil || last != 146 {
		t.Fatalf("promoted log ends at %d (%v), want 146", last, err)
	}
	if err := vnats.PublishCheckpoint(ctx, mirJS, "m1", []byte("note")); err != nil {
		t.Fatalf("the promoted node cannot store checkpoints: %v", err)
	}
}

// mirrorPort picks a free port below the kernel's ephemeral range, so that
// no outgoing connection takes it between the check and a restart.
func mirrorPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}
