package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/campaign"
	"github.com/vigil-elections/vigil/sqlite"
)

// The campaign security desk: campaigns and vetted firms as tenants,
// self-assessments, help requests and matching, engagements, incidents and
// the email-posture grader.
//
// Isolation: every route that names a campaign authorizes it here, before
// anything about the campaign is read, so a campaign that does not exist
// and one the caller may not see are refused alike. A campaign's own
// users and the security officer reach it through their grants; a firm
// reaches it only through an engagement that the campaign consented to,
// that has not expired and has not been revoked, while the firm is
// approved — checked on every request, so a revocation or an expiry stops
// access at once. Every request a firm makes to a campaign's data is an
// event (campaign.accessed) that the campaign can read. Objects reached by
// their own id (incidents) answer NotFound to callers who may not see
// them. Tenant content is sealed in the log (see vigil.CampaignRecord).

func (s *Server) registerCampaigns() {
	s.handle("GET /campaigns", access.ActionCampaignRead, nil, s.campaignsPage)
	s.handle("POST /campaigns", access.ActionCampaignManage, nil, s.campaignRegisterForm)
	s.handle("GET /campaigns/{id}", access.ActionCampaignRead, nil, s.campaignPage)
	s.handle("POST /campaigns/{id}", access.ActionCampaignManage, nil, s.campaignUpdateForm)
	s.handle("GET /campaigns/{id}/assessment", access.ActionAssessmentRead, nil, s.assessmentPage)
	s.handle("POST /campaigns/{id}/assessment", access.ActionCampaignAssess, nil, s.assessmentForm)
	s.handle("GET /campaigns/{id}/assessment.pdf", access.ActionAssessmentRead, nil, s.assessmentPDF)
	s.handle("POST /campaigns/{id}/help", access.ActionHelpRequest, nil, s.helpForm)
	s.handle("POST /campaigns/{id}/engagements", access.ActionEngagementConsent, nil, s.engageForm)
	s.handle("POST /campaigns/{id}/engagements/{eid}/revoke", access.ActionEngagementRevoke, nil, s.revokeEngagementForm)
	s.handle("POST /campaigns/{id}/incidents", access.ActionIncidentReport, nil, s.incidentForm)
	s.handle("GET /incidents", access.ActionIncidentRead, nil, s.incidentsPage)
	s.handle("POST /incidents/{iid}", access.ActionIncidentUpdate, nil, s.incidentUpdateForm)
	s.handle("GET /firms", access.ActionFirmRead, nil, s.firmsPage)
	s.handle("POST /firms/{fid}", access.ActionFirmApply, nil, s.firmApplyForm)
	s.handle("POST /firms/{fid}/vet", access.ActionFirmVet, nil, s.firmVetForm)
	s.handle("GET /email-posture", access.ActionCampaignRead, nil, s.emailPage)
	s.handle("POST /email-posture", access.ActionCampaignRead, nil, s.emailForm)

	s.handle("GET /api/v1/campaigns", access.ActionCampaignRead, nil, s.apiCampaigns)
	s.handle("GET /api/v1/campaigns/{id}", access.ActionCampaignRead, nil, s.apiCampaign)
	s.handle("PUT /api/v1/campaigns/{id}", access.ActionCampaignManage, nil, s.apiPutCampaign)
	s.handle("GET /api/v1/campaigns/{id}/access", access.ActionCampaignRead, nil, s.apiCampaignAccess)
	s.handle("GET /api/v1/campaigns/{id}/lookalikes", access.ActionCampaignRead, nil, s.apiLookalikes)
	s.handle("GET /api/v1/assessments", access.ActionAssessmentRead, nil, s.apiAssessmentsAll)
	s.handle("GET /api/v1/campaigns/{id}/assessments", access.ActionAssessmentRead, nil, s.apiAssessments)
	s.handle("POST /api/v1/campaigns/{id}/assessments", access.ActionCampaignAssess, nil, s.apiAssess)
	s.handle("GET /api/v1/campaigns/{id}/help", access.ActionCampaignRead, nil, s.apiHelp)
	s.handle("POST /api/v1/campaigns/{id}/help", access.ActionHelpRequest, nil, s.apiRequestHelp)
	s.handle("GET /api/v1/engagements", access.ActionCampaignRead, nil, s.apiEngagements)
	s.handle("POST /api/v1/campaigns/{id}/engagements", access.ActionEngagementConsent, nil, s.apiEngage)
	s.handle("POST /api/v1/campaigns/{id}/engagements/{eid}/revoke", access.ActionEngagementRevoke, nil, s.apiRevokeEngagement)
	s.handle("GET /api/v1/incidents", access.ActionIncidentRead, nil, s.apiIncidents)
	s.handle("POST /api/v1/campaigns/{id}/incidents", access.ActionIncidentReport, nil, s.apiReportIncident)
	s.handle("POST /api/v1/incidents/{iid}", access.ActionIncidentUpdate, nil, s.apiUpdateIncident)
	s.handle("GET /api/v1/firms", access.ActionFirmRead, nil, s.apiFirms)
	s.handle("PUT /api/v1/firms/{fid}", access.ActionFirmApply, nil, s.apiApplyFirm)
	s.handle("POST /api/v1/firms/{fid}/vet", access.ActionFirmVet, nil, s.apiVetFirm)
	s.handle("POST /api/v1/email-posture", access.ActionCampaignRead, nil, s.apiEmailPosture)
}

