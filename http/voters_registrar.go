package http

import (
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

// The registrar's side of the roll: search, register, edit with a reason,
// history, duplicates and merges, exports. Routes are registered with the
// action only; each handler re-checks the voter's county with
// authorizeTarget, so a registrar changes records in their own county only.
func (s *Server) registerVoterRoll() {
	s.handle("GET /voters/roll", access.ActionVoterRead, nil, s.rollPage)
	s.handle("GET /voters/new", access.ActionVoterWrite, nil, s.newVoterPage)
	s.handle("POST /voters/new", access.ActionVoterWrite, nil, s.newVoterForm)
	s.handle("GET /voters/similar", access.ActionVoterWrite, nil, s.similarFragment)
	s.handle("GET /voters/duplicates", access.ActionVoterRead, nil, s.duplicatesPage)
	s.handle("GET /voters/record/{id}", access.ActionVoterRead, nil, s.voterPage)
	s.handle("POST /voters/record/{id}", access.ActionVoterWrite, nil, s.changeVoterForm)
	s.handle("POST /voters/record/{id}/merge", access.ActionVoterMerge, nil, s.mergeVoterForm)

	s.handle("GET /api/v1/voters/search", access.ActionVoterRead, nil, s.apiSearchVoters)
	s.handle("GET /api/v1/voters/similar", access.ActionVoterWrite, nil, s.apiSimilar)
	s.handle("GET /api/v1/voters/duplicates", access.ActionVoterRead, nil, s.apiDuplicates)
	s.handle("GET /api/v1/voters/export", access.ActionVoterExport, nil, s.apiExport)
	s.handle("POST /api/v1/voters", access.ActionVoterWrite, nil, s.apiRegisterVoter)
	s.handle("GET /api/v1/voters/{id}", access.ActionVoterRead, nil, s.apiVoter)
	s.handle("PUT /api/v1/voters/{id}", access.ActionVoterWrite, nil, s.apiChangeVoter)
	s.handle("POST /api/v1/voters/{id}/merge", access.ActionVoterMerge, nil, s.apiMergeVoter)
}

func (s *Server) voterService() *sqlite.VoterService {
	n := s.node
	svc := sqlite.NewVoterService(n.DB, n, n.Keys, sqlite.FingerprintKey(n.Keys.StoreKey), n.Now)
	svc.Bulk, svc.WaitApplied = n.Log, n.WaitApplied
	return svc
}

// scopesFor lists the scopes in which the user may perform action now.
func (s *Server) actionScopes(rq *request, action access.Action) []vigil.Scope {
	var out []vigil.Scope
	for _, g := range rq.user.Grants {
		if access.Allows(g.Role, action) && g.Active(s.node.Now()) {
			out = append(out, g.Scope)
		}
	}
	return out
}

func (s *Server) can(rq *request, action access.Action) bool {
	return len(s.actionScopes(rq, action)) > 0
}

// VoterView is a registration as the API and pages show it to registrars:
// identifiers are never shown, only whether they are on file.
type VoterView struct {
	vigil.Voter
	HasDriversLicense bool   `json:"has_drivers_license"`
	HasSSN4           bool   `json:"has_ssn4"`
	MergedInto        string `json:"merged_into,omitempty"`
	Updated           string `json:"updated,omitempty"`
}

func viewOf(sv sqlite.StoredVoter) VoterView {
	return VoterView{Voter: sv.Voter, HasDriversLicense: sv.DriversLicenseSealed != "", HasSSN4: sv.SSN4Sealed != "",
		MergedInto: sv.MergedInto, Updated: sv.Updated}
}

// loadVoter reads a voter and checks that action covers its county; a
// voter outside the caller's scopes is reported as not found to a reader.
func (s *Server) loadVoter(r *http.Request, rq *request, id string) (sqlite.StoredVoter, error) {
	sv, err := s.node.DB.Voter(r.Context(), vigil.VoterID(id))
	if err != nil {
		return sv, err
	}
	if err := s.authorizeTarget(r.Context(), r, rq, vigil.CountyScope(sv.County)); err != nil {
		return sv, err
	}
	return sv, nil
}

func (s *Server) rollSearch(r *http.Request, rq *request) (string, []sqlite.SearchResult, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return q, nil, nil
	}
	if len(q) > 200 {
		return q, nil, vigil.FieldError("voters.search", "q", "is longer than 200 characters")
	}
	rs, err := s.node.DB.SearchVoters(r.Context(), q, s.actionScopes(rq, access.ActionVoterRead), 50)
	return q, rs, err
}

