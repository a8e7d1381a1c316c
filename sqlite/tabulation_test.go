package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

var tabulator = vigil.Actor{Name: "tess", Role: vigil.RoleTabulator, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}

func dominionImport(t *testing.T, name string) sqlite.CVRImport {
	path := filepath.Join("../../shared/data/cvr/arlo-vendor-formats/dominion", name)
	return sqlite.CVRImport{Format: tabulate.Dominion, Names: []string{name}, Open: func() ([]tabulate.File, func(), error) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return []tabulate.File{{Name: name, Reader: f}}, func() { f.Close() }, nil
	}}
}

func TestTabulation(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	now := func() time.Time { return time.Date(2026, 11, 3, 21, 0, 0, 0, time.UTC) }
	svc := sqlite.NewTabulation(db, log, now)
	env := &voterEnv{db: db, log: log}

	t.Run("an import in many small entries counts once complete", func(t *testing.T) {
		svc.BatchBytes = 200 // a few records per entry
		res, err := svc.ImportCVRs(ctx, tabulator, dominionImport(t, "TEST_CVRS.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Records != 14 || res.Batches < 3 || !res.ElectionLearned {
			t.Fatalf("%+v", res)
		}
		r, _, err := svc.Tally(ctx)
		if err != nil || r.Ballots != 14 {
			t.Fatalf("%v %+v", err, r)
		}
	})
	t.Run("a partial import (no last batch in the log) counts nothing", func(t *testing.T) {
		ev, _ := vigil.NewEvent(tabulator, vigil.EventCVRsImported, "cvrs.partial", now(), vigil.CVRBatch{Import: "partial", Format: "dominion", Part: 1,
			Records: []vigil.CastVoteRecord{{ID: "X1", Contests: []vigil.ContestVote{{Contest: "Contest 1"}}}}})
		if _, err := log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		r, _, err := svc.Tally(ctx)
		if err != nil || r.Ballots != 14 {
			t.Fatalf("%v %+v", err, r)
		}
	})
	t.Run("check-ins against counted ballots: a difference above the threshold is flagged and recorded once", func(t *testing.T) {
		var evs []vigil.Event
		for i := range 12 {
			ev, _ := vigil.NewEvent(vigil.Actor{Name: "pw", Role: vigil.RolePollWorker, Origin: "test"}, vigil.EventCheckInRecorded, fmt.Sprint("V", i), now(),
				vigil.CheckIn{Voter: vigil.VoterID(fmt.Sprint("V", i)), Election: "E1", County: "ADAMS", Place: "P01", Precinct: "12345", BallotStyle: "1", Method: "in_person"})
			evs = append(evs, ev)
		}
		if _, err := log.Append(ctx, evs, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		lines, err := svc.Reconcile(ctx, "E1", 2)
		if err != nil {
			t.Fatal(err)
		}
		var pct *sqlite.ReconcileLine
		for i := range lines {
			if lines[i].Kind == "precinct" && lines[i].ID == "12345" {
				pct = &lines[i]
			}
		}
		if pct == nil || pct.CheckIns != 12 || pct.Ballots != 14 || pct.Difference != 2 || pct.Flagged {
			t.Fatalf("%+v", lines)
		}
		lines, _ = svc.Reconcile(ctx, "E1", 1)
		n, err := svc.RecordDiscrepancies(ctx, tabulator, lines)
		if err != nil || n == 0 {
			t.Fatalf("recorded %d: %v", n, err)
		}
		if n, _ := svc.RecordDiscrepancies(ctx, tabulator, lines); n != 0 {
			t.Fatalf("recorded %d again", n)
		}
	})
	t.Run("publication keeps what was published", func(t *testing.T) {
		r, _, _ := svc.Tally(ctx)
		if err := svc.Publish(ctx, tabulator, r, "vigil.log/x 9 AAAA"); err != nil {
			t.Fatal(err)
		}
		p, err := svc.Published(ctx)
		if err != nil || p.Checkpoint != "vigil.log/x 9 AAAA" || p.Results.Ballots != 14 || len(p.Results.Contests) != 2 {
			t.Fatalf("%v %+v", err, p)
		}
	})
	t.Run("replaying the log rebuilds every table", func(t *testing.T) {
		env.mustRebuildMatches(t)
	})
}

func TestManifestTotals(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	svc := sqlite.NewTabulation(db, log, time.Now)
	manifest := func(s string) tabulate.File {
		return tabulate.File{Name: "manifest.csv", Reader: strings.NewReader(s)}
	}
	t.Run("a total row that does not add up is refused, naming file, row and column, and nothing is stored", func(t *testing.T) {
		_, _, err := svc.ImportManifest(ctx, tabulator, manifest("Tabulator,Batch Name,Number of Ballots\nT1,B1,10\nT1,B2,5\nT1,Total,16\n"), "ADAMS")
		if err == nil || !strings.Contains(err.Error(), "manifest.csv, data row 3, column Number of Ballots") || !strings.Contains(err.Error(), "add up to 15") {
			t.Fatalf("got %v", err)
		}
		if len(log.entries) != 0 {
			t.Fatal("stored a refused manifest")
		}
	})
	t.Run("a total row that adds up is checked and dropped", func(t *testing.T) {
		m, _, err := svc.ImportManifest(ctx, tabulator, manifest("Tabulator,Batch Name,Number of Ballots\nT1,B1,10\nT1,B2,5\nT1,Total,15\n"), "ADAMS")
		if err != nil || len(m) != 2 {
			t.Fatalf("%v %+v", err, m)
		}
	})
}

// The projection stores CVRs in its own compact form; counting from it must
// give exactly what counting the files gives, for every format (ranks,
// write-ins, overvotes and ambiguous marks included).
func TestTallyFromProjectionMatchesTheFiles(t *testing.T) {
	ctx := context.Background()
	data := "../../shared/data/cvr"
	for _, tt := range []struct {
		name   string
		format tabulate.Format
		path   string
	}{
		{"dominion csv", tabulate.Dominion, "arlo-vendor-formats/dominion/TEST_CVRS.csv"},
		{"nist ranked choice", tabulate.NIST, "hiltonroscoe-cdfprototype/CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml"},
		{"nist json with write-ins", tabulate.NIST, "votingworks-vxsuite/cast-vote-record-report.json"},
		{"clear ballot", tabulate.ClearBallot, "arlo-vendor-formats/clearballot/CLEARBALLOT_CVRS.csv"},
	} {
		t.Run(tt.name+" counts the same from the projection", func(t *testing.T) {
			path := filepath.Join(data, tt.path)
			open := func() ([]tabulate.File, func(), error) {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				return []tabulate.File{{Name: filepath.Base(path), Reader: f}}, func() { f.Close() }, nil
			}
			files, done, _ := open()
			r := tabulate.NewReader(tt.format, tabulate.Options{})
			direct := tabulate.NewTally(r.Election())
			if err := r.Read(files, direct.Add); err != nil {
				t.Fatal(err)
			}
			done()
			var want, got strings.Builder
			direct.Results().WriteText(&want)

			db := MustOpenDB(t)
			svc := sqlite.NewTabulation(db, &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}, time.Now)
			if _, err := svc.ImportCVRs(ctx, tabulator, sqlite.CVRImport{Format: tt.format, Names: []string{filepath.Base(path)}, Open: open}); err != nil {
				t.Fatal(err)
			}
			res, _, err := svc.Tally(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res.WriteText(&got)
			if got.String() != want.String() {
				t.Fatalf("from the projection:\n%s\nfrom the files:\n%s", got.String(), want.String())
			}
		})
	}
}
