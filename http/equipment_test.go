package http_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/detect"
)

// Probes of the route × role table (http_test.go).
const (
	probeDeviceCSV = "id,kind,manufacturer,model,serial,jurisdiction,acquired,os,os_version,firmware_version,software_version,certification,status\n" +
		"PROBE-1,scanner,ES&S,DS200,S1,ADAMS,2024-01-01,,,2.17.4.1,,,in_service\n"
	probeDeviceCheck = `{"version":"1.0.0","os":"Linux"}`
)

const equipmentTestdata = "../equipment/testdata"

// inventoryIn is the sample inventory with its jurisdiction replaced.
func inventoryIn(t *testing.T, jurisdiction, idPrefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(equipmentTestdata, "inventory.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = idPrefix + strings.ReplaceAll(lines[i], "Autauga County", jurisdiction)
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestEquipmentThroughHTTP(t *testing.T) {
	e := MustServe(t)
	adams := e.MustUser("eq-adams", vigil.Grant{Role: vigil.RoleEquipmentManager, Scope: vigil.CountyScope("ADAMS")})
	stateMgr := e.MustUser("eq-state", vigil.Grant{Role: vigil.RoleEquipmentManager, Scope: vigil.ScopeState})
	bakerAdmin := e.MustUser("admin-baker", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("BAKER")})
	officer := e.MustUser("officer", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	stateAdmin := e.MustUser("admin", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState})
	worker := e.MustUser("worker", vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)})

	t.Run("a county equipment manager imports their county's inventory", func(t *testing.T) {
		r := adams.do("POST", "/api/v1/equipment/import", inventoryIn(t, "ADAMS", ""))
		if r.status != 200 || r.json()["added"] != float64(5) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a county equipment manager cannot import another county's devices, and nothing is written", func(t *testing.T) {
		mixed := inventoryIn(t, "ADAMS", "A2-") + strings.SplitN(inventoryIn(t, "BAKER", "B-"), "\n", 3)[1] + "\n"
		r := adams.do("POST", "/api/v1/equipment/import", mixed)
		if r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if got := adams.do("GET", "/api/v1/equipment/devices", nil); strings.Contains(got.body, "A2-") {
			t.Fatal("a refused import was half written")
		}
	})
	t.Run("the inventory page imports an uploaded file, and refuses a bad one whole", func(t *testing.T) {
		upload := func(body string) (int, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("csrf", adams.csrf)
			fw, _ := mw.CreateFormFile("file", "inventory.csv")
			fw.Write([]byte(body))
			mw.Close()
			req, _ := http.NewRequest("POST", adams.base+"/equipment/import", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := adams.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		status, body := upload(inventoryIn(t, "ADAMS", "UP-"))
		if status != 200 || !strings.Contains(body, "added 5") || !strings.Contains(body, "/equipment/devices/UP-SC-0001") {
			t.Fatalf("%d %s", status, body)
		}
		status, body = upload(strings.Replace(inventoryIn(t, "ADAMS", "UQ-"), ",bmd,", ",toaster,", 1))
		if status != 400 || !strings.Contains(body, "Nothing was imported") || strings.Contains(body, "UQ-SC-0001") {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("a bad row is refused naming line and field", func(t *testing.T) {
		bad := strings.Replace(inventoryIn(t, "ADAMS", "X-"), ",bmd,", ",toaster,", 1)
		r := adams.do("POST", "/api/v1/equipment/import", bad)
		if r.status != 400 || !strings.Contains(r.body, "line 3") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a state equipment manager imports another county", func(t *testing.T) {
		if r := stateMgr.do("POST", "/api/v1/equipment/import", inventoryIn(t, "BAKER", "B-")); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a county admin reads only their county's devices", func(t *testing.T) {
		r := bakerAdmin.do("GET", "/api/v1/equipment/devices", nil)
		if r.status != 200 || !strings.Contains(r.body, `"id":"B-SC-0001"`) || strings.Contains(r.body, `"id":"SC-0001"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := bakerAdmin.do("GET", "/equipment/devices/SC-0001", nil); r.status != http.StatusForbidden {
			t.Fatalf("another county's device page: %d", r.status)
		}
		if r := bakerAdmin.do("POST", "/api/v1/equipment/import", inventoryIn(t, "BAKER", "B-")); r.status != http.StatusForbidden {
			t.Fatalf("a county admin edits the inventory: %d", r.status)
		}
	})
	t.Run("custody transfers form the device's chain of custody", func(t *testing.T) {
		r := adams.do("POST", "/api/v1/equipment/devices/SC-0001/custody",
			map[string]any{"from": "Warehouse A", "to": "Precinct 4", "by": "Jo Driver", "seals": []string{"S-9", "S-10"}})
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("POST", "/api/v1/equipment/devices/B-SC-0001/custody",
			map[string]any{"from": "a", "to": "b", "by": "c"}); r.status != http.StatusForbidden {
			t.Fatalf("custody of another county's device: %d", r.status)
		}
		page := officer.do("GET", "/equipment/devices/SC-0001", nil)
		if page.status != 200 || !strings.Contains(page.body, "Chain of custody") || !strings.Contains(page.body, "Jo Driver") ||
			!strings.Contains(page.body, "S-9, S-10") || !strings.Contains(page.body, "Precinct 4") {
			t.Fatalf("%d %s", page.status, page.body)
		}
	})
	t.Run("advisories are imported by a security officer, not by an equipment manager", func(t *testing.T) {
		b, _ := os.ReadFile(filepath.Join(equipmentTestdata, "advisories.json"))
		if r := stateMgr.do("POST", "/api/v1/equipment/advisories", string(b)); r.status != http.StatusForbidden {
			t.Fatalf("%d", r.status)
		}
		r := officer.do("POST", "/api/v1/equipment/advisories", string(b))
		if r.status != 200 || r.json()["recorded"] != float64(3) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the dashboard lists outdated and insecure devices by jurisdiction", func(t *testing.T) {
		r := adams.do("GET", "/equipment/dashboard", nil)
		if r.status != 200 || !strings.Contains(r.body, "EMS-01") || !strings.Contains(r.body, "Windows 7") ||
			!strings.Contains(r.body, "ESS-2024-01") || strings.Contains(r.body, "B-EMS-01") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		all := stateAdmin.do("GET", "/equipment/dashboard", nil)
		if !strings.Contains(all.body, `id="d-ADAMS"`) || !strings.Contains(all.body, `id="d-BAKER"`) {
			t.Fatalf("not grouped by jurisdiction: %s", all.body)
		}
		api := adams.do("GET", "/api/v1/equipment/outdated", nil)
		if api.status != 200 || !strings.Contains(api.body, "os_end_of_support") {
			t.Fatalf("%d %s", api.status, api.body)
		}
	})
	t.Run("the inventory page groups by jurisdiction and exports CSV", func(t *testing.T) {
		r := stateAdmin.do("GET", "/equipment", nil)
		if r.status != 200 || !strings.Contains(r.body, `id="j-BAKER"`) || !strings.Contains(r.body, "/equipment/devices/B-PB-0007") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		csv := adams.do("GET", "/equipment/inventory.csv", nil)
		if !strings.HasPrefix(csv.body, "id,kind,manufacturer,model,") || strings.Contains(csv.body, "B-SC-0001") {
			t.Fatal(csv.body)
		}
	})
	t.Run("unit costs need the state scope and price the plan", func(t *testing.T) {
		if r := adams.do("PUT", "/api/v1/equipment/costs", map[string]string{"kind": "pollbook", "cost": "1000"}); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := stateMgr.do("PUT", "/api/v1/equipment/costs", map[string]string{"kind": "pollbook", "cost": "1000.50"}); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		csv := adams.do("GET", "/equipment/plan.csv?years=10", nil)
		if !strings.HasPrefix(csv.body, "year,units,cost,unpriced,overdue,devices\n") || !strings.Contains(csv.body, "2001.00,0,0,PB-0007;UP-PB-0007") {
			t.Fatal(csv.body)
		}
	})
	t.Run("the plan page draws the chart and links CSV and PDF", func(t *testing.T) {
		r := adams.do("GET", "/equipment/plan?years=10", nil)
		if r.status != 200 || !strings.Contains(r.body, "<svg") || !strings.Contains(r.body, "/equipment/plan.pdf?years=10") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("GET", "/equipment/plan?years=0", nil); r.status != 400 {
			t.Fatalf("years=0: %d", r.status)
		}
	})
	t.Run("the plan PDF reads as text", func(t *testing.T) {
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		r := adams.do("GET", "/equipment/plan.pdf?years=10", nil)
		if r.status != 200 || !strings.HasPrefix(r.body, "%PDF") {
			t.Fatalf("%d", r.status)
		}
		f := filepath.Join(t.TempDir(), "plan.pdf")
		os.WriteFile(f, []byte(r.body), 0o600)
		out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		if !strings.Contains(text, "replacement plan") || !strings.Contains(text, "PB-0007") || !strings.Contains(text, "$2,001.00") ||
			strings.Contains(text, "B-PB-0007") {
			t.Fatal(text)
		}
	})

	t.Run("a pollbook below the minimum version is refused at sync, with the reason, and the refusal is logged", func(t *testing.T) {
		if r := officer.do("POST", "/api/v1/equipment/minimum", map[string]string{"version": "2.0.0"}); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := worker.do("POST", "/api/v1/equipment/device-check", map[string]string{"version": "1.9.3", "os": "Linux"})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "below the required minimum 2.0.0") ||
			!strings.Contains(r.body, "may not check voters in") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		ok := worker.do("POST", "/api/v1/equipment/device-check", map[string]string{"version": "2.1.0", "os": "Linux"})
		if ok.status != 200 || ok.json()["allowed"] != true {
			t.Fatalf("%d %s", ok.status, ok.body)
		}
	})
	t.Run("a pollbook affected by an advisory about vigil is refused", func(t *testing.T) {
		adv := `[{"id":"VIGIL-2026-01","manufacturer":"vigil","model":"pollbook","affected_versions":"2.1.x","severity":"critical","fixed_version":"2.2.0","component":"software"}]`
		if r := officer.do("POST", "/api/v1/equipment/advisories", adv); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := worker.do("POST", "/api/v1/equipment/device-check", map[string]string{"version": "2.1.0", "os": ""})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "VIGIL-2026-01") || !strings.Contains(r.body, "2.2.0") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := worker.do("POST", "/api/v1/equipment/device-check", map[string]string{"version": "2.2.0"}); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := worker.do("POST", "/api/v1/equipment/device-check", map[string]string{"version": "two"}); r.status != http.StatusForbidden {
			t.Fatalf("an unreadable version: %d %s", r.status, r.body)
		}
	})
	t.Run("a detection rule alerts on device.refused", func(t *testing.T) {
		var seq uint64
		var n int
		e.node.DB.QueryRow(`SELECT MIN(seq), COUNT(*) FROM events WHERE type = 'device.refused'`).Scan(&seq, &n)
		if n != 3 {
			t.Fatalf("%d device.refused events, want 3", n)
		}
		var site string
		e.node.DB.QueryRow(`SELECT site FROM device_refusals WHERE codes = 'below_minimum_version'`).Scan(&site)
		if site != "county/ADAMS/place/P01" {
			t.Fatalf("refusal site %q", site)
		}
		rs, err := detect.Parse([]byte("zone UTC\nhours mon-fri 07:00-19:00\n"+
			"rule pollbook-device-refused\n  severity high\n  title A pollbook device was refused\n  events device.refused\n"+
			"  group payload.device\n  window 1h\n  min 1\n"), "test")
		if err != nil {
			t.Fatal(err)
		}
		data, err := e.node.Log.Get(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			t.Fatal(err)
		}
		if alerts := detect.NewEngine(rs).Observe(seq, entry[0]); len(alerts) != 1 {
			t.Fatalf("%d alerts", len(alerts))
		}
	})
	t.Run("a jurisdiction named like a defined county belongs to that county", func(t *testing.T) {
		op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
		ev, _ := vigil.NewEvent(op, vigil.EventCountyDefined, "AUTAUGA", time.Now(), vigil.County{ID: "AUTAUGA", Name: "Autauga County"})
		if _, err := e.node.Append(context.Background(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		autauga := e.MustUser("eq-autauga", vigil.Grant{Role: vigil.RoleEquipmentManager, Scope: vigil.CountyScope("AUTAUGA")})
		if r := autauga.do("POST", "/api/v1/equipment/import", inventoryIn(t, "Autauga County", "AU-")); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("GET", "/api/v1/equipment/devices/AU-SC-0001", nil); r.status != http.StatusForbidden {
			t.Fatalf("another county's manager reads it: %d", r.status)
		}
		if r := autauga.do("GET", "/api/v1/equipment/devices/AU-SC-0001", nil); r.status != 200 || !strings.Contains(r.body, `"county":"AUTAUGA"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("log verification rebuilds the equipment tables and finds them equal", func(t *testing.T) {
		r := stateAdmin.do("POST", "/api/v1/log/verify", map[string]string{})
		if r.status != 200 || r.json()["ok"] != true {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// TestLifecycleRulesAreEditable: the security officer shortens a kind's
// life and records an OS end of support through the page and the API; the
// outdated list follows at once; an equipment manager may read the rules
// but not change them; removing an edit restores the default.
func TestLifecycleRulesAreEditable(t *testing.T) {
	e := MustServe(t)
	officer := e.MustUser("officer", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	mgr := e.MustUser("eq-adams", vigil.Grant{Role: vigil.RoleEquipmentManager, Scope: vigil.CountyScope("ADAMS")})
	csvBody := "id,kind,manufacturer,model,serial,jurisdiction,acquired,os,os_version,firmware_version,software_version,certification,status\n" +
		"SC-1,scanner,ES&S,DS200,S1,ADAMS,2020-06-01,Windows 11,23H2,2.17.4.1,,,in_service\n"
	if r := mgr.do("POST", "/api/v1/equipment/import", csvBody); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	flagged := func() string { return mgr.do("GET", "/api/v1/equipment/outdated", nil).body }
	if strings.Contains(flagged(), "SC-1") {
		t.Fatalf("a 2020 scanner on Windows 11 flagged by default: %s", flagged())
	}
	if r := mgr.do("POST", "/api/v1/equipment/rules", map[string]any{"rule": "life", "kind": "scanner", "years": 5}); r.status != http.StatusForbidden {
		t.Fatalf("an equipment manager changed a lifecycle rule: %d %s", r.status, r.body)
	}
	if r := officer.do("POST", "/api/v1/equipment/rules", map[string]any{"rule": "life", "kind": "scanner", "years": 0}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "years") {
		t.Fatalf("0 years accepted: %d %s", r.status, r.body)
	}
	if r := officer.do("POST", "/api/v1/equipment/rules", map[string]any{"rule": "life", "kind": "scanner", "years": 5}); r.status != 200 {
		t.Fatalf("set life: %d %s", r.status, r.body)
	}
	r := officer.form("/equipment/rules", url.Values{"rule": {"os"}, "os": {"Windows 11 23H2"}, "date": {"2025-11-11"}})
	if r.status != 200 || !strings.Contains(r.body, `data-subject="Windows 11 23H2"`) {
		t.Fatalf("set OS end through the page: %d %s", r.status, r.body)
	}
	out := flagged()
	if !strings.Contains(out, "end_of_life") || !strings.Contains(out, "os_end_of_support") {
		t.Fatalf("the outdated list does not follow the edited rules: %s", out)
	}
	if r := mgr.do("GET", "/api/v1/equipment/rules", nil); r.status != 200 || !strings.Contains(r.body, `"scanner":5`) {
		t.Fatalf("rules as read by the manager: %d %s", r.status, r.body)
	}
	if r := officer.do("POST", "/api/v1/equipment/rules", map[string]any{"rule": "life", "kind": "scanner", "remove": true}); r.status != 200 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if r := officer.do("POST", "/api/v1/equipment/rules", map[string]any{"rule": "os", "os": "Windows 11 23H2", "remove": true}); r.status != 200 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if strings.Contains(flagged(), "SC-1") {
		t.Fatalf("removed edits still apply: %s", flagged())
	}
	if e.eventCount(vigil.EventLifecycleRuleSet) != 4 {
		t.Fatalf("%d equipment.rule_set events, want 4", e.eventCount(vigil.EventLifecycleRuleSet))
	}
}