func (s *Server) rollPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	q, rs, err := s.rollSearch(r, rq)
	if err != nil {
		return err
	}
	s.renderPage(w, r, rq, "voter_roll.html", map[string]any{"Title": "Voter roll", "Query": q, "Results": rs,
		"Scopes": s.actionScopes(rq, access.ActionVoterRead), "CanWrite": s.can(rq, access.ActionVoterWrite)})
	return nil
}

func (s *Server) apiSearchVoters(w http.ResponseWriter, r *http.Request, rq *request) error {
	_, rs, err := s.rollSearch(r, rq)
	if err != nil {
		return err
	}
	type hit struct {
		Voter VoterView `json:"voter"`
		Score float64   `json:"score"`
	}
	out := []hit{}
	for _, x := range rs {
		out = append(out, hit{viewOf(x.Voter), x.Score})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func (s *Server) voterPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderVoter(w, r, rq, http.StatusOK, "", "")
}

func (s *Server) renderVoter(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	saved := rq.action
	rq.action = access.ActionVoterRead
	sv, err := s.loadVoter(r, rq, r.PathValue("id"))
	rq.action = saved
	if err != nil {
		return err
	}
	hist, err := s.node.DB.VoterHistory(r.Context(), sv.ID)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "voter_record.html", map[string]any{"Title": "Voter " + string(sv.ID), "V": viewOf(sv),
		"History": hist, "CanWrite": s.can(rq, access.ActionVoterWrite), "CanMerge": s.can(rq, access.ActionVoterMerge),
		"Reasons": changeReasons, "Statuses": statuses, "Message": msg, "Error": errMsg})
	return nil
}

var statuses = []vigil.StatusCode{vigil.StatusActive, vigil.StatusInactive, vigil.StatusPending, vigil.StatusCancelled}

// changeReasons are offered on the change form, in the order clerks need them.
var changeReasons = []vigil.ChangeReason{vigil.ReasonAddressChange, vigil.ReasonNameChange, vigil.ReasonPartyChange,
	vigil.ReasonCorrection, vigil.ReasonMoved, vigil.ReasonDeceased, vigil.ReasonVoterRequest, vigil.ReasonFelony,
	vigil.ReasonIncompetent, vigil.ReasonReturnedMail, vigil.ReasonNoContact, vigil.ReasonUnverified, vigil.ReasonOther}

// voterFromForm reads the registration form.
func voterFromForm(r *http.Request, id string) (vigil.Voter, error) {
	const op = "voters.form"
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	up := func(name string) string { return strings.ToUpper(f(name)) }
	v := vigil.Voter{ID: vigil.VoterID(id), County: f("county"), Precinct: f("precinct"),
		Name:      vigil.Name{First: up("first"), Middle: up("middle"), Last: up("last"), Suffix: up("suffix")},
		Gender:    up("gender"),
		Residence: vigil.Address{Line1: up("line1"), Line2: up("line2"), City: up("city"), State: up("state"), ZIP: f("zip")},
		Mailing:   vigil.Address{Line1: up("mail_line1"), City: up("mail_city"), State: up("mail_state"), ZIP: f("mail_zip")},
		Party:     up("party"), Phone: f("phone"), Email: f("email"),
		Status: vigil.VoterStatus{Code: vigil.StatusCode(f("status")), Reason: vigil.ChangeReason(f("status_reason")),
			Detail: f("status_detail")},
		DriversLicense: vigil.Secret(f("drivers_license")), SSN4: vigil.Secret(f("ssn4"))}
	var err error
	if v.BirthDate, err = vigil.ParseDate(f("birth_date")); err != nil {
		return v, vigil.FieldError(op, "birth_date", "use YYYY-MM-DD")
	}
	if v.Registered, err = vigil.ParseDate(f("registered")); err != nil {
		return v, vigil.FieldError(op, "registered", "use YYYY-MM-DD")
	}
	return v, nil
}

func (s *Server) newVoterPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderNewVoter(w, r, rq, http.StatusOK, nil, "")
}

func (s *Server) renderNewVoter(w http.ResponseWriter, r *http.Request, rq *request, status int, v *vigil.Voter, errMsg string) error {
	if v == nil {
		v = &vigil.Voter{Status: vigil.VoterStatus{Code: vigil.StatusActive}}
		if sc := s.actionScopes(rq, access.ActionVoterWrite); len(sc) > 0 {
			v.County = sc[0].County()
		}
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "voter_record.html", map[string]any{"Title": "Register a voter", "New": true, "V": v, "Error": errMsg,
		"Statuses": statuses})
	return nil
}