// ---- who reaches what

func pathCampaign(r *http.Request) (vigil.CampaignID, error) {
	id := r.PathValue("id")
	if err := vigil.ValidateTenantID("campaign", id); err != nil {
		return "", err
	}
	return vigil.CampaignID(id), nil
}

// reachCampaign authorizes rq's action on campaign id, before anything of
// the campaign is read. A firm's access is recorded as an event.
func (s *Server) reachCampaign(ctx context.Context, r *http.Request, rq *request, id vigil.CampaignID) (*sqlite.EngagementRow, error) {
	d := access.Authorize(rq.user.Grants, rq.action, vigil.CampaignScope(id), s.node.Now())
	if d.Allowed {
		rq.decision = d
		return nil, nil
	}
	g, e, err := s.firmReach(ctx, rq, rq.action, id)
	if err != nil {
		return nil, err
	}
	if e == nil {
		s.deny(ctx, r, rq, "no role or engagement of yours covers "+string(vigil.CampaignScope(id)))
		return nil, &vigil.Error{Op: "campaign", Kind: vigil.Permission,
			Message: "you may not do this for campaign " + string(id) + ": no role of yours covers it and no active engagement gives you access"}
	}
	rq.decision = access.Decision{Allowed: true, Grant: g}
	return e, s.recordAccess(ctx, r, rq, *e)
}

// reachable lists the campaigns on which rq may perform its action, by
// id; a firm's reading of the list is recorded for each campaign in it.
func (s *Server) reachable(ctx context.Context, r *http.Request, rq *request, action access.Action) ([]vigil.CampaignID, error) {
	rows, err := s.node.DB.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	var out []vigil.CampaignID
	for _, c := range rows {
		if access.Authorize(rq.user.Grants, action, vigil.CampaignScope(c.ID), s.node.Now()).Allowed {
			out = append(out, c.ID)
			continue
		}
		g, e, err := s.firmReach(ctx, rq, action, c.ID)
		if err != nil {
			return nil, err
		}
		if e != nil {
			saved := rq.decision
			rq.decision = access.Decision{Allowed: true, Grant: g}
			err := s.recordAccess(ctx, r, rq, *e)
			rq.decision = saved
			if err != nil {
				return nil, err
			}
			out = append(out, c.ID)
		}
	}
	return out, nil
}

// rights says what rq may do on one campaign now, for a page's sections.
type rights struct {
	Read, Manage, Assess, AssessRead bool
	Help, Consent, Revoke            bool
	Report, IncidentRead             bool
	IncidentUpdate                   bool
	AccessLog                        bool         // by its own grant (campaign or officer), not a firm's
	ViaFirm                          vigil.FirmID // the firm whose engagement gives access, if any
}

func (s *Server) rightsOn(ctx context.Context, rq *request, id vigil.CampaignID) (rights, error) {
	var out rights
	_, e, err := s.firmReach(ctx, rq, access.ActionCampaignRead, id)
	if err != nil {
		return out, err
	}
	can := func(a access.Action) bool {
		if access.Authorize(rq.user.Grants, a, vigil.CampaignScope(id), s.node.Now()).Allowed {
			return true
		}
		if e == nil {
			return false
		}
		for _, g := range rq.user.Grants {
			if f, ok := firmOf(g); ok && f == e.Firm && access.Allows(g.Role, a) {
				return true
			}
		}
		return false
	}
	out.Read, out.Manage, out.Assess, out.AssessRead = can(access.ActionCampaignRead), can(access.ActionCampaignManage), can(access.ActionCampaignAssess), can(access.ActionAssessmentRead)
	out.Help, out.Consent, out.Revoke = can(access.ActionHelpRequest), can(access.ActionEngagementConsent), can(access.ActionEngagementRevoke)
	out.Report, out.IncidentRead, out.IncidentUpdate = can(access.ActionIncidentReport), can(access.ActionIncidentRead), can(access.ActionIncidentUpdate)
	out.AccessLog = access.Authorize(rq.user.Grants, access.ActionCampaignRead, vigil.CampaignScope(id), s.node.Now()).Allowed
	if e != nil {
		out.ViaFirm = e.Firm
	}
	return out, nil
}

