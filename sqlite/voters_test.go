package sqlite_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

const sampleDir = "../../shared/data/voterfiles/national-voter-file-test-data"

// memLog is a log in memory that applies each entry to a projection at
// once, as node.Node does.
type memLog struct {
	mu      sync.Mutex
	t       testing.TB
	proj    *sqlite.Projector
	entries []sqlite.RawEntry
}

func (l *memLog) Append(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range events {
		if err := ev.Validate(); err != nil {
			return 0, err
		}
	}
	data, err := vigil.MarshalEntry(events)
	if err != nil {
		return 0, err
	}
	e := sqlite.RawEntry{Seq: uint64(len(l.entries) + 1), Data: data}
	if _, err := l.proj.Apply(ctx, []sqlite.RawEntry{e}); err != nil {
		return 0, err
	}
	l.entries = append(l.entries, e)
	return e.Seq, nil
}

// testSealer "seals" reversibly and visibly, so tests can check that no
// clear secret reaches an event.
type testSealer struct{}

func (testSealer) Seal(p []byte) string {
	return "sealed:" + base64.StdEncoding.EncodeToString(append([]byte("x"), p...))
}
func (testSealer) Open(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "sealed:"))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("bad")
	}
	return b[1:], nil
}

func MustOpenDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type voterEnv struct {
	db  *sqlite.DB
	log *memLog
	svc *sqlite.VoterService
}

func MustVoterService(t testing.TB) *voterEnv {
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	return &voterEnv{db: db, log: log, svc: sqlite.NewVoterService(db, log, testSealer{}, sqlite.FingerprintKey("test"), now)}
}

var registrar = vigil.Actor{Name: "rita", Role: vigil.RoleRegistrar, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}

func sampleVoter() vigil.Voter {
	return vigil.Voter{ID: "AD1", County: "ADAMS", Precinct: "PCT-001",
		Name:      vigil.Name{First: "WILLIAM", Middle: "H", Last: "SMITH"},
		BirthDate: vigil.Date{Year: 1970, Month: 2, Day: 3}, Gender: "M",
		Residence: vigil.Address{Line1: "12 N MAIN ST", City: "BRIGHTON", State: "CO", ZIP: "80601"},
		Party:     "DEM", Status: vigil.VoterStatus{Code: vigil.StatusActive},
		DriversLicense: "CO123456789", SSN4: "1234"}
}

func (e *voterEnv) eventsText() string {
	var b bytes.Buffer
	for _, en := range e.log.entries {
		b.Write(en.Data)
		b.WriteByte('\n')
	}
	return b.String()
}

// mustRebuildMatches replays the log into a fresh database and compares
// every table, as vigil verify does.
func (e *voterEnv) mustRebuildMatches(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	built := MustOpenDB(t)
	if _, err := sqlite.NewProjector(built, "EVENTS").Apply(ctx, e.log.entries); err != nil {
		t.Fatal(err)
	}
	lt, _ := e.db.Snapshot(ctx)
	defer lt.Rollback()
	bt, _ := built.Snapshot(ctx)
	defer bt.Rollback()
	diffs, err := sqlite.Compare(ctx, lt, bt)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
}

