package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// TestSameDayRegistrationAtThePolls: where the county does not allow it,
// a voter not on the roll is offered the provisional ballot; once the
// county allows it (a reason is required, a poll worker may not set it),
// the poll worker registers the voter and they are checked in at once
// with the ballot style of their precinct. A person already on the roll,
// a precinct of another place, a missing date of birth: refused, naming
// the field, nothing recorded.
func TestSameDayRegistrationAtThePolls(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(200)
	w := e.MustUser("worker", workerGrant("P01"))
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	var here, there string
	for _, p := range c.Precincts {
		if p.Place == "P01" && here == "" {
			here = p.ID
		}
		if p.Place != "P01" && there == "" {
			there = p.ID
		}
	}
	newcomer := map[string]any{
		"voter": map[string]any{"name": map[string]string{"first": "Ada", "last": "Newcomer"}, "birth_date": "1990-04-02",
			"residence": map[string]string{"line1": "12 Elm St", "city": "Brighton", "zip": "80601"}, "precinct": here},
		"drivers_license": "CO123456"}
	registered := func() int { return e.eventCount(vigil.EventVoterAdded) }

	r := w.do("POST", "/api/v1/pollbook/registrations", newcomer)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "provisional") {
		t.Fatalf("same-day registration where the county does not allow it: %d %s", r.status, r.body)
	}
	if page := w.do("GET", "/pollbook?q=Nobody+Newcomer", nil); strings.Contains(page.body, `id="same-day"`) {
		t.Fatal("the pollbook offers same-day registration where the county does not allow it")
	}
	if r := w.do("POST", "/api/v1/counties/ADAMS/policy", map[string]any{"same_day_registration": true, "reason": "state law"}); r.status != http.StatusForbidden {
		t.Fatalf("a poll worker set the county's policy: %d %s", r.status, r.body)
	}
	if r := admin.do("POST", "/api/v1/counties/ADAMS/policy", map[string]any{"same_day_registration": true}); r.status != http.StatusBadRequest {
		t.Fatalf("a policy without a reason: %d %s", r.status, r.body)
	}
	if r := admin.do("POST", "/api/v1/counties/ADAMS/policy", map[string]any{"same_day_registration": true, "reason": "C.R.S. 1-2-217.7"}); r.status != http.StatusOK {
		t.Fatalf("allow same-day registration: %d %s", r.status, r.body)
	}
	if page := w.do("GET", "/pollbook?q=Nobody+Newcomer", nil); !strings.Contains(page.body, `id="same-day"`) {
		t.Fatal("the pollbook does not offer same-day registration once the county allows it")
	}

	before := registered()
	v := c.Voters[0]
	for _, bad := range []struct {
		name, field string
		voter       map[string]any
	}{
		{"already on the roll", "voter.name", map[string]any{"name": map[string]string{"first": strings.ToLower(v.FirstName), "last": v.LastName},
			"birth_date": v.BirthDate, "residence": map[string]string{"line1": "1 A St", "city": "B", "zip": "80601"}, "precinct": here}},
		{"a precinct voting elsewhere", "voter.precinct", map[string]any{"name": map[string]string{"first": "Ada", "last": "Newcomer"},
			"birth_date": "1990-04-02", "residence": map[string]string{"line1": "1 A St", "city": "B", "zip": "80601"}, "precinct": there}},
		{"no date of birth", "voter.birth_date", map[string]any{"name": map[string]string{"first": "Ada", "last": "Newcomer"},
			"residence": map[string]string{"line1": "1 A St", "city": "B", "zip": "80601"}, "precinct": here}},
	} {
		r := w.do("POST", "/api/v1/pollbook/registrations", map[string]any{"voter": bad.voter})
		if r.status < 400 || r.status >= 500 || !strings.Contains(r.body, bad.field) {
			t.Fatalf("%s: %d %s", bad.name, r.status, r.body)
		}
	}
	if registered() != before {
		t.Fatal("a refused same-day registration recorded a voter")
	}

	r = w.do("POST", "/api/v1/pollbook/registrations", newcomer)
	if r.status != http.StatusCreated || !strings.Contains(r.body, `"identity":"same-day registration"`) || !strings.Contains(r.body, `"ballot_style":"`) {
		t.Fatalf("same-day registration: %d %s", r.status, r.body)
	}
	if registered() != before+1 {
		t.Fatal("the registration is not a voter.added event")
	}
	again := w.do("POST", "/api/v1/pollbook/registrations", newcomer)
	if again.status != http.StatusBadRequest || !strings.Contains(again.body, "already on the roll") {
		t.Fatalf("registering the same person twice: %d %s", again.status, again.body)
	}

	// Through the page, three actions: the link, the form, the button.
	form := url.Values{"first": {"Bo"}, "last": {"Arrival"}, "birth_date": {"1985-11-30"}, "street": {"3 Oak Ave"},
		"city": {"Brighton"}, "zip": {"80601"}, "precinct": {here}, "ssn4": {"1234"}}
	if page := w.do("GET", "/pollbook/register", nil); page.status != http.StatusOK || !strings.Contains(page.body, `id="register-form"`) {
		t.Fatalf("the registration form: %d", page.status)
	}
	done := w.form("/pollbook/register", form)
	if done.status != http.StatusOK || !strings.Contains(done.body, "Registered and checked in") || !strings.Contains(done.body, `id="ballot-style"`) {
		t.Fatalf("same-day registration through the page: %d %s", done.status, done.body)
	}
	form.Set("precinct", there)
	form.Set("first", "Cy")
	if bad := w.form("/pollbook/register", form); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "does not vote at this polling place") {
		t.Fatalf("the page with a precinct voting elsewhere: %d %s", bad.status, bad.body)
	}
}
