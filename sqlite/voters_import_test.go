package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

// failingLog is memLog that refuses every append from the failAt-th on.
type failingLog struct {
	*memLog
	appends, failAt int
}

var errLogDown = errors.New("log down")

func (l *failingLog) Append(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	l.appends++
	if l.appends >= l.failAt {
		return 0, errLogDown
	}
	return l.memLog.Append(ctx, events, o)
}

func TestImportStopsAtAFailedAppend(t *testing.T) {
	nc, err := os.ReadFile(filepath.Join(sampleDir, "nc.csv"))
	if err != nil {
		t.Fatal(err)
	}
	e := MustVoterService(t)
	log := &failingLog{memLog: e.log, failAt: 3}
	e.svc.Log = log
	res, err := e.svc.Import(t.Context(), registrar, sqlite.ImportOptions{Layout: "nc", File: "nc.csv", Open: openBytes(nc),
		BatchRecords: 2})
	if !errors.Is(err, errLogDown) {
		t.Fatalf("import: %v, want the log's error", err)
	}
	if log.appends != 3 || len(e.log.entries) != 2 || res.Events != 2 {
		t.Fatalf("%d appends tried, %d stored, %d events counted; want 3, 2, 2 (nothing after the failure)",
			log.appends, len(e.log.entries), res.Events)
	}

	// Run again with the log back: the import completes, and the two
	// batches stored before count as unchanged.
	e.svc.Log = e.log
	res, err = e.svc.Import(t.Context(), registrar, sqlite.ImportOptions{Layout: "nc", File: "nc.csv", Open: openBytes(nc),
		BatchRecords: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != 4 || res.Added != res.Rows-res.Rejected-4 {
		t.Fatalf("%+v", res.VoterImport)
	}
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}

// TestScopedSearchIsTheStateSearchInScope: a county clerk's search ranks
// the county's voters as a state-wide search would, with the other
// counties' voters left out (candidates are filtered by scope before the
// best are kept, not after).
func TestScopedSearchIsTheStateSearchInScope(t *testing.T) {
	e := MustVoterService(t)
	roll := voter.GenerateRoll(9, 4000, 0)
	var data bytes.Buffer
	nw, _ := voter.NewNISTWriter(&data, voter.FormatNISTJSON, voter.WriterOptions{})
	for i := range roll.Voters {
		roll.Voters[i].County = "ADAMS"
		if i%10 == 0 {
			roll.Voters[i].County = "BAKER" // a small county among many namesakes
		}
		nw.Write(&roll.Voters[i])
	}
	nw.Close()
	if _, err := e.svc.Import(t.Context(), registrar, sqlite.ImportOptions{Layout: voter.FormatNISTJSON, File: "roll.json",
		Open: openBytes(data.Bytes())}); err != nil {
		t.Fatal(err)
	}
	baker := []vigil.Scope{vigil.CountyScope("BAKER")}
	for i := 0; i < 200; i += 7 {
		v := roll.Voters[i]
		q := v.Name.First + " " + typo(v.Name.Last)
		all, err := e.db.SearchVoters(t.Context(), q, []vigil.Scope{vigil.ScopeState}, 4000)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.db.SearchVoters(t.Context(), q, baker, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if r.Voter.County != "BAKER" {
				t.Fatalf("%q: %s of %s found in BAKER", q, r.Voter.ID, r.Voter.County)
			}
		}
		var want []string
		for _, r := range all {
			if r.Voter.County == "BAKER" && len(want) < len(got) {
				want = append(want, string(r.Voter.ID))
			}
		}
		if len(got) > 0 && len(want) > 0 && string(got[0].Voter.ID) != want[0] {
			t.Errorf("%q: BAKER's best %s, the state search's best in BAKER %s", q, got[0].Voter.ID, want[0])
		}
		if v.County == "BAKER" && (len(got) == 0 || got[0].Score < got[len(got)-1].Score) {
			t.Errorf("%q: the BAKER voter searched for: %+v", q, got)
		}
	}
}
