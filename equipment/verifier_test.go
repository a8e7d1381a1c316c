package equipment_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func MustReadVerifierMachines(t testing.TB) []equipment.VerifierMachine {
	t.Helper()
	_, rows, err := equipment.ReadVerifierMachines(bytes.NewReader(MustReadFile(t, sharedData("2024_verifier-machines.SAMPLE.csv"))))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestReadVerifierMachines(t *testing.T) {
	preamble, rows, err := equipment.ReadVerifierMachines(bytes.NewReader(MustReadFile(t, sharedData("2024_verifier-machines.SAMPLE.csv"))))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the preamble line is skipped and returned", func(t *testing.T) {
		if preamble != "The Verifier - November 2024. Data as of December 7, 2025." {
			t.Errorf("preamble = %q", preamble)
		}
	})
	t.Run("every data row is read despite the trailing comma", func(t *testing.T) {
		if len(rows) != 22 {
			t.Errorf("read %d rows, want 22", len(rows))
		}
	})
	t.Run("the first row is read field by field with its file line", func(t *testing.T) {
		want := equipment.VerifierMachine{
			Line: 3, FIPS: "0100100000", State: "Alabama", Jurisdiction: "Autauga County",
			EquipmentType: "Internet Voting: Web Portal", Manufacturer: "Votem", Model: "CastIron",
			FirstYear: 2018, FirstYearText: "2018", QRBarcode: equipment.NA, VVPAT: equipment.NA,
			ElectionDayStandard: equipment.No, ElectionDayAccessible: equipment.No,
			EarlyVotingStandard: equipment.No, EarlyVotingAccessible: equipment.No,
			MailBallot: equipment.Yes, Notes: "Military and overseas voters outside the U.S.",
		}
		if rows[0] != want {
			t.Errorf("got  %+v\nwant %+v", rows[0], want)
		}
	})
	t.Run("a blank first year is unknown", func(t *testing.T) {
		if rows[1].Model != "Poll Pad" || rows[1].FirstYear != 0 {
			t.Errorf("row 2 = %+v", rows[1])
		}
	})
}

func TestReadVerifierJurisdictions(t *testing.T) {
	_, rows, err := equipment.ReadVerifierJurisdictions(bytes.NewReader(MustReadFile(t, sharedData("2024_verifier-jurisdictions.SAMPLE.csv"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 17 {
		t.Fatalf("read %d rows, want 17", len(rows))
	}
	want := equipment.VerifierJurisdiction{Line: 3, FIPS: "0100100000", State: "Alabama", Jurisdiction: "Autauga County",
		RegisteredVoters: 41817, Precincts: 20, VotingLocation: "Assigned Polling Place", AllMail: equipment.No,
		MarkingMethod: "Hand marked paper ballots and BMDs", Tabulation: "Optical Scan"}
	if rows[0] != want {
		t.Errorf("got  %+v\nwant %+v", rows[0], want)
	}
}

func TestReadVerifierErrors(t *testing.T) {
	pre := "The Verifier - November 2024. Data as of December 7, 2025.\n"
	header := "FIPS code,State,Jurisdiction,Equipment Type,Manufacturer,Model,First Year in Use,QR/Barcode,VVPAT,Election Day Standard,Election Day Accessible,Early Voting Standard,Early Voting Accessible,Mail Ballot/Absentee Equipment,Notes on usage\n"
	good := `"0100100000","Alabama","Autauga County","Hand-Fed Optical Scanner","ES&S","DS200","2014","N/A","N/A","Yes","No","No","No","Yes","",` + "\n"
	tests := []struct {
		name, in, line, field string
	}{
		{"a short FIPS code is refused with the file line", pre + header + good + strings.Replace(good, "0100100000", "01001", 1), "line 4", "fips_code"},
		{"a flag other than Yes, No or N/A is refused", pre + header + strings.Replace(good, `"Yes","No"`, `"Maybe","No"`, 1), "line 3", "election_day_standard"},
		{"a year that is not a number is refused", pre + header + strings.Replace(good, `"2014"`, `"20x4"`, 1), "line 3", "first_year_in_use"},
		{"a missing column is named", pre + strings.Replace(header, ",VVPAT", "", 1), "line 2", "vvpat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := equipment.ReadVerifierMachines(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if vigil.ErrorField(err) != tt.field || !strings.Contains(err.Error(), tt.line+":") {
				t.Errorf("error %q: want field %q at %s", err, tt.field, tt.line)
			}
		})
	}
	t.Run("a negative first year, a known anomaly, is read as unknown", func(t *testing.T) {
		_, rows, err := equipment.ReadVerifierMachines(strings.NewReader(pre + header + strings.Replace(good, `"2014"`, `"-1"`, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if rows[0].FirstYear != 0 || rows[0].FirstYearText != "-1" {
			t.Errorf("row = %+v", rows[0])
		}
	})
	t.Run("a file without the preamble is read too", func(t *testing.T) {
		_, rows, err := equipment.ReadVerifierMachines(strings.NewReader(header + good))
		if err != nil || len(rows) != 1 || rows[0].Line != 2 {
			t.Fatalf("rows %+v, err %v", rows, err)
		}
	})
}

func TestVerifierDevices(t *testing.T) {
	devices, skipped := equipment.VerifierDevices(MustReadVerifierMachines(t))
	t.Run("paper pollbooks are not devices", func(t *testing.T) {
		if len(skipped) != 1 || skipped[0].EquipmentType != "Paper Poll Book" {
			t.Errorf("skipped = %+v", skipped)
		}
		if len(devices) != 21 {
			t.Errorf("%d devices, want 21", len(devices))
		}
	})
	t.Run("equipment types map to kinds and ids are stable", func(t *testing.T) {
		d := devices[2]
		if d.ID != "0100100000/hand-fed-optical-scanner/ds200" || d.Kind != vigil.DeviceScanner || d.Location != "Autauga County, Alabama" {
			t.Errorf("device = %+v", d)
		}
		if !d.Acquired.Equal(time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("acquired = %v", d.Acquired)
		}
	})
	t.Run("every converted device is valid", func(t *testing.T) {
		for _, d := range devices {
			if err := d.Validate(); err != nil {
				t.Errorf("%s: %v", d.ID, err)
			}
		}
	})
	t.Run("scanners first used in 2014 are past a 10-year life on election day 2024", func(t *testing.T) {
		flags := equipment.Outdated(devices, nil, equipment.DefaultRules(), time.Date(2024, 11, 5, 0, 0, 0, 0, time.UTC))
		var ids []string
		for _, f := range flags {
			if f.Reasons[0].Code == equipment.ReasonEndOfLife {
				ids = append(ids, string(f.Device.ID))
			}
		}
		// Autauga, Baldwin, Barbour and Bullock counties have DS200s from 2014.
		if len(ids) != 4 {
			t.Errorf("end-of-life devices = %v", ids)
		}
	})
}

func FuzzReadVerifierMachines(f *testing.F) {
	f.Add(string(MustReadFile(f, sharedData("2024_verifier-machines.SAMPLE.csv"))))
	f.Add(string(MustReadFile(f, sharedData("2024_verifier-jurisdictions.SAMPLE.csv"))))
	f.Fuzz(func(t *testing.T, in string) {
		_, rows, err := equipment.ReadVerifierMachines(strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		devices, _ := equipment.VerifierDevices(rows)
		for _, d := range devices {
			if err := d.Validate(); err != nil {
				t.Fatalf("converted device invalid: %v", err)
			}
		}
		equipment.ReadVerifierJurisdictions(strings.NewReader(in))
	})
}
