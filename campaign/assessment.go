package campaign

import (
	"fmt"
	"sort"

	"github.com/vigil-elections/vigil"
)

// Question is one step of the guided self-assessment.
type Question struct {
	Control vigil.Control
	Prompt  string
	// Options are the three answers, indexed by points (0, 1, 2).
	Options        [3]string
	EvidencePrompt string
}

// Questions returns the questionnaire: one question per control, in the
// document's order (group by group).
func Questions() []Question {
	qs := make([]Question, len(controls))
	for i, c := range controls {
		qs[i] = Question{
			Control: c,
			Prompt:  fmt.Sprintf("%s (%s, %s): is this in place? %s.", c.ID, c.Group, c.Weight, c.Text),
			Options: [3]string{
				"Not done",
				"Partly: some people or accounts",
				"Fully done, and we can show it",
			},
			EvidencePrompt: fmt.Sprintf("What shows it? For example: %s.", c.Evidence),
		}
	}
	return qs
}

// Rating is the overall judgement of a self-assessment.
type Rating string

// The rating bands are ours: campaign.md defines the score and names only
// "At risk", the cap of the gating rule.
const (
	RatingAtRisk Rating = "At risk" // score below 50%, or a Critical control not done
	RatingFair   Rating = "Fair"    // 50% up to 80%
	RatingStrong Rating = "Strong"  // 80% or more
)

// Score is the result of a self-assessment, per campaign.md:
//
//	each control scores 0 (not done), 1 (partial) or 2 (done with evidence);
//	weights are Critical 5, High 3, Medium 2, Low 1;
//	score = Σ(weight × points) / Σ(weight × 2), over every control;
//	if any Critical control scores 0, the rating is capped at "At risk".
//
// An unanswered control scores 0: a gap no one looked at is still a gap.
type Score struct {
	Earned   int     // Σ weight × points
	Possible int     // Σ weight × 2 over every control (184 for the 34 controls)
	Value    float64 // Earned / Possible, 0…1
	Rating   Rating
	// Gated is true when a Critical control scored 0; GatingControls names them.
	Gated          bool
	GatingControls []vigil.ControlID
	Unanswered     []vigil.ControlID
}

// Percent is the score rounded down to a whole percent, so a score shown
// as 80% never sits below the Strong line.
func (s Score) Percent() int {
	if s.Possible == 0 {
		return 0
	}
	return s.Earned * 100 / s.Possible
}

// Assess scores answers. It refuses an answer to an unknown control, a
// control answered twice, and points outside 0…2 (Invalid errors naming
// the control).
func Assess(answers []vigil.ControlAnswer) (Score, error) {
	got, err := index(answers)
	if err != nil {
		return Score{}, err
	}
	var s Score
	for _, c := range controls {
		a, ok := got[c.ID]
		if !ok {
			s.Unanswered = append(s.Unanswered, c.ID)
		}
		s.Earned += int(c.Weight) * int(a.Points)
		s.Possible += int(c.Weight) * 2
		if c.Weight == vigil.WeightCritical && a.Points == vigil.NotDone {
			s.Gated = true
			s.GatingControls = append(s.GatingControls, c.ID)
		}
	}
	s.Value = float64(s.Earned) / float64(s.Possible)
	switch {
	case s.Gated:
		s.Rating = RatingAtRisk
	case s.Earned*100 >= s.Possible*80:
		s.Rating = RatingStrong
	case s.Earned*100 >= s.Possible*50:
		s.Rating = RatingFair
	default:
		s.Rating = RatingAtRisk
	}
	return s, nil
}

func index(answers []vigil.ControlAnswer) (map[vigil.ControlID]vigil.ControlAnswer, error) {
	got := make(map[vigil.ControlID]vigil.ControlAnswer, len(answers))
	for _, a := range answers {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if _, ok := Lookup(a.Control); !ok {
			return nil, vigil.FieldError("campaign.assess", "control", "%s is not a control of the checklist", a.Control)
		}
		if _, dup := got[a.Control]; dup {
			return nil, vigil.FieldError("campaign.assess", "control", "%s is answered twice; keep one answer", a.Control)
		}
		got[a.Control] = a
	}
	return got, nil
}

// Step is one item of the remediation plan.
type Step struct {
	Control  vigil.Control
	Points   vigil.ControlPoints // the current answer
	Answered bool
	// Gating is true for a Critical control not done: fixing it lifts the
	// cap on the rating.
	Gating bool
	// Gain is what finishing the control adds to Score.Earned.
	Gain     int
	Evidence string // the campaign's own note, if any
}

// Remediate returns every control not fully done, most critical gap first:
// Critical controls not done (the ones that cap the rating) first, then by
// weight, then not-done before partial, then in the document's order.
func Remediate(answers []vigil.ControlAnswer) ([]Step, error) {
	got, err := index(answers)
	if err != nil {
		return nil, err
	}
	var steps []Step
	for _, c := range controls {
		a, ok := got[c.ID]
		if ok && a.Points == vigil.Done {
			continue
		}
		steps = append(steps, Step{
			Control:  c,
			Points:   a.Points,
			Answered: ok,
			Gating:   c.Weight == vigil.WeightCritical && a.Points == vigil.NotDone,
			Gain:     int(c.Weight) * int(vigil.Done-a.Points),
			Evidence: a.Evidence,
		})
	}
	sort.SliceStable(steps, func(i, j int) bool {
		a, b := steps[i], steps[j]
		if a.Gating != b.Gating {
			return a.Gating
		}
		if a.Control.Weight != b.Control.Weight {
			return a.Control.Weight > b.Control.Weight
		}
		return a.Points < b.Points
	})
	return steps, nil
}
