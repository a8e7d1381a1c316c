package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
	"github.com/vigil-elections/vigil/node"
)

// TestServeDetectsAndDelivers: `vigil serve` runs detection on its own log:
// a burst of failed logins becomes an alert in the log, on the officer's
// API, in `vigil alerts list`, at a webhook and in syslog.
func TestServeDetectsAndDelivers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "detect-e2e"}); err != nil {
		t.Fatal(err)
	}
	hooks := make(chan vigil.AlertRaised, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Alert vigil.AlertRaised }
		json.NewDecoder(r.Body).Decode(&body)
		hooks <- body.Alert
	}))
	defer hook.Close()
	sys, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	rules := "webhook " + hook.URL + "/vigil\nsyslog udp://" + sys.LocalAddr().String() + "\n" + string(detect.DefaultRulesText())
	os.MkdirAll(filepath.Dir(detect.RulesPath(dir)), 0o700)
	if err := os.WriteFile(detect.RulesPath(dir), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}

	var stderr lockedBuffer
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, &stderr
	ready := make(chan string, 1)
	m.Ready = func(addr string) { ready <- addr }
	m.ParseFlags([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
		m.Close()
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("not serving")
	}

	for range 7 {
		resp, err := http.Post(base+"/api/v1/session", "application/json",
			strings.NewReader(`{"username":"mallory","password":"guess guess guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var got vigil.AlertRaised
	select {
	case got = <-hooks:
	case <-time.After(15 * time.Second):
		t.Fatalf("no webhook delivery\n%s", stderr.String())
	}
	if got.Rule != "failed-logins-one-account" || got.Group != "name=MALLORY" || len(got.Evidence) < 6 {
		t.Fatalf("%+v", got)
	}
	t.Run("syslog received it", func(t *testing.T) {
		sys.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, _, err := sys.ReadFrom(buf)
		if err != nil || !strings.Contains(string(buf[:n]), `rule="failed-logins-one-account"`) {
			t.Fatalf("%v %q", err, buf[:n])
		}
	})
	t.Run("vigil alerts list shows it while serve runs", func(t *testing.T) {
		var out bytes.Buffer
		c := &Main{Stdout: &out, Stderr: &out}
		c.ParseFlags([]string{"alerts", "list", "--data", dir})
		deadline := time.Now().Add(5 * time.Second)
		for {
			out.Reset()
			err := c.Run(t.Context())
			c.Close()
			if err == nil && strings.Contains(out.String(), got.ID) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v\n%s", err, out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("vigil alerts resolve records the officer's note", func(t *testing.T) {
		var out bytes.Buffer
		c := &Main{Stdout: &out, Stderr: &out}
		c.ParseFlags([]string{"alerts", "resolve", got.ID, "--note", "a pen test, announced", "--data", dir})
		err := c.Run(t.Context())
		c.Close()
		if err != nil {
			t.Fatalf("%v %s", err, out.String())
		}
	})
}

func TestDetectCheckNamesBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules")
	os.WriteFile(path, []byte("zone UTC\nrule a\n  events voter.changed\n  window soon\n"), 0o600)
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags([]string{"detect", "check", path})
	err := m.Run(t.Context())
	m.Close()
	if exitCode(err) != 2 || !strings.Contains(out.String(), path+":4: window") {
		t.Fatalf("exit %d: %s", exitCode(err), out.String())
	}
}

func TestBenchDetectLastLine(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: io.Discard}
	m.ParseFlags([]string{"bench", "detect", "--voters", "5000", "--seed", "3"})
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "detected 5/5 scenarios; false alerts ") || !strings.HasSuffix(last, " per day") {
		t.Fatalf("last line %q", last)
	}
}
