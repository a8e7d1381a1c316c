package http_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/sqlite"
)

// mustCounty loads a small synthetic county whose election is open now,
// without the demo's accounts.
func (e *testEnv) mustCounty(voters int) demo.County {
	e.t.Helper()
	ctx := context.Background()
	c := demo.Generate(demo.Options{Seed: 11, Voters: voters, Today: time.Now()})
	c.Election.VotingStart, c.Election.VotingEnd = time.Now().Add(-time.Hour), time.Now().Add(2*time.Hour)
	c.Voters[0].Status = "active"
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	if err := demo.LoadRoll(ctx, e.node, op, c, time.Now(), nil); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// votersAt returns active voters of the county at place, and one active
// voter elsewhere.
func votersAt(c demo.County, place string, status string) []vigil.RollVoter {
	at := map[string]bool{}
	for _, p := range c.Precincts {
		at[p.ID] = p.Place == place
	}
	var out []vigil.RollVoter
	for _, v := range c.Voters {
		if at[v.Precinct] && v.Status == status {
			out = append(out, v)
		}
	}
	return out
}

func workerGrant(place string) vigil.Grant {
	return vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", place),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(3 * time.Hour)}
}

func refusal(t *testing.T, r response) map[string]any {
	t.Helper()
	ref, _ := r.json()["refusal"].(map[string]any)
	if ref == nil {
		t.Fatalf("no refusal in %d %s", r.status, r.body)
	}
	return ref
}

func TestTwoPollbooksRacingForOneVoterThroughHTTP(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(400)
	a := e.MustUser("worker-a", workerGrant("P01"))
	b := e.MustUser("worker-b", workerGrant("P01"))
	voters := votersAt(c, "P01", "active")
	if len(voters) < 10 {
		t.Fatalf("only %d active voters at P01", len(voters))
	}
	for i, v := range voters[:10] {
		t.Run(fmt.Sprintf("voter %d: exactly one 2xx, the other 409 naming who, where and when", i), func(t *testing.T) {
			var wg sync.WaitGroup
			res := make([]response, 2)
			start := make(chan struct{})
			for j, cl := range []*client{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[j] = cl.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": v.ID, "identity": "licence"})
				}()
			}
			close(start)
			wg.Wait()
			ok, conflict := -1, -1
			for j, r := range res {
				switch {
				case r.status == http.StatusCreated:
					ok = j
				case r.status == http.StatusConflict:
					conflict = j
				default:
					t.Fatalf("client %d: %d %s", j, r.status, r.body)
				}
			}
			if ok < 0 || conflict < 0 {
				t.Fatalf("want one 201 and one 409, got %d and %d: %s | %s", res[0].status, res[1].status, res[0].body, res[1].body)
			}
			winner := []string{"worker-a", "worker-b"}[ok]
			ref := refusal(t, res[conflict])
			prior, _ := ref["prior"].(map[string]any)
			if ref["reason"] != "checked_in" || prior == nil || prior["actor"] != winner || prior["place"] != "P01" || prior["time"] == "" {
				t.Fatalf("the loser was not told who, where and when: %s", res[conflict].body)
			}
			if msg, _ := ref["message"].(string); !strings.Contains(msg, winner) || !strings.Contains(msg, "Already checked in") {
				t.Fatalf("message does not name the winner: %q", msg)
			}
		})
	}
	t.Run("the log holds one check-in per voter", func(t *testing.T) {
		var n int
		e.node.DB.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'checkin.recorded'`).Scan(&n)
		if n != 10 {
			t.Fatalf("%d checkin.recorded events, want 10", n)
		}
		var refused int
		e.node.DB.QueryRow(`SELECT COUNT(*) FROM checkin_refusals WHERE reason = 'checked_in'`).Scan(&refused)
		if refused < 10 {
			t.Fatalf("%d recorded refusals, want at least 10", refused)
		}
	})
	t.Run("a worker at another place is told the voter already checked in at P01", func(t *testing.T) {
		other := e.MustUser("worker-c", workerGrant("P02"))
		r := other.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[0].ID})
		ref := refusal(t, r)
		if r.status != http.StatusConflict || ref["prior"].(map[string]any)["place"] != "P01" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
}

func TestPollbookExceptions(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(400)
	w := e.MustUser("worker", workerGrant("P01"))
	sup := e.MustUser("super", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: vigil.PlaceScope("ADAMS", "P01")})
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	here := votersAt(c, "P01", "active")
	elsewhere := votersAt(c, "P02", "active")
	inactive := votersAt(c, "P01", "inactive")
	checkin := func(cl *client, id string) response {
		return cl.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": id, "identity": "licence"})
	}

	t.Run("a voter of this place is checked in and gets a ballot style", func(t *testing.T) {
		r := checkin(w, here[0].ID)
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		ci := r.json()["checkin"].(map[string]any)
		if !strings.HasPrefix(ci["ballot_style"].(string), "BS-") || ci["place"] != "P01" || ci["actor"] != "worker" {
			t.Fatalf("check-in %v", ci)
		}
	})
	t.Run("a voter of another place is sent there", func(t *testing.T) {
		r := checkin(w, elsewhere[0].ID)
		ref := refusal(t, r)
		place, _ := ref["place"].(map[string]any)
		if r.status != http.StatusForbidden || ref["reason"] != "wrong_place" || place["id"] != "P02" || ref["provisional"] != true {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a voter not on the roll is offered a provisional ballot", func(t *testing.T) {
		r := checkin(w, "NOSUCH1")
		if ref := refusal(t, r); r.status != http.StatusNotFound || ref["reason"] != "not_found" || ref["provisional"] != true {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	if len(inactive) > 0 {
		t.Run("an inactive voter is refused with the reason", func(t *testing.T) {
			r := checkin(w, inactive[0].ID)
			if ref := refusal(t, r); r.status != http.StatusConflict || ref["reason"] != "inactive" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	t.Run("a voter whose mail ballot was received is stopped", func(t *testing.T) {
		r := admin.do("POST", "/api/v1/pollbook/mail-ballots", map[string]string{"voter": here[1].ID})
		if r.status != http.StatusCreated {
			t.Fatalf("recording the mail ballot: %d %s", r.status, r.body)
		}
		r = checkin(w, here[1].ID)
		if ref := refusal(t, r); r.status != http.StatusConflict || ref["reason"] != "voted_by_mail" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a poll worker cannot undo a check-in", func(t *testing.T) {
		r := w.do("POST", "/api/v1/pollbook/checkins/"+here[0].ID+"/undo", map[string]string{"reason": "wrong voter"})
		if r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("an undo needs a reason", func(t *testing.T) {
		r := sup.do("POST", "/api/v1/pollbook/checkins/"+here[0].ID+"/undo", map[string]string{"reason": ""})
		if r.status != http.StatusBadRequest || r.json()["error"].(map[string]any)["field"] != "reason" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a supervisor undoes a mistaken check-in and the voter checks in again", func(t *testing.T) {
		r := sup.do("POST", "/api/v1/pollbook/checkins/"+here[0].ID+"/undo", map[string]string{"reason": "checked in the wrong JOHN SMITH"})
		if r.status != http.StatusOK {
			t.Fatalf("undo: %d %s", r.status, r.body)
		}
		if r := checkin(w, here[0].ID); r.status != http.StatusCreated {
			t.Fatalf("check-in after undo: %d %s", r.status, r.body)
		}
		if r := checkin(w, here[0].ID); r.status != http.StatusConflict {
			t.Fatalf("a second check-in after the undo: %d %s", r.status, r.body)
		}
	})
	t.Run("a stale claim (the pollbook's view was behind) is refused", func(t *testing.T) {
		zero := uint64(0)
		r := w.do("POST", "/api/v1/pollbook/checkins", map[string]any{"voter": here[0].ID, "expect_seq": zero})
		if r.status != http.StatusConflict {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the search finds a voter by a typo'd name, by voter ID and by a scanned licence", func(t *testing.T) {
		v := here[2]
		typo := v.FirstName + " " + v.LastName[:len(v.LastName)-1] + "X"
		for _, q := range []string{typo, v.ID, aamvaFor(v), v.LastName + " " + v.BirthDate} {
			r := w.do("GET", "/api/v1/pollbook/voters?q="+urlQuery(q), nil)
			if r.status != http.StatusOK || !strings.Contains(r.body, v.ID) {
				t.Fatalf("search %q: %d %s", q, r.status, r.body)
			}
		}
	})
	t.Run("a provisional ballot is issued, its envelope number is unique, and the county adjudicates it", func(t *testing.T) {
		pb := map[string]string{"envelope": "P-0001", "reason": "wrong_place", "first_name": "ANA", "last_name": "LOPEZ",
			"birth_date": "1980-02-03", "address": "1 Main St, Brighton", "voter": elsewhere[0].ID}
		if r := w.do("POST", "/api/v1/pollbook/provisionals", pb); r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.body)
		}
		if r := w.do("POST", "/api/v1/pollbook/provisionals", pb); r.status != http.StatusConflict {
			t.Fatalf("reusing the envelope: %d %s", r.status, r.body)
		}
		r := admin.do("GET", "/api/v1/pollbook/provisionals?status=pending", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "P-0001") {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		if r := admin.do("POST", "/api/v1/pollbook/provisionals/P-0001/decision", map[string]any{"accepted": true, "reason": "registered in the county; wrong place only"}); r.status != http.StatusOK {
			t.Fatalf("decide: %d %s", r.status, r.body)
		}
		if r := admin.do("POST", "/api/v1/pollbook/provisionals/P-0001/decision", map[string]any{"accepted": false, "reason": "again"}); r.status != http.StatusConflict {
			t.Fatalf("deciding twice: %d %s", r.status, r.body)
		}
		if r := w.do("GET", "/api/v1/pollbook/provisionals", nil); r.status != http.StatusForbidden {
			t.Fatalf("a poll worker read the county's provisionals: %d", r.status)
		}
	})
	t.Run("turnout counts the check-ins, live over server-sent events", func(t *testing.T) {
		r := admin.do("GET", "/api/v1/pollbook/turnout", nil)
		if r.status != http.StatusOK || r.json()["total"].(float64) != 2 || r.json()["mail"].(float64) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		req, _ := http.NewRequest("GET", admin.base+"/api/v1/pollbook/turnout/stream", nil)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, err := admin.hc.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		sc := bufio.NewScanner(resp.Body)
		events := 0
		go func() {
			time.Sleep(300 * time.Millisecond)
			checkin(w, here[3].ID)
		}()
		for sc.Scan() && events < 2 {
			if line := sc.Text(); strings.HasPrefix(line, "data: ") {
				events++
				if events == 2 && !strings.Contains(line, `"total":3`) {
					t.Fatalf("the second event does not count the new check-in: %s", line)
				}
			}
		}
		if events < 2 {
			t.Fatalf("only %d events on the stream", events)
		}
	})
	t.Run("every pollbook page renders for its roles", func(t *testing.T) {
		for _, p := range []struct {
			c    *client
			path string
			want string
		}{
			{w, "/pollbook?q=" + urlQuery(here[5].LastName), here[5].ID},
			{w, "/pollbook?q=" + urlQuery(aamvaFor(here[5])), here[5].ID},
			{w, "/pollbook/voters/" + here[5].ID, `id="checkin"`},
			{w, "/pollbook/voters/" + here[0].ID, "Already checked in"},
			{w, "/pollbook/voters/" + elsewhere[1].ID, `id="go-to"`},
			{sup, "/pollbook/voters/" + here[0].ID, `id="undo-form"`},
			{w, "/pollbook/provisional?refused=wrong_place&voter=" + elsewhere[1].ID, elsewhere[1].LastName},
			{w, "/pollbook/turnout", `id="by-place"`},
			{admin, "/pollbook/provisionals?status=all", "P-0001"},
		} {
			r := p.c.do("GET", p.path, nil)
			if r.status != http.StatusOK || !strings.Contains(r.body, p.want) {
				t.Errorf("GET %s: %d, want %q in\n%s", p.path, r.status, p.want, r.body)
			}
			if strings.Contains(r.body, "DAQ123456789") || strings.Contains(r.body, "123456789") {
				t.Errorf("GET %s echoes the licence number", p.path)
			}
		}
	})
	t.Run("after the voting period nobody is checked in", func(t *testing.T) {
		late := c.Election
		late.VotingStart, late.VotingEnd = time.Now().Add(-5*time.Hour), time.Now().Add(-time.Hour)
		op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
		ev, _ := vigil.NewEvent(op, vigil.EventElectionDefined, late.ID, time.Now(), late)
		if _, err := e.node.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		r := checkin(w, here[4].ID)
		if ref := refusal(t, r); r.status != http.StatusForbidden || ref["reason"] != "not_open" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the projections rebuild from the log to the same tables", func(t *testing.T) {
		diffs, _, err := e.node.VerifyProjections(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diffs {
			t.Errorf("rebuilt projection differs: %s", d)
		}
	})
}

// aamvaFor is the text a keyboard-wedge scanner types for a licence of v.
func aamvaFor(v vigil.RollVoter) string {
	bd := strings.ReplaceAll(v.BirthDate, "-", "")
	mmddyyyy := bd[4:6] + bd[6:8] + bd[0:4]
	return "@\n\x1e\rANSI 636020090002DL00410278ZC03190008DLDAQ123456789\nDCS" + v.LastName + "\nDAC" + v.FirstName +
		"\nDADQ\nDBB" + mmddyyyy + "\nDAJCO\nDCGUSA\n"
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "+", "\n", "%0A", "\r", "%0D", "\x1e", "%1E", "#", "%23", "'", "%27")
	return r.Replace(s)
}

func TestMergingAnOfflineSitesCheckIns(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(400)
	w := e.MustUser("worker", workerGrant("P01"))
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	here := votersAt(c, "P01", "active")
	pb := sqlite.NewPollbook(e.node.DB, e.node, e.node.Now)
	hub := vigil.Actor{Name: "merger", Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: "http-test"}
	// A check-in the site P01 took while cut off from the hub.
	offline := func(v vigil.RollVoter) vigil.Event {
		ev, err := vigil.NewEvent(vigil.Actor{Name: "site-worker", Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"), Origin: "site-p01"},
			vigil.EventCheckInRecorded, v.ID, time.Now().Add(-10*time.Minute),
			vigil.CheckIn{Voter: vigil.VoterID(v.ID), Election: c.Election.ID, County: "ADAMS", Place: "P01", Precinct: v.Precinct, Method: vigil.MethodInPerson})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	t.Run("a voter nobody else checked in is merged as the site took it", func(t *testing.T) {
		ev := offline(here[0])
		r, err := pb.MergeCheckIn(t.Context(), hub, ev)
		if err != nil || !r.Merged || r.Conflict != nil {
			t.Fatalf("%+v %v", r, err)
		}
		rec, _ := pb.CheckInOf(t.Context(), vigil.VoterID(here[0].ID))
		if rec == nil || rec.Event != ev.ID || rec.Actor != "site-worker" || rec.Origin != "site-p01" {
			t.Fatalf("hub's check-in %+v", rec)
		}
		if r, err := pb.MergeCheckIn(t.Context(), hub, ev); err != nil || !r.Already {
			t.Fatalf("merging again: %+v %v", r, err)
		}
		if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": here[0].ID}); r.status != http.StatusConflict ||
			!strings.Contains(r.body, "site-worker") {
			t.Fatalf("checking the merged voter in at the hub: %d %s", r.status, r.body)
		}
	})
	t.Run("a voter checked in at the hub meanwhile becomes a conflict naming both, nothing dropped", func(t *testing.T) {
		if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": here[1].ID}); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		ev := offline(here[1])
		r, err := pb.MergeCheckIn(t.Context(), hub, ev)
		if err != nil || r.Merged || r.Conflict == nil || r.Conflict.Kept.Actor != "worker" || r.Conflict.Other.Event != ev.ID {
			t.Fatalf("%+v %v", r, err)
		}
		if r, err := pb.MergeCheckIn(t.Context(), hub, ev); err != nil || r.Conflict == nil || r.Conflict.Kept.Actor != "worker" {
			t.Fatalf("merging again: %+v %v", r, err)
		}
		list := admin.do("GET", "/api/v1/pollbook/conflicts?status=open", nil)
		conflicts, _ := list.json()["conflicts"].([]any)
		if list.status != http.StatusOK || len(conflicts) != 1 {
			t.Fatalf("conflicts (a re-run merge must not add one): %d %s", list.status, list.body)
		}
		cf := conflicts[0].(map[string]any)
		if cf["kept_actor"] != "worker" || cf["other_actor"] != "site-worker" || cf["other_origin"] != "site-p01" {
			t.Fatalf("conflict %v", cf)
		}
		id := cf["event"].(string)
		if r := admin.do("POST", "/api/v1/pollbook/conflicts/"+id+"/resolve", map[string]string{"outcome": "same voter twice; referred to the county attorney"}); r.status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.status, r.body)
		}
		if r := admin.do("POST", "/api/v1/pollbook/conflicts/"+id+"/resolve", map[string]string{"outcome": "again"}); r.status != http.StatusConflict {
			t.Fatalf("resolving twice: %d %s", r.status, r.body)
		}
		if r := admin.do("GET", "/pollbook/provisionals?status=all", nil); r.status != http.StatusOK || !strings.Contains(r.body, "county attorney") {
			t.Fatalf("the county page: %d", r.status)
		}
		var n int
		e.node.DB.QueryRow(`SELECT COUNT(*) FROM events WHERE id = ?`, ev.ID).Scan(&n)
		if n != 0 {
			t.Fatal("the losing site check-in entered the hub's log as a check-in")
		}
		// The conflict is a claim on the voter's subject: later claims still line up.
		sup := e.MustUser("super", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: vigil.PlaceScope("ADAMS", "P01")})
		if r := sup.do("POST", "/api/v1/pollbook/checkins/"+here[1].ID+"/undo", map[string]string{"reason": "county resolved the conflict"}); r.status != http.StatusOK {
			t.Fatalf("undo after a conflict: %d %s", r.status, r.body)
		}
	})
	t.Run("the projections rebuild from the log to the same tables", func(t *testing.T) {
		diffs, _, err := e.node.VerifyProjections(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diffs {
			t.Errorf("rebuilt projection differs: %s", d)
		}
	})
}
