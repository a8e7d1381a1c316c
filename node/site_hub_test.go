package node

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

// The hub takes from a site only the site's own events, of the kinds a
// site writes, about its own place (decision 0008); anything else is
// refused and recorded as site.entry_refused.
func TestHubRefusesWhatASiteMayNotSend(t *testing.T) {
	place := vigil.PlaceScope("ADAMS", "P03")
	worker := vigil.Actor{Name: "pw", Role: vigil.RolePollWorker, Scope: place, Origin: "site-c"}
	event := func(a vigil.Actor, typ vigil.EventType, payload any) vigil.Event {
		ev, err := vigil.NewEvent(a, typ, "AD1", time.Now(), payload)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	checkIn := func(placeID, county string) vigil.CheckIn {
		return vigil.CheckIn{Voter: "AD1", Election: "GEN", County: county, Place: placeID, Precinct: "PCT-9",
			Method: vigil.MethodInPerson}
	}
	other := worker
	other.Origin = "site-b"
	elsewhere := worker
	elsewhere.Scope = vigil.PlaceScope("ADAMS", "P01")
	admin := vigil.Actor{Name: "root", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "site-c"}
	for _, c := range []struct {
		name   string
		ev     vigil.Event
		refuse string
	}{
		{"its own check-in", event(worker, vigil.EventCheckInRecorded, checkIn("P03", "ADAMS")), ""},
		{"its refusal record", event(worker, vigil.EventCheckInRefused, vigil.CheckInRefusal{Voter: "AD1", Site: "P03", Reason: "wrong_place"}), ""},
		{"its paper switch", event(worker, vigil.EventSitePaperMode, vigil.SitePaperMode{Site: place, On: true, Reason: "power"}), ""},
		{"a check-in at another place", event(worker, vigil.EventCheckInRecorded, checkIn("P01", "ADAMS")), "polling place P01"},
		{"a check-in in another county", event(worker, vigil.EventCheckInRecorded, checkIn("P03", "BAKER")), "county BAKER"},
		{"another site's event (replayed)", event(other, vigil.EventCheckInRecorded, checkIn("P03", "ADAMS")), `"site-b"`},
		{"an actor of another place", event(elsewhere, vigil.EventCheckInRecorded, checkIn("P03", "ADAMS")), "outside this site"},
		{"a role grant", event(admin, vigil.EventRoleGranted, vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState}), "may not write role.granted"},
		{"a voter change", event(worker, vigil.EventVoterChanged, map[string]string{"id": "AD1"}), "may not write voter.changed"},
		{"a paper switch elsewhere", event(worker, vigil.EventSitePaperMode, vigil.SitePaperMode{Site: vigil.PlaceScope("ADAMS", "P01"), On: true}), "not this site's"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := checkSiteEvent("site-c", place, c.ev)
			if c.refuse == "" && got != "" {
				t.Fatalf("refused: %s", got)
			}
			if c.refuse != "" && !strings.Contains(got, c.refuse) {
				t.Fatalf("got %q, want a refusal naming %q", got, c.refuse)
			}
		})
	}
}

// FuzzCheckSiteEvent: whatever a site sends, the hub's check answers
// without panicking, and never lets an event of another origin, a kind a
// site may not write, or another place's check-in through.
func FuzzCheckSiteEvent(f *testing.F) {
	f.Add("site-c", "checkin.recorded", "pollbook_worker", "county/ADAMS/place/P03", `{"voter":"AD1","place":"P03","county":"ADAMS"}`)
	f.Add("site-b", "checkin.recorded", "poll_worker", "county/ADAMS/place/P03", `{"place":"P01"}`)
	f.Add("site-c", "role.granted", "operator", "state", `{"role":"state_admin"}`)
	f.Add("site-c", "site.paper_mode", "poll_supervisor", "county/ADAMS/place/P03", `{"site":"county/ADAMS/place/P01","on":true}`)
	f.Add("site-c", "pollbook.refused", "poll_worker", "county/ADAMS", `{"site":"P03"}`)
	f.Add("site-c", "checkin.recorded", "poll_worker", "county/ADAMS/place/P03", `[1,2,3]`)
	f.Add("site-c_laptop-1", "checkin.recorded", "poll_worker", "county/ADAMS/place/P03", `{"voter":"AD1","place":"P03"}`)
	f.Add("site-c-2", "checkin.recorded", "poll_worker", "county/ADAMS/place/P03", `{"voter":"AD1","place":"P03"}`)
	place := vigil.PlaceScope("ADAMS", "P03")
	f.Fuzz(func(t *testing.T, origin, typ, role, scope, payload string) {
		ev := vigil.Event{ID: "e1", Origin: origin, Actor: "pw", Role: vigil.Role(role), Scope: vigil.Scope(scope),
			Type: vigil.EventType(typ), Time: time.Unix(1_700_000_000, 0).UTC(), Key: "AD1", Payload: []byte(payload)}
		reason := checkSiteEvent("site-c", place, ev)
		if reason != "" {
			return
		}
		// The site's own, or a laptop joined to it (site-c_NAME); never
		// another site's (site-c-2).
		if origin != "site-c" && !strings.HasPrefix(origin, "site-c_") || !siteWritable[ev.Type] {
			t.Fatalf("accepted origin %q type %q", origin, typ)
		}
		var about struct {
			Place string `json:"place"`
		}
		if json.Unmarshal([]byte(payload), &about) == nil && about.Place != "" && about.Place != "P03" {
			t.Fatalf("accepted an event about place %q", about.Place)
		}
	})
}

// A site refuses, itself, what only the county's system may do: the hub
// never sees it (it would refuse it as a site out of line, and alert).
func TestSiteRefusesCountyWorkLocally(t *testing.T) {
	s := &siteLink{name: "site-c"}
	admin := vigil.Actor{Name: "casey", Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS"), Origin: "site-c"}
	ev, _ := vigil.NewEvent(admin, vigil.EventVoterChanged, "AD1", time.Now(), map[string]string{"id": "AD1"})
	_, err := s.append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{})
	if vigil.ErrorKind(err) != vigil.Permission || !strings.Contains(err.Error(), "county's system") {
		t.Fatalf("got %v", err)
	}
}