func TestVoterLifecycle(t *testing.T) {
	ctx := context.Background()
	e := MustVoterService(t)
	v := sampleVoter()
	t.Run("a registrar registers a voter", func(t *testing.T) {
		if err := e.svc.Register(ctx, registrar, v, "walk-in form"); err != nil {
			t.Fatal(err)
		}
		got, err := e.db.Voter(ctx, "AD1")
		if err != nil || got.Name.Last != "SMITH" || got.SSN4Sealed == "" || got.Fingerprint == "" {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("the same ID cannot be registered twice", func(t *testing.T) {
		if err := e.svc.Register(ctx, registrar, v, ""); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("identifiers never appear in clear in the log", func(t *testing.T) {
		txt := e.eventsText()
		if strings.Contains(txt, "CO123456789") || strings.Contains(txt, `"1234"`) || strings.Contains(txt, "[redacted]") {
			t.Fatalf("a secret leaked into the log: %s", txt)
		}
	})
	t.Run("an address change is recorded with its reason", func(t *testing.T) {
		v2 := v
		v2.DriversLicense, v2.SSN4 = "", "" // left empty: kept
		v2.Residence.Line1 = "400 ELM ST"
		if err := e.svc.Change(ctx, registrar, v2, vigil.ReasonAddressChange, "moved within the county"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.db.Voter(ctx, "AD1")
		if got.Residence.Line1 != "400 ELM ST" || got.SSN4Sealed == "" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("a change that changes nothing is refused", func(t *testing.T) {
		v2 := v
		v2.Residence.Line1 = "400 ELM ST"
		if err := e.svc.Change(ctx, registrar, v2, vigil.ReasonCorrection, ""); vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a status change needs a known reason", func(t *testing.T) {
		v2 := v
		v2.Residence.Line1 = "400 ELM ST"
		v2.Status = vigil.VoterStatus{Code: vigil.StatusCancelled, Reason: vigil.ReasonDeceased}
		if err := e.svc.Change(ctx, registrar, v2, "because", ""); vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("got %v", err)
		}
		if err := e.svc.Change(ctx, registrar, v2, vigil.ReasonDeceased, "death record 2026-17"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the history says who, when, why and what", func(t *testing.T) {
		h, err := e.db.VoterHistory(ctx, "AD1")
		if err != nil || len(h) != 3 {
			t.Fatalf("%+v %v", h, err)
		}
		if h[0].Reason != "new-registration" || h[1].Reason != "address-change" || h[1].Changes != "address" ||
			h[2].Reason != "deceased" || h[2].Changes != "status" || h[1].Actor != "rita" || h[1].Detail != "moved within the county" {
			t.Fatalf("%+v", h)
		}
	})
	t.Run("merging needs a reason and cancels the duplicate", func(t *testing.T) {
		d := sampleVoter()
		d.ID, d.Name.First = "AD2", "BILL"
		if err := e.svc.Register(ctx, registrar, d, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Merge(ctx, registrar, vigil.VoterMerge{Keep: "AD1", Drop: "AD2"}); vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("got %v", err)
		}
		if err := e.svc.Merge(ctx, registrar, vigil.VoterMerge{Keep: "AD1", Drop: "AD2", Detail: "same person, nickname"}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.db.Voter(ctx, "AD2")
		if got.Status.Code != vigil.StatusCancelled || got.Status.Reason != vigil.ReasonDuplicate || got.MergedInto != "AD1" {
			t.Fatalf("%+v", got)
		}
		if err := e.svc.Merge(ctx, registrar, vigil.VoterMerge{Keep: "AD1", Drop: "AD2", Detail: "again"}); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}

func openSample(name string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(filepath.Join(sampleDir, name)) }
}

func openBytes(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func TestImportRealFiles(t *testing.T) {
	ctx := context.Background()
	for _, layout := range []string{"nc", "fl", "ny", "pa", "oh", "co", "wa", "mi", "ut", "vt", "de"} {
		t.Run("the "+layout+" sample imports, then imports again without events", func(t *testing.T) {
			e := MustVoterService(t)
			res, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: layout, File: layout + ".csv",
				Open: openSample(layout + ".csv"), MaxReject: 0.05})
			if err != nil {
				if res.Report != nil {
					t.Fatalf("%v; %+v", err, res.Report.Rejections)
				}
				t.Fatal(err)
			}
			if res.Added == 0 || res.Added+res.Report.Rejected != res.Rows {
				t.Fatalf("%+v", res.VoterImport)
			}
			before := len(e.log.entries)
			again, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: layout, File: layout + ".csv",
				Open: openSample(layout + ".csv"), MaxReject: 0.05})
			if err != nil {
				t.Fatal(err)
			}
			if again.Added != 0 || again.Changed != 0 || again.Unchanged != res.Added || len(e.log.entries) != before+1 {
				t.Fatalf("second import: %+v, %d new entries", again.VoterImport, len(e.log.entries)-before)
			}
		})
	}
}

func TestImportChangesAndRejections(t *testing.T) {
	ctx := context.Background()
	nc, err := os.ReadFile(filepath.Join(sampleDir, "nc.csv"))
	if err != nil {
		t.Fatal(err)
	}
	e := MustVoterService(t)
	first, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: "nc", File: "nc.csv", Open: openBytes(nc)})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(nc), "\n")
	header := strings.Split(strings.TrimRight(lines[0], "\r"), "\t")
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	setCell := func(line int, name, value string) {
		cells := strings.Split(lines[line], "\t")
		cells[col(name)] = value
		lines[line] = strings.Join(cells, "\t")
	}
	t.Run("a newer file yields exactly the changed records as change events", func(t *testing.T) {
		setCell(3, "res_street_address", "1 NEW ROAD")
		if party := strings.Split(lines[7], "\t")[col("party_cd")]; party == "REP" {
			setCell(7, "party_cd", "DEM")
		} else {
			setCell(7, "party_cd", "REP")
		}
		before := len(e.log.entries)
		res, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: "nc", File: "nc2.csv", Open: openBytes([]byte(strings.Join(lines, "\n")))})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 2 || res.Added != 0 || res.Unchanged != first.Added-2 {
			t.Fatalf("%+v", res.VoterImport)
		}
		entry, _ := vigil.UnmarshalEntry(e.log.entries[before].Data)
		if entry[0].Type != vigil.EventVoterChanged || !strings.Contains(string(entry[0].Payload), "1 NEW ROAD") {
			t.Fatalf("%s", e.log.entries[before].Data)
		}
	})
	t.Run("above the threshold nothing is applied and the report names line and field", func(t *testing.T) {
		for i := 10; i < 20; i++ {
			setCell(i, "ncid", "")
		}
		before := len(e.log.entries)
		res, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: "nc", File: "bad.csv", Open: openBytes([]byte(strings.Join(lines, "\n")))})
		if vigil.ErrorKind(err) != vigil.Invalid || len(e.log.entries) != before {
			t.Fatalf("%v, %d entries appended", err, len(e.log.entries)-before)
		}
		if len(res.Report.Rejections) == 0 || res.Report.Rejections[0].Line != 11 || res.Report.Rejections[0].File != "bad.csv" {
			t.Fatalf("%+v", res.Report.Rejections)
		}
	})
	t.Run("a voter ID repeated in the file is rejected on its second line", func(t *testing.T) {
		dup := lines[0] + "\n" + lines[1] + "\n" + lines[1] + "\n"
		res, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: "nc", File: "dup.csv", Open: openBytes([]byte(dup)), MaxReject: 0.6})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Rejected != 1 || res.Report.Rejections[0].Line != 3 || res.Report.Rejections[0].Field != "id" {
			t.Fatalf("%+v", res.Report)
		}
	})
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}

