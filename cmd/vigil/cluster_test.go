package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/internal/testutil"
)

// TestServeOnExternalCluster sets up two nodes with `vigil init --nats` on
// one 3-server JetStream cluster and serves both through Main: what one
// node writes, the other serves. (node/cluster_test.go kills a server of
// such a cluster under load.)
func TestServeOnExternalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	c := testutil.RunCluster(t, 3)
	var dirs, addrs []string
	for _, name := range []string{"site-a", "site-b"} {
		dir := filepath.Join(t.TempDir(), name)
		args := []string{"init", "--data", dir, "--name", name, "--nats", c.URLs(), "--nats-token", c.Token, "--replicas", "3"}
		if len(dirs) > 0 {
			// The log exists: joining it needs its shared secrets key.
			if out, err := run(t, args...); err == nil || !strings.Contains(out+err.Error(), "--secrets-key") {
				t.Fatalf("joining without the secrets key: %v\n%s", err, out)
			}
			os.RemoveAll(dir)
			args = append(args, "--secrets-key", filepath.Join(dirs[0], "keyring", "secrets.key"))
		}
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("vigil init %s: %v\n%s", name, err, out)
		}
		dirs = append(dirs, dir)
		addrs = append(addrs, serveInProcess(t, dir))
	}

	t.Run("both nodes are ready", func(t *testing.T) {
		for _, addr := range addrs {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s/readyz: %s", addr, resp.Status)
			}
		}
	})
	t.Run("an account added on one node is listed by the other", func(t *testing.T) {
		if out, err := run(t, "user", "add", "alice", "--data", dirs[0]); err != nil {
			t.Fatalf("vigil user add: %v\n%s", err, out)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			out, err := run(t, "user", "list", "--data", dirs[1])
			if err == nil && strings.Contains(out, "alice") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("site-b does not list alice after 15s: %v\n%s", err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("a wrong token is refused as unavailable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "intruder")
		_, err := run(t, "init", "--data", dir, "--nats", c.URLs(), "--nats-token", "not-the-token")
		if vigil.ErrorKind(err) != vigil.Unavailable || exitCode(err) != 6 {
			t.Fatalf("init with a wrong token: %v (exit code %d), want exit code 6", err, exitCode(err))
		}
	})
}

// serveInProcess runs `vigil serve --data DIR` through Main on a free port
// and returns its address; cleanup stops it.
func serveInProcess(t *testing.T, dir string) string {
	t.Helper()
	var stdout, stderr lockedBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	ready := make(chan string, 1)
	m.Ready = func(addr string) { ready <- addr }
	m.ParseFlags([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("vigil serve %s: %v\n%s", dir, err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("vigil serve %s did not stop 15s after its context ended\n%s", dir, stderr.String())
		}
		if err := m.Close(); err != nil {
			t.Errorf("Main.Close: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("vigil serve %s stopped before serving: %v\n%s", dir, err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("vigil serve %s was not serving after 30s\n%s", dir, stderr.String())
	}
	return ""
}
