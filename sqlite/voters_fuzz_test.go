package sqlite_test

import (
	"context"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

// FuzzImport feeds arbitrary files to the importer: it must never panic,
// never apply anything from a file it refuses, and never append a record
// that does not validate or that carries a secret in clear.
func FuzzImport(f *testing.F) {
	f.Add("oh", []byte("SOS_VOTERID,LAST_NAME,FIRST_NAME,DATE_OF_BIRTH,VOTER_STATUS\nOH1,DOE,JANE,1980-01-02,ACTIVE\n"))
	f.Add("nc", []byte("ncid\tlast_name\tfirst_name\tbirth_year\tvoter_status_desc\nNC1\tROE\tRICH\t1970\tACTIVE\n"))
	f.Add("nist-json", []byte(`{"@type":"VRI.VoterRecordResults","VoterRecord":[{"Name":{"FirstName":"A","LastName":"B"},"VoterId":[{"Type":"state","StringValue":"V1"}]}]}`))
	f.Add("nist-xml", []byte(`<VoterRecordsResponse><VoterRecord><Name><FirstName>A</FirstName><LastName>B</LastName></Name></VoterRecord></VoterRecordsResponse>`))
	// One database for the whole run: opening one per input would make the
	// fuzzer crawl. Properties are checked on what each input appended.
	e := MustVoterService(f)
	f.Fuzz(func(t *testing.T, layout string, data []byte) {
		switch layout {
		case "oh", "nc", "fl", "pa", "ny", "nist-json", "nist-xml":
		default:
			layout = "oh"
		}
		if len(data) > 1<<16 {
			return
		}
		before := len(e.log.entries)
		res, err := e.svc.Import(context.Background(), registrar, sqlite.ImportOptions{Layout: layout, File: "fuzz", Open: openBytes(data)})
		if err != nil {
			if len(e.log.entries) != before {
				t.Fatalf("a refused import appended %d entries: %v", len(e.log.entries)-before, err)
			}
			return
		}
		if res.Added+res.Changed+res.Unchanged != res.Rows-res.Rejected {
			t.Fatalf("counts do not add up: %+v", res.VoterImport)
		}
		for _, en := range e.log.entries[before:] {
			entry, err := vigil.UnmarshalEntry(en.Data)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range entry {
				if ev.Type != vigil.EventVoterAdded {
					continue
				}
				p, err := voter.ParseRecords(ev.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Validate(); err != nil {
					t.Fatalf("an appended record does not validate: %v", err)
				}
			}
		}
	})
}