func (s *Server) newVoterForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, err := voterFromForm(r, strings.TrimSpace(r.PostFormValue("id")))
	if err == nil {
		err = s.authorizeTarget(r.Context(), r, rq, vigil.CountyScope(v.County))
	}
	if err == nil {
		err = s.voterService().Register(r.Context(), s.actor(rq), v, r.PostFormValue("detail"))
	}
	if err != nil {
		k := vigil.ErrorKind(err)
		if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity || k == vigil.Permission {
			return err
		}
		return s.renderNewVoter(w, r, rq, statusOf(k), &v, vigil.ErrorMessage(err))
	}
	http.Redirect(w, r, "/voters/record/"+string(v.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) changeVoterForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	sv, err := s.loadVoter(r, rq, r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := voterFromForm(r, string(sv.ID))
	if err == nil && v.County != sv.County {
		// Moving a voter to another county needs the right in both.
		err = s.authorizeTarget(r.Context(), r, rq, vigil.CountyScope(v.County))
	}
	if err == nil {
		v.LocalID, v.Districts, v.History, v.Confidential = sv.LocalID, sv.Districts, sv.History, sv.Confidential
		v.Name.Prefix, v.Mailing.Line2, v.Mailing.Country, v.Residence.Country, v.Residence.ZIP4 =
			sv.Name.Prefix, sv.Mailing.Line2, sv.Mailing.Country, sv.Residence.Country, sv.Residence.ZIP4
		if v.Status.Code == sv.Status.Code && v.Status.Reason == sv.Status.Reason {
			v.Status.Since = sv.Status.Since
		} else {
			v.Status.Since = vigil.DateOf(s.node.Now())
		}
		err = s.voterService().Change(r.Context(), s.actor(rq), v, vigil.ChangeReason(r.PostFormValue("reason")), r.PostFormValue("detail"))
	}
	if err != nil {
		k := vigil.ErrorKind(err)
		if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity || k == vigil.Permission {
			return err
		}
		return s.renderVoter(w, r, rq, statusOf(k), "", vigil.ErrorMessage(err))
	}
	return s.renderVoter(w, r, rq, http.StatusOK, "The change was recorded.", "")
}

func (s *Server) mergeVoters(r *http.Request, rq *request, keep, drop, detail string) error {
	if _, err := s.loadVoter(r, rq, keep); err != nil {
		return err
	}
	if _, err := s.loadVoter(r, rq, drop); err != nil {
		return err
	}
	return s.voterService().Merge(r.Context(), s.actor(rq), vigil.VoterMerge{Keep: vigil.VoterID(keep), Drop: vigil.VoterID(drop), Detail: detail})
}

func (s *Server) mergeVoterForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	err := s.mergeVoters(r, rq, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("drop")), r.PostFormValue("detail"))
	if err != nil {
		k := vigil.ErrorKind(err)
		if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity || k == vigil.Permission {
			return err
		}
		return s.renderVoter(w, r, rq, statusOf(k), "", vigil.ErrorMessage(err))
	}
	return s.renderVoter(w, r, rq, http.StatusOK, "Merged: "+r.PostFormValue("drop")+" is cancelled as a duplicate of this registration.", "")
}

// similar finds registrations like the one being typed (first, last,
// birth_date query parameters) in the caller's writable scopes.
func (s *Server) similarVoters(r *http.Request, rq *request) ([]sqlite.SearchResult, error) {
	q := r.URL.Query()
	v := vigil.Voter{Name: vigil.Name{First: strings.TrimSpace(q.Get("first")), Last: strings.TrimSpace(q.Get("last"))}}
	if len(v.Name.First) > 100 || len(v.Name.Last) > 100 {
		return nil, vigil.FieldError("voters.similar", "last", "is too long")
	}
	if v.Name.Last == "" || v.Name.First == "" {
		return nil, nil
	}
	v.BirthDate, _ = vigil.ParseDate(strings.TrimSpace(q.Get("birth_date")))
	rs, err := s.voterService().Similar(r.Context(), v, s.actionScopes(rq, access.ActionVoterWrite), 6)
	// On the change form the record itself (its id is sent along) is no
	// duplicate of itself.
	out := rs[:0]
	for _, x := range rs {
		if id := q.Get("id"); id == "" || string(x.Voter.ID) != id {
			out = append(out, x)
		}
	}
	return out[:min(len(out), 5)], err
}

func (s *Server) similarFragment(w http.ResponseWriter, r *http.Request, rq *request) error {
	rs, err := s.similarVoters(r, rq)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return s.tmpl["voter_record.html"].ExecuteTemplate(w, "similar", rs)
}

func (s *Server) apiSimilar(w http.ResponseWriter, r *http.Request, rq *request) error {
	rs, err := s.similarVoters(r, rq)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, x := range rs {
		out = append(out, map[string]any{"voter": viewOf(x.Voter), "score": x.Score})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"similar": out})
}

