package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// Same-day registration at the polls (issue 4 §2): a voter not on the roll,
// where the county's law allows it, is registered by the poll worker and
// checked in at once; otherwise the not-found screen offers the provisional
// ballot. The county's policy is an event (county.policy_set).

func (h *pollbooks) registerSameDay(site scopeFunc) {
	s := h.s
	s.handle("GET /pollbook/register", access.ActionPollbookRegister, site, h.registerForm)
	s.handle("POST /pollbook/register", access.ActionPollbookRegister, site, h.registerPage)
	s.handle("POST /api/v1/pollbook/registrations", access.ActionPollbookRegister, site, h.apiRegister)
	county := func(r *http.Request) vigil.Scope { return vigil.CountyScope(r.PathValue("id")) }
	s.handle("POST /api/v1/counties/{id}/policy", access.ActionCountyPolicy, county, h.apiCountyPolicy)
}

func (h *pollbooks) apiCountyPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	var body struct {
		SameDayRegistration bool   `json:"same_day_registration"`
		Reason              string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	p := vigil.CountyPolicy{County: r.PathValue("id"), SameDayRegistration: body.SameDayRegistration, Reason: body.Reason}
	if err := sqlite.SetCountyPolicy(r.Context(), h.s.node.DB, h.s.node, h.s.actor(rq), p, h.s.node.Now()); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"policy": p})
}

// sameDayRequest is a registration at the polls.
type sameDayRequest struct {
	Voter          vigil.Voter `json:"voter"`
	DriversLicense string      `json:"drivers_license,omitempty"`
	SSN4           string      `json:"ssn4,omitempty"`
}

// sameDay registers the voter and checks them in. Every refusal names the
// field and says what to do instead; nothing is recorded on a refusal.
func (h *pollbooks) sameDay(ctx context.Context, rq *request, site vigil.Scope, device string, req sameDayRequest) (vigil.Voter, vigil.CheckInRecord, error) {
	const op = "pollbook.register"
	county, place, ok := pollbook.SitePlace(site)
	if !ok {
		return vigil.Voter{}, vigil.CheckInRecord{}, vigil.FieldError(op, "site", "is not a polling place")
	}
	allowed, err := h.s.node.DB.SameDayRegistration(ctx, county)
	if err != nil {
		return vigil.Voter{}, vigil.CheckInRecord{}, err
	}
	if !allowed {
		return vigil.Voter{}, vigil.CheckInRecord{}, vigil.Errorf(vigil.Conflict, op,
			"This county does not allow same-day registration. Offer the voter a provisional ballot.")
	}
	open, _, err := h.pb.OpenElection(ctx)
	if err != nil {
		return vigil.Voter{}, vigil.CheckInRecord{}, err
	}
	if open == nil {
		return vigil.Voter{}, vigil.CheckInRecord{}, vigil.Errorf(vigil.Conflict, op, "Voting is not open: no one can be registered and checked in now.")
	}
	if mode, err := h.pb.PaperMode(ctx, site); err == nil && mode.On {
		return vigil.Voter{}, vigil.CheckInRecord{}, vigil.Errorf(vigil.Conflict, op,
			"This polling place is on the paper pollbook: register the voter on paper, or offer a provisional ballot.")
	}
	v := req.Voter
	v.County, v.DriversLicense, v.SSN4 = county, vigil.Secret(req.DriversLicense), vigil.Secret(req.SSN4)
	v.Status = vigil.VoterStatus{Code: vigil.StatusActive}
	if v.Precinct == "" {
		return v, vigil.CheckInRecord{}, vigil.FieldError(op, "voter.precinct", "choose the precinct of the voter's home address")
	}
	var at string
	if err := h.s.node.DB.QueryRowContext(ctx, `SELECT place FROM precincts WHERE id = ?`, v.Precinct).Scan(&at); err != nil || at != place {
		return v, vigil.CheckInRecord{}, vigil.FieldError(op, "voter.precinct",
			"precinct %s does not vote at this polling place: send the voter to their own polling place, or offer a provisional ballot", v.Precinct)
	}
	if v.Name.First == "" || v.Name.Last == "" {
		return v, vigil.CheckInRecord{}, vigil.FieldError(op, "voter.name", "give the voter's first and last name")
	}
	if v.BirthDate.IsZero() || v.BirthDate.YearOnly() {
		return v, vigil.CheckInRecord{}, vigil.FieldError(op, "voter.birth_date", "give the voter's full date of birth")
	}
	if same, err := h.s.node.DB.RegisteredAs(ctx, county, v.Name.First, v.Name.Last, v.BirthDate); err != nil {
		return v, vigil.CheckInRecord{}, err
	} else if len(same) > 0 {
		return v, vigil.CheckInRecord{}, vigil.FieldError(op, "voter.name",
			"%s %s, born %s, is already on the roll (voter %s): look the voter up instead", v.Name.First, v.Name.Last, v.BirthDate, same[0])
	}
	var b [5]byte
	rand.Read(b[:])
	v.ID = vigil.VoterID("SDR-" + strings.ToUpper(county) + "-" + strings.ToUpper(hex.EncodeToString(b[:])))
	a := h.actor(rq, site)
	if err := h.s.voterService().Register(ctx, a, v, "same-day registration at polling place "+place); err != nil {
		return v, vigil.CheckInRecord{}, err
	}
	rec, err := h.pb.CheckIn(ctx, a, vigil.CheckInRequest{Voter: v.ID, Site: site, Identity: vigil.CheckInSameDay, Device: device})
	return v, rec, err
}