// ---- the desk service (sqlite.Desk), acting as the request's actor

func (s *Server) desk() *sqlite.Desk {
	return sqlite.NewDesk(s.node.DB, s.node, s.node.Keys, s.node.Now)
}

type (
	campaignView   = sqlite.CampaignView
	assessmentView = sqlite.AssessmentView
	engageRequest  = sqlite.EngageRequest
	incidentUpdate = sqlite.IncidentUpdate
)

func firmOf(g vigil.Grant) (vigil.FirmID, bool) { return sqlite.FirmOf(g) }

func (s *Server) firmReach(ctx context.Context, rq *request, action access.Action, id vigil.CampaignID) (vigil.Grant, *sqlite.EngagementRow, error) {
	return s.desk().FirmReach(ctx, rq.user.Grants, action, id)
}

func (s *Server) recordAccess(ctx context.Context, r *http.Request, rq *request, e sqlite.EngagementRow) error {
	return s.desk().RecordAccess(ctx, s.actor(rq), e, r.Method+" "+r.URL.Path)
}

func (s *Server) loadCampaign(ctx context.Context, id vigil.CampaignID) (campaignView, error) {
	return s.desk().Campaign(ctx, id)
}

// applyFirm saves a firm's application, for a user of that firm only.
func (s *Server) applyFirm(ctx context.Context, r *http.Request, rq *request, f vigil.Firm) error {
	if err := s.authorizeTarget(ctx, r, rq, vigil.FirmScope(f.ID)); err != nil {
		return err
	}
	return s.desk().ApplyFirm(ctx, s.actor(rq), f)
}

