package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
)

// pollbookCounty builds a demo county in dir whose election is open now
// (the demo's own election runs 06:00-20:00 local, which a test run at
// night would miss), with a second poll worker at P01.
func pollbookCounty(t *testing.T, dir string, voters int) demo.County {
	t.Helper()
	ctx := t.Context()
	if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "pollbook-e2e"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	now := time.Now()
	c := demo.Generate(demo.Options{Seed: e2eSeed, Voters: voters, Today: now})
	c.Election.VotingStart, c.Election.VotingEnd = now.Add(-time.Hour), now.Add(3*time.Hour)
	users := access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now)
	users.Argon = access.FastArgon2
	op := operator(n.Origin())
	if err := demo.Load(ctx, n, users, op, c, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := users.Create(ctx, op, "pollworker2", "Robin Poll-Worker", demo.Password); err != nil {
		t.Fatal(err)
	}
	g := vigil.Grant{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("ADAMS", "P01"), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(3 * time.Hour)}
	if err := users.Grant(ctx, op, "pollworker2", g); err != nil {
		t.Fatal(err)
	}
	return c
}

// startServeInProcess runs `vigil serve` on dir in this process (the demo's
// accounts have MFA enrolled only where needed; poll workers need none).
func startServeInProcess(t *testing.T, dir string) string {
	t.Helper()
	var stdout, stderr lockedBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	ready := make(chan string, 1)
	m.Ready = func(addr string) { ready <- addr }
	m.ParseFlags([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("vigil serve did not stop\n%s", stderr.String())
		}
		m.Close()
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("vigil serve stopped: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("vigil serve not serving after 60s\n%s", stderr.String())
	}
	return ""
}

func TestBrowserTwoPollbooksCheckInTheSameVoter(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)")
	}
	dir := filepath.Join(t.TempDir(), "data")
	c := pollbookCounty(t, dir, 300)
	base := startServeInProcess(t, dir)
	browser := startBrowser(t, chromium)
	shots := os.Getenv("VIGIL_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	var voter vigil.RollVoter
	placeOf := map[string]string{}
	for _, p := range c.Precincts {
		placeOf[p.ID] = p.Place
	}
	for _, v := range c.Voters {
		if placeOf[v.Precinct] == "P01" && v.Status == "active" && strings.Trim(v.LastName, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			voter = v
			break
		}
	}
	// Before the polls open the supervisor issues one enrolment code per
	// tablet on the devices page; each tablet is enrolled with its own.
	sup := openSession(t, browser, base)
	sup.signIn("supervisor", demo.Password)
	var codes []string
	for i := 0; i < 2; i++ {
		if status := sup.navigate("/devices"); status != http.StatusOK {
			t.Fatalf("GET /devices as supervisor: %d", status)
		}
		sup.fill("#name", fmt.Sprintf("Table %d tablet", i+1))
		if status := sup.submit("#issue-code"); status != http.StatusOK {
			t.Fatalf("issuing a code: %d\n%s", status, sup.bodyText())
		}
		codes = append(codes, sup.text("#enrol-code"))
	}
	pages := []*session{openSession(t, browser, base), openSession(t, browser, base)}
	names := []string{"pollworker", "pollworker2"}
	for i, p := range pages {
		p.signIn(names[i], demo.Password)
		p.enrol(codes[i])
		// Action 1: search by name, with a typo in the last name.
		if status := p.navigate("/pollbook"); status != http.StatusOK {
			t.Fatalf("GET /pollbook as %s: %d", names[i], status)
		}
		p.fill("#q", voter.FirstName+" "+voter.LastName[:len(voter.LastName)-1]+"Q")
		if status := p.submit(`#pb-search button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("search: %d\n%s", status, p.bodyText())
		}
		p.wantText(fmt.Sprintf(`#hits tr[data-voter=%q]`, voter.ID), "votes here")
		// Action 2: select the voter; the confirm screen shows who it is.
		if status := p.submit(fmt.Sprintf(`#hits tr[data-voter=%q] a.select`, voter.ID)); status != http.StatusOK {
			t.Fatalf("select: %d\n%s", status, p.bodyText())
		}
		p.wantText("#voter-name", voter.LastName)
	}
	pages[0].screenshot(filepath.Join(shots, "pollbook-confirm.png"))

	// Action 3, on both tablets at once: identity confirmed — check in.
	status, errs := clickAtOnce(pages, "#checkin")
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s clicking check in: %v", names[i], err)
		}
	}
	won := -1
	for i, s := range status {
		if s == http.StatusOK {
			won = i
		}
	}
	if won < 0 || status[1-won] != http.StatusConflict {
		t.Fatalf("statuses %v: want one 200 and one 409", status)
	}
	winner, loser := pages[won], pages[1-won]
	winner.wantText("#done", "Checked in")
	winner.wantText("#ballot-style", "BS-")
	winner.screenshot(filepath.Join(shots, "pollbook-done.png"))
	if n := winner.count("#print-slip"); n != 1 {
		t.Errorf("no print button for the ballot slip")
	}
	loser.wantText("#refusal-message", "Already checked in")
	loser.wantText("#prior-actor", names[won])
	loser.wantText("#prior-place", "Lincoln Elementary School")
	if when := loser.text("#prior-time"); !strings.Contains(when, time.Now().Format("Jan 2 2006")) {
		t.Errorf("the refusal's time reads %q", when)
	}
	if n := loser.count("#offer-provisional"); n != 1 {
		t.Errorf("the refusal offers no provisional ballot")
	}
	loser.screenshot(filepath.Join(shots, "pollbook-refused.png"))
	// The county's device list shows both tablets.
	if status := sup.navigate("/devices"); status != http.StatusOK {
		t.Fatalf("GET /devices: %d", status)
	}
	if n := sup.count("#devices tbody tr"); n != 2 {
		t.Errorf("the devices page lists %d tablets, want 2", n)
	}

	t.Run("a scanned licence finds the voter, and its number stays out of the URL", func(t *testing.T) {
		p := pages[0]
		if status := p.navigate("/pollbook"); status != http.StatusOK {
			t.Fatalf("GET /pollbook: %d", status)
		}
		bd := strings.ReplaceAll(voter.BirthDate, "-", "")
		// What a keyboard-wedge scanner types: an Enter after every element.
		scan := "@\nANSI 636020090002DL00410278ZC03190008DLDAQ987654321\nDCS" + voter.LastName + "\nDAC" + voter.FirstName +
			"\nDBB" + bd[4:8] + bd[0:4] + "\nDAJCO\n"
		p.do(chromedp.SendKeys(chromedp.CSS("#q"), scan))
		// The page submits itself once the scanner pauses: wait out the
		// navigation (a poll across it fails) until the results are there.
		deadline := time.Now().Add(e2eStep)
		for {
			v, err := runStep(p, chromedp.Evaluate[string](`(document.querySelector("#hits caption") || {textContent: ""}).textContent`))
			if err == nil && strings.Contains(v, "scanned licence") {
				break
			}
			if time.Now().After(deadline) {
				p.fail("no results after the scan (%q, %v)", v, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		p.wantText(fmt.Sprintf(`#hits tr[data-voter=%q]`, voter.ID), "checked in")
		p.wantText("#hits caption", "scanned licence: "+voter.FirstName+" "+voter.LastName+" "+voter.BirthDate)
		loc, _ := runStep(p, chromedp.Location())
		if strings.Contains(loc, "987654321") || strings.Contains(p.bodyText(), "987654321") {
			t.Errorf("the licence number shows in %s or the page", loc)
		}
		p.screenshot(filepath.Join(shots, "pollbook-scan.png"))
	})

	t.Run("the supervisor undoes the check-in with a reason, and turnout follows live", func(t *testing.T) {
		admin := openSession(t, browser, base)
		admin.signIn("observer", demo.Password)
		if status := admin.navigate("/pollbook/turnout?county=ADAMS"); status != http.StatusOK {
			t.Fatalf("turnout: %d\n%s", status, admin.bodyText())
		}
		admin.wantText("#t-live", "live")
		admin.wantText("#t-total", "1")

		sup.enrol(issueCode(t, dir, demoSite))
		if status := sup.navigate("/pollbook/voters/" + voter.ID); status != http.StatusOK {
			t.Fatalf("voter page: %d\n%s", status, sup.bodyText())
		}
		sup.wantText("#refusal-message", "Already checked in")
		sup.fill("#undo-reason", "checked in the wrong voter")
		if status := sup.submit("#undo"); status != http.StatusOK {
			t.Fatalf("undo: %d\n%s", status, sup.bodyText())
		}
		sup.wantText("#undone", "undone")
		admin.wantText("#t-total", "0")
	})
}

// clickAtOnce clicks selector on every page at the same moment and returns
// each navigation's HTTP status (0 with the error when a click failed).
func clickAtOnce(pages []*session, selector string) ([]int64, []error) {
	var wg sync.WaitGroup
	status, errs := make([]int64, len(pages)), make([]error, len(pages))
	start := make(chan struct{})
	for i, p := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := p.step()
			defer cancel()
			<-start
			resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(selector)))
			if err == nil {
				status[i] = resp.Status
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	return status, errs
}
