package http

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/campaign"
	"github.com/vigil-elections/vigil/sqlite"
)

// The campaign desk's pages. Forms post, then redirect with a message
// (?ok=…) on success; on bad input they re-render the page with the
// submitted values and a message next to each wrong field.

// formState is what a page shows after a form.
type formState struct {
	Message string
	Error   string
	Errors  map[string]string // field → message
	Form    url.Values
}

// failed turns a form's error into the state to re-render, and the
// status; internal errors are returned to go to the error page.
func failed(r *http.Request, err error) (formState, int, error) {
	k := vigil.ErrorKind(err)
	if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity {
		return formState{}, 0, err
	}
	st := formState{Error: vigil.ErrorMessage(err), Errors: vigil.FieldErrors(err), Form: r.PostForm}
	if len(st.Errors) > 1 {
		st.Error = "Some fields need attention; see the messages next to them."
	}
	return st, statusOf(k), nil
}

func okState(r *http.Request) formState {
	return formState{Message: r.URL.Query().Get("ok")}
}

func redirectOK(w http.ResponseWriter, r *http.Request, path, msg string) error {
	target := path
	if msg != "" {
		target += "?ok=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) canAny(rq *request, a access.Action) bool {
	for _, g := range rq.user.Grants {
		if access.Allows(g.Role, a) && g.Active(s.node.Now()) {
			return true
		}
	}
	return false
}

// ---- campaigns list

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderCampaigns(w, r, rq, http.StatusOK, okState(r))
}

func (s *Server) renderCampaigns(w http.ResponseWriter, r *http.Request, rq *request, status int, st formState) error {
	ids, err := s.reachable(r.Context(), r, rq, access.ActionCampaignRead)
	if err != nil {
		return err
	}
	var list []campaignView
	var waiting []waitingHelp
	for _, id := range ids {
		c, err := s.loadCampaign(r.Context(), id)
		if err != nil {
			return err
		}
		list = append(list, c)
		hs, err := s.desk().HelpRequests(r.Context(), c.Campaign)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if len(h.Engaged) == 0 {
				waiting = append(waiting, waitingHelp{Campaign: c.Campaign, Help: h})
			}
		}
	}
	// The desk's queue: requests no firm was engaged for, most urgent first.
	urgency := map[vigil.Urgency]int{}
	for i, u := range vigil.Urgencies {
		urgency[u] = i
	}
	sort.SliceStable(waiting, func(i, j int) bool {
		a, b := waiting[i].Help, waiting[j].Help
		if urgency[a.Urgency] != urgency[b.Urgency] {
			return urgency[a.Urgency] > urgency[b.Urgency]
		}
		return a.Time.Before(b.Time)
	})
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaigns.html", map[string]any{"Title": "Campaign security desk", "Campaigns": list, "Waiting": waiting,
		"CanRegister": s.canAny(rq, access.ActionCampaignManage), "CanVet": s.canAny(rq, access.ActionFirmVet), "State": st})
	return nil
}

// waitingHelp is a help request no firm was engaged for yet.
type waitingHelp struct {
	Campaign vigil.Campaign
	Help     sqlite.HelpView
}

func campaignFromForm(r *http.Request, id vigil.CampaignID) vigil.Campaign {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	c := vigil.Campaign{ID: id, Organisation: f("organisation"), Candidate: f("candidate"), Race: f("race"), Party: f("party"), Domain: f("domain")}
	for i := range 2 {
		p := "contacts." + strconv.Itoa(i) + "."
		ct := vigil.CampaignContact{Name: f(p + "name"), Role: f(p + "role"), Email: f(p + "email"), Phone: f(p + "phone")}
		if i == 0 || ct != (vigil.CampaignContact{}) {
			c.Contacts = append(c.Contacts, ct)
		}
	}
	return c
}

