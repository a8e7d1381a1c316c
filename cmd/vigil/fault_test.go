package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
)

// child is `vigil serve` running as a separate process.
type child struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

func startServe(t *testing.T, dir string) *child {
	t.Helper()
	return startChild(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn")
}

// startChild runs this test binary as `vigil ARGS…` in a child process and
// waits until it says where it serves; the child is killed at cleanup, and
// its stderr is logged if the test failed.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIGIL_EXEC_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), " at http://"); i >= 0 {
				ready <- strings.TrimPrefix(sc.Text()[i:], " at http://")
			}
		}
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case c.addr = <-ready:
	case err := <-c.done:
		t.Fatalf("vigil %s exited: %v\n%s", args[0], err, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("vigil %s did not start\n%s", args[0], stderr.String())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("vigil %s's stderr:\n%s", args[0], stderr.String())
		}
	})
	return c
}

func (c *child) kill9(t *testing.T) {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

func (c *child) stop(t *testing.T) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("vigil serve did not stop on SIGTERM")
	}
}

// connectLog reaches the child's log the way local commands do.
func connectLog(t *testing.T, dir string) (*vnats.Log, func()) {
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
	nc, err := vnats.Dial(vnats.ClientOptions{URL: ri.NATSURL, Token: strings.TrimSpace(string(token)), Name: "fault test"})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	l, err := vnats.OpenLog(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	return l, func() { l.Close(); nc.Close() }
}

func TestKill9UnderLoadLosesNothingAcknowledged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := startServe(t, dir)
	log, closeLog := connectLog(t, dir)

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				ev, _ := vigil.NewEvent(vigil.Actor{Name: "load", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "fault-test"},
					"load.appended", fmt.Sprintf("w%d-%d", w, i), time.Now(), nil)
				actx, acancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := log.Append(actx, []vigil.Event{ev}, vigil.AppendOptions{})
				acancel()
				if err == nil {
					mu.Lock()
					acked[ev.ID] = true
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(2 * time.Second)
	t0 := time.Now()
	c.kill9(t) // mid-write: appends in flight get no acknowledgement
	t.Logf("killed after %v", time.Since(t0))
	cancel()
	wg.Wait()
	closeLog()
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged before the kill; the load did not run", len(acked))
	}

	t.Logf("appenders stopped after %v", time.Since(t0))
	c = startServe(t, dir)
	t.Logf("restarted after %v", time.Since(t0))
	log, closeLog = connectLog(t, dir)
	seen := map[string]int{}
	last, err := log.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Read(t.Context(), 1, last, func(seq uint64, data []byte) error {
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			return err
		}
		for _, ev := range entry {
			seen[ev.ID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	closeLog()
	t.Logf("%d events acknowledged before kill -9; %d in the log after restart", len(acked), len(seen))
	for id := range acked {
		if seen[id] == 0 {
			t.Errorf("acknowledged event %s is missing after kill -9", id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event %s is stored %d times", id, n)
		}
	}
	t.Logf("read back after %v", time.Since(t0))
	c.stop(t)
	t.Logf("stopped after %v", time.Since(t0))

	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags([]string{"log", "verify", "--data", dir})
	err = m.Run(t.Context())
	m.Close()
	if err != nil || !strings.Contains(out.String(), "log verified: OK") {
		t.Fatalf("vigil log verify after kill -9: %v\n%s", err, out.String())
	}
	out.Reset()
	m = &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags([]string{"verify", "--data", dir})
	err = m.Run(t.Context())
	m.Close()
	if err != nil || !strings.Contains(out.String(), "projections verified: OK") {
		t.Fatalf("vigil verify after kill -9: %v\n%s", err, out.String())
	}
}
