package tabulate_test

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

// The speed target: import and tally 1,000,000 CVRs with 10 contests
// (Dominion CSV) in under 20 s and 1 GiB. The file is generated once per
// test binary run, deterministically, in the Dominion shape.
const benchCVRs = 1_000_000

var (
	benchOnce sync.Once
	benchDir  string
	benchFile string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchContests: name, vote for, choices. Contests 8 and 9 are only on
// ballot styles 2 and 3, so some ballots lack them.
var benchContests = []struct {
	name    string
	voteFor int
	choices []string
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

// writeBenchCVRs writes n ballots in Dominion's CSV export shape.
func writeBenchCVRs(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	meta := []string{"CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId", "CountingGroup", "PrecinctPortion", "BallotType"}
	cw := csv.NewWriter(bw)
	var row1, row2, row3, row4 []string
	row1 = append(row1, "Benchmark General Election", "5.10.50.85")
	for range meta {
		row2, row3 = append(row2, ""), append(row3, "")
	}
	row4 = append(row4, meta...)
	for _, c := range benchContests {
		for _, ch := range c.choices {
			row2 = append(row2, fmt.Sprintf("%s (Vote For=%d)", c.name, c.voteFor))
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
		for k, c := range benchContests {
			if k >= 8 && style < 2 {
				for range c.choices {
					rec = append(rec, "")
				}
				continue
			}
			// Mostly valid votes, a few undervotes and overvotes.
			marks := c.voteFor
			switch x := rng.IntN(100); {
			case x < 4:
				marks = 0
			case x < 5:
				marks = len(c.choices)
			}
			chosen := rng.Perm(len(c.choices))[:marks]
			start := len(rec)
			for range c.choices {
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

func benchPath(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "vigil-tabulate-bench-")
		if benchErr != nil {
			return
		}
		benchFile = filepath.Join(benchDir, "CVR_Export_1M.csv")
		f, err := os.Create(benchFile)
		if err != nil {
			benchErr = err
			return
		}
		if err := writeBenchCVRs(f, benchCVRs); err != nil {
			benchErr = err
		}
		if err := f.Close(); err != nil && benchErr == nil {
			benchErr = err
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFile
}

func benchOpen(b *testing.B, path string) (*os.File, int64) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	return f, st.Size()
}

// BenchmarkParseTally1M imports and tallies one million CVRs, grouped by
// precinct as a results night would.
func BenchmarkParseTally1M(b *testing.B) {
	path := benchPath(b)
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		f, size := benchOpen(b, path)
		b.SetBytes(size)
		r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
		t := tabulate.NewTally(r.Election(), tabulate.ByPrecinct)
		n := 0
		err := r.Read([]tabulate.File{{Name: "CVR_Export_1M.csv", Reader: f}}, func(c *vigil.CastVoteRecord) error {
			n++
			return t.Add(c)
		})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if n != benchCVRs {
			b.Fatalf("read %d CVRs", n)
		}
		res := t.Results()
		if res.Ballots != benchCVRs {
			b.Fatalf("tallied %d", res.Ballots)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.Sys)
	}
	b.ReportMetric(float64(benchCVRs)*float64(b.N)/b.Elapsed().Seconds(), "cvrs/s")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-sys")
}

// BenchmarkEncodingCSV1M reads the same file with encoding/csv alone, the
// floor that BenchmarkParseTally1M is compared against.
func BenchmarkEncodingCSV1M(b *testing.B) {
	path := benchPath(b)
	b.ResetTimer()
	for b.Loop() {
		f, size := benchOpen(b, path)
		b.SetBytes(size)
		r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if n != benchCVRs+4 {
			b.Fatalf("read %d records", n)
		}
	}
	b.ReportMetric(float64(benchCVRs)*float64(b.N)/b.Elapsed().Seconds(), "cvrs/s")
}
