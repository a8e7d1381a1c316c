package http

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/paper"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// The paper fallback. Switching a place to paper and entering the paper
// check-ins afterwards do not go through a pollbook device (the devices
// may be what failed): the supervisor's or the county's role at the place
// is what is checked.

func (h *pollbooks) registerPaper(site scopeFunc) {
	s := h.s
	s.handle("GET /pollbook/paper", access.ActionPollbookPaper, site, h.paperPage)
	s.handle("POST /pollbook/paper/mode", access.ActionPollbookPaper, site, h.paperModeForm)
	s.handle("POST /pollbook/paper/checkins", access.ActionPollbookPaper, site, h.paperEntryForm)
	s.handle("GET /api/v1/pollbook/paper-mode", access.ActionPollbookPaper, site, h.apiPaperMode)
	s.handle("POST /api/v1/pollbook/paper-mode", access.ActionPollbookPaper, site, h.apiSetPaperMode)
	s.handle("POST /api/v1/pollbook/paper-checkins", access.ActionPollbookPaper, site, h.apiPaperEntry)
	s.handle("GET /pollbook/provisional/{envelope}/envelope.pdf", access.ActionProvisionalIssue, site, h.envelopePDF)
}

func (h *pollbooks) renderPaper(w http.ResponseWriter, r *http.Request, rq *request, site vigil.Scope, status int, d map[string]any) error {
	mode, err := h.pb.PaperMode(r.Context(), site)
	if err != nil {
		return err
	}
	page := h.pageData(r, rq, site, "Paper pollbook")
	for k, v := range d {
		page[k] = v
	}
	page["Mode"] = mode
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
	}
	h.s.renderPage(w, r, rq, "pollbook_paper.html", page)
	return nil
}

func (h *pollbooks) paperPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	return h.renderPaper(w, r, rq, site, http.StatusOK, nil)
}

func (h *pollbooks) paperModeForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	on := r.PostFormValue("on") == "1"
	if err := h.pb.SetPaperMode(r.Context(), h.actor(rq, site), site, on, r.PostFormValue("reason")); err != nil {
		return h.renderPaper(w, r, rq, site, statusOf(vigil.ErrorKind(err)), map[string]any{"Error": vigil.ErrorMessage(err)})
	}
	msg := "This polling place is back on the electronic pollbooks. Enter the paper check-ins below."
	if on {
		msg = "This polling place is on paper now: pollbooks refuse check-ins here. Use the printed pollbook."
	}
	return h.renderPaper(w, r, rq, site, http.StatusOK, map[string]any{"Message": msg})
}

// paperCSV is the entry as uploaded (a file) or pasted (a text field).
func paperCSV(r *http.Request) (io.Reader, error) {
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 8<<20))
		return bytes.NewReader(b), err
	}
	text := r.PostFormValue("csv")
	if strings.TrimSpace(text) == "" {
		return nil, vigil.FieldError("pollbook.paper_entry", "csv", "choose the CSV file, or paste its lines (header voter[,time][,identity])")
	}
	return strings.NewReader(text), nil
}

func (h *pollbooks) enterPaper(r *http.Request, rq *request, site vigil.Scope, body io.Reader) ([]sqlite.PaperResult, error) {
	entries, err := sqlite.ReadPaperCheckIns(body, h.pb.Loc)
	if err != nil {
		return nil, err
	}
	return h.pb.EnterPaperCheckIns(r.Context(), h.actor(rq, site), site, entries)
}

func (h *pollbooks) paperEntryForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	body, err := paperCSV(r)
	var results []sqlite.PaperResult
	if err == nil {
		results, err = h.enterPaper(r, rq, site, body)
	}
	if err != nil {
		return h.renderPaper(w, r, rq, site, statusOf(vigil.ErrorKind(err)), map[string]any{"Error": vigil.ErrorMessage(err)})
	}
	return h.renderPaper(w, r, rq, site, http.StatusOK, map[string]any{"Results": results, "Summary": paperSummary(results)})
}

// paperSummary counts the outcomes of an entry.
func paperSummary(results []sqlite.PaperResult) map[string]int {
	out := map[string]int{"checked_in": 0, "already_entered": 0, "conflict": 0}
	for _, r := range results {
		out[r.Outcome]++
	}
	return out
}

func (h *pollbooks) apiPaperMode(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	mode, err := h.pb.PaperMode(r.Context(), site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"site": site, "mode": mode})
}

func (h *pollbooks) apiSetPaperMode(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	var body struct {
		On     bool   `json:"on"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.pb.SetPaperMode(r.Context(), h.actor(rq, site), site, body.On, body.Reason); err != nil {
		return err
	}
	return h.apiPaperMode(w, r, rq)
}

// apiPaperEntry takes the CSV as the request body and answers with one
// result per line and the counts.
func (h *pollbooks) apiPaperEntry(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return err
	}
	results, err := h.enterPaper(r, rq, site, r.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"site": site, "results": results, "summary": paperSummary(results)})
}

// envelopeReason is the reason line printed on the envelope for a
// provisional ballot's recorded reason.
func envelopeReason(r vigil.ProvisionalReason) string {
	switch r {
	case vigil.ProvisionalNotFound, vigil.ProvisionalWrongPlace:
		return paper.Reasons[0]
	case vigil.ProvisionalNoID:
		return paper.Reasons[1]
	case vigil.ProvisionalCheckedIn, vigil.ProvisionalMailBallot:
		return paper.Reasons[2]
	case vigil.ProvisionalCourtOrder:
		return paper.Reasons[3]
	}
	return paper.Reasons[4]
}

// envelopePDF prints the envelope of a provisional ballot issued at the
// site, with what the pollbook recorded filled in: the voter checks it and
// signs the affirmation.
func (h *pollbooks) envelopePDF(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	county, place, _ := pollbook.SitePlace(site)
	pv, err := h.pb.Provisional(r.Context(), county, r.PathValue("envelope"))
	if err != nil {
		return err
	}
	if pv.Place != place {
		return vigil.Errorf(vigil.NotFound, "provisional.envelope", "envelope %s was not issued at this polling place", pv.Envelope)
	}
	n := h.s.node
	stamp, err := h.s.paperStamp(r.Context(), place, pv.Election)
	if err != nil {
		return err
	}
	f := paper.Filled{LastName: pv.LastName, FirstName: pv.FirstName, BirthDate: pv.BirthDate, Address: pv.Address,
		VoterID: string(pv.Voter), Reason: envelopeReason(pv.Reason), Issuer: pv.Actor}
	if pv.Voter != "" {
		if sv, err := n.DB.Voter(r.Context(), pv.Voter); err == nil {
			if pr, err := h.precincts(r.Context(), county); err == nil {
				f.BallotStyle = pr[sv.Voter.Precinct].style
			}
		}
	}
	var buf bytes.Buffer
	if err := paper.FilledEnvelope(&buf, stamp, pv.Envelope, f); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="envelope-`+pv.Envelope+`.pdf"`)
	_, err = w.Write(buf.Bytes())
	return err
}
