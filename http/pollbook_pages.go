package http

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// siteQuery keeps an explicit ?site= across the pollbook's links and forms.
func siteQuery(r *http.Request) string {
	if s := r.URL.Query().Get("site"); s != "" {
		return "?site=" + url.QueryEscape(s)
	}
	return ""
}

func (h *pollbooks) pageData(r *http.Request, rq *request, site vigil.Scope, title string) map[string]any {
	_, place, _ := pollbook.SitePlace(site)
	d := map[string]any{"Title": title, "Site": site, "Place": place, "SiteQ": siteQuery(r),
		"CanUndo": h.canAct(rq, access.ActionPollbookUndo), "CSRF": rq.sess.CSRF}
	var name string
	if h.s.node.DB.QueryRowContext(r.Context(), `SELECT name FROM places WHERE id = ?`, place).Scan(&name) == nil {
		d["PlaceName"] = name
	}
	if open, next, err := h.pb.OpenElection(r.Context()); err == nil {
		d["Election"], d["NextElection"] = open, next
	}
	if mode, err := h.pb.PaperMode(r.Context(), site); err == nil && mode.On {
		d["OnPaper"] = mode
	}
	d["CanPaper"] = h.canAct(rq, access.ActionPollbookPaper)
	if county, _, ok := pollbook.SitePlace(site); ok && h.canAct(rq, access.ActionPollbookRegister) {
		allowed, _ := h.s.node.DB.SameDayRegistration(r.Context(), county)
		d["CanRegister"] = allowed
	}
	return d
}

func (h *pollbooks) searchPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	var ve *vigil.Error
	if errors.As(err, &ve) && ve.Op == "device.admit" && r.Method == http.MethodGet {
		// Not a pollbook (yet): offer enrolment, saying why.
		http.Redirect(w, r, "/devices/enrol?reason="+url.QueryEscape(ve.Message), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Pollbook")
	q := r.FormValue("q")
	d["Query"], d["Scanned"] = q, r.Method == http.MethodPost
	if q != "" {
		shown, hits, err := h.search(r.Context(), site, q)
		if err != nil {
			d["Error"] = vigil.ErrorMessage(err)
		}
		d["Shown"], d["Hits"] = shown, hits
		if strings.HasPrefix(shown, "scanned licence: ") || r.Method == http.MethodPost {
			d["Query"] = "" // never echo a licence's text (it holds the number)
		}
	}
	h.s.renderPage(w, r, rq, "pollbook.html", d)
	return nil
}

func (h *pollbooks) voterPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	id := vigil.VoterID(r.PathValue("id"))
	hit, err := h.hit(r, site, id)
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Confirm identity")
	d["Voter"] = hit
	if d["Refusal"], err = h.pb.Preview(r.Context(), site, id); err != nil {
		return err
	}
	h.s.renderPage(w, r, rq, "pollbook_voter.html", d)
	return nil
}

// hit reads one voter as a search result.
func (h *pollbooks) hit(r *http.Request, site vigil.Scope, id vigil.VoterID) (Hit, error) {
	sv, err := h.s.node.DB.Voter(r.Context(), id)
	if err != nil {
		return Hit{}, err
	}
	county, place, _ := pollbook.SitePlace(site)
	if sv.Voter.County != county {
		return Hit{}, vigil.Errorf(vigil.NotFound, "pollbook.voter", "no voter %s in county %s", id, county)
	}
	v := sv.Voter
	hit := Hit{ID: string(v.ID), Name: v.Name.Full(), Address: v.Residence.String(), BirthYear: v.BirthDate.Year,
		Status: string(v.Status.Code), Precinct: v.Precinct}
	if pr, err := h.precincts(r.Context(), county); err == nil {
		if p, ok := pr[v.Precinct]; ok {
			hit.Place, hit.PlaceName, hit.BallotStyle, hit.Here = p.place, p.placeName, p.style, p.place == place
		}
	}
	hit.CheckedIn, err = h.pb.CheckInOf(r.Context(), id)
	return hit, err
}

