package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/internal/netcut"
	"github.com/vigil-elections/vigil/internal/testutil"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// A hub and three polling-place sites, each a real `vigil site` process
// whose uplink runs through a TCP proxy the test cuts and restores
// (issue 4 §3, §4, §9; decision 0008).

type testSite struct {
	name, place, dir, cred string
	proxy                  *netcut.Proxy
	proc                   *child
	pw                     *apiClient
}

func (s *testSite) base() string { return "http://" + s.proc.addr }

func (s *testSite) start(t *testing.T, hubDir string) {
	t.Helper()
	s.proc = startChild(t, "site", "--data", s.dir, "--addr", "127.0.0.1:0", "--log-level", "warn",
		"--hub", s.proxy.Addr(), "--credential", s.cred, "--secrets-key", filepath.Join(hubDir, "keyring", "secrets.key"))
}

func (c *apiClient) get(ctx context.Context, path string) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if c.device != "" {
		req.Header.Set("Vigil-Device", c.device)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// checkIn checks a voter in; it returns the HTTP status and the event id
// (201) or the refusal's message.
func (c *apiClient) checkIn(t *testing.T, voter string) (int, string) {
	t.Helper()
	status, body, err := c.post(context.Background(), "/api/v1/pollbook/checkins", map[string]string{"voter": voter})
	if err != nil {
		return 0, err.Error()
	}
	var r struct {
		Checkin vigil.CheckInRecord
		Message string
		Error   string
	}
	json.Unmarshal(body, &r)
	if status == http.StatusCreated {
		return status, r.Checkin.Event
	}
	return status, string(body)
}

func TestHubAndThreeSitesOnlineOfflineKillAndMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four vigil processes")
	}
	root := t.TempDir()
	hubDir := filepath.Join(root, "hub")
	c := pollbookCounty(t, hubDir, siteCountyVoters())
	placeOf := map[string]string{}
	for _, p := range c.Precincts {
		placeOf[p.ID] = p.Place
	}
	votersAt := map[string][]string{}
	for _, v := range c.Voters {
		if v.Status == "active" {
			votersAt[placeOf[v.Precinct]] = append(votersAt[placeOf[v.Precinct]], v.ID)
		}
	}
	// Poll workers for the other two places.
	{
		n, err := node.Open(t.Context(), node.Options{Dir: hubDir})
		if err != nil {
			t.Fatal(err)
		}
		users := access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now)
		users.Argon = access.FastArgon2
		now := time.Now()
		for _, p := range []string{"P02", "P03"} {
			name := "pw-" + strings.ToLower(p)
			if err := users.Create(t.Context(), operator(n.Origin()), name, "Poll Worker "+p, demo.Password); err != nil {
				t.Fatal(err)
			}
			g := vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", p), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(3 * time.Hour)}
			if err := users.Grant(t.Context(), operator(n.Origin()), name, g); err != nil {
				t.Fatal(err)
			}
		}
		n.Close()
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	// site-a2 is a second node at P01 (a laptop running its own site).
	sites := []*testSite{{name: "site-a", place: "P01"}, {name: "site-b", place: "P02"}, {name: "site-c", place: "P03"},
		{name: "site-a2", place: "P01"}}
	for _, s := range sites {
		s.dir, s.cred = filepath.Join(root, s.name), filepath.Join(root, s.name+".credential")
		if out, err := run(t, "site", "allow", "--data", hubDir, "--name", s.name, "--place", s.place, "--listen", listen, "--out", s.cred); err != nil {
			t.Fatal(err, out)
		}
	}
	if out, err := run(t, "site", "allow", "--data", hubDir, "--name", "site-x", "--place", "NOWHERE", "--out", filepath.Join(root, "x")); err == nil ||
		!strings.Contains(err.Error(), "no polling place") {
		t.Fatalf("a site for an unknown place was allowed: %v %s", err, out)
	}
	if out, err := run(t, "site", "allow", "--data", hubDir, "--name", "site-gone", "--place", "P04", "--out", filepath.Join(root, "gone")); err != nil {
		t.Fatal(err, out)
	}
	if out, err := run(t, "site", "revoke", "--data", hubDir, "--name", "site-gone"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatal(err, out)
	}
	if out, err := run(t, "site", "revoke", "--data", hubDir, "--name", "site-gone"); err == nil {
		t.Fatalf("revoking a site twice: %s", out)
	}
	startServe(t, hubDir)
	for _, s := range sites {
		s.proxy = testutil.NewCutProxy(t, listen)
		s.start(t, hubDir)
	}
	users := []string{"pollworker", "pw-p02", "pw-p03", "pollworker2"}
	for i, s := range sites {
		s.pw = signInWhenSeen(t, s, users[i])
		s.pw.enrolWhenSeen(t, issueCode(t, hubDir, "county/ADAMS/place/"+s.place))
	}
	a, b, cSite, a2 := sites[0], sites[1], sites[2], sites[3]

	t.Run("online: a check-in at one site is seen at the others; a voter is checked in once", func(t *testing.T) {
		v := votersAt["P01"][0]
		status, ev := a.pw.checkIn(t, v)
		if status != http.StatusCreated {
			t.Fatalf("check-in at site A: %d %s", status, ev)
		}
		for _, s := range []*testSite{b, cSite, a2} {
			waitFor(t, s.name+" to see the check-in", 10*time.Second, func() bool {
				st, body, _ := s.pw.get(context.Background(), "/api/v1/pollbook/checkins/"+v+"?site=county/ADAMS/place/"+s.place)
				return st == http.StatusOK && strings.Contains(string(body), ev)
			})
		}
		// The same voter at two sites at the same moment: exactly one wins,
		// the other is told where.
		w := votersAt["P01"][1]
		var wg sync.WaitGroup
		results, msgs := make([]int, 2), make([]string, 2)
		for i, s := range []*testSite{a, a2} {
			wg.Add(1)
			go func() { defer wg.Done(); results[i], msgs[i] = s.pw.checkIn(t, w) }()
		}
		wg.Wait()
		won := 0
		for i := range results {
			if results[i] == http.StatusCreated {
				won++
			} else if results[i] != http.StatusConflict || !strings.Contains(msgs[i], "Lincoln Elementary") {
				t.Fatalf("the losing site got %d %s", results[i], msgs[i])
			}
		}
		if won != 1 {
			t.Fatalf("%d sites checked the same voter in: %v %v", won, results, msgs)
		}
		// Propagation, measured (not asserted): from the acknowledgement at
		// site A until site B's copy of the hub's log shows the check-in.
		var lat []time.Duration
		for _, v := range votersAt["P01"][2:min(2+propagationSamples(), len(votersAt["P01"]))] {
			status, ev := a.pw.checkIn(t, v)
			if status != http.StatusCreated {
				t.Fatalf("check-in at site A: %d %s", status, ev)
			}
			acked := time.Now()
			waitFor(t, "site B to see the check-in", 10*time.Second, func() bool {
				st, body, _ := b.pw.get(context.Background(), "/api/v1/pollbook/checkins/"+v+"?site=county/ADAMS/place/P02")
				return st == http.StatusOK && strings.Contains(string(body), ev)
			})
			lat = append(lat, time.Since(acked))
		}
		slices.Sort(lat)
		t.Logf("propagation site A -> site B over %d check-ins: p50 %v, p99 %v, max %v", len(lat),
			lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	})

	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)")
	}
	browser := startBrowser(t, chromium)
	// A tablet at a site: signed in, enrolled with a code the hub issued
	// (it reaches the site through the site's copy of the hub's log).
	tablet := func(t *testing.T, s *testSite, user string) *session {
		p := openSession(t, browser, s.base())
		p.signIn(user, demo.Password)
		code := issueCode(t, hubDir, "county/ADAMS/place/"+s.place)
		for try := 0; ; try++ {
			if p.navigate("/devices/enrol") == http.StatusOK {
				p.fill("#code", code)
				if p.submit("#enrol") == http.StatusOK && p.count("#enrolled") == 1 {
					return p
				}
			}
			if try == 50 {
				t.Fatalf("enrolling a tablet at %s: %s", s.name, p.bodyText())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cTablet := tablet(t, cSite, "pw-p03")

	t.Run("two Chromium pages at two sites check the same voter in at once", func(t *testing.T) {
		voter := votersAt["P01"][len(votersAt["P01"])-1]
		at := []*testSite{a, a2}
		pages := []*session{tablet(t, a, "pollworker"), tablet(t, a2, "pollworker2")}
		for i, p := range pages {
			if status := p.navigate("/pollbook/voters/" + voter + "?site=county/ADAMS/place/P01"); status != http.StatusOK {
				t.Fatalf("the voter's page at %s: %d\n%s", at[i].name, status, p.bodyText())
			}
			p.wantText("#site-status", "ONLINE")
		}
		status, _ := clickAtOnce(pages, "#checkin")
		won := slices.Index(status, http.StatusOK)
		if won < 0 || status[1-won] != http.StatusConflict {
			t.Fatalf("statuses %v: want one 200 and one 409", status)
		}
		pages[won].wantText("#done", "Checked in")
		pages[1-won].wantText("#refusal-message", "Already checked in")
		pages[1-won].wantText("#prior-place", "Lincoln Elementary School")
	})

	outer := t
	acked := map[string]string{} // event id -> voter: every check-in a site acknowledged while cut off
	dup := votersAt["P03"][0]
	t.Run("offline: the cut-off site keeps checking in, never twice, and survives kill -9", func(t *testing.T) {
		cSite.proxy.Cut()
		waitFor(t, "site C to show it is offline", 15*time.Second, func() bool {
			st, body, _ := cSite.pw.get(context.Background(), "/pollbook?site=county/ADAMS/place/P03")
			return st == http.StatusOK && strings.Contains(string(body), "OFFLINE") && strings.Contains(string(body), "last sync")
		})
		if status := cTablet.navigate("/pollbook"); status != http.StatusOK {
			t.Fatalf("the pollbook page at the cut-off site: %d", status)
		}
		cTablet.wantText("#site-status", "OFFLINE")
		cTablet.wantText("#site-status", "last sync")
		waitFor(t, "the hub to record site C's link down", 10*time.Second, func() bool {
			return strings.HasSuffix(linkHistory(t, hubDir, cSite.name), "down")
		})
		// Meanwhile the county enters a paper check-in of a P03 voter on the
		// hub: site C cannot know, and will check the voter in again.
		csv := filepath.Join(root, "paper.csv")
		os.WriteFile(csv, []byte("voter\n"+dup+"\n"), 0o600)
		if out, err := run(t, "pollbook", "paper-entry", "--data", hubDir, "--site", "county/ADAMS/place/P03", csv); err != nil {
			t.Fatal(err, out)
		}
		// An envelope number used at site A (online) and at site C (cut
		// off): C's is kept and refused at the merge, never dropped; C
		// itself never uses a number twice.
		envelope := map[string]string{"envelope": "E-100", "reason": "not_on_roll", "first_name": "Pat", "last_name": "Provisional",
			"birth_date": "1980-01-01", "address": "1 Main St"}
		for _, at := range []*testSite{a, cSite} {
			if st, body, _ := at.pw.post(context.Background(), "/api/v1/pollbook/provisionals?site=county/ADAMS/place/"+at.place, envelope); st != http.StatusCreated {
				t.Fatalf("provisional ballot at %s: %d %s", at.name, st, body)
			}
		}
		if st, body, _ := cSite.pw.post(context.Background(), "/api/v1/pollbook/provisionals?site=county/ADAMS/place/P03", envelope); st != http.StatusConflict {
			t.Fatalf("the same envelope twice at the cut-off site: %d %s", st, body)
		}
		status, ev := cSite.pw.checkIn(t, dup)
		if status != http.StatusCreated {
			t.Fatalf("offline check-in at site C: %d %s", status, ev)
		}
		acked[ev] = dup
		if status, msg := cSite.pw.checkIn(t, dup); status != http.StatusConflict {
			t.Fatalf("a second check-in of the same voter at the cut-off site: %d %s", status, msg)
		}
		// Load from 8 pollbooks, killed with SIGKILL midway and restarted
		// (still cut off).
		queue := make(chan string, len(votersAt["P03"]))
		for _, v := range votersAt["P03"][1:] {
			queue <- v
		}
		close(queue)
		var mu sync.Mutex
		load := func(stopAt int) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v := range queue {
						status, ev := cSite.pw.checkIn(t, v)
						mu.Lock()
						if status == http.StatusCreated {
							acked[ev] = v
						}
						n := len(acked)
						mu.Unlock()
						if status == 0 || stopAt > 0 && n >= stopAt {
							return
						}
					}
				}()
			}
			for stopAt > 0 {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= stopAt {
					cSite.proc.kill9(t)
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			wg.Wait()
		}
		load(80)
		cSite.start(outer, hubDir) // outlives this subtest
		t.Logf("killed site C with %d offline check-ins acknowledged; restarted it", len(acked))
		device := cSite.pw.device
		cSite.pw = signInWhenSeen(t, cSite, "pw-p03")
		cSite.pw.device = device
		for ev, v := range acked {
			if status, msg := cSite.pw.checkIn(t, v); status != http.StatusConflict {
				t.Fatalf("after kill -9, acknowledged check-in %s of %s is gone: %d %s", ev, v, status, msg)
			}
		}
		load(0)
		t.Logf("%d offline check-ins acknowledged at site C", len(acked))
		if len(acked) < 200 {
			t.Fatalf("only %d offline check-ins acknowledged", len(acked))
		}
		st := siteStatus(t, cSite)
		if st.Online || st.Waiting == 0 {
			t.Fatalf("site C while cut off: %+v", st)
		}
	})

	t.Run("reconnect: everything reaches the hub, the duplicate becomes a conflict with both kept", func(t *testing.T) {
		cSite.proxy.Restore()
		restored := time.Now()
		waitFor(t, "site C to send everything", 30*time.Second, func() bool {
			st := siteStatus(t, cSite)
			return st.Online && st.Waiting == 0
		})
		t.Logf("site C's %d offline entries reached the hub %v after the link was restored", len(acked), time.Since(restored).Round(time.Millisecond))
		recorded := map[string]bool{}
		var conflicts []vigil.CheckInConflict
		var refused []vigil.SiteEntryRefused
		for _, ev := range hubEvents(t, hubDir) {
			switch ev.Type {
			case vigil.EventCheckInRecorded:
				recorded[ev.ID] = true
			case vigil.EventCheckInConflicted:
				var c vigil.CheckInConflict
				json.Unmarshal(ev.Payload, &c)
				conflicts = append(conflicts, c)
			case vigil.EventSiteEntryRefused:
				var r vigil.SiteEntryRefused
				json.Unmarshal(ev.Payload, &r)
				refused = append(refused, r)
			}
		}
		waitFor(t, "the hub to record site C's link connected, cut and back up", 5*time.Second, func() bool {
			return strings.HasPrefix(linkHistory(t, hubDir, cSite.name), "up,down,up")
		})
		if len(refused) != 1 || refused[0].Site != cSite.name || refused[0].Entry.Type != vigil.EventProvisionalIssued ||
			!strings.Contains(refused[0].Reason, "envelope") {
			t.Fatalf("entries the hub refused: %+v (want site C's provisional ballot in envelope E-100, kept)", refused)
		}
		if len(conflicts) != 1 || conflicts[0].Voter != vigil.VoterID(dup) || conflicts[0].Kept.Source != vigil.CheckInSourcePaper {
			t.Fatalf("conflicts on the hub: %+v", conflicts)
		}
		lost := 0
		for ev, v := range acked {
			if v == dup {
				if conflicts[0].Other.Event != ev {
					t.Errorf("the conflict names %s, not site C's check-in %s", conflicts[0].Other.Event, ev)
				}
				continue
			}
			if !recorded[ev] {
				lost++
			}
		}
		if lost > 0 {
			t.Fatalf("%d of %d acknowledged offline check-ins are not in the hub's log", lost, len(acked))
		}
		// The other sites see them too (the hub's log, mirrored).
		var probe string
		for ev, v := range acked {
			if v != dup {
				probe = v
				_ = ev
				break
			}
		}
		t.Cleanup(func() {
			if t.Failed() {
				for _, s := range sites {
					_, body, _ := s.pw.get(context.Background(), "/api/v1/site")
					code, v, err := s.pw.get(context.Background(), "/api/v1/pollbook/checkins/"+probe+"?site=county/ADAMS/place/"+s.place)
					t.Logf("%s after the failure: check-in %d %v %s; site %s", s.name, code, err, v, body)
				}
			}
		})
		waitFor(t, "site A to see a merged check-in", 10*time.Second, func() bool {
			st, body, _ := a.pw.get(context.Background(), "/api/v1/pollbook/checkins/"+probe+"?site=county/ADAMS/place/P01")
			return st == http.StatusOK && strings.Contains(string(body), "P03")
		})
	})

	t.Run("replay: a site that re-sends its log stores nothing twice, and the county is alerted", func(t *testing.T) {
		count := func() (checkIns, resent int, alerted bool) {
			for _, ev := range hubEvents(t, hubDir) {
				switch ev.Type {
				case vigil.EventCheckInRecorded, vigil.EventCheckInConflicted:
					checkIns++
				case vigil.EventSiteMerged:
					var m vigil.SiteMerged
					json.Unmarshal(ev.Payload, &m)
					resent += m.Already
				case vigil.EventAlertRaised:
					var a vigil.AlertRaised
					json.Unmarshal(ev.Payload, &a)
					alerted = alerted || a.Rule == "site-resent-entries"
				}
			}
			return
		}
		before, resentBefore, _ := count()
		// Site C as if restored from an older copy: its merge cursor back
		// at the start of its log.
		cSite.proc.stop(t)
		db, err := sqlite.Open(t.Context(), filepath.Join(cSite.dir, "vigil.db"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE site_state SET value = '0' WHERE key = 'merged'`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		device := cSite.pw.device
		cSite.start(outer, hubDir)
		cSite.pw = signInWhenSeen(t, cSite, "pw-p03")
		cSite.pw.device = device
		waitFor(t, "the hub to record the re-sent entries and alert", 30*time.Second, func() bool {
			_, resent, alerted := count()
			return resent-resentBefore >= len(acked) && alerted
		})
		if after, _, _ := count(); after != before {
			t.Fatalf("re-sent entries stored %d check-ins or conflicts again", after-before)
		}
	})
}

// enrolWhenSeen enrols the client's device with a code issued on the hub,
// retrying until the site's copy of the hub's log holds the code.
func (c *apiClient) enrolWhenSeen(t *testing.T, code string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body, err := c.post(context.Background(), "/api/v1/devices/enrol", map[string]string{"code": code})
		if err == nil && status == http.StatusCreated {
			var r struct{ Token string }
			json.Unmarshal(body, &r)
			c.device = r.Token
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("enrol at the site: %d %v %s", status, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func siteStatus(t *testing.T, s *testSite) node.SiteStatus {
	t.Helper()
	var st node.SiteStatus
	status, body, err := s.pw.get(context.Background(), "/api/v1/site")
	if err != nil || status != http.StatusOK {
		t.Fatalf("site status: %d %v %s", status, err, body)
	}
	json.Unmarshal(body, &st)
	return st
}

// signInWhenSeen signs in at a site once its copy of the hub's log holds
// the account (a site that has just started is still catching up).
func signInWhenSeen(t *testing.T, s *testSite, user string) *apiClient {
	t.Helper()
	waitFor(t, s.name+" to know "+user, 20*time.Second, func() bool {
		b, _ := json.Marshal(map[string]string{"username": user, "password": demo.Password})
		resp, err := http.Post(s.base()+"/api/v1/session", "application/json", strings.NewReader(string(b)))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusCreated
	})
	return signInAPI(t, s.base(), user)
}

// The site test's sizes. VIGIL_SITE_VOTERS sizes the county (the cut-off
// site checks in every active voter of its place: about a fifth), e.g.
// 60000 for ~10,000 offline check-ins; VIGIL_SITE_PROPAGATION the number
// of propagation samples.
func siteCountyVoters() int { return envInt("VIGIL_SITE_VOTERS", 3000) }

func propagationSamples() int { return envInt("VIGIL_SITE_PROPAGATION", 20) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// hubEvents reads every event of the hub's log.
func hubEvents(t *testing.T, hubDir string) []vigil.Event {
	t.Helper()
	log, closeLog := connectLog(t, hubDir)
	defer closeLog()
	var out []vigil.Event
	for _, data := range readAll(t, log) {
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry...)
	}
	return out
}

// linkHistory is a site's link as the hub recorded it (site.link), e.g.
// "up,down,up".
func linkHistory(t *testing.T, hubDir, site string) string {
	t.Helper()
	var links []string
	for _, ev := range hubEvents(t, hubDir) {
		var l vigil.SiteLink
		if ev.Type == vigil.EventSiteLink && json.Unmarshal(ev.Payload, &l) == nil && l.Site == site {
			links = append(links, map[bool]string{true: "up", false: "down"}[l.Up])
		}
	}
	return strings.Join(links, ",")
}