func (h *pollbooks) apiRegister(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, dev, err := h.station(r, rq)
	if err != nil {
		return err
	}
	var req sameDayRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, rec, err := h.sameDay(r.Context(), rq, site, dev.ID, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"voter": v.ID, "checkin": rec})
}

func (h *pollbooks) registerForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	return h.renderRegister(w, r, rq, site, sameDayRequest{}, nil)
}

func (h *pollbooks) renderRegister(w http.ResponseWriter, r *http.Request, rq *request, site vigil.Scope, req sameDayRequest, problem error) error {
	county, place, _ := pollbook.SitePlace(site)
	d := h.pageData(r, rq, site, "Same-day registration")
	allowed, err := h.s.node.DB.SameDayRegistration(r.Context(), county)
	if err != nil {
		return err
	}
	d["Allowed"], d["Req"] = allowed, req
	rows, err := h.s.node.DB.QueryContext(r.Context(), `SELECT id, name FROM precincts WHERE place = ? ORDER BY id`, place)
	if err != nil {
		return vigil.Wrap("pollbook.register", vigil.Unavailable, err)
	}
	defer rows.Close()
	type precinct struct{ ID, Name string }
	var ps []precinct
	for rows.Next() {
		var p precinct
		if err := rows.Scan(&p.ID, &p.Name); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	d["Precincts"] = ps
	if problem != nil {
		d["Error"] = vigil.ErrorMessage(problem)
		if ve, ok := problem.(*vigil.Error); ok {
			d["Field"] = ve.Field
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOf(vigil.ErrorKind(problem)))
	}
	h.s.renderPage(w, r, rq, "pollbook_register.html", d)
	return nil
}

func (h *pollbooks) registerPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, dev, err := h.station(r, rq)
	if err != nil {
		return err
	}
	var req sameDayRequest
	f := r.PostFormValue
	req.Voter.Name = vigil.Name{First: strings.TrimSpace(f("first")), Middle: strings.TrimSpace(f("middle")),
		Last: strings.TrimSpace(f("last")), Suffix: strings.TrimSpace(f("suffix"))}
	req.Voter.Residence = vigil.Address{Line1: strings.TrimSpace(f("street")), City: strings.TrimSpace(f("city")),
		ZIP: strings.TrimSpace(f("zip"))}
	req.Voter.Precinct = f("precinct")
	req.DriversLicense, req.SSN4 = strings.TrimSpace(f("drivers_license")), strings.TrimSpace(f("ssn4"))
	if birth, err := vigil.ParseDate(f("birth_date")); err == nil {
		req.Voter.BirthDate = birth
	} else if f("birth_date") != "" {
		return h.renderRegister(w, r, rq, site, req, vigil.FieldError("pollbook.register", "voter.birth_date", "write the date of birth as YYYY-MM-DD"))
	}
	v, rec, err := h.sameDay(r.Context(), rq, site, dev.ID, req)
	if err != nil {
		if vigil.ErrorKind(err) == vigil.Unavailable {
			return err
		}
		return h.renderRegister(w, r, rq, site, req, err)
	}
	hit, err := h.hit(r, site, v.ID)
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Registered and checked in")
	d["Voter"], d["CheckIn"], d["SameDay"] = hit, rec, true
	h.s.renderPage(w, r, rq, "pollbook_done.html", d)
	return nil
}
