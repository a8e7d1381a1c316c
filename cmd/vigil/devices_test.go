package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

// issueCode issues a one-time enrolment code from the console, as a county
// operator does before election day.
func issueCode(t *testing.T, dir, site string) string {
	t.Helper()
	out, err := run(t, "devices", "code", "--data", dir, "--site", site, "--name", "test tablet")
	if err != nil {
		t.Fatalf("devices code: %v\n%s", err, out)
	}
	code, _, _ := strings.Cut(out, "\n")
	if vigil.NormalizeEnrolmentCode(code) == "" {
		t.Fatalf("devices code printed %q", out)
	}
	return code
}

// enrol redeems a code for this API client (a laptop's pollbook client):
// its token goes with every later request.
func (c *apiClient) enrol(t *testing.T, code string) string {
	t.Helper()
	status, body, err := c.post(context.Background(), "/api/v1/devices/enrol", map[string]string{"code": code})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("enrol: %d %v %s", status, err, body)
	}
	var r struct {
		Token  string
		Device vigil.PollbookDevice
	}
	json.Unmarshal(body, &r)
	c.device = r.Token
	return r.Device.ID
}

// enrol redeems a code on the enrolment page, as a poll worker does on a
// new tablet.
func (p *session) enrol(code string) {
	p.t.Helper()
	if status := p.navigate("/pollbook"); status != http.StatusOK {
		p.fail("GET /pollbook on an unenrolled tablet: %d", status)
	}
	p.wantText("#reason", "not enrolled") // sent to the enrolment page, saying why
	p.fill("#code", code)
	if status := p.submit("#enrol"); status != http.StatusOK {
		p.fail("enrol: %d\n%s", status, p.bodyText())
	}
	p.wantText("#enrolled", "now pollbook")
}

const demoSite = "county/ADAMS/place/P01"

