package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

// TestVotingHistoryWrittenBack: after the polls close the county writes
// who voted, how and where back to the roll: check-ins with their polling
// place, a received mail ballot, an accepted provisional ballot; not before
// the polls close, only for its own county, and once.
func TestVotingHistoryWrittenBack(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(300)
	here := votersAt(c, "P01", "active")
	elsewhere := votersAt(c, "P02", "active")
	w := e.MustUser("worker", workerGrant("P01"))
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	baker := e.MustUser("baker", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("BAKER")})

	for _, v := range here[:2] {
		if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": v.ID}); r.status != http.StatusCreated {
			t.Fatalf("check-in: %d %s", r.status, r.body)
		}
	}
	if r := admin.do("POST", "/api/v1/pollbook/mail-ballots?county=ADAMS", map[string]string{"voter": here[2].ID}); r.status != http.StatusCreated {
		t.Fatalf("mail ballot: %d %s", r.status, r.body)
	}
	pb := map[string]string{"envelope": "P-7", "reason": "wrong_place", "first_name": elsewhere[0].FirstName,
		"last_name": elsewhere[0].LastName, "birth_date": elsewhere[0].BirthDate, "address": "1 Main St", "voter": elsewhere[0].ID}
	if r := w.do("POST", "/api/v1/pollbook/provisionals", pb); r.status != http.StatusCreated {
		t.Fatalf("provisional: %d %s", r.status, r.body)
	}
	if r := admin.do("POST", "/api/v1/pollbook/provisionals/P-7/decision", map[string]any{"accepted": true, "reason": "registered; wrong place"}); r.status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	body := map[string]string{"election": c.Election.ID, "county": "ADAMS"}
	if r := admin.do("POST", "/api/v1/voters/history", body); r.status != http.StatusConflict || !strings.Contains(r.body, "polls have closed") {
		t.Fatalf("history while voting is open: %d %s", r.status, r.body)
	}
	// The polls close.
	closed := c.Election
	closed.VotingEnd = time.Now().Add(-time.Second)
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	ev, _ := vigil.NewEvent(op, vigil.EventElectionDefined, closed.ID, time.Now(), closed)
	if _, err := e.node.Append(context.Background(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := baker.do("POST", "/api/v1/voters/history", body); r.status != http.StatusForbidden {
		t.Fatalf("another county's admin wrote ADAMS's history: %d %s", r.status, r.body)
	}
	r := admin.do("POST", "/api/v1/voters/history", body)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"voters":4`) || !strings.Contains(r.body, `"added":4`) || !strings.Contains(r.body, `"events":1`) {
		t.Fatalf("history: %d %s", r.status, r.body)
	}
	want := map[string]string{here[0].ID: `"method":"in-person","place":"P01"`, here[2].ID: `"method":"absentee"`,
		elsewhere[0].ID: `"method":"provisional","place":"P01"`}
	for id, w := range want {
		rec := admin.do("GET", "/api/v1/voters/"+id, nil)
		if rec.status != http.StatusOK || !strings.Contains(rec.body, `"name":"`+c.Election.Name+`"`) || !strings.Contains(rec.body, w) {
			t.Fatalf("voter %s after the write-back (want %s): %s", id, w, rec.body)
		}
	}
	if rec := admin.do("GET", "/api/v1/voters/"+here[3].ID, nil); strings.Contains(rec.body, c.Election.Name) {
		t.Fatalf("a voter who did not vote got history: %s", rec.body)
	}
	if r := admin.do("POST", "/api/v1/voters/history", body); !strings.Contains(r.body, `"added":0`) || !strings.Contains(r.body, `"already":4`) {
		t.Fatalf("history written twice: %s", r.body)
	}
	var reason string
	e.node.DB.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'voter.changed'`).Scan(&reason)
	if reason != "1" {
		t.Fatalf("%s voter.changed events, want 1", reason)
	}
}

// TestRosterThroughHTTP: an enrolled pollbook downloads its own polling
// place's roster (birth year only), not another's; the county's
// administrator any place in the county; every roster is an export event.
func TestRosterThroughHTTP(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(300)
	w := e.MustUser("worker", workerGrant("P01"))
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	here := votersAt(c, "P01", "active")
	r := w.do("GET", "/api/v1/pollbook/roster", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, "voter_id,name,address,birth_year,status,precinct,ballot_style\n") ||
		!strings.Contains(r.body, here[0].ID) || strings.Contains(r.body, here[0].BirthDate) {
		t.Fatalf("the pollbook's roster: %d %.300s", r.status, r.body)
	}
	if r := w.do("GET", "/api/v1/pollbook/roster?site=county/ADAMS/place/P02", nil); r.status != http.StatusForbidden {
		t.Fatalf("a P01 pollbook read P02's roster: %d", r.status)
	}
	if r := w.do("GET", "/api/v1/voters/roster?site=county/ADAMS/place/P01", nil); r.status != http.StatusForbidden {
		t.Fatalf("a poll worker used the county's export: %d", r.status)
	}
	p2 := admin.do("GET", "/api/v1/voters/roster?site=county/ADAMS/place/P02", nil)
	if p2.status != http.StatusOK || !strings.Contains(p2.body, votersAt(c, "P02", "active")[0].ID) || strings.Contains(p2.body, here[0].ID) {
		t.Fatalf("the county's roster of P02: %d %.300s", p2.status, p2.body)
	}
	if n := e.eventCount(vigil.EventVoterExported); n != 2 {
		t.Fatalf("%d voter.exported events, want 2", n)
	}
}
