package http

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/pollbook"
)

// A polling place's roster as CSV (voter_id,name,address,birth_year,
// status,precinct,ballot_style: what check-in needs, birth year only): for
// an enrolled pollbook at that place, which carries it to work alone, and
// for the county's administrators. Every roster handed out is a
// voter.exported event.
func (h *pollbooks) registerRoster() {
	h.s.handle("GET /api/v1/pollbook/roster", access.ActionPollbookCheckIn, func(r *http.Request) vigil.Scope {
		return vigil.Scope(r.URL.Query().Get("site"))
	}, h.apiDeviceRoster)
	h.s.handle("GET /api/v1/voters/roster", access.ActionVoterExport, func(r *http.Request) vigil.Scope {
		return vigil.Scope(r.URL.Query().Get("site"))
	}, h.apiRoster)
}

func (h *pollbooks) apiDeviceRoster(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq) // an admitted device at the place
	if err != nil {
		return err
	}
	return h.writeRoster(w, r, rq, site)
}

func (h *pollbooks) apiRoster(w http.ResponseWriter, r *http.Request, rq *request) error {
	site := vigil.Scope(r.URL.Query().Get("site"))
	if _, _, ok := pollbook.SitePlace(site); !ok {
		return vigil.FieldError("voters.roster", "site", "name the polling place: ?site=county/ID/place/ID")
	}
	return h.writeRoster(w, r, rq, site)
}

func (h *pollbooks) writeRoster(w http.ResponseWriter, r *http.Request, rq *request, site vigil.Scope) error {
	county, place, _ := pollbook.SitePlace(site)
	var placeCounty string
	h.s.node.DB.QueryRowContext(r.Context(), `SELECT county FROM places WHERE id = ?`, place).Scan(&placeCounty)
	if placeCounty != county {
		return vigil.Errorf(vigil.NotFound, "voters.roster", "there is no polling place %s in county %s", place, county)
	}
	var buf bytes.Buffer
	n, err := h.s.node.DB.WriteRoster(r.Context(), place, &buf)
	if err != nil {
		return err
	}
	ev, err := vigil.NewEvent(h.actor(rq, site), vigil.EventVoterExported, place, h.s.node.Now(),
		vigil.VoterExport{Format: "roster-csv", Target: site, Detail: strconv.Itoa(n) + " voters"})
	if err != nil {
		return err
	}
	if _, err := h.s.node.Append(r.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-`+place+`.csv"`)
	_, err = w.Write(buf.Bytes())
	return err
}
