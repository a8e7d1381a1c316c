package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/node"
)

const (
	equipmentTestdata = "../../equipment/testdata"
	equipmentSamples  = "../../../shared/data/equipment"
)

func TestEquipmentCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "equipment-test")
	inv := filepath.Join(equipmentTestdata, "inventory.csv")

	t.Run("import records every device and reports what it did", func(t *testing.T) {
		out := mustVigil(t, "equipment", "import", "--data", dir, inv)
		if !strings.Contains(out, "5 devices: added 5, changed 0, unchanged 0") {
			t.Fatal(out)
		}
	})
	t.Run("the same file again changes nothing", func(t *testing.T) {
		out := mustVigil(t, "equipment", "import", "--data", dir, inv)
		if !strings.Contains(out, "added 0, changed 0, unchanged 5") {
			t.Fatal(out)
		}
	})
	t.Run("a bad file is refused whole, naming line and field", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.csv")
		b, _ := os.ReadFile(inv)
		lines := strings.Split(string(b), "\n")
		lines[1] = strings.Replace(lines[1], "SC-0001,scanner", "NEW-1,scanner", 1) // a good new row …
		lines[2] = strings.Replace(lines[2], ",bmd,", ",toaster,", 1)               // … and a bad one
		os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
		out, err := runVigil(t, "equipment", "import", "--data", dir, bad)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "kind") {
			t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
		}
		exp := mustVigil(t, "equipment", "export", "--data", dir)
		if strings.Contains(exp, "NEW-1") {
			t.Fatal("a refused file was half imported")
		}
	})
	t.Run("an unknown model is accepted but flagged", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "unknown.csv")
		os.WriteFile(f, []byte("id,kind,manufacturer,model,serial,jurisdiction,acquired,os,os_version,firmware_version,software_version,certification,status\n"+
			"X-1,scanner,Acme,Scan-o-matic 9000,S1,ADAMS,2024-01-01,,,1.0,,,in_service\n"), 0o600)
		out := mustVigil(t, "equipment", "import", "--data", dir, f)
		if !strings.Contains(out, "added 1") || !strings.Contains(out, "flagged: X-1") {
			t.Fatal(out)
		}
	})
	t.Run("a Verifier machines export imports", func(t *testing.T) {
		out := mustVigil(t, "equipment", "import", "--data", dir, filepath.Join(equipmentSamples, "2024_verifier-machines.SAMPLE.csv"))
		if !strings.Contains(out, "added ") || strings.Contains(out, "added 0,") {
			t.Fatal(out)
		}
	})
	t.Run("advisories import from CSV, and the same JSON changes nothing", func(t *testing.T) {
		out := mustVigil(t, "equipment", "advisories", "import", "--data", dir, filepath.Join(equipmentTestdata, "advisories.csv"))
		if !strings.Contains(out, "3 advisories: 3 recorded") {
			t.Fatal(out)
		}
		out = mustVigil(t, "equipment", "advisories", "import", "--data", dir, filepath.Join(equipmentTestdata, "advisories.json"))
		if !strings.Contains(out, "3 advisories: 0 recorded, 3 unchanged") {
			t.Fatal(out)
		}
	})
	t.Run("a bad advisory range is refused naming the field", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(f, []byte("id,manufacturer,model,affected_versions,severity,fixed_version\nA1,ES&S,DS200,>=1.0 - 2.0,high,2.1\n"), 0o600)
		_, err := runVigil(t, "equipment", "advisories", "import", "--data", dir, f)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "affected_versions") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("outdated lists each flagged device with every reason", func(t *testing.T) {
		out := mustVigil(t, "equipment", "outdated", "--data", dir)
		var ems string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "EMS-01\t") {
				ems = l
			}
		}
		if !strings.Contains(ems, "Windows 7") || !strings.Contains(ems, "ESS-2022-03") {
			t.Fatalf("EMS-01 should be flagged for Windows 7 and ESS-2022-03:\n%s", out)
		}
		if !strings.Contains(out, "SC-0001\t") || strings.Contains(out, "OLD-1\t") {
			t.Fatalf("want SC-0001 (advisory) and not the retired OLD-1:\n%s", out)
		}
		csv := mustVigil(t, "equipment", "outdated", "--data", dir, "--format", "csv")
		if !strings.HasPrefix(csv, "id,kind,manufacturer,model,jurisdiction,codes,reasons\n") || !strings.Contains(csv, "os_end_of_support") {
			t.Fatal(csv)
		}
	})
	t.Run("plan prices units with the unit costs set", func(t *testing.T) {
		mustVigil(t, "equipment", "cost", "--data", dir, "--kind", "pollbook", "--cost", "999.00")
		out := mustVigil(t, "equipment", "plan", "--data", dir, "--years", "10", "--format", "csv")
		if !strings.HasPrefix(out, "year,units,cost,unpriced,overdue,devices\n") || !strings.Contains(out, "PB-0007") {
			t.Fatal(out)
		}
		if !strings.Contains(mustVigil(t, "equipment", "plan", "--data", dir, "--years", "3"), strconv.Itoa(time.Now().Year())) {
			t.Fatal("the text plan does not start this year")
		}
		if _, err := runVigil(t, "equipment", "plan", "--data", dir, "--years", "0"); exitCode(err) != 2 {
			t.Fatalf("--years 0: %v", err)
		}
	})
	t.Run("custody transfers move the device and keep the chain", func(t *testing.T) {
		mustVigil(t, "equipment", "custody", "SC-0001", "--data", dir, "--from", "Warehouse A", "--to", "Precinct 4",
			"--by", "J. Driver", "--seals", "S-9;S-10")
		exp := mustVigil(t, "equipment", "export", "--data", dir)
		if !strings.Contains(exp, "Precinct 4") || !strings.Contains(exp, "S-9;S-10") {
			t.Fatal(exp)
		}
		if _, err := runVigil(t, "equipment", "custody", "NOPE", "--data", dir, "--from", "a", "--to", "b", "--by", "c"); exitCode(err) != 3 {
			t.Fatalf("unknown device: %v", err)
		}
	})
	t.Run("minimum version is an event and must parse", func(t *testing.T) {
		mustVigil(t, "equipment", "minimum", "--data", dir, "--version", "1.4.0")
		if _, err := runVigil(t, "equipment", "minimum", "--data", dir, "--version", "1.4.x"); exitCode(err) != 2 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("verify rebuilds every equipment table from the log", func(t *testing.T) {
		out := mustVigil(t, "verify", "--data", dir)
		db, _ := sql.Open("sqlite", node.DBPath(dir))
		defer db.Close()
		var devices, custody, advisories, settings int
		db.QueryRow(`SELECT (SELECT COUNT(*) FROM devices), (SELECT COUNT(*) FROM device_custody),
			(SELECT COUNT(*) FROM advisories), (SELECT COUNT(*) FROM equipment_settings)`).Scan(&devices, &custody, &advisories, &settings)
		if devices < 7 || custody != 1 || advisories != 3 || settings != 1 {
			t.Fatalf("devices %d custody %d advisories %d settings %d\n%s", devices, custody, advisories, settings, out)
		}
		db.Exec(`UPDATE devices SET status = 'retired' WHERE id = 'SC-0001'`)
		out, err := runVigil(t, "verify", "--data", dir)
		if exitCode(err) != 7 || !strings.Contains(out, "table devices") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}
