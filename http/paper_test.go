package http_test

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// TestPaperBackupsFromThePages: the county prints a polling place's paper
// pollbook, envelopes and voted list from the pages (read back with
// pdftotext); a supervisor only their own place's; a poll worker none;
// every print is a privileged read in the log.
func TestPaperBackupsFromThePages(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is needed: apt-get install -y poppler-utils (.ci/run installs it)")
	}
	e := MustServe(t)
	c := e.mustCounty(300)
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	sup := e.MustUser("super", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: vigil.PlaceScope("ADAMS", "P02")})
	w := e.MustUser("worker", workerGrant("P01"))
	here := votersAt(c, "P01", "active")
	if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": here[0].ID}); r.status != http.StatusCreated {
		t.Fatalf("check-in: %d %s", r.status, r.body)
	}
	text := func(pdf string) string {
		t.Helper()
		f := filepath.Join(t.TempDir(), "x.pdf")
		os.WriteFile(f, []byte(pdf), 0o600)
		out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v (%.100q)", err, pdf)
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}
	page := admin.do("GET", "/paper", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, "county/ADAMS/place/P01") {
		t.Fatalf("paper page: %d %s", page.status, page.body)
	}
	pb := admin.do("GET", "/paper/pollbook.pdf?site=county/ADAMS/place/P01", nil)
	if pb.status != http.StatusOK || !strings.HasPrefix(pb.body, "%PDF") {
		t.Fatalf("pollbook: %d %.200s", pb.status, pb.body)
	}
	if txt := text(pb.body); !strings.Contains(txt, here[1].LastName) || !strings.Contains(txt, c.Election.Name) ||
		!strings.Contains(strings.ToLower(txt), "page 1 of") {
		t.Fatalf("pollbook text: %.600s", txt)
	}
	env := admin.do("GET", "/paper/envelopes.pdf?site=county/ADAMS/place/P01&first=7&count=3", nil)
	if txt := text(env.body); !strings.Contains(txt, "PV-P01-00007") || !strings.Contains(txt, "PV-P01-00009") || strings.Contains(txt, "PV-P01-00010") {
		t.Fatalf("envelopes text: %.600s", txt)
	}
	voted := admin.do("GET", "/paper/voted.pdf?site=county/ADAMS/place/P01", nil)
	if txt := text(voted.body); !strings.Contains(txt, here[0].LastName) || strings.Contains(txt, here[1].LastName+", "+here[1].FirstName) {
		t.Fatalf("voted list text: %.600s", txt)
	}
	if r := admin.do("GET", "/paper/envelopes.pdf?site=county/ADAMS/place/P01&count=0", nil); r.status != http.StatusBadRequest {
		t.Fatalf("0 envelopes: %d", r.status)
	}
	if r := sup.do("GET", "/paper/pollbook.pdf?site=county/ADAMS/place/P01", nil); r.status != http.StatusForbidden {
		t.Fatalf("a P02 supervisor printed P01's pollbook: %d", r.status)
	}
	if r := sup.do("GET", "/paper/pollbook.pdf?site=county/ADAMS/place/P02", nil); r.status != http.StatusOK {
		t.Fatalf("a P02 supervisor printing P02's pollbook: %d %.200s", r.status, r.body)
	}
	if r := w.do("GET", "/paper/pollbook.pdf?site=county/ADAMS/place/P01", nil); r.status != http.StatusForbidden {
		t.Fatalf("a poll worker printed a pollbook: %d", r.status)
	}
	// A provisional ballot's envelope, printed with what the pollbook recorded.
	elsewhere := votersAt(c, "P02", "active")[0]
	issued := w.form("/pollbook/provisional", url.Values{"envelope": {"P-0042"}, "reason": {"wrong_place"},
		"voter": {elsewhere.ID}, "first_name": {elsewhere.FirstName}, "last_name": {elsewhere.LastName},
		"birth_date": {elsewhere.BirthDate}, "address": {"12 Main St"}})
	if issued.status != http.StatusOK || !strings.Contains(issued.body, `id="print-envelope"`) {
		t.Fatalf("provisional ballot page: %d %s", issued.status, issued.body)
	}
	env1 := w.do("GET", "/pollbook/provisional/P-0042/envelope.pdf", nil)
	if txt := text(env1.body); !strings.Contains(txt, "Envelope P-0042") || !strings.Contains(txt, elsewhere.LastName) ||
		!strings.Contains(txt, elsewhere.BirthDate) || !strings.Contains(txt, "solemnly swear") {
		t.Fatalf("filled envelope text: %.800s", txt)
	}
	if r := sup.do("GET", "/pollbook/provisional/P-0042/envelope.pdf?site=county/ADAMS/place/P02", nil); r.status != http.StatusNotFound {
		t.Fatalf("another place's supervisor printed P01's envelope: %d", r.status)
	}
	if n := e.eventCount(vigil.EventAccessPrivileged); n < 4 {
		t.Fatalf("%d privileged-read events for 4 prints", n)
	}
}
