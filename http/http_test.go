package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	vhttp "github.com/vigil-elections/vigil/http"
	"github.com/vigil-elections/vigil/node"
)

const password = "a long enough password"

// testEnv is a real node and HTTP server in a temp dir.
type testEnv struct {
	t    *testing.T
	node *node.Node
	srv  *vhttp.Server
	ts   *httptest.Server
	now  time.Time
}

func MustServe(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "http-test"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	srv, err := vhttp.New(ctx, vhttp.Config{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	srv.Users().Argon = access.FastArgon2
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testEnv{t: t, node: n, srv: srv, ts: ts, now: time.Now()}
}

// MustUser creates an account holding grant, enrolls TOTP if the role needs
// it, and returns a signed-in client.
func (e *testEnv) MustUser(name string, g vigil.Grant) *client {
	e.t.Helper()
	ctx := context.Background()
	users := e.srv.Users()
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	if err := users.Create(ctx, op, name, "Test "+name, password); err != nil {
		e.t.Fatal(err)
	}
	if err := users.Grant(ctx, op, name, g); err != nil {
		e.t.Fatal(err)
	}
	secret := ""
	if access.NeedsMFA([]vigil.Grant{g}) {
		s, _, _ := access.NewTOTP("vigil", name)
		code, _ := access.TOTPCode(s, time.Now())
		if err := users.EnrollMFA(ctx, op, name, s, code); err != nil {
			e.t.Fatal(err)
		}
		secret = s
	}
	c := e.client()
	code := ""
	if secret != "" {
		code, _ = access.TOTPCode(secret, time.Now())
	}
	resp := c.do("POST", "/api/v1/session", map[string]string{"username": name, "password": password, "code": code})
	if resp.status != http.StatusCreated {
		e.t.Fatalf("login %s: %d %s", name, resp.status, resp.body)
	}
	c.csrf = resp.json()["csrf"].(string)
	if (g.Role == vigil.RolePollWorker || g.Role == vigil.RolePollSupervisor) && g.Scope.Kind() == "place" && g.Active(time.Now()) {
		e.mustEnrol(c, g.Scope) // a pollbook acts only from an enrolled device
	}
	return c
}

type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (e *testEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.ts.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status int
	body   string
}

func (r response) json() map[string]any {
	var m map[string]any
	json.Unmarshal([]byte(r.body), &m)
	return m
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	return c.send(method, path, contentType, rd, nil)
}

// send is a request with the session's CSRF token and extra headers.
func (c *client) send(method, path, contentType string, body io.Reader, headers map[string]string) response {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

// probes: one real request per action that has routes. Each is built so
// that it succeeds for an allowed role (status < 400 or a non-permission
// error) and is refused with 403 otherwise.
func probes() map[access.Action]func(i int) (method, path string, body any) {
	return map[access.Action]func(i int) (string, string, any){
		access.ActionHomeView:      func(int) (string, string, any) { return "GET", "/api/v1/me", nil },
		access.ActionAccountManage: func(int) (string, string, any) { return "GET", "/mfa", nil },
		access.ActionUserRead:      func(int) (string, string, any) { return "GET", "/api/v1/users", nil },
		access.ActionUserManage: func(i int) (string, string, any) {
			return "POST", "/api/v1/users", map[string]string{"name": "probe-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), "display_name": "Probe", "password": password}
		},
		access.ActionLogRead:       func(int) (string, string, any) { return "GET", "/api/v1/log/events", nil },
		access.ActionLogVerify:     func(int) (string, string, any) { return "POST", "/api/v1/log/verify", map[string]string{} },
		access.ActionCheckpointGet: func(int) (string, string, any) { return "GET", "/api/v1/log/verifier", nil },
		access.ActionVoterLookup:   func(int) (string, string, any) { return "GET", "/api/v1/voters?q=SMITH", nil },
		access.ActionVoterRead:     func(int) (string, string, any) { return "GET", "/api/v1/voters/search?q=SMITH", nil },
		access.ActionVoterWrite:    func(int) (string, string, any) { return "GET", "/api/v1/voters/similar?first=JO&last=SMITH", nil },
		access.ActionVoterMerge:    func(int) (string, string, any) { return "POST", "/api/v1/voters/X1/merge", `{"drop":"X2"}` },
		access.ActionVoterExport:   func(int) (string, string, any) { return "GET", "/api/v1/voters/export?format=csv", nil },
		access.ActionPublic:        func(int) (string, string, any) { return "GET", "/healthz", nil },
		access.ActionAlertRead:     func(int) (string, string, any) { return "GET", "/api/v1/alerts", nil },
		access.ActionAlertManage: func(int) (string, string, any) {
			return "POST", "/api/v1/alerts/probe0000/acknowledge", map[string]string{"note": "probe"}
		},
		access.ActionPollbookCheckIn: func(int) (string, string, any) { return "GET", "/api/v1/pollbook/voters?q=SMITH", nil },
		access.ActionPollbookUndo: func(int) (string, string, any) {
			return "POST", "/api/v1/pollbook/checkins/X1/undo", `{"reason":"probe"}`
		},
		access.ActionProvisionalIssue:   func(int) (string, string, any) { return "POST", "/api/v1/pollbook/provisionals", `{}` },
		access.ActionPollbookAdjudicate: func(int) (string, string, any) { return "GET", "/api/v1/pollbook/provisionals", nil },
		access.ActionTurnoutRead:        func(int) (string, string, any) { return "GET", "/api/v1/pollbook/turnout", nil },
		access.ActionPaperPrint: func(int) (string, string, any) {
			return "GET", "/paper/pollbook.pdf?site=county/ADAMS/place/P01", nil
		},
		access.ActionVoterHistory: func(int) (string, string, any) {
			return "POST", "/api/v1/voters/history", `{"election":"NONE","county":"ADAMS"}`
		},
		access.ActionPollbookPaper: func(int) (string, string, any) {
			return "GET", "/api/v1/pollbook/paper-mode?site=county/ADAMS/place/P01", nil
		},
		access.ActionTabulationImport: func(int) (string, string, any) { return "POST", "/api/v1/tabulation/manifest?county=ADAMS", `{}` },
		access.ActionTabulationRead:   func(int) (string, string, any) { return "GET", "/api/v1/tabulation/reconciliation?county=ADAMS", nil },
		access.ActionResultsPublish:   func(int) (string, string, any) { return "POST", "/api/v1/results/publish?county=ADAMS", `{}` },
		access.ActionResultsRead:      func(int) (string, string, any) { return "GET", "/api/v1/results", nil },

		access.ActionEquipmentRead:   func(int) (string, string, any) { return "GET", "/api/v1/equipment/devices", nil },
		access.ActionEquipmentWrite:  func(int) (string, string, any) { return "POST", "/api/v1/equipment/import", probeDeviceCSV },
		access.ActionEquipmentPolicy: func(int) (string, string, any) { return "POST", "/api/v1/equipment/advisories", `[]` },
		access.ActionDeviceCheck:     func(int) (string, string, any) { return "POST", "/api/v1/equipment/device-check", probeDeviceCheck },
		access.ActionDeviceRead:      func(int) (string, string, any) { return "GET", "/api/v1/devices", nil },
		access.ActionSiteRead:        func(int) (string, string, any) { return "GET", "/api/v1/sites", nil },
		access.ActionPollbookRegister: func(int) (string, string, any) {
			return "POST", "/api/v1/pollbook/registrations", `{"voter":{"name":{"first":"P","last":"Probe"}}}`
		},
		access.ActionCountyPolicy: func(int) (string, string, any) {
			return "POST", "/api/v1/counties/ADAMS/policy", `{"same_day_registration":false,"reason":"probe"}`
		},
		access.ActionDeviceManage: func(int) (string, string, any) {
			return "POST", "/api/v1/devices/codes", `{"site":"county/ADAMS/place/P01","name":"probe"}`
		},
		access.ActionDeviceEnrol: func(int) (string, string, any) {
			return "POST", "/api/v1/devices/enrol", `{"code":"0000-0000-0000-0000"}`
		},

		// The campaign desk: lists, or ids any allowed role may name (scopeFor gives campaign/C1 and firm/F1).
		access.ActionCampaignRead:      deskProbe("GET", "/api/v1/campaigns", nil),
		access.ActionCampaignManage:    deskProbe("PUT", "/api/v1/campaigns/C1", probeCampaign),
		access.ActionCampaignAssess:    deskProbe("POST", "/api/v1/campaigns/C1/assessments", `{"answers":[]}`),
		access.ActionAssessmentRead:    deskProbe("GET", "/api/v1/assessments", nil),
		access.ActionHelpRequest:       deskProbe("POST", "/api/v1/campaigns/C1/help", `{"areas":["email"],"urgency":"high"}`),
		access.ActionFirmRead:          deskProbe("GET", "/api/v1/firms", nil),
		access.ActionFirmApply:         deskProbe("PUT", "/api/v1/firms/F1", probeFirm),
		access.ActionFirmVet:           deskProbe("POST", "/api/v1/firms/F1/vet", `{"status":"approved"}`),
		access.ActionEngagementConsent: deskProbe("POST", "/api/v1/campaigns/C1/engagements", `{"firm":"F1","days":30,"consent":true}`),
		access.ActionEngagementRevoke:  deskProbe("POST", "/api/v1/campaigns/C1/engagements/Enone/revoke", nil),
		access.ActionIncidentReport:    deskProbe("POST", "/api/v1/campaigns/C1/incidents", `{"kind":"phishing","summary":"probe"}`),
		access.ActionIncidentRead:      deskProbe("GET", "/api/v1/incidents", nil),
		access.ActionIncidentUpdate:    deskProbe("POST", "/api/v1/incidents/Inone", `{"status":"triaged"}`),

		// Risk-limiting audits: a list, or an audit that does not exist (404 for allowed roles).
		access.ActionAuditRead:      func(int) (string, string, any) { return "GET", "/api/v1/audits", nil },
		access.ActionAuditReport:    func(int) (string, string, any) { return "GET", "/api/v1/audits/none/report.csv", nil },
		access.ActionAuditManage:    func(int) (string, string, any) { return "POST", "/api/v1/audits/none/rounds/close", nil },
		access.ActionAuditRetrieval: func(int) (string, string, any) { return "GET", "/api/v1/audits/none/boards/B1/retrieval", nil },
		access.ActionAuditEnter:     func(int) (string, string, any) { return "POST", "/api/v1/audits/none/boards/B1/signoff", `{}` },
	}
}

// scopeFor gives each role a scope it can hold.
func scopeFor(r vigil.Role) vigil.Scope {
	switch r {
	case vigil.RoleStateAdmin, vigil.RoleObserver, vigil.RoleSecurityOfficer:
		return vigil.ScopeState
	case vigil.RolePollWorker, vigil.RolePollSupervisor:
		return vigil.PlaceScope("ADAMS", "P01")
	case vigil.RoleCampaignStaff:
		return "campaign/C1"
	case vigil.RoleSecurityFirm:
		return "firm/F1"
	}
	return vigil.CountyScope("ADAMS")
}

func TestEveryRouteIsInTheMatrix(t *testing.T) {
	e := MustServe(t)
	routes := e.srv.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	covered := map[access.Action]bool{}
	for _, r := range routes {
		if _, ok := access.Matrix[r.Action]; !ok {
			t.Errorf("route %s names action %q, which is not in the permission matrix", r.Pattern, r.Action)
		}
		covered[r.Action] = true
	}
	for a := range covered {
		if _, ok := probes()[a]; !ok {
			t.Errorf("action %s has routes but no probe in the role × action table test", a)
		}
	}
}

func TestEveryRoleAndActionThroughHTTP(t *testing.T) {
	e := MustServe(t)
	window := vigil.Grant{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	i := 0
	for _, role := range vigil.HumanRoles {
		g := vigil.Grant{Role: role, Scope: scopeFor(role)}
		if role == vigil.RolePollWorker {
			g.NotBefore, g.NotAfter = window.NotBefore, window.NotAfter
		}
		c := e.MustUser("u-"+strings.ReplaceAll(string(role), "_", "-"), g)
		for action, probe := range probes() {
			i++
			method, path, body := probe(i)
			want := access.Allows(role, action)
			t.Run(string(role)+" "+map[bool]string{true: "may", false: "may not"}[want]+" "+string(action), func(t *testing.T) {
				r := c.do(method, path, body)
				if want && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized) {
					t.Fatalf("%s %s: refused with %d: %s", method, path, r.status, r.body)
				}
				if !want && r.status != http.StatusForbidden {
					t.Fatalf("%s %s: got %d, want 403: %s", method, path, r.status, r.body)
				}
			})
		}
	}
	t.Run("every denial is an event naming actor, role and scope", func(t *testing.T) {
		rows, err := e.node.DB.Query(`SELECT actor, role, scope FROM events WHERE type = 'access.denied'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var actor, role, scope string
			rows.Scan(&actor, &role, &scope)
			if actor == "" || role == "" || scope == "" {
				t.Fatalf("denial without actor/role/scope: %q %q %q", actor, role, scope)
			}
			n++
		}
		if n == 0 {
			t.Fatal("no denial was recorded")
		}
	})
}

func TestAccessRules(t *testing.T) {
	e := MustServe(t)
	admin := e.MustUser("county-a", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	t.Run("a county admin cannot grant a role in another county", func(t *testing.T) {
		e.MustUser("target", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})
		r := admin.do("POST", "/api/v1/users/target/grants", map[string]string{"role": "registrar", "scope": "county/BAKER"})
		if r.status != http.StatusForbidden {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("a county admin grants a registrar in their county", func(t *testing.T) {
		r := admin.do("POST", "/api/v1/users/target/grants", map[string]string{"role": "registrar", "scope": "county/ADAMS"})
		if r.status != http.StatusOK {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("a poll worker outside the voting period is refused", func(t *testing.T) {
		g := vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"),
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
		pw := e.MustUser("late-worker", g)
		if r := pw.do("GET", "/api/v1/voters?q=SMITH", nil); r.status != http.StatusForbidden {
			t.Fatalf("got %d", r.status)
		}
	})
	t.Run("a change without the CSRF token is refused and logged", func(t *testing.T) {
		saved := admin.csrf
		admin.csrf = ""
		r := admin.do("POST", "/api/v1/users", map[string]string{"name": "nocsrf", "display_name": "x", "password": password})
		admin.csrf = saved
		if r.status != http.StatusForbidden || r.json()["error"].(map[string]any)["field"] != "csrf" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("a role that needs MFA cannot sign in without the code", func(t *testing.T) {
		c := e.client()
		r := c.do("POST", "/api/v1/session", map[string]string{"username": "county-a", "password": password})
		if r.status != http.StatusUnauthorized || r.json()["error"].(map[string]any)["field"] != "code" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("login is throttled per account", func(t *testing.T) {
		c := e.client()
		var last response
		for range 6 {
			last = c.do("POST", "/api/v1/session", map[string]string{"username": "target", "password": "wrong password!!"})
		}
		if last.status != http.StatusTooManyRequests {
			t.Fatalf("6th failure: got %d %s", last.status, last.body)
		}
	})
}

func TestBadRequests(t *testing.T) {
	e := MustServe(t)
	admin := e.MustUser("admin", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState})
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"a malformed body is 400 naming the body", "POST", "/api/v1/users", "{not json", 400, "body"},
		{"an unknown field is 400 naming it", "POST", "/api/v1/users", map[string]any{"name": "x1", "colour": "red"}, 400, "colour"},
		{"a field of the wrong type is 400 naming it", "POST", "/api/v1/users", map[string]any{"name": 7}, 400, "name"},
		{"a bad user name is 400 naming it", "POST", "/api/v1/users", map[string]any{"name": "Bad Name", "display_name": "x", "password": password}, 400, "name"},
		{"a short password is 400 naming it", "POST", "/api/v1/users", map[string]any{"name": "shorty", "display_name": "x", "password": "short"}, 400, "password"},
		{"a bad scope is 400 naming it", "POST", "/api/v1/users/admin/grants", map[string]any{"role": "registrar", "scope": "county/"}, 400, "scope"},
		{"a bad query parameter is 400 naming it", "GET", "/api/v1/log/proof/inclusion?seq=abc", nil, 400, "seq"},
		{"an unknown route is 404", "GET", "/api/v1/nothing-here", nil, 404, ""},
		{"a duplicate account is 409", "POST", "/api/v1/users", map[string]any{"name": "admin", "display_name": "x", "password": password}, 409, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.do(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("got %d, want %d: %s", r.status, tt.status, r.body)
			}
			errObj, _ := r.json()["error"].(map[string]any)
			if errObj == nil || errObj["message"] == "" {
				t.Fatalf("no error object: %s", r.body)
			}
			if tt.field != "" && errObj["field"] != tt.field {
				t.Fatalf("field %v, want %s", errObj["field"], tt.field)
			}
		})
	}
	t.Run("nothing was half-written", func(t *testing.T) {
		users, _ := e.node.DB.Users(context.Background())
		if len(users) != 1 {
			t.Fatalf("%d accounts after bad requests", len(users))
		}
	})
}

func TestProofsVerify(t *testing.T) {
	e := MustServe(t)
	admin := e.MustUser("admin", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState})
	anon := e.client()
	ck := anon.do("GET", "/api/v1/log/checkpoint", nil)
	if ck.status != 200 || !strings.Contains(ck.body, "vigil.log/") {
		t.Fatalf("checkpoint: %d %s", ck.status, ck.body)
	}
	incl := anon.do("GET", "/api/v1/log/proof/inclusion?seq=1", nil).json()
	if incl["proof"] == nil {
		t.Fatalf("no proof: %v", incl)
	}
	r := admin.do("POST", "/api/v1/log/verify", map[string]string{})
	if r.status != 200 || r.json()["ok"] != true {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	entry := admin.do("GET", "/api/v1/log/entries/1", nil)
	if strings.Contains(entry.body, "argon2id") {
		t.Fatal("the entry view leaks a password hash")
	}
}

func TestPanicIsRecoveredWithoutInternals(t *testing.T) {
	e := MustServe(t)
	e.srv.Handle("GET /api/v1/boom", access.ActionPublic, func(w http.ResponseWriter, r *http.Request) error {
		panic("secret internal detail")
	})
	r := e.client().do("GET", "/api/v1/boom", nil)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("got %d", r.status)
	}
	if strings.Contains(r.body, "secret") || r.json()["error"] == nil {
		t.Fatalf("panic answer leaks or is malformed: %s", r.body)
	}
	if again := e.client().do("GET", "/healthz", nil); again.status != 200 {
		t.Fatal("server unhealthy after a panic")
	}
}
