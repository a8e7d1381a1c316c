package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
)

// mirrorSite is a hub (`vigil serve`) and a mirror (`vigil mirror`), each a
// real process, linked over TLS on loopback.
type mirrorSite struct {
	hubDir, mirDir string
	hub, mirror    *child
}

// freeLoopbackPort picks a free port below the kernel's ephemeral range:
// a port from ":0" is free now but may be handed out again as the source
// port of some outgoing connection before the child process listens on it.
func freeLoopbackPort(t *testing.T) int {
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

func startMirrorSite(t *testing.T) *mirrorSite {
	t.Helper()
	root := t.TempDir()
	s := &mirrorSite{hubDir: filepath.Join(root, "hub"), mirDir: filepath.Join(root, "mirror")}
	if out, err := run(t, "init", "--data", s.hubDir, "--name", "hub"); err != nil {
		t.Fatal(err, out)
	}
	cred := filepath.Join(root, "m1.credential")
	listen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	if out, err := run(t, "mirror", "allow", "--data", s.hubDir, "--name", "m1", "--listen", listen, "--out", cred); err != nil {
		t.Fatal(err, out)
	}
	s.hub = startServe(t, s.hubDir)
	s.mirror = startMirrorProcess(t, s.mirDir, "--hub", listen, "--credential", cred,
		"--secrets-key", filepath.Join(s.hubDir, "keyring", "secrets.key"))
	return s
}

// startMirrorProcess runs `vigil mirror` as a child process.
func startMirrorProcess(t *testing.T, dir string, args ...string) *child {
	t.Helper()
	return startChild(t, append([]string{"mirror", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
}

// readState reads the mirror's checker state.
func readMirrorState(t *testing.T, dir string) node.MirrorStatus {
	t.Helper()
	var st node.MirrorStatus
	b, err := os.ReadFile(filepath.Join(dir, "mirror", "state.json"))
	if err == nil {
		json.Unmarshal(b, &st)
	}
	return st
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func loadEvent(w, i int) vigil.Event {
	ev, _ := vigil.NewEvent(vigil.Actor{Name: "load", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "mirror-test"},
		"load.appended", fmt.Sprintf("w%d-%d", w, i), time.Now(), nil)
	return ev
}

// readAll returns every entry of a log.
func readAll(t *testing.T, l *vnats.Log) [][]byte {
	t.Helper()
	last, err := l.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	if err := l.Read(t.Context(), 1, last, func(seq uint64, data []byte) error {
		out = append(out, bytes.Clone(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMirrorPromotedAfterPrimaryKilledUnderLoadKeepsEverythingItAcknowledged(t *testing.T) {
	s := startMirrorSite(t)
	hubLog, closeHub := connectLog(t, s.hubDir)
	mirLog, closeMir := connectLog(t, s.mirDir)

	var mu sync.Mutex
	acked := 0
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				actx, acancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := hubLog.Append(actx, []vigil.Event{loadEvent(w, i)}, vigil.AppendOptions{})
				acancel()
				if err == nil {
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}
		}(w)
	}
	// Long enough for the hub to sign checkpoints (every 5 s) and the
	// mirror to check them.
	waitFor(t, "the mirror verified a checkpoint under load", 90*time.Second, func() bool {
		return readMirrorState(t, s.mirDir).Verified != nil
	})
	// What the mirror has acknowledged (stored, fsynced) just before the
	// primary dies.
	before, err := mirLog.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s.hub.kill9(t)
	cancel()
	wg.Wait()
	closeHub()
	time.Sleep(500 * time.Millisecond)
	stored, err := mirLog.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	closeMir()
	if before < 100 {
		t.Fatalf("the mirror held only %d entries under load", before)
	}
	// The mirror dies too, hard; then the operator promotes it.
	s.mirror.kill9(t)
	// Its copy is encrypted at rest with its own key, not the hub's.
	hubKey, _ := os.ReadFile(filepath.Join(s.hubDir, "keyring", "store.key"))
	mirKey, _ := os.ReadFile(filepath.Join(s.mirDir, "keyring", "store.key"))
	if len(mirKey) == 0 || bytes.Equal(hubKey, mirKey) {
		t.Fatal("the mirror has no store key of its own")
	}
	filepath.WalkDir(filepath.Join(s.mirDir, "nats"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("load.appended")) {
				t.Errorf("%s holds event text in the clear", path)
			}
		}
		return nil
	})
	if st := readMirrorState(t, s.mirDir); len(st.Problems) > 0 {
		t.Fatalf("the mirror found problems with an honest hub: %+v", st.Problems)
	}
	if out, err := run(t, "serve", "--data", s.mirDir); err == nil || !strings.Contains(userMessage(err), "vigil mirror promote") {
		t.Fatalf("vigil serve on an unpromoted mirror: %v %s", err, out)
	}
	out, err := run(t, "mirror", "promote", "--data", s.mirDir)
	if err != nil {
		t.Fatal(err, out)
	}
	t.Logf("%d events acknowledged by the primary; mirror held %d entries before the kill, %d after; %s", acked, before, stored, strings.TrimSpace(out))
	// Promotion checked the old primary's checkpoints against the entries.
	var verified int
	for _, line := range strings.Split(out, "\n") {
		fmt.Sscanf(line, "%d of the old primary's checkpoints match", &verified)
	}
	if verified < 1 || strings.Contains(out, "PROBLEM") {
		t.Fatalf("promotion verified %d of the old primary's checkpoints:\n%s", verified, out)
	}

	// The promoted mirror is an ordinary primary: it serves and takes writes.
	p := startServe(t, s.mirDir)
	plog, closeP := connectLog(t, s.mirDir)
	promoted := readAll(t, plog)
	if uint64(len(promoted)) < stored+1 {
		t.Fatalf("the promoted log holds %d entries; the mirror had acknowledged %d", len(promoted), stored)
	}
	// The promotion is the first entry the new primary wrote; what comes
	// before it is what the mirror had stored (at least what it had
	// acknowledged when we looked: entries in flight may have landed since).
	mirrored := -1
	for i, data := range promoted {
		if entry, err := vigil.UnmarshalEntry(data); err == nil && entry[0].Type == node.EventMirrorPromoted {
			mirrored = i
			break
		}
	}
	if mirrored < 0 || uint64(mirrored) < stored {
		t.Fatalf("mirror.promoted is entry %d of the promoted log; the mirror had acknowledged %d entries", mirrored+1, stored)
	}
	promoted = promoted[:mirrored]
	if _, err := plog.Append(t.Context(), []vigil.Event{loadEvent(99, 0)}, vigil.AppendOptions{}); err != nil {
		t.Fatalf("the promoted primary refuses a write: %v", err)
	}
	closeP()
	p.stop(t)

	// Every entry the mirror holds is the primary's, byte for byte.
	hub, err := node.Open(t.Context(), node.Options{Dir: s.hubDir, Inspect: true})
	if err != nil {
		t.Fatal(err)
	}
	original := readAll(t, hub.Log)
	hub.Close()
	if len(promoted) > len(original) {
		t.Fatalf("the promoted log holds %d entries, the primary only %d", len(promoted), len(original))
	}
	for i := range promoted {
		if !bytes.Equal(promoted[i], original[i]) {
			t.Fatalf("entry %d of the promoted log differs from the primary's", i+1)
		}
	}
	t.Logf("recovery point: the primary had %d entries, the promoted mirror %d (%d not yet mirrored at the kill)",
		len(original), len(promoted), len(original)-len(promoted))

	if out, err := run(t, "log", "verify", "--data", s.mirDir); err != nil || !strings.Contains(out, "log verified: OK") {
		t.Fatalf("vigil log verify on the promoted mirror: %v\n%s", err, out)
	}
	if out, err := run(t, "verify", "--data", s.mirDir); err != nil || !strings.Contains(out, "projections verified: OK") {
		t.Fatalf("vigil verify on the promoted mirror: %v\n%s", err, out)
	}
	if out, err := run(t, "mirror", "promote", "--data", s.mirDir); err == nil || !strings.Contains(out+userMessage(err), "already promoted") {
		t.Fatalf("promoting twice: %v %s", err, out)
	}
}

func TestMirrorReportsAForkedPrimaryHistoryAndRefusesWrites(t *testing.T) {
	s := startMirrorSite(t)
	hubLog, closeHub := connectLog(t, s.hubDir)
	defer closeHub()
	for i := 0; i < 20; i++ {
		if _, err := hubLog.Append(t.Context(), []vigil.Event{loadEvent(0, i)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The hub checkpoints every 5 s; the mirror checks each one.
	waitFor(t, "the mirror verified a checkpoint of the hub", 90*time.Second, func() bool {
		st := readMirrorState(t, s.mirDir)
		return st.Verified != nil && st.Verified.Size >= 20
	})
	good := readMirrorState(t, s.mirDir)
	if len(good.Problems) > 0 {
		t.Fatalf("problems on an honest hub: %+v", good.Problems)
	}

	t.Run("a mirror with another log's secrets key is refused and leaves nothing", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "secrets.key")
		os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		dir := filepath.Join(t.TempDir(), "m2")
		cred := filepath.Join(filepath.Dir(s.mirDir), "m1.credential")
		var ri struct{ Listen string }
		b, _ := os.ReadFile(filepath.Join(s.hubDir, "mirrors.json"))
		json.Unmarshal(b, &ri)
		out, err := run(t, "mirror", "--data", dir, "--hub", ri.Listen, "--credential", cred, "--secrets-key", other)
		if err == nil || !strings.Contains(userMessage(err), "secrets key") {
			t.Fatalf("a wrong secrets key: %v %s", err, out)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Fatalf("the failed mirror left %d files behind", len(entries))
		}
	})

	t.Run("the mirror's pages and API refuse every write, clearly", func(t *testing.T) {
		base := "http://" + s.mirror.addr
		resp, err := http.Get(base + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", err, resp)
		}
		resp.Body.Close()
		req, _ := http.NewRequest("POST", base+"/api/v1/alerts/x/acknowledge", strings.NewReader(`{"note":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "read-only mirror") {
			t.Fatalf("a write on the mirror: %d %s", resp.StatusCode, body)
		}
		// An observer made on the hub signs in on the mirror and reads.
		out, err := run(t, "user", "add", "olga", "--data", s.hubDir)
		if err != nil {
			t.Fatal(err, out)
		}
		_, pw, _ := strings.Cut(out, "initial password: ")
		if out, err := run(t, "user", "grant", "olga", "--role", "observer", "--scope", "state", "--data", s.hubDir); err != nil {
			t.Fatal(err, out)
		}
		// Wait until the mirror's projections hold the grant: signing in
		// before would count as failed attempts (and be throttled).
		hubLast, err := hubLog.LastSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		mn, err := node.Open(t.Context(), node.Options{Dir: s.mirDir})
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(t.Context(), 20*time.Second)
		err = mn.WaitApplied(wctx, hubLast)
		wcancel()
		mn.Close()
		if err != nil {
			t.Fatalf("the mirror did not apply the hub's entries: %v", err)
		}
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar}
		var login struct{ CSRF string }
		resp, err = cl.Post(base+"/api/v1/session", "application/json",
			strings.NewReader(fmt.Sprintf(`{"username":"olga","password":%q}`, strings.TrimSpace(pw))))
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&login)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || login.CSRF == "" {
			t.Fatalf("the observer cannot sign in on the mirror: %d", resp.StatusCode)
		}
		resp, err = cl.Get(base + "/api/v1/mirror")
		if err != nil {
			t.Fatal(err)
		}
		var st node.MirrorStatus
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != 200 || !st.LinkUp || st.Name != "m1" || st.Entries < hubLast || st.Verified == nil {
			t.Fatalf("the mirror's status for an observer: %d %+v", resp.StatusCode, st)
		}
		// Pages too: the home page reads; a form post is refused with a page
		// that says why.
		resp, err = cl.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "olga") || !strings.Contains(string(page), `id="read-only"`) {
			t.Fatalf("the home page on the mirror (signed in, with the read-only banner): %d", resp.StatusCode)
		}
		form := strings.NewReader("csrf=" + login.CSRF + "&note=x")
		req, _ = http.NewRequest("POST", base+"/alerts/x/acknowledge", form)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), "read-only mirror") {
			t.Fatalf("a form post on the mirror: %d %s", resp.StatusCode, page)
		}
		req, _ = http.NewRequest("POST", base+"/api/v1/alerts/x/acknowledge", strings.NewReader(`{"note":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", login.CSRF)
		resp, err = cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "read-only mirror") {
			t.Fatalf("a signed-in write on the mirror: %d %s", resp.StatusCode, body)
		}
		// Signing in is not a write; a wrong password is still refused.
		resp, err = http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"username":"nobody","password":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a sign-in on the mirror: %d %s", resp.StatusCode, body)
		}
	})

	// The primary's key signs a checkpoint of a rewritten history: the same
	// number of entries as the last one the mirror verified, another root.
	keyText, err := os.ReadFile(filepath.Join(s.hubDir, "keyring", "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(strings.TrimSpace(string(keyText)))
	if err != nil {
		t.Fatal(err)
	}
	var h ledger.Hasher
	for i := int64(0); i < good.Verified.Size; i++ {
		h.Add([]byte(fmt.Sprintf("rewritten entry %d", i)))
	}
	forged := ledger.Checkpoint{Origin: "vigil.log/" + hubLog.LogID, Size: good.Verified.Size, Root: h.Root()}
	msg, err := forged.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	nc, js := hubJetStream(t, s.hubDir)
	defer nc()
	if err := vnats.PublishCheckpoint(t.Context(), js, signer.Name(), msg); err != nil {
		t.Fatal(err)
	}

	waitFor(t, "the mirror found the forked checkpoint and reported it to the hub", 20*time.Second, func() bool {
		st := readMirrorState(t, s.mirDir)
		return len(st.Problems) == 1 && st.Problems[0].Reported
	})
	st := readMirrorState(t, s.mirDir)
	if !strings.Contains(st.Problems[0].Message, "rewritten or forked") || st.Problems[0].Checkpoint.Size != forged.Size {
		t.Fatalf("problem: %+v", st.Problems[0])
	}
	// The hub's log holds the report, and its detection raised the
	// critical alert checkpoint-inconsistent; it also holds the mirror's
	// routine mirror.checked report.
	waitFor(t, "the hub raised the checkpoint-inconsistent alert", 30*time.Second, func() bool {
		var report, alert, checked bool
		for _, data := range readAll(t, hubLog) {
			entry, err := vigil.UnmarshalEntry(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range entry {
				switch {
				case ev.Type == vigil.EventLogCheckpointInconsistent && ev.Actor == "mirror:m1":
					report = true
				case ev.Type == vigil.EventMirrorChecked && ev.Actor == "mirror:m1" && ev.Origin == "m1":
					checked = true // reported when the mirror starts, then every minute
				case ev.Type == vigil.EventAlertRaised && strings.Contains(string(ev.Payload), `"rule":"checkpoint-inconsistent"`):
					alert = true
				}
			}
		}
		return report && alert && checked
	})
	out, err := run(t, "mirror", "status", "--data", s.mirDir)
	if err == nil || !strings.Contains(out, "PROBLEM") {
		t.Fatalf("vigil mirror status after a fork: %v\n%s", err, out)
	}

	// Later honest checkpoints do not hide it, and do not raise it again.
	for i := 20; i < 30; i++ {
		if _, err := hubLog.Append(t.Context(), []vigil.Event{loadEvent(0, i)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the mirror verified the next honest checkpoint", 30*time.Second, func() bool {
		st := readMirrorState(t, s.mirDir)
		return st.Verified != nil && st.Verified.Size >= 30
	})
	if st := readMirrorState(t, s.mirDir); len(st.Problems) != 1 {
		t.Fatalf("%d problems after an honest checkpoint, want the 1 kept", len(st.Problems))
	}

}

// hubJetStream connects to a running node's NATS listener as its local
// commands do.
func hubJetStream(t *testing.T, dir string) (func(), jetstream.JetStream) {
	t.Helper()
	var ri struct {
		NATSURL string `json:"nats_url"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "run", "node.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &ri)
	token, _ := os.ReadFile(filepath.Join(dir, "keyring", "nats.token"))
	nc, err := vnats.Dial(vnats.ClientOptions{URL: ri.NATSURL, Token: strings.TrimSpace(string(token)), Name: "mirror test"})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	return nc.Close, js
}

// A primary whose history is really rewritten: it is stopped, restored
// from an older backup (same log, same checkpoint key) and goes on taking
// different events. The mirror still holds the original history; the
// restored primary's next checkpoints cannot match it.
func TestMirrorDetectsAPrimaryRestoredFromAnOlderBackup(t *testing.T) {
	s := startMirrorSite(t)
	hubLog, closeHub := connectLog(t, s.hubDir)
	for i := 0; i < 20; i++ {
		if _, err := hubLog.Append(t.Context(), []vigil.Event{loadEvent(1, i)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	idFile, rcpt := writeIdentity(t)
	archive := filepath.Join(t.TempDir(), "old.vigil.age")
	if out, err := run(t, "backup", "--data", s.hubDir, "--out", archive, "--recipient", rcpt); err != nil {
		t.Fatal(err, out)
	}
	for i := 20; i < 50; i++ {
		if _, err := hubLog.Append(t.Context(), []vigil.Event{loadEvent(1, i)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := hubLog.LastSeq(t.Context())
	waitFor(t, "the mirror verified the newest history", 90*time.Second, func() bool {
		st := readMirrorState(t, s.mirDir)
		return st.Verified != nil && st.Verified.Size >= int64(last)
	})
	closeHub()
	s.hub.stop(t)

	// The rewrite: restore the older backup and serve it in the primary's
	// place, on the same mirror listener.
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := run(t, "restore", archive, "--identity", idFile, "--data", restored); err != nil {
		t.Fatal(err, out)
	}
	b, err := os.ReadFile(filepath.Join(s.hubDir, "mirrors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "mirrors.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	startServe(t, restored)
	newLog, closeNew := connectLog(t, restored)
	defer closeNew()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			newLog.Append(ctx, []vigil.Event{loadEvent(2, i)}, vigil.AppendOptions{})
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitFor(t, "the mirror found the rewritten history", 90*time.Second, func() bool {
		st := readMirrorState(t, s.mirDir)
		return len(st.Problems) > 0 && st.Problems[0].Reported
	})
	st := readMirrorState(t, s.mirDir)
	t.Logf("mirror's finding: %s", st.Problems[0].Message)
	if !strings.Contains(st.Problems[0].Message, "rewritten or forked") && !strings.Contains(st.Problems[0].Message, "rolled back") {
		t.Fatalf("problem: %+v", st.Problems[0])
	}
	if st.Verified == nil || st.Verified.Size < int64(last) {
		t.Fatalf("the mirror's last verified checkpoint moved back: %+v", st.Verified)
	}
}

func TestMirrorCommandsFailWithClearMessages(t *testing.T) {
	empty := t.TempDir()
	hub := filepath.Join(t.TempDir(), "hub")
	if out, err := run(t, "init", "--data", hub, "--name", "hub"); err != nil {
		t.Fatal(err, out)
	}
	cred := filepath.Join(t.TempDir(), "cred")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a first run without the hub's address", []string{"mirror", "--data", empty}, 2, "--hub HOST:PORT"},
		{"promoting a directory that is not a mirror", []string{"mirror", "promote", "--data", hub}, 2, "not a mirror"},
		{"allowing a mirror on a directory that is not a node", []string{"mirror", "allow", "--data", empty, "--name", "m1", "--listen", "127.0.0.1:7422", "--out", cred}, 3, "vigil init"},
		{"a mirror name with a dot", []string{"mirror", "allow", "--data", hub, "--name", "m.1", "--listen", "127.0.0.1:7422", "--out", cred}, 2, "lower-case"},
		{"allowing a mirror without a listener", []string{"mirror", "allow", "--data", hub, "--name", "m1", "--out", cred}, 2, "HOST:PORT"},
		{"running an ordinary node as a mirror", []string{"mirror", "--data", hub, "--hub", "127.0.0.1:7422", "--credential", cred, "--secrets-key", filepath.Join(hub, "keyring", "secrets.key")}, 4, "not a mirror"},
		{"status of a directory that never ran a mirror", []string{"mirror", "status", "--data", hub}, 3, "no mirror state"},
		{"revoking a mirror the hub never admitted", []string{"mirror", "revoke", "--data", hub, "--name", "m9"}, 3, "admits no mirror"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, tt.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			if got := exitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			if !strings.Contains(userMessage(err), tt.want) {
				t.Errorf("message %q does not mention %q", userMessage(err), tt.want)
			}
		})
	}
	t.Run("a mirror allowed, then revoked, is gone", func(t *testing.T) {
		if out, err := run(t, "mirror", "allow", "--data", hub, "--name", "m1", "--listen", "127.0.0.1:7422", "--out", cred); err != nil {
			t.Fatal(err, out)
		}
		if out, err := run(t, "mirror", "revoke", "--data", hub, "--name", "m1"); err != nil {
			t.Fatal(err, out)
		}
		if out, err := run(t, "mirror", "revoke", "--data", hub, "--name", "m1"); exitCode(err) != 3 {
			t.Fatalf("revoking twice: %v %s", err, out)
		}
	})
}
