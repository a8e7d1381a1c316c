package pollbook_test

import (
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/pollbook"
)

func TestEligible(t *testing.T) {
	now := time.Date(2026, 11, 3, 15, 0, 0, 0, time.UTC)
	election := &vigil.ElectionDay{ID: "GEN", Name: "General", VotingStart: now.Add(-8 * time.Hour), VotingEnd: now.Add(5 * time.Hour)}
	p01 := &vigil.PollingPlace{ID: "P01", Name: "Grange Hall", Address: "1 Main St"}
	p02 := &vigil.PollingPlace{ID: "P02", Name: "Fire Station 4", Address: "9 Oak Ave"}
	site := vigil.PlaceScope("ADAMS", "P01")
	voter := func(mod func(*pollbook.Voter)) *pollbook.Voter {
		v := &pollbook.Voter{ID: "AD1", County: "ADAMS", Precinct: "PCT-1", Status: "active", Place: p01}
		if mod != nil {
			mod(v)
		}
		return v
	}
	prior := &vigil.CheckInRecord{CheckIn: vigil.CheckIn{Voter: "AD1", Election: "GEN", Place: "P02", Method: vigil.MethodInPerson},
		Actor: "pat", Time: now.Add(-time.Hour), PlaceName: "Fire Station 4"}
	tests := []struct {
		name string
		f    pollbook.Facts
		want vigil.RefusalReason
	}{
		{"an active voter of this place may check in", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(nil)}, ""},
		{"nobody checks in outside the voting period", pollbook.Facts{Site: site, Now: now, Next: election, Voter: voter(nil)}, vigil.RefusedNotOpen},
		{"a voter not on the roll is not found", pollbook.Facts{Site: site, Now: now, Election: election}, vigil.RefusedNotFound},
		{"a voter of another county is out of scope", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(func(v *pollbook.Voter) { v.County = "BAKER" })}, vigil.RefusedOutOfScope},
		{"a voter of another place is sent there", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(func(v *pollbook.Voter) { v.Place = p02 })}, vigil.RefusedWrongPlace},
		{"a voter already checked in elsewhere is told so before where to vote", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(func(v *pollbook.Voter) { v.Place = p02 }), Prior: prior}, vigil.RefusedCheckedIn},
		{"a check-in of another election does not count", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(nil), Prior: &vigil.CheckInRecord{CheckIn: vigil.CheckIn{Election: "PRIMARY"}}}, ""},
		{"a voter whose mail ballot came back is stopped", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(func(v *pollbook.Voter) { v.MailVoted = true })}, vigil.RefusedVotedByMail},
		{"an inactive voter is refused", pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(func(v *pollbook.Voter) { v.Status = "inactive" })}, vigil.RefusedInactive},
		{"a pollbook not at a place cannot check in", pollbook.Facts{Site: vigil.CountyScope("ADAMS"), Now: now, Election: election, Voter: voter(nil)}, vigil.RefusedOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pollbook.Eligible(tt.f)
			switch {
			case tt.want == "" && r != nil:
				t.Fatalf("refused: %s", r.Message)
			case tt.want != "" && r == nil:
				t.Fatalf("allowed, want %s", tt.want)
			case r != nil && (r.Reason != tt.want || r.Message == ""):
				t.Fatalf("reason %s (%q), want %s", r.Reason, r.Message, tt.want)
			}
		})
	}
	t.Run("the refusal says who, where and when", func(t *testing.T) {
		r := pollbook.Eligible(pollbook.Facts{Site: site, Now: now, Election: election, Voter: voter(nil), Prior: prior})
		if r.Message != "Already checked in at Fire Station 4 by pat at 14:00 on Nov 3. Do not issue a regular ballot; a supervisor can undo a mistake, or offer a provisional ballot." {
			t.Fatalf("%q", r.Message)
		}
	})
}
