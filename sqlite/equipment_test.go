package sqlite_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/sqlite"
)

var equipmentManager = vigil.Actor{Name: "emery", Role: vigil.RoleEquipmentManager, Scope: vigil.CountyScope("ADAMS"), Origin: "test"}

func MustEquipment(t *testing.T) (*sqlite.Equipment, *memLog) {
	db := MustOpenDB(t)
	log := &memLog{t: t, proj: sqlite.NewProjector(db, "EVENTS")}
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	return sqlite.NewEquipment(db, log, now), log
}

func scanner(id, jurisdiction string) vigil.Device {
	return vigil.Device{ID: vigil.DeviceID(id), Kind: vigil.DeviceScanner, Manufacturer: "ES&S", Model: "DS200",
		Jurisdiction: jurisdiction, Acquired: time.Date(2014, 3, 1, 0, 0, 0, 0, time.UTC), FirmwareVersion: "2.17.4.0",
		Status: vigil.DeviceInService}
}

func TestEquipmentService(t *testing.T) {
	ctx := context.Background()
	eq, log := MustEquipment(t)

	t.Run("a duplicate id in one import is refused and nothing is written", func(t *testing.T) {
		_, err := eq.Import(ctx, equipmentManager, "f.csv", []vigil.Device{scanner("S1", "ADAMS"), scanner("S1", "ADAMS")}, nil)
		if vigil.ErrorKind(err) != vigil.Invalid || len(log.entries) != 0 {
			t.Fatalf("%v, %d entries", err, len(log.entries))
		}
	})
	t.Run("moving a device to another county asks about both counties", func(t *testing.T) {
		if _, err := eq.Import(ctx, equipmentManager, "", []vigil.Device{scanner("S1", "ADAMS")}, nil); err != nil {
			t.Fatal(err)
		}
		var asked []string
		allow := func(county string) error {
			asked = append(asked, county)
			if county != "BAKER" {
				return vigil.Errorf(vigil.Permission, "test", "not %s", county)
			}
			return nil
		}
		_, err := eq.Save(ctx, equipmentManager, scanner("S1", "BAKER"), allow)
		if vigil.ErrorKind(err) != vigil.Permission || !reflect.DeepEqual(asked, []string{"BAKER", "ADAMS"}) {
			t.Fatalf("%v, asked %v", err, asked)
		}
	})
	t.Run("a custody transfer moves the device and replaces its seals", func(t *testing.T) {
		err := eq.Transfer(ctx, equipmentManager, vigil.CustodyTransfer{Device: "S1", From: "Warehouse", To: "Precinct 4",
			By: "Jo", Seals: []string{"A1"}, Time: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := eq.Device(ctx, "S1")
		if d.Location != "Precinct 4" || !reflect.DeepEqual(d.Seals, []string{"A1"}) {
			t.Fatalf("%+v", d.Device)
		}
	})
	t.Run("replaying the log into a fresh database gives the same register", func(t *testing.T) {
		db2 := MustOpenDB(t)
		if _, err := sqlite.NewProjector(db2, "EVENTS").Apply(ctx, log.entries); err != nil {
			t.Fatal(err)
		}
		a, _ := eq.Devices(ctx)
		b, _ := sqlite.NewEquipment(db2, nil, time.Now).Devices(ctx)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%+v\n%+v", a, b)
		}
	})
	t.Run("repeated Verifier rows get numbered ids", func(t *testing.T) {
		row := `"0100100000","Alabama","Autauga County","Hand-Fed Optical Scanner","ES&S","DS200","2014","N/A","N/A","Yes","No","No","No","Yes","",` + "\n"
		file := "The Verifier - November 2024. Data as of December 7, 2025.\n" +
			"FIPS code,State,Jurisdiction,Equipment Type,Manufacturer,Model,First Year in Use,QR/Barcode,VVPAT,Election Day Standard,Election Day Accessible,Early Voting Standard,Early Voting Accessible,Mail Ballot/Absentee Equipment,Notes on usage\n" +
			row + row
		devices, err := sqlite.ReadDevices(strings.NewReader(file))
		if err != nil || len(devices) != 2 || devices[0].ID == devices[1].ID || !strings.HasSuffix(string(devices[1].ID), "/2") {
			t.Fatalf("%v %+v", err, devices)
		}
	})
}
