package voter_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// viaJSON is what the JSON object form gives back for r: the row form
// MUST read back the same.
func viaJSON(t testing.TB, r *vigil.VoterRecord) vigil.VoterRecord {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out vigil.VoterRecord
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func fullRecord() vigil.VoterRecord {
	return vigil.VoterRecord{
		Voter: vigil.Voter{ID: "NC123", LocalID: "77", County: "WAKE",
			Name:      vigil.Name{Prefix: "DR", First: "José", Middle: "Q", Last: "O'Brien <&>", Suffix: "JR"},
			BirthDate: vigil.Date{Year: 1970, Month: 2, Day: 3}, Gender: "M",
			Residence: vigil.Address{Line1: "12 \"MAIN\" ST", Line2: "APT\t4", City: "RALEIGH", State: "NC", ZIP: "27601", ZIP4: "1234"},
			Mailing:   vigil.Address{Line1: "PO BOX 1\u2028", City: "CARY", State: "NC", ZIP: "27511", Country: "US"},
			Phone:     "919", Email: "a@b.c", Party: "DEM",
			Status:     vigil.VoterStatus{Code: vigil.StatusInactive, Reason: vigil.ReasonMoved, Detail: "CONFIRMATION NOT RETURNED", Since: vigil.Date{Year: 2020}},
			Registered: vigil.Date{Year: 1999, Month: 12, Day: 31}, Precinct: "01-07",
			Districts:    []vigil.DistrictAssignment{{Type: vigil.DistrictCongressional, Code: "13", Name: "13TH"}, {Type: "school", Code: "2"}},
			History:      []vigil.VotingHistoryEntry{{Election: vigil.Date{Year: 2020, Month: 11, Day: 3}, Name: "GENERAL", Method: "absentee"}, {Name: "PA slot 12", Place: "GYM"}},
			Confidential: true},
		DriversLicenseSealed: "sealed:abc", SSN4Sealed: "sealed:def", Fingerprint: "00ff",
	}
}

func TestRowRoundTrip(t *testing.T) {
	full := fullRecord()
	onlyHistory := vigil.VoterRecord{Voter: vigil.Voter{ID: "X1", Name: vigil.Name{Last: "A"},
		History: []vigil.VotingHistoryEntry{{Name: "GENERAL"}}}}
	badUTF8 := vigil.VoterRecord{Voter: vigil.Voter{ID: "X2", Name: vigil.Name{Last: "A\xffB"}}}
	cases := map[string]vigil.VoterRecord{
		"a record with every field":                      full,
		"a record with history but no districts":         onlyHistory,
		"a record with invalid UTF-8 reads as JSON does": badUTF8,
		"a record with an id only":                       {Voter: vigil.Voter{ID: "ONLY"}},
	}
	for _, v := range voter.GenerateRoll(3, 200, 0.1).Voters {
		cases["generated voter "+string(v.ID)] = vigil.VoterRecord{Voter: v, Fingerprint: "ab"}
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			row, ok := voter.AppendRow(nil, &r)
			if !ok {
				t.Fatal("the row form does not hold it")
			}
			if !json.Valid(row) {
				t.Fatalf("row is not JSON: %s", row)
			}
			var got vigil.VoterRecord
			if err := voter.ParseRow(string(row), &got); err != nil {
				t.Fatalf("%v: %s", err, row)
			}
			if want := viaJSON(t, &r); !reflect.DeepEqual(got, want) {
				t.Fatalf("row %s\n got %+v\nwant %+v", row, got, want)
			}
		})
	}
}

func TestRowRefusesWhatItCannotHold(t *testing.T) {
	r := fullRecord()
	r.SSN4 = "1234"
	if _, ok := voter.AppendRow(nil, &r); ok {
		t.Fatal("a secret in clear was written")
	}
	r = fullRecord()
	r.BirthDate = vigil.Date{Year: 19999, Month: 1, Day: 1}
	if _, ok := voter.AppendRow(nil, &r); ok {
		t.Fatal("a date that does not read back was written")
	}
}

func TestParseRowRejectsMalformedRows(t *testing.T) {
	for _, row := range []string{``, `{}`, `[`, `["a",]`, `["a" "b"]`, `[1]`, `["a"]x`, `["\u00"]`,
		`["a","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","",""]`,
		`["a","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","",[["a","b"]]]`,
		`["a","","","","","","","","2020-13-01"]`, `["a","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","x"]`} {
		var r vigil.VoterRecord
		if err := voter.ParseRow(row, &r); err == nil {
			t.Errorf("ParseRow(%s) accepted it", row)
		}
	}
}

// FuzzParseRow: a row never panics the decoder, and whatever it accepts
// is written back to a row that reads the same.
func FuzzParseRow(f *testing.F) {
	r := fullRecord()
	row, _ := voter.AppendRow(nil, &r)
	f.Add(string(row))
	f.Add(`["A",""]`)
	f.Add(`["A","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","","",[]]`)
	f.Fuzz(func(t *testing.T, row string) {
		var got vigil.VoterRecord
		if voter.ParseRow(row, &got) != nil {
			return
		}
		again, ok := voter.AppendRow(nil, &got)
		if !ok {
			t.Fatalf("accepted %q but cannot write it back", row)
		}
		var back vigil.VoterRecord
		if err := voter.ParseRow(string(again), &back); err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("%q → %+v → %s → %+v (%v)", row, got, again, back, err)
		}
	})
}

func TestRowDatesReadBackAsWritten(t *testing.T) {
	for _, d := range []vigil.Date{{}, {Year: 1}, {Year: 999}, {Year: 2024}, {Year: 9999, Month: 12, Day: 31},
		{Year: 2024, Month: 2, Day: 29}, {Year: 1900, Month: 1, Day: 9}} {
		r := vigil.VoterRecord{Voter: vigil.Voter{ID: "D", BirthDate: d, Registered: d}}
		row, ok := voter.AppendRow(nil, &r)
		if !ok {
			t.Fatalf("%v: refused", d)
		}
		var got vigil.VoterRecord
		if err := voter.ParseRow(string(row), &got); err != nil || got.BirthDate != d || got.Registered != d {
			t.Fatalf("%v → %s → %v (%v)", d, row, got.BirthDate, err)
		}
		if want := `"` + d.String() + `"`; d.String() != "" && !strings.Contains(string(row), want) {
			t.Fatalf("%v written as %s, want %s", d, row, want)
		}
	}
	for _, d := range []vigil.Date{{Year: 10000}, {Year: 2023, Month: 2, Day: 29}, {Year: 2020, Day: 3}, {Year: -5}} {
		r := vigil.VoterRecord{Voter: vigil.Voter{ID: "D", BirthDate: d}}
		if _, ok := voter.AppendRow(nil, &r); ok {
			t.Fatalf("%v: written, but it does not read back", d)
		}
	}
}