// updateIncident changes an incident's status. An incident the caller may
// not see is NotFound, exactly like one that does not exist.
func (s *Server) updateIncident(ctx context.Context, r *http.Request, rq *request, iid string, u incidentUpdate) (vigil.CampaignID, error) {
	notFound := vigil.Errorf(vigil.NotFound, "incident.update", "there is no incident %s", clip(iid))
	row, err := s.node.DB.Incident(ctx, iid)
	if vigil.ErrorKind(err) == vigil.NotFound {
		return "", notFound
	} else if err != nil {
		return "", err
	}
	if _, err := s.reachCampaign(ctx, r, rq, row.Campaign); err != nil {
		if vigil.ErrorKind(err) == vigil.Permission {
			return "", notFound
		}
		return "", err
	}
	return row.Campaign, s.desk().UpdateIncident(ctx, s.actor(rq), row, u)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ---- firms as each reader may see them

// firmView is a firm as one reader may see it: the officer and the firm
// itself see everything; campaigns see approved firms' names and
// specialties only (never their declared conflicts).
type firmView struct {
	ID          vigil.FirmID           `json:"id"`
	Name        string                 `json:"name"`
	Specialties []vigil.HelpArea       `json:"specialties"`
	Free        int                    `json:"free"`
	Status      vigil.FirmStatus       `json:"status,omitempty"`
	Contact     *vigil.CampaignContact `json:"contact,omitempty"`
	Capacity    int                    `json:"capacity,omitempty"`
	Conflicts   []string               `json:"conflicts,omitempty"`
	Attested    bool                   `json:"attested,omitempty"`
	Applied     time.Time              `json:"applied,omitzero"`
	Vetted      time.Time              `json:"vetted,omitzero"`
	VettedBy    string                 `json:"vetted_by,omitempty"`
	Note        string                 `json:"note,omitempty"`
}

func (s *Server) visibleFirms(ctx context.Context, rq *request) ([]firmView, error) {
	cands, rows, err := s.desk().Candidates(ctx)
	if err != nil {
		return nil, err
	}
	now := s.node.Now()
	officer, own, staff := false, map[vigil.FirmID]bool{}, false
	for _, g := range rq.user.Grants {
		if !g.Active(now) {
			continue
		}
		switch g.Role {
		case vigil.RoleSecurityOfficer:
			officer = true
		case vigil.RoleCampaignStaff:
			staff = true
		}
		if f, ok := firmOf(g); ok {
			own[f] = true
		}
	}
	out := []firmView{}
	for i, c := range cands {
		f, row := c.Firm, rows[i]
		v := firmView{ID: f.ID, Name: f.Name, Specialties: f.Specialties, Free: max(0, f.Capacity-c.Active)}
		switch {
		case officer || own[f.ID]:
			note, err := s.desk().OpenNote(row.NoteSealed)
			if err != nil {
				return nil, err
			}
			contact := f.Contact
			v.Status, v.Contact, v.Capacity, v.Conflicts, v.Attested = row.Status, &contact, f.Capacity, f.Conflicts, f.Attested
			v.Applied, v.Vetted, v.VettedBy, v.Note = row.Applied, row.Vetted, row.VettedBy, note
		case staff && row.Status == vigil.FirmApproved:
		default:
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// ---- email posture

type postureRequest struct {
	SPF   string `json:"spf"`
	DKIM  string `json:"dkim"`
	DMARC string `json:"dmarc"`
}

type postureReport struct {
	Record   string           `json:"record"`
	Grade    campaign.Grade   `json:"grade"`
	Findings []postureFinding `json:"findings"`
}

type postureFinding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// gradePosture grades the records pasted in; nothing is stored or looked
// up in DNS.
func gradePosture(p postureRequest) ([]postureReport, error) {
	const op = "email.grade"
	if strings.TrimSpace(p.SPF+p.DKIM+p.DMARC) == "" {
		return nil, vigil.FieldError(op, "spf", "paste at least one record: SPF, DKIM or DMARC")
	}
	for field, v := range map[string]string{"spf": p.SPF, "dkim": p.DKIM, "dmarc": p.DMARC} {
		if len(v) > 8192 {
			return nil, vigil.FieldError(op, field, "is longer than 8192 bytes; paste only the record's value")
		}
	}
	var out []postureReport
	for _, g := range []struct {
		text  string
		grade func(string) campaign.Report
	}{{p.SPF, campaign.GradeSPF}, {p.DKIM, campaign.GradeDKIM}, {p.DMARC, campaign.GradeDMARC}} {
		if strings.TrimSpace(g.text) == "" {
			continue
		}
		rep := g.grade(g.text)
		pr := postureReport{Record: rep.Record, Grade: rep.Grade, Findings: []postureFinding{}}
		for _, f := range rep.Findings {
			pr.Findings = append(pr.Findings, postureFinding{Severity: f.Severity.String(), Code: f.Code, Message: f.Message})
		}
		out = append(out, pr)
	}
	return out, nil
}

// ---- JSON API

func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request, rq *request) error {
	ids, err := s.reachable(r.Context(), r, rq, rq.action)
	if err != nil {
		return err
	}
	out := []campaignView{}
	for _, id := range ids {
		c, err := s.loadCampaign(r.Context(), id)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
}

func (s *Server) apiCampaign(w http.ResponseWriter, r *http.Request, rq *request) error {
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
	es, err := s.node.DB.Engagements(r.Context(), id, "")
	if err != nil {
		return err
	}
	ev, err := s.desk().EngagementViews(es)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"campaign": c, "engagements": ev})
}

func (s *Server) apiPutCampaign(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	var c vigil.Campaign
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	if c.ID != "" && c.ID != id {
		return vigil.FieldError("campaign.put", "id", "must match the path (%s) or be left out", id)
	}
	c.ID = id
	created, err := s.desk().SaveCampaign(r.Context(), s.actor(rq), c)
	if err != nil {
		return err
	}
	v, err := s.loadCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[created], map[string]any{"campaign": v})
}

func (s *Server) apiCampaignAccess(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	// The access log is the campaign's (and the officer's) view of the
	// firms: a firm does not read it.
	d := access.Authorize(rq.user.Grants, rq.action, vigil.CampaignScope(id), s.node.Now())
	if !d.Allowed {
		s.deny(r.Context(), r, rq, d.Reason)
		return &vigil.Error{Op: "campaign.access", Kind: vigil.Permission, Message: "only the campaign and the security officer read its access log"}
	}
	rows, err := s.node.DB.CampaignAccesses(r.Context(), id, 500)
	if err != nil {
		return err
	}
	type accessView struct {
		Firm       vigil.FirmID `json:"firm"`
		Engagement string       `json:"engagement"`
		By         string       `json:"by"`
		What       string       `json:"what"`
		Time       time.Time    `json:"time"`
	}
	out := []accessView{}
	for _, a := range rows {
		out = append(out, accessView{a.Firm, a.Engagement, a.Actor, a.What, a.Time})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"accesses": out})
}