func TestSearchAndDuplicates(t *testing.T) {
	ctx := context.Background()
	e := MustVoterService(t)
	roll := voter.GenerateRoll(7, 3000, 0.03)
	var data bytes.Buffer
	nw, _ := voter.NewNISTWriter(&data, voter.FormatNISTJSON, voter.WriterOptions{})
	for i := range roll.Voters {
		roll.Voters[i].County = "ADAMS"
		nw.Write(&roll.Voters[i])
	}
	nw.Close()
	res, err := e.svc.Import(ctx, registrar, sqlite.ImportOptions{Layout: voter.FormatNISTJSON, File: "roll.json", Open: openBytes(data.Bytes())})
	if err != nil || res.Added != 3000 {
		t.Fatalf("%v %+v", err, res.VoterImport)
	}
	target := roll.Voters[100]
	state := []vigil.Scope{vigil.ScopeState}
	tests := []struct{ name, q string }{
		{"exact name", target.Name.First + " " + target.Name.Last},
		{"last name first", target.Name.Last + ", " + target.Name.First},
		{"a typo in the last name", target.Name.First + " " + typo(target.Name.Last)},
		{"voter ID", string(target.ID)},
		{"name and birth date", target.Name.Last + " " + target.BirthDate.String()},
	}
	for _, tt := range tests {
		t.Run("search finds a voter by "+tt.name, func(t *testing.T) {
			rs, err := e.db.SearchVoters(ctx, tt.q, state, 20)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.Voter.ID == target.ID {
					return
				}
			}
			t.Fatalf("%q: %s not among %d results", tt.q, target.ID, len(rs))
		})
	}
	t.Run("search finds a nickname", func(t *testing.T) {
		v := sampleVoter()
		v.ID = "NICK1"
		if err := e.svc.Register(ctx, registrar, v, ""); err != nil {
			t.Fatal(err)
		}
		rs, _ := e.db.SearchVoters(ctx, "bill smith", state, 5)
		for _, r := range rs {
			if r.Voter.ID == "NICK1" {
				return
			}
		}
		t.Fatalf("%+v", rs)
	})
	t.Run("search stays inside the caller's scopes", func(t *testing.T) {
		rs, _ := e.db.SearchVoters(ctx, string(target.ID), []vigil.Scope{vigil.CountyScope("BAKER")}, 5)
		if len(rs) != 0 {
			t.Fatalf("%+v", rs)
		}
	})
	t.Run("duplicates are found with precision and recall", func(t *testing.T) {
		pairs, err := e.svc.Duplicates(ctx, state, voter.DuplicateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		acc := voter.Evaluate(pairs, roll.Duplicates)
		if acc.Precision < 0.9 || acc.Recall < 0.85 {
			t.Fatalf("%v", acc)
		}
	})
	t.Run("exports write every voter in each format", func(t *testing.T) {
		for _, f := range sqlite.ExportFormats {
			var out bytes.Buffer
			n, err := e.svc.Export(ctx, registrar, f, vigil.CountyScope("ADAMS"), &out)
			if err != nil || n != 3001 {
				t.Fatalf("%s: %d %v", f, n, err)
			}
			if f != voter.FormatCSV {
				r, err := voter.NewReader(f, &out, voter.Options{})
				if err != nil {
					t.Fatal(err)
				}
				rows := 0
				for rec, err := range r.All() {
					if err != nil {
						t.Fatal(err)
					}
					if rec.OK() {
						rows++
					}
				}
				if rows != 3001 {
					t.Fatalf("%s: re-read %d", f, rows)
				}
			}
		}
	})
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}

