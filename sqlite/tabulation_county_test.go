package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

// Two counties import exports whose scanners numbered ballots alike; each
// county's tally, manifest, reconciliation and publication are its own.
func TestTabulationByCounty(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	now := func() time.Time { return time.Date(2026, 11, 3, 21, 0, 0, 0, time.UTC) }
	state := sqlite.NewTabulation(db, log, now)
	adams, boone := state.InCounty("ADAMS"), state.InCounty("BOONE")
	env := &voterEnv{db: db, log: log}
	imp := func(county string) sqlite.CVRImport {
		in := dominionImport(t, "TEST_CVRS.csv")
		in.County = county
		return in
	}

	t.Run("the same ballot ids import in two counties", func(t *testing.T) {
		for _, c := range []string{"ADAMS", "BOONE"} {
			if _, err := state.ImportCVRs(ctx, tabulator, imp(c)); err != nil {
				t.Fatalf("%s: %v", c, err)
			}
		}
	})
	t.Run("a ballot id imported twice in one county is refused", func(t *testing.T) {
		_, err := state.ImportCVRs(ctx, tabulator, imp("ADAMS"))
		if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), "already imported") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("each county counts its own ballots; the state counts all", func(t *testing.T) {
		for _, tt := range []struct {
			svc  *sqlite.Tabulation
			want int64
		}{{adams, 14}, {boone, 14}, {state, 28}, {state.InCounty("CLAY"), 0}} {
			r, _, err := tt.svc.Tally(ctx)
			if err != nil || r.Ballots != tt.want {
				t.Fatalf("county %q: %v, %d ballots, want %d", tt.svc.County(), err, r.Ballots, tt.want)
			}
		}
	})
	t.Run("a county's tally by precinct, style and batch adds up to its total", func(t *testing.T) {
		r, _, err := adams.Tally(ctx, tabulate.ByPrecinct, tabulate.ByBallotStyle, tabulate.ByBatch)
		if err != nil {
			t.Fatal(err)
		}
		sums := map[tabulate.Dimension]int64{}
		for _, g := range r.Groups {
			for _, c := range g.Contests {
				if c.ID == r.Contests[0].ID {
					sums[g.By] += c.Ballots
				}
			}
		}
		for _, d := range []tabulate.Dimension{tabulate.ByPrecinct, tabulate.ByBallotStyle, tabulate.ByBatch} {
			if sums[d] != r.Contests[0].Ballots {
				t.Fatalf("by %s: %d ballots in the groups, %d in the total", d, sums[d], r.Contests[0].Ballots)
			}
		}
	})
	t.Run("one county's manifest does not replace another's", func(t *testing.T) {
		m := func() tabulate.File {
			return tabulate.File{Name: "manifest.csv", Reader: strings.NewReader("Tabulator,Batch Name,Number of Ballots\nTABULATOR1,BATCH1,3\nTABULATOR1,BATCH2,3\nTABULATOR2,BATCH1,3\nTABULATOR2,BATCH2,6\n")}
		}
		if _, _, err := adams.ImportManifest(ctx, tabulator, m(), "ADAMS"); err != nil {
			t.Fatal(err)
		}
		_, rep, err := boone.ImportManifest(ctx, tabulator, m(), "BOONE")
		if err != nil || rep.CVRs != 14 {
			t.Fatalf("%v %+v", err, rep)
		}
		var n int
		db.QueryRow(`SELECT COUNT(*) FROM manifest_batches WHERE county = 'ADAMS'`).Scan(&n)
		if n != 4 {
			t.Fatalf("ADAMS has %d manifest batches after BOONE's import, want 4", n)
		}
	})
	t.Run("reconciliation compares a county's check-ins with its own ballots only", func(t *testing.T) {
		var evs []vigil.Event
		for i := range 14 {
			ev, _ := vigil.NewEvent(vigil.Actor{Name: "pw", Role: vigil.RolePollWorker, Origin: "test"}, vigil.EventCheckInRecorded, fmt.Sprint("V", i), now(),
				vigil.CheckIn{Voter: vigil.VoterID(fmt.Sprint("V", i)), Election: "E1", County: "ADAMS", Place: "P01", Precinct: "12345", BallotStyle: "1", Method: "in_person"})
			evs = append(evs, ev)
		}
		if _, err := log.Append(ctx, evs, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		line := func(svc *sqlite.Tabulation) sqlite.ReconcileLine {
			lines, err := svc.Reconcile(ctx, "E1", 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if l.Kind == "precinct" && l.ID == "12345" {
					return l
				}
			}
			t.Fatalf("no precinct 12345 in %+v", lines)
			return sqlite.ReconcileLine{}
		}
		// The manifest lists 15 ballots; the sample's CVRs lack one.
		if l := line(adams); l.CheckIns != 14 || l.Ballots != 14 || l.Difference != 0 || l.Manifest != 15 || !l.Flagged || l.County != "ADAMS" {
			t.Fatalf("ADAMS: %+v", l)
		}
		if l := line(boone); l.CheckIns != 0 || l.Ballots != 14 || l.Difference != 14 || l.Manifest != 15 || !l.Flagged {
			t.Fatalf("BOONE: %+v", l)
		}
		if l := line(state); l.CheckIns != 14 || l.Ballots != 28 || l.Manifest != 30 {
			t.Fatalf("state: %+v", l)
		}
	})
	t.Run("a county publishes its own count; others have published nothing", func(t *testing.T) {
		r, _, _ := adams.Tally(ctx, tabulate.ByPrecinct)
		if err := adams.Publish(ctx, tabulator, r, "vigil.log/x 9 AAAA"); err != nil {
			t.Fatal(err)
		}
		p, err := adams.Published(ctx)
		if err != nil || p.County != "ADAMS" || p.Results.Ballots != 14 || len(p.Results.Groups) == 0 {
			t.Fatalf("%v %+v", err, p)
		}
		if _, err := boone.Published(ctx); vigil.ErrorKind(err) != vigil.NotFound {
			t.Fatalf("BOONE: %v", err)
		}
		ps, err := state.Publications(ctx)
		if err != nil || len(ps) != 1 || ps[0].County != "ADAMS" {
			t.Fatalf("%v %+v", err, ps)
		}
	})
	t.Run("replaying the log rebuilds every table", func(t *testing.T) {
		env.mustRebuildMatches(t)
	})
}

// Many rows per entry and per INSERT statement (and a remainder), through
// the fast payload decoder: the count from the projection equals the count
// from the file, by precinct and batch too.
func TestLargeImportCountsAsTheFile(t *testing.T) {
	ctx := context.Background()
	var csv strings.Builder
	if err := tabulate.WriteDominionCVRs(&csv, 1234); err != nil {
		t.Fatal(err)
	}
	open := func() ([]tabulate.File, func(), error) {
		return []tabulate.File{{Name: "CVR_Export.csv", Reader: strings.NewReader(csv.String())}}, func() {}, nil
	}
	files, _, _ := open()
	r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
	direct := tabulate.NewTally(r.Election(), tabulate.ByPrecinct, tabulate.ByBatch)
	if err := r.Read(files, direct.Add); err != nil {
		t.Fatal(err)
	}
	want := direct.Results()

	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	svc := sqlite.NewTabulation(db, log, time.Now)
	svc.BatchBytes = 40 << 10 // a few entries of several hundred records
	res, err := svc.ImportCVRs(ctx, tabulator, sqlite.CVRImport{Format: tabulate.Dominion, Names: []string{"CVR_Export.csv"}, County: "ADAMS", Open: open})
	if err != nil || res.Records != 1234 || res.Batches < 2 {
		t.Fatalf("%v %+v", err, res)
	}
	got, _, err := svc.Tally(ctx, tabulate.ByPrecinct, tabulate.ByBatch)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []tabulate.Dimension{tabulate.ByPrecinct, tabulate.ByBatch} {
		var a, b strings.Builder
		got.WriteGroupsCSV(&a, d)
		want.WriteGroupsCSV(&b, d)
		if a.String() != b.String() {
			t.Fatalf("by %s, from the projection:\n%.2000s\nfrom the file:\n%.2000s", d, a.String(), b.String())
		}
	}
	var a, b strings.Builder
	got.WriteText(&a)
	want.WriteText(&b)
	if a.String() != b.String() {
		t.Fatalf("from the projection:\n%s\nfrom the file:\n%s", a.String(), b.String())
	}
	(&voterEnv{db: db, log: log}).mustRebuildMatches(t)
}

// Logs written before the compact row form carry each record as JSON in
// "records": the projection still counts them, alongside rows.
func TestRecordsFormStillCounts(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	svc := sqlite.NewTabulation(db, log, time.Now)
	if _, err := svc.ImportCVRs(ctx, tabulator, dominionImport(t, "TEST_CVRS.csv")); err != nil {
		t.Fatal(err)
	}
	old := vigil.CVRBatch{Import: "old", Format: "dominion", Files: []string{"old.csv"}, Part: 1, Last: true, Total: 2,
		Records: []vigil.CastVoteRecord{
			{ID: "old-1", Precinct: "12345", Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}}},
			{ID: "old-2", Precinct: "12345", Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}}},
		}}
	ev, _ := vigil.NewEvent(tabulator, vigil.EventCVRsImported, "cvrs.old", time.Now(), old)
	if _, err := log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	r, _, err := svc.Tally(ctx)
	if err != nil || r.Ballots != 16 || r.Contests[0].Choices[1].Votes != 5 {
		t.Fatalf("%v %+v", err, r.Contests[0])
	}
	(&voterEnv{db: db, log: log}).mustRebuildMatches(t)
}