// apiLookalikes lists the lookalike domains of the campaign's domain, to
// hand to a monitoring service.
func (s *Server) apiLookalikes(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := s.campaignFor(r, rq)
	if err != nil {
		return err
	}
	if c.Domain == "" {
		return vigil.FieldError("campaign.lookalikes", "domain", "campaign %s has no domain; add it to its profile", c.ID)
	}
	ls, err := campaign.Lookalikes(c.Domain)
	if err != nil {
		return err
	}
	type lookalike struct {
		Domain    string `json:"domain"`
		Unicode   string `json:"unicode,omitempty"`
		Technique string `json:"technique"`
	}
	out := make([]lookalike, 0, len(ls))
	for _, l := range ls {
		out = append(out, lookalike{l.Domain, l.Unicode, string(l.Technique)})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"domain": c.Domain, "lookalikes": out})
}

func (s *Server) apiAssessmentsAll(w http.ResponseWriter, r *http.Request, rq *request) error {
	ids, err := s.reachable(r.Context(), r, rq, rq.action)
	if err != nil {
		return err
	}
	type latest struct {
		Campaign vigil.CampaignID `json:"campaign"`
		Latest   *assessmentView  `json:"latest"`
	}
	out := []latest{}
	for _, id := range ids {
		as, err := s.desk().Assessments(r.Context(), id)
		if err != nil {
			return err
		}
		l := latest{Campaign: id}
		if len(as) > 0 {
			a := as[len(as)-1]
			a.Answers, a.Plan = nil, nil
			l.Latest = &a
		}
		out = append(out, l)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"assessments": out})
}

func (s *Server) apiAssessments(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	if _, err := s.node.DB.Campaign(r.Context(), id); err != nil {
		return err
	}
	as, err := s.desk().Assessments(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"assessments": as})
}