func (s *Server) voterDuplicates(r *http.Request, rq *request) ([]voter.DuplicatePair, error) {
	return s.voterService().Duplicates(r.Context(), s.actionScopes(rq, access.ActionVoterRead), voter.DuplicateOptions{})
}

func (s *Server) duplicatesPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	pairs, err := s.voterDuplicates(r, rq)
	if err != nil {
		return err
	}
	if len(pairs) > 500 {
		pairs = pairs[:500]
	}
	s.renderPage(w, r, rq, "voter_duplicates.html", map[string]any{"Title": "Possible duplicate registrations", "Pairs": pairs})
	return nil
}

func (s *Server) apiDuplicates(w http.ResponseWriter, r *http.Request, rq *request) error {
	pairs, err := s.voterDuplicates(r, rq)
	if err != nil {
		return err
	}
	if pairs == nil {
		pairs = []voter.DuplicatePair{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"pairs": pairs})
}

func (s *Server) apiVoter(w http.ResponseWriter, r *http.Request, rq *request) error {
	sv, err := s.loadVoter(r, rq, r.PathValue("id"))
	if err != nil {
		return err
	}
	hist, err := s.node.DB.VoterHistory(r.Context(), sv.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"voter": viewOf(sv), "history": hist})
}

// voterRequest is the body of register and change requests. Secrets are
// write-only: sent in clear over TLS, sealed at once, never returned.
type voterRequest struct {
	Voter          vigil.Voter        `json:"voter"`
	DriversLicense string             `json:"drivers_license,omitempty"`
	SSN4           string             `json:"ssn4,omitempty"`
	Reason         vigil.ChangeReason `json:"reason,omitempty"`
	Detail         string             `json:"detail,omitempty"`
}

func (req *voterRequest) voter() vigil.Voter {
	v := req.Voter
	v.DriversLicense, v.SSN4 = vigil.Secret(req.DriversLicense), vigil.Secret(req.SSN4)
	return v
}

func (s *Server) apiRegisterVoter(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req voterRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v := req.voter()
	if err := s.authorizeTarget(r.Context(), r, rq, vigil.CountyScope(v.County)); err != nil {
		return err
	}
	if err := s.voterService().Register(r.Context(), s.actor(rq), v, req.Detail); err != nil {
		return err
	}
	sv, err := s.node.DB.Voter(r.Context(), v.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"voter": viewOf(sv)})
}

func (s *Server) apiChangeVoter(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req voterRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	sv, err := s.loadVoter(r, rq, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := req.voter()
	v.ID = sv.ID
	if v.County != sv.County {
		if err := s.authorizeTarget(r.Context(), r, rq, vigil.CountyScope(v.County)); err != nil {
			return err
		}
	}
	if err := s.voterService().Change(r.Context(), s.actor(rq), v, req.Reason, req.Detail); err != nil {
		return err
	}
	sv, err = s.node.DB.Voter(r.Context(), v.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"voter": viewOf(sv)})
}

type mergeRequest struct {
	Drop   vigil.VoterID `json:"drop"`
	Detail string        `json:"detail"`
}

func (s *Server) apiMergeVoter(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req mergeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.mergeVoters(r, rq, r.PathValue("id"), string(req.Drop), req.Detail); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"kept": r.PathValue("id"), "cancelled": req.Drop})
}

// apiExport streams the roll of one scope; the export is an event before
// the first byte is written.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request, rq *request) error {
	format := r.URL.Query().Get("format")
	target := vigil.Scope(r.URL.Query().Get("scope"))
	if target == "" {
		// The caller's own scope: a county administrator exports their county.
		target = vigil.ScopeState
		if sc := s.actionScopes(rq, access.ActionVoterExport); len(sc) > 0 {
			target = sc[0]
		}
	}
	if err := target.Validate(); err != nil {
		return err
	}
	if err := s.authorizeTarget(r.Context(), r, rq, target); err != nil {
		return err
	}
	ctype := map[string]string{voter.FormatNISTJSON: "application/json", voter.FormatNISTXML: "application/xml",
		voter.FormatCSV: "text/csv; charset=utf-8"}[format]
	if ctype == "" {
		return vigil.FieldError("voters.export", "format", "use one of %s", strings.Join(sqlite.ExportFormats, ", "))
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="voters-`+strings.ReplaceAll(string(target), "/", "-")+"."+
		map[string]string{voter.FormatNISTJSON: "json", voter.FormatNISTXML: "xml", voter.FormatCSV: "csv"}[format]+`"`)
	_, err := s.voterService().Export(r.Context(), s.actor(rq), format, target, w)
	return err
}