func campaignValues(c vigil.Campaign) url.Values {
	v := url.Values{"organisation": {c.Organisation}, "candidate": {c.Candidate}, "race": {c.Race}, "party": {c.Party}, "domain": {c.Domain}}
	for i, ct := range c.Contacts {
		p := "contacts." + strconv.Itoa(i) + "."
		v.Set(p+"name", ct.Name)
		v.Set(p+"role", ct.Role)
		v.Set(p+"email", ct.Email)
		v.Set(p+"phone", ct.Phone)
	}
	return v
}

func (s *Server) campaignRegisterForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := strings.TrimSpace(r.PostFormValue("id"))
	err := vigil.ValidateTenantID("id", id)
	if err == nil {
		err = s.authorizeTarget(r.Context(), r, rq, vigil.CampaignScope(vigil.CampaignID(id)))
	}
	if err == nil {
		if _, e := s.node.DB.Campaign(r.Context(), vigil.CampaignID(id)); e == nil {
			err = &vigil.Error{Op: "campaign.register", Kind: vigil.Conflict, Field: "id", Message: "campaign " + id + " is already registered"}
		}
	}
	if err == nil {
		_, err = s.desk().SaveCampaign(r.Context(), s.actor(rq), campaignFromForm(r, vigil.CampaignID(id)))
	}
	if err != nil {
		st, status, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderCampaigns(w, r, rq, status, st)
	}
	return redirectOK(w, r, "/campaigns/"+id, "Campaign "+id+" registered.")
}

// ---- one campaign

type lookalikeView struct{ Domain, Unicode, Technique string }

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	return s.renderCampaign(w, r, rq, id, http.StatusOK, okState(r))
}

func (s *Server) renderCampaign(w http.ResponseWriter, r *http.Request, rq *request, id vigil.CampaignID, status int, st formState) error {
	ctx := r.Context()
	c, err := s.loadCampaign(ctx, id)
	if err != nil {
		return err
	}
	can, err := s.rightsOn(ctx, rq, id)
	if err != nil {
		return err
	}
	data := map[string]any{"Title": c.Organisation, "C": c, "Can": can, "State": st,
		"Areas": vigil.HelpAreas, "Urgencies": vigil.Urgencies, "Kinds": vigil.IncidentKinds}
	if st.Form == nil {
		st.Form = campaignValues(c.Campaign)
		data["State"] = st
	}
	help, err := s.desk().HelpRequests(ctx, c.Campaign)
	if err != nil {
		return err
	}
	data["Help"] = help
	es, err := s.node.DB.Engagements(ctx, id, "")
	if err != nil {
		return err
	}
	if can.ViaFirm != "" {
		var mine []sqlite.EngagementRow
		for _, e := range es {
			if e.Firm == can.ViaFirm {
				mine = append(mine, e)
			}
		}
		es = mine
	}
	if data["Engagements"], err = s.desk().EngagementViews(es); err != nil {
		return err
	}
	if can.AssessRead {
		as, err := s.desk().Assessments(ctx, id)
		if err != nil {
			return err
		}
		data["Assessments"] = as
	}
	if can.IncidentRead {
		if data["Incidents"], err = s.desk().Incidents(ctx, []vigil.CampaignID{id}); err != nil {
			return err
		}
	}
	if can.AccessLog {
		if data["Accesses"], err = s.node.DB.CampaignAccesses(ctx, id, 100); err != nil {
			return err
		}
	}
	if c.Domain != "" {
		if ls, err := campaign.Lookalikes(c.Domain); err == nil {
			var out []lookalikeView
			for _, l := range ls {
				out = append(out, lookalikeView{l.Domain, l.Unicode, string(l.Technique)})
			}
			data["Lookalikes"] = out
		}
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaign.html", data)
	return nil
}

// campaignForm runs a form on the path's campaign: authorize, act, then
// redirect with ok or re-render the campaign page with the errors.
func (s *Server) campaignForm(w http.ResponseWriter, r *http.Request, rq *request, act func(ctx context.Context, c vigil.Campaign) (string, error)) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	c, err := s.loadCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	msg, err := act(r.Context(), c.Campaign)
	if err != nil {
		st, status, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderCampaign(w, r, rq, id, status, st)
	}
	return redirectOK(w, r, "/campaigns/"+string(id), msg)
}

