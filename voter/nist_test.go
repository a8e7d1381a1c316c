package voter_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

const nistDir = "../../shared/data/voterfiles/nist-vri-1500-102"

func MustReadNIST(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(nistDir, name))
	if err != nil {
		t.Fatalf("NIST example missing (the tests read ../shared/data): %v", err)
	}
	return b
}

// ReadNIST reads every record, accepted or not.
func ReadNIST(t testing.TB, format string, data []byte) []voter.Record {
	t.Helper()
	r, err := voter.NewReader(format, bytes.NewReader(data), voter.Options{File: "nist"})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []voter.Record
	for rec, err := range r.All() {
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		c := *rec
		c.Rejections = append([]voter.Rejection(nil), rec.Rejections...)
		out = append(out, c)
	}
	return out
}

func TestNISTExamplesRead(t *testing.T) {
	tests := []struct {
		file   string
		format string
		check  func(v vigil.Voter) bool
	}{
		{"ohio_registration.json", voter.FormatNISTJSON, func(v vigil.Voter) bool {
			return v.Name == vigil.Name{First: "JANE", Middle: "A", Last: "DOE"} &&
				v.BirthDate == vigil.Date{Year: 1993, Month: 11, Day: 12} &&
				v.Residence == vigil.Address{Line1: "3818 BELMONT AVE", City: "YOUNGSTOWN", State: "OH", ZIP: "44505"} &&
				v.Mailing.Line1 == "2299 E STATE ST" && v.DriversLicense.Reveal() == "AA999888" && v.SSN4 == "" &&
				v.Email == "JDOE@TESTEMAIL.COM"
		}},
		{"ohio_registration_in_state_mailing.xml", voter.FormatNISTXML, func(v vigil.Voter) bool {
			return v.Name.First == "JENNY" && v.Name.Middle == "NANCY" &&
				v.Residence == vigil.Address{Line1: "3273 MANCHESTER RD", City: "AKRON", State: "OH", ZIP: "44319"} &&
				v.SSN4.Reveal() == "2222" && v.Phone == "3301112345"
		}},
		{"va_absentee_excuse_1a.xml", voter.FormatNISTXML, func(v vigil.Voter) bool {
			return v.Name.Last == "Smith" && v.Gender == "F" &&
				v.Residence == vigil.Address{Line1: "123 OLD FORT RD", City: "Winchester", State: "VA", ZIP: "22601"} &&
				v.Mailing.Line2 == "ROOM 999" && v.Mailing.ZIP4 == "9521" && v.Party == "DEMOCRACTIC"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+" reads its subject", func(t *testing.T) {
			recs := ReadNIST(t, tt.format, MustReadNIST(t, tt.file))
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			if !tt.check(recs[0].Voter) {
				b, _ := json.Marshal(recs[0].Voter)
				t.Fatalf("voter %s", b)
			}
			// A registration request has no state voter ID yet: it gets
			// one derived from the applicant, and stays pending.
			v := recs[0].Voter
			if len(recs[0].Rejections) != 0 || !strings.HasPrefix(string(v.ID), "REQ-") || len(v.ID) != 20 {
				t.Fatalf("rejections %v, id %q", recs[0].Rejections, v.ID)
			}
			if v.Status.Code != vigil.StatusPending && !strings.HasPrefix(tt.file, "va_") {
				t.Fatalf("a registration request is %q, want pending", v.Status.Code)
			}
			again := ReadNIST(t, tt.format, MustReadNIST(t, tt.file))
			if again[0].Voter.ID != v.ID {
				t.Fatalf("the same request read twice got ids %q and %q", v.ID, again[0].Voter.ID)
			}
		})
	}
	t.Run("every VA example reads", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(nistDir, "va_*.xml"))
		if len(files) < 20 {
			t.Fatalf("only %d VA examples", len(files))
		}
		for _, f := range files {
			recs := ReadNIST(t, voter.FormatNISTXML, MustReadNIST(t, filepath.Base(f)))
			if len(recs) != 1 || recs[0].Voter.Name.Last == "" || recs[0].Voter.Residence.Line1 == "" {
				t.Errorf("%s: %+v", f, recs)
			}
		}
	})
}

