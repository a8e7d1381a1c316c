package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

// VoterOptions size the voter benchmark.
type VoterOptions struct {
	Dir        string // an empty scratch directory
	Rows       int    // rows of the generated NC voter file imported
	Searches   int    // typo searches timed
	Duplicates int    // voters in the generated roll for duplicate finding
	SQLite3    string // the sqlite3 shell for the anchor ("" finds it on PATH; missing: no anchor)
	CPUProfile string // if set, a CPU profile of the import is written there
	MemProfile string // if set, a heap profile taken after the import is written there
}

// VoterResult is what RunVoters measured.
type VoterResult struct {
	Rows           int
	FileBytes      int64
	ImportTime     time.Duration
	ImportRowsPerS float64
	ImportCPU      time.Duration // user+system CPU of the whole process during the import
	// The import's phases: the checking pass, the appending pass (the
	// projection applying behind it), and the rest (the projection catching
	// up, and the voter.imported event building the search keys and indexes).
	ImportCheck, ImportAppend, ImportFinish time.Duration
	Events                                  int
	PeakRSS                                 int64 // bytes, the whole process (including the embedded NATS server)
	GoHeapSys                               int64 // bytes the Go heap took from the OS (SQLite's memory is outside it)
	AnchorRowsPerS                          float64
	AnchorNote                              string
	SearchP50                               time.Duration
	SearchP99                               time.Duration
	SearchFound                             float64 // share of typo searches whose voter was in the top 10
	SearchNamed                             float64 // share whose first hit has the voter's name (several voters may share it)
	DupVoters                               int
	DupTime                                 time.Duration
	DupAccuracy                             voter.Accuracy
	VerifyTime                              time.Duration
}

// RunVoters generates a North Carolina voter file (the state's real 71
// column layout), imports it end to end (parse, fingerprint, seal, events in
// the log, projections with search keys), times the sqlite3 shell's .import
// of the same file plus one index as the anchor, times typo searches, and
// scores duplicate finding on a generated roll with injected duplicates.
func RunVoters(ctx context.Context, o VoterOptions, progress io.Writer) (VoterResult, error) {
	res := VoterResult{Rows: o.Rows}
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	file := filepath.Join(o.Dir, "ncvoter.txt")
	say("generating %d rows in the NC layout…", o.Rows)
	sample, err := writeNCFile(file, o.Rows)
	if err != nil {
		return res, err
	}
	if st, err := os.Stat(file); err == nil {
		res.FileBytes = st.Size()
	}

	res.AnchorRowsPerS, res.AnchorNote = sqliteAnchor(ctx, o, file, o.Rows)
	say("anchor: %.0f rows/s %s", res.AnchorRowsPerS, res.AnchorNote)

	dir := filepath.Join(o.Dir, "node")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "bench-voters"}); err != nil {
		return res, err
	}
	n, err := node.Open(ctx, node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		return res, err
	}
	defer n.Close()
	svc := sqlite.NewVoterService(n.DB, n, n.Keys, sqlite.FingerprintKey(n.Keys.StoreKey), n.Now)
	svc.Bulk, svc.WaitApplied = n.Log, n.WaitApplied
	op := vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	say("importing…")
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile() // also on errors; stopping twice is harmless
	}
	cpu0 := cpuTime()
	start := time.Now()
	var pass2, pass2End time.Time
	ir, err := svc.Import(ctx, op, sqlite.ImportOptions{Layout: "nc", File: "ncvoter.txt",
		Open: func() (io.ReadCloser, error) { return os.Open(file) },
		Progress: func(pass, rows int) {
			if pass == 2 {
				if pass2.IsZero() {
					pass2 = time.Now()
				}
				pass2End = time.Now()
			}
		}})
	if err != nil {
		return res, err
	}
	res.ImportTime = time.Since(start)
	if !pass2.IsZero() {
		res.ImportCheck, res.ImportAppend, res.ImportFinish = pass2.Sub(start), pass2End.Sub(pass2), time.Since(pass2End)
	}
	res.ImportCPU = cpuTime() - cpu0
	if o.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	res.ImportRowsPerS = float64(ir.Added) / res.ImportTime.Seconds()
	res.Events = ir.Events
	res.PeakRSS = peakRSS()
	if o.MemProfile != "" {
		f, err := os.Create(o.MemProfile)
		if err != nil {
			return res, err
		}
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
		if err != nil {
			return res, err
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GoHeapSys = int64(ms.HeapSys)
	say("imported %d rows in %.1f s", ir.Added, res.ImportTime.Seconds())
	// Searches are timed in the steady state: the import's last
	// transaction may have left a large write-ahead log behind.
	if _, err := n.DB.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return res, err
	}

	if err := timeSearches(ctx, n.DB, sample, o.Searches, &res); err != nil {
		return res, err
	}
	say("search p99 %.2f ms", float64(res.SearchP99.Microseconds())/1000)

	if o.Duplicates > 0 {
		say("duplicates over %d voters…", o.Duplicates)
		roll := voter.GenerateRoll(11, o.Duplicates, 0.02)
		t0 := time.Now()
		pairs := voter.FindDuplicates(roll.Voters, voter.DuplicateOptions{})
		res.DupTime = time.Since(t0)
		res.DupVoters = len(roll.Voters)
		res.DupAccuracy = voter.Evaluate(pairs, roll.Duplicates)
	}
	return res, nil
}

