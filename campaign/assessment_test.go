package campaign_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

// TestControlsMatchTheChecklist reads shared/data/campaign.md and checks
// every table row against the Go data, so a transcription slip fails here.
func TestControlsMatchTheChecklist(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "campaign.md"))
	if err != nil {
		t.Fatalf("reference file missing: %v", err)
	}
	weights := map[string]vigil.ControlWeight{"Critical": vigil.WeightCritical, "High": vigil.WeightHigh, "Medium": vigil.WeightMedium, "Low": vigil.WeightLow}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		cells := strings.Split(line, "|")
		if len(cells) != 7 || vigil.ControlID(strings.TrimSpace(cells[1])).Validate() != nil {
			continue
		}
		rows = append(rows, cells[1:6])
	}
	controls := campaign.Controls()
	t.Run("every control of the document is transcribed, in order", func(t *testing.T) {
		if len(rows) != len(controls) || len(controls) != 34 {
			t.Fatalf("document has %d rows, Go data %d, want 34", len(rows), len(controls))
		}
	})
	for i, row := range rows {
		if i >= len(controls) {
			break
		}
		c := controls[i]
		t.Run(string(c.ID)+" matches its row", func(t *testing.T) {
			clean := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "**", "")) }
			if string(c.ID) != clean(row[0]) || c.Text != clean(row[1]) || c.Weight != weights[clean(row[2])] ||
				c.Evidence != clean(row[3]) || c.Sources != clean(row[4]) {
				t.Errorf("got %+v\nrow %q", c, row)
			}
			if c.HeadingLevel != strings.Contains(row[4], "[heading-level]") {
				t.Errorf("HeadingLevel = %v", c.HeadingLevel)
			}
		})
	}
	t.Run("groups hold 9, 5, 5, 3, 5, 2 and 5 controls", func(t *testing.T) {
		var got []int
		for _, g := range campaign.Groups() {
			n := 0
			for _, c := range controls {
				if c.Group == g {
					n++
				}
			}
			got = append(got, n)
		}
		if !slices.Equal(got, []int{9, 5, 5, 3, 5, 2, 5}) {
			t.Errorf("group sizes %v", got)
		}
	})
}

// answers builds answers: every control gets def, except those in set.
func answers(def vigil.ControlPoints, set map[vigil.ControlID]vigil.ControlPoints) []vigil.ControlAnswer {
	var out []vigil.ControlAnswer
	for _, c := range campaign.Controls() {
		p, ok := set[c.ID]
		if !ok {
			p = def
		}
		out = append(out, vigil.ControlAnswer{Control: c.ID, Points: p})
	}
	return out
}

func byWeight(w vigil.ControlWeight, p vigil.ControlPoints) map[vigil.ControlID]vigil.ControlPoints {
	m := map[vigil.ControlID]vigil.ControlPoints{}
	for _, c := range campaign.Controls() {
		if c.Weight == w {
			m[c.ID] = p
		}
	}
	return m
}