func (s *Server) campaignUpdateForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.campaignForm(w, r, rq, func(ctx context.Context, c vigil.Campaign) (string, error) {
		_, err := s.desk().SaveCampaign(ctx, s.actor(rq), campaignFromForm(r, c.ID))
		return "Profile saved.", err
	})
}

func (s *Server) helpForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.campaignForm(w, r, rq, func(ctx context.Context, c vigil.Campaign) (string, error) {
		r.ParseForm()
		h := vigil.HelpRequest{Urgency: vigil.Urgency(r.PostFormValue("urgency")), Details: r.PostFormValue("details")}
		for _, a := range r.PostForm["areas"] {
			h.Areas = append(h.Areas, vigil.HelpArea(a))
		}
		_, err := s.desk().RequestHelp(ctx, s.actor(rq), c, h)
		return "Help requested. The firms proposed are listed with your request.", err
	})
}

func (s *Server) engageForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.campaignForm(w, r, rq, func(ctx context.Context, c vigil.Campaign) (string, error) {
		days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
		if err != nil {
			return "", vigil.FieldError("engagement.start", "days", "must be a whole number of days")
		}
		req := engageRequest{Firm: vigil.FirmID(r.PostFormValue("firm")), Request: r.PostFormValue("request"), Days: days,
			Consent: r.PostFormValue("consent") == "yes"}
		_, err = s.desk().Engage(ctx, s.actor(rq), c, req)
		return "Engagement started: " + string(req.Firm) + " can now see this campaign for " + strconv.Itoa(days) + " days.", err
	})
}

func (s *Server) revokeEngagementForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.campaignForm(w, r, rq, func(ctx context.Context, c vigil.Campaign) (string, error) {
		return "Engagement revoked: the firm's access has ended.", s.desk().RevokeEngagement(ctx, s.actor(rq), c.ID, r.PathValue("eid"), r.PostFormValue("reason"))
	})
}

func (s *Server) incidentForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.campaignForm(w, r, rq, func(ctx context.Context, c vigil.Campaign) (string, error) {
		in := vigil.Incident{Kind: vigil.IncidentKind(r.PostFormValue("kind")), Summary: r.PostFormValue("summary"),
			Details: r.PostFormValue("details"), Occurred: r.PostFormValue("occurred")}
		_, err := s.desk().ReportIncident(ctx, s.actor(rq), c.ID, in)
		return "Incident reported to the security officer and your engaged firms.", err
	})
}

// ---- self-assessment

type questionView struct {
	ID       vigil.ControlID
	Text     string
	Weight   string
	Evidence string
	Heading  bool
	Points   string // "", "0", "1", "2"
	Note     string
	Options  [3]string
}

type groupView struct {
	Name      string
	Questions []questionView
}

func (s *Server) assessmentPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	return s.renderAssessment(w, r, rq, id, http.StatusOK, okState(r))
}

func (s *Server) renderAssessment(w http.ResponseWriter, r *http.Request, rq *request, id vigil.CampaignID, status int, st formState) error {
	c, err := s.loadCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	as, err := s.desk().Assessments(r.Context(), id)
	if err != nil {
		return err
	}
	current := map[vigil.ControlID]vigil.ControlAnswer{}
	var latest *assessmentView
	if len(as) > 0 {
		latest = &as[len(as)-1]
		for _, a := range latest.Answers {
			current[a.Control] = a
		}
	}
	byGroup := map[string]*groupView{}
	var groups []*groupView
	for _, g := range campaign.Groups() {
		gv := &groupView{Name: g}
		byGroup[g] = gv
		groups = append(groups, gv)
	}
	for _, q := range campaign.Questions() {
		ctl := q.Control
		qv := questionView{ID: ctl.ID, Text: ctl.Text, Weight: ctl.Weight.String(), Evidence: q.EvidencePrompt, Heading: ctl.HeadingLevel, Options: q.Options}
		if st.Form != nil {
			qv.Points, qv.Note = st.Form.Get("points."+string(ctl.ID)), st.Form.Get("evidence."+string(ctl.ID))
		} else if a, ok := current[ctl.ID]; ok {
			qv.Points, qv.Note = strconv.Itoa(int(a.Points)), a.Evidence
		}
		byGroup[ctl.Group].Questions = append(byGroup[ctl.Group].Questions, qv)
	}
	rt, err := s.rightsOn(r.Context(), rq, id)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaign_assess.html", map[string]any{"Title": "Self-assessment · " + c.Organisation, "C": c,
		"Groups": groups, "Latest": latest, "History": as, "CanAssess": rt.Assess, "State": st})
	return nil
}

