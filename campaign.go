package vigil

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the nouns of the campaign security desk: the controls of
// the self-assessment and a campaign's answers. The controls themselves,
// scoring and the remediation plan live in package campaign.

// CampaignID names a campaign (a candidate committee, party or PAC).
type CampaignID string

// ControlID is the stable identifier of a self-assessment control, such as
// "ACC-01". IDs never change meaning; new controls get new IDs.
type ControlID string

var controlIDPattern = regexp.MustCompile(`^[A-Z]{2,3}-[0-9]{2}$`)

// Validate checks the shape of the ID (two or three capitals, a hyphen, two digits).
func (id ControlID) Validate() error {
	if !controlIDPattern.MatchString(string(id)) {
		return FieldError("campaign.control", "control", "%q is not a control ID such as ACC-01", truncateCampaignText(string(id), 32))
	}
	return nil
}

// ControlWeight is how much a control counts in the score.
type ControlWeight int

const (
	WeightLow      ControlWeight = 1
	WeightMedium   ControlWeight = 2
	WeightHigh     ControlWeight = 3
	WeightCritical ControlWeight = 5
)

func (w ControlWeight) String() string {
	switch w {
	case WeightLow:
		return "Low"
	case WeightMedium:
		return "Medium"
	case WeightHigh:
		return "High"
	case WeightCritical:
		return "Critical"
	}
	return "weight(" + strconv.Itoa(int(w)) + ")"
}

// Control is one item of the campaign self-assessment.
type Control struct {
	ID       ControlID
	Group    string // "Accounts and authentication", …
	Text     string // what the campaign should have done
	Weight   ControlWeight
	Evidence string // what shows it is done
	Sources  string
	// HeadingLevel marks controls inferred from a source's section titles
	// only; their wording should be checked against the full document.
	HeadingLevel bool
}

// ControlPoints is the answer to one control: 0 not done, 1 partial (some
// people or accounts), 2 fully done with evidence.
type ControlPoints int

const (
	NotDone ControlPoints = 0
	Partial ControlPoints = 1
	Done    ControlPoints = 2
)

// ControlAnswer is a campaign's answer to one control, with the evidence
// note the campaign wrote. Evidence notes may describe security gaps; they
// are shown only to the campaign and the firms it engaged.
type ControlAnswer struct {
	Control  ControlID     `json:"control"`
	Points   ControlPoints `json:"points"`
	Evidence string        `json:"evidence,omitempty"`
}

const maxEvidence = 4000

// Validate checks one answer.
func (a ControlAnswer) Validate() error {
	if err := a.Control.Validate(); err != nil {
		return err
	}
	if a.Points < NotDone || a.Points > Done {
		return FieldError("campaign.answer", "points", "%s: points must be 0 (not done), 1 (partial) or 2 (done)", a.Control)
	}
	if len(a.Evidence) > maxEvidence {
		return FieldError("campaign.answer", "evidence", "%s: the evidence note is longer than %d bytes; link to a document instead", a.Control, maxEvidence)
	}
	if !utf8.ValidString(a.Evidence) {
		return FieldError("campaign.answer", "evidence", "%s: the evidence note is not valid UTF-8", a.Control)
	}
	return nil
}

// Assessment is a campaign's self-assessment at one time. A control without
// an answer is unanswered and scores as not done.
type Assessment struct {
	Campaign CampaignID      `json:"campaign"`
	Time     time.Time       `json:"time"`
	Answers  []ControlAnswer `json:"answers"`
}

// Validate checks every answer and that no control is answered twice.
func (a Assessment) Validate() error {
	if strings.TrimSpace(string(a.Campaign)) == "" {
		return FieldError("campaign.assessment", "campaign", "the campaign is required")
	}
	seen := make(map[ControlID]bool, len(a.Answers))
	for _, ans := range a.Answers {
		if err := ans.Validate(); err != nil {
			return err
		}
		if seen[ans.Control] {
			return FieldError("campaign.assessment", "control", "%s is answered twice; keep one answer", ans.Control)
		}
		seen[ans.Control] = true
	}
	return nil
}