func (h *pollbooks) checkInPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, dev, err := h.station(r, rq)
	if err != nil {
		return err
	}
	id := vigil.VoterID(r.PathValue("id"))
	identity := r.PostFormValue("identity")
	// The tablet's clock, sent by pollbook.js: detection compares it.
	deviceTime, _ := time.Parse(time.RFC3339Nano, r.PostFormValue("device_time"))
	rec, err := h.pb.CheckIn(r.Context(), h.actor(rq, site), vigil.CheckInRequest{Voter: id, Site: site, Identity: identity,
		Device: dev.ID, DeviceTime: deviceTime})
	if ref := refusalOf(err); ref != nil {
		d := h.pageData(r, rq, site, "Not checked in")
		d["Refusal"] = ref
		if hit, err := h.hit(r, site, id); err == nil {
			d["Voter"] = hit
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOf(ref.Kind()))
		h.s.renderPage(w, r, rq, "pollbook_voter.html", d)
		return nil
	}
	if err != nil {
		return err
	}
	hit, err := h.hit(r, site, id)
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Checked in")
	d["Voter"], d["CheckIn"] = hit, rec
	h.s.renderPage(w, r, rq, "pollbook_done.html", d)
	return nil
}

func (h *pollbooks) undoPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	id := vigil.VoterID(r.PathValue("id"))
	if err := h.pb.Undo(r.Context(), h.actor(rq, site), site, id, r.PostFormValue("reason")); err != nil {
		return err
	}
	hit, err := h.hit(r, site, id)
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Check-in undone")
	d["Voter"], d["Undone"] = hit, true
	h.s.renderPage(w, r, rq, "pollbook_voter.html", d)
	return nil
}

var provisionalReasonText = []struct {
	Value vigil.ProvisionalReason
	Text  string
}{
	{vigil.ProvisionalNotFound, "Not found on the roll"},
	{vigil.ProvisionalWrongPlace, "Registered at another polling place"},
	{vigil.ProvisionalCheckedIn, "Already shown as checked in"},
	{vigil.ProvisionalMailBallot, "A mail ballot was issued or received"},
	{vigil.ProvisionalInactive, "Registration inactive or pending"},
	{vigil.ProvisionalNoID, "No acceptable identification"},
	{vigil.ProvisionalCourtOrder, "Voting during court-ordered extended hours"},
	{vigil.ProvisionalOtherReason, "Other (explain in the note)"},
}

// provisionalReasonFor maps a refusal to the provisional reason it implies.
func provisionalReasonFor(r vigil.RefusalReason) vigil.ProvisionalReason {
	switch r {
	case vigil.RefusedNotFound, vigil.RefusedOutOfScope:
		return vigil.ProvisionalNotFound
	case vigil.RefusedWrongPlace:
		return vigil.ProvisionalWrongPlace
	case vigil.RefusedCheckedIn:
		return vigil.ProvisionalCheckedIn
	case vigil.RefusedVotedByMail:
		return vigil.ProvisionalMailBallot
	case vigil.RefusedInactive:
		return vigil.ProvisionalInactive
	}
	return vigil.ProvisionalOtherReason
}

func (h *pollbooks) provisionalForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	d := h.pageData(r, rq, site, "Provisional ballot")
	b := vigil.ProvisionalBallot{Reason: provisionalReasonFor(vigil.RefusalReason(r.URL.Query().Get("refused")))}
	county, _, _ := pollbook.SitePlace(site)
	if id := r.URL.Query().Get("voter"); id != "" {
		if sv, err := h.s.node.DB.Voter(r.Context(), vigil.VoterID(id)); err == nil && sv.Voter.County == county {
			b.Voter, b.FirstName, b.LastName = sv.Voter.ID, sv.Voter.Name.First, sv.Voter.Name.Last
			b.Address = sv.Voter.Residence.String()
		}
	}
	d["Ballot"], d["Reasons"] = b, provisionalReasonText
	h.s.renderPage(w, r, rq, "pollbook_provisional.html", d)
	return nil
}

