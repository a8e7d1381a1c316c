package voter_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

func TestDuplicatesOn50kVotersMeetTheTargets(t *testing.T) {
	roll := voter.GenerateRoll(42, 50_000, 0.03)
	found := voter.FindDuplicates(roll.Voters, voter.DuplicateOptions{})
	acc := voter.Evaluate(found, roll.Duplicates)
	t.Log(acc)
	if acc.Precision < 0.95 || acc.Recall < 0.90 {
		t.Fatalf("%v; want precision ≥ 0.95 and recall ≥ 0.90", acc)
	}
	for _, p := range found[:10] {
		if p.A >= p.B || p.Score < 0.85 || p.Score > 1 || len(p.Reasons) == 0 {
			t.Fatalf("malformed pair %+v", p)
		}
	}
	again := voter.FindDuplicates(roll.Voters, voter.DuplicateOptions{Workers: 1})
	if !reflect.DeepEqual(found, again) {
		t.Fatal("results depend on the number of workers")
	}
}

func TestGenerateRollIsDeterministic(t *testing.T) {
	a, b := voter.GenerateRoll(9, 2000, 0.1), voter.GenerateRoll(9, 2000, 0.1)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two rolls")
	}
	if len(a.Voters) != 2000 || len(a.Duplicates) != 200 {
		t.Fatalf("%d voters, %d duplicates", len(a.Voters), len(a.Duplicates))
	}
	ids := map[vigil.VoterID]bool{}
	for i := range a.Voters {
		if err := a.Voters[i].Validate(); err != nil {
			t.Fatalf("generated voter invalid: %v", err)
		}
		if ids[a.Voters[i].ID] {
			t.Fatalf("duplicate ID %s", a.Voters[i].ID)
		}
		ids[a.Voters[i].ID] = true
	}
	if c := voter.GenerateRoll(10, 2000, 0.1); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same roll")
	}
}

func TestScorePairSeparatesDuplicatesFromLookAlikes(t *testing.T) {
	base := vigil.Voter{ID: "A", Name: vigil.Name{First: "WILLIAM", Middle: "H", Last: "JOHNSON"}, Gender: "M",
		BirthDate: vigil.Date{Year: 1961, Month: 4, Day: 9}, Residence: vigil.Address{Line1: "12 OAK ST", ZIP: "27601"}}
	tests := []struct {
		name   string
		edit   func(v *vigil.Voter)
		dup    bool
		reason string
	}{
		{"a nickname is a duplicate", func(v *vigil.Voter) { v.Name.First = "BILL" }, true, "nickname"},
		{"a typo and a move is a duplicate", func(v *vigil.Voter) {
			v.Name.Last = "JOHNSTON"
			v.Residence = vigil.Address{Line1: "9 ELM RD", ZIP: "28801"}
		}, true, "moved"},
		{"swapped names are a duplicate", func(v *vigil.Voter) { v.Name.First, v.Name.Last = v.Name.Last, v.Name.First }, true, "swapped"},
		{"a day-month swap in the birth date is a duplicate", func(v *vigil.Voter) { v.BirthDate = vigil.Date{Year: 1961, Month: 9, Day: 4} }, true, "slip"},
		{"a twin is not", func(v *vigil.Voter) { v.Name.First, v.Name.Middle = "ROBERT", "J" }, false, ""},
		{"a junior at the same address is not", func(v *vigil.Voter) {
			v.Name.Suffix = "JR"
			v.BirthDate = vigil.Date{Year: 1988, Month: 4, Day: 9}
		}, false, ""},
		{"a namesake born another year elsewhere is not", func(v *vigil.Voter) {
			v.BirthDate = vigil.Date{Year: 1975, Month: 1, Day: 2}
			v.Residence = vigil.Address{Line1: "9 ELM RD", ZIP: "28801"}
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := base
			other.ID = "B"
			tt.edit(&other)
			s, reasons := voter.ScorePair(&base, &other)
			if (s >= 0.85) != tt.dup {
				t.Fatalf("score %.3f, reasons %v", s, reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(reasons, "; "), tt.reason) {
				t.Fatalf("reasons %v lack %q", reasons, tt.reason)
			}
		})
	}
}

// BenchmarkDuplicates1M finds duplicates in a generated roll of 1,000,000
// registrations (3% duplicates) and reports precision and recall with the
// time. It runs only with -bench Duplicates1M; generation is not timed.
func BenchmarkDuplicates1M(b *testing.B) {
	roll := voter.GenerateRoll(1, 1_000_000, 0.03)
	b.ResetTimer()
	var acc voter.Accuracy
	for i := 0; i < b.N; i++ {
		found := voter.FindDuplicates(roll.Voters, voter.DuplicateOptions{})
		acc = voter.Evaluate(found, roll.Duplicates)
	}
	b.ReportMetric(acc.Precision, "precision")
	b.ReportMetric(acc.Recall, "recall")
}