func TestAssess(t *testing.T) {
	// Worked by hand from campaign.md: 4 Critical (5), 15 High (3), 12 Medium (2)
	// and 3 Low (1) controls; Σ weight = 20+45+24+3 = 92, so Possible = 184.
	merge := func(ms ...map[vigil.ControlID]vigil.ControlPoints) map[vigil.ControlID]vigil.ControlPoints {
		out := map[vigil.ControlID]vigil.ControlPoints{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	twelveHighPartial := map[vigil.ControlID]vigil.ControlPoints{}
	for _, id := range []vigil.ControlID{"ACC-03", "ACC-04", "ACC-05", "ACC-08", "ACC-09", "PPL-01", "PPL-03", "COM-01", "COM-04", "WEB-01", "WEB-02", "DEV-02"} {
		twelveHighPartial[id] = vigil.Partial
	}
	tests := []struct {
		name    string
		answers []vigil.ControlAnswer
		earned  int
		percent int
		rating  campaign.Rating
		gating  []vigil.ControlID
	}{
		{"everything done scores 184 of 184 and is strong", answers(vigil.Done, nil), 184, 100, campaign.RatingStrong, nil},
		{"everything partial scores exactly half and is fair", answers(vigil.Partial, nil), 92, 50, campaign.RatingFair, nil},
		{"no answers score zero and every critical control gates", nil, 0, 0, campaign.RatingAtRisk,
			[]vigil.ControlID{"ACC-01", "ACC-02", "DEV-01", "IR-01"}},
		{"one critical control not done caps a 94% score at risk", answers(vigil.Done, map[vigil.ControlID]vigil.ControlPoints{"ACC-01": vigil.NotDone}),
			174, 94, campaign.RatingAtRisk, []vigil.ControlID{"ACC-01"}},
		{"a critical control partly done does not gate", answers(vigil.Done, map[vigil.ControlID]vigil.ControlPoints{"ACC-01": vigil.Partial}),
			179, 97, campaign.RatingStrong, nil},
		{"critical done, high partial, the rest not done is 85 of 184 and at risk",
			answers(vigil.NotDone, merge(byWeight(vigil.WeightCritical, vigil.Done), byWeight(vigil.WeightHigh, vigil.Partial))), 85, 46, campaign.RatingAtRisk, nil},
		{"critical and high done, medium and low not done is 130 of 184 and fair",
			answers(vigil.NotDone, merge(byWeight(vigil.WeightCritical, vigil.Done), byWeight(vigil.WeightHigh, vigil.Done))), 130, 70, campaign.RatingFair, nil},
		{"148 of 184 (80.4%) is strong", answers(vigil.Done, twelveHighPartial), 148, 80, campaign.RatingStrong, nil},
		{"147 of 184 (79.9%) is fair", answers(vigil.Done, merge(twelveHighPartial, map[vigil.ControlID]vigil.ControlPoints{"IR-05": vigil.Partial})), 147, 79, campaign.RatingFair, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := campaign.Assess(tt.answers)
			if err != nil {
				t.Fatal(err)
			}
			if s.Possible != 184 || s.Earned != tt.earned || s.Percent() != tt.percent || s.Rating != tt.rating {
				t.Errorf("got %d/%d (%d%%) %s, want %d/184 (%d%%) %s", s.Earned, s.Possible, s.Percent(), s.Rating, tt.earned, tt.percent, tt.rating)
			}
			if s.Gated != (len(tt.gating) > 0) || !slices.Equal(s.GatingControls, tt.gating) {
				t.Errorf("gating %v %v, want %v", s.Gated, s.GatingControls, tt.gating)
			}
		})
	}
	t.Run("unanswered controls are listed and score zero", func(t *testing.T) {
		s, _ := campaign.Assess([]vigil.ControlAnswer{{Control: "ACC-01", Points: vigil.Done}})
		if len(s.Unanswered) != 33 || s.Earned != 10 {
			t.Errorf("unanswered %d, earned %d", len(s.Unanswered), s.Earned)
		}
	})
}

func TestAssessRefuses(t *testing.T) {
	tests := []struct {
		name    string
		answers []vigil.ControlAnswer
		field   string
	}{
		{"an unknown control is refused", []vigil.ControlAnswer{{Control: "XYZ-01"}}, "control"},
		{"a malformed control id is refused", []vigil.ControlAnswer{{Control: "acc-1"}}, "control"},
		{"a control answered twice is refused", []vigil.ControlAnswer{{Control: "ACC-01"}, {Control: "ACC-01", Points: 2}}, "control"},
		{"three points are refused", []vigil.ControlAnswer{{Control: "ACC-01", Points: 3}}, "points"},
		{"an overlong evidence note is refused", []vigil.ControlAnswer{{Control: "ACC-01", Evidence: strings.Repeat("x", 5000)}}, "evidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := campaign.Assess(tt.answers)
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != tt.field {
				t.Errorf("error %v, want invalid %s", err, tt.field)
			}
			if _, err := campaign.Remediate(tt.answers); err == nil {
				t.Error("Remediate accepted it")
			}
		})
	}
}

func TestRemediate(t *testing.T) {
	set := map[vigil.ControlID]vigil.ControlPoints{
		"IR-05":  vigil.NotDone, // Low
		"PPL-01": vigil.Partial, // High, partial
		"COM-04": vigil.NotDone, // High
		"DEV-01": vigil.Partial, // Critical, partial: no gate
		"ACC-01": vigil.NotDone, // Critical: gates
		"NET-02": vigil.NotDone, // Medium
	}
	ans := answers(vigil.Done, set)
	ans[len(ans)-1].Evidence = "not started"
	steps, err := campaign.Remediate(ans)
	if err != nil {
		t.Fatal(err)
	}
	var got []vigil.ControlID
	for _, s := range steps {
		got = append(got, s.Control.ID)
	}
	t.Run("the gating control comes first, then by weight, then not done before partial", func(t *testing.T) {
		want := []vigil.ControlID{"ACC-01", "DEV-01", "COM-04", "PPL-01", "NET-02", "IR-05"}
		if !slices.Equal(got, want) {
			t.Errorf("order %v, want %v", got, want)
		}
	})
	t.Run("each step says what finishing it gains", func(t *testing.T) {
		gains := []int{10, 5, 6, 3, 4, 2}
		for i, s := range steps {
			if s.Gain != gains[i] {
				t.Errorf("%s gain %d, want %d", s.Control.ID, s.Gain, gains[i])
			}
		}
		if !steps[0].Gating || steps[1].Gating {
			t.Error("only ACC-01 gates")
		}
		if steps[5].Evidence != "not started" {
			t.Errorf("evidence note %q not carried", steps[5].Evidence)
		}
	})
	t.Run("an empty assessment lists every control, critical first", func(t *testing.T) {
		steps, _ := campaign.Remediate(nil)
		if len(steps) != 34 || steps[0].Control.ID != "ACC-01" || steps[3].Control.ID != "IR-01" || steps[4].Control.Weight != vigil.WeightHigh || steps[0].Answered {
			t.Errorf("first steps %+v", steps[:5])
		}
	})
}

func TestQuestions(t *testing.T) {
	qs := campaign.Questions()
	if len(qs) != 34 {
		t.Fatalf("%d questions", len(qs))
	}
	q := qs[0]
	if !strings.HasPrefix(q.Prompt, "ACC-01 (Accounts and authentication, Critical): is this in place? MFA turned on") ||
		!strings.Contains(q.EvidencePrompt, "admin-console MFA report") || q.Options[vigil.Partial] == "" {
		t.Errorf("question %+v", q)
	}
}
