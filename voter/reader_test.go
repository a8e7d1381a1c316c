package voter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

const sampleDir = "../../shared/data/voterfiles/national-voter-file-test-data"

// MustReadSample returns the bytes of a national-voter-file sample.
func MustReadSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatalf("sample voter file missing (the tests read ../shared/data): %v", err)
	}
	return b
}

// ReadAll reads every row of data with the layout and returns the accepted
// records (copied) and the report.
func ReadAll(t testing.TB, layout string, data []byte, opts voter.Options) ([]voter.Record, *voter.Report) {
	t.Helper()
	r, err := voter.NewReader(layout, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", layout, err)
	}
	var out []voter.Record
	for rec, err := range r.All() {
		if err != nil {
			t.Fatalf("read %s: %v", layout, err)
		}
		if rec.OK() {
			c := *rec
			c.Rejections = nil
			out = append(out, c)
		}
	}
	return out, r.Report()
}

func TestReaderReadsEveryStateSample(t *testing.T) {
	tests := []struct {
		layout   string
		rows     int
		rejected int
		first    func(v vigil.Voter) string // "" when the first record is as expected
	}{
		{"nc", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "DU994065" && v.Name.Last == "LANDRY" && v.Name.First == "MASON" &&
				v.Residence.Line1 == "795 JOHNSON CLUB APT. 394" && v.Status.Code == vigil.StatusInactive &&
				v.Registered == vigil.Date{Year: 1977, Month: 2, Day: 26} && v.Precinct == "1/7")
		}},
		{"fl", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "8143586746" && v.Name.Last == "GROSS" && v.Name.Suffix == "MD" &&
				v.Status.Code == vigil.StatusInactive && v.Residence.ZIP == "32019" && v.Email == "WILCOXPAUL@PAGE.NET")
		}},
		{"ny", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "NY000000000516239749" && v.LocalID == "4690476" &&
				v.Residence.Line1 == "5500 N Julie Greens" && v.Residence.ZIP4 == "2560" &&
				v.BirthDate == vigil.Date{Year: 2000, Month: 5, Day: 24} && len(v.History) == 1)
		}},
		{"pa", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "441568" && v.Name.Prefix == "Mrs." && v.Party == "D" && v.Precinct == "804982" &&
				len(v.History) > 0 && v.History[0].Method != "")
		}},
		{"oh", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "OH0000241161" && v.BirthDate == vigil.Date{Year: 2008, Month: 6, Day: 22} &&
				v.Residence.Country == "" && len(v.History) == 1 && v.History[0].Name == "GENERAL")
		}},
		{"co", 1000, 0, func(v vigil.Voter) string { return expect(v.ID == "30762053" && v.BirthDate.YearOnly()) }},
		{"wa", 1000, 0, func(v vigil.Voter) string { return expect(v.ID == "WA0001" && v.Residence.Line1 == "80 Waywood Alley") }},
		{"mi", 100, 0, func(v vigil.Voter) string { return expect(v.ID == "5506443037202" && v.Registered.Year == 1981) }},
		{"ut", 100, 0, func(v vigil.Voter) string {
			return expect(v.ID == "85970" && v.Mailing.State == "KS" && len(v.History) > 0)
		}},
		{"vt", 100, 0, func(v vigil.Voter) string { return expect(v.ID == "000719889" && v.History[0].Election.Year == 2014) }},
		{"de", 100, 0, func(v vigil.Voter) string { return expect(v.ID == "9473764" && v.Registered.YearOnly()) }},
		// 40 NJ rows carry a Python list literal as their status: rejected, as they should be.
		{"nj", 100, 40, func(v vigil.Voter) string { return expect(v.ID == "430243410" && v.Status.Code == vigil.StatusActive) }},
		{"ok", 2, 0, func(v vigil.Voter) string { return expect(v.Name.Last == "TESTING") }},
	}
	for _, tt := range tests {
		t.Run(tt.layout+" sample reads with the expected rejections", func(t *testing.T) {
			recs, rep := ReadAll(t, tt.layout, MustReadSample(t, tt.layout+".csv"), voter.Options{File: tt.layout + ".csv"})
			if rep.Rows != tt.rows || rep.Rejected != tt.rejected || len(recs) != tt.rows-tt.rejected {
				t.Fatalf("rows %d rejected %d accepted %d; want %d, %d; first rejections %v",
					rep.Rows, rep.Rejected, len(recs), tt.rows, tt.rejected, head(rep.Rejections, 3))
			}
			if len(rep.UnknownColumns) != 0 {
				t.Errorf("unknown columns %v", rep.UnknownColumns)
			}
			if msg := tt.first(recs[0].Voter); msg != "" {
				b, _ := json.Marshal(recs[0].Voter)
				t.Errorf("first record not as expected: %s", b)
			}
			for _, r := range recs {
				if err := r.Voter.Validate(); err != nil {
					t.Fatalf("line %d: accepted record fails Validate: %v", r.Line, err)
				}
				if r.Fingerprint.IsZero() {
					t.Fatalf("line %d: no fingerprint", r.Line)
				}
			}
		})
	}
}

