package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

var (
	auditAdmin = vigil.Actor{Name: "ada", Role: vigil.RoleAuditAdmin, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}
	boardAnn   = vigil.Actor{Name: "ann", Role: vigil.RoleAuditBoard, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}
	boardBen   = vigil.Actor{Name: "ben", Role: vigil.RoleAuditBoard, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}
)

// importTestCVRs loads Arlo's TEST_CVRS and its manifest for county ADAMS.
func importTestCVRs(t *testing.T, db *sqlite.DB, log vigil.EventAppender, now func() time.Time) {
	t.Helper()
	ctx := context.Background()
	tab := sqlite.NewTabulation(db, log, now)
	in := dominionImport(t, "TEST_CVRS.csv")
	in.County = "ADAMS"
	if _, err := tab.ImportCVRs(ctx, tabulator, in); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../shared/data/cvr/arlo-fixtures/manifest-for-TEST_CVRS.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := tab.ImportManifest(ctx, tabulator, tabulate.File{Name: "manifest.csv", Reader: f}, "ADAMS"); err != nil {
		t.Fatal(err)
	}
}

func TestAuditService(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	now := func() time.Time { return time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC) }
	importTestCVRs(t, db, log, now)
	svc := sqlite.NewAuditService(db, log, now)
	set := vigil.AuditSettings{ID: "C1", Name: "Comparison", Kind: vigil.AuditComparison, RiskLimit: 10,
		Contests: []vigil.AuditContest{{ID: "Contest 1", Targeted: true}}, Jurisdictions: []string{"ADAMS"}}

	t.Run("creation refuses an unknown contest, and no-CVR tallies outside a hybrid audit, naming the field", func(t *testing.T) {
		bad := set
		bad.Contests = []vigil.AuditContest{{ID: "Mayor", Targeted: true}}
		if err := svc.Create(ctx, auditAdmin, bad); vigil.ErrorField(err) != "contests[0]" {
			t.Fatal(err)
		}
		bad = set
		bad.NoCVR = []vigil.AuditStratumTally{{Contest: "Contest 1"}}
		if err := svc.Create(ctx, auditAdmin, bad); vigil.ErrorField(err) != "no_cvr" || !strings.Contains(err.Error(), "only a hybrid audit") {
			t.Fatal(err)
		}
	})
	if err := svc.Create(ctx, auditAdmin, set); err != nil {
		t.Fatal(err)
	}
	for _, d := range "11223344556677889900" {
		if _, err := svc.SeedDigit(ctx, auditAdmin, "C1", int(d-'0')); err != nil {
			t.Fatal(err)
		}
	}
	if seed, err := svc.FinishSeed(ctx, auditAdmin, "C1"); err != nil || seed != "11223344556677889900" {
		t.Fatal(seed, err)
	}
	t.Run("the seed's author is refused as a board member", func(t *testing.T) {
		err := svc.CreateBoard(ctx, auditAdmin, vigil.AuditBoard{Audit: "C1", Board: "B0", Jurisdiction: "ADAMS", Members: []string{"ada", "ann"}})
		if vigil.ErrorField(err) != "members" {
			t.Fatal(err)
		}
	})
	for _, b := range []vigil.AuditBoard{
		{Audit: "C1", Board: "B1", Jurisdiction: "ADAMS", Members: []string{"ann", "ben"}},
		{Audit: "C1", Board: "B2", Jurisdiction: "ADAMS", Members: []string{"cal", "cat"}},
	} {
		if err := svc.CreateBoard(ctx, auditAdmin, b); err != nil {
			t.Fatal(err)
		}
	}
	r, err := svc.StartRound(ctx, auditAdmin, "C1", 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Draws) != 8 || len(r.Manifest) != 4 || r.Reported[0].Ballots != 11 || len(r.CVRs) != 8-missing(r.Draws) {
		t.Fatalf("%d draws, %d batches, %+v, %d CVRs", len(r.Draws), len(r.Manifest), r.Reported, len(r.CVRs))
	}
	var mine, theirs vigil.AuditDraw
	for _, d := range r.Draws {
		if d.Board == "B1" {
			mine = d
		} else {
			theirs = d
		}
	}
	reading := func(d vigil.AuditDraw, board string) vigil.AuditInterpretation {
		return vigil.AuditInterpretation{Audit: "C1", Board: board, Ballot: d.AuditBallot,
			Contests: []vigil.AuditContestReading{{Contest: "Contest 1", Choices: []vigil.ChoiceID{"Choice 1-1"}}}}
	}
	t.Run("interpretations only for the board's own sampled ballots", func(t *testing.T) {
		out := mine
		out.Position = 99
		if err := svc.Interpret(ctx, boardAnn, reading(out, "B1")); vigil.ErrorField(err) != "ballot" || !strings.Contains(err.Error(), "not in the sample") {
			t.Fatal(err)
		}
		if theirs.Board != "" {
			if err := svc.Interpret(ctx, boardAnn, reading(theirs, "B1")); vigil.ErrorField(err) != "ballot" {
				t.Fatal(err)
			}
			if err := svc.Interpret(ctx, boardAnn, reading(theirs, theirs.Board)); vigil.ErrorKind(err) != vigil.Permission {
				t.Fatalf("ann entered for another board: %v", err)
			}
		}
	})
	t.Run("a batch is signed only once read, by each member for themselves", func(t *testing.T) {
		so := vigil.AuditSignOff{Audit: "C1", Board: "B1", Jurisdiction: "ADAMS", Tabulator: mine.Tabulator, Batch: mine.Batch, Member: "ann"}
		if err := svc.SignOff(ctx, boardAnn, so); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatal(err)
		}
		so.Member = "ben"
		if err := svc.SignOff(ctx, boardAnn, so); vigil.ErrorKind(err) != vigil.Permission {
			t.Fatalf("ann signed for ben: %v", err)
		}
	})
	t.Run("the round does not close on partial data", func(t *testing.T) {
		if _, err := svc.CloseRound(ctx, auditAdmin, "C1"); vigil.ErrorKind(err) != vigil.Conflict || !strings.Contains(err.Error(), "not yet read") {
			t.Fatal(err)
		}
	})
	t.Run("readings, sign-offs and close", func(t *testing.T) {
		st, err := db.Audit(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		members := map[string][2]vigil.Actor{"B1": {boardAnn, boardBen}, "B2": {
			{Name: "cal", Role: vigil.RoleAuditBoard, Origin: "test"}, {Name: "cat", Role: vigil.RoleAuditBoard, Origin: "test"}}}
		for _, d := range r.Draws {
			if err := svc.Interpret(ctx, members[d.Board][0], reading(d, d.Board)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.CloseRound(ctx, auditAdmin, "C1"); vigil.ErrorKind(err) != vigil.Conflict || !strings.Contains(err.Error(), "not signed off") {
			t.Fatal(err)
		}
		for _, batch := range st.UnsignedBatches(1) {
			board, key, _ := strings.Cut(batch, ": ")
			parts := strings.Split(key, "/")
			for _, m := range members[board] {
				if err := svc.SignOff(ctx, m, vigil.AuditSignOff{Audit: "C1", Board: board, Jurisdiction: parts[0], Tabulator: parts[1], Batch: parts[2], Member: m.Name}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := svc.Interpret(ctx, boardAnn, reading(mine, "B1")); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("a reading changed after the sign-off: %v", err)
		}
		res, err := svc.CloseRound(ctx, auditAdmin, "C1")
		if err != nil {
			t.Fatal(err)
		}
		// Every ballot read as Choice 1-1: the CVRs for Choice 1-2 are
		// two-vote understatements, ballots without a CVR two-vote
		// overstatements.
		c := res.Results[0]
		if c.O2 != missing(r.Draws) || c.U2 == 0 || c.O1 != 0 {
			t.Fatalf("%+v", c)
		}
		st, err = db.Audit(ctx, "C1")
		if err != nil || st.Status != res.Status || st.Rounds[0].Close == nil || st.Rounds[0].Close.Results[0].U2 != c.U2 {
			t.Fatalf("%v %+v", err, st)
		}
	})
}

// missing counts the draws of TEST_CVRS's manifest ballot that has no
// CVR (tabulator 2, batch 2, position 3).
func missing(draws []vigil.AuditDraw) int {
	n := 0
	for _, d := range draws {
		if d.Tabulator == "TABULATOR2" && d.Batch == "BATCH2" && d.Position == 3 {
			n++
		}
	}
	return n
}

// The log, not a check in the service, keeps two racing changes from
// both landing: each append expects the audit's last sequence.
func TestAuditSeedDigitsRaceThroughTheLog(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "audit-race"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	importTestCVRs(t, n.DB, n, n.Now)
	svc := sqlite.NewAuditService(n.DB, n, n.Now)
	if err := svc.Create(ctx, auditAdmin, vigil.AuditSettings{ID: "R", Name: "Race", Kind: vigil.AuditBRAVO, RiskLimit: 10,
		Contests: []vigil.AuditContest{{ID: "Contest 1", Targeted: true}}, Jurisdictions: []string{"ADAMS"}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := map[int]bool{}, 0
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 6 {
				i, err := svc.SeedDigit(ctx, auditAdmin, "R", g)
				mu.Lock()
				switch {
				case err == nil:
					if ok[i] {
						t.Errorf("index %d stored twice", i)
					}
					ok[i] = true
				case vigil.ErrorKind(err) == vigil.Conflict:
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d digits stored, %d conflicts", len(ok), conflicts)
	st, err := n.DB.Audit(ctx, "R")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Digits) != len(ok) || len(ok)+conflicts != 24 {
		t.Fatalf("%d digits stored, %d acknowledged, %d conflicts", len(st.Digits), len(ok), conflicts)
	}
	for i, d := range st.Digits {
		if d.Index != i+1 {
			t.Fatalf("digit %d has index %d", i+1, d.Index)
		}
	}
}
