package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/detect"
	"github.com/vigil-elections/vigil/node"
)

func (s *Server) registerAlerts() {
	s.handle("GET /alerts", access.ActionAlertRead, nil, s.alertsPage)
	s.handle("GET /alerts/stream", access.ActionAlertRead, nil, s.alertsStream)
	s.handle("POST /alerts/{id}/acknowledge", access.ActionAlertManage, nil, s.alertNoteForm(vigil.EventAlertAcknowledged))
	s.handle("POST /alerts/{id}/resolve", access.ActionAlertManage, nil, s.alertNoteForm(vigil.EventAlertResolved))
	s.handle("GET /api/v1/alerts", access.ActionAlertRead, nil, s.apiAlerts)
	s.handle("GET /api/v1/alerts/{id}", access.ActionAlertRead, nil, s.apiAlert)
	s.handle("POST /api/v1/alerts/{id}/acknowledge", access.ActionAlertManage, nil, s.apiAlertNote(vigil.EventAlertAcknowledged))
	s.handle("POST /api/v1/alerts/{id}/resolve", access.ActionAlertManage, nil, s.apiAlertNote(vigil.EventAlertResolved))
}

// alertView is an alert as the page shows it.
type alertView struct {
	vigil.Alert
	Open bool
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderAlerts(w, r, rq, http.StatusOK, "", "")
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	all := r.URL.Query().Get("all") == "1"
	alerts, err := s.node.DB.Alerts(r.Context(), all, 200)
	if err != nil {
		return err
	}
	views := make([]alertView, len(alerts))
	for i, a := range alerts {
		views[i] = alertView{a, a.Status != vigil.AlertResolved}
	}
	canManage := false
	for _, g := range rq.user.Grants {
		canManage = canManage || (access.Allows(g.Role, access.ActionAlertManage) && g.Active(s.node.Now()))
	}
	rulesInfo := "built-in rules"
	rulesErr := ""
	path := detect.RulesPath(s.node.Dir)
	if rs, err := detect.LoadFile(path); err != nil {
		rulesErr = vigil.ErrorMessage(err)
	} else {
		rulesInfo = fmt.Sprintf("%s (%d rules)", rs.Source, len(rs.Rules))
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "alerts.html", map[string]any{"Title": "Alerts", "Alerts": views, "All": all,
		"CanManage": canManage, "Message": msg, "Error": errMsg, "Rules": rulesInfo, "RulesError": rulesErr,
		"Since": s.node.Applied()})
	return nil
}

// noteAlert appends an acknowledgement or resolution.
// Errors: NotFound, Invalid (no note), Conflict (already resolved).
func (s *Server) noteAlert(ctx context.Context, rq *request, typ vigil.EventType, id, note string) error {
	n := vigil.AlertNote{ID: id, Note: strings.TrimSpace(note)}
	if err := n.Validate(); err != nil {
		return err
	}
	a, err := s.node.DB.Alert(ctx, id)
	if err != nil {
		return err
	}
	if a.Status == vigil.AlertResolved {
		return &vigil.Error{Op: "alert.note", Kind: vigil.Conflict, Message: "this alert is already resolved by " + a.ResolvedBy}
	}
	ev, err := vigil.NewEvent(s.actor(rq), typ, id, s.node.Now(), n)
	if err != nil {
		return err
	}
	_, err = s.node.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

func (s *Server) alertNoteForm(typ vigil.EventType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		id := r.PathValue("id")
		err := s.noteAlert(r.Context(), rq, typ, id, r.PostFormValue("note"))
		if err != nil {
			k := vigil.ErrorKind(err)
			if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity {
				return err
			}
			return s.renderAlerts(w, r, rq, statusOf(k), "", vigil.ErrorMessage(err))
		}
		verb := "Acknowledged"
		if typ == vigil.EventAlertResolved {
			verb = "Resolved"
		}
		return s.renderAlerts(w, r, rq, http.StatusOK, verb+" alert "+id+".", "")
	}
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request, rq *request) error {
	alerts, err := s.node.DB.Alerts(r.Context(), r.URL.Query().Get("all") == "1", 500)
	if err != nil {
		return err
	}
	if alerts == nil {
		alerts = []vigil.Alert{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, err := s.node.DB.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"alert": a})
}

func (s *Server) apiAlertNote(typ vigil.EventType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		var req struct {
			Note string `json:"note"`
		}
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := s.noteAlert(r.Context(), rq, typ, id, req.Note); err != nil {
			return err
		}
		a, err := s.node.DB.Alert(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"alert": a})
	}
}

// alertsStream sends every alert change as a server-sent event ("alert",
// the alert as JSON) from the entry named by ?since= (or now) on. It
// follows the projection, so it works on every node that serves pages.
func (s *Server) alertsStream(w http.ResponseWriter, r *http.Request, rq *request) error {
	since, err := optUint(r, "since")
	if err != nil {
		return err
	}
	if since == 0 {
		since = s.node.Applied()
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		fmt.Sscan(id, &since)
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return vigil.Errorf(vigil.Unavailable, "alerts.stream", "this connection cannot stream")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 3000\n: following alerts after entry %d\n\n", since)
	fl.Flush()
	ctx := r.Context()
	// A stream ends after a while; the browser reconnects with
	// Last-Event-ID, and a server shutting down is not held open.
	end := time.After(10 * time.Minute)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	quiet := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			return nil
		case <-tick.C:
		}
		ids, last, err := s.node.DB.AlertChanges(ctx, since)
		if err != nil {
			return nil
		}
		sent := map[string]bool{}
		for _, id := range ids {
			if sent[id] {
				continue
			}
			sent[id] = true
			a, err := s.node.DB.Alert(ctx, id)
			if err != nil {
				continue
			}
			b, _ := json.Marshal(a)
			fmt.Fprintf(w, "id: %d\nevent: alert\ndata: %s\n\n", last, b)
		}
		since = last
		if len(ids) > 0 {
			quiet = 0
			fl.Flush()
		} else if quiet++; quiet >= 30 {
			quiet = 0
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		}
	}
}

// alertCollector exports alert counts by status and severity to /metrics.
type alertCollector struct {
	n    *node.Node
	desc *prometheus.Desc
}

func newAlertCollector(n *node.Node) prometheus.Collector {
	return &alertCollector{n: n, desc: prometheus.NewDesc("vigil_alerts", "Anomaly alerts by status and severity.",
		[]string{"status", "severity"}, nil)}
}

func (c *alertCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *alertCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.n.DB.AlertCounts(ctx)
	if err != nil {
		return
	}
	for _, st := range []vigil.AlertStatus{vigil.AlertOpen, vigil.AlertAcknowledged, vigil.AlertResolved} {
		for _, sev := range []vigil.AlertSeverity{vigil.AlertLow, vigil.AlertMedium, vigil.AlertHigh, vigil.AlertCritical} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[string(st)+"/"+string(sev)]),
				string(st), string(sev))
		}
	}
}