func expect(ok bool) string {
	if ok {
		return ""
	}
	return "mismatch"
}

func head[T any](s []T, n int) []T { return s[:min(n, len(s))] }

func TestRejectionsNameLineFieldAndReason(t *testing.T) {
	_, rep := ReadAll(t, "nj", MustReadSample(t, "nj.csv"), voter.Options{File: "nj.csv"})
	r := rep.Rejections[0]
	if r.File != "nj.csv" || r.Line < 1 || r.Field != "STATUS" || !strings.Contains(r.Reason, "unknown status code") {
		t.Fatalf("rejection %+v", r)
	}
	var csvOut bytes.Buffer
	if err := rep.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csvOut.String(), "file,line,field,reason\n") || strings.Count(csvOut.String(), "\n") != 41 {
		t.Fatalf("rejection report:\n%s", csvOut.String())
	}
	if err := rep.Check(voter.DefaultMaxRejectFraction); vigil.ErrorKind(err) != vigil.Invalid {
		t.Fatalf("40%% rejected passes the threshold: %v", err)
	}
	if err := rep.Check(0.5); err != nil {
		t.Fatalf("40%% rejected fails a 50%% threshold: %v", err)
	}
}

func TestHeaderAndDelimiterDetection(t *testing.T) {
	fl := MustReadSample(t, "fl.csv")
	oh := MustReadSample(t, "oh.csv")
	pipeFL := bytes.ReplaceAll(fl, []byte("\t"), []byte("|"))
	tabOH := bytes.ReplaceAll(oh, []byte(","), []byte("\t"))
	// An Ohio file whose header is in the documented order rather than the
	// sample's alphabetical one: columns are matched by name, so the
	// records are identical.
	lines := strings.Split(strings.TrimRight(string(oh), "\r\n"), "\r\n")
	reordered := reorderColumns(lines, ",")
	tests := []struct {
		name, layout string
		data         []byte
		opts         voter.Options
		like         []byte // the file whose records these must equal
	}{
		{"a pipe-delimited Florida file reads like the tab one", "fl", pipeFL, voter.Options{}, fl},
		{"a tab-delimited Ohio file reads like the comma one", "oh", tabOH, voter.Options{}, oh},
		{"reordered Ohio columns are matched by name", "oh", []byte(reordered), voter.Options{}, oh},
		{"a forced delimiter is used", "fl", pipeFL, voter.Options{Delimiter: '|'}, fl},
		{"an explicit no-header mode reads the first row as data", "fl", fl, voter.Options{Header: voter.HeaderAbsent}, fl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep := ReadAll(t, tt.layout, tt.data, tt.opts)
			want, _ := ReadAll(t, tt.layout, tt.like, voter.Options{})
			if rep.Rejected != 0 || len(got) != len(want) {
				t.Fatalf("got %d records (%d rejected), want %d: %v", len(got), rep.Rejected, len(want), head(rep.Rejections, 2))
			}
			for i := range got {
				if got[i].Fingerprint != want[i].Fingerprint {
					t.Fatalf("record %d differs:\n%+v\n%+v", i, got[i].Voter, want[i].Voter)
				}
			}
		})
	}
}

// reorderColumns moves the last column of every row to the front.
func reorderColumns(lines []string, sep string) string {
	var b strings.Builder
	for _, l := range lines {
		f := strings.Split(l, sep)
		f = append(f[len(f)-1:], f[:len(f)-1]...)
		b.WriteString(strings.Join(f, sep) + "\r\n")
	}
	return b.String()
}

