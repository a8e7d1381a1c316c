package http_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

// form posts an HTML form with the session's CSRF token.
func (c *client) form(path string, v url.Values) response {
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

func newVoterBody(id, county, first, last string) map[string]any {
	return map[string]any{
		"voter": map[string]any{"id": id, "county": county, "precinct": "PCT-001",
			"name":       map[string]string{"first": first, "last": last},
			"birth_date": "1980-02-03", "residence": map[string]string{"line1": "12 MAIN ST", "city": "BRIGHTON", "state": "CO", "zip": "80601"},
			"party": "DEM", "status": map[string]string{"code": "active"}},
		"drivers_license": "CO55501234", "ssn4": "9876", "detail": "form 17"}
}

func (e *testEnv) eventCount(typ vigil.EventType) int {
	var n int
	e.node.DB.QueryRow(`SELECT count(*) FROM events WHERE type = ?`, string(typ)).Scan(&n)
	return n
}

func TestVoterRollThroughHTTP(t *testing.T) {
	e := MustServe(t)
	adams := e.MustUser("reg-adams", vigil.Grant{Role: vigil.RoleRegistrar, Scope: vigil.CountyScope("ADAMS")})
	baker := e.MustUser("reg-baker", vigil.Grant{Role: vigil.RoleRegistrar, Scope: vigil.CountyScope("BAKER")})
	admin := e.MustUser("admin-adams", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	worker := e.MustUser("worker", vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)})

	t.Run("a registrar registers a voter in their county", func(t *testing.T) {
		r := adams.do("POST", "/api/v1/voters", newVoterBody("AD100", "ADAMS", "WILLIAM", "SMITH"))
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if strings.Contains(r.body, "9876") || strings.Contains(r.body, "CO55501234") || strings.Contains(r.body, "sealed") ||
			!strings.Contains(r.body, `"has_ssn4":true`) {
			t.Fatalf("identifiers shown: %s", r.body)
		}
	})
	t.Run("a registrar cannot register a voter in another county", func(t *testing.T) {
		if r := adams.do("POST", "/api/v1/voters", newVoterBody("BK1", "BAKER", "ANN", "JONES")); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	if r := baker.do("POST", "/api/v1/voters", newVoterBody("BK1", "BAKER", "ANN", "JONES")); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	t.Run("a registrar cannot read or change a voter of another county", func(t *testing.T) {
		if r := adams.do("GET", "/api/v1/voters/BK1", nil); r.status != http.StatusForbidden {
			t.Fatalf("read: %d %s", r.status, r.body)
		}
		body := newVoterBody("BK1", "BAKER", "ANN", "JONES")
		body["reason"] = "correction"
		if r := adams.do("PUT", "/api/v1/voters/BK1", body); r.status != http.StatusForbidden {
			t.Fatalf("change: %d %s", r.status, r.body)
		}
		body = newVoterBody("AD100", "BAKER", "WILLIAM", "SMITH")
		body["reason"] = "moved"
		if r := adams.do("PUT", "/api/v1/voters/AD100", body); r.status != http.StatusForbidden {
			t.Fatalf("move out of scope: %d %s", r.status, r.body)
		}
	})
	t.Run("search is limited to the registrar's county and tolerates a nickname", func(t *testing.T) {
		r := adams.do("GET", "/api/v1/voters/search?q=bill+smith", nil)
		if r.status != 200 || !strings.Contains(r.body, "AD100") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("GET", "/api/v1/voters/search?q=ann+jones", nil); strings.Contains(r.body, "BK1") {
			t.Fatalf("another county's voter found: %s", r.body)
		}
	})
	t.Run("a change needs a reason and is in the history with who and why", func(t *testing.T) {
		body := newVoterBody("AD100", "ADAMS", "WILLIAM", "SMITH")
		body["voter"].(map[string]any)["residence"] = map[string]string{"line1": "9 ELM ST", "city": "BRIGHTON", "state": "CO", "zip": "80601"}
		if r := adams.do("PUT", "/api/v1/voters/AD100", body); r.status != http.StatusBadRequest {
			t.Fatalf("without a reason: %d %s", r.status, r.body)
		}
		body["reason"], body["detail"] = "address-change", "voter called"
		delete(body, "ssn4")
		if r := adams.do("PUT", "/api/v1/voters/AD100", body); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := adams.do("GET", "/api/v1/voters/AD100", nil)
		h := r.json()["history"].([]any)
		last := h[len(h)-1].(map[string]any)
		if len(h) != 2 || last["actor"] != "reg-adams" || last["reason"] != "address-change" || last["detail"] != "voter called" || last["changes"] != "address" {
			t.Fatalf("%s", r.body)
		}
	})
	t.Run("the register form warns about a likely duplicate while typing", func(t *testing.T) {
		r := adams.do("GET", "/voters/similar?first=Bill&last=Smith&birth_date=1980-02-03", nil)
		if r.status != 200 || !strings.Contains(r.body, "Possible duplicate") || !strings.Contains(r.body, "AD100") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("GET", "/voters/similar?first=Bill&last=Smith&birth_date=1980-02-03&id=AD100", nil); strings.Contains(r.body, "AD100") {
			t.Fatalf("a record is reported as a duplicate of itself: %s", r.body)
		}
		page := adams.do("GET", "/voters/new", nil)
		if !strings.Contains(page.body, `hx-get="/voters/similar"`) {
			t.Fatal("the form does not ask for duplicates")
		}
	})
	t.Run("the register form registers and shows the record with its history", func(t *testing.T) {
		r := adams.form("/voters/new", url.Values{"id": {"AD200"}, "county": {"ADAMS"}, "first": {"Mary"}, "last": {"Major"},
			"birth_date": {"1990-05-06"}, "line1": {"1 Oak St"}, "city": {"Brighton"}, "state": {"CO"}, "zip": {"80601"},
			"status": {"active"}, "ssn4": {"4321"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.body)
		}
		page := adams.do("GET", "/voters/record/AD200", nil)
		if page.status != 200 || !strings.Contains(page.body, "MARY MAJOR") || !strings.Contains(page.body, "new-registration") ||
			strings.Contains(page.body, "4321") {
			t.Fatalf("%d %s", page.status, page.body)
		}
		r = adams.form("/voters/record/AD200", url.Values{"county": {"ADAMS"}, "first": {"Mary"}, "last": {"Minor"},
			"birth_date": {"1990-05-06"}, "line1": {"1 Oak St"}, "city": {"Brighton"}, "state": {"CO"}, "zip": {"80601"},
			"status": {"active"}, "reason": {"name-change"}, "detail": {"marriage certificate"}})
		if r.status != 200 || !strings.Contains(r.body, "The change was recorded") || !strings.Contains(r.body, "marriage certificate") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a merge needs a reason and stays in the registrar's county", func(t *testing.T) {
		if r := adams.do("POST", "/api/v1/voters/AD100/merge", map[string]string{"drop": "AD200"}); r.status != http.StatusBadRequest {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("POST", "/api/v1/voters/AD100/merge", map[string]string{"drop": "BK1", "detail": "x"}); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adams.do("POST", "/api/v1/voters/AD100/merge", map[string]string{"drop": "AD200", "detail": "same person"}); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		v := adams.do("GET", "/api/v1/voters/AD200", nil).json()["voter"].(map[string]any)
		if v["merged_into"] != "AD100" || v["status"].(map[string]any)["code"] != "cancelled" {
			t.Fatalf("%v", v)
		}
	})
	t.Run("a poll worker sees only check-in fields and no record", func(t *testing.T) {
		if r := worker.do("GET", "/api/v1/voters/AD100", nil); r.status != http.StatusForbidden {
			t.Fatalf("%d", r.status)
		}
		if r := worker.do("GET", "/api/v1/voters/search?q=smith", nil); r.status != http.StatusForbidden {
			t.Fatalf("%d", r.status)
		}
	})
	t.Run("exports need their own permission and each is an event", func(t *testing.T) {
		if r := adams.do("GET", "/api/v1/voters/export?format=csv", nil); r.status != http.StatusForbidden {
			t.Fatalf("registrar export: %d", r.status)
		}
		before := e.eventCount(vigil.EventVoterExported)
		r := admin.do("GET", "/api/v1/voters/export?format=csv", nil)
		if r.status != 200 || !strings.Contains(r.body, "AD100") || strings.Contains(r.body, "BK1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := admin.do("GET", "/api/v1/voters/export?format=nist-json&scope=county/BAKER", nil); r.status != http.StatusForbidden {
			t.Fatalf("other county: %d", r.status)
		}
		if got := e.eventCount(vigil.EventVoterExported); got != before+1 {
			t.Fatalf("%d export events, want %d", got, before+1)
		}
	})
	t.Run("the projections still rebuild exactly from the log", func(t *testing.T) {
		diffs, _, err := e.node.VerifyProjections(context.Background(), t.TempDir())
		if err != nil || len(diffs) != 0 {
			t.Fatalf("%v %v", diffs, err)
		}
	})
}