func TestNISTExportRoundTrips(t *testing.T) {
	roll := voter.GenerateRoll(7, 300, 0)
	// Add what the generator does not make.
	roll.Voters[0].Status = vigil.VoterStatus{Code: vigil.StatusCancelled, Reason: vigil.ReasonDeceased}
	roll.Voters[1].History = []vigil.VotingHistoryEntry{
		{Election: vigil.Date{Year: 2016}, Name: "PRIMARY", Party: "REP"},
		{Election: vigil.Date{Year: 2020, Month: 11, Day: 3}, Name: "GENERAL", Method: vigil.MethodAbsentee},
	}
	roll.Voters[2].Districts = append(roll.Voters[2].Districts,
		vigil.DistrictAssignment{Type: vigil.DistrictOther, Code: "F7", Name: "fire"})
	roll.Voters[3].DriversLicense, roll.Voters[3].SSN4 = "D999", "1234"
	roll.Voters[4].Residence = vigil.Address{Line1: "RURAL ROUTE 5", City: "ELKIN", State: "NC", ZIP: "28621"}
	for _, format := range []string{voter.FormatNISTJSON, voter.FormatNISTXML} {
		for _, secrets := range []bool{false, true} {
			name := format + " without secrets"
			if secrets {
				name = format + " with secrets"
			}
			t.Run(name+" round-trips what VRI carries", func(t *testing.T) {
				var buf bytes.Buffer
				w, err := voter.NewNISTWriter(&buf, format, voter.WriterOptions{IncludeSecrets: secrets, TransactionID: "t-1"})
				if err != nil {
					t.Fatal(err)
				}
				for i := range roll.Voters {
					if err := w.Write(&roll.Voters[i]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if format == voter.FormatNISTJSON && !json.Valid(buf.Bytes()) {
					t.Fatal("invalid JSON")
				}
				if strings.Contains(buf.String(), "D999") != secrets {
					t.Fatalf("secrets written = %v, want %v", !secrets, secrets)
				}
				recs := ReadNIST(t, format, buf.Bytes())
				if len(recs) != len(roll.Voters) {
					t.Fatalf("%d records back, wrote %d", len(recs), len(roll.Voters))
				}
				for i, r := range recs {
					if !r.OK() {
						t.Fatalf("record %d rejected: %v", i, r.Rejections)
					}
					want := carried(roll.Voters[i], secrets)
					if !reflect.DeepEqual(r.Voter, want) {
						a, _ := json.Marshal(r.Voter)
						b, _ := json.Marshal(want)
						t.Fatalf("record %d:\n got %s\nwant %s", i, a, b)
					}
				}
			})
		}
	}
}

// carried is v reduced to what NIST SP 1500-102 carries.
func carried(v vigil.Voter, secrets bool) vigil.Voter {
	v.Registered = vigil.Date{}
	v.Status.Detail, v.Status.Since = "", vigil.Date{}
	if v.Status.Code == vigil.StatusActive || v.Status.Code == vigil.StatusInactive {
		v.Status.Reason = "" // VRI has a reason only for "other" statuses
	}
	v.Confidential = false
	if v.BirthDate.YearOnly() {
		v.BirthDate = vigil.Date{}
	}
	if !secrets {
		v.DriversLicense, v.SSN4 = "", ""
	}
	if len(v.Districts) == 0 {
		v.Districts = nil
	}
	v.Districts = slices.Clone(v.Districts)
	slices.SortFunc(v.Districts, func(a, b vigil.DistrictAssignment) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Code, b.Code))
	})
	return v
}

func TestNISTReaderRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		name, format, data string
	}{
		{"JSON that is not an object", voter.FormatNISTJSON, `"hello"`},
		{"truncated JSON", voter.FormatNISTJSON, `{"@type":"VRI.VoterRecordResults","VoterRecord":[{"@type":"VRI.VoterRecord"`},
		{"XML without records", voter.FormatNISTXML, `<VoterRecordsResponse/>`},
		{"truncated XML", voter.FormatNISTXML, `<VoterRecordsResponse><VoterRecord><Voter><Name>`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an invalid-input error", func(t *testing.T) {
			r, err := voter.NewReader(tt.format, strings.NewReader(tt.data), voter.Options{})
			if err == nil {
				var rec voter.Record
				for err == nil {
					err = r.Read(&rec)
				}
			}
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