func TestDevicesAndLifecycleRulesFromTheCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	county := pollbookCounty(t, dir, 200)
	n, err := node.Open(context.Background(), node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()

	t.Run("codes: one per device, well-formed sites only", func(t *testing.T) {
		a, b := issueCode(t, dir, demoSite), issueCode(t, dir, demoSite)
		if a == b {
			t.Fatal("two codes are the same")
		}
		if out, err := run(t, "devices", "code", "--data", dir, "--site", "county/ADAMS", "--name", "x"); err == nil || !strings.Contains(err.Error(), "polling place") {
			t.Fatalf("a code for a whole county: %v %s", err, out)
		}
		if out, err := run(t, "devices", "code", "--data", dir, "--site", "county/ADAMS/place/P99", "--name", "x"); err == nil || !strings.Contains(err.Error(), "no polling place P99") {
			t.Fatalf("a code for a place that does not exist: %v %s", err, out)
		}
	})
	t.Run("list and revoke", func(t *testing.T) {
		base := startServeInProcess(t, dir)
		c := signInAPI(t, base, "pollworker")
		id := c.enrol(t, issueCode(t, dir, demoSite))
		out, err := run(t, "devices", "list", "--data", dir, "--county", "ADAMS")
		if err != nil {
			t.Fatal(err, out)
		}
		rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
		if len(rows) != 2 || strings.Join(rows[0], ",") != "id,site,name,version,os,status,enrolled,reported" ||
			rows[1][0] != id || rows[1][5] != "enrolled" {
			t.Fatalf("devices list:\n%s", out)
		}
		if out, err := run(t, "devices", "revoke", id, "--data", dir); err == nil || !strings.Contains(err.Error(), "reason") {
			t.Fatalf("revoke without a reason: %v %s", err, out)
		}
		if out, err := run(t, "devices", "revoke", id, "--data", dir, "--reason", "left in a car"); err != nil {
			t.Fatal(err, out)
		}
		status, body, _ := c.post(context.Background(), "/api/v1/equipment/device-check", map[string]string{"version": vigil.Version, "os": "Linux"})
		if status != http.StatusForbidden || !strings.Contains(string(body), "left in a car") {
			t.Fatalf("a revoked device at sync: %d %s", status, body)
		}
		// The serving node's detection raises an alert for the administrators.
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, _ := run(t, "alerts", "list", "--data", dir)
			if strings.Contains(out, "A pollbook device was refused") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no alert for the refused device:\n%s", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	t.Run("lifecycle rules: set, shown as edited, removed", func(t *testing.T) {
		vigilWant(t, "rule life:pollbook set", "equipment", "rules", "set", "--data", dir, "--life", "pollbook=6")
		vigilWant(t, "set", "equipment", "rules", "set", "--data", dir, "--os-end", "Windows 11 23H2=2025-11-11")
		vigilWant(t, "set", "equipment", "rules", "set", "--data", dir, "--withdrawn", "EVS@6.0.4.0=2026-03-01:lab finding")
		out := vigilWant(t, "rule,subject,value,edited", "equipment", "rules", "--data", dir, "--format", "csv")
		for _, want := range []string{"life,pollbook,6,yes", "life,scanner,10,no", "os,Windows 11 23H2,2025-11-11,yes",
			"os,Windows 7,2020-01-14,no", "withdrawn,EVS@6.0.4.0,2026-03-01 (lab finding),yes"} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}
		for _, bad := range [][]string{
			{"--life", "pollbook=0"}, {"--life", "toaster=5"}, {"--os-end", "Windows 11=2025-13-01"},
			{"--os-end", "Windows 11"}, {"--life", "pollbook=6", "--os-end", "x=2020-01-01"}, {"--life", "pollbook=6", "--remove"},
		} {
			args := append([]string{"equipment", "rules", "set", "--data", dir}, bad...)
			if out, err := run(t, args...); err == nil {
				t.Errorf("%v accepted: %s", bad, out)
			}
		}
		vigilWant(t, "removed", "equipment", "rules", "set", "--data", dir, "--life", "pollbook", "--remove")
		out = vigilWant(t, "life", "equipment", "rules", "--data", dir, "--format", "csv")
		if !strings.Contains(out, "life,pollbook,10,no\n") {
			t.Fatalf("removed edit still applies:\n%s", out)
		}
	})
	t.Run("paper fallback: mode on and off, then the paper check-ins entered, once", func(t *testing.T) {
		if _, err := run(t, "pollbook", "paper-mode", "--data", dir, "--site", demoSite, "--on"); err == nil || !strings.Contains(err.Error(), "reason") {
			t.Fatalf("paper mode without a reason: %v", err)
		}
		vigilWant(t, "is on paper", "pollbook", "paper-mode", "--data", dir, "--site", demoSite, "--on", "--reason", "power cut")
		vigilWant(t, "back on the electronic", "pollbook", "paper-mode", "--data", dir, "--site", demoSite, "--off")
		var ids []string
		place := map[string]string{}
		for _, p := range county.Precincts {
			place[p.ID] = p.Place
		}
		for _, v := range county.Voters {
			if place[v.Precinct] == "P01" && len(ids) < 3 {
				ids = append(ids, v.ID)
			}
		}
		file := filepath.Join(t.TempDir(), "paper.csv")
		os.WriteFile(file, []byte("voter\n"+strings.Join(ids, "\n")+"\n"), 0o600)
		out := vigilWant(t, "# 3 checked in, 0 already entered, 0 conflicts", "pollbook", "paper-entry", "--data", dir, "--site", demoSite, file)
		if !strings.HasPrefix(out, "line,voter,outcome\n2,"+ids[0]+",checked_in\n") {
			t.Fatalf("paper-entry output:\n%s", out)
		}
		vigilWant(t, "# 0 checked in, 3 already entered, 0 conflicts", "pollbook", "paper-entry", "--data", dir, "--site", demoSite, file)
		os.WriteFile(file, []byte("voter\n"+ids[0]+"\n"+ids[0]+"\n"), 0o600)
		if _, err := run(t, "pollbook", "paper-entry", "--data", dir, "--site", demoSite, file); err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("a voter twice in one file: %v", err)
		}
	})
	t.Run("voting history is written back only after the polls close", func(t *testing.T) {
		if _, err := run(t, "voters", "history", "--data", dir, "--election", "NOPE"); err == nil || !strings.Contains(err.Error(), "no election NOPE") {
			t.Fatalf("unknown election: %v", err)
		}
		if _, err := run(t, "voters", "history", "--data", dir, "--election", county.Election.ID); err == nil || !strings.Contains(err.Error(), "polls have closed") {
			t.Fatalf("history while voting is open: %v", err)
		}
	})
	if out, err := run(t, "verify", "--data", dir); err != nil {
		t.Fatalf("vigil verify after device and rule events: %v\n%s", err, out)
	}
}

// vigilWant runs vigil and fails unless it succeeds printing want.
func vigilWant(t *testing.T, want string, args ...string) string {
	t.Helper()
	out := mustVigil(t, args...)
	if !strings.Contains(out, want) {
		t.Fatalf("vigil %s: want %q in\n%s", strings.Join(args, " "), want, out)
	}
	return out
}
