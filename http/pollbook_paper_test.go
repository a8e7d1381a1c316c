package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// TestPaperFallbackThroughHTTP: a supervisor switches a polling place to
// paper (a reason is required; a poll worker may not); its pollbooks then
// refuse check-ins, saying so; afterwards the paper check-ins are entered
// in bulk: a bad line refuses the whole entry naming the line; a voter
// checked in meanwhile (electronically before the switch, or by mail)
// becomes a conflict for the county naming both; entering the same lines
// again changes nothing.
func TestPaperFallbackThroughHTTP(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(300)
	voters := votersAt(c, "P01", "active")
	w := e.MustUser("worker", workerGrant("P01"))
	sup := e.MustUser("super", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: vigil.PlaceScope("ADAMS", "P01")})
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})

	if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[0].ID}); r.status != http.StatusCreated {
		t.Fatalf("check-in before the switch: %d %s", r.status, r.body)
	}
	if r := w.do("POST", "/api/v1/pollbook/paper-mode", map[string]any{"on": true, "reason": "network down"}); r.status != http.StatusForbidden {
		t.Fatalf("a poll worker switched the place to paper: %d %s", r.status, r.body)
	}
	if r := sup.do("POST", "/api/v1/pollbook/paper-mode", map[string]any{"on": true}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "reason") {
		t.Fatalf("paper mode without a reason: %d %s", r.status, r.body)
	}
	if r := sup.do("POST", "/api/v1/pollbook/paper-mode", map[string]any{"on": true, "reason": "all tablets froze"}); r.status != http.StatusOK {
		t.Fatalf("switch to paper: %d %s", r.status, r.body)
	}
	r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[1].ID})
	if r.status != http.StatusConflict || refusal(t, r)["reason"] != "paper_mode" || !strings.Contains(r.body, "all tablets froze") {
		t.Fatalf("check-in while on paper: %d %s", r.status, r.body)
	}
	if page := w.do("GET", "/pollbook", nil); !strings.Contains(page.body, `id="on-paper"`) {
		t.Fatalf("the pollbook page does not say the place is on paper:\n%s", page.body)
	}
	if r := admin.do("POST", "/api/v1/pollbook/mail-ballots?county=ADAMS", map[string]string{"voter": voters[2].ID}); r.status != http.StatusCreated {
		t.Fatalf("mail ballot: %d %s", r.status, r.body)
	}
	if r := sup.form("/pollbook/paper/mode", url.Values{"on": {"0"}}); r.status != http.StatusOK || !strings.Contains(r.body, "back on the electronic") {
		t.Fatalf("switch back through the page: %d %s", r.status, r.body)
	}

	bad := "voter,time\n" + voters[1].ID + ",\nNOSUCHVOTER,\n"
	if r := sup.form("/pollbook/paper/checkins", url.Values{"csv": {bad}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "line 3") {
		t.Fatalf("an entry with an unknown voter: %d %s", r.status, r.body)
	}
	if r := w.do("GET", "/api/v1/pollbook/checkins/"+voters[1].ID, nil); !strings.Contains(r.body, `"checkin":null`) {
		t.Fatalf("a refused entry applied a line: %s", r.body)
	}
	lines := "voter,time,identity\n" + voters[0].ID + ",,\n" + voters[1].ID + ",,licence\n" + voters[2].ID + ",,\n" +
		voters[3].ID + "," + c.Election.VotingStart.Add(30*60e9).Format("2006-01-02T15:04:05Z07:00") + ",\n"
	r = sup.form("/pollbook/paper/checkins", url.Values{"csv": {lines}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "2 checked in, 0 already entered, 2 conflict(s)") {
		t.Fatalf("paper entry: %d %s", r.status, r.body)
	}
	conflicts := admin.do("GET", "/api/v1/pollbook/conflicts?county=ADAMS", nil)
	if n := strings.Count(conflicts.body, `"voter":`); n != 2 || !strings.Contains(conflicts.body, voters[0].ID) || !strings.Contains(conflicts.body, voters[2].ID) {
		t.Fatalf("the county's conflicts (want 2, both records named): %s", conflicts.body)
	}
	ci := w.do("GET", "/api/v1/pollbook/checkins/"+voters[1].ID, nil)
	if !strings.Contains(ci.body, `"source":"paper"`) || !strings.Contains(ci.body, `"place":"P01"`) {
		t.Fatalf("the paper check-in as the pollbooks see it: %s", ci.body)
	}
	before := e.eventCount(vigil.EventCheckInConflicted) + e.eventCount(vigil.EventCheckInRecorded)
	again := sup.doRaw("POST", "/api/v1/pollbook/paper-checkins", "text/csv", lines)
	if again.status != http.StatusOK || !strings.Contains(again.body, `"already_entered":2`) || !strings.Contains(again.body, `"conflict":2`) {
		t.Fatalf("the same entry again: %d %s", again.status, again.body)
	}
	if after := e.eventCount(vigil.EventCheckInConflicted) + e.eventCount(vigil.EventCheckInRecorded); after != before {
		t.Fatalf("entering the same lines again wrote %d events", after-before)
	}
	// A voter entered on paper cannot then be checked in electronically.
	if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[3].ID}); r.status != http.StatusConflict {
		t.Fatalf("electronic check-in after a paper one: %d %s", r.status, r.body)
	}
}
