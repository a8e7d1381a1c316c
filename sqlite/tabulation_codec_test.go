package sqlite

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

// normalized makes empty and missing lists alike (the projection stores
// them alike) so that the fast decoder's result compares with
// encoding/json's.
func normalized(b vigil.CVRBatch) vigil.CVRBatch {
	if len(b.Files) == 0 {
		b.Files = nil
	}
	if len(b.Strings) == 0 {
		b.Strings = nil // "strings":[] and no strings at all read the same
	}
	if len(b.Rows) == 0 {
		b.Rows = nil
	}
	if len(b.Records) == 0 {
		b.Records = nil
	}
	recs := make([]vigil.CastVoteRecord, len(b.Records))
	for i, r := range b.Records {
		if len(r.Contests) == 0 {
			r.Contests = nil
		}
		cs := make([]vigil.ContestVote, len(r.Contests))
		for j, c := range r.Contests {
			if len(c.Marks) == 0 {
				c.Marks = nil
			}
			cs[j] = c
		}
		if r.Contests != nil {
			r.Contests = cs
		}
		recs[i] = r
	}
	if b.Records != nil {
		b.Records = recs
	}
	return b
}

// checkDecode decodes payload both ways. When the fast decoder accepts a
// payload, it must read exactly what encoding/json reads; when it declines,
// encoding/json decides.
func checkDecode(t *testing.T, payload []byte, wantFast bool) {
	t.Helper()
	var slow vigil.CVRBatch
	slowErr := json.Unmarshal(payload, &slow)
	if slowErr == nil {
		slow.Records, slowErr = slow.AllRecords()
		slow.Rows = nil
	}
	var d batchDecoder
	err := d.decode(payload)
	if err != nil {
		if wantFast {
			t.Fatalf("the fast decoder declined %.300s", payload)
		}
		return
	}
	if slowErr != nil {
		t.Fatalf("the fast decoder accepted what encoding/json refuses (%v): %.300s", slowErr, payload)
	}
	if got, want := normalized(d.batch), normalized(slow); !reflect.DeepEqual(got, want) {
		t.Fatalf("fast decoder read\n%+v\nencoding/json read\n%+v\nfrom %.500s", got, want, payload)
	}
	// What the projection stores is the same too.
	for i := range slow.Records {
		if a, b := appendCVR(nil, &d.batch.Records[i]), appendCVR(nil, &slow.Records[i]); string(a) != string(b) {
			t.Fatalf("record %d stores differently", i)
		}
	}
}

