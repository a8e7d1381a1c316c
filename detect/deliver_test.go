package detect_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
)

var sample = vigil.AlertRaised{ID: "0123456789abcdef", Rule: "roll-export-off-hours", Kind: "threshold",
	Severity: vigil.AlertHigh, Title: "Voter roll exported outside business hours",
	Summary: `1 events of voter.exported for actor=DEE "quoted" ]`, Group: `actor=DEE"]`, Count: 1, Threshold: 1}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	var mu sync.Mutex
	var calls []time.Time
	var body []byte
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, time.Now())
		if len(calls) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		body, _ = io.ReadAll(r.Body)
	}))
	defer ts.Close()
	n := &detect.Notifier{Targets: func() ([]string, []string) { return []string{ts.URL + "/hook?token=s3cret"}, nil },
		Backoff: 50 * time.Millisecond, Attempts: 5}
	n.Start(t.Context())
	n.Deliver(sample)
	n.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	// Lower bounds only: a loaded machine adds delay, never removes it.
	if gap1, gap2 := calls[1].Sub(calls[0]), calls[2].Sub(calls[1]); gap1 < 50*time.Millisecond || gap2 < 100*time.Millisecond {
		t.Fatalf("no backoff: %v then %v", gap1, gap2)
	}
	var got struct{ Alert vigil.AlertRaised }
	if err := json.Unmarshal(body, &got); err != nil || got.Alert.ID != sample.ID {
		t.Fatalf("%v %s", err, body)
	}
}

// RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG
var rfc5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\S+) (\S+) vigil (\d+) alert (\[vigil@32473 (?:[a-z]+="(?:[^"\\\]]|\\.)*" ?)+\]) (.*)$`)

func checkSyslog(t *testing.T, msg string) {
	t.Helper()
	m := rfc5424.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("not RFC 5424: %q", msg)
	}
	if pri, _ := strconv.Atoi(m[1]); pri != 4*8+3 {
		t.Fatalf("PRI %d, want security facility, severity error", pri)
	}
	if _, err := time.Parse(time.RFC3339Nano, m[2]); err != nil {
		t.Fatalf("timestamp %q", m[2])
	}
	if !strings.Contains(m[5], `id="0123456789abcdef"`) || !strings.Contains(m[5], `group="actor=DEE\"\]"`) {
		t.Fatalf("structured data %q", m[5])
	}
	if !strings.HasPrefix(m[6], sample.Title) {
		t.Fatalf("message %q", m[6])
	}
}

func TestSyslogOverUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	n := &detect.Notifier{Targets: func() ([]string, []string) { return nil, []string{"udp://" + pc.LocalAddr().String()} }, Hostname: "hub-1"}
	n.Deliver(sample)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	k, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	n.Wait()
	checkSyslog(t, string(buf[:k]))
}

func TestSyslogOverTCPWithOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		lenText, _ := br.ReadString(' ')
		size, _ := strconv.Atoi(strings.TrimSpace(lenText))
		msg := make([]byte, size)
		io.ReadFull(br, msg)
		got <- string(msg)
	}()
	n := &detect.Notifier{Targets: func() ([]string, []string) { return nil, []string{"tcp://" + ln.Addr().String()} }}
	n.Deliver(sample)
	select {
	case m := <-got:
		checkSyslog(t, m)
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
	}
	n.Wait()
}
