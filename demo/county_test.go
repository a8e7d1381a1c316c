package demo_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/demo"
)

func TestSameSeedSameCounty(t *testing.T) {
	day := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	a := demo.Generate(demo.Options{Seed: 42, Voters: 5000, Today: day})
	b := demo.Generate(demo.Options{Seed: 42, Voters: 5000, Today: day})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed built different counties")
	}
	c := demo.Generate(demo.Options{Seed: 43, Voters: 5000, Today: day})
	if reflect.DeepEqual(a.Voters, c.Voters) {
		t.Fatal("a different seed built the same voters")
	}
	if len(a.Precincts) < 20 || len(a.Places) < 5 || len(a.Voters) != 5000 {
		t.Fatalf("%d precincts, %d places, %d voters", len(a.Precincts), len(a.Places), len(a.Voters))
	}
	ids := map[string]bool{}
	for _, v := range a.Voters {
		if ids[v.ID] {
			t.Fatalf("duplicate voter id %s", v.ID)
		}
		ids[v.ID] = true
		born, _ := time.Parse("2006-01-02", v.BirthDate)
		if born.AddDate(18, 0, 0).After(day) || born.AddDate(110, 0, 0).Before(day) {
			t.Fatalf("voter %s was born %s: not an adult of a plausible age", v.ID, v.BirthDate)
		}
	}
	if len(demo.Accounts(a)) < 13 {
		t.Fatal("not one account per role")
	}
}
