package sqlite

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/campaign"
)

// Desk is the campaign security desk's service. Every change is an event
// appended to the log with the tenant's content sealed (see
// vigil.CampaignRecord); reads open the sealed rows.
//
// Desk does not authorize: its caller (the HTTP layer) MUST have checked
// the actor's grants on the campaign — and, for a firm, FirmReach —
// before it calls a method that reads or changes the campaign.
type Desk struct {
	DB     *DB
	Log    vigil.EventAppender // MUST return once the events are applied here (node.Node does)
	Sealer Sealer
	Now    func() time.Time
}

// NewDesk returns a desk writing through log.
func NewDesk(db *DB, log vigil.EventAppender, sealer Sealer, now func() time.Time) *Desk {
	return &Desk{DB: db, Log: log, Sealer: sealer, Now: now}
}

func (d *Desk) seal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", vigil.Wrap("desk.seal", vigil.Other, err)
	}
	return d.Sealer.Seal(b), nil
}

func openSealed[T any](d *Desk, sealed string) (T, error) {
	var v T
	if sealed == "" {
		return v, nil
	}
	b, err := d.Sealer.Open(sealed)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return v, &vigil.Error{Op: "desk.unseal", Kind: vigil.Integrity,
			Message: "a sealed record cannot be opened with this node's key", Err: err}
	}
	return v, nil
}

// OpenNote opens a sealed note (a vetting note, a revocation reason).
func (d *Desk) OpenNote(sealed string) (string, error) { return openSealed[string](d, sealed) }

// OpenAnswers opens a saved assessment's sealed answers.
func (d *Desk) OpenAnswers(sealed string) ([]vigil.ControlAnswer, error) {
	return openSealed[[]vigil.ControlAnswer](d, sealed)
}

func (d *Desk) append(ctx context.Context, actor vigil.Actor, typ vigil.EventType, key string, payload any, claim *uint64) error {
	ev, err := vigil.NewEvent(actor, typ, key, d.Now(), payload)
	if err != nil {
		return err
	}
	_, err = d.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: claim})
	return err
}

// deskID makes an unguessable id for a help request, engagement or incident.
func deskID(prefix string) string { return prefix + vigil.NewEventID()[:20] }

// ---- who reaches what

// ActiveEngagement returns the engagement that lets firm into campaign id
// at now — consented, inside its window, not revoked, the firm still
// approved — or nil.
func (d *Desk) ActiveEngagement(ctx context.Context, firm vigil.FirmID, id vigil.CampaignID, now time.Time) (*EngagementRow, error) {
	list, err := d.DB.Engagements(ctx, id, firm)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if !e.Active(now) {
			continue
		}
		f, err := d.DB.Firm(ctx, firm)
		if err != nil || f.Status != vigil.FirmApproved {
			return nil, nil
		}
		return &e, nil
	}
	return nil, nil
}

// FirmReach returns the firm grant (among grants) and the engagement
// through which its holder may perform action on campaign id now, or a
// nil engagement: only a security firm's grant, active now, whose firm
// holds an active engagement with the campaign and is still approved.
func (d *Desk) FirmReach(ctx context.Context, grants []vigil.Grant, action access.Action, id vigil.CampaignID) (vigil.Grant, *EngagementRow, error) {
	now := d.Now()
	for _, g := range grants {
		firm, ok := FirmOf(g)
		if !ok || !g.Active(now) || !access.Allows(g.Role, action) {
			continue
		}
		e, err := d.ActiveEngagement(ctx, firm, id, now)
		if err != nil || e != nil {
			return g, e, err
		}
	}
	return vigil.Grant{}, nil, nil
}

// FirmOf returns the firm of a security firm's grant.
func FirmOf(g vigil.Grant) (vigil.FirmID, bool) {
	id, ok := strings.CutPrefix(string(g.Scope), "firm/")
	return vigil.FirmID(id), ok && g.Role == vigil.RoleSecurityFirm && !strings.Contains(id, "/")
}

