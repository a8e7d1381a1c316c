package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/tabulate"
)

// auditEnv is a served node with TEST_CVRS (Arlo's 14-ballot Dominion
// sample) and its 15-ballot manifest imported for county ADAMS.
type auditEnv struct {
	*testEnv
	paper map[string]vigil.CastVoteRecord // tabulator/batch/position → what the paper says
}

func mustAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	e := MustServe(t)
	tab := e.MustUser("tab", vigil.Grant{Role: vigil.RoleTabulator, Scope: vigil.CountyScope("ADAMS")})
	cvrs := filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv")
	if r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", cvrs); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := tab.upload("/api/v1/tabulation/manifest?county=ADAMS", filepath.Join(cvrSamples, "arlo-fixtures", "manifest-for-TEST_CVRS.csv")); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	f, err := os.Open(cvrs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	paper := map[string]vigil.CastVoteRecord{}
	err = tabulate.NewReader(tabulate.Dominion, tabulate.Options{}).Read([]tabulate.File{{Name: "TEST_CVRS.csv", Reader: f}}, func(c *vigil.CastVoteRecord) error {
		paper[fmt.Sprintf("%s/%s/%d", c.Tabulator, c.Batch, c.Position)] = copyCVR(c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &auditEnv{e, paper}
}

// reading is what a board reads on a ballot of the list; swap replaces
// one choice by another to make a discrepancy.
func (e *auditEnv) reading(b map[string]any, contests []string, swap map[string]string) map[string]any {
	key := fmt.Sprintf("%s/%s/%v", b["tabulator"], b["batch"], b["position"])
	rec, ok := e.paper[key]
	in := map[string]any{"ballot": map[string]any{"tabulator": b["tabulator"], "batch": b["batch"], "position": b["position"]}}
	if !ok {
		in["not_found"] = true
		return in
	}
	var readings []map[string]any
	for _, c := range contests {
		r := map[string]any{"contest": c, "result": vigil.AuditNotOnBallot}
		for _, cv := range rec.Contests {
			if string(cv.Contest) != c {
				continue
			}
			var marks []string
			for _, m := range cv.Marks {
				ch := string(m.Choice)
				if to, ok := swap[ch]; ok {
					ch = to
				}
				marks = append(marks, ch)
			}
			voteFor := map[string]int{"Contest 1": 1, "Contest 2": 2}[c]
			switch {
			case cv.Overvoted || len(marks) > voteFor:
				r["result"] = vigil.AuditOvervote
			case len(marks) == 0:
				r["result"] = vigil.AuditBlank
			default:
				r = map[string]any{"contest": c, "choices": marks}
			}
		}
		readings = append(readings, r)
	}
	in["contests"] = readings
	return in
}

// list is a board's retrieval list through the API.
func list(t *testing.T, c *client, audit, board string) []map[string]any {
	t.Helper()
	r := c.do("GET", "/api/v1/audits/"+audit+"/boards/"+board+"/retrieval", nil)
	if r.status != http.StatusOK {
		t.Fatalf("retrieval %s: %d %s", board, r.status, r.body)
	}
	var out struct {
		Ballots []map[string]any `json:"ballots"`
	}
	json.Unmarshal([]byte(r.body), &out)
	return out.Ballots
}

func field(r response) string {
	if e, ok := r.json()["error"].(map[string]any); ok {
		f, _ := e["field"].(string)
		return f
	}
	return ""
}

func TestAuditsThroughHTTP(t *testing.T) {
	e := mustAuditEnv(t)
	adams := vigil.CountyScope("ADAMS")
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
	boone := e.MustUser("boone-adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: vigil.CountyScope("BOONE")})
	alice := e.MustUser("alice", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	bob := e.MustUser("bob", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	carol := e.MustUser("carol", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	dave := e.MustUser("dave", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	obs := e.MustUser("obs", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})
	members := map[string][2]*client{"B1": {alice, bob}, "B2": {carol, dave}}
	contests := []string{"Contest 1", "Contest 2"}
	settings := func(id, kind string) map[string]any {
		return map[string]any{"id": id, "name": "Audit " + id, "kind": kind, "risk_limit": 10, "jurisdictions": []string{"ADAMS"},
			"contests": []map[string]any{{"id": "Contest 1", "targeted": true}, {"id": "Contest 2", "targeted": false}}}
	}

	t.Run("bad settings are refused naming the field", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			edit  func(map[string]any)
			field string
		}{
			{"unknown contest", func(m map[string]any) { m["contests"] = []map[string]any{{"id": "Mayor", "targeted": true}} }, "contests[0]"},
			{"unknown kind", func(m map[string]any) { m["kind"] = "vibes" }, "kind"},
			{"risk limit too high", func(m map[string]any) { m["risk_limit"] = 50 }, "risk_limit"},
			{"no jurisdiction", func(m map[string]any) { m["jurisdictions"] = []string{} }, "jurisdictions"},
		} {
			s := settings("BAD", "bravo")
			tt.edit(s)
			if r := adm.do("POST", "/api/v1/audits", s); r.status != http.StatusBadRequest || field(r) != tt.field {
				t.Errorf("%s: %d %s", tt.name, r.status, r.body)
			}
		}
	})
	t.Run("an audit admin of another county cannot create an ADAMS audit", func(t *testing.T) {
		if r := boone.do("POST", "/api/v1/audits", settings("R1", "bravo")); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the audit admin creates a BRAVO audit", func(t *testing.T) {
		if r := adm.do("POST", "/api/v1/audits", settings("R1", "bravo")); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adm.do("POST", "/api/v1/audits", settings("R1", "bravo")); r.status != http.StatusBadRequest || field(r) != "id" {
			t.Fatalf("a second R1: %d %s", r.status, r.body)
		}
		if r := boone.do("GET", "/api/v1/audits/R1", nil); r.status != http.StatusForbidden {
			t.Fatalf("another county's admin read it: %d %s", r.status, r.body)
		}
	})

	t.Run("observers watch the seed ceremony live as digits are entered", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", obs.base+"/audits/R1/seed/stream", nil)
		resp, err := obs.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		events := make(chan string, 64)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					events <- strings.TrimPrefix(sc.Text(), "data: ")
				}
			}
			close(events)
		}()
		seed := "31415926535897932384"
		for i, ch := range seed[:19] {
			if r := adm.do("POST", "/api/v1/audits/R1/seed", map[string]int{"digit": int(ch - '0')}); r.status != http.StatusOK {
				t.Fatalf("digit %d: %d %s", i+1, r.status, r.body)
			}
			// The observer sees this digit before the next is entered.
			select {
			case got := <-events:
				want := fmt.Sprintf(`"index":%d,"digit":%c`, i+1, ch)
				if !strings.Contains(got, want) {
					t.Fatalf("stream sent %s, want %s", got, want)
				}
			case <-ctx.Done():
				t.Fatalf("digit %d never reached the observer", i+1)
			}
		}
		if r := adm.do("POST", "/api/v1/audits/R1/seed/finish", nil); r.status != http.StatusBadRequest || field(r) != "seed" {
			t.Fatalf("a 19-digit seed: %d %s", r.status, r.body)
		}
		if r := adm.do("POST", "/api/v1/audits/R1/seed", map[string]int{"digit": 12}); r.status != http.StatusBadRequest || field(r) != "digit" {
			t.Fatalf("a 12: %d %s", r.status, r.body)
		}
		adm.do("POST", "/api/v1/audits/R1/seed", map[string]int{"digit": int(seed[19] - '0')})
		if r := adm.do("POST", "/api/v1/audits/R1/seed/finish", nil); r.status != http.StatusOK || r.json()["seed"] != seed {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for got := range events {
			if strings.Contains(got, `"seed":"`+seed+`"`) {
				return
			}
		}
		t.Fatal("the finished seed never reached the observer")
	})

	t.Run("the seed's author cannot sit on a board of the audit", func(t *testing.T) {
		r := adm.do("POST", "/api/v1/audits/R1/boards", map[string]any{"board": "B0", "jurisdiction": "ADAMS", "members": []string{"adm", "alice"}})
		if r.status != http.StatusBadRequest || field(r) != "members" || !strings.Contains(r.body, "authored the seed") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a board member cannot author the seed", func(t *testing.T) {
		eve := e.MustUser("eve", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
		if r := adm.do("POST", "/api/v1/audits", settings("R2", "minerva")); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adm.do("POST", "/api/v1/audits/R2/boards", map[string]any{"board": "E1", "jurisdiction": "ADAMS", "members": []string{"eve", "frank"}}); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := eve.do("POST", "/api/v1/audits/R2/seed", map[string]int{"digit": 4}); r.status != http.StatusForbidden || !strings.Contains(r.body, "may not author its seed") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("two boards of two members", func(t *testing.T) {
		for b, m := range map[string][2]string{"B1": {"alice", "bob"}, "B2": {"carol", "dave"}} {
			if r := adm.do("POST", "/api/v1/audits/R1/boards", map[string]any{"board": b, "jurisdiction": "ADAMS", "members": m[:]}); r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
	})
	t.Run("round 1 is drawn", func(t *testing.T) {
		r := adm.do("POST", "/api/v1/audits/R1/rounds", map[string]int{"size": 4})
		if r.status != http.StatusCreated || r.json()["draws"] != float64(4) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("observers see everything public and nothing else", func(t *testing.T) {
		if r := obs.do("GET", "/api/v1/audits/R1", nil); r.status != http.StatusOK || !strings.Contains(r.body, "31415926535897932384") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := obs.do("GET", "/api/v1/audits/R1/sample", nil); r.status != http.StatusOK || strings.Count(r.body, `"ticket"`) != 4 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := obs.do("GET", "/audits/R1", nil); r.status != http.StatusOK || !strings.Contains(r.body, "31415926535897932384") || strings.Contains(r.body, `action="/audits/R1/rounds`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, p := range []struct{ method, path string }{
			{"GET", "/api/v1/audits/R1/boards/B1/retrieval"}, {"GET", "/audits/R1/boards/B1"},
			{"POST", "/api/v1/audits/R1/boards/B1/signoff"}, {"POST", "/api/v1/audits/R1/rounds/close"}, {"POST", "/api/v1/audits/R1/seed"},
		} {
			if r := obs.do(p.method, p.path, map[string]any{}); r.status != http.StatusForbidden {
				t.Errorf("observer %s %s: %d %s", p.method, p.path, r.status, r.body)
			}
		}
	})
	t.Run("audit boards see only their own retrieval list", func(t *testing.T) {
		if r := alice.do("GET", "/api/v1/audits/R1/boards/B2/retrieval", nil); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := alice.do("GET", "/audits/R1/boards/B2", nil); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := alice.do("GET", "/api/v1/audits/R1/sample", nil); r.status != http.StatusForbidden {
			t.Fatalf("a board member read the whole sample: %d %s", r.status, r.body)
		}
		if r := alice.do("GET", "/api/v1/audits/R1/bundle.zip", nil); r.status != http.StatusForbidden {
			t.Fatalf("a board member read the bundle: %d", r.status)
		}
		r := alice.do("GET", "/api/v1/audits/R1/boards/B1/retrieval?format=csv", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "container,tabulator,batch,position,tickets,jurisdiction,board\n") || strings.Contains(r.body, ",B2\n") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if n := len(list(t, alice, "R1", "B1")) + len(list(t, carol, "R1", "B2")); n < 1 || n > 4 {
			t.Fatalf("%d ballots on the lists", n)
		}
	})
	t.Run("an interpretation for a ballot outside the sample is refused naming the ballot", func(t *testing.T) {
		in := map[string]any{"ballot": map[string]any{"tabulator": "TABULATOR1", "batch": "BATCH1", "position": 99},
			"contests": []map[string]any{{"contest": "Contest 1", "choices": []string{"Choice 1-1"}}, {"contest": "Contest 2", "result": "blank"}}}
		r := alice.do("POST", "/api/v1/audits/R1/boards/B1/interpretations", in)
		if r.status != http.StatusBadRequest || field(r) != "ballot" || !strings.Contains(r.body, "not in the sample") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a reading with an unknown choice is refused naming the field", func(t *testing.T) {
		for _, board := range []string{"B1", "B2"} {
			for _, b := range list(t, members[board][0], "R1", board) {
				in := map[string]any{"ballot": map[string]any{"tabulator": b["tabulator"], "batch": b["batch"], "position": b["position"]},
					"contests": []map[string]any{{"contest": "Contest 1", "choices": []string{"Nobody"}}, {"contest": "Contest 2", "result": "blank"}}}
				r := members[board][0].do("POST", "/api/v1/audits/R1/boards/"+board+"/interpretations", in)
				if r.status != http.StatusBadRequest || field(r) != "contests[0].choices" {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
		}
	})

	// play has each board read its list, checks that the round does not
	// close early, has both members sign every batch, and closes it.
	play := func(t *testing.T, audit string, swap map[string]string) map[string]any {
		t.Helper()
		for board, m := range members {
			for _, b := range list(t, m[0], audit, board) {
				in := e.reading(b, contests, swap)
				if r := m[0].do("POST", "/api/v1/audits/"+audit+"/boards/"+board+"/interpretations", in); r.status != http.StatusOK {
					t.Fatalf("%v: %d %s", in, r.status, r.body)
				}
			}
		}
		if r := adm.do("POST", "/api/v1/audits/"+audit+"/rounds/close", nil); r.status != http.StatusConflict || !strings.Contains(r.body, "not signed off") {
			t.Fatalf("closed before sign-off: %d %s", r.status, r.body)
		}
		for board, m := range members {
			for _, b := range list(t, m[0], audit, board) {
				batch := map[string]any{"tabulator": b["tabulator"], "batch": b["batch"]}
				for _, who := range m {
					r := who.do("POST", "/api/v1/audits/"+audit+"/boards/"+board+"/signoff", batch)
					if r.status != http.StatusOK && !(r.status == http.StatusConflict && strings.Contains(r.body, "already")) {
						t.Fatalf("%d %s", r.status, r.body)
					}
				}
			}
		}
		r := adm.do("POST", "/api/v1/audits/"+audit+"/rounds/close", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return r.json()["close"].(map[string]any)
	}

	t.Run("a member signs only once, for themselves, once the batch is read", func(t *testing.T) {
		b := list(t, alice, "R1", "B1")
		if len(b) == 0 {
			t.Skip("board B1 has no ballot this round")
		}
		batch := map[string]any{"tabulator": b[0]["tabulator"], "batch": b[0]["batch"]}
		if r := alice.do("POST", "/api/v1/audits/R1/boards/B1/signoff", batch); r.status != http.StatusConflict || !strings.Contains(r.body, "not read yet") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("round 1 closes with each contest's risk measure and escalates", func(t *testing.T) {
		c := play(t, "R1", nil)
		res := c["results"].([]any)
		if len(res) != 2 || res[0].(map[string]any)["contest"] != "Contest 1" {
			t.Fatalf("%v", c)
		}
		if c["status"] != vigil.AuditInProgress && c["status"] != vigil.AuditFullHandCount {
			t.Fatalf("%v", c)
		}
		if r := adm.do("POST", "/api/v1/audits/R1/rounds/close", nil); r.status != http.StatusConflict {
			t.Fatalf("closed twice: %d %s", r.status, r.body)
		}
	})
	t.Run("the board page is blind and the report is complete", func(t *testing.T) {
		if r := alice.do("GET", "/audits/R1/boards/B1", nil); r.status != http.StatusOK || !strings.Contains(r.body, "Audit board B1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := obs.do("GET", "/api/v1/audits/R1/report.csv", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "random seed,31415926535897932384") || !strings.Contains(r.body, "# RISK MEASURES") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = obs.do("GET", "/api/v1/audits/R1/report.pdf", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "%PDF") {
			t.Fatalf("%d", r.status)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		f := filepath.Join(t.TempDir(), "r.pdf")
		os.WriteFile(f, []byte(r.body), 0o600)
		text, err := exec.Command("pdftotext", "-layout", f, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"RISK-LIMITING AUDIT REPORT: Audit R1", "31415926535897932384", "Risk measures", "Contest 1", "Sampled ballots"} {
			if !strings.Contains(string(text), want) {
				t.Fatalf("PDF lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("a comparison audit is blind to the CVRs and counts the discrepancies at close", func(t *testing.T) {
		if r := adm.do("POST", "/api/v1/audits", settings("C1", "comparison")); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, d := range "27182818284590452353" {
			adm.do("POST", "/api/v1/audits/C1/seed", map[string]int{"digit": int(d - '0')})
		}
		if r := adm.do("POST", "/api/v1/audits/C1/seed/finish", nil); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for b, m := range map[string][2]string{"B1": {"alice", "bob"}, "B2": {"carol", "dave"}} {
			adm.do("POST", "/api/v1/audits/C1/boards", map[string]any{"board": b, "jurisdiction": "ADAMS", "members": m[:]})
		}
		if r := adm.do("POST", "/api/v1/audits/C1/rounds", map[string]int{"size": 6}); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for board, m := range members {
			r := m[0].do("GET", "/api/v1/audits/C1/boards/"+board+"/retrieval", nil)
			if strings.Contains(strings.ToLower(r.body), "cvr") || strings.Contains(r.body, "Choice") {
				t.Fatalf("the retrieval list shows the CVR: %s", r.body)
			}
		}
		// The boards read Choice 1-2 where the CVRs say Choice 1-1: each
		// such ballot is a two-vote overstatement.
		c := play(t, "C1", map[string]string{"Choice 1-1": "Choice 1-2"})
		c1 := c["results"].([]any)[0].(map[string]any)
		if c1["contest"] != "Contest 1" || c1["o2"] == nil || c1["o2"].(float64) < 1 || c1["confirmed"] != false {
			t.Fatalf("%v", c)
		}
	})
	t.Run("every audit route is in the matrix with its action", func(t *testing.T) {
		seen := map[access.Action]bool{}
		for _, r := range e.srv.Routes() {
			if strings.Contains(r.Pattern, "audits") {
				seen[r.Action] = true
			}
		}
		for _, a := range []access.Action{access.ActionAuditRead, access.ActionAuditReport, access.ActionAuditManage, access.ActionAuditRetrieval, access.ActionAuditEnter} {
			if !seen[a] {
				t.Errorf("no route for %s", a)
			}
		}
	})
}

// copyCVR copies a record the reader will reuse for the next one.
func copyCVR(c *vigil.CastVoteRecord) vigil.CastVoteRecord {
	out := *c
	out.Contests = make([]vigil.ContestVote, len(c.Contests))
	for i, cv := range c.Contests {
		cv.Marks = append([]vigil.Mark(nil), cv.Marks...)
		out.Contests[i] = cv
	}
	return out
}
