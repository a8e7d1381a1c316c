package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
)

// Notifier pushes alerts to webhooks (POST of the alert as JSON) and syslog
// (RFC 5424 over UDP, or over TCP with RFC 6587 octet counting). Delivery is
// best effort with retries: the log and the officer's page remain the
// record; a push that fails every attempt is logged.
type Notifier struct {
	// Targets returns where to deliver now (the running rules' webhook and
	// syslog lines).
	Targets func() (webhooks, syslogs []string)
	Client  *http.Client
	Logger  *slog.Logger
	// Attempts per target (default 6) and the first pause between them,
	// doubled each time (default 500ms).
	Attempts int
	Backoff  time.Duration
	Hostname string

	ctx  context.Context
	wg   sync.WaitGroup
	sem  chan struct{}
	once sync.Once
}

func (n *Notifier) init() {
	n.once.Do(func() {
		if n.Client == nil {
			n.Client = &http.Client{Timeout: 10 * time.Second}
		}
		if n.Logger == nil {
			n.Logger = slog.New(slog.DiscardHandler)
		}
		if n.Attempts == 0 {
			n.Attempts = 6
		}
		if n.Backoff == 0 {
			n.Backoff = 500 * time.Millisecond
		}
		if n.Hostname == "" {
			n.Hostname, _ = os.Hostname()
		}
		if n.ctx == nil {
			n.ctx = context.Background()
		}
		n.sem = make(chan struct{}, 16)
	})
}

// Start binds deliveries to ctx: when it ends, pending retries stop.
func (n *Notifier) Start(ctx context.Context) { n.ctx = ctx; n.init() }

// Wait blocks until every delivery started so far has finished.
func (n *Notifier) Wait() { n.wg.Wait() }

// Deliver sends a to every target in the background.
func (n *Notifier) Deliver(a Alert) {
	n.init()
	if n.Targets == nil {
		return
	}
	hooks, logs := n.Targets()
	body, _ := json.Marshal(map[string]any{"alert": a})
	for _, u := range hooks {
		n.spawn(a, u, func() error { return n.postWebhook(u, body) })
	}
	for _, u := range logs {
		msg := SyslogMessage(a, n.Hostname, time.Now())
		n.spawn(a, u, func() error { return sendSyslog(n.ctx, u, msg) })
	}
}

func (n *Notifier) spawn(a Alert, target string, send func() error) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.sem <- struct{}{}
		defer func() { <-n.sem }()
		pause := n.Backoff
		var err error
		for i := range n.Attempts {
			if err = send(); err == nil {
				return
			}
			if i == n.Attempts-1 {
				break
			}
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(pause):
			}
			pause *= 2
		}
		n.Logger.Error("alert delivery failed", "id", a.ID, "target", redactURL(target), "err", err)
	}()
}

func (n *Notifier) postWebhook(url string, body []byte) error {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil/"+vigil.Version)
	resp, err := n.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// redactURL drops a webhook's path and query, which often hold a token.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "?"
	}
	host, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	return scheme + "://" + host + "/…"
}

// syslogSeverity maps alert severities to RFC 5424 severities.
var syslogSeverity = map[vigil.AlertSeverity]int{vigil.AlertCritical: 2, vigil.AlertHigh: 3, vigil.AlertMedium: 4, vigil.AlertLow: 5}

// syslogFacility is "security/authorization messages" (4).
const syslogFacility = 4

// SyslogMessage formats a as one RFC 5424 message with structured data
// under the documentation enterprise number 32473 (RFC 5612).
func SyslogMessage(a Alert, host string, now time.Time) []byte {
	sev, ok := syslogSeverity[a.Severity]
	if !ok {
		sev = 4
	}
	if host == "" {
		host = "-"
	}
	sd := fmt.Sprintf(`[vigil@32473 id="%s" rule="%s" severity="%s" group="%s" count="%g"]`,
		sdEscape(a.ID), sdEscape(a.Rule), sdEscape(string(a.Severity)), sdEscape(a.Group), a.Count)
	msg := a.Title + ": " + a.Summary
	return fmt.Appendf(nil, "<%d>1 %s %s vigil %d alert %s %s", syslogFacility*8+sev,
		now.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), printable(host, 255), os.Getpid(), sd, strings.ToValidUTF8(msg, "?"))
}

func sdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(strings.ToValidUTF8(s, "?"))
}

func printable(s string, n int) string {
	var b strings.Builder
	for _, c := range s {
		if c > 32 && c < 127 && b.Len() < n {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func sendSyslog(ctx context.Context, target string, msg []byte) error {
	scheme, addr, _ := strings.Cut(target, "://")
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, scheme, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if scheme == "tcp" {
		msg = append(fmt.Appendf(nil, "%d ", len(msg)), msg...)
	}
	_, err = c.Write(msg)
	return err
}
