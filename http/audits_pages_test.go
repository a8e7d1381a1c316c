package http_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// post sends a form the way the pages do (csrf as a form field).
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	form.Set("csrf", c.csrf)
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return response{resp.StatusCode, resp.Header.Get("Location")}
	}
	return response{resp.StatusCode, string(b)}
}

func TestAuditPagesDriveTheWorkflow(t *testing.T) {
	e := mustAuditEnv(t)
	adams := vigil.CountyScope("ADAMS")
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
	ann := e.MustUser("ann", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	obs := e.MustUser("obs", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})

	t.Run("the audit admin creates an audit from the list page", func(t *testing.T) {
		r := adm.do("GET", "/audits", nil)
		if r.status != 200 || !strings.Contains(r.body, `name="targeted" value="Contest 1"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		form := url.Values{"id": {"F1"}, "name": {"Form audit"}, "kind": {"bravo"}, "risk_limit": {"ten"}, "jurisdictions": {"ADAMS"}, "targeted": {"Contest 1"}}
		if r := adm.post("/audits", form); r.status != http.StatusBadRequest || !strings.Contains(r.body, "risk_limit: the risk limit is a whole percentage") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		form.Set("risk_limit", "10")
		if r := adm.post("/audits", form); r.status != http.StatusSeeOther || !strings.HasPrefix(r.body, "/audits/F1?msg=") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := obs.do("GET", "/audits", nil); r.status != 200 || !strings.Contains(r.body, "Form audit") || strings.Contains(r.body, "Create audit") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the ceremony's digits are entered one by one on the page", func(t *testing.T) {
		if r := adm.post("/audits/F1/seed", url.Values{"digit": {"x"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "digit: enter the one digit") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, d := range "0246813579" {
			if r := adm.post("/audits/F1/seed", url.Values{"digit": {string(d)}}); r.status != http.StatusSeeOther {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
		if r := adm.post("/audits/F1/seed/finish", url.Values{}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "the seed has 10 digits") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, d := range "0246813579" {
			adm.post("/audits/F1/seed", url.Values{"digit": {string(d)}})
		}
		if r := adm.post("/audits/F1/seed/finish", url.Values{}); r.status != http.StatusSeeOther || !strings.Contains(r.body, "02468135790246813579") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := obs.do("GET", "/audits/F1", nil)
		if !strings.Contains(r.body, "<tr><td>ADAMS</td><td>4</td><td>15</td></tr>") {
			t.Fatalf("the page does not show ADAMS's manifest (4 batches, 15 ballots):\n%s", r.body)
		}
		if r.status != 200 || !strings.Contains(r.body, `id="seed-final">02468135790246813579`) || !strings.Contains(r.body, `data-stream="/audits/F1/seed/stream"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("boards and the draw from the audit page", func(t *testing.T) {
		if r := adm.post("/audits/F1/boards", url.Values{"board": {"FB"}, "jurisdiction": {"ADAMS"}, "member1": {"ann"}, "member2": {"ann"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "members: an audit board has two different members") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adm.post("/audits/F1/boards", url.Values{"board": {"FB"}, "jurisdiction": {"ADAMS"}, "member1": {"ann"}, "member2": {"ari"}}); r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adm.post("/audits/F1/rounds", url.Values{"size": {"3"}}); r.status != http.StatusSeeOther || !strings.Contains(r.body, "Round+1+drawn%3A+3+ballots") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adm.post("/audits/F1/rounds/close", url.Values{}); r.status != http.StatusConflict || !strings.Contains(r.body, "not yet read") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a board member records a ballot and signs its batch off on the board page", func(t *testing.T) {
		r := ann.do("GET", "/audits/F1/boards/FB", nil)
		if r.status != 200 || !strings.Contains(r.body, "Record ballot") || !strings.Contains(r.body, `name="vote:Contest 1"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		b := list(t, ann, "F1", "FB")[0]
		form := url.Values{"tabulator": {b["tabulator"].(string)}, "batch": {b["batch"].(string)}, "position": {"999"},
			"vote:Contest 1": {"Choice 1-1"}, "result:Contest 2": {"blank"}}
		if r := ann.post("/audits/F1/boards/FB/ballots", form); r.status != http.StatusBadRequest || !strings.Contains(r.body, "is not in the sample of round 1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		form.Set("position", strconv.Itoa(int(b["position"].(float64))))
		if r := ann.post("/audits/F1/boards/FB/ballots", form); r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if !list(t, ann, "F1", "FB")[0]["read"].(bool) {
			t.Fatal("the ballot is not recorded")
		}
		sign := url.Values{"tabulator": {b["tabulator"].(string)}, "batch": {b["batch"].(string)}}
		r = ann.post("/audits/F1/boards/FB/signoff", sign)
		done := true
		for _, x := range list(t, ann, "F1", "FB") {
			if x["tabulator"] == b["tabulator"] && x["batch"] == b["batch"] {
				done = done && x["read"].(bool)
			}
		}
		if done {
			if r.status != http.StatusSeeOther {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if r := ann.do("GET", "/audits/F1/boards/FB", nil); !strings.Contains(r.body, "Signed off by: ann") {
				t.Fatal(r.body)
			}
		} else if r.status != http.StatusConflict || !strings.Contains(r.body, "not read yet") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

func TestBatchComparisonAuditThroughHTTP(t *testing.T) {
	e := mustAuditEnv(t)
	adams := vigil.CountyScope("ADAMS")
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
	ann := e.MustUser("ann", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	ari := e.MustUser("ari", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	set := map[string]any{"id": "M1", "name": "Batch audit", "kind": "batch", "risk_limit": 10, "jurisdictions": []string{"ADAMS"},
		"contests": []map[string]any{{"id": "Contest 1", "targeted": true}}}
	if r := adm.do("POST", "/api/v1/audits", set); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, d := range "86420864208642086420" {
		adm.do("POST", "/api/v1/audits/M1/seed", map[string]int{"digit": int(d - '0')})
	}
	adm.do("POST", "/api/v1/audits/M1/seed/finish", nil)
	if r := adm.do("POST", "/api/v1/audits/M1/boards", map[string]any{"board": "FB", "jurisdiction": "ADAMS", "members": []string{"ann", "ari"}}); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := adm.do("POST", "/api/v1/audits/M1/rounds", map[string]int{"size": 2}); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	page := ann.do("GET", "/audits/M1/boards/FB", nil)
	if page.status != 200 || !strings.Contains(page.body, "Record the hand count") || strings.Contains(page.body, "Record ballot") {
		t.Fatalf("%d %s", page.status, page.body)
	}
	t.Run("counts only for drawn batches, with known choices", func(t *testing.T) {
		r := ann.post("/audits/M1/boards/FB/counts", url.Values{"tabulator": {"TABULATOR9"}, "batch": {"BATCH9"}, "ballots": {"1"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "is not in the sample of round 1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		b := list(t, ann, "M1", "FB")[0]
		r = ann.do("POST", "/api/v1/audits/M1/boards/FB/counts", map[string]any{"tabulator": b["tabulator"], "batch": b["batch"], "ballots": 3, "votes": map[string]int{"Nobody": 1}})
		if r.status != http.StatusBadRequest || field(r) != "votes" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("each drawn batch is hand counted on the page, signed off, and the round closes", func(t *testing.T) {
		for _, b := range list(t, ann, "M1", "FB") {
			ballots, votes := 0, map[string]int{}
			for key, rec := range e.paper {
				if !strings.HasPrefix(key, b["tabulator"].(string)+"/"+b["batch"].(string)+"/") {
					continue
				}
				for _, cv := range rec.Contests {
					if cv.Contest == "Contest 1" {
						ballots++
						if len(cv.Marks) == 1 {
							votes[string(cv.Marks[0].Choice)]++
						}
					}
				}
			}
			form := url.Values{"tabulator": {b["tabulator"].(string)}, "batch": {b["batch"].(string)}, "ballots": {strconv.Itoa(ballots)},
				"count:Choice 1-1": {strconv.Itoa(votes["Choice 1-1"])}, "count:Choice 1-2": {strconv.Itoa(votes["Choice 1-2"])}}
			if r := ann.post("/audits/M1/boards/FB/counts", form); r.status != http.StatusSeeOther {
				t.Fatalf("%d %s", r.status, r.body)
			}
			for _, who := range []*client{ann, ari} {
				if r := who.post("/audits/M1/boards/FB/signoff", url.Values{"tabulator": form["tabulator"], "batch": form["batch"]}); r.status != http.StatusSeeOther {
					t.Fatalf("%d %s", r.status, r.body)
				}
			}
		}
		r := adm.do("POST", "/api/v1/audits/M1/rounds/close", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		c := r.json()["close"].(map[string]any)
		res := c["results"].([]any)[0].(map[string]any)
		if res["contest"] != "Contest 1" || res["risk"].(float64) <= 0 || c["status"] == "" {
			t.Fatalf("%v", c)
		}
		if r := adm.do("GET", "/api/v1/audits/M1/report.csv", nil); !strings.Contains(r.body, "# SAMPLED BATCHES") {
			t.Fatal(r.body)
		}
	})
}

func TestStatewideAuditReachesCountyBoards(t *testing.T) {
	e := mustAuditEnv(t)
	county := e.MustUser("county-adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: vigil.CountyScope("ADAMS")})
	state := e.MustUser("state-adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: vigil.ScopeState})
	ann := e.MustUser("ann", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: vigil.CountyScope("ADAMS")})
	bo := e.MustUser("bo", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: vigil.CountyScope("BOONE")})
	set := map[string]any{"id": "S1", "name": "Statewide", "kind": "bravo", "risk_limit": 5, "jurisdictions": []string{"ADAMS", "BOONE"},
		"contests": []map[string]any{{"id": "Contest 1", "targeted": true}}}
	if r := county.do("POST", "/api/v1/audits", set); r.status != http.StatusForbidden {
		t.Fatalf("a county audit admin created a statewide audit: %d %s", r.status, r.body)
	}
	if r := state.do("POST", "/api/v1/audits", set); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, b := range []map[string]any{
		{"board": "A1", "jurisdiction": "ADAMS", "members": []string{"ann", "art"}},
		{"board": "B1", "jurisdiction": "BOONE", "members": []string{"bo", "bea"}},
	} {
		if r := state.do("POST", "/api/v1/audits/S1/boards", b); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if r := county.do("POST", "/api/v1/audits/S1/seed", map[string]int{"digit": 1}); r.status != http.StatusForbidden {
		t.Fatalf("a county audit admin seeded a statewide audit: %d %s", r.status, r.body)
	}
	if r := county.do("GET", "/api/v1/audits/S1", nil); r.status != http.StatusOK {
		t.Fatalf("a county audit admin cannot follow a statewide audit of its county: %d %s", r.status, r.body)
	}
	if r := ann.do("GET", "/api/v1/audits", nil); r.status != http.StatusOK || !strings.Contains(r.body, `"S1"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := ann.do("GET", "/api/v1/audits/S1/boards/A1/retrieval", nil); r.status != http.StatusOK {
		t.Fatalf("a county board member cannot reach their board of a statewide audit: %d %s", r.status, r.body)
	}
	if r := bo.do("GET", "/api/v1/audits/S1/boards/A1/retrieval", nil); r.status != http.StatusForbidden {
		t.Fatalf("a board member of another county reached board A1: %d %s", r.status, r.body)
	}
}