// timeSearches times o.Searches typo searches (a voter of sample with one
// letter of the last name changed) and records p50, p99 and recall in res.
func timeSearches(ctx context.Context, db *sqlite.DB, sample []vigil.Voter, searches int, res *VoterResult) error {
	// Typo searches: a voter of the file, one letter of the last name changed.
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	found, named := 0, 0
	for i := 0; i < searches; i++ {
		v := sample[rng.IntN(len(sample))]
		last := []byte(v.Name.Last)
		if len(last) > 3 {
			last[1+rng.IntN(len(last)-2)] = byte('A' + rng.IntN(26))
		}
		q := v.Name.First + " " + string(last)
		t0 := time.Now()
		rs, err := db.SearchVoters(ctx, q, []vigil.Scope{vigil.ScopeState}, 10)
		lat = append(lat, time.Since(t0))
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Voter.ID == v.ID {
				found++
				break
			}
		}
		if len(rs) > 0 && rs[0].Voter.Name.First == v.Name.First && rs[0].Voter.Name.Last == v.Name.Last {
			named++
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		res.SearchP50, res.SearchP99 = lat[len(lat)/2], lat[len(lat)*99/100]
		res.SearchFound = float64(found) / float64(len(lat))
		res.SearchNamed = float64(named) / float64(len(lat))
	}
	return nil
}

// SearchExisting opens the node a previous RunVoters left in o.Dir (run
// with --dir) and times the searches again, sampling voters from its roll:
// the search can be measured on a quiet machine without importing again.
func SearchExisting(ctx context.Context, o VoterOptions) (VoterResult, error) {
	var res VoterResult
	// The projection only: a node opened here would spend its first
	// minutes re-verifying the whole log in the background, which a
	// steady-state search never competes with.
	db, err := sqlite.Open(ctx, filepath.Join(o.Dir, "node", "vigil.db"))
	if err != nil {
		return res, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM voters`).Scan(&res.Rows); err != nil {
		return res, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, first_name, last_name FROM voters WHERE substr(id, -2) = '97' LIMIT 20000`)
	if err != nil {
		return res, err
	}
	var sample []vigil.Voter
	for rows.Next() {
		var v vigil.Voter
		if err := rows.Scan(&v.ID, &v.Name.First, &v.Name.Last); err != nil {
			rows.Close()
			return res, err
		}
		sample = append(sample, v)
	}
	rows.Close()
	if len(sample) == 0 {
		return res, fmt.Errorf("no voters in %s to search for", o.Dir)
	}
	return res, timeSearches(ctx, db, sample, o.Searches, &res)
}

// writeNCFile writes rows voters in the NC layout (tab-delimited, header,
// all 71 columns), generating them in chunks so memory stays small, and
// returns a sample of the voters written.
func writeNCFile(path string, rows int) ([]vigil.Voter, error) {
	l, err := voter.LayoutByName("nc")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	voter.WriteHeader(w, l)
	var sample []vigil.Voter
	const chunk = 100_000
	for done := 0; done < rows; done += chunk {
		roll := voter.GenerateRoll(int64(done/chunk+1), min(chunk, rows-done), 0)
		for i := range roll.Voters {
			v := &roll.Voters[i]
			v.ID = vigil.VoterID("BN" + strconv.Itoa(done+i+1))
			voter.WriteRow(w, l, v)
			if i%1000 == 0 {
				sample = append(sample, *v)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return sample, f.Close()
}

// sqliteAnchor times the sqlite3 shell importing the same file into a
// table and indexing the name, the way a minimal loader would.
func sqliteAnchor(ctx context.Context, o VoterOptions, file string, rows int) (float64, string) {
	bin := o.SQLite3
	if bin == "" {
		p, err := exec.LookPath("sqlite3")
		if err != nil {
			return 0, "(no sqlite3 shell on PATH: apt-get install sqlite3 for the anchor)"
		}
		bin = p
	}
	db := filepath.Join(o.Dir, "anchor.db")
	script := fmt.Sprintf(".mode tabs\n.import %s voters\nCREATE INDEX voters_name ON voters(last_name, first_name);\n", file)
	cmd := exec.CommandContext(ctx, bin, db)
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(start)
	os.Remove(db)
	if err != nil {
		return 0, fmt.Sprintf("(sqlite3 failed: %v: %s)", err, out)
	}
	return float64(rows) / el.Seconds(), "(sqlite3 .import + one index, " + runtime.GOOS + ")"
}

// peakRSS returns the process's peak resident set (Linux), or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
