package http_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// TestAuditFullHandCountThroughHTTP escalates a comparison audit to a full
// hand count (every sampled ballot is "not found", a two-vote
// overstatement) and records the hand count through the API and the page.
func TestAuditFullHandCountThroughHTTP(t *testing.T) {
	e := mustAuditEnv(t)
	adams := vigil.CountyScope("ADAMS")
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
	alice := e.MustUser("alice", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	bob := e.MustUser("bob", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	obs := e.MustUser("obs", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})
	set := map[string]any{"id": "H1", "name": "Hand count", "kind": "comparison", "risk_limit": 10, "jurisdictions": []string{"ADAMS"},
		"contests": []map[string]any{{"id": "Contest 1", "targeted": true}}}
	if r := adm.do("POST", "/api/v1/audits", set); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, d := range "27182818284590452353" {
		adm.do("POST", "/api/v1/audits/H1/seed", map[string]int{"digit": int(d - '0')})
	}
	if r := adm.do("POST", "/api/v1/audits/H1/seed/finish", nil); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := adm.do("POST", "/api/v1/audits/H1/boards", map[string]any{"board": "B1", "jurisdiction": "ADAMS", "members": []string{"alice", "bob"}}); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	count := func(c *client, body map[string]any) response {
		return c.do("POST", "/api/v1/audits/H1/hand-counts", body)
	}
	status := ""
	for round := 1; round <= 3 && status != vigil.AuditFullHandCount; round++ {
		if r := adm.do("POST", "/api/v1/audits/H1/rounds", map[string]int{"size": 4}); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if round == 1 {
			if r := count(adm, map[string]any{"contest": "Contest 1", "ballots": 1, "votes": map[string]int{}}); r.status != http.StatusConflict {
				t.Fatalf("a hand count before the escalation: %d %s", r.status, r.body)
			}
		}
		for _, b := range list(t, alice, "H1", "B1") {
			in := map[string]any{"ballot": map[string]any{"tabulator": b["tabulator"], "batch": b["batch"], "position": b["position"]}, "not_found": true}
			if r := alice.do("POST", "/api/v1/audits/H1/boards/B1/interpretations", in); r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
		for _, b := range list(t, alice, "H1", "B1") {
			for _, who := range []*client{alice, bob} {
				who.do("POST", "/api/v1/audits/H1/boards/B1/signoff", map[string]any{"tabulator": b["tabulator"], "batch": b["batch"]})
			}
		}
		r := adm.do("POST", "/api/v1/audits/H1/rounds/close", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		status = r.json()["close"].(map[string]any)["status"].(string)
	}
	if status != vigil.AuditFullHandCount {
		t.Fatalf("status %s", status)
	}
	var view struct {
		Audit struct {
			Reported []vigil.AuditReportedContest `json:"reported"`
			Outcomes []struct {
				Contest    string `json:"contest"`
				Status     string `json:"status"`
				Overturned bool   `json:"overturned"`
			} `json:"outcomes"`
		} `json:"audit"`
	}
	r := obs.do("GET", "/api/v1/audits/H1", nil)
	if err := json.Unmarshal([]byte(r.body), &view); err != nil || len(view.Audit.Reported) != 1 || view.Audit.Outcomes[0].Status != "full hand count pending" {
		t.Fatalf("%v %s", err, r.body)
	}
	rc := view.Audit.Reported[0]
	// The hand count swaps the two leaders' reported votes.
	first, second := rc.Choices[0], rc.Choices[1]
	if second.Votes > first.Votes {
		first, second = second, first
	}
	votes := map[string]int{}
	for _, ch := range rc.Choices {
		votes[string(ch.ID)] = ch.Votes
	}
	votes[string(first.ID)], votes[string(second.ID)] = second.Votes, first.Votes

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"an unknown contest", map[string]any{"contest": "Mayor", "ballots": 1, "votes": map[string]int{}}, "contest"},
		{"a missing choice", map[string]any{"contest": "Contest 1", "ballots": rc.Ballots, "votes": map[string]int{string(first.ID): 1}}, "votes"},
		{"more votes than ballots", map[string]any{"contest": "Contest 1", "ballots": 1, "votes": votes}, "votes"},
	} {
		t.Run(tc.name+" is refused naming the field", func(t *testing.T) {
			if r := count(adm, tc.body); r.status != http.StatusBadRequest || field(r) != tc.field {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	t.Run("an observer cannot record a hand count", func(t *testing.T) {
		if r := count(obs, map[string]any{"contest": "Contest 1", "ballots": rc.Ballots, "votes": votes}); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the page offers the hand count form for the escalated contest", func(t *testing.T) {
		r := adm.do("GET", "/audits/H1", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, `action="/audits/H1/hand-counts"`) || !strings.Contains(r.body, "full hand count pending") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a hand count that elects the runner-up overturns the outcome, shown plainly", func(t *testing.T) {
		form := url.Values{"contest": {"Contest 1"}, "ballots": {strconv.Itoa(rc.Ballots)}}
		for _, ch := range rc.Choices {
			form.Add("choice", string(ch.ID))
			form.Add("votes", strconv.Itoa(votes[string(ch.ID)]))
		}
		r := adm.post("/audits/H1/hand-counts", form)
		if loc, _ := url.QueryUnescape(r.body); r.status != http.StatusSeeOther || !strings.Contains(loc, "the outcome is OVERTURNED") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = obs.do("GET", "/api/v1/audits/H1", nil)
		json.Unmarshal([]byte(r.body), &view)
		if !view.Audit.Outcomes[0].Overturned || !strings.Contains(r.body, `"outcome":"overturned"`) || !strings.Contains(r.body, `"winners":["`+string(second.ID)+`"]`) {
			t.Fatalf("%s", r.body)
		}
		if r := obs.do("GET", "/audits/H1", nil); !strings.Contains(r.body, `<strong class="error">OVERTURNED by the full hand count`) {
			t.Fatalf("the page does not say it plainly: %s", r.body)
		}
		if r := count(adm, map[string]any{"contest": "Contest 1", "ballots": rc.Ballots, "votes": votes}); r.status != http.StatusConflict {
			t.Fatalf("a second hand count: %d %s", r.status, r.body)
		}
		if r := obs.do("GET", "/api/v1/audits/H1/report.csv", nil); !strings.Contains(r.body, "# FULL HAND COUNTS") || !strings.Contains(r.body, "OVERTURNED") {
			t.Fatalf("%s", r.body)
		}
	})
}

func TestHybridAuditCreationThroughHTTP(t *testing.T) {
	e := mustAuditEnv(t)
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: vigil.CountyScope("ADAMS")})
	set := map[string]any{"id": "Y1", "name": "Hybrid", "kind": "hybrid", "risk_limit": 10, "jurisdictions": []string{"ADAMS"},
		"contests": []map[string]any{{"id": "Contest 1", "targeted": true}}}
	t.Run("a hybrid audit without the no-CVR results is refused naming the contest", func(t *testing.T) {
		if r := adm.do("POST", "/api/v1/audits", set); r.status != http.StatusBadRequest || field(r) != "contests[0]" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a hybrid audit of a vote-for-2 contest is refused naming it", func(t *testing.T) {
		bad := map[string]any{}
		for k, v := range set {
			bad[k] = v
		}
		bad["contests"] = []map[string]any{{"id": "Contest 2", "targeted": true}}
		bad["no_cvr"] = []map[string]any{{"contest": "Contest 2", "ballots": 0, "votes": map[string]int{}}}
		if r := adm.do("POST", "/api/v1/audits", bad); r.status != http.StatusBadRequest || field(r) != "contests[0]" || !strings.Contains(r.body, "vote-for-1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the page's no-CVR table is parsed, and a bad one named", func(t *testing.T) {
		form := url.Values{"id": {"Y2"}, "name": {"Hybrid"}, "kind": {"hybrid"}, "risk_limit": {"10"}, "jurisdictions": {"ADAMS"},
			"targeted": {"Contest 1"}, "no_cvr": {"contest,ballots,choice,votes\nContest 1,x,Choice 1-1,0"}}
		if r := adm.post("/audits", form); r.status != http.StatusBadRequest || !strings.Contains(r.body, "no_cvr: ballots: line 2: the ballots are a whole number") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		form.Set("no_cvr", "contest,ballots,choice,votes\nContest 1,0,Choice 1-1,0")
		if r := adm.post("/audits", form); r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := adm.do("GET", "/api/v1/audits/Y2", nil)
		if !strings.Contains(r.body, `"no_cvr":[{"contest":"Contest 1","ballots":0,"votes":{"Choice 1-1":0}}]`) {
			t.Fatalf("%s", r.body)
		}
	})
}

func TestBatchAuditOfTwoContestsThroughHTTP(t *testing.T) {
	e := mustAuditEnv(t)
	adams := vigil.CountyScope("ADAMS")
	adm := e.MustUser("adm", vigil.Grant{Role: vigil.RoleAuditAdmin, Scope: adams})
	ann := e.MustUser("ann", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	e.MustUser("ari", vigil.Grant{Role: vigil.RoleAuditBoard, Scope: adams})
	set := map[string]any{"id": "M2", "name": "Batch audit of two", "kind": "batch", "risk_limit": 10, "jurisdictions": []string{"ADAMS"},
		"contests": []map[string]any{{"id": "Contest 1", "targeted": true}, {"id": "Contest 2", "targeted": false}}}
	if r := adm.do("POST", "/api/v1/audits", set); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, d := range "86420864208642086420" {
		adm.do("POST", "/api/v1/audits/M2/seed", map[string]int{"digit": int(d - '0')})
	}
	adm.do("POST", "/api/v1/audits/M2/seed/finish", nil)
	adm.do("POST", "/api/v1/audits/M2/boards", map[string]any{"board": "FB", "jurisdiction": "ADAMS", "members": []string{"ann", "ari"}})
	if r := adm.do("POST", "/api/v1/audits/M2/rounds", map[string]int{"size": 1}); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	page := ann.do("GET", "/audits/M2/boards/FB", nil)
	if !strings.Contains(page.body, `name="contest" value="Contest 1"`) || !strings.Contains(page.body, `name="contest" value="Contest 2"`) {
		t.Fatalf("the board page lacks a count form per contest: %s", page.body)
	}
	b := list(t, ann, "M2", "FB")[0]
	t.Run("a count of a contest the audit does not hold is refused naming the field", func(t *testing.T) {
		r := ann.do("POST", "/api/v1/audits/M2/boards/FB/counts", map[string]any{"tabulator": b["tabulator"], "batch": b["batch"], "contest": "Mayor", "ballots": 1, "votes": map[string]int{}})
		if r.status != http.StatusBadRequest || field(r) != "contest" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a batch counted in one contest only cannot be signed off", func(t *testing.T) {
		form := url.Values{"tabulator": {b["tabulator"].(string)}, "batch": {b["batch"].(string)}, "contest": {"Contest 1"}, "ballots": {"0"}}
		if r := ann.post("/audits/M2/boards/FB/counts", form); r.status != http.StatusSeeOther {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := ann.post("/audits/M2/boards/FB/signoff", url.Values{"tabulator": form["tabulator"], "batch": form["batch"]})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "not counted yet in every audited contest") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