func typo(s string) string {
	if len(s) < 4 {
		return s + "E"
	}
	b := []byte(s)
	b[len(b)-1] = 'Q'
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestImportKeysWaitForTheImportToFinish(t *testing.T) {
	ctx := context.Background()
	e := MustVoterService(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := sampleVoter()
	v.DriversLicense, v.SSN4 = "", ""
	batch := func(id string) vigil.Event {
		v.ID = vigil.VoterID(id)
		ev, _ := vigil.NewEvent(registrar, vigil.EventVoterAdded, "", now,
			vigil.VoterRecords{Reason: vigil.ReasonNew, Import: "imp-" + id, Records: []vigil.VoterRecord{{Voter: v}}})
		return ev
	}
	found := func(id string) bool {
		rs, _ := e.db.SearchVoters(ctx, "william smith", []vigil.Scope{vigil.ScopeState}, 10)
		for _, r := range rs {
			if string(r.Voter.ID) == id {
				return true
			}
		}
		return false
	}
	e.log.Append(ctx, []vigil.Event{batch("U1")}, vigil.AppendOptions{})
	if found("U1") {
		t.Fatal("a voter of an unfinished import is searchable")
	}
	e.log.Append(ctx, []vigil.Event{batch("U2")}, vigil.AppendOptions{})
	done, _ := vigil.NewEvent(registrar, vigil.EventVoterImported, "imp-U2", now, vigil.VoterImport{ID: "imp-U2", File: "f"})
	e.log.Append(ctx, []vigil.Event{done}, vigil.AppendOptions{})
	if !found("U2") || !found("U1") {
		t.Fatal("a finished import's voters (and an earlier unfinished one's) are not searchable")
	}
	t.Run("a rebuild from the log gives the same tables", e.mustRebuildMatches)
}
