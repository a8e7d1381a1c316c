package bench

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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
	// NodeRatio is (NodeImportTime + NodeTallyTime) over the time
	// encoding/csv needs to read a file of NodeCVRs ballots (CSVTime scaled
	// by NodeCVRs / CVRs).
	NodeRatio float64
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
	if err := writeFile(file, func(w io.Writer) error { return tabulate.WriteDominionCVRs(w, o.CVRs) }); err != nil {
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
	if err := writeFile(small, func(w io.Writer) error { return tabulate.WriteDominionCVRs(w, o.NodeCVR) }); err != nil {
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
	if csv := res.CSVTime.Seconds() * float64(o.NodeCVR) / float64(o.CVRs); csv > 0 {
		res.NodeRatio = (res.NodeImportTime + res.NodeTallyTime).Seconds() / csv
	}
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
