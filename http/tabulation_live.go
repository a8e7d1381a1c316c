package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
)

// reconView is the reconciliation of one county (or every county) as the
// page and its live stream show it: precincts and polling places apart,
// and how many lines disagree by more than the threshold.
type reconView struct {
	County    string                 `json:"county"`
	Threshold int                    `json:"threshold"`
	Flagged   int                    `json:"flagged"`
	Precincts []sqlite.ReconcileLine `json:"precincts"`
	Places    []sqlite.ReconcileLine `json:"places"`
	Lines     []sqlite.ReconcileLine `json:"lines"` // both kinds, precincts first
}

func reconciliationView(county string, threshold int, lines []sqlite.ReconcileLine) reconView {
	v := reconView{County: county, Threshold: threshold, Lines: lines,
		Precincts: []sqlite.ReconcileLine{}, Places: []sqlite.ReconcileLine{}}
	if v.Lines == nil {
		v.Lines = []sqlite.ReconcileLine{}
	}
	for _, l := range lines {
		if l.Flagged {
			v.Flagged++
		}
		if l.Kind == "place" {
			v.Places = append(v.Places, l)
		} else {
			v.Precincts = append(v.Precincts, l)
		}
	}
	return v
}

// reconciliationPage shows check-ins, provisional ballots, counted ballots
// and the manifest by precinct and polling place; live.js keeps it current
// from reconciliationStream.
func (s *Server) reconciliationPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	lines, threshold, err := reconciliation(r, t)
	if err != nil {
		return err
	}
	q := url.Values{"threshold": {strconv.Itoa(threshold)}}
	if t.County() != "" {
		q.Set("county", t.County())
	}
	if e := r.URL.Query().Get("election"); e != "" {
		q.Set("election", e)
	}
	s.renderPage(w, r, rq, "results_reconciliation.html", map[string]any{"Title": "Reconciliation",
		"Rec": reconciliationView(t.County(), threshold, lines), "Stream": "/api/v1/tabulation/reconciliation/stream?" + q.Encode()})
	return nil
}

// reconciliationStream sends the reconciliation (reconView as JSON, event
// "reconciliation") at once and again whenever the projections applied new
// entries: new CVRs, check-ins, provisionals or a manifest.
func (s *Server) reconciliationStream(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	if _, _, err := reconciliation(r, t); err != nil {
		return err // a bad threshold is refused before the stream starts
	}
	return s.streamOnApply(w, r, "reconciliation", func(ctx context.Context) (any, error) {
		lines, threshold, err := reconciliation(r.WithContext(ctx), t)
		if err != nil {
			return nil, err
		}
		return reconciliationView(t.County(), threshold, lines), nil
	})
}

// streamOnApply is the live-view mechanism of the pages (the same as the
// turnout stream's): it sends snapshot's value as a server-sent event named
// event at once, then whenever the node's projections applied new entries,
// at most once a second. A stream ends after streamLife and the browser's
// EventSource reconnects, so a server shutting down never waits on one for
// long. A snapshot error ends the stream (the client reconnects).
func (s *Server) streamOnApply(w http.ResponseWriter, r *http.Request, event string, snapshot func(context.Context) (any, error)) error {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return vigil.Errorf(vigil.Unavailable, "http.stream", "streaming is not supported here")
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(streamLife)
	var last uint64
	sent := false
	for {
		if applied := s.node.Applied(); !sent || applied != last {
			v, err := snapshot(r.Context())
			if err != nil {
				return nil
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", applied, event, b); err != nil {
				return nil
			}
			flusher.Flush()
			last, sent = applied, true
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-end:
			return nil
		case <-tick.C:
		}
	}
}
