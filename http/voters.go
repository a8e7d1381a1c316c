package http

import (
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/sqlite"
)

func (s *Server) registerVoters() {
	s.handle("GET /voters", access.ActionVoterLookup, nil, s.votersPage)
	s.handle("GET /api/v1/voters", access.ActionVoterLookup, nil, s.apiVoters)
}

// lookupScopes are the scopes in which the user may look voters up now.
func (s *Server) lookupScopes(rq *request) []vigil.Scope {
	var out []vigil.Scope
	for _, g := range rq.user.Grants {
		if access.Allows(g.Role, access.ActionVoterLookup) && g.Active(s.node.Now()) {
			out = append(out, g.Scope)
		}
	}
	return out
}

func (s *Server) findVoters(r *http.Request, rq *request) (string, []sqlite.VoterRow, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	// A query of only commas names nobody (and LookupVoters needs a word).
	if len(strings.Fields(strings.ReplaceAll(q, ",", " "))) == 0 {
		return q, nil, nil
	}
	if len(q) > 100 {
		return q, nil, vigil.FieldError("voters.search", "q", "is longer than 100 characters")
	}
	rows, err := s.node.DB.LookupVoters(r.Context(), q, s.lookupScopes(rq), 50)
	return q, rows, err
}

func (s *Server) votersPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	q, rows, err := s.findVoters(r, rq)
	if err != nil {
		return err
	}
	s.renderPage(w, r, rq, "voters.html", map[string]any{"Title": "Find a voter", "Query": q, "Voters": rows,
		"Scopes": s.lookupScopes(rq), "CanRead": s.can(rq, access.ActionVoterRead)})
	return nil
}

func (s *Server) apiVoters(w http.ResponseWriter, r *http.Request, rq *request) error {
	_, rows, err := s.findVoters(r, rq)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []sqlite.VoterRow{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"voters": rows})
}
