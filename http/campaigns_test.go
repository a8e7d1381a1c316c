package http_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/campaign"
	vhttp "github.com/vigil-elections/vigil/http"
	"github.com/vigil-elections/vigil/node"
)

// Probe bodies for the role × action table (http_test.go's probes).
var (
	probeCampaign = map[string]any{"organisation": "Probe for Senate", "candidate": "Pat Probe", "race": "State Senate 1",
		"contacts": []map[string]string{{"name": "Pat Probe", "email": "pat@example.org"}}}
	probeFirm = map[string]any{"name": "Probe Security", "contact": map[string]string{"name": "Sam", "email": "sam@probe.example"},
		"specialties": []string{"email"}, "capacity": 3, "attested": true, "conflicts": []string{}}
)

func deskProbe(method, path string, body any) func(int) (string, string, any) {
	return func(int) (string, string, any) { return method, path, body }
}

// fakeClock is the node's clock in desk tests, so engagements can expire.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// desk is a real node and server with a fake clock, and the desk's users.
type desk struct {
	*testEnv
	clock   *fakeClock
	secrets map[string]string
}

func MustServeDesk(t *testing.T) *desk {
	t.Helper()
	ctx := context.Background()
	clock := &fakeClock{t: time.Now()}
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "http-test"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, node.Options{Dir: dir, CheckpointEvery: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	srv, err := vhttp.New(ctx, vhttp.Config{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	srv.Users().Argon = access.FastArgon2
	srv.Users().Now = clock.Now
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &desk{testEnv: &testEnv{t: t, node: n, srv: srv, ts: ts, now: clock.Now()}, clock: clock, secrets: map[string]string{}}
}

// MustUser creates an account with grant and TOTP (codes by the fake
// clock) and signs it in.
func (d *desk) MustUser(name string, g vigil.Grant) *client {
	d.t.Helper()
	ctx := context.Background()
	users := d.srv.Users()
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	if err := users.Create(ctx, op, name, "Test "+name, password); err != nil {
		d.t.Fatal(err)
	}
	if err := users.Grant(ctx, op, name, g); err != nil {
		d.t.Fatal(err)
	}
	s, _, _ := access.NewTOTP("vigil", name)
	code, _ := access.TOTPCode(s, d.clock.Now())
	if err := users.EnrollMFA(ctx, op, name, s, code); err != nil {
		d.t.Fatal(err)
	}
	d.secrets[name] = s
	return d.login(name)
}

func (d *desk) login(name string) *client {
	d.t.Helper()
	c := d.client()
	code, _ := access.TOTPCode(d.secrets[name], d.clock.Now())
	resp := c.do("POST", "/api/v1/session", map[string]string{"username": name, "password": password, "code": code})
	if resp.status != http.StatusCreated {
		d.t.Fatalf("login %s: %d %s", name, resp.status, resp.body)
	}
	c.csrf = resp.json()["csrf"].(string)
	return c
}

// form posts an HTML form the way a browser does.
func (c *client) postForm(path string, v url.Values) response {
	c.t.Helper()
	v.Set("csrf", c.csrf)
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

func want(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func listIDs(r response, key string) []string {
	var out []string
	list, _ := r.json()[key].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			id, _ := m["id"].(string)
			if id == "" {
				id, _ = m["campaign"].(string)
			}
			out = append(out, id)
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func allDone(except map[string]map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range campaign.Controls() {
		a := map[string]any{"control": string(c.ID), "points": 2}
		if x, ok := except[string(c.ID)]; ok {
			a = x
			a["control"] = string(c.ID)
		}
		out = append(out, a)
	}
	return out
}

// TestCampaignDesk runs the desk end to end through HTTP: two campaigns,
// three firms, the officer; then checks that tenants stay apart.
func TestCampaignDesk(t *testing.T) {
	d := MustServeDesk(t)
	officer := d.MustUser("officer", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	staffA := d.MustUser("staff-a", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/CA"})
	staffB := d.MustUser("staff-b", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/CB"})
	firmX := d.MustUser("firm-x", vigil.Grant{Role: vigil.RoleSecurityFirm, Scope: "firm/FX"})
	firmY := d.MustUser("firm-y", vigil.Grant{Role: vigil.RoleSecurityFirm, Scope: "firm/FY"})
	firmZ := d.MustUser("firm-z", vigil.Grant{Role: vigil.RoleSecurityFirm, Scope: "firm/FZ"})
	observer := d.MustUser("watcher", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})

	t.Run("campaigns register themselves as tenants", func(t *testing.T) {
		want(t, staffA.do("PUT", "/api/v1/campaigns/CA", map[string]any{"organisation": "Adams for Senate", "candidate": "Ann Adams",
			"race": "State Senate 4", "party": "Blue", "domain": "adamsforsenate.org",
			"contacts": []map[string]string{{"name": "Ada Secure", "role": "security lead", "email": "ada@adamsforsenate.org"}}}), 201)
		want(t, staffB.do("PUT", "/api/v1/campaigns/CB", map[string]any{"organisation": "Baker for Mayor", "candidate": "Bob Baker",
			"race": "Mayor", "party": "Green", "contacts": []map[string]string{{"name": "Bea", "email": "bea@baker.example"}}}), 201)
		r := want(t, staffA.do("PUT", "/api/v1/campaigns/CB", map[string]any{"organisation": "x"}), 403)
		if strings.Contains(r.body, "Baker") {
			t.Fatalf("refusal leaks the other campaign: %s", r.body)
		}
	})
	t.Run("bad input is refused naming the field", func(t *testing.T) {
		r := want(t, staffA.do("PUT", "/api/v1/campaigns/CA", map[string]any{"organisation": "", "candidate": "Ann", "race": "x",
			"contacts": []map[string]string{{"name": "A", "email": "not-an-email"}}}), 400)
		if r.json()["error"].(map[string]any)["field"] != "organisation" {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("firms apply and the officer vets them", func(t *testing.T) {
		firm := func(name string, areas []string, capacity int, conflicts []string) map[string]any {
			return map[string]any{"name": name, "contact": map[string]string{"name": "Lead", "email": "lead@" + strings.ToLower(name) + ".example"},
				"specialties": areas, "capacity": capacity, "attested": true, "conflicts": conflicts}
		}
		want(t, firmX.do("PUT", "/api/v1/firms/FX", firm("Xsec", []string{"email", "accounts"}, 2, []string{"Baker for Mayor"})), 200)
		want(t, firmY.do("PUT", "/api/v1/firms/FY", firm("Ysec", []string{"website"}, 1, nil)), 200)
		want(t, firmZ.do("PUT", "/api/v1/firms/FZ", firm("Zsec", []string{"email"}, 5, []string{"  adams FOR senate "})), 200)
		r := want(t, firmZ.do("PUT", "/api/v1/firms/FZ", map[string]any{"name": "Zsec", "specialties": []string{"email"}, "capacity": 1,
			"contact": map[string]string{"name": "L", "email": "l@z.example"}}), 400)
		if r.json()["error"].(map[string]any)["field"] != "attested" {
			t.Fatalf("an application without attestation: %s", r.body)
		}
		want(t, firmX.do("PUT", "/api/v1/firms/FY", firm("Hijack", []string{"email"}, 1, nil)), 403)
		want(t, firmX.do("POST", "/api/v1/firms/FX/vet", `{"status":"approved"}`), 403)
		for _, f := range []string{"FX", "FY", "FZ"} {
			want(t, officer.do("POST", "/api/v1/firms/"+f+"/vet", `{"status":"approved","note":"references checked"}`), 200)
		}
		list := officer.do("GET", "/api/v1/firms", nil)
		if !strings.Contains(list.body, "Baker for Mayor") {
			t.Fatalf("the officer does not see declared conflicts: %s", list.body)
		}
	})
	t.Run("campaigns see approved firms but never their declared conflicts", func(t *testing.T) {
		r := want(t, staffA.do("GET", "/api/v1/firms", nil), 200)
		if ids := listIDs(r, "firms"); len(ids) != 3 || strings.Contains(r.body, "Baker") || strings.Contains(r.body, "references") {
			t.Fatalf("%s", r.body)
		}
		r = want(t, firmY.do("GET", "/api/v1/firms", nil), 200)
		if ids := listIDs(r, "firms"); len(ids) != 1 || ids[0] != "FY" {
			t.Fatalf("a firm sees other firms' applications: %v", ids)
		}
	})
	t.Run("a self-assessment is scored, planned and kept over time", func(t *testing.T) {
		first := want(t, staffA.do("POST", "/api/v1/campaigns/CA/assessments", map[string]any{"answers": []map[string]any{
			{"control": "ACC-01", "points": 0, "evidence": "only the candidate has MFA"}, {"control": "PPL-01", "points": 2}}}), 201)
		a := first.json()["assessment"].(map[string]any)
		if a["rating"] != "At risk" || !strings.Contains(first.body, `"gating_controls":["ACC-01"`) {
			t.Fatalf("first: %s", first.body)
		}
		d.clock.Add(time.Minute)
		second := want(t, staffA.do("POST", "/api/v1/campaigns/CA/assessments", map[string]any{"answers": allDone(map[string]map[string]any{
			"IR-05": {"points": 1, "evidence": "enrolment pending with CISA"}})}), 201)
		a = second.json()["assessment"].(map[string]any)
		if a["rating"] != "Strong" || a["percent"].(float64) != 99 {
			t.Fatalf("second: %s", second.body)
		}
		plan := a["plan"].([]any)
		if len(plan) != 1 || plan[0].(map[string]any)["control"] != "IR-05" {
			t.Fatalf("plan: %v", plan)
		}
		hist := want(t, staffA.do("GET", "/api/v1/campaigns/CA/assessments", nil), 200).json()["assessments"].([]any)
		if len(hist) != 2 || hist[0].(map[string]any)["percent"].(float64) >= hist[1].(map[string]any)["percent"].(float64) {
			t.Fatalf("history: %v", hist)
		}
		r := want(t, staffA.do("POST", "/api/v1/campaigns/CA/assessments", `{"answers":[{"control":"ZZZ-99","points":2}]}`), 400)
		if r.json()["error"].(map[string]any)["field"] != "control" {
			t.Fatalf("%s", r.body)
		}
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/assessments", `{"answers":[{"control":"ACC-01","points":3}]}`), 400)
	})
	t.Run("the officer does not read self-assessments", func(t *testing.T) {
		want(t, officer.do("GET", "/api/v1/campaigns/CA/assessments", nil), 403)
		want(t, officer.do("GET", "/api/v1/campaigns/CA", nil), 200)
	})
	t.Run("the assessment exports to a PDF that reads back", func(t *testing.T) {
		req, _ := http.NewRequest("GET", staffA.base+"/campaigns/CA/assessment.pdf", nil)
		resp, err := staffA.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pdf, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		cmd := exec.Command("pdftotext", "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(out)), " ")
		for _, s := range []string{"Adams for Senate", "Score: 99%", "rating: Strong", "IR-05", "enrolment pending with CISA"} {
			if !strings.Contains(text, s) {
				t.Errorf("the PDF lacks %q:\n%s", s, text)
			}
		}
	})
	var engagement string
	t.Run("help is matched to approved firms with capacity, the specialty and no declared conflict", func(t *testing.T) {
		r := want(t, staffA.do("POST", "/api/v1/campaigns/CA/help", `{"areas":["email","training"],"urgency":"high","details":"phishing wave"}`), 201)
		props := r.json()["request"].(map[string]any)["proposals"].([]any)
		var firms []string
		for _, p := range props {
			firms = append(firms, p.(map[string]any)["firm"].(string))
		}
		if len(firms) != 1 || firms[0] != "FX" {
			t.Fatalf("proposed %v, want only FX (FY lacks email, FZ declared a conflict)", firms)
		}
		r = want(t, staffA.do("POST", "/api/v1/campaigns/CA/help", `{"areas":[],"urgency":"soon"}`), 400)
		if r.json()["error"].(map[string]any)["field"] != "areas" {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("a firm never reads a campaign it is not engaged with", func(t *testing.T) {
		for _, path := range []string{"/api/v1/campaigns/CA", "/api/v1/campaigns/CA/assessments", "/api/v1/campaigns/CA/help", "/campaigns/CA", "/campaigns/CA/assessment.pdf", "/api/v1/campaigns/NOPE"} {
			r := firmX.do("GET", path, nil)
			if r.status != 403 || strings.Contains(r.body, "Adams") {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
			}
		}
		for _, path := range []string{"/api/v1/campaigns", "/api/v1/incidents", "/api/v1/assessments", "/api/v1/engagements"} {
			r := want(t, firmX.do("GET", path, nil), 200)
			if strings.Contains(r.body, "CA") || strings.Contains(r.body, "Adams") {
				t.Errorf("GET %s lists a campaign that did not engage the firm: %s", path, r.body)
			}
		}
	})
	t.Run("an engagement starts only with the campaign's consent", func(t *testing.T) {
		r := want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":30,"consent":false}`), 400)
		if r.json()["error"].(map[string]any)["field"] != "consent" {
			t.Fatalf("%s", r.body)
		}
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FZ","days":30,"consent":true}`), 409)
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":365,"consent":true}`), 400)
		want(t, officer.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":30,"consent":true}`), 403)
		want(t, staffB.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":30,"consent":true}`), 403)
		r = want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":30,"consent":true}`), 201)
		engagement = r.json()["engagement"].(map[string]any)["id"].(string)
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":30,"consent":true}`), 409)
	})
	t.Run("the engaged firm reads the campaign, and the campaign sees every access", func(t *testing.T) {
		r := want(t, firmX.do("GET", "/api/v1/campaigns/CA", nil), 200)
		if !strings.Contains(r.body, "ada@adamsforsenate.org") {
			t.Fatalf("%s", r.body)
		}
		want(t, firmX.do("GET", "/api/v1/campaigns/CA/assessments", nil), 200)
		want(t, firmX.do("GET", "/campaigns/CA", nil), 200)
		if ids := listIDs(want(t, firmX.do("GET", "/api/v1/campaigns", nil), 200), "campaigns"); len(ids) != 1 || ids[0] != "CA" {
			t.Fatalf("firm's list: %v", ids)
		}
		want(t, firmX.do("PUT", "/api/v1/campaigns/CA", probeCampaign), 403)
		want(t, firmX.do("GET", "/api/v1/campaigns/CA/access", nil), 403)
		log := want(t, staffA.do("GET", "/api/v1/campaigns/CA/access", nil), 200)
		for _, what := range []string{"GET /api/v1/campaigns/CA", "GET /api/v1/campaigns/CA/assessments", "GET /campaigns/CA", "GET /api/v1/campaigns"} {
			if !strings.Contains(log.body, `"what":"`+what+`"`) {
				t.Errorf("the access log lacks %q: %s", what, log.body)
			}
		}
		if strings.Count(log.body, `"firm":"FX"`) < 4 {
			t.Errorf("%s", log.body)
		}
		want(t, firmY.do("GET", "/api/v1/campaigns/CA", nil), 403)
	})
	t.Run("a help request shows the firm engaged for it and proposes it no more", func(t *testing.T) {
		r := want(t, staffA.do("GET", "/api/v1/campaigns/CA/help", nil), 200)
		req := r.json()["requests"].([]any)[0].(map[string]any)
		if eng := req["engaged"].([]any); len(eng) != 0 {
			t.Fatalf("engaged %v without naming the request", eng)
		}
		if req["proposals"] != nil {
			t.Fatalf("an engaged firm is proposed again: %v", req["proposals"])
		}
		r = want(t, firmX.do("GET", "/api/v1/campaigns/CA/help", nil), 200)
		if strings.Contains(r.body, "proposals") || !strings.Contains(r.body, "phishing wave") {
			t.Fatalf("the firm's view of the requests: %s", r.body)
		}
	})
	t.Run("the campaign's lookalike domains are listed for monitoring", func(t *testing.T) {
		r := want(t, staffA.do("GET", "/api/v1/campaigns/CA/lookalikes", nil), 200)
		if !strings.Contains(r.body, `"domain":"adamsforsenate.com"`) || !strings.Contains(r.body, `"technique":"omission"`) {
			t.Fatalf("%s", r.body[:min(len(r.body), 400)])
		}
		want(t, firmY.do("GET", "/api/v1/campaigns/CA/lookalikes", nil), 403)
		want(t, staffB.do("GET", "/api/v1/campaigns/CB/lookalikes", nil), 400)
	})
	t.Run("a campaign never reads another", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{{"GET", "/api/v1/campaigns/CA"}, {"GET", "/api/v1/campaigns/CA/assessments"},
			{"GET", "/api/v1/campaigns/CA/access"}, {"GET", "/api/v1/campaigns/CA/help"}, {"GET", "/campaigns/CA"},
			{"GET", "/campaigns/CA/assessment"}, {"POST", "/api/v1/campaigns/CA/engagements/" + engagement + "/revoke"}} {
			r := staffB.do(c.method, c.path, nil)
			if r.status != 403 || strings.Contains(r.body, "Adams") || strings.Contains(r.body, "Ann") {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
			}
		}
		for _, path := range []string{"/api/v1/campaigns", "/api/v1/engagements", "/api/v1/incidents", "/api/v1/assessments"} {
			r := want(t, staffB.do("GET", path, nil), 200)
			if strings.Contains(r.body, `"CA"`) || strings.Contains(r.body, "Adams") || strings.Contains(r.body, engagement) {
				t.Errorf("GET %s shows campaign CA to CB: %s", path, r.body)
			}
		}
	})
	var incident string
	t.Run("incidents go to the officer and the engaged firm, with their status tracked", func(t *testing.T) {
		r := want(t, staffA.do("POST", "/api/v1/campaigns/CA/incidents", `{"kind":"account_takeover","summary":"candidate's X account taken over","occurred":"2026-10-30"}`), 201)
		incident = r.json()["incident"].(map[string]any)["id"].(string)
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/incidents", `{"kind":"alien invasion","summary":""}`), 400)
		for name, c := range map[string]*client{"officer": officer, "engaged firm": firmX, "campaign": staffA} {
			if !strings.Contains(want(t, c.do("GET", "/api/v1/incidents", nil), 200).body, incident) {
				t.Errorf("the %s does not see the incident", name)
			}
		}
		for name, c := range map[string]*client{"other firm": firmY, "other campaign": staffB} {
			if r := want(t, c.do("GET", "/api/v1/incidents", nil), 200); strings.Contains(r.body, incident) || strings.Contains(r.body, "taken over") {
				t.Errorf("the %s sees the incident", name)
			}
			r := want(t, c.do("POST", "/api/v1/incidents/"+incident, `{"status":"resolved"}`), 404)
			if strings.Contains(r.body, "Adams") || strings.Contains(r.body, "taken over") {
				t.Errorf("the %s's error leaks: %s", name, r.body)
			}
		}
		want(t, firmX.do("POST", "/api/v1/incidents/"+incident, `{"status":"triaged","note":"session tokens revoked"}`), 200)
		want(t, officer.do("POST", "/api/v1/incidents/"+incident, `{"status":"contained"}`), 200)
		r = want(t, officer.do("POST", "/api/v1/incidents/"+incident, `{"status":"forgotten"}`), 400)
		r = want(t, staffA.do("GET", "/api/v1/incidents", nil), 200)
		if !strings.Contains(r.body, `"status":"contained"`) || !strings.Contains(r.body, "session tokens revoked") {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("no tenant content is in the log in clear", func(t *testing.T) {
		ctx := context.Background()
		size, _ := d.node.Tree.Root()
		for seq := uint64(1); seq <= uint64(size); seq++ {
			data, err := d.node.Log.Get(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"Adams for Senate", "ada@adamsforsenate.org", "enrolment pending", "taken over", "phishing wave", "session tokens", "Baker for Mayor"} {
				if bytes.Contains(data, []byte(secret)) {
					t.Fatalf("entry %d holds %q in clear", seq, secret)
				}
			}
		}
		r := want(t, observer.do("GET", "/api/v1/log/entries/"+strconv.FormatUint(uint64(size), 10), nil), 200)
		if strings.Contains(r.body, "Adams") {
			t.Fatal("an observer reads tenant data in the log view")
		}
	})
	t.Run("a revoked engagement stops access at once", func(t *testing.T) {
		want(t, firmX.do("GET", "/api/v1/campaigns/CA", nil), 200)
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements/"+engagement+"/revoke", `{"reason":"done"}`), 204)
		want(t, firmX.do("GET", "/api/v1/campaigns/CA", nil), 403)
		want(t, firmX.do("POST", "/api/v1/incidents/"+incident, `{"status":"resolved"}`), 404)
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements/"+engagement+"/revoke", nil), 409)
	})
	t.Run("an expired engagement stops access at once", func(t *testing.T) {
		want(t, staffA.do("POST", "/api/v1/campaigns/CA/engagements", `{"firm":"FX","days":1,"consent":true}`), 201)
		want(t, firmX.do("GET", "/api/v1/campaigns/CA", nil), 200)
		d.clock.Add(25 * time.Hour)
		firmX = d.login("firm-x") // the old session has expired too
		want(t, firmX.do("GET", "/api/v1/campaigns/CA", nil), 403)
		staffA = d.login("staff-a")
		r := want(t, staffA.do("GET", "/api/v1/campaigns/CA", nil), 200)
		if strings.Contains(r.body, `"active":true`) {
			t.Fatalf("an expired engagement shows as active: %s", r.body)
		}
	})
	t.Run("a suspended firm loses access at once", func(t *testing.T) {
		staffB = d.login("staff-b")
		firmY = d.login("firm-y")
		officer = d.login("officer")
		want(t, staffB.do("POST", "/api/v1/campaigns/CB/engagements", `{"firm":"FY","days":10,"consent":true}`), 201)
		want(t, firmY.do("GET", "/api/v1/campaigns/CB", nil), 200)
		want(t, officer.do("POST", "/api/v1/firms/FY/vet", `{"status":"suspended","note":"complaint"}`), 200)
		want(t, firmY.do("GET", "/api/v1/campaigns/CB", nil), 403)
	})
	t.Run("the projections rebuild from the log", func(t *testing.T) {
		diffs, _, err := d.node.VerifyProjections(context.Background(), t.TempDir())
		if err != nil || len(diffs) > 0 {
			t.Fatalf("%v %v", err, diffs)
		}
	})
}

// TestCampaignDeskPages drives the desk's pages as a browser would:
// every page renders for the roles that use it, and forms answer bad
// input with a message next to each wrong field.
func TestCampaignDeskPages(t *testing.T) {
	d := MustServeDesk(t)
	officer := d.MustUser("officer", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})
	staff := d.MustUser("staff-a", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/CA"})
	other := d.MustUser("staff-b", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/CB"})
	firm := d.MustUser("firm-x", vigil.Grant{Role: vigil.RoleSecurityFirm, Scope: "firm/FX"})

	campaignForm := url.Values{"organisation": {"Adams for Senate"}, "candidate": {"Ann Adams"}, "race": {"State Senate 4"},
		"domain": {"adamsforsenate.org"}, "contacts.0.name": {"Ada"}, "contacts.0.email": {"ada@adamsforsenate.org"}}
	t.Run("a campaign registers through the form", func(t *testing.T) {
		v := url.Values{"id": {"CA"}}
		for k, x := range campaignForm {
			v[k] = x
		}
		r := staff.postForm("/campaigns", v)
		if r.status != http.StatusSeeOther {
			t.Fatalf("got %d: %s", r.status, r.body)
		}
		v.Set("id", "CB")
		if r := staff.postForm("/campaigns", v); r.status != http.StatusForbidden {
			t.Fatalf("registering another campaign's id: %d", r.status)
		}
	})
	t.Run("a form with bad input shows a message next to each wrong field", func(t *testing.T) {
		v := url.Values{"organisation": {""}, "candidate": {"Ann"}, "race": {"x"}, "domain": {"not a domain"},
			"contacts.0.name": {"Ada"}, "contacts.0.email": {"nope"}}
		r := want(t, staff.postForm("/campaigns/CA", v), 400)
		for _, f := range []string{"organisation", "domain", "contacts.0.email"} {
			if !strings.Contains(r.body, `data-field="`+f+`"`) {
				t.Errorf("no message for %s", f)
			}
		}
		if !strings.Contains(r.body, `value="Ann"`) {
			t.Error("the form lost the values typed in")
		}
		r = want(t, staff.postForm("/campaigns/CA/assessment", url.Values{"points.ACC-01": {"7"}, "evidence.ACC-02": {"a note without an answer"}}), 400)
		for _, f := range []string{"points.ACC-01", "points.ACC-02"} {
			if !strings.Contains(r.body, `data-field="`+f+`"`) {
				t.Errorf("no message for %s: %s", f, r.body)
			}
		}
		r = want(t, staff.postForm("/campaigns/CA/incidents", url.Values{"kind": {"phishing"}, "summary": {""}, "occurred": {"yesterday"}}), 400)
		for _, f := range []string{"summary", "occurred"} {
			if !strings.Contains(r.body, `data-field="`+f+`"`) {
				t.Errorf("no message for %s", f)
			}
		}
		r = want(t, firm.postForm("/firms/FX", url.Values{"name": {"Xsec"}, "capacity": {"0"}, "contact.name": {"L"}, "contact.email": {"l@x.example"}}), 400)
		for _, f := range []string{"specialties", "capacity", "attested"} {
			if !strings.Contains(r.body, `data-field="`+f+`"`) {
				t.Errorf("no message for %s", f)
			}
		}
		r = want(t, staff.postForm("/email-posture", url.Values{}), 400)
		if !strings.Contains(r.body, `data-field="spf"`) {
			t.Error("an empty posture form has no message")
		}
	})
	t.Run("the desk works through its forms", func(t *testing.T) {
		v := url.Values{"name": {"Xsec"}, "capacity": {"2"}, "contact.name": {"L"}, "contact.email": {"l@x.example"},
			"specialties": {"email", "accounts"}, "attested": {"yes"}, "conflicts": {"Someone Else\n\n"}}
		want(t, firm.postForm("/firms/FX", v), http.StatusSeeOther)
		want(t, officer.postForm("/firms/FX/vet", url.Values{"status": {"approved"}}), http.StatusSeeOther)
		answers := url.Values{}
		for _, c := range campaign.Controls() {
			answers.Set("points."+string(c.ID), "1")
		}
		answers.Set("evidence.ACC-01", "half the staff enrolled")
		want(t, staff.postForm("/campaigns/CA/assessment", answers), http.StatusSeeOther)
		want(t, staff.postForm("/campaigns/CA/help", url.Values{"areas": {"email"}, "urgency": {"critical"}, "details": {"spoofed mail"}}), http.StatusSeeOther)
		page := want(t, staff.do("GET", "/campaigns/CA", nil), 200)
		if !strings.Contains(page.body, `data-firm="FX"`) {
			t.Fatalf("the help request proposes no firm: %s", page.body)
		}
		r := want(t, staff.postForm("/campaigns/CA/engagements", url.Values{"firm": {"FX"}, "days": {"30"}}), 400)
		if !strings.Contains(r.body, `data-field="consent"`) {
			t.Fatal("engaging without consent has no message")
		}
		want(t, staff.postForm("/campaigns/CA/engagements", url.Values{"firm": {"FX"}, "days": {"30"}, "consent": {"yes"}}), http.StatusSeeOther)
		want(t, staff.postForm("/campaigns/CA/incidents", url.Values{"kind": {"defacement"}, "summary": {"home page replaced"}}), http.StatusSeeOther)
		want(t, firm.postForm("/email-posture", url.Values{"spf": {"v=spf1 +all"}, "dmarc": {"v=DMARC1; p=none"}}), 200)
	})
	t.Run("every page renders for the roles that use it", func(t *testing.T) {
		pages := map[string][]string{
			"campaign":         {"/campaigns", "/campaigns/CA", "/campaigns/CA/assessment", "/firms", "/incidents", "/email-posture"},
			"firm":             {"/campaigns", "/campaigns/CA", "/campaigns/CA/assessment", "/firms", "/incidents", "/email-posture"},
			"officer":          {"/campaigns", "/campaigns/CA", "/firms", "/incidents", "/email-posture"},
			"another campaign": {"/campaigns", "/firms", "/incidents"},
		}
		clients := map[string]*client{"campaign": staff, "firm": firm, "officer": officer, "another campaign": other}
		for who, paths := range pages {
			for _, p := range paths {
				r := clients[who].do("GET", p, nil)
				if r.status != 200 || !strings.Contains(r.body, "</main>") {
					t.Errorf("%s GET %s: %d %s", who, p, r.status, r.body)
				}
				if who == "another campaign" && strings.Contains(r.body, "Adams") {
					t.Errorf("%s GET %s shows campaign CA", who, p)
				}
			}
		}
		r := want(t, officer.do("GET", "/campaigns", nil), 200)
		if !strings.Contains(r.body, `id="waiting-help"`) || !strings.Contains(r.body, "<td>critical</td>") {
			t.Errorf("the officer's desk does not queue the help request: %s", r.body)
		}
		if r := officer.do("GET", "/campaigns/CA/assessment", nil); r.status != 403 {
			t.Errorf("the officer opens the questionnaire: %d", r.status)
		}
		r = want(t, firm.do("GET", "/campaigns/CA", nil), 200)
		if strings.Contains(r.body, `id="request-help"`) || strings.Contains(r.body, `id="edit-campaign"`) || strings.Contains(r.body, `id="access-log"`) {
			t.Error("the firm is offered the campaign's own forms")
		}
		r = want(t, staff.do("GET", "/campaigns/CA", nil), 200)
		for _, s := range []string{`id="access-log"`, "GET /campaigns/CA", `id="request-help"`, `id="report-incident"`, "home page replaced", "xn--"} {
			if !strings.Contains(r.body, s) {
				t.Errorf("the campaign page lacks %q", s)
			}
		}
		r = want(t, firm.postForm("/email-posture", url.Values{"spf": {"v=spf1 +all"}}), 200)
		if !strings.Contains(r.body, `class="grade">F<`) {
			t.Errorf("SPF +all is not graded F: %s", r.body)
		}
	})
}

func TestEmailPostureAPI(t *testing.T) {
	e := MustServe(t)
	c := e.MustUser("staff", vigil.Grant{Role: vigil.RoleCampaignStaff, Scope: "campaign/C1"})
	r := want(t, c.do("POST", "/api/v1/email-posture", map[string]string{"spf": "v=spf1 include:_spf.google.com -all",
		"dmarc": "v=DMARC1; p=reject; rua=mailto:dmarc@example.org"}), 200)
	reps := r.json()["reports"].([]any)
	if len(reps) != 2 || reps[0].(map[string]any)["record"] != "SPF" || reps[1].(map[string]any)["record"] != "DMARC" {
		t.Fatalf("%s", r.body)
	}
	r = want(t, c.do("POST", "/api/v1/email-posture", map[string]string{"spf": strings.Repeat("a", 9000)}), 400)
	if r.json()["error"].(map[string]any)["field"] != "spf" {
		t.Fatalf("%s", r.body)
	}
	want(t, e.MustUser("clerk", vigil.Grant{Role: vigil.RoleRegistrar, Scope: "county/ADAMS"}).do("POST", "/api/v1/email-posture", map[string]string{"spf": "v=spf1 -all"}), 403)
}