func (s *Server) assessmentForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	r.ParseForm()
	var answers []vigil.ControlAnswer
	errs := map[string]string{}
	for _, ctl := range campaign.Controls() {
		p := strings.TrimSpace(r.PostFormValue("points." + string(ctl.ID)))
		note := strings.TrimSpace(r.PostFormValue("evidence." + string(ctl.ID)))
		if p == "" {
			if note != "" {
				errs["points."+string(ctl.ID)] = "choose an answer for " + string(ctl.ID) + " or remove its note"
			}
			continue
		}
		n, err := strconv.Atoi(p)
		a := vigil.ControlAnswer{Control: ctl.ID, Points: vigil.ControlPoints(n), Evidence: note}
		if err != nil {
			a.Points = -1
		}
		if err := a.Validate(); err != nil {
			errs[vigil.ErrorField(err)+"."+string(ctl.ID)] = vigil.ErrorMessage(err)
			continue
		}
		answers = append(answers, a)
	}
	if len(errs) > 0 {
		return s.renderAssessment(w, r, rq, id, http.StatusBadRequest, formState{Error: "Some answers need attention; see the messages next to them.", Errors: errs, Form: r.PostForm})
	}
	if err := s.desk().Assess(r.Context(), s.actor(rq), id, answers); err != nil {
		st, status, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderAssessment(w, r, rq, id, status, st)
	}
	return redirectOK(w, r, "/campaigns/"+string(id)+"/assessment", "Self-assessment saved.")
}

func (s *Server) assessmentPDF(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	c, err := s.loadCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	rows, err := s.node.DB.CampaignAssessments(r.Context(), id)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return vigil.Errorf(vigil.NotFound, "assessment.pdf", "campaign %s has saved no self-assessment yet", id)
	}
	last := rows[len(rows)-1]
	answers, err := s.desk().OpenAnswers(last.Sealed)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := campaign.WriteReport(&buf, c.Campaign, vigil.Assessment{Campaign: id, Time: last.Time, Answers: answers}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="self-assessment-`+string(id)+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// ---- incidents desk

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderIncidents(w, r, rq, http.StatusOK, okState(r))
}

func (s *Server) renderIncidents(w http.ResponseWriter, r *http.Request, rq *request, status int, st formState) error {
	ids, err := s.reachable(r.Context(), r, rq, access.ActionIncidentRead)
	if err != nil {
		return err
	}
	list, err := s.desk().Incidents(r.Context(), ids)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaign_incidents.html", map[string]any{"Title": "Campaign incidents", "Incidents": list,
		"Statuses": vigil.IncidentStatuses, "CanUpdate": s.canAny(rq, access.ActionIncidentUpdate), "State": st})
	return nil
}

func (s *Server) incidentUpdateForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	u := incidentUpdate{Status: vigil.IncidentStatus(r.PostFormValue("status")), Note: r.PostFormValue("note")}
	if _, err := s.updateIncident(r.Context(), r, rq, r.PathValue("iid"), u); err != nil {
		st, status, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderIncidents(w, r, rq, status, st)
	}
	return redirectOK(w, r, "/incidents", "Incident marked "+string(u.Status)+".")
}

// ---- firms

func (s *Server) firmsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderFirms(w, r, rq, http.StatusOK, okState(r))
}

type ownFirm struct {
	ID   vigil.FirmID
	View *firmView
	Form url.Values
}

