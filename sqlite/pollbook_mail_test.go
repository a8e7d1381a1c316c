package sqlite

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// A voter whose roll history shows a mail ballot for the election is
// stopped at the polls, whether the record came from a registration (JSON)
// or from an import (the row form).
func TestMailVotedReadsBothRecordForms(t *testing.T) {
	rec := vigil.VoterRecord{Voter: vigil.Voter{ID: "V1", County: "ADAMS", Name: vigil.Name{First: "A", Last: "B"},
		BirthDate: vigil.Date{Year: 1970, Month: time.March, Day: 2}, Status: vigil.VoterStatus{Code: vigil.StatusActive},
		History: []vigil.VotingHistoryEntry{{Election: vigil.Date{Year: 2026, Month: time.November, Day: 3}, Method: vigil.MethodAbsentee}}}}
	js, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	row, ok := voter.AppendRow(nil, &rec)
	if !ok {
		t.Fatal("the record has no row form")
	}
	for name, record := range map[string]string{"json": string(js), "row": string(row)} {
		if !mailVoted(record, "2026-11-03") {
			t.Errorf("%s: the mail ballot for 2026-11-03 is not seen", name)
		}
		if mailVoted(record, "2026-06-30") {
			t.Errorf("%s: a mail ballot is seen for another election", name)
		}
	}
	if mailVoted("", "2026-11-03") {
		t.Error("a voter without a record voted by mail")
	}
}
