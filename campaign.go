package vigil

import (
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
	Control  ControlID
	Points   ControlPoints
	Evidence string
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
	Campaign CampaignID
	Time     time.Time
	Answers  []ControlAnswer
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