func truncateCampaignText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// The campaign security desk's tenants and their dealings: campaigns,
// vetted security firms, help requests, engagements and incidents.
//
// Isolation is the rule of the desk: a campaign's data (its contacts, its
// self-assessments, its help requests and incidents) is readable by the
// campaign, by a firm only while the campaign has engaged it, and — except
// self-assessments, which describe its gaps — by the authority's security
// officer. Because every log reader (observers included) can read event
// payloads, the desk MUST seal that data with the node's secrets key before
// it goes into an event: payloads carry identifiers in clear and the
// content in a Sealed field.

// Event types of the campaign desk. Never rename one.
const (
	EventCampaignRegistered EventType = "campaign.registered" // CampaignRecord, claimed on the campaign's subject
	EventCampaignUpdated    EventType = "campaign.updated"    // CampaignRecord
	EventCampaignAssessed   EventType = "campaign.assessed"   // AssessmentRecord
	EventCampaignAccessed   EventType = "campaign.accessed"   // CampaignAccess: a firm read the campaign's data
	EventFirmApplied        EventType = "firm.applied"        // FirmRecord
	EventFirmVetted         EventType = "firm.vetted"         // FirmVetted
	EventHelpRequested      EventType = "help.requested"      // HelpRecord
	EventEngagementStarted  EventType = "engagement.started"  // EngagementStarted; the actor is the consenting campaign
	EventEngagementRevoked  EventType = "engagement.revoked"  // EngagementRevoked
	EventIncidentReported   EventType = "incident.reported"   // IncidentRecord
	EventIncidentUpdated    EventType = "incident.updated"    // IncidentChange
)

// FirmID names a security firm.
type FirmID string

// CampaignScope and FirmScope are the scopes of a tenant's own users.
func CampaignScope(id CampaignID) Scope { return Scope("campaign/" + string(id)) }
func FirmScope(id FirmID) Scope         { return Scope("firm/" + string(id)) }

// ValidateTenantID checks a campaign or firm id: it becomes a scope segment.
func ValidateTenantID(field, id string) error {
	if !scopeSegment.MatchString(id) {
		return FieldError("campaign.id", field, "must be 1-64 letters, digits, - or _")
	}
	return nil
}

// HelpArea is what a campaign needs help with and what a firm offers.
type HelpArea string

const (
	AreaAccounts       HelpArea = "accounts"          // MFA, passwords, account takeover
	AreaEmail          HelpArea = "email"             // SPF, DKIM, DMARC, phishing defences
	AreaWebsite        HelpArea = "website"           // CMS, DDoS protection, registrar
	AreaDevices        HelpArea = "devices"           // laptops and phones
	AreaNetwork        HelpArea = "network"           // office Wi-Fi, VPN
	AreaIncident       HelpArea = "incident-response" // an incident under way
	AreaTraining       HelpArea = "training"          // phishing training, policy
	AreaDisinformation HelpArea = "disinformation"    // impersonation, doxxing, information operations
)

// HelpAreas lists the areas in display order.
var HelpAreas = []HelpArea{AreaAccounts, AreaEmail, AreaWebsite, AreaDevices, AreaNetwork, AreaIncident, AreaTraining, AreaDisinformation}

func validAreas(op, field string, areas []HelpArea) error {
	if len(areas) == 0 {
		return FieldError(op, field, "choose at least one area")
	}
	seen := map[HelpArea]bool{}
	for _, a := range areas {
		ok := false
		for _, h := range HelpAreas {
			ok = ok || a == h
		}
		if !ok {
			return FieldError(op, field, "%q is not an area (one of accounts, email, website, devices, network, incident-response, training, disinformation)", truncateCampaignText(string(a), 32))
		}
		if seen[a] {
			return FieldError(op, field, "%s is listed twice", a)
		}
		seen[a] = true
	}
	return nil
}

// Urgency is how soon a campaign needs help.
type Urgency string

const (
	UrgencyLow      Urgency = "low"
	UrgencyMedium   Urgency = "medium"
	UrgencyHigh     Urgency = "high"
	UrgencyCritical Urgency = "critical" // an incident is under way
)

