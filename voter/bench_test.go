package voter_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// MustNCFile writes voters as a North Carolina ncvoter file: tab
// delimited, header, every one of the 71 documented columns.
func MustNCFile(t testing.TB, voters []vigil.Voter) []byte {
	t.Helper()
	l, err := voter.LayoutByName("nc")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	voter.WriteHeader(&b, l)
	for i := range voters {
		voter.WriteRow(&b, l, &voters[i])
	}
	return b.Bytes()
}

func TestGeneratedNCFileReadsBack(t *testing.T) {
	roll := voter.GenerateRoll(2, 3000, 0)
	recs, rep := ReadAll(t, "nc", MustNCFile(t, roll.Voters), voter.Options{})
	if rep.Rejected != 0 || len(recs) != 3000 {
		t.Fatalf("%d records, %d rejected: %v", len(recs), rep.Rejected, head(rep.Rejections, 3))
	}
	v, want := recs[17].Voter, roll.Voters[17]
	if v.ID != want.ID || v.Name != want.Name || v.Residence != want.Residence || v.BirthDate.Year != want.BirthDate.Year {
		t.Fatalf("got %+v\nwant %+v", v, want)
	}
}

// BenchmarkImportNC reads a 200,000-row NC file (71 columns, ~100 MB per
// million rows) through the whole Reader: split, decode, map, validate,
// fingerprint. It reports rows per second and heap bytes per row.
func BenchmarkImportNC(b *testing.B) {
	roll := voter.GenerateRoll(3, 200_000, 0)
	data := MustNCFile(b, roll.Voters)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		r, err := voter.NewReader("nc", bytes.NewReader(data), voter.Options{FingerprintKey: []byte("k")})
		if err != nil {
			b.Fatal(err)
		}
		for rec, err := range r.All() {
			if err != nil || !rec.OK() {
				b.Fatal(err, rec.Rejections)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImportMemory streams 1,000,000 rows from a generator that never
// holds the file, and reports the peak heap in use.
func BenchmarkImportMemory(b *testing.B) {
	roll := voter.GenerateRoll(4, 20_000, 0)
	chunk := MustNCFile(b, roll.Voters)
	header, body, _ := bytes.Cut(chunk, []byte("\r\n"))
	for i := 0; i < b.N; i++ {
		src := &repeatReader{head: append(append([]byte{}, header...), '\r', '\n'), body: body, times: 50}
		r, err := voter.NewReader("nc", src, voter.Options{})
		if err != nil {
			b.Fatal(err)
		}
		var peak uint64
		n := 0
		for rec, err := range r.All() {
			if err != nil || !rec.OK() {
				b.Fatal(err)
			}
			n++
			if n%100_000 == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(n), "rows")
	}
}

type repeatReader struct {
	head, body []byte
	times, pos int
	inBody     bool
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if !r.inBody {
		n := copy(p, r.head[r.pos:])
		r.pos += n
		if r.pos == len(r.head) {
			r.inBody, r.pos = true, 0
		}
		return n, nil
	}
	if r.times == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.body[r.pos:])
	r.pos += n
	if r.pos == len(r.body) {
		r.pos = 0
		r.times--
	}
	return n, nil
}
