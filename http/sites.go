package http

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
)

// Polling-place sites (decision 0008): on a site, its link to the hub (a
// banner on every page, GET /api/v1/site); on the hub, its sites' links
// (GET /api/v1/sites, and a table on the turnout page).

func (s *Server) registerSites() {
	n := s.node
	s.handle("GET /api/v1/site", access.ActionSiteRead, nil, func(w http.ResponseWriter, r *http.Request, rq *request) error {
		st, err := n.SiteStatus(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	})
	s.handle("GET /api/v1/sites", access.ActionSiteRead, nil, func(w http.ResponseWriter, r *http.Request, rq *request) error {
		links := s.siteLinks(rq)
		if links == nil {
			links = []node.SiteLinkState{}
		}
		return writeJSON(w, http.StatusOK, links)
	})
}

// siteLinks are the hub's sites within the scope of the grant that
// allowed the request: a county's staff see their county's.
func (s *Server) siteLinks(rq *request) []node.SiteLinkState {
	var out []node.SiteLinkState
	for _, l := range s.node.SiteLinks() {
		if rq != nil && rq.decision.Grant.Scope.Contains(l.Place) {
			out = append(out, l)
		}
	}
	return out
}

// siteRow is a hub's site as the turnout page's table shows it.
type siteRow struct {
	Name      string `json:"name"`
	Place     string `json:"place"`
	Link      string `json:"link"`
	LastHeard string `json:"last_heard"`
	Merged    int    `json:"merged"`
	Conflicts int    `json:"conflicts"`
	Refused   int    `json:"refused"`
}

func (s *Server) siteRows(rq *request) []siteRow {
	var out []siteRow
	for _, l := range s.siteLinks(rq) {
		r := siteRow{Name: l.Name, Place: string(l.Place), Link: "OFFLINE", LastHeard: "—", Merged: l.Merged,
			Conflicts: l.Conflicts, Refused: l.Refused}
		if l.Connected {
			r.Link = "online"
		}
		if !l.LastHeard.IsZero() {
			r.LastHeard = l.LastHeard.Local().Format("15:04:05")
		}
		out = append(out, r)
	}
	return out
}

// siteBanner is what a site's pages say about its link.
type siteBanner struct {
	node.SiteStatus
	Since string // the time since the last sync, for people
}

func (s *Server) siteBanner(r *http.Request) *siteBanner {
	if !s.node.IsSite() {
		return nil
	}
	st, err := s.node.SiteStatus(r.Context())
	if err != nil {
		st.Problem = err.Error()
	}
	b := &siteBanner{SiteStatus: st, Since: "never"}
	if !st.LastSync.IsZero() {
		b.Since = humanDuration(time.Duration(st.SinceSync*float64(time.Second))) + " ago"
	}
	return b
}

// humanDuration says a duration the way a poll worker reads it.
func humanDuration(d time.Duration) string {
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}