// Urgencies lists the urgencies, least first.
var Urgencies = []Urgency{UrgencyLow, UrgencyMedium, UrgencyHigh, UrgencyCritical}

// CampaignContact is a person the desk can reach at a campaign or firm.
type CampaignContact struct {
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

var (
	emailPattern    = regexp.MustCompile(`^[^@\s<>"]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}$`)
	phonePattern    = regexp.MustCompile(`^[+0-9 ().-]{5,32}$`)
	hostnamePattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$`)
)

func (c CampaignContact) validate(op, field string, errs *fieldErrors) {
	errs.text(op, field+".name", c.Name, 1, 120)
	errs.text(op, field+".role", c.Role, 0, 120)
	if !emailPattern.MatchString(c.Email) {
		errs.add(FieldError(op, field+".email", "must be an email address such as name@example.org"))
	}
	if c.Phone != "" && !phonePattern.MatchString(c.Phone) {
		errs.add(FieldError(op, field+".phone", "must be a phone number: digits, spaces, + ( ) - ."))
	}
}

// Campaign is a tenant of the desk: a candidate committee, party or PAC.
type Campaign struct {
	ID           CampaignID        `json:"id"`
	Organisation string            `json:"organisation"`
	Candidate    string            `json:"candidate"`
	Race         string            `json:"race"`
	Party        string            `json:"party,omitempty"`
	Domain       string            `json:"domain,omitempty"` // the campaign's web and email domain
	Contacts     []CampaignContact `json:"contacts"`
}

// Validate checks every field and reports all that are wrong (the first
// one is the error's Field).
func (c Campaign) Validate() error {
	const op = "campaign.validate"
	var errs fieldErrors
	errs.add(ValidateTenantID("id", string(c.ID)))
	errs.text(op, "organisation", c.Organisation, 1, 200)
	errs.text(op, "candidate", c.Candidate, 1, 200)
	errs.text(op, "race", c.Race, 1, 200)
	errs.text(op, "party", c.Party, 0, 120)
	if c.Domain != "" && (len(c.Domain) > 253 || !hostnamePattern.MatchString(c.Domain)) {
		errs.add(FieldError(op, "domain", "must be a domain name such as smithforsenate.com"))
	}
	switch {
	case len(c.Contacts) == 0:
		errs.add(FieldError(op, "contacts", "give at least one contact the desk can reach"))
	case len(c.Contacts) > 10:
		errs.add(FieldError(op, "contacts", "at most 10 contacts"))
	}
	for i, ct := range c.Contacts {
		ct.validate(op, "contacts."+strconv.Itoa(i), &errs)
	}
	return errs.err()
}

// FirmStatus is where a firm stands with the security officer.
type FirmStatus string

const (
	FirmPending   FirmStatus = "pending"   // applied (or changed its application); not yet vetted
	FirmApproved  FirmStatus = "approved"  // vetted: may be proposed and engaged
	FirmRejected  FirmStatus = "rejected"  // not vetted
	FirmSuspended FirmStatus = "suspended" // was approved; every engagement stops at once
)

// FirmAttestation is what a firm attests when it applies.
const FirmAttestation = "We have declared every conflict of interest below; we will use a campaign's data only " +
	"to help that campaign, keep it confidential, and delete it when the engagement ends."

// Firm is a security firm's application: who it is, what it offers, how
// many campaigns it can take at once, its attestation and its declared
// conflicts of interest (organisations, candidates, parties or campaign
// ids it must not be matched with).
type Firm struct {
	ID          FirmID          `json:"id"`
	Name        string          `json:"name"`
	Contact     CampaignContact `json:"contact"`
	Specialties []HelpArea      `json:"specialties"`
	Capacity    int             `json:"capacity"` // engagements at once
	Attested    bool            `json:"attested"` // the firm attests FirmAttestation
	Conflicts   []string        `json:"conflicts"`
}

// Validate checks every field of an application.
func (f Firm) Validate() error {
	const op = "firm.validate"
	var errs fieldErrors
	errs.add(ValidateTenantID("id", string(f.ID)))
	errs.text(op, "name", f.Name, 1, 200)
	f.Contact.validate(op, "contact", &errs)
	errs.add(validAreas(op, "specialties", f.Specialties))
	if f.Capacity < 1 || f.Capacity > 100 {
		errs.add(FieldError(op, "capacity", "must be between 1 and 100 campaigns at once"))
	}
	if !f.Attested {
		errs.add(FieldError(op, "attested", "the firm must attest: %s", FirmAttestation))
	}
	if len(f.Conflicts) > 50 {
		errs.add(FieldError(op, "conflicts", "at most 50 declared conflicts"))
	}
	for _, c := range f.Conflicts {
		if strings.TrimSpace(c) == "" || len(c) > 200 {
			errs.add(FieldError(op, "conflicts", "each declared conflict must be 1-200 characters"))
			break
		}
	}
	return errs.err()
}

// HelpRequest is a campaign asking the desk for help.
type HelpRequest struct {
	ID       string     `json:"id"`
	Campaign CampaignID `json:"campaign"`
	Areas    []HelpArea `json:"areas"`
	Urgency  Urgency    `json:"urgency"`
	Details  string     `json:"details,omitempty"`
}

// Validate checks a help request.
func (h HelpRequest) Validate() error {
	const op = "help.validate"
	var errs fieldErrors
	errs.add(validAreas(op, "areas", h.Areas))
	ok := false
	for _, u := range Urgencies {
		ok = ok || h.Urgency == u
	}
	if !ok {
		errs.add(FieldError(op, "urgency", "must be low, medium, high or critical"))
	}
	errs.text(op, "details", h.Details, 0, maxEvidence)
	return errs.err()
}

// MaxEngagement is the longest an engagement may last before the campaign
// must consent again.
const MaxEngagement = 180 * 24 * time.Hour

// IncidentKind is what happened to a campaign.
type IncidentKind string

const (
	IncidentPhishing        IncidentKind = "phishing"
	IncidentAccountTakeover IncidentKind = "account_takeover"
	IncidentDefacement      IncidentKind = "defacement"
	IncidentDoS             IncidentKind = "denial_of_service"
	IncidentDoxxing         IncidentKind = "doxxing"
	IncidentDisinformation  IncidentKind = "disinformation"
)

// IncidentKinds lists the kinds in display order.
var IncidentKinds = []IncidentKind{IncidentPhishing, IncidentAccountTakeover, IncidentDefacement, IncidentDoS, IncidentDoxxing, IncidentDisinformation}

// IncidentStatus tracks an incident from report to resolution.
type IncidentStatus string

const (
	IncidentReported  IncidentStatus = "reported"
	IncidentTriaged   IncidentStatus = "triaged"
	IncidentContained IncidentStatus = "contained"
	IncidentResolved  IncidentStatus = "resolved"
)

// IncidentStatuses lists the statuses in order.
var IncidentStatuses = []IncidentStatus{IncidentReported, IncidentTriaged, IncidentContained, IncidentResolved}

// Incident is a campaign's report of an attack.
type Incident struct {
	ID       string       `json:"id"`
	Campaign CampaignID   `json:"campaign"`
	Kind     IncidentKind `json:"kind"`
	Summary  string       `json:"summary"`
	Details  string       `json:"details,omitempty"`
	Occurred string       `json:"occurred,omitempty"` // YYYY-MM-DD, when it started
}

// Validate checks a report.
func (in Incident) Validate() error {
	const op = "incident.validate"
	var errs fieldErrors
	ok := false
	for _, k := range IncidentKinds {
		ok = ok || in.Kind == k
	}
	if !ok {
		errs.add(FieldError(op, "kind", "must be phishing, account_takeover, defacement, denial_of_service, doxxing or disinformation"))
	}
	errs.text(op, "summary", in.Summary, 1, 200)
	errs.text(op, "details", in.Details, 0, maxEvidence)
	if in.Occurred != "" {
		if _, err := time.Parse("2006-01-02", in.Occurred); err != nil {
			errs.add(FieldError(op, "occurred", "must be a date like 2026-10-30"))
		}
	}
	return errs.err()
}

// ValidIncidentStatus reports whether s is a status.
func ValidIncidentStatus(s IncidentStatus) bool {
	for _, x := range IncidentStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// Payloads of the desk's events. Sealed fields hold the JSON of the
// object named in their comment, sealed with the node's secrets key.

// CampaignRecord is the payload of campaign.registered and campaign.updated.
type CampaignRecord struct {
	ID     CampaignID `json:"id"`
	Sealed string     `json:"sealed"` // Campaign
}

// AssessmentRecord is the payload of campaign.assessed.
type AssessmentRecord struct {
	Campaign CampaignID `json:"campaign"`
	Sealed   string     `json:"sealed"` // []ControlAnswer
}

// CampaignAccess is the payload of campaign.accessed: a firm's user read
// (or changed) the campaign's data through an engagement.
type CampaignAccess struct {
	Campaign   CampaignID `json:"campaign"`
	Firm       FirmID     `json:"firm"`
	Engagement string     `json:"engagement"`
	What       string     `json:"what"` // method and path
}

// FirmRecord is the payload of firm.applied. Any application, even a
// change to an approved one, puts the firm back to pending.
type FirmRecord struct {
	ID     FirmID `json:"id"`
	Sealed string `json:"sealed"` // Firm
}

// FirmVetted is the payload of firm.vetted.
type FirmVetted struct {
	Firm   FirmID     `json:"firm"`
	Status FirmStatus `json:"status"`
	Sealed string     `json:"sealed,omitempty"` // the officer's note (string)
}

// HelpRecord is the payload of help.requested.
type HelpRecord struct {
	ID       string     `json:"id"`
	Campaign CampaignID `json:"campaign"`
	Sealed   string     `json:"sealed"` // HelpRequest
}

// EngagementStarted is the payload of engagement.started. The event's
// actor is the campaign user who consented.
type EngagementStarted struct {
	ID        string     `json:"id"`
	Campaign  CampaignID `json:"campaign"`
	Firm      FirmID     `json:"firm"`
	Request   string     `json:"request,omitempty"` // the help request it answers
	NotBefore time.Time  `json:"not_before"`
	NotAfter  time.Time  `json:"not_after"`
}

// EngagementRevoked is the payload of engagement.revoked.
type EngagementRevoked struct {
	ID       string     `json:"id"`
	Campaign CampaignID `json:"campaign"`
	Sealed   string     `json:"sealed,omitempty"` // the reason (string)
}

// IncidentRecord is the payload of incident.reported.
type IncidentRecord struct {
	ID       string     `json:"id"`
	Campaign CampaignID `json:"campaign"`
	Sealed   string     `json:"sealed"` // Incident
}

// IncidentChange is the payload of incident.updated.
type IncidentChange struct {
	ID       string         `json:"id"`
	Campaign CampaignID     `json:"campaign"`
	Status   IncidentStatus `json:"status"`
	Sealed   string         `json:"sealed,omitempty"` // the note (string)
}

// fieldErrors collects a form's field errors: joined, the first decides
// the error's kind and field, and FieldErrors lists them all.
type fieldErrors []error

func (e *fieldErrors) add(err error) {
	if err != nil {
		*e = append(*e, err)
	}
}

func (e *fieldErrors) text(op, field, s string, min, max int) {
	switch {
	case !utf8.ValidString(s):
		e.add(FieldError(op, field, "is not valid UTF-8"))
	case min > 0 && strings.TrimSpace(s) == "":
		e.add(FieldError(op, field, "is required"))
	case len(s) > max:
		e.add(FieldError(op, field, "is longer than %d characters", max))
	}
}

func (e fieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return errors.Join(e...)
}

// FieldErrors lists the field errors inside err (one per field, the first
// wins), for forms that show each message next to its field.
func FieldErrors(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) && e.Field != "" {
			if _, dup := out[e.Field]; !dup {
				out[e.Field] = e.Message
			}
		}
	}
	walk(err)
	return out
}
