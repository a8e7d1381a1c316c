package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-elections/vigil/demo"
)

// apiSession is a signed-in API client of the demo (MFA is off there).
type apiSession struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func apiSignIn(t *testing.T, base, user string) *apiSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &apiSession{t: t, base: base, hc: &http.Client{Jar: jar}}
	resp, err := s.hc.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"username":"`+user+`","password":"`+demo.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ CSRF string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("signing in as %s: %d %v", user, resp.StatusCode, err)
	}
	s.csrf = out.CSRF
	return s
}

func (s *apiSession) send(method, path, contentType string, body io.Reader) string {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return string(b)
}

func (s *apiSession) upload(path, file string) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	b, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatal(err)
	}
	w, _ := mw.CreateFormFile("file", filepath.Base(file))
	w.Write(b)
	mw.Close()
	s.send("POST", path, mw.FormDataContentType(), &body)
}

// TestBrowserAuditSeedCeremony: an observer watches the audit page in
// chromium while the audit administrator, in another browser, enters the
// dice one by one; each digit appears on the observer's page without a
// reload (server-sent events), and then the finished seed.
func TestBrowserAuditSeedCeremony(t *testing.T) {
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
	tab := apiSignIn(t, base, "tabulator")
	tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"))
	tab.upload("/api/v1/tabulation/manifest?county=ADAMS", filepath.Join(cvrSamples, "arlo-fixtures", "manifest-for-TEST_CVRS.csv"))

	admin := openSession(t, browser, base)
	admin.signIn("audit-admin", demo.Password)
	if status := admin.navigate("/audits"); status != http.StatusOK {
		t.Fatalf("GET /audits: %d", status)
	}
	admin.fill("#a-id", "LIVE")
	admin.fill("#a-name", "Live ceremony")
	admin.fill("#a-jur", "ADAMS")
	admin.do(chromedp.Click(chromedp.CSS(`input[name="targeted"][value="Contest 1"]`)))
	if status := admin.submit(`form[action="/audits"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("creating the audit: %d\n%s", status, admin.bodyText())
	}
	admin.wantText(".notice", "Audit created")

	observer := openSession(t, browser, base)
	observer.signIn("observer", demo.Password)
	if status := observer.navigate("/audits/LIVE"); status != http.StatusOK {
		t.Fatalf("GET /audits/LIVE as observer: %d", status)
	}
	if n := observer.count(`form[action="/audits/LIVE/seed"]`); n != 0 {
		t.Fatal("the observer is offered the seed form")
	}
	seed := "62831853071795864769"
	for i, d := range seed {
		admin.fill("#digit", string(d))
		if status := admin.submit(`form[action="/audits/LIVE/seed"] button`); status != http.StatusOK {
			t.Fatalf("digit %d: %d\n%s", i+1, status, admin.bodyText())
		}
		if i == 2 || i == 11 {
			// The observer's page was loaded once, before any digit.
			observer.wantText("#seed-digits", seed[:i+1])
		}
	}
	if status := admin.submit(`form[action="/audits/LIVE/seed/finish"] button`); status != http.StatusOK {
		t.Fatalf("finishing: %d\n%s", status, admin.bodyText())
	}
	observer.wantText("#seed-final", seed)
	observer.wantText("#seed-count", "20")
	observer.screenshot(filepath.Join(shots, "audit-seed-live.png"))
}
