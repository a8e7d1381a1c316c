package http_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

// raise appends an alert as the detection runner would.
func (e *testEnv) raise(id string, sev vigil.AlertSeverity) {
	e.t.Helper()
	sys := vigil.Actor{Name: "detect", Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: "http-test"}
	a := vigil.AlertRaised{ID: id, Rule: "roll-export-off-hours", Kind: "threshold", Severity: sev,
		Title: "Voter roll exported outside business hours", Summary: "1 events of voter.exported for actor=DEE",
		Group: "actor=DEE", WindowStart: time.Now(), WindowEnd: time.Now(), Count: 1, Threshold: 1,
		Evidence: []vigil.Evidence{{EventID: "e1", Seq: 1, Type: "voter.exported", Actor: "dee", Time: time.Now()}}}
	ev, err := vigil.NewEvent(sys, vigil.EventAlertRaised, id, time.Now(), a)
	if err != nil {
		e.t.Fatal(err)
	}
	zero := uint64(0)
	if _, err := e.node.Append(context.Background(), []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
		e.t.Fatal(err)
	}
}

// alertForm posts an HTML form as given (no CSRF token added).
func (c *client) alertForm(path string, values url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

func TestSecurityOfficerHandlesAlerts(t *testing.T) {
	e := MustServe(t)
	officer := e.MustUser("sec-fay", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	admin := e.MustUser("st-eve", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState})
	e.raise("aaaaaaaaaaaaaaaa", vigil.AlertHigh)

	t.Run("the officer lists open alerts with their evidence", func(t *testing.T) {
		r := officer.do("GET", "/api/v1/alerts", nil)
		alerts, _ := r.json()["alerts"].([]any)
		if r.status != 200 || len(alerts) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the page links the evidence to its inclusion proof", func(t *testing.T) {
		r := officer.do("GET", "/alerts", nil)
		if r.status != 200 || !strings.Contains(r.body, "/api/v1/log/proof/inclusion?seq=1") || !strings.Contains(r.body, "Acknowledge") {
			t.Fatalf("%d %.2000s", r.status, r.body)
		}
	})
	t.Run("a state administrator reads alerts but may not acknowledge them", func(t *testing.T) {
		if r := admin.do("GET", "/api/v1/alerts", nil); r.status != 200 {
			t.Fatalf("%d", r.status)
		}
		if r := admin.do("POST", "/api/v1/alerts/aaaaaaaaaaaaaaaa/acknowledge", map[string]string{"note": "x"}); r.status != 403 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := admin.do("GET", "/alerts", nil); strings.Contains(r.body, "Acknowledge</button>") {
			t.Fatal("the page offers the admin a form they may not use")
		}
	})
	t.Run("a form without the CSRF token is refused", func(t *testing.T) {
		r := officer.alertForm("/alerts/aaaaaaaaaaaaaaaa/acknowledge", url.Values{"note": {"looking"}})
		if r.status != 403 {
			t.Fatalf("%d", r.status)
		}
	})
	t.Run("the officer acknowledges with a note through the form", func(t *testing.T) {
		r := officer.alertForm("/alerts/aaaaaaaaaaaaaaaa/acknowledge", url.Values{"note": {"called the county admin"}, "csrf": {officer.csrf}})
		if r.status != 200 || !strings.Contains(r.body, "Acknowledged alert") {
			t.Fatalf("%d %.1000s", r.status, r.body)
		}
		a := officer.do("GET", "/api/v1/alerts/aaaaaaaaaaaaaaaa", nil).json()["alert"].(map[string]any)
		if a["status"] != "acknowledged" || a["ack_by"] != "sec-fay" || a["ack_note"] != "called the county admin" {
			t.Fatalf("%v", a)
		}
	})
	t.Run("resolving needs a note", func(t *testing.T) {
		r := officer.do("POST", "/api/v1/alerts/aaaaaaaaaaaaaaaa/resolve", map[string]string{"note": "  "})
		if r.status != 400 || r.json()["error"].(map[string]any)["field"] != "note" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the officer resolves it, once", func(t *testing.T) {
		r := officer.do("POST", "/api/v1/alerts/aaaaaaaaaaaaaaaa/resolve", map[string]string{"note": "export was authorized by the clerk"})
		if r.status != 200 || r.json()["alert"].(map[string]any)["status"] != "resolved" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := officer.do("POST", "/api/v1/alerts/aaaaaaaaaaaaaaaa/resolve", map[string]string{"note": "again"}); r.status != 409 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("an unknown alert is 404", func(t *testing.T) {
		if r := officer.do("POST", "/api/v1/alerts/nope000000/acknowledge", map[string]string{"note": "x"}); r.status != 404 {
			t.Fatalf("%d", r.status)
		}
	})
	t.Run("alert counts are in /metrics", func(t *testing.T) {
		r := e.client().do("GET", "/metrics", nil)
		if !strings.Contains(r.body, `vigil_alerts{severity="high",status="resolved"} 1`) {
			t.Fatalf("%.3000s", r.body)
		}
	})
}

func TestAlertsStreamLive(t *testing.T) {
	e := MustServe(t)
	officer := e.MustUser("sec-fay", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", officer.base+"/alerts/stream?since="+strconv.FormatUint(e.node.Applied(), 10), nil)
	resp, err := officer.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.raise("bbbbbbbbbbbbbbbb", vigil.AlertCritical)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == "alert" {
			if !strings.Contains(v, `"id":"bbbbbbbbbbbbbbbb"`) || !strings.Contains(v, `"status":"open"`) {
				t.Fatalf("data %s", v)
			}
			return
		}
	}
	t.Fatalf("the stream ended without the alert: %v", sc.Err())
}
