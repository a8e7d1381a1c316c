package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/internal/testutil"
	"github.com/vigil-elections/vigil/node"
)

// A laptop running its own `vigil site`, joined to its polling place's site
// node rather than to the hub (issue 4 §1, §4; node/site_relay.go): it
// works through the site while it reaches it, the site and the laptop never
// both check a voter in even while the site is cut off from the hub, and a
// laptop cut off even from its site works alone and merges later, its
// duplicate kept as a conflict on the hub. Real processes: a hub, a site
// and a laptop, each link through a TCP proxy the test cuts.
func TestLaptopJoinedToASite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three vigil processes")
	}
	root := t.TempDir()
	hubDir := filepath.Join(root, "hub")
	c := pollbookCounty(t, hubDir, 1200)
	placeOf := map[string]string{}
	for _, p := range c.Precincts {
		placeOf[p.ID] = p.Place
	}
	var voters []string // active voters of P01
	for _, v := range c.Voters {
		if v.Status == "active" && placeOf[v.Precinct] == "P01" {
			voters = append(voters, v.ID)
		}
	}
	if len(voters) < 80 {
		t.Fatalf("only %d active voters at P01", len(voters))
	}
	hubListen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	siteListen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	site := &testSite{name: "site-a", place: "P01", dir: filepath.Join(root, "site-a"), cred: filepath.Join(root, "site-a.credential")}
	if out, err := run(t, "site", "allow", "--data", hubDir, "--name", site.name, "--place", "P01", "--listen", hubListen, "--out", site.cred); err != nil {
		t.Fatal(err, out)
	}
	startServe(t, hubDir)
	site.proxy = testutil.NewCutProxy(t, hubListen)
	site.start(t, hubDir)
	site.pw = signInWhenSeen(t, site, "pollworker")
	site.pw.enrolWhenSeen(t, issueCode(t, hubDir, "county/ADAMS/place/P01"))

	// The site admits a laptop; a laptop for another place is refused.
	laptop := &testSite{name: "site-a_laptop-1", place: "P01", dir: filepath.Join(root, "laptop-1"), cred: filepath.Join(root, "laptop-1.credential")}
	if out, err := run(t, "site", "allow", "--data", site.dir, "--name", "laptop-9", "--place", "P02", "--listen", siteListen,
		"--out", filepath.Join(root, "x")); err == nil || !strings.Contains(err.Error(), "serves P01") {
		t.Fatalf("a laptop of site A for another place: %v %s", err, out)
	}
	if out, err := run(t, "site", "allow", "--data", site.dir, "--name", "laptop-1", "--listen", siteListen, "--out", laptop.cred); err != nil {
		t.Fatal(err, out)
	}
	site.proc.stop(t) // a site admits laptops when it starts
	site.start(t, hubDir)
	device := site.pw.device
	site.pw = signInWhenSeen(t, site, "pollworker")
	site.pw.device = device
	laptop.proxy = testutil.NewCutProxy(t, siteListen)
	laptop.start(t, hubDir)
	laptop.pw = signInWhenSeen(t, laptop, "pollworker2")
	laptop.pw.enrolWhenSeen(t, issueCode(t, hubDir, "county/ADAMS/place/P01"))
	if st := siteStatus(t, site); len(st.Laptops) != 1 || st.Laptops[0] != (node.LaptopLink{Name: laptop.name, Connected: true}) || !st.Online {
		t.Fatalf("the site's status with its laptop linked: %+v", st)
	}

	next := 0
	voter := func() string { next++; return voters[next-1] }
	checkedIn := func(t *testing.T, s *testSite, v, ev string) bool {
		st, body, _ := s.pw.get(context.Background(), "/api/v1/pollbook/checkins/"+v+"?site=county/ADAMS/place/P01")
		return st == http.StatusOK && strings.Contains(string(body), ev)
	}
	mustCheckIn := func(t *testing.T, s *testSite, v string) string {
		t.Helper()
		status, ev := s.pw.checkIn(t, v)
		if status != http.StatusCreated {
			t.Fatalf("check-in of %s at %s: %d %s", v, s.name, status, ev)
		}
		return ev
	}
	mustRefuse := func(t *testing.T, s *testSite, v string) {
		t.Helper()
		if status, msg := s.pw.checkIn(t, v); status != http.StatusConflict || !strings.Contains(msg, "Already checked in") {
			t.Fatalf("a second check-in of %s at %s: %d %s", v, s.name, status, msg)
		}
	}
	acked := map[string]string{} // event id -> voter, every check-in acknowledged

	t.Run("online: the laptop's check-ins reach the hub through the site", func(t *testing.T) {
		v := voter()
		ev := mustCheckIn(t, laptop, v)
		acked[ev] = v
		waitFor(t, "the site to see the laptop's check-in", 10*time.Second, func() bool { return checkedIn(t, site, v, ev) })
		mustRefuse(t, site, v)
		// The same voter at the site and on the laptop at once: one wins.
		w := voter()
		var wg sync.WaitGroup
		status, msgs := make([]int, 2), make([]string, 2)
		for i, s := range []*testSite{site, laptop} {
			wg.Add(1)
			go func() { defer wg.Done(); status[i], msgs[i] = s.pw.checkIn(t, w) }()
		}
		wg.Wait()
		if (status[0] == http.StatusCreated) == (status[1] == http.StatusCreated) {
			t.Fatalf("the same voter at the site and on the laptop: %v %v", status, msgs)
		}
		for i := range status {
			if status[i] == http.StatusCreated {
				acked[msgs[i]] = w
			}
		}
	})

	t.Run("site cut off from the hub: the laptop still works through it, never twice", func(t *testing.T) {
		site.proxy.Cut()
		waitFor(t, "the site to be offline", 15*time.Second, func() bool { return !siteStatus(t, site).Online })
		v := voter()
		acked[mustCheckIn(t, laptop, v)] = v
		mustRefuse(t, site, v)
		w := voter()
		acked[mustCheckIn(t, site, w)] = w
		mustRefuse(t, laptop, w)
	})

	var dup, siteDup, laptopDup string
	t.Run("laptop cut off from the site: it works alone", func(t *testing.T) {
		laptop.proxy.Cut()
		waitFor(t, "the laptop to be offline", 15*time.Second, func() bool { return !siteStatus(t, laptop).Online })
		dup = voter()
		laptopDup = mustCheckIn(t, laptop, dup)
		mustRefuse(t, laptop, dup)
		siteDup = mustCheckIn(t, site, dup) // the site cannot know
		for range 40 {
			v := voter()
			acked[mustCheckIn(t, laptop, v)] = v
		}
		if st := siteStatus(t, laptop); st.Waiting == 0 {
			t.Fatalf("the cut-off laptop holds nothing to send: %+v", st)
		}
	})

	t.Run("laptop back: it merges into the site, still cut off from the hub", func(t *testing.T) {
		laptop.proxy.Restore()
		waitFor(t, "the laptop to send everything to the site", 20*time.Second, func() bool {
			st := siteStatus(t, laptop)
			return st.Online && st.Waiting == 0
		})
		if st := siteStatus(t, site); st.Online {
			t.Fatalf("the site reached the hub while cut off: %+v", st)
		}
		for _, v := range acked {
			mustRefuse(t, site, v) // the site now knows every one of them
		}
	})

	t.Run("site back: everything reaches the hub, the duplicate is a conflict with both kept", func(t *testing.T) {
		site.proxy.Restore()
		waitFor(t, "the site to send everything to the hub", 30*time.Second, func() bool {
			st := siteStatus(t, site)
			return st.Online && st.Waiting == 0
		})
		recorded := map[string]string{} // event id -> origin
		var conflicts []vigil.CheckInConflict
		for _, ev := range hubEvents(t, hubDir) {
			switch ev.Type {
			case vigil.EventCheckInRecorded:
				recorded[ev.ID] = ev.Origin
			case vigil.EventCheckInConflicted:
				var c vigil.CheckInConflict
				json.Unmarshal(ev.Payload, &c)
				conflicts = append(conflicts, c)
			case vigil.EventSiteEntryRefused:
				t.Errorf("the hub refused an entry: %s", ev.Payload)
			}
		}
		for ev, v := range acked {
			if _, ok := recorded[ev]; !ok {
				t.Errorf("acknowledged check-in %s of %s is not in the hub's log", ev, v)
			}
		}
		if recorded[laptopDup] != "" || recorded[siteDup] != "site-a" {
			t.Errorf("the duplicate's records on the hub: laptop's %q, site's %q", recorded[laptopDup], recorded[siteDup])
		}
		if len(conflicts) != 1 || conflicts[0].Voter != vigil.VoterID(dup) || conflicts[0].Kept.Event != siteDup ||
			conflicts[0].Other.Event != laptopDup || conflicts[0].Other.Origin != laptop.name {
			t.Fatalf("conflicts on the hub: %+v (want %s kept, the laptop's %s the other)", conflicts, siteDup, laptopDup)
		}
		laptops := 0
		for _, origin := range recorded {
			if origin == laptop.name {
				laptops++
			}
		}
		if laptops < 42 {
			t.Fatalf("%d check-ins on the hub made by the laptop", laptops)
		}
	})

	t.Run("the laptop checks the hub's checkpoints, and its reports reach the hub through the site", func(t *testing.T) {
		waitFor(t, "the laptop to verify a hub checkpoint", 30*time.Second, func() bool {
			out, err := run(t, "mirror", "status", "--data", laptop.dir)
			return err == nil && strings.Contains(out, "last verified checkpoint") && strings.Contains(out, "no problems found")
		})
		waitFor(t, "the hub to record the laptop's report", 30*time.Second, func() bool {
			for _, ev := range hubEvents(t, hubDir) {
				var c node.MirrorChecked
				if ev.Type == vigil.EventMirrorChecked && ev.Key == laptop.name && json.Unmarshal(ev.Payload, &c) == nil {
					return c.Version == vigil.Version
				}
			}
			return false
		})
	})

	if out, err := run(t, "site", "allow", "--data", laptop.dir, "--name", "laptop-2", "--listen", "127.0.0.1:1", "--out",
		filepath.Join(root, "y")); err == nil || !strings.Contains(err.Error(), "not to another laptop") {
		t.Fatalf("a laptop admitting a laptop: %v %s", err, out)
	}
	t.Run("revoked while running: the laptop's link, then the site's, are closed within seconds", func(t *testing.T) {
		if out, err := run(t, "site", "revoke", "--data", site.dir, "--name", "laptop-1"); err != nil || !strings.Contains(out, "revoked") {
			t.Fatal(err, out)
		}
		waitFor(t, "the laptop to be cut off", 10*time.Second, func() bool {
			return !siteStatus(t, laptop).Online && len(siteStatus(t, site).Laptops) == 0
		})
		// It still works alone; nothing it does reaches the site.
		v := voter()
		mustCheckIn(t, laptop, v)
		time.Sleep(2 * time.Second)
		if st := siteStatus(t, laptop); st.Online || st.Waiting == 0 {
			t.Fatalf("the revoked laptop: %+v", st)
		}
		if status, msg := site.pw.checkIn(t, v); status != http.StatusCreated {
			t.Fatalf("the site took a revoked laptop's check-in: %d %s", status, msg)
		}
		if out, err := run(t, "site", "revoke", "--data", hubDir, "--name", site.name); err != nil {
			t.Fatal(err, out)
		}
		waitFor(t, "the site to be cut off", 10*time.Second, func() bool { return !siteStatus(t, site).Online })
		time.Sleep(2 * time.Second)
		if siteStatus(t, site).Online {
			t.Fatal("the revoked site linked again")
		}
		var recorded []string
		for _, ev := range hubEvents(t, hubDir) {
			var p vigil.Privileged
			if ev.Type == vigil.EventAccessPrivileged && json.Unmarshal(ev.Payload, &p) == nil && p.Action == "links.revoke" {
				recorded = append(recorded, ev.Origin+": "+p.Detail)
			}
		}
		if len(recorded) != 2 || !strings.Contains(recorded[0], "site-a: ") || !strings.Contains(recorded[0], laptop.name) ||
			!strings.Contains(recorded[1], site.name) {
			t.Fatalf("revocations on the hub's log: %q", recorded)
		}
	})
}
