package tabulate_test

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime"
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
		if err := tabulate.WriteDominionCVRs(f, benchCVRs); err != nil {
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
