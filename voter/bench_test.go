package voter_test

import (
	"bytes"
	"fmt"
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
	for i, c := range l.Columns {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(c.Name)
	}
	b.WriteString("\r\n")
	district := func(v *vigil.Voter, typ vigil.DistrictType) string {
		for _, d := range v.Districts {
			if d.Type == typ {
				return d.Code
			}
		}
		return ""
	}
	for i := range voters {
		v := &voters[i]
		for j, c := range l.Columns {
			if j > 0 {
				b.WriteByte('\t')
			}
			var s string
			switch c.Field {
			case voter.FieldID:
				s = string(v.ID)
			case voter.FieldCounty:
				s = v.County
			case voter.FieldStatus:
				s = map[vigil.StatusCode]string{vigil.StatusActive: "A", vigil.StatusInactive: "I"}[v.Status.Code]
			case voter.FieldLast:
				s = v.Name.Last
			case voter.FieldFirst:
				s = v.Name.First
			case voter.FieldMiddle:
				s = v.Name.Middle
			case voter.FieldSuffix:
				s = v.Name.Suffix
			case voter.FieldResLine1:
				s = v.Residence.Line1
			case voter.FieldResCity:
				s = v.Residence.City
			case voter.FieldResState:
				s = v.Residence.State
			case voter.FieldResZIP:
				s = v.Residence.ZIP
			case voter.FieldParty:
				s = v.Party
			case voter.FieldGender:
				s = v.Gender
			case voter.FieldBirthYear:
				s = fmt.Sprint(v.BirthDate.Year)
			case voter.FieldRegistered:
				s = fmt.Sprintf("%02d/%02d/%04d", v.Registered.Month, v.Registered.Day, v.Registered.Year)
			case voter.FieldPrecinct:
				s = v.Precinct
			case "district.congressional":
				s = district(v, vigil.DistrictCongressional)
			case "district.state-house":
				s = district(v, vigil.DistrictStateHouse)
			case "district.state-senate":
				s = district(v, vigil.DistrictStateSenate)
			case voter.FieldIgnore:
				s = "X"
			}
			b.WriteString(s)
		}
		b.WriteString("\r\n")
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
