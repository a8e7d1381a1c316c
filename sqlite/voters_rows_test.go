package sqlite_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// rowsEvent is a voter.added event in the row form, as an import writes it.
func rowsEvent(t *testing.T, importID string, recs ...vigil.VoterRecord) vigil.Event {
	t.Helper()
	b := []byte(`{"reason":"new-registration","detail":"import of f","import":"` + importID + `","rows":[`)
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = voter.AppendRow(b, &recs[i]); !ok {
			t.Fatalf("record %d has no row form", i)
		}
	}
	b = append(b, "]}"...)
	ev, err := vigil.NewEvent(registrar, vigil.EventVoterAdded, "", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	ev.Payload = b
	return ev
}

func indexes(t *testing.T, e *voterEnv) []string {
	t.Helper()
	rows, err := e.db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'voters' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func TestImportRowForm(t *testing.T) {
	ctx := context.Background()
	e := MustVoterService(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := sampleVoter()
	v.DriversLicense, v.SSN4 = "", ""
	v.Districts = []vigil.DistrictAssignment{{Type: vigil.DistrictCongressional, Code: "8"}}
	v.History = []vigil.VotingHistoryEntry{{Election: vigil.Date{Year: 2024, Month: 11, Day: 5}, Name: "GENERAL", Method: "absentee"}}
	first := vigil.VoterRecord{Voter: v, Fingerprint: "f1", SSN4Sealed: "sealed:eDEyMzQ="}
	second := first
	second.ID, second.Name.First = "AD2", "MARY"

	t.Run("an import into an empty roll builds the roll's indexes when it finishes", func(t *testing.T) {
		if _, err := e.log.Append(ctx, []vigil.Event{rowsEvent(t, "imp1", first, second)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := indexes(t, e); len(got) != 0 {
			t.Fatalf("indexes during the import: %v", got)
		}
		done, _ := vigil.NewEvent(registrar, vigil.EventVoterImported, "imp1", now, vigil.VoterImport{ID: "imp1", File: "f"})
		if _, err := e.log.Append(ctx, []vigil.Event{done}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := indexes(t, e); !reflect.DeepEqual(got, []string{"voters_name", "voters_precinct"}) {
			t.Fatalf("indexes after the import: %v", got)
		}
	})
	t.Run("a voter added as a row reads back whole", func(t *testing.T) {
		got, err := e.db.Voter(ctx, "AD1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.VoterRecord, first) {
			t.Fatalf("got %+v\nwant %+v", got.VoterRecord, first)
		}
		rs, _ := e.db.SearchVoters(ctx, "mary smyth", []vigil.Scope{vigil.ScopeState}, 5)
		if len(rs) == 0 || rs[0].Voter.ID != "AD2" {
			t.Fatalf("search: %+v", rs)
		}
	})
	t.Run("a row for a voter already on the roll updates it with its history", func(t *testing.T) {
		moved := first
		moved.Residence.Line1, moved.Fingerprint = "99 ELM ST", "f2"
		if _, err := e.log.Append(ctx, []vigil.Event{rowsEvent(t, "imp2", moved)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		done, _ := vigil.NewEvent(registrar, vigil.EventVoterImported, "imp2", now, vigil.VoterImport{ID: "imp2", File: "f"})
		e.log.Append(ctx, []vigil.Event{done}, vigil.AppendOptions{})
		got, _ := e.db.Voter(ctx, "AD1")
		if got.Residence.Line1 != "99 ELM ST" {
			t.Fatalf("%+v", got.Residence)
		}
		h, _ := e.db.VoterHistory(ctx, "AD1")
		if len(h) != 2 || h[1].Changes != "address" {
			t.Fatalf("%+v", h)
		}
		rs, _ := e.db.SearchVoters(ctx, "99 elm st", []vigil.Scope{vigil.ScopeState}, 5)
		if len(rs) != 1 || rs[0].Voter.ID != "AD1" {
			t.Fatalf("search by the new address: %+v", rs)
		}
		if rs, _ := e.db.SearchVoters(ctx, "12 main st", []vigil.Scope{vigil.ScopeState}, 5); len(rs) != 1 || rs[0].Voter.ID != "AD2" {
			t.Fatalf("the old address still finds AD1: %+v", rs)
		}
	})
	t.Run("records in the JSON object form (older logs) still apply", func(t *testing.T) {
		third := first
		third.ID = "AD3"
		ev, _ := vigil.NewEvent(registrar, vigil.EventVoterAdded, "", now,
			vigil.VoterRecords{Reason: vigil.ReasonNew, Import: "imp3", Records: []vigil.VoterRecord{third}})
		done, _ := vigil.NewEvent(registrar, vigil.EventVoterImported, "imp3", now, vigil.VoterImport{ID: "imp3", File: "f"})
		if _, err := e.log.Append(ctx, []vigil.Event{ev, done}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := e.db.Voter(ctx, "AD3")
		if err != nil || !reflect.DeepEqual(got.VoterRecord, third) {
			t.Fatalf("%v %+v", err, got)
		}
	})
	t.Run("an event without rows changes nothing", func(t *testing.T) {
		if _, err := e.log.Append(ctx, []vigil.Event{rowsEvent(t, "imp5")}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a voter twice in one event ends as its second row, with one history entry", func(t *testing.T) {
		a, b := first, first
		a.ID, b.ID = "AD6", "AD6"
		b.Party, b.Fingerprint = "REP", "f6"
		if _, err := e.log.Append(ctx, []vigil.Event{rowsEvent(t, "", a, second, b)}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.db.Voter(ctx, "AD6")
		h, _ := e.db.VoterHistory(ctx, "AD6")
		if got.Party != "REP" || len(h) != 1 {
			t.Fatalf("%+v %+v", got.VoterRecord, h)
		}
	})
	t.Run("a malformed row refuses the whole event", func(t *testing.T) {
		ev := rowsEvent(t, "imp7", vigil.VoterRecord{Voter: vigil.Voter{ID: "AD7"}}, vigil.VoterRecord{Voter: vigil.Voter{ID: "AD8"}})
		ev.Payload = []byte(strings.Replace(string(ev.Payload), `["AD8"]`, `["AD8",7]`, 1))
		if _, err := e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); vigil.ErrorKind(err) != vigil.Integrity {
			t.Fatalf("got %v", err)
		}
		if _, err := e.db.Voter(ctx, "AD7"); vigil.ErrorKind(err) != vigil.NotFound {
			t.Fatalf("a row of a refused event was applied: %v", err)
		}
	})
	t.Run("a payload mixing rows and records is refused", func(t *testing.T) {
		ev := rowsEvent(t, "imp4", second)
		ev.Payload = append(ev.Payload[:len(ev.Payload)-1], `,"records":[]}`...)
		if _, err := e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); vigil.ErrorKind(err) != vigil.Integrity {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}