func sampleBatch(t testing.TB) []byte {
	var recs []vigil.CastVoteRecord
	for _, s := range []struct {
		format tabulate.Format
		path   string
	}{
		{tabulate.Dominion, "arlo-vendor-formats/dominion/TEST_CVRS.csv"},
		{tabulate.NIST, "hiltonroscoe-cdfprototype/CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml"},
		{tabulate.NIST, "votingworks-vxsuite/cast-vote-record-report.json"},
	} {
		f, err := os.Open(filepath.Join("../../shared/data/cvr", s.path))
		if err != nil {
			t.Skipf("sample missing: %v", err)
		}
		r := tabulate.NewReader(s.format, tabulate.Options{})
		if err := r.Read([]tabulate.File{{Name: filepath.Base(s.path), Reader: f}}, func(c *vigil.CastVoteRecord) error {
			recs = append(recs, *c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	b, err := json.Marshal(vigil.CVRBatch{Import: "imp", Format: "mixed", Files: []string{"a.csv", "b.xml"}, County: "ADAMS", Part: 3, Last: true, Total: len(recs), Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBatchDecoderReadsWhatEncodingJSONReads(t *testing.T) {
	t.Run("real exports (ranks, write-ins, overvotes) decode on the fast path", func(t *testing.T) {
		checkDecode(t, sampleBatch(t), true)
	})
	for _, tt := range []struct {
		name    string
		payload string
		fast    bool
	}{
		{"keys in any order, spaces, nulls", ` { "records" : [ {"contests":[{"marks":[{"rank":2,"choice":"b"}],"contest":"C"}],"id":"1"} ] , "part":1, "files":null, "county":null }`, true},
		{"escapes and non-ASCII names", `{"import":"i","records":[{"id":"a\"b\\c\u00e9","precinct":"Saint-Étienne","contests":[{"contest":"C\n1","marks":[{"choice":"\ud83d\ude00"}]}]}]}`, true},
		{"empty lists", `{"import":"i","files":[],"records":[{"id":"1","contests":[]},{"id":"2","contests":[{"contest":"C","marks":[]}]}]}`, true},
		{"negative and large integers", `{"part":-3,"total":123456789012,"records":[{"id":"1","position":-1,"contests":[{"contest":"C","undervotes":-2}]}]}`, true},
		{"an unknown key goes to encoding/json", `{"import":"i","extra":{"a":[1,2]},"records":[]}`, false},
		{"a key in other case goes to encoding/json", `{"Import":"i","records":[{"ID":"1"}]}`, false},
		{"a repeated key goes to encoding/json", `{"part":1,"part":2}`, false},
		{"a fraction goes to encoding/json (which refuses it)", `{"part":1.5}`, false},
		{"invalid UTF-8 goes to encoding/json", "{\"import\":\"a\xffb\",\"records\":[]}", false},
		{"trailing bytes go to encoding/json", `{"part":1} x`, false},
		{"a truncated payload goes to encoding/json", `{"records":[{"id":"1"`, false},
	} {
		t.Run(tt.name, func(t *testing.T) { checkDecode(t, []byte(tt.payload), tt.fast) })
	}
	t.Run("a reused decoder reads each batch afresh", func(t *testing.T) {
		var d batchDecoder
		if err := d.decode(sampleBatch(t)); err != nil {
			t.Fatal(err)
		}
		d.release()
		if err := d.decode([]byte(`{"import":"j","records":[{"id":"9","contests":[{"contest":"C"}]}]}`)); err != nil {
			t.Fatal(err)
		}
		if len(d.batch.Records) != 1 || d.batch.Last || d.batch.Total != 0 || len(d.batch.Records[0].Contests) != 1 || len(d.batch.Records[0].Contests[0].Marks) != 0 {
			t.Fatalf("%+v", d.batch)
		}
	})
}

func FuzzBatchDecoder(f *testing.F) {
	rec, _ := json.Marshal(vigil.CVRBatch{Import: "i", Records: []vigil.CastVoteRecord{{ID: "1-1-1", Tabulator: "T1", Batch: "B1", Position: 1,
		ImprintedID: "1-1-1", BallotStyle: "S1", Precinct: "P1", CountingGroup: "Mail", Contests: []vigil.ContestVote{
			{Contest: "C1", Marks: []vigil.Mark{{Choice: "A"}}}, {Contest: "C2", Overvoted: true}, {Contest: "R", Marks: []vigil.Mark{{Choice: "B", Rank: 2, WriteIn: true}}}}}}})
	f.Add(rec)
	var b vigil.CVRBatch
	json.Unmarshal(rec, &b)
	f.Add(rowsPayload(b.Records))
	f.Add([]byte(`{"records":[{"id":"1","contests":[{"contest":"C","marks":[{"choice":"x","rank":1,"writeIn":true,"ambiguous":false}],"overvoted":true,"undervotes":1}]}]}`))
	f.Add([]byte(`{"import":"a\u0000b","files":["x"],"part":0,"last":false}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkDecode(t, payload, false)
	})
}

// rowsPayload writes recs as an import does: the compact rows.
func rowsPayload(recs []vigil.CastVoteRecord) []byte {
	var w vigil.CVRRows
	for i := range recs {
		w.Add(&recs[i])
	}
	hb, _ := json.Marshal(vigil.CVRBatch{Import: "imp", Format: "dominion", Files: []string{"f.csv"}, County: "ADAMS", Part: 1, Last: true, Total: len(recs), Strings: w.Strings})
	return append(append(append(hb[:len(hb)-1], `,"rows":[`...), w.Rows...), "]}"...)
}

func TestCompactRowsRoundTrip(t *testing.T) {
	var b vigil.CVRBatch
	if err := json.Unmarshal(sampleBatch(t), &b); err != nil {
		t.Fatal(err)
	}
	b.Records = append(b.Records,
		vigil.CastVoteRecord{ID: "a<b>&\"c\"\\\u2028é\x01", Position: -4, Contests: []vigil.ContestVote{{Contest: "C", Undervotes: -1},
			{Contest: "D", Overvoted: true, Marks: []vigil.Mark{{Choice: "é", Rank: 3, Ambiguous: true}, {Choice: "x", WriteIn: true}, {Choice: "y"}}}}},
		vigil.CastVoteRecord{ID: "empty"})
	payload := rowsPayload(b.Records)
	t.Run("imports' rows decode on the fast path to the records written", func(t *testing.T) {
		checkDecode(t, payload, true)
		var d batchDecoder
		if err := d.decode(payload); err != nil {
			t.Fatal(err)
		}
		want := vigil.CVRBatch{Records: b.Records}
		if got := (vigil.CVRBatch{Records: d.batch.Records}); !reflect.DeepEqual(normalized(got), normalized(want)) {
			t.Fatalf("read back\n%+v\nwrote\n%+v", got.Records, want.Records)
		}
	})
	t.Run("the rows are a fraction of the records' JSON", func(t *testing.T) {
		full, _ := json.Marshal(b)
		if len(payload)*2 > len(full) {
			t.Fatalf("rows %d bytes, records %d", len(payload), len(full))
		}
	})
	for _, tt := range []struct{ name, payload string }{
		{"an index past the strings", `{"strings":["a"],"rows":[["1","",0,0,0,0,0,5]]}`},
		{"a null index", `{"strings":["a"],"rows":[["1","",0,null,0,0,0,0]]}`},
		{"a short row", `{"strings":["a"],"rows":[["1","",0]]}`},
		{"flags out of range", `{"strings":["a"],"rows":[["1","",0,0,0,0,0,0,[0,2,0]]]}`},
		{"a mark of two cells", `{"strings":["a"],"rows":[["1","",0,0,0,0,0,0,[0,0,0,[0,1]]]]}`},
		{"rows before their strings", `{"rows":[["1","",0,0,0,0,0,0]],"strings":["a"]}`},
	} {
		t.Run(tt.name+" is left to the slow path, which decides", func(t *testing.T) { checkDecode(t, []byte(tt.payload), false) })
	}
	t.Run("a malformed row is an integrity error naming it", func(t *testing.T) {
		var bad vigil.CVRBatch
		json.Unmarshal([]byte(`{"strings":["a"],"rows":[["1","",0,0,0,0,0,0],["2","",0,0,0,0,0,9]]}`), &bad)
		if _, err := bad.AllRecords(); vigil.ErrorKind(err) != vigil.Integrity || !strings.Contains(err.Error(), "rows[1]") {
			t.Fatalf("got %v", err)
		}
	})
}

func FuzzCompactRows(f *testing.F) {
	f.Add("1-1-1", "9-1-1", "T1", "B1", 3, "P<1>", "Contest 1", "Choice \"1\"", 2, true, false, 1)
	f.Fuzz(func(t *testing.T, id, imprinted, tab, batch string, pos int, precinct, contest, choice string, rank int, writeIn, over bool, under int) {
		recs := []vigil.CastVoteRecord{{ID: vigil.CVRID(id), ImprintedID: imprinted, Tabulator: tab, Batch: batch, Position: pos, Precinct: vigil.PrecinctID(precinct),
			Contests: []vigil.ContestVote{{Contest: vigil.ContestID(contest), Overvoted: over, Undervotes: under, Marks: []vigil.Mark{{Choice: vigil.ChoiceID(choice), Rank: rank, WriteIn: writeIn}, {Choice: "z"}}}}}}
		payload := rowsPayload(recs)
		var slow vigil.CVRBatch
		if err := json.Unmarshal(payload, &slow); err != nil {
			t.Fatalf("not JSON: %v: %s", err, payload)
		}
		got, err := slow.AllRecords()
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json replaces invalid UTF-8; compare with what it keeps.
		var want []vigil.CastVoteRecord
		b, _ := json.Marshal(recs)
		json.Unmarshal(b, &want)
		if !reflect.DeepEqual(normalized(vigil.CVRBatch{Records: got}), normalized(vigil.CVRBatch{Records: want})) {
			t.Fatalf("read back %+v, wrote %+v", got, want)
		}
		checkDecode(t, payload, false)
	})
}