// RecordAccess records that actor, of a firm, reached the campaign's data
// through engagement e; what is the request (method and path).
func (d *Desk) RecordAccess(ctx context.Context, actor vigil.Actor, e EngagementRow, what string) error {
	return d.append(ctx, actor, vigil.EventCampaignAccessed, string(e.Campaign), vigil.CampaignAccess{
		Campaign: e.Campaign, Firm: e.Firm, Engagement: e.ID, What: what}, nil)
}

// ---- campaigns

// CampaignView is a campaign as the API shows it.
type CampaignView struct {
	vigil.Campaign
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Campaign returns one campaign, opened. Errors: NotFound, Integrity.
func (d *Desk) Campaign(ctx context.Context, id vigil.CampaignID) (CampaignView, error) {
	row, err := d.DB.Campaign(ctx, id)
	if err != nil {
		return CampaignView{}, err
	}
	c, err := openSealed[vigil.Campaign](d, row.Sealed)
	return CampaignView{Campaign: c, Created: row.Created, Updated: row.Updated}, err
}

// SaveCampaign registers the campaign (claiming its id in the log) or
// updates it. Errors: Invalid, Conflict (registered at the same moment).
func (d *Desk) SaveCampaign(ctx context.Context, actor vigil.Actor, c vigil.Campaign) (bool, error) {
	c.Organisation, c.Candidate, c.Race = strings.TrimSpace(c.Organisation), strings.TrimSpace(c.Candidate), strings.TrimSpace(c.Race)
	c.Party, c.Domain = strings.TrimSpace(c.Party), strings.ToLower(strings.TrimSpace(c.Domain))
	if err := c.Validate(); err != nil {
		return false, err
	}
	sealed, err := d.seal(c)
	if err != nil {
		return false, err
	}
	rec := vigil.CampaignRecord{ID: c.ID, Sealed: sealed}
	if _, err := d.DB.Campaign(ctx, c.ID); err == nil {
		return false, d.append(ctx, actor, vigil.EventCampaignUpdated, string(c.ID), rec, nil)
	} else if vigil.ErrorKind(err) != vigil.NotFound {
		return false, err
	}
	var none uint64
	err = d.append(ctx, actor, vigil.EventCampaignRegistered, string(c.ID), rec, &none)
	if vigil.ErrorKind(err) == vigil.Conflict {
		return false, &vigil.Error{Op: "campaign.register", Kind: vigil.Conflict, Field: "id",
			Message: "campaign " + string(c.ID) + " was registered at the same moment; reload and edit it"}
	}
	return true, err
}

// ---- self-assessments

type AssessmentView struct {
	ID      string                `json:"id"`
	Time    time.Time             `json:"time"`
	By      string                `json:"by"`
	Percent int                   `json:"percent"`
	Rating  campaign.Rating       `json:"rating"`
	Gated   []vigil.ControlID     `json:"gating_controls,omitempty"`
	Answers []vigil.ControlAnswer `json:"answers,omitempty"`
	Plan    []PlanStep            `json:"plan,omitempty"`
}

type PlanStep struct {
	Control  vigil.ControlID     `json:"control"`
	Weight   string              `json:"weight"`
	Text     string              `json:"text"`
	Points   vigil.ControlPoints `json:"points"`
	Answered bool                `json:"answered"`
	Gating   bool                `json:"gating"`
	Gain     int                 `json:"gain"`
	Evidence string              `json:"evidence,omitempty"`
}

func viewAssessment(id, by string, t time.Time, answers []vigil.ControlAnswer, full bool) (AssessmentView, error) {
	score, err := campaign.Assess(answers)
	if err != nil {
		return AssessmentView{}, err
	}
	v := AssessmentView{ID: id, Time: t, By: by, Percent: score.Percent(), Rating: score.Rating, Gated: score.GatingControls}
	if !full {
		return v, nil
	}
	v.Answers = answers
	steps, err := campaign.Remediate(answers)
	if err != nil {
		return v, err
	}
	for _, st := range steps {
		v.Plan = append(v.Plan, PlanStep{Control: st.Control.ID, Weight: st.Control.Weight.String(), Text: st.Control.Text,
			Points: st.Points, Answered: st.Answered, Gating: st.Gating, Gain: st.Gain, Evidence: st.Evidence})
	}
	return v, nil
}

// Assessments returns a campaign's assessments, oldest first, the last
// one in full.
func (d *Desk) Assessments(ctx context.Context, id vigil.CampaignID) ([]AssessmentView, error) {
	rows, err := d.DB.CampaignAssessments(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]AssessmentView, 0, len(rows))
	for i, row := range rows {
		answers, err := openSealed[[]vigil.ControlAnswer](d, row.Sealed)
		if err != nil {
			return nil, err
		}
		v, err := viewAssessment(row.Event, row.Actor, row.Time, answers, i == len(rows)-1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Assess saves a self-assessment of campaign id: one more point of its
// progress over time. Errors: NotFound, Invalid (naming the control).
func (d *Desk) Assess(ctx context.Context, actor vigil.Actor, id vigil.CampaignID, answers []vigil.ControlAnswer) error {
	if _, err := d.DB.Campaign(ctx, id); err != nil {
		return err
	}
	a := vigil.Assessment{Campaign: id, Time: d.Now(), Answers: answers}
	if err := a.Validate(); err != nil {
		return err
	}
	if _, err := campaign.Assess(answers); err != nil {
		return err
	}
	sealed, err := d.seal(answers)
	if err != nil {
		return err
	}
	return d.append(ctx, actor, vigil.EventCampaignAssessed, string(id), vigil.AssessmentRecord{Campaign: id, Sealed: sealed}, nil)
}

// ---- firms

// Candidates returns every firm with its application and running
// engagements count.
func (d *Desk) Candidates(ctx context.Context) ([]campaign.Candidate, []FirmRow, error) {
	rows, err := d.DB.Firms(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := d.Now()
	var out []campaign.Candidate
	for _, row := range rows {
		f, err := openSealed[vigil.Firm](d, row.Sealed)
		if err != nil {
			return nil, nil, err
		}
		es, err := d.DB.Engagements(ctx, "", row.ID)
		if err != nil {
			return nil, nil, err
		}
		active := 0
		for _, e := range es {
			if e.Active(now) {
				active++
			}
		}
		out = append(out, campaign.Candidate{Firm: f, Status: row.Status, Active: active})
	}
	return out, rows, nil
}

// ApplyFirm saves a firm's application; the firm is pending until the
// officer vets it again. Errors: Invalid.
func (d *Desk) ApplyFirm(ctx context.Context, actor vigil.Actor, f vigil.Firm) error {
	f.Name = strings.TrimSpace(f.Name)
	var conflicts []string
	for _, c := range f.Conflicts {
		if c = strings.TrimSpace(c); c != "" {
			conflicts = append(conflicts, c)
		}
	}
	f.Conflicts = conflicts
	if err := f.Validate(); err != nil {
		return err
	}
	sealed, err := d.seal(f)
	if err != nil {
		return err
	}
	return d.append(ctx, actor, vigil.EventFirmApplied, string(f.ID), vigil.FirmRecord{ID: f.ID, Sealed: sealed}, nil)
}

// VetFirm records the officer's decision on a firm. Suspending an
// approved firm stops every engagement of it at once. Errors: NotFound,
// Invalid.
func (d *Desk) VetFirm(ctx context.Context, actor vigil.Actor, id vigil.FirmID, status vigil.FirmStatus, note string) error {
	const op = "firm.vet"
	row, err := d.DB.Firm(ctx, id)
	if err != nil {
		return err
	}
	switch status {
	case vigil.FirmApproved, vigil.FirmRejected, vigil.FirmSuspended:
	default:
		return vigil.FieldError(op, "status", "must be approved, rejected or suspended")
	}
	if status == vigil.FirmSuspended && row.Status != vigil.FirmApproved {
		return vigil.FieldError(op, "status", "only an approved firm can be suspended")
	}
	if len(note) > 4000 {
		return vigil.FieldError(op, "note", "is longer than 4000 characters")
	}
	if status == vigil.FirmApproved {
		f, err := openSealed[vigil.Firm](d, row.Sealed)
		if err != nil {
			return err
		}
		if !f.Attested {
			return vigil.FieldError(op, "status", "the firm has not attested; it cannot be approved")
		}
	}
	sealed := ""
	if note != "" {
		if sealed, err = d.seal(note); err != nil {
			return err
		}
	}
	return d.append(ctx, actor, vigil.EventFirmVetted, string(id), vigil.FirmVetted{Firm: id, Status: status, Sealed: sealed}, nil)
}

// ---- help requests and engagements

type HelpView struct {
	vigil.HelpRequest
	Time time.Time `json:"time"`
	By   string    `json:"by"`
	// Engaged lists the firms engaged in answer to this request (active
	// or not); Proposals the firms that could be engaged now.
	Engaged   []vigil.FirmID      `json:"engaged"`
	Proposals []campaign.Proposal `json:"proposals,omitempty"`
}

// HelpRequests lists a campaign's requests with the firms proposed now
// (firms already engaged by the campaign are not proposed again).
func (d *Desk) HelpRequests(ctx context.Context, c vigil.Campaign) ([]HelpView, error) {
	rows, err := d.DB.HelpRequests(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	all, _, err := d.Candidates(ctx)
	if err != nil {
		return nil, err
	}
	es, err := d.DB.Engagements(ctx, c.ID, "")
	if err != nil {
		return nil, err
	}
	busy := map[vigil.FirmID]bool{}
	for _, e := range es {
		busy[e.Firm] = busy[e.Firm] || e.Active(d.Now())
	}
	var cands []campaign.Candidate
	for _, cand := range all {
		if !busy[cand.Firm.ID] {
			cands = append(cands, cand)
		}
	}
	out := []HelpView{}
	for _, row := range rows {
		h, err := openSealed[vigil.HelpRequest](d, row.Sealed)
		if err != nil {
			return nil, err
		}
		v := HelpView{HelpRequest: h, Time: row.Time, By: row.Actor, Engaged: []vigil.FirmID{}, Proposals: campaign.Match(c, h, cands)}
		for _, e := range es {
			if e.Request == h.ID {
				v.Engaged = append(v.Engaged, e.Firm)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// RequestHelp records a campaign's help request and returns its id.
// Errors: Invalid.
func (d *Desk) RequestHelp(ctx context.Context, actor vigil.Actor, c vigil.Campaign, h vigil.HelpRequest) (string, error) {
	h.ID, h.Campaign, h.Details = deskID("H"), c.ID, strings.TrimSpace(h.Details)
	if err := h.Validate(); err != nil {
		return "", err
	}
	sealed, err := d.seal(h)
	if err != nil {
		return "", err
	}
	return h.ID, d.append(ctx, actor, vigil.EventHelpRequested, h.ID, vigil.HelpRecord{ID: h.ID, Campaign: c.ID, Sealed: sealed}, nil)
}

type EngagementView struct {
	ID          string           `json:"id"`
	Campaign    vigil.CampaignID `json:"campaign"`
	Firm        vigil.FirmID     `json:"firm"`
	Request     string           `json:"request,omitempty"`
	NotBefore   time.Time        `json:"not_before"`
	NotAfter    time.Time        `json:"not_after"`
	ConsentedBy string           `json:"consented_by"`
	Active      bool             `json:"active"`
	Revoked     time.Time        `json:"revoked,omitzero"`
	RevokedBy   string           `json:"revoked_by,omitempty"`
	Reason      string           `json:"reason,omitempty"`
}

// EngagementViews opens engagement rows for display.
func (d *Desk) EngagementViews(rows []EngagementRow) ([]EngagementView, error) {
	out := []EngagementView{}
	for _, e := range rows {
		reason, err := openSealed[string](d, e.ReasonSealed)
		if err != nil {
			return nil, err
		}
		out = append(out, EngagementView{ID: e.ID, Campaign: e.Campaign, Firm: e.Firm, Request: e.Request, NotBefore: e.NotBefore,
			NotAfter: e.NotAfter, ConsentedBy: e.ConsentedBy, Active: e.Active(d.Now()), Revoked: e.Revoked, RevokedBy: e.RevokedBy, Reason: reason})
	}
	return out, nil
}

type EngageRequest struct {
	Firm    vigil.FirmID `json:"firm"`
	Request string       `json:"request,omitempty"`
	Days    int          `json:"days"`
	Consent bool         `json:"consent"`
}

// Engage starts an engagement with the campaign's consent: the firm must
// be approved, have capacity, have declared no conflict with the campaign
// and not be engaged by it already.
func (d *Desk) Engage(ctx context.Context, actor vigil.Actor, c vigil.Campaign, req EngageRequest) (string, error) {
	const op = "engagement.start"
	if !req.Consent {
		return "", vigil.FieldError(op, "consent", "the campaign must consent to give the firm access to its data")
	}
	if req.Days < 1 || time.Duration(req.Days)*24*time.Hour > vigil.MaxEngagement {
		return "", vigil.FieldError(op, "days", "must be between 1 and %d days", int(vigil.MaxEngagement/(24*time.Hour)))
	}
	if err := vigil.ValidateTenantID("firm", string(req.Firm)); err != nil {
		return "", err
	}
	cands, _, err := d.Candidates(ctx)
	if err != nil {
		return "", err
	}
	var cand *campaign.Candidate
	for i := range cands {
		if cands[i].Firm.ID == req.Firm {
			cand = &cands[i]
		}
	}
	switch {
	case cand == nil || cand.Status != vigil.FirmApproved:
		return "", vigil.FieldError(op, "firm", "%s is not an approved firm; choose one of the firms proposed", req.Firm)
	case campaign.Conflicted(cand.Firm, c):
		return "", &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "firm", Message: "the firm declared a conflict of interest with this campaign; choose another"}
	case cand.Active >= cand.Firm.Capacity:
		return "", &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "firm", Message: "the firm has no free capacity now; choose another"}
	}
	if req.Request != "" {
		hs, err := d.DB.HelpRequests(ctx, c.ID)
		if err != nil {
			return "", err
		}
		found := false
		for _, h := range hs {
			found = found || h.ID == req.Request
		}
		if !found {
			return "", vigil.FieldError(op, "request", "is not one of this campaign's help requests")
		}
	}
	if e, err := d.ActiveEngagement(ctx, req.Firm, c.ID, d.Now()); err != nil {
		return "", err
	} else if e != nil {
		return "", &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "firm", Message: "this firm is already engaged until " + e.NotAfter.Format(time.RFC3339)}
	}
	now := d.Now().UTC()
	id := deskID("E")
	return id, d.append(ctx, actor, vigil.EventEngagementStarted, id, vigil.EngagementStarted{ID: id, Campaign: c.ID, Firm: req.Firm,
		Request: req.Request, NotBefore: now, NotAfter: now.Add(time.Duration(req.Days) * 24 * time.Hour)}, nil)
}

// RevokeEngagement ends an engagement of campaign id at once.
// Errors: NotFound (not this campaign's), Conflict (already revoked),
// Invalid.
func (d *Desk) RevokeEngagement(ctx context.Context, actor vigil.Actor, id vigil.CampaignID, eid, reason string) error {
	const op = "engagement.revoke"
	e, err := d.DB.Engagement(ctx, eid)
	if err != nil || e.Campaign != id {
		return vigil.Errorf(vigil.NotFound, op, "campaign %s has no engagement %s", id, deskClip(eid))
	}
	if !e.Revoked.IsZero() {
		return vigil.Errorf(vigil.Conflict, op, "the engagement was already revoked")
	}
	if len(reason) > 4000 {
		return vigil.FieldError(op, "reason", "is longer than 4000 characters")
	}
	sealed := ""
	if reason = strings.TrimSpace(reason); reason != "" {
		if sealed, err = d.seal(reason); err != nil {
			return err
		}
	}
	return d.append(ctx, actor, vigil.EventEngagementRevoked, eid, vigil.EngagementRevoked{ID: eid, Campaign: id, Sealed: sealed}, nil)
}

func deskClip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ---- incidents

type IncidentView struct {
	vigil.Incident
	CampaignName string               `json:"campaign_name"`
	Status       vigil.IncidentStatus `json:"status"`
	Reporter     string               `json:"reporter"`
	Reported     time.Time            `json:"reported"`
	Updated      time.Time            `json:"updated"`
	History      []IncidentStep       `json:"history"`
}

type IncidentStep struct {
	Status vigil.IncidentStatus `json:"status"`
	Note   string               `json:"note,omitempty"`
	By     string               `json:"by"`
	Role   vigil.Role           `json:"role"`
	Time   time.Time            `json:"time"`
}

func (d *Desk) viewIncident(ctx context.Context, row IncidentRow, name string) (IncidentView, error) {
	in, err := openSealed[vigil.Incident](d, row.Sealed)
	if err != nil {
		return IncidentView{}, err
	}
	v := IncidentView{Incident: in, CampaignName: name, Status: row.Status, Reporter: row.Reporter, Reported: row.Reported, Updated: row.Updated, History: []IncidentStep{}}
	ups, err := d.DB.IncidentUpdates(ctx, row.ID)
	if err != nil {
		return v, err
	}
	for _, u := range ups {
		note, err := openSealed[string](d, u.NoteSealed)
		if err != nil {
			return v, err
		}
		v.History = append(v.History, IncidentStep{Status: u.Status, Note: note, By: u.Actor, Role: u.Role, Time: u.Time})
	}
	return v, nil
}

// Incident returns one incident with its history. Errors: NotFound.
func (d *Desk) Incident(ctx context.Context, id string) (IncidentView, error) {
	row, err := d.DB.Incident(ctx, id)
	if err != nil {
		return IncidentView{}, err
	}
	c, err := d.Campaign(ctx, row.Campaign)
	if err != nil {
		return IncidentView{}, err
	}
	return d.viewIncident(ctx, row, c.Organisation)
}

// Incidents lists the incidents of the campaigns ids, newest first.
func (d *Desk) Incidents(ctx context.Context, ids []vigil.CampaignID) ([]IncidentView, error) {
	out := []IncidentView{}
	for _, id := range ids {
		c, err := d.Campaign(ctx, id)
		if err != nil {
			return nil, err
		}
		rows, err := d.DB.Incidents(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			v, err := d.viewIncident(ctx, row, c.Organisation)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Reported.After(out[j].Reported) })
	return out, nil
}

// ReportIncident records a campaign's incident report and returns its
// id. Errors: NotFound (no such campaign), Invalid.
func (d *Desk) ReportIncident(ctx context.Context, actor vigil.Actor, id vigil.CampaignID, in vigil.Incident) (string, error) {
	if _, err := d.DB.Campaign(ctx, id); err != nil {
		return "", err
	}
	in.ID, in.Campaign = deskID("I"), id
	in.Summary, in.Details, in.Occurred = strings.TrimSpace(in.Summary), strings.TrimSpace(in.Details), strings.TrimSpace(in.Occurred)
	if err := in.Validate(); err != nil {
		return "", err
	}
	sealed, err := d.seal(in)
	if err != nil {
		return "", err
	}
	return in.ID, d.append(ctx, actor, vigil.EventIncidentReported, in.ID, vigil.IncidentRecord{ID: in.ID, Campaign: id, Sealed: sealed}, nil)
}

type IncidentUpdate struct {
	Status vigil.IncidentStatus `json:"status"`
	Note   string               `json:"note,omitempty"`
}

// UpdateIncident records a change of the incident's status, with a note.
// The caller has authorized actor on the incident's campaign.
func (d *Desk) UpdateIncident(ctx context.Context, actor vigil.Actor, row IncidentRow, u IncidentUpdate) error {
	const op = "incident.update"
	if !vigil.ValidIncidentStatus(u.Status) {
		return vigil.FieldError(op, "status", "must be reported, triaged, contained or resolved")
	}
	if len(u.Note) > 4000 {
		return vigil.FieldError(op, "note", "is longer than 4000 characters")
	}
	sealed := ""
	if note := strings.TrimSpace(u.Note); note != "" {
		var err error
		if sealed, err = d.seal(note); err != nil {
			return err
		}
	}
	return d.append(ctx, actor, vigil.EventIncidentUpdated, row.ID, vigil.IncidentChange{ID: row.ID, Campaign: row.Campaign, Status: u.Status, Sealed: sealed}, nil)
}