func (s *Server) apiAssess(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	var body struct {
		Answers []vigil.ControlAnswer `json:"answers"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := s.desk().Assess(r.Context(), s.actor(rq), id, body.Answers); err != nil {
		return err
	}
	as, err := s.desk().Assessments(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"assessment": as[len(as)-1]})
}

// campaignFor authorizes rq on the path's campaign and loads it.
func (s *Server) campaignFor(r *http.Request, rq *request) (campaignView, error) {
	id, err := pathCampaign(r)
	if err != nil {
		return campaignView{}, err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return campaignView{}, err
	}
	return s.loadCampaign(r.Context(), id)
}

func (s *Server) apiHelp(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	e, err := s.reachCampaign(r.Context(), r, rq, id)
	if err != nil {
		return err
	}
	c, err := s.loadCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	hs, err := s.desk().HelpRequests(r.Context(), c.Campaign)
	if err != nil {
		return err
	}
	// Which other firms could be engaged is the campaign's business.
	if e != nil {
		for i := range hs {
			hs[i].Proposals = nil
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"requests": hs})
}

func (s *Server) apiRequestHelp(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := s.campaignFor(r, rq)
	if err != nil {
		return err
	}
	var h vigil.HelpRequest
	if err := decodeJSON(r, &h); err != nil {
		return err
	}
	if h.ID != "" || (h.Campaign != "" && h.Campaign != c.ID) {
		return vigil.FieldError("help.request", "id", "is assigned by vigil; leave id and campaign out")
	}
	hid, err := s.desk().RequestHelp(r.Context(), s.actor(rq), c.Campaign, h)
	if err != nil {
		return err
	}
	hs, err := s.desk().HelpRequests(r.Context(), c.Campaign)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.ID == hid {
			return writeJSON(w, http.StatusCreated, map[string]any{"request": h})
		}
	}
	return vigil.Errorf(vigil.Other, "help.request", "the request was stored but not found")
}

func (s *Server) apiEngagements(w http.ResponseWriter, r *http.Request, rq *request) error {
	ids, err := s.reachable(r.Context(), r, rq, rq.action)
	if err != nil {
		return err
	}
	// A firm sees only its own engagements with the campaigns it reaches.
	own := map[vigil.FirmID]bool{}
	for _, g := range rq.user.Grants {
		if f, ok := firmOf(g); ok {
			own[f] = true
		}
	}
	var rows []sqlite.EngagementRow
	for _, id := range ids {
		es, err := s.node.DB.Engagements(r.Context(), id, "")
		if err != nil {
			return err
		}
		for _, e := range es {
			if access.Authorize(rq.user.Grants, rq.action, vigil.CampaignScope(id), s.node.Now()).Allowed || own[e.Firm] {
				rows = append(rows, e)
			}
		}
	}
	out, err := s.desk().EngagementViews(rows)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"engagements": out})
}

func (s *Server) apiEngage(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := s.campaignFor(r, rq)
	if err != nil {
		return err
	}
	var req engageRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	eid, err := s.desk().Engage(r.Context(), s.actor(rq), c.Campaign, req)
	if err != nil {
		return err
	}
	e, err := s.node.DB.Engagement(r.Context(), eid)
	if err != nil {
		return err
	}
	v, err := s.desk().EngagementViews([]sqlite.EngagementRow{e})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"engagement": v[0]})
}

func (s *Server) apiRevokeEngagement(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
	}
	if err := s.desk().RevokeEngagement(r.Context(), s.actor(rq), id, r.PathValue("eid"), body.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiIncidents(w http.ResponseWriter, r *http.Request, rq *request) error {
	ids, err := s.reachable(r.Context(), r, rq, rq.action)
	if err != nil {
		return err
	}
	out, err := s.desk().Incidents(r.Context(), ids)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
}

func (s *Server) apiReportIncident(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathCampaign(r)
	if err != nil {
		return err
	}
	if _, err := s.reachCampaign(r.Context(), r, rq, id); err != nil {
		return err
	}
	var in vigil.Incident
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.ID != "" || (in.Campaign != "" && in.Campaign != id) {
		return vigil.FieldError("incident.report", "id", "is assigned by vigil; leave id and campaign out")
	}
	iid, err := s.desk().ReportIncident(r.Context(), s.actor(rq), id, in)
	if err != nil {
		return err
	}
	return s.writeIncident(w, r, http.StatusCreated, iid)
}

func (s *Server) writeIncident(w http.ResponseWriter, r *http.Request, status int, iid string) error {
	v, err := s.desk().Incident(r.Context(), iid)
	if err != nil {
		return err
	}
	return writeJSON(w, status, map[string]any{"incident": v})
}

func (s *Server) apiUpdateIncident(w http.ResponseWriter, r *http.Request, rq *request) error {
	var u incidentUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	iid := r.PathValue("iid")
	if _, err := s.updateIncident(r.Context(), r, rq, iid, u); err != nil {
		return err
	}
	return s.writeIncident(w, r, http.StatusOK, iid)
}

func (s *Server) apiFirms(w http.ResponseWriter, r *http.Request, rq *request) error {
	fs, err := s.visibleFirms(r.Context(), rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"firms": fs})
}

func (s *Server) apiApplyFirm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("fid")
	if err := vigil.ValidateTenantID("firm", id); err != nil {
		return err
	}
	var f vigil.Firm
	if err := decodeJSON(r, &f); err != nil {
		return err
	}
	if f.ID != "" && string(f.ID) != id {
		return vigil.FieldError("firm.apply", "id", "must match the path (%s) or be left out", id)
	}
	f.ID = vigil.FirmID(id)
	if err := s.applyFirm(r.Context(), r, rq, f); err != nil {
		return err
	}
	return s.writeFirm(w, r, rq, f.ID)
}

func (s *Server) writeFirm(w http.ResponseWriter, r *http.Request, rq *request, id vigil.FirmID) error {
	fs, err := s.visibleFirms(r.Context(), rq)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.ID == id {
			return writeJSON(w, http.StatusOK, map[string]any{"firm": f})
		}
	}
	return vigil.Errorf(vigil.NotFound, "firm.get", "there is no firm %s", id)
}

func (s *Server) apiVetFirm(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("fid")
	if err := vigil.ValidateTenantID("firm", id); err != nil {
		return err
	}
	var body struct {
		Status vigil.FirmStatus `json:"status"`
		Note   string           `json:"note"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := s.desk().VetFirm(r.Context(), s.actor(rq), vigil.FirmID(id), body.Status, body.Note); err != nil {
		return err
	}
	return s.writeFirm(w, r, rq, vigil.FirmID(id))
}

func (s *Server) apiEmailPosture(w http.ResponseWriter, r *http.Request, rq *request) error {
	var p postureRequest
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	reps, err := gradePosture(p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"reports": reps})
}