func (h *pollbooks) provisionalPost(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	f := r.PostFormValue
	b := vigil.ProvisionalBallot{Envelope: f("envelope"), Reason: vigil.ProvisionalReason(f("reason")),
		Voter: vigil.VoterID(f("voter")), FirstName: strings.TrimSpace(f("first_name")), LastName: strings.TrimSpace(f("last_name")),
		BirthDate: f("birth_date"), Address: strings.TrimSpace(f("address")), Note: strings.TrimSpace(f("note"))}
	d := h.pageData(r, rq, site, "Provisional ballot")
	if err := h.issue(r.Context(), rq, site, &b); err != nil {
		if k := vigil.ErrorKind(err); k != vigil.Invalid && k != vigil.Conflict {
			return err
		}
		d["Ballot"], d["Reasons"], d["Error"] = b, provisionalReasonText, vigil.ErrorMessage(err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOf(vigil.ErrorKind(err)))
		h.s.renderPage(w, r, rq, "pollbook_provisional.html", d)
		return nil
	}
	d["Issued"] = b
	h.s.renderPage(w, r, rq, "pollbook_done.html", d)
	return nil
}

func (h *pollbooks) turnoutPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	t, e, err := h.turnout(r.Context(), county)
	if err != nil {
		return err
	}
	h.s.renderPage(w, r, rq, "pollbook_turnout.html", map[string]any{"Title": "Turnout", "County": county,
		"Election": e, "Turnout": t, "Stream": "/api/v1/pollbook/turnout/stream?county=" + url.QueryEscape(county),
		"Sites": h.s.siteRows(rq)})
	return nil
}

// turnoutStream sends the county's turnout as server-sent events (see
// streamOnApply).
func (h *pollbooks) turnoutStream(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	return h.s.streamOnApply(w, r, "turnout", func(ctx context.Context) (any, error) {
		t, _, err := h.turnout(ctx, county)
		return struct {
			sqlite.Turnout
			Sites []siteRow `json:"sites"`
		}{t, h.s.siteRows(rq)}, err
	})
}

// streamLife bounds one SSE response; EventSource reconnects after it.
const streamLife = 25 * time.Second

func (h *pollbooks) provisionalsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		status = "pending"
	}
	if status == "all" {
		status = ""
	}
	list, err := h.pb.Provisionals(r.Context(), county, status, 500)
	if err != nil {
		return err
	}
	conflicts, err := h.pb.Conflicts(r.Context(), county, map[string]string{"pending": "open"}[status])
	if err != nil {
		return err
	}
	h.s.renderPage(w, r, rq, "pollbook_provisionals.html", map[string]any{"Title": "Provisional ballots and conflicts",
		"County": county, "List": list, "Conflicts": conflicts, "Status": r.URL.Query().Get("status"), "CSRF": rq.sess.CSRF,
		"Notice": r.URL.Query().Get("done")})
	return nil
}

func (h *pollbooks) decisionPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	env := r.PathValue("envelope")
	d := vigil.ProvisionalDecision{Envelope: env, County: county, Accepted: r.PostFormValue("decision") == "accept",
		Reason: r.PostFormValue("reason")}
	if err := h.pb.Adjudicate(r.Context(), h.actor(rq, ""), d); err != nil {
		return err
	}
	verdict := "rejected"
	if d.Accepted {
		verdict = "accepted"
	}
	http.Redirect(w, r, "/pollbook/provisionals?county="+url.QueryEscape(county)+"&done="+url.QueryEscape("Envelope "+env+" "+verdict), http.StatusSeeOther)
	return nil
}

// canAct reports whether one of the user's active grants allows action.
func (h *pollbooks) canAct(rq *request, action access.Action) bool {
	for _, g := range rq.user.Grants {
		if access.Allows(g.Role, action) && g.Active(h.s.node.Now()) {
			return true
		}
	}
	return false
}

func (h *pollbooks) resolvePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	if err := h.pb.ResolveConflict(r.Context(), h.actor(rq, ""), county, r.PathValue("event"), r.PostFormValue("outcome")); err != nil {
		return err
	}
	http.Redirect(w, r, "/pollbook/provisionals?county="+url.QueryEscape(county)+"&done="+url.QueryEscape("Conflict resolved"), http.StatusSeeOther)
	return nil
}
