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
)

// renumbered writes a copy of the Dominion sample whose ballots are on
// other tabulators with other numbers: 14 new ballots of the same contests,
// precinct and batches.
func renumbered(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if i < 4 || l == "" {
			continue
		}
		f := strings.Split(l, ",")
		f[0] = "100" + f[0]
		f[1] = strings.Replace(f[1], "TABULATOR", "TABULATOR9", 1)
		f[4] = "9" + f[4]
		lines[i] = strings.Join(f, ",")
	}
	p := filepath.Join(t.TempDir(), "MORE_CVRS.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pdfToText(t *testing.T, pdf string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	os.WriteFile(f, []byte(pdf), 0o600)
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func jsonOf(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%d, not JSON: %s", r.status, r.body)
	}
	return m
}

func TestTabulationPerCountyThroughHTTP(t *testing.T) {
	e := MustServe(t)
	tabA := e.MustUser("tab-a", vigil.Grant{Role: vigil.RoleTabulator, Scope: vigil.CountyScope("ADAMS")})
	tabB := e.MustUser("tab-b", vigil.Grant{Role: vigil.RoleTabulator, Scope: vigil.CountyScope("BOONE")})
	adminA := e.MustUser("admin-a", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	state := e.MustUser("state", vigil.Grant{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState})
	observer := e.MustUser("obs", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})
	anon := e.client()
	cvrs := filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv")
	ballots := func(r response) float64 {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return jsonOf(t, r)["Ballots"].(float64)
	}

	t.Run("each county's tabulator imports for that county only", func(t *testing.T) {
		if r := tabA.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", cvrs); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		// The same ballot ids, in another county.
		if r := tabB.upload("/api/v1/tabulation/cvrs?format=dominion&county=BOONE", cvrs); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := tabA.upload("/api/v1/tabulation/cvrs?format=dominion&county=BOONE", renumbered(t)); r.status != http.StatusForbidden {
			t.Fatalf("ADAMS's tabulator imported for BOONE: %d %s", r.status, r.body)
		}
		if r := tabA.upload("/api/v1/tabulation/election?county=ADAMS", cvrs); r.status != http.StatusForbidden {
			t.Fatalf("a county tabulator replaced the state's election definition: %d %s", r.status, r.body)
		}
	})
	t.Run("county staff read their county's unpublished count only; the state reads all", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			c    *client
			path string
			want float64
		}{
			{"ADAMS tabulator, no county named", tabA, "/api/v1/tabulation/tally", 14},
			{"ADAMS tabulator, ADAMS", tabA, "/api/v1/tabulation/tally?county=ADAMS", 14},
			{"ADAMS admin", adminA, "/api/v1/tabulation/tally", 14},
			{"state admin, every county", state, "/api/v1/tabulation/tally", 28},
			{"state admin, BOONE", state, "/api/v1/tabulation/tally?county=BOONE", 14},
		} {
			if got := ballots(tt.c.do("GET", tt.path, nil)); got != tt.want {
				t.Fatalf("%s: %v ballots, want %v", tt.name, got, tt.want)
			}
		}
		for _, tt := range []struct {
			name string
			c    *client
			path string
		}{
			{"ADAMS tabulator reads BOONE's tally", tabA, "/api/v1/tabulation/tally?county=BOONE"},
			{"ADAMS admin reads BOONE's reconciliation", adminA, "/api/v1/tabulation/reconciliation?county=BOONE"},
			{"BOONE tabulator follows ADAMS's live reconciliation", tabB, "/api/v1/tabulation/reconciliation/stream?county=ADAMS"},
			{"BOONE tabulator opens ADAMS's tabulation page", tabB, "/tabulation?county=ADAMS"},
			{"an observer reads a tally", observer, "/api/v1/tabulation/tally"},
			{"anyone reads a tally", anon, "/api/v1/tabulation/tally?county=ADAMS"},
		} {
			if r := tt.c.do("GET", tt.path, nil); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s", tt.name, r.status, r.body)
			}
		}
		r := tabA.do("GET", "/api/v1/tabulation/reconciliation", nil)
		if m := jsonOf(t, r); m["county"] != "ADAMS" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("tallies by precinct, ballot style and batch: CSV adds the column, JSON the groups", func(t *testing.T) {
		r := tabA.do("GET", "/api/v1/tabulation/tally?format=csv", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "contest,choice,votes\nContest 1,Choice 1-1,7\n") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = tabA.do("GET", "/api/v1/tabulation/tally?format=csv&by=precinct", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "precinct,contest,choice,votes\n12345,Contest 1,Choice 1-1,7\n") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = tabA.do("GET", "/api/v1/tabulation/tally?format=csv&by=batch&contest=Contest%202", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "tabulator,batch,contest,choice,votes\nTABULATOR1,BATCH1,Contest 2,Choice 2-1,") ||
			strings.Contains(r.body, "Contest 1") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = tabA.do("GET", "/api/v1/tabulation/tally?by=style", nil)
		var res struct {
			Groups []struct {
				By, Name string
				Contests []struct{ Ballots int }
			}
		}
		if err := json.Unmarshal([]byte(r.body), &res); err != nil || len(res.Groups) != 2 || res.Groups[0].By != "ballot_style" ||
			res.Groups[0].Name != "CITY" || res.Groups[1].Name != "COUNTY" || res.Groups[1].Contests[0].Ballots != 11 {
			t.Fatalf("%v %d %s", err, r.status, r.body)
		}
		if r := tabA.do("GET", "/api/v1/tabulation/tally?by=ward", nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, `"field":"by"`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := tabA.do("GET", "/api/v1/tabulation/tally?format=csv&by=precinct,batch", nil); r.status != http.StatusBadRequest {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = tabA.do("GET", "/tabulation?by=batch", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "tabulator TABULATOR2, batch") || !strings.Contains(r.body, "county ADAMS") ||
			!strings.Contains(r.body, `href="/api/v1/tabulation/tally?by=batch&amp;county=ADAMS&amp;format=pdf"`) ||
			!strings.Contains(r.body, `<option value="batch" selected>`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the unpublished count downloads as a PDF naming its checkpoint", func(t *testing.T) {
		r := tabA.do("GET", "/api/v1/tabulation/tally?format=pdf", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		text := pdfToText(t, r.body)
		for _, w := range []string{"UNOFFICIAL COUNT", "county ADAMS", "14 ballots counted", "Choice 2-3", "Computed at log checkpoint: vigil.log/"} {
			if !strings.Contains(text, w) {
				t.Fatalf("PDF lacks %q:\n%s", w, text)
			}
		}
	})
	t.Run("a county admin publishes their county; it is public, BOONE's is not", func(t *testing.T) {
		r := adminA.do("POST", "/api/v1/results/publish", `{}`)
		if r.status != http.StatusCreated || jsonOf(t, r)["county"] != "ADAMS" || jsonOf(t, r)["ballots"].(float64) != 14 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := adminA.do("POST", "/api/v1/results/publish?county=BOONE", `{}`); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if got := ballots(anon.do("GET", "/api/v1/results?county=ADAMS", nil)); got != 14 {
			t.Fatalf("%v", got)
		}
		if r := anon.do("GET", "/api/v1/results?county=BOONE", nil); r.status != http.StatusNotFound {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = anon.do("GET", "/results", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "County ADAMS") || strings.Contains(r.body, "County BOONE") ||
			!strings.Contains(r.body, "/results.pdf?county=ADAMS") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("published results by precinct and style; batches are not published", func(t *testing.T) {
		r := anon.do("GET", "/results.csv?county=ADAMS&by=precinct", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "precinct,contest,choice,votes\n12345,Contest 1,Choice 1-1,7\n") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = anon.do("GET", "/results?county=ADAMS&by=ballot_style", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "By ballot_style") || !strings.Contains(r.body, "<strong>COUNTY</strong>") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := anon.do("GET", "/api/v1/results?county=ADAMS&by=batch", nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "no count by batch") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the published results download as a PDF with every contest and the checkpoint", func(t *testing.T) {
		r := anon.do("GET", "/results.pdf?county=ADAMS", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		text := pdfToText(t, r.body)
		for _, w := range []string{"RESULTS", "county ADAMS", "published ", "by admin-a", "Contest 1", "Choice 1-1", "Contest 2", "Choice 2-3", "Computed at log checkpoint: vigil.log/"} {
			if !strings.Contains(text, w) {
				t.Fatalf("PDF lacks %q:\n%s", w, text)
			}
		}
		if strings.Contains(text, "UNOFFICIAL") {
			t.Fatal("the published PDF says unofficial")
		}
	})
	t.Run("the state publishes every county's ballots", func(t *testing.T) {
		r := state.do("POST", "/api/v1/results/publish", `{}`)
		if r.status != http.StatusCreated || jsonOf(t, r)["ballots"].(float64) != 28 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := anon.do("GET", "/results", nil); !strings.Contains(r.body, "Statewide") || !strings.Contains(r.body, "County ADAMS") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// The reconciliation page follows new CVRs, check-ins and provisionals
// over server-sent events.
func TestLiveReconciliationThroughHTTP(t *testing.T) {
	e := MustServe(t)
	tab := e.MustUser("tab", vigil.Grant{Role: vigil.RoleTabulator, Scope: vigil.CountyScope("ADAMS")})
	cvrs := filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv")
	if r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", cvrs); r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// Check-ins and a provisional ballot at ADAMS's place P01, precinct 12345.
	pw := vigil.Actor{Name: "pw", Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"), Origin: "http-test"}
	var evs []vigil.Event
	for i := range 14 {
		ev, _ := vigil.NewEvent(pw, vigil.EventCheckInRecorded, fmt.Sprint("V", i), time.Now(),
			vigil.CheckIn{Voter: vigil.VoterID(fmt.Sprint("V", i)), Election: "E1", County: "ADAMS", Place: "P01", Precinct: "12345", BallotStyle: "COUNTY", Method: "in_person"})
		evs = append(evs, ev)
	}
	ev, _ := vigil.NewEvent(pw, vigil.EventProvisionalIssued, "ADAMS-E1", time.Now(), vigil.ProvisionalBallot{Envelope: "E1", Election: "E1",
		County: "ADAMS", Place: "P01", Reason: vigil.ProvisionalNotFound, FirstName: "A", LastName: "B", BirthDate: "1990-01-01", Address: "1 Main St"})
	evs = append(evs, ev)
	if _, err := e.node.Append(t.Context(), evs, vigil.AppendOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("the page lists precincts and places, provisionals apart, discrepancies marked", func(t *testing.T) {
		r := tab.do("GET", "/tabulation/reconciliation?threshold=2", nil)
		for _, w := range []string{`id="rec-precincts"`, `id="rec-places"`, "<td>12345</td><td>14</td><td>0</td><td>14</td>", "<td>P01</td><td>14</td><td>1</td>",
			`data-stream="/api/v1/tabulation/reconciliation/stream?county=ADAMS&amp;threshold=2"`, "/static/live.js"} {
			if r.status != http.StatusOK || !strings.Contains(r.body, w) {
				t.Fatalf("page lacks %q: %d %s", w, r.status, r.body)
			}
		}
		if r := tab.do("GET", "/tabulation/reconciliation?threshold=-1", nil); r.status != http.StatusBadRequest || !strings.Contains(r.body, "threshold") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the stream sends the new count when more CVRs are imported, and flags the difference", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", tab.base+"/api/v1/tabulation/reconciliation/stream?threshold=2", nil)
		resp, err := tab.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("%d %q", resp.StatusCode, ct)
		}
		type line struct {
			ID       string
			CheckIns int
			Ballots  int
			Flagged  bool
		}
		next := func(sc *bufio.Scanner) (flagged int, precinct line) {
			t.Helper()
			event := ""
			for sc.Scan() {
				l := sc.Text()
				if v, ok := strings.CutPrefix(l, "event: "); ok {
					event = v
				}
				if v, ok := strings.CutPrefix(l, "data: "); ok && event == "reconciliation" {
					var d struct {
						Flagged   int
						Precincts []line
					}
					if err := json.Unmarshal([]byte(v), &d); err != nil {
						t.Fatal(err)
					}
					for _, p := range d.Precincts {
						if p.ID == "12345" {
							precinct = p
						}
					}
					return d.Flagged, precinct
				}
			}
			t.Fatalf("the stream ended: %v", sc.Err())
			return
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		// Place P01 is flagged already: no precinct of the jurisdiction
		// maps to it, so its check-ins have no counted ballots.
		first, p := next(sc)
		if p.CheckIns != 14 || p.Ballots != 14 || p.Flagged || first != 1 {
			t.Fatalf("first event: %d flagged, %+v", first, p)
		}
		if r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", renumbered(t)); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for {
			flagged, p := next(sc)
			if p.Ballots == 14 {
				continue // an event from before the import was applied
			}
			if p.Ballots != 28 || p.CheckIns != 14 || !p.Flagged || flagged != first+1 {
				t.Fatalf("after the import: %d flagged, %+v", flagged, p)
			}
			return
		}
	})
}