func (s *Server) renderFirms(w http.ResponseWriter, r *http.Request, rq *request, status int, st formState) error {
	fs, err := s.visibleFirms(r.Context(), rq)
	if err != nil {
		return err
	}
	var own []ownFirm
	for _, g := range rq.user.Grants {
		id, ok := firmOf(g)
		if !ok {
			continue
		}
		o := ownFirm{ID: id, Form: url.Values{}}
		for i := range fs {
			if fs[i].ID == id {
				f := fs[i]
				o.View = &f
				o.Form = firmValues(f)
			}
		}
		if st.Form != nil && strings.HasSuffix(r.URL.Path, "/firms/"+string(id)) {
			o.Form = st.Form
		}
		own = append(own, o)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaign_firms.html", map[string]any{"Title": "Security firms", "Firms": fs, "Own": own,
		"Officer": s.canAny(rq, access.ActionFirmVet), "Areas": vigil.HelpAreas, "Attestation": vigil.FirmAttestation, "State": st})
	return nil
}

func firmValues(f firmView) url.Values {
	v := url.Values{"name": {f.Name}, "capacity": {strconv.Itoa(f.Capacity)}, "conflicts": {strings.Join(f.Conflicts, "\n")}}
	if f.Contact != nil {
		v.Set("contact.name", f.Contact.Name)
		v.Set("contact.role", f.Contact.Role)
		v.Set("contact.email", f.Contact.Email)
		v.Set("contact.phone", f.Contact.Phone)
	}
	for _, a := range f.Specialties {
		v.Add("specialties", string(a))
	}
	return v
}

func (s *Server) firmApplyForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("fid")
	err := vigil.ValidateTenantID("firm", id)
	if err == nil {
		r.ParseForm()
		f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
		firm := vigil.Firm{ID: vigil.FirmID(id), Name: f("name"), Attested: r.PostFormValue("attested") == "yes",
			Contact: vigil.CampaignContact{Name: f("contact.name"), Role: f("contact.role"), Email: f("contact.email"), Phone: f("contact.phone")}}
		for _, a := range r.PostForm["specialties"] {
			firm.Specialties = append(firm.Specialties, vigil.HelpArea(a))
		}
		firm.Capacity, err = strconv.Atoi(f("capacity"))
		if err != nil {
			firm.Capacity = 0
		}
		firm.Conflicts = strings.Split(r.PostFormValue("conflicts"), "\n")
		err = s.applyFirm(r.Context(), r, rq, firm)
	}
	if err != nil {
		st, status, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderFirms(w, r, rq, status, st)
	}
	return redirectOK(w, r, "/firms", "Application saved. The security officer will vet it; until then you cannot be engaged.")
}

func (s *Server) firmVetForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("fid")
	err := vigil.ValidateTenantID("firm", id)
	status := vigil.FirmStatus(r.PostFormValue("status"))
	if err == nil {
		err = s.desk().VetFirm(r.Context(), s.actor(rq), vigil.FirmID(id), status, strings.TrimSpace(r.PostFormValue("note")))
	}
	if err != nil {
		st, code, ierr := failed(r, err)
		if ierr != nil {
			return ierr
		}
		return s.renderFirms(w, r, rq, code, st)
	}
	return redirectOK(w, r, "/firms", "Firm "+id+" is now "+string(status)+".")
}

// ---- email posture

func (s *Server) emailPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.renderPage(w, r, rq, "campaign_email.html", map[string]any{"Title": "Email posture", "State": formState{}})
	return nil
}

func (s *Server) emailForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	p := postureRequest{SPF: r.PostFormValue("spf"), DKIM: r.PostFormValue("dkim"), DMARC: r.PostFormValue("dmarc")}
	reps, err := gradePosture(p)
	st := formState{Form: r.PostForm}
	if err != nil {
		var status int
		var ierr error
		if st, status, ierr = failed(r, err); ierr != nil {
			return ierr
		}
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "campaign_email.html", map[string]any{"Title": "Email posture", "Reports": reps, "State": st})
	return nil
}