func TestQuotingEncodingAndDamagedRows(t *testing.T) {
	const header = "SOS_VOTERID,LAST_NAME,FIRST_NAME,DATE_OF_BIRTH,VOTER_STATUS,RESIDENTIAL_ADDRESS1,RESIDENTIAL_ZIP\r\n"
	tests := []struct {
		name     string
		data     string
		opts     voter.Options
		want     []string // LAST|FIRST|LINE1 of accepted rows
		rejected []string // field of each rejection
	}{
		{"quoted fields may hold the delimiter, quotes and line breaks",
			header + `OH1,"O""BRIEN","MARY, ANN",1970-01-02,ACTIVE,"12 MAIN ST` + "\n" + `APT 4",44505` + "\r\n",
			voter.Options{}, []string{`O"BRIEN|MARY, ANN|12 MAIN ST APT 4`}, nil},
		{"Latin-1 bytes are decoded when a line is not UTF-8",
			header + "OH2,MU\xd1OZ,JOS\xc9,1970-01-02,ACTIVE,1 CALLE,44505\r\n",
			voter.Options{}, []string{"MUÑOZ|JOSÉ|1 CALLE"}, nil},
		{"UTF-8 stays UTF-8",
			header + "OH3,MUÑOZ,JOSÉ,1970-01-02,ACTIVE,1 CALLE,44505\r\n",
			voter.Options{}, []string{"MUÑOZ|JOSÉ|1 CALLE"}, nil},
		{"strict UTF-8 rejects a Latin-1 line",
			header + "OH2,MU\xd1OZ,JOSE,1970-01-02,ACTIVE,1 CALLE,44505\r\n",
			voter.Options{Encoding: voter.EncodingUTF8}, nil, []string{""}},
		{"a byte-order mark and blank lines are skipped",
			"\xef\xbb\xbf" + header + "\r\n\r\nOH4,DOE,JANE,1970-01-02,ACTIVE,1 A ST,44505\r\n\r\n",
			voter.Options{}, []string{"DOE|JANE|1 A ST"}, nil},
		{"a short row, a bad date, an unknown status and a missing ID are rejected",
			header + "OH5,DOE,JANE\r\nOH6,DOE,JOHN,1970-13-40,ACTIVE,1 A ST,44505\r\nOH7,DOE,JIM,1970-01-02,ZOMBIE,1 A ST,44505\r\n,DOE,JO,1970-01-02,ACTIVE,1 A ST,44505\r\nOH9,DOE,JAN,1970-01-02,ACTIVE,1 A ST,4450X\r\n",
			voter.Options{}, nil, []string{"", "DATE_OF_BIRTH", "VOTER_STATUS", "id", "RESIDENTIAL_ZIP"}},
		{"an unterminated quote rejects the rest of the file, not the reader",
			header + `OH10,"DOE,JANE,1970-01-02,ACTIVE,1 A ST,44505` + "\r\n",
			voter.Options{}, nil, []string{""}},
		{"an over-long row is rejected",
			header + "OH11,DOE," + strings.Repeat("X", 5000) + ",1970-01-02,ACTIVE,1 A ST,44505\r\nOH12,DOE,JANE,1970-01-02,ACTIVE,1 A ST,44505\r\n",
			voter.Options{MaxRecordBytes: 1000}, []string{"DOE|JANE|1 A ST"}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := voter.NewReader("oh", strings.NewReader(tt.data), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got, rejected []string
			for rec, err := range r.All() {
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range rec.Rejections {
					rejected = append(rejected, x.Field)
				}
				if rec.OK() {
					got = append(got, rec.Voter.Name.Last+"|"+rec.Voter.Name.First+"|"+rec.Voter.Residence.Line1)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(rejected) != fmt.Sprint(tt.rejected) {
				t.Fatalf("accepted %q rejected fields %q; want %q and %q", got, rejected, tt.want, tt.rejected)
			}
		})
	}
}

func TestUnusableFilesFailAtOnce(t *testing.T) {
	tests := []struct {
		name, layout, data string
	}{
		{"an unknown layout", "zz", "a,b\n"},
		{"an empty file", "oh", ""},
		{"a header without the ID column", "oh", "LAST_NAME,FIRST_NAME,DATE_OF_BIRTH\nA,B,1970-01-01\n"},
		{"csv without a mapping", voter.FormatCSV, "a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an invalid-input error", func(t *testing.T) {
			_, err := voter.NewReader(tt.layout, strings.NewReader(tt.data), voter.Options{})
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestImportIsIdempotentAndChangesAreExact(t *testing.T) {
	nc := MustReadSample(t, "nc.csv")
	first, _ := ReadAll(t, "nc", nc, voter.Options{FingerprintKey: []byte("k")})
	again, _ := ReadAll(t, "nc", nc, voter.Options{FingerprintKey: []byte("k")})
	for i := range first {
		if first[i].Fingerprint != again[i].Fingerprint {
			t.Fatalf("the same file twice gives different fingerprints at line %d", first[i].Line)
		}
	}
	// A newer file: one voter moved, one changed party.
	newer := strings.Replace(string(nc), "795 JOHNSON CLUB APT. 394", "12 NEW RD", 1)
	newer = strings.Replace(newer, "\tLIB\tDU994065", "\tDEM\tDU994065", 1)
	lines := strings.Split(newer, "\r\n")
	lines[5] = strings.Replace(lines[5], "\tREP\t", "\tUNA\t", 1)
	newer = strings.Join(lines, "\r\n")
	changed, _ := ReadAll(t, "nc", []byte(newer), voter.Options{FingerprintKey: []byte("k")})
	var diff []vigil.VoterID
	for i := range first {
		if first[i].Fingerprint != changed[i].Fingerprint {
			diff = append(diff, changed[i].Voter.ID)
		}
	}
	if len(diff) < 1 || len(diff) > 2 || diff[0] != "DU994065" {
		t.Fatalf("changed records %v; want DU994065 and at most one more", diff)
	}
	other, _ := ReadAll(t, "nc", nc, voter.Options{FingerprintKey: []byte("other key")})
	if other[0].Fingerprint == first[0].Fingerprint {
		t.Fatal("the fingerprint does not depend on the key")
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	v := vigil.Voter{ID: "X1", Name: vigil.Name{Last: "DOE"}, Status: vigil.VoterStatus{Code: vigil.StatusActive},
		DriversLicense: "D1234567", SSN4: "9876"}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("voter", "v", v, "ssn", v.SSN4)
	j, _ := json.Marshal(v)
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", v), "%+v": fmt.Sprintf("%+v", v), "%#v": fmt.Sprintf("%#v", v),
		"%s": fmt.Sprintf("%s", v.SSN4), "%d": fmt.Sprintf("%d", v.SSN4), "%x": fmt.Sprintf("%x", v.DriversLicense),
		"json": string(j), "slog": logBuf.String(),
	} {
		if strings.Contains(out, "9876") || strings.Contains(out, "D1234567") {
			t.Errorf("%s leaks a secret: %s", name, out)
		}
	}
	if v.SSN4.Reveal() != "9876" {
		t.Error("Reveal lost the value")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	good := vigil.Voter{ID: "A1", Name: vigil.Name{Last: "DOE"}, Status: vigil.VoterStatus{Code: vigil.StatusActive}}
	tests := []struct {
		name  string
		edit  func(v *vigil.Voter)
		field string
	}{
		{"a good record passes", func(v *vigil.Voter) {}, ""},
		{"a voter needs an ID", func(v *vigil.Voter) { v.ID = "" }, "id"},
		{"a voter needs a name", func(v *vigil.Voter) { v.Name = vigil.Name{} }, "name.last"},
		{"a cancelled registration needs a reason", func(v *vigil.Voter) { v.Status.Code = vigil.StatusCancelled }, "status.reason"},
		{"a status must be known", func(v *vigil.Voter) { v.Status.Code = "zombie" }, "status.code"},
		{"an SSN4 has four digits", func(v *vigil.Voter) { v.SSN4 = "12345" }, "ssn4"},
		{"a birth date must be a real day", func(v *vigil.Voter) { v.BirthDate = vigil.Date{Year: 1990, Month: 2, Day: 30} }, "birth_date"},
		{"control characters are refused", func(v *vigil.Voter) { v.Name.First = "A\x00B" }, "name.first"},
		{"a ZIP code has five digits", func(v *vigil.Voter) { v.Residence.ZIP = "123" }, "residence.zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := good
			tt.edit(&v)
			err := v.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != tt.field {
				t.Fatalf("err = %v; want Invalid on %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "12345") {
				t.Fatal("the error repeats a secret")
			}
		})
	}
}

func TestLayoutsAreValid(t *testing.T) {
	names := map[string]bool{}
	for _, l := range voter.Layouts() {
		if err := l.Validate(); err != nil {
			t.Errorf("%s: %v", l.Name, err)
		}
		names[l.Name] = true
	}
	for _, want := range []string{"nc", "fl", "ny", "pa", "oh"} {
		if !names[want] {
			t.Errorf("layout %s missing", want)
		}
	}
	if _, err := voter.LayoutByName("nope"); vigil.ErrorKind(err) != vigil.Invalid {
		t.Fatal(err)
	}
}

func TestReadReturnsEOFAfterTheLastRow(t *testing.T) {
	r, err := voter.NewReader("ok", bytes.NewReader(MustReadSample(t, "ok.csv")), voter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rec voter.Record
	n := 0
	for {
		err := r.Read(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || !errors.Is(r.Read(&rec), io.EOF) {
		t.Fatalf("read %d rows", n)
	}
}
