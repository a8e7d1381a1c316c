package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil/demo"
)

// TestBrowserAlerts: the security officer watches the alerts page in
// chromium while an attack happens; the new alert appears without a
// reload (server-sent events), and the officer acknowledges it with a note.
func TestBrowserAlerts(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)")
	}
	base := startDemo(t, t.TempDir())
	browser := startBrowser(t, chromium)
	shots := os.Getenv("VIGIL_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	p := openSession(t, browser, base)
	p.signIn("security", demo.Password)
	if status := p.navigate("/alerts"); status != http.StatusOK {
		t.Fatalf("GET /alerts: %d", status)
	}
	// Building the demo granted administrative roles: detection saw them.
	p.wantText("#alerts", "An administrative or security role was granted")

	for range 7 {
		resp, err := http.Post(base+"/api/v1/session", "application/json",
			strings.NewReader(`{"username":"mallory","password":"guess guess guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	p.wantText("#live", "New medium alert: Burst of failed logins on one account")
	p.wantText("#alerts article:first-of-type", "name=MALLORY")
	p.screenshot(filepath.Join(shots, "alerts-live.png"))

	p.navigate("/alerts")
	form := `#alerts article:first-of-type form[action$="/acknowledge"]`
	p.wantText("#alerts article:first-of-type h2", "Burst of failed logins")
	p.fill(form+` input[name="note"]`, "Checked with IT: a scanner, blocked at the firewall")
	if status := p.submit(form + " button"); status != http.StatusOK {
		t.Fatalf("acknowledging: %d", status)
	}
	p.wantText(".notice", "Acknowledged alert")
	p.wantText("#alerts", "acknowledged by security")
	p.screenshot(filepath.Join(shots, "alerts-acknowledged.png"))
}
