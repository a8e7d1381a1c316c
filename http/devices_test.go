package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// mustEnrol enrols the client's "device" for site the way a tablet is
// enrolled: an operator issues a one-time code, and the signed-in poll
// worker types it into the enrolment page, which sets the device cookie.
func (e *testEnv) mustEnrol(c *client, site vigil.Scope) string {
	e.t.Helper()
	code := e.mustCode(site)
	r := c.form("/devices/enrol", url.Values{"code": {code}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="enrolled"`) {
		e.t.Fatalf("enrol at %s: %d %s", site, r.status, r.body)
	}
	return code
}

func (e *testEnv) mustCode(site vigil.Scope) string {
	e.t.Helper()
	n := e.node
	d := sqlite.NewDevices(n.DB, n, n.Now, sqlite.NewEquipment(n.DB, n, n.Now))
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	// Codes are issued only for places that exist: define the place if the
	// test has not loaded a county (mustCounty redefines it in full).
	county, place, _ := pollbook.SitePlace(site)
	var known int
	n.DB.QueryRow(`SELECT COUNT(*) FROM places WHERE id = ?`, place).Scan(&known)
	if known == 0 {
		var evs []vigil.Event
		for _, def := range []struct {
			typ     vigil.EventType
			payload any
		}{{vigil.EventCountyDefined, vigil.County{ID: county, Name: county}},
			{vigil.EventPlaceDefined, vigil.PollingPlace{ID: place, County: county, Name: place}}} {
			ev, _ := vigil.NewEvent(op, def.typ, county+"/"+place, time.Now(), def.payload)
			evs = append(evs, ev)
		}
		if _, err := n.Append(context.Background(), evs, vigil.AppendOptions{}); err != nil {
			e.t.Fatal(err)
		}
	}
	code, _, err := d.IssueCode(context.Background(), op, site, "test tablet")
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// TestOnlyEnrolledDevicesCheckVotersIn: enrolment with a one-time code (a
// code works once, only at its polling place, only for people working
// there); an unenrolled device gets nothing, not even a search; a revoked
// device is stopped at once; a device below the minimum version or covered
// by an advisory is refused with a message for the poll worker and an
// alert-worthy device.refused in the log.
func TestOnlyEnrolledDevicesCheckVotersIn(t *testing.T) {
	e := MustServe(t)
	c := e.mustCounty(300)
	site := vigil.PlaceScope("ADAMS", "P01")
	voters := votersAt(c, "P01", "active")
	sup := e.MustUser("super", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: site})
	admin := e.MustUser("county", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	officer := e.MustUser("officer", vigil.Grant{Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState})

	// A worker whose tablet is not enrolled (MustUser enrols; this one signs in by hand).
	users := e.srv.Users()
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	if err := users.Create(context.Background(), op, "newbie", "New Worker", password); err != nil {
		t.Fatal(err)
	}
	if err := users.Grant(context.Background(), op, "newbie", workerGrant("P01")); err != nil {
		t.Fatal(err)
	}
	w := e.client()
	login := w.do("POST", "/api/v1/session", map[string]string{"username": "newbie", "password": password})
	if login.status != http.StatusCreated {
		t.Fatalf("login: %d %s", login.status, login.body)
	}
	w.csrf = login.json()["csrf"].(string)

	t.Run("an unenrolled device sees no voter and cannot check in", func(t *testing.T) {
		before := e.eventCount(vigil.EventDeviceRefused)
		if r := w.do("GET", "/api/v1/pollbook/voters?q="+voters[0].LastName, nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "not enrolled") {
			t.Fatalf("search from an unenrolled device: %d %s", r.status, r.body)
		}
		if r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[0].ID}); r.status != http.StatusForbidden {
			t.Fatalf("check-in from an unenrolled device: %d %s", r.status, r.body)
		}
		if loc := w.location("/pollbook"); !strings.HasPrefix(loc, "/devices/enrol?reason=") {
			t.Fatalf("the pollbook page does not send an unenrolled tablet to enrolment: %q", loc)
		}
		if got := e.eventCount(vigil.EventDeviceRefused); got <= before {
			t.Fatal("the refusal is not in the log")
		}
	})

	var code string
	t.Run("a supervisor issues a code; it works once, for people at its polling place", func(t *testing.T) {
		r := sup.do("POST", "/api/v1/devices/codes", map[string]string{"site": string(site), "name": "Table 2"})
		if r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.body)
		}
		code = r.json()["code"].(string)
		if strings.Contains(e.logText(), code) || strings.Contains(e.logText(), strings.ReplaceAll(code, "-", "")) {
			t.Fatal("the code is in the log in clear")
		}
		// Another place's supervisor may not issue codes here.
		other := e.MustUser("super2", vigil.Grant{Role: vigil.RolePollSupervisor, Scope: vigil.PlaceScope("ADAMS", "P02")})
		if r := other.do("POST", "/api/v1/devices/codes", map[string]string{"site": string(site), "name": "x"}); r.status != http.StatusForbidden {
			t.Fatalf("a P02 supervisor issued a P01 code: %d %s", r.status, r.body)
		}
		// A worker at P02 cannot redeem a P01 code.
		p2 := e.MustUser("worker-p2", workerGrant("P02"))
		if r := p2.do("POST", "/api/v1/devices/enrol", map[string]string{"code": code}); r.status != http.StatusForbidden {
			t.Fatalf("a P02 worker redeemed a P01 code: %d %s", r.status, r.body)
		}
		if r := w.do("POST", "/api/v1/devices/enrol", map[string]string{"code": "NOT-A-CODE"}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "code") {
			t.Fatalf("a malformed code: %d %s", r.status, r.body)
		}
		r = w.form("/devices/enrol", url.Values{"code": {strings.ToLower(code)}}) // typed in lower case
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="enrolled"`) {
			t.Fatalf("enrol: %d %s", r.status, r.body)
		}
		if r := sup.do("POST", "/api/v1/devices/enrol", map[string]string{"code": code}); r.status != http.StatusConflict || !strings.Contains(r.body, "already used") {
			t.Fatalf("a code used twice: %d %s", r.status, r.body)
		}
	})

	var device string
	t.Run("the enrolled device checks in, and the check-in names it", func(t *testing.T) {
		r := w.do("POST", "/api/v1/pollbook/checkins", map[string]any{"voter": voters[0].ID, "device_time": time.Now().UTC()})
		if r.status != http.StatusCreated {
			t.Fatalf("check-in: %d %s", r.status, r.body)
		}
		ci := r.json()["checkin"].(map[string]any)
		device, _ = ci["device"].(string)
		if !strings.HasPrefix(device, "pb-") || ci["device_time"] == nil {
			t.Fatalf("the check-in does not name the device and its clock: %s", r.body)
		}
		list := admin.do("GET", "/api/v1/devices?county=ADAMS", nil)
		if list.status != http.StatusOK || !strings.Contains(list.body, device) || !strings.Contains(list.body, vigil.Version) {
			t.Fatalf("the county's device list: %d %s", list.status, list.body)
		}
		if r := officer.do("GET", "/devices", nil); r.status != http.StatusOK || !strings.Contains(r.body, device) {
			t.Fatalf("devices page for the security officer: %d", r.status)
		}
	})

	t.Run("below the minimum version or under an advisory: refused, with a reason the poll worker can act on", func(t *testing.T) {
		eq := sqlite.NewEquipment(e.node.DB, e.node, e.node.Now)
		if err := eq.SetMinimum(context.Background(), op, "99.0.0"); err != nil {
			t.Fatal(err)
		}
		before := e.eventCount(vigil.EventDeviceRefused)
		r := w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[1].ID})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "below the required minimum 99.0.0") || !strings.Contains(r.body, "paper pollbook") {
			t.Fatalf("outdated device: %d %s", r.status, r.body)
		}
		if e.eventCount(vigil.EventDeviceRefused) <= before {
			t.Fatal("no device.refused in the log")
		}
		if err := eq.SetMinimum(context.Background(), op, ""); err != nil {
			t.Fatal(err)
		}
		adv := vigil.Advisory{ID: "VIGIL-2026-01", Manufacturer: vigil.VigilManufacturer, Model: vigil.VigilPollbook,
			Affected: "<99.0.0", Severity: vigil.SeverityCritical, Fixed: "99.0.0"}
		if _, err := eq.ImportAdvisories(context.Background(), op, []vigil.Advisory{adv}); err != nil {
			t.Fatal(err)
		}
		r = w.do("POST", "/api/v1/pollbook/checkins", map[string]string{"voter": voters[1].ID})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "VIGIL-2026-01") {
			t.Fatalf("device under an advisory: %d %s", r.status, r.body)
		}
	})

	t.Run("an API client reports its version and OS; an unsupported OS is refused", func(t *testing.T) {
		code := e.mustCode(site)
		laptop := e.MustUser("laptop", workerGrant("P01")) // enrolled by MustUser; re-enrol by API below
		r := laptop.do("POST", "/api/v1/devices/enrol", map[string]string{"code": code})
		if r.status != http.StatusCreated {
			t.Fatalf("API enrol: %d %s", r.status, r.body)
		}
		token := r.json()["token"].(string)
		req := func(os string) response {
			return laptop.doWith("POST", "/api/v1/equipment/device-check", map[string]string{},
				map[string]string{"Vigil-Device": token, "Vigil-Version": "99.1.0", "Vigil-OS": os})
		}
		if r := req("Windows 7"); r.status != http.StatusForbidden || !strings.Contains(r.body, "Windows 7") {
			t.Fatalf("Windows 7 laptop: %d %s", r.status, r.body)
		}
		if r := req("Debian 13"); r.status != http.StatusOK {
			t.Fatalf("Debian 13 laptop on 99.1.0: %d %s", r.status, r.body)
		}
	})

	t.Run("a revoked device is stopped at once", func(t *testing.T) {
		if r := admin.do("POST", "/api/v1/devices/"+device+"/revoke", map[string]string{"reason": ""}); r.status != http.StatusBadRequest {
			t.Fatalf("revoke without a reason: %d %s", r.status, r.body)
		}
		if r := admin.do("POST", "/api/v1/devices/"+device+"/revoke", map[string]string{"reason": "tablet lost"}); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		r := w.do("GET", "/api/v1/pollbook/voters?q="+voters[2].LastName, nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "revoked") || !strings.Contains(r.body, "tablet lost") {
			t.Fatalf("revoked device: %d %s", r.status, r.body)
		}
	})
}

// logText is every stored log entry, as stored.
func (e *testEnv) logText() string {
	e.t.Helper()
	ctx := context.Background()
	last, err := e.node.Log.LastSeq(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	if err := e.node.Log.Read(ctx, 1, last, func(_ uint64, data []byte) error {
		b.Write(data)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return b.String()
}

// doWith is do with extra request headers.
func (c *client) doWith(method, path string, body any, headers map[string]string) response {
	c.t.Helper()
	j, _ := json.Marshal(body)
	return c.send(method, path, "application/json", bytes.NewReader(j), headers)
}

// location is where a GET of path redirects to ("" if it does not).
func (c *client) location(path string) string {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return ""
	}
	return resp.Header.Get("Location")
}

// doRaw sends a body of the given content type.
func (c *client) doRaw(method, path, contentType, body string) response {
	c.t.Helper()
	return c.send(method, path, contentType, strings.NewReader(body), nil)
}
