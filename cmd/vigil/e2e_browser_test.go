package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/ledger"
	"golang.org/x/mod/sumdb/note"
)

// The browser test drives the real Main (`vigil demo`) through Debian's
// chromium, the way an administrator and a poll worker use it on a 10-inch
// tablet. Set VIGIL_E2E_SHOTS=DIR to keep the screenshots it takes.

const (
	e2eSeed   = 7
	e2eVoters = 500
	// Every browser action gets this long; a wait that times out fails the
	// test with the page's text instead of hanging until go test's deadline.
	e2eStep = 15 * time.Second
)

func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)")
	}
	dir := t.TempDir()
	base := startDemo(t, dir)
	browser := startBrowser(t, chromium)
	shots := os.Getenv("VIGIL_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	t.Run("administrator creates an account, grants a role and verifies a log entry in the page", func(t *testing.T) {
		p := openSession(t, browser, base)
		p.signIn("admin", demo.Password)
		p.wantText("h1", "Welcome, Sam State-Admin")
		p.wantText(`.role-card[data-role="state_admin"]`, "Scope: state")
		p.screenshot(filepath.Join(shots, "home-admin.png"))

		if status := p.navigate("/admin/users"); status != http.StatusOK {
			t.Fatalf("GET /admin/users as admin: status %d, want 200", status)
		}
		p.wantText(`#users tr[data-user="pollworker"]`, "poll worker in county/ADAMS/place/P01")

		p.fill("#new-name", "e2e-clerk")
		p.fill("#new-display", "Eddie Clerk")
		p.fill("#new-password", "correct-horse-battery")
		if status := p.submit(`#create-user button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("creating an account: status %d, want 200\n%s", status, p.bodyText())
		}
		p.wantText(".notice", "Account e2e-clerk created")
		p.wantText(`#users tr[data-user="e2e-clerk"]`, "Eddie Clerk")

		p.fill("#grant-user", "e2e-clerk")
		p.do(chromedp.SetValue(chromedp.CSS("#grant-role-sel"), "registrar"))
		p.fill("#grant-scope", "county/ADAMS")
		if status := p.submit(`#grant-role button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("granting a role: status %d, want 200\n%s", status, p.bodyText())
		}
		p.wantText(".notice", "Granted registrar in county/ADAMS to e2e-clerk")
		p.wantText(`#users tr[data-user="e2e-clerk"]`, "registrar in county/ADAMS")
		p.screenshot(filepath.Join(shots, "users-admin.png"))

		if status := p.navigate("/log"); status != http.StatusOK {
			t.Fatalf("GET /log as admin: status %d, want 200", status)
		}
		ckpt := checkpointOnPage(t, p, dir)
		// The newest listed entry the checkpoint covers: normally the first
		// row, as the page signs a checkpoint after listing the events.
		seq := p.evaluateInt(fmt.Sprintf(`[...document.querySelectorAll("#events button.verify")]
			.map(b => +b.dataset.seq).find(s => s >= 1 && s <= %d) || 0`, ckpt.Size))
		if seq == 0 {
			t.Fatalf("no Verify inclusion button for an entry up to %d\n%s", ckpt.Size, p.bodyText())
		}
		if first := p.attr("#events button.verify", "data-seq"); first != fmt.Sprint(seq) {
			t.Logf("the log page lists entry %s, newer than its checkpoint of size %d", first, ckpt.Size)
		}
		p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#events button.verify[data-seq="%d"]`, seq))))
		// An administrator may verify the log, so the API hands out the
		// entry's bytes and the page hashes them itself.
		p.wantText("#proof-result", fmt.Sprintf("Entry %d is included in the signed checkpoint of size %d", seq, ckpt.Size))
		p.wantText("#proof-result", "hashed the entry's bytes here")
		p.screenshot(filepath.Join(shots, "log-admin.png"))
		if cls := p.attr("#proof-result", "class"); cls != "ok" {
			t.Errorf("#proof-result has class %q, want ok", cls)
		}
	})

	t.Run("poll worker finds a voter and is refused the administrator's page", func(t *testing.T) {
		p := openSession(t, browser, base)
		p.signIn("pollworker", demo.Password)
		p.wantText("h1", "Welcome, Pat Poll-Worker")
		card := p.text(`.role-card[data-role="poll_worker"]`)
		if !strings.Contains(card, "county/ADAMS/place/P01") || strings.Contains(card, "not active") {
			t.Errorf("the poll worker's role card reads %q; want an active grant at county/ADAMS/place/P01", card)
		}
		if nav := p.text("nav"); strings.Contains(nav, "Users and roles") {
			t.Errorf("the poll worker's navigation offers the users page: %q", nav)
		}
		p.screenshot(filepath.Join(shots, "home-pollworker.png"))

		last, want := voterAtPlace(t, "P01")
		if status := p.navigate("/voters"); status != http.StatusOK {
			t.Fatalf("GET /voters as poll worker: status %d, want 200", status)
		}
		p.wantText(".hint", "county/ADAMS/place/P01")
		p.fill("#q", last)
		if status := p.submit(`form.search button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("searching voters: status %d, want 200\n%s", status, p.bodyText())
		}
		p.wantText("#voters caption", fmt.Sprintf("%d match(es)", want))
		p.wantText("#voters tbody", last+", ")
		p.screenshot(filepath.Join(shots, "voters-pollworker.png"))
		// A search of only commas once crashed the lookup (a 500).
		if status := p.navigate("/voters?q=%2C"); status != http.StatusOK {
			t.Errorf("GET /voters?q=, as poll worker: status %d, want 200", status)
		}

		status := p.navigate("/admin/users")
		if status != http.StatusForbidden {
			t.Errorf("GET /admin/users as poll worker: status %d, want 403", status)
		}
		p.wantText("#error-message", "may not")
		if n := p.count("#users, #create-user, #grant-role"); n != 0 {
			t.Errorf("the refused page still shows %d of the users table and forms", n)
		}
		if body := p.bodyText(); strings.Contains(body, "Sam State-Admin") {
			t.Errorf("the refused page shows account data:\n%s", body)
		}

		waitForDenial(t, base, "pollworker", "GET /admin/users")
	})
}

// startDemo runs `vigil demo` in-process on a free port and returns its
// base URL. Cleanup stops it and waits for it.
func startDemo(t *testing.T, dir string) string {
	t.Helper()
	var stdout, stderr lockedBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	ready := make(chan string, 1)
	m.Ready = func(addr string) { ready <- addr }
	m.ParseFlags([]string{"demo", "--data", dir, "--addr", "127.0.0.1:0",
		"--voters", fmt.Sprint(e2eVoters), "--seed", fmt.Sprint(e2eSeed)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("vigil demo: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("vigil demo did not stop 15s after its context ended\n%s", stderr.String())
		}
		if err := m.Close(); err != nil {
			t.Errorf("Main.Close: %v", err)
		}
	})
	select {
	case addr := <-ready:
		if !strings.Contains(stdout.String(), "pollworker") {
			t.Errorf("vigil demo did not print the poll worker's login:\n%s", stdout.String())
		}
		return "http://" + addr
	case err := <-done:
		t.Fatalf("vigil demo stopped before serving: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("vigil demo was not serving after 60s\n%s", stderr.String())
	}
	return ""
}

// startBrowser starts headless chromium with a fresh profile at a 10-inch
// tablet's size, and returns a context that owns it.
func startBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	var out lockedBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // the test may run as root, which the sandbox refuses
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
		chromedp.CombinedOutput(&out),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Do with no steps starts the browser; its life stays bound to browser.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v\n%s", chromium, err, out.String())
	}
	return browser
}

// session is one signed-in browser tab with its own cookies.
type session struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// openSession opens a tab in a new browser context, so that no cookie from
// another scenario reaches it.
func openSession(t *testing.T, browser context.Context, base string) *session {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &session{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768)); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return p
}

func (p *session) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, e2eStep)
}

// fail stops the test with what the page showed.
func (p *session) fail(format string, args ...any) {
	p.t.Helper()
	url, _ := runStep(p, chromedp.Location())
	p.t.Fatalf(format+"\n--- page %s:\n%s", append(args, url, p.bodyText())...)
}

func runStep[T any](p *session, a chromedp.Action[T]) (T, error) {
	ctx, cancel := p.step()
	defer cancel()
	return chromedp.Run(ctx, a)
}

func (p *session) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("browser: %v", err)
	}
}

// navigate opens path and returns the HTTP status of the document.
func (p *session) navigate(path string) int64 {
	p.t.Helper()
	resp, err := runStep(p, chromedp.NavigateResponse(p.base+path))
	if err != nil {
		p.fail("opening %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks a form's button and returns the status of the page the
// form's answer loaded (after redirects).
func (p *session) submit(button string) int64 {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		p.fail("clicking %s: %v", button, err)
	}
	return resp.Status
}

func (p *session) fill(field, value string) {
	p.t.Helper()
	p.do(chromedp.Clear(chromedp.CSS(field)), chromedp.SendKeys(chromedp.CSS(field), value))
}

func (p *session) signIn(user, password string) {
	p.t.Helper()
	if status := p.navigate("/login"); status != http.StatusOK {
		p.fail("GET /login: status %d", status)
	}
	p.fill("#username", user)
	p.fill("#password", password)
	if status := p.submit("#signin"); status != http.StatusOK {
		p.fail("signing in as %s: status %d", user, status)
	}
	if loc, _ := runStep(p, chromedp.Location()); loc != p.base+"/" {
		p.fail("signed in as %s but landed on %s, want the home page", user, loc)
	}
}

// text returns the text content of the first element sel matches, waiting
// for it to exist.
func (p *session) text(sel string) string {
	p.t.Helper()
	s, err := runStep(p, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.fail("reading %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// wantText waits until the first element sel matches contains want (its
// whitespace folded), for text a script fills in.
func (p *session) wantText(sel, want string) {
	p.t.Helper()
	wait := chromedp.PollFunction[bool](`(sel, want) => {
		const e = document.querySelector(sel);
		return !!e && e.textContent.replace(/\s+/g, " ").includes(want);
	}`, chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond))
	_, err := runStep(p, wait)
	// A poll that started while the page was still navigating loses its
	// JavaScript context; poll the new page again.
	for try := 0; err != nil && strings.Contains(err.Error(), "Cannot find context") && try < 3; try++ {
		_, err = runStep(p, wait)
	}
	if err != nil {
		got, _ := runStep(p, chromedp.Evaluate[string](
			fmt.Sprintf(`(document.querySelector(%q) || {textContent: "(no such element)"}).textContent`, sel)))
		p.fail("%s: want text containing %q, have %q (%v)", sel, want, strings.Join(strings.Fields(got), " "), err)
	}
}

func (p *session) attr(sel, name string) string {
	p.t.Helper()
	v, err := runStep(p, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		p.fail("reading %s[%s]: %v", sel, name, err)
	}
	return v.Value
}

// count returns how many elements sel matches, without waiting.
func (p *session) count(sel string) int {
	p.t.Helper()
	return p.evaluateInt(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

func (p *session) evaluateInt(expr string) int {
	p.t.Helper()
	n, err := runStep(p, chromedp.Evaluate[int](expr))
	if err != nil {
		p.fail("evaluating %s: %v", expr, err)
	}
	return n
}

func (p *session) bodyText() string {
	s, err := runStep(p, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(cannot read the page: %v)", err)
	}
	return s
}

// screenshot saves what a 1024×768 tablet shows, for a person to look at,
// and checks that the page does not scroll sideways on it.
func (p *session) screenshot(path string) {
	p.t.Helper()
	png, err := runStep(p, chromedp.CaptureScreenshot())
	if err != nil {
		p.fail("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	wide, err := runStep(p, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil {
		p.fail("measuring the page: %v", err)
	}
	if wide > 0 {
		p.t.Errorf("%s: the page is %dpx wider than a 1024px tablet", filepath.Base(path), wide)
	}
}

// checkpointOnPage checks that the log page shows a checkpoint signed by
// the node's own key (read from DIR/keyring, not from the page).
func checkpointOnPage(t *testing.T, p *session, dir string) ledger.SignedCheckpoint {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(dir, "keyring", "node.pub"))
	if err != nil {
		t.Fatal(err)
	}
	vkey := strings.TrimSpace(string(pub))
	if shown := p.text("#ckpt-h ~ p code"); shown != vkey {
		t.Errorf("the log page shows verifier key %q, the node's is %q", shown, vkey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	text, err := runStep(p, chromedp.TextContent(chromedp.CSS("#checkpoint")))
	if err != nil {
		p.fail("reading #checkpoint: %v", err)
	}
	c, err := ledger.OpenCheckpoint([]byte(text), note.VerifierList(v))
	if err != nil {
		t.Fatalf("the checkpoint on the log page does not verify with the node's key: %v\n%s", err, text)
	}
	if c.Size < 1 {
		t.Fatalf("the checkpoint on the log page covers no entry:\n%s", text)
	}
	return c
}

// voterAtPlace picks a voter the demo puts at a polling place (the same seed
// builds the same county) whose last name is one word, and says how many of
// the place's voters that name's prefix matches, as the search counts them.
func voterAtPlace(t *testing.T, place string) (last string, matches int) {
	t.Helper()
	c := demo.Generate(demo.Options{Seed: e2eSeed, Voters: e2eVoters, Today: time.Now()})
	at := map[string]bool{}
	for _, p := range c.Precincts {
		at[p.ID] = p.Place == place
	}
	for _, v := range c.Voters {
		if at[v.Precinct] && last == "" && strings.Trim(v.LastName, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			last = v.LastName
		}
	}
	if last == "" {
		t.Fatalf("the demo county has no voter at %s", place)
	}
	for _, v := range c.Voters {
		if at[v.Precinct] && strings.HasPrefix(v.LastName, last) {
			matches++
		}
	}
	return last, min(matches, 50)
}

// waitForDenial signs in to the API as the administrator and waits until the
// log holds an access.denied event by user whose payload names route.
func waitForDenial(t *testing.T, base, user, route string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": demo.Password})
	resp, err := client.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/session as admin: status %d, want 201", resp.StatusCode)
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as admin: status %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	// The server appends a denial without waiting for the projections, so
	// the event list may need a moment to show it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Events []struct {
				Seq              uint64
				Type, Actor, Key string
			}
		}
		get("/api/v1/log/events?limit=100", &list)
		for _, ev := range list.Events {
			if ev.Type != "access.denied" || ev.Actor != user {
				continue
			}
			var entry struct {
				Events []struct {
					Type    string
					Payload struct{ Action, Route, Reason string }
				}
			}
			get(fmt.Sprintf("/api/v1/log/entries/%d", ev.Seq), &entry)
			for _, e := range entry.Events {
				if e.Type == "access.denied" && e.Payload.Route == route {
					t.Logf("logged: %s denied %s (%s): %s", user, route, e.Payload.Action, e.Payload.Reason)
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access.denied event by %s for %s among the last %d events: %+v", user, route, len(list.Events), list.Events)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer that Main's goroutines and the test can
// share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
