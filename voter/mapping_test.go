package voter_test

import (
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

const exampleMapping = `# Example County export
name      = example
delimiter = semicolon
header    = no
date      = YYYY-MM-DD
state     = NC
status 1  = active
status 2  = inactive
status 9  = cancelled deceased
method B  = absentee

column REGNO   = id
column SURNAME = name.last
column GIVEN   = name.first
column BORN    = birth_date
column STREET  = res.line1
column TOWN    = res.city
column STATUS  = status
column WARD    = district.ward
column E1DATE  = history.1.date
column E1HOW   = history.1.method
column NOTE    = ignore
`

func TestMappedCSVReadsLikeAStateLayout(t *testing.T) {
	l, err := voter.ParseMapping(strings.NewReader(exampleMapping))
	if err != nil {
		t.Fatal(err)
	}
	data := "R1;Doe;Jane;1980-02-03;1 Main St;Elkin;1;4;2020-11-03;B;hi\n" +
		"R2;Roe;Rick;1950-06-07;2 Oak St;Elkin;9;4;;;\n" +
		"R3;Poe;Edgar;1809-13-19;3 Elm St;Elkin;1;4;;;\n"
	recs, rep := ReadAll(t, voter.FormatCSV, []byte(data), voter.Options{Mapping: l, File: "county.txt"})
	if rep.Rows != 3 || rep.Rejected != 1 || rep.Rejections[0].Field != "BORN" || rep.Rejections[0].Line != 3 {
		t.Fatalf("report %+v", rep)
	}
	jane, rick := recs[0].Voter, recs[1].Voter
	if jane.ID != "R1" || jane.Residence.State != "NC" || jane.Districts[0] != (vigil.DistrictAssignment{Type: vigil.DistrictWard, Code: "4"}) ||
		len(jane.History) != 1 || jane.History[0].Method != vigil.MethodAbsentee {
		t.Fatalf("jane %+v", jane)
	}
	if rick.Status.Code != vigil.StatusCancelled || rick.Status.Reason != vigil.ReasonDeceased {
		t.Fatalf("rick %+v", rick.Status)
	}
}

func TestMappingErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, text, field string
	}{
		{"an unknown setting", "colour = blue\n", "line 1"},
		{"an unknown field", "column A = id\ncolumn B = shoe.size\n", "line 2"},
		{"a bad delimiter", "delimiter = space\n", "line 1"},
		{"a bad status", "status X = sleeping\n", "line 1"},
		{"a line without =", "\n\ncolumn A id\n", "line 3"},
		{"no ID column", "column A = name.last\n", "columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is reported", func(t *testing.T) {
			_, err := voter.ParseMapping(strings.NewReader(tt.text))
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != tt.field {
				t.Fatalf("err = %v (field %q); want Invalid on %q", err, vigil.ErrorField(err), tt.field)
			}
		})
	}
}
