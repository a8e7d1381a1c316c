package http

import (
	"net/http"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/sqlite"
)

// After an election the county (or the state) writes the pollbooks'
// record of who voted back to the roll.
func (h *pollbooks) registerHistory() {
	n := h.s.node
	svc := sqlite.NewVoterService(n.DB, n, n.Keys, sqlite.FingerprintKey(n.Keys.StoreKey), n.Now)
	h.s.handle("POST /api/v1/voters/history", access.ActionVoterHistory, nil, func(w http.ResponseWriter, r *http.Request, rq *request) error {
		var body struct {
			Election string `json:"election"`
			County   string `json:"county"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		target := vigil.ScopeState
		if body.County != "" {
			target = vigil.CountyScope(body.County)
		}
		if err := h.s.authorizeTarget(r.Context(), r, rq, target); err != nil {
			return err
		}
		res, err := svc.WriteVotingHistory(r.Context(), h.s.actor(rq), body.Election, body.County)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	})
}
