package bench

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

// TallyOptions size the tabulation benchmark.
type TallyOptions struct {
	Dir     string // an empty scratch directory
	CVRs    int    // ballots in the generated Dominion CSV export
	NodeCVR int    // ballots imported through a node (log + projections); 0 skips that phase
}

// TallyResult is what RunTally measured.
type TallyResult struct {
	CVRs      int
	FileBytes int64
	CSVTime   time.Duration // encoding/csv alone reading the file: the floor
	TallyTime time.Duration // tabulate: parse, validate and tally (by precinct)
	PeakHeap  uint64        // Go heap in use, sampled, during the tally
	PeakRSS   int64         // the whole process after the tally phase
	Ratio     float64       // TallyTime / CSVTime

	NodeCVRs       int
	NodeImportTime time.Duration // vigil cvrs import on a node: two passes, events, projections
	NodeTallyTime  time.Duration // tally from the projections
	NodePeakRSS    int64
}

// RunTally generates a Dominion CSV export of o.CVRs ballots with ten
// contests, times encoding/csv reading it (the floor), then tabulate's
// parse-and-tally of the same file, and, with o.NodeCVR > 0, the import of
// that many ballots through a node and the tally from its projections.
func RunTally(ctx context.Context, o TallyOptions, progress io.Writer) (TallyResult, error) {
	res := TallyResult{CVRs: o.CVRs}
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	file := filepath.Join(o.Dir, "CVR_Export.csv")
	say("generating %d CVRs in Dominion's CSV shape…", o.CVRs)
	if err := writeFile(file, func(w io.Writer) error { return WriteDominionCVRs(w, o.CVRs) }); err != nil {
		return res, err
	}
	if st, err := os.Stat(file); err == nil {
		res.FileBytes = st.Size()
	}

	start := time.Now()
	rows, err := csvRows(file)
	if err != nil {
		return res, err
	}
	res.CSVTime = time.Since(start)
	say("encoding/csv: %d records in %.2f s", rows, res.CSVTime.Seconds())

	runtime.GC()
	stop := sampleHeap()
	start = time.Now()
	f, err := os.Open(file)
	if err != nil {
		return res, err
	}
	r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
	t := tabulate.NewTally(r.Election(), tabulate.ByPrecinct)
	err = r.Read([]tabulate.File{{Name: filepath.Base(file), Reader: f}}, t.Add)
	f.Close()
	if err != nil {
		stop()
		return res, err
	}
	out := t.Results()
	res.TallyTime = time.Since(start)
	res.PeakHeap = stop()
	res.PeakRSS = peakRSS()
	res.Ratio = res.TallyTime.Seconds() / res.CSVTime.Seconds()
	if out.Ballots != int64(o.CVRs) {
		return res, fmt.Errorf("bench tally: counted %d ballots, want %d", out.Ballots, o.CVRs)
	}
	say("tabulate: %d CVRs in %.2f s", out.Ballots, res.TallyTime.Seconds())

	if o.NodeCVR <= 0 {
		return res, nil
	}
	res.NodeCVRs = o.NodeCVR
	small := filepath.Join(o.Dir, "CVR_Export_node.csv")
	if err := writeFile(small, func(w io.Writer) error { return WriteDominionCVRs(w, o.NodeCVR) }); err != nil {
		return res, err
	}
	dir := filepath.Join(o.Dir, "node")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "bench-tally"}); err != nil {
		return res, err
	}
	n, err := node.Open(ctx, node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		return res, err
	}
	defer n.Close()
	svc := sqlite.NewTabulation(n.DB, n, n.Now)
	svc.Bulk, svc.WaitApplied = n.Log, n.WaitApplied
	actor := vigil.Actor{Name: "bench", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	say("importing %d CVRs through the node…", o.NodeCVR)
	start = time.Now()
	imp, err := svc.ImportCVRs(ctx, actor, sqlite.CVRImport{Format: tabulate.Dominion, Names: []string{filepath.Base(small)},
		Open: func() ([]tabulate.File, func(), error) {
			f, err := os.Open(small)
			if err != nil {
				return nil, nil, err
			}
			return []tabulate.File{{Name: filepath.Base(small), Reader: f}}, func() { f.Close() }, nil
		}})
	if err != nil {
		return res, err
	}
	res.NodeImportTime = time.Since(start)
	say("node import: %d CVRs in %d entries, %.1f s", imp.Records, imp.Batches, res.NodeImportTime.Seconds())
	start = time.Now()
	nres, _, err := svc.Tally(ctx, tabulate.ByPrecinct)
	if err != nil {
		return res, err
	}
	res.NodeTallyTime = time.Since(start)
	res.NodePeakRSS = peakRSS()
	if nres.Ballots != int64(o.NodeCVR) {
		return res, fmt.Errorf("bench tally: node counted %d ballots, want %d", nres.Ballots, o.NodeCVR)
	}
	return res, nil
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// csvRows reads a file with encoding/csv alone, as fast as it goes.
func csvRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// sampleHeap samples the Go heap in use every 20 ms until the returned
// function is called, which returns the peak.
func sampleHeap() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	read := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(stopped)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				read()
			}
		}
	}()
	return func() uint64 {
		read()
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// DominionContests are the ten contests of the generated export: name,
// vote for, choices. Contests 9 and 10 are only on ballot styles 2 and 3,
// so some ballots lack them.
var DominionContests = []struct {
	Name    string
	VoteFor int
	Choices []string
}{
	{"President", 1, []string{"Ada Lovelace", "Grace Hopper", "Write-in"}},
	{"Governor", 1, []string{"Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Write-in"}},
	{"Proposition 1", 1, []string{"Yes", "No"}},
	{"City Council", 2, []string{"Ken Thompson", "Dennis Ritchie", "Rob Pike", "Robert Griesemer", "Write-in"}},
	{"Sheriff", 1, []string{"Donald Knuth", "Leslie Lamport", "Write-in"}},
	{"Proposition 2", 1, []string{"Yes", "No"}},
	{"School Board", 3, []string{"Frances Allen", "John Backus", "Niklaus Wirth", "Tony Hoare"}},
	{"Treasurer", 1, []string{"Radia Perlman", "Vint Cerf", "Write-in"}},
	{"Water District", 1, []string{"Yes", "No"}},
	{"Judge", 1, []string{"Margaret Hamilton", "Hedy Lamarr", "Katherine Johnson", "Dorothy Vaughan", "Mary Jackson", "Write-in"}},
}

// WriteDominionCVRs writes n ballots in Dominion's CSV export shape (four
// header rows), deterministically: 10,000 ballots per tabulator, batches of
// 200, 137 precincts, mostly valid votes with a few undervotes and
// overvotes.
func WriteDominionCVRs(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	meta := []string{"CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId", "CountingGroup", "PrecinctPortion", "BallotType"}
	cw := csv.NewWriter(bw)
	var row1, row2, row3, row4 []string
	row1 = append(row1, "Benchmark General Election", "5.10.50.85")
	for range meta {
		row2, row3 = append(row2, ""), append(row3, "")
	}
	row4 = append(row4, meta...)
	for _, c := range DominionContests {
		for _, ch := range c.Choices {
			row2 = append(row2, fmt.Sprintf("%s (Vote For=%d)", c.Name, c.VoteFor))
			row3 = append(row3, ch)
			row4 = append(row4, "NP")
		}
	}
	for len(row1) < len(row2) {
		row1 = append(row1, "")
	}
	for _, r := range [][]string{row1, row2, row3, row4} {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(2024, 11))
	rec := make([]string, 0, len(row2))
	for i := range n {
		tab, batch, pos := 1+i/10_000, 1+(i/200)%50, 1+i%200
		style := rng.IntN(4)
		rec = append(rec[:0], strconv.Itoa(i+1), strconv.Itoa(tab), strconv.Itoa(batch), strconv.Itoa(pos),
			fmt.Sprintf("%d-%d-%d", tab, batch, pos), [2]string{"Election Day", "Mail"}[rng.IntN(2)],
			"Precinct "+strconv.Itoa(1+i%137), "Style "+strconv.Itoa(style))
		for k, c := range DominionContests {
			if k >= 8 && style < 2 {
				for range c.Choices {
					rec = append(rec, "")
				}
				continue
			}
			marks := c.VoteFor
			switch x := rng.IntN(100); {
			case x < 4:
				marks = 0
			case x < 5:
				marks = len(c.Choices)
			}
			chosen := rng.Perm(len(c.Choices))[:marks]
			start := len(rec)
			for range c.Choices {
				rec = append(rec, "0")
			}
			for _, j := range chosen {
				rec[start+j] = "1"
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
