package equipment_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

// MustReadFile returns a test file's bytes or stops the test.
func MustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reference file missing: %v", err)
	}
	return b
}

// sharedData is where the project's reference data lives, relative to this package.
func sharedData(name string) string {
	return filepath.Join("..", "..", "shared", "data", "equipment", name)
}

func MustReadInventory(t testing.TB) []vigil.Device {
	t.Helper()
	devices, err := equipment.ReadInventory(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", "inventory.csv"))))
	if err != nil {
		t.Fatal(err)
	}
	return devices
}

func TestReadInventory(t *testing.T) {
	devices := MustReadInventory(t)
	if len(devices) != 5 {
		t.Fatalf("read %d devices, want 5", len(devices))
	}
	t.Run("every column of a full row is read", func(t *testing.T) {
		want := vigil.Device{
			ID: "SC-0001", Kind: vigil.DeviceScanner, Manufacturer: "ES&S", Model: "DS200", Serial: "DS2-114-0001",
			AssetTag: "AC-1001", Jurisdiction: "Autauga County", Location: "Warehouse A",
			Acquired: time.Date(2014, 3, 1, 0, 0, 0, 0, time.UTC), CostCents: 525000, Quantity: 1,
			FirmwareVersion: "2.17.4.0",
			Certification: vigil.Certification{System: "EVS", Version: "6.2.0.0", VVSG: vigil.VVSG10,
				Status: vigil.CertificationCertified, State: "AL 2021-12"},
			Status: vigil.DeviceInService, Seals: []string{"S-100234", "S-100235"},
		}
		if !reflect.DeepEqual(devices[0], want) {
			t.Errorf("got  %+v\nwant %+v", devices[0], want)
		}
	})
	t.Run("a year alone is read as January 1", func(t *testing.T) {
		if got := devices[1].Acquired; !got.Equal(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("acquired = %v", got)
		}
		if devices[1].Units() != 20 {
			t.Errorf("units = %d", devices[1].Units())
		}
	})
	t.Run("a quoted field with a comma is kept whole", func(t *testing.T) {
		if devices[2].Notes != "server room, rack 2" {
			t.Errorf("notes = %q", devices[2].Notes)
		}
	})
}

func TestInventoryRoundTrip(t *testing.T) {
	devices := MustReadInventory(t)
	devices[0].Notes = "=HYPERLINK(\"http://evil\")" // must survive as text, not a formula
	var buf bytes.Buffer
	if err := equipment.WriteInventory(&buf, devices); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK`) {
		t.Error("a formula was written without a leading apostrophe")
	}
	again, err := equipment.ReadInventory(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(devices, again) {
		t.Errorf("round trip changed the devices:\n%+v\n%+v", devices, again)
	}
}

func TestReadInventoryErrors(t *testing.T) {
	header := "id,kind,manufacturer,model,serial,jurisdiction,acquired,os,os_version,firmware_version,software_version,certification,status\n"
	row := func(fields ...string) string {
		base := []string{"X1", "scanner", "ES&S", "DS200", "", "Autauga", "2020", "", "", "", "", "", "in_service"}
		for i := 0; i+1 < len(fields); i += 2 {
			for j, c := range strings.Split(strings.TrimSuffix(header, "\n"), ",") {
				if c == fields[i] {
					base[j] = fields[i+1]
				}
			}
		}
		return strings.Join(base, ",") + "\n"
	}
	tests := []struct {
		name  string
		csv   string
		line  string
		field string
		msg   string
	}{
		{"an empty file asks for a header", "", "line 1", "header", "empty"},
		{"a missing required column is named", "id,kind\n", "line 1", "manufacturer", "missing"},
		{"an unknown column is refused", strings.TrimSuffix(header, "\n") + ",firmware\n", "line 1", "firmware", "unknown column"},
		{"a repeated column is refused", strings.TrimSuffix(header, "\n") + ",id\n", "line 1", "id", "twice"},
		{"a bad date names its line", header + row() + row("id", "X2", "acquired", "2024-13-01"), "line 3", "acquired", "not a date"},
		{"a bad firmware version names its line", header + row("firmware_version", "5.x"), "line 2", "firmware_version", "not a version"},
		{"a bad software version names its line", header + row("software_version", "Verity 2.7"), "line 2", "software_version", "not a version"},
		{"an unknown kind lists the kinds", header + row("kind", "toaster"), "line 2", "kind", "pollbook"},
		{"an unknown status is refused", header + row("status", "lost"), "line 2", "status", "in_service"},
		{"a missing model is refused", header + row("model", ""), "line 2", "model", "required"},
		{"a duplicate id names the first line", header + row() + row(), "line 3", "id", "line 2"},
		{"a short row is refused", header + "X1,scanner\n", "line 2", "row", "2 fields"},
		{"a broken quote names its line", header + row() + "\"X2,scanner\n", "line 3", "row", "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ReadInventory(strings.NewReader(tt.csv))
			if err == nil {
				t.Fatal("no error")
			}
			if vigil.ErrorField(err) != tt.field {
				t.Errorf("field = %q, want %q (%v)", vigil.ErrorField(err), tt.field, err)
			}
			if msg := vigil.ErrorMessage(err); !strings.Contains(msg, tt.line+":") || !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q should name %q and mention %q", msg, tt.line, tt.msg)
			}
		})
	}
	t.Run("several problems are reported together", func(t *testing.T) {
		_, err := equipment.ReadInventory(strings.NewReader(header + row("kind", "x") + row("id", "X2", "status", "y")))
		var joined interface{ Unwrap() []error }
		if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
			t.Fatalf("want two joined errors, got %v", err)
		}
	})
	t.Run("a spreadsheet header with spaces and capitals is understood", func(t *testing.T) {
		h := "ID,Kind,Manufacturer,Model,Serial,Jurisdiction,Acquired,OS,OS Version,Firmware Version,Software Version,Certification,Status\n"
		if _, err := equipment.ReadInventory(strings.NewReader("\ufeff" + h + row())); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzReadInventory(f *testing.F) {
	f.Add(string(MustReadFile(f, filepath.Join("testdata", "inventory.csv"))))
	f.Add("id,kind,manufacturer,model,serial,jurisdiction,acquired,os,os_version,firmware_version,software_version,certification,status\nX,dre,A,B,,J,1999,,,1,,S 1,retired\n")
	f.Fuzz(func(t *testing.T, in string) {
		devices, err := equipment.ReadInventory(strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		var buf bytes.Buffer
		if err := equipment.WriteInventory(&buf, devices); err != nil {
			t.Fatal(err)
		}
		again, err := equipment.ReadInventory(&buf)
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		if !reflect.DeepEqual(again, devices) {
			t.Fatalf("round trip changed the devices:\n%+v\n%+v", devices, again)
		}
	})
}
