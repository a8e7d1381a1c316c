package http_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

func TestMFAEnrollmentIsRequiredAndWorks(t *testing.T) {
	e := MustServe(t)
	op := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "http-test"}
	ctx := context.Background()
	if err := e.srv.Users().Create(ctx, op, "clerk", "Clerk", password); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Users().Grant(ctx, op, "clerk", vigil.Grant{Role: vigil.RoleRegistrar, Scope: vigil.CountyScope("ADAMS")}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	r := c.do("POST", "/api/v1/session", map[string]string{"username": "clerk", "password": password})
	if r.status != http.StatusCreated || r.json()["mfa_enroll_required"] != true {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	c.csrf = r.json()["csrf"].(string)
	t.Run("before enrolling, only the enrollment page is reachable", func(t *testing.T) {
		if r := c.do("GET", "/api/v1/me", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("got %d", r.status)
		}
	})
	page := c.do("GET", "/mfa", nil)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, `src="data:image/png;base64,`) {
		t.Fatalf("no secret or QR code on the page:\n%s", page.body)
	}
	post := func(code string) response {
		req, _ := http.NewRequest("POST", c.base+"/mfa", strings.NewReader(url.Values{"csrf": {c.csrf}, "code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return response{status: resp.StatusCode}
	}
	t.Run("a wrong code is refused", func(t *testing.T) {
		if r := post("000000"); r.status != http.StatusBadRequest {
			t.Fatalf("got %d", r.status)
		}
	})
	t.Run("the right code enrolls, and the next login needs a code", func(t *testing.T) {
		code, _ := access.TOTPCode(m[1], time.Now())
		if r := post(code); r.status != http.StatusSeeOther {
			t.Fatalf("got %d", r.status)
		}
		if r := c.do("GET", "/api/v1/me", nil); r.status != http.StatusOK {
			t.Fatalf("after enrolling: %d %s", r.status, r.body)
		}
		c2 := e.client()
		if r := c2.do("POST", "/api/v1/session", map[string]string{"username": "clerk", "password": password}); r.status != http.StatusUnauthorized {
			t.Fatalf("login without code: %d", r.status)
		}
		code, _ = access.TOTPCode(m[1], time.Now())
		if r := c2.do("POST", "/api/v1/session", map[string]string{"username": "clerk", "password": password, "code": code}); r.status != http.StatusCreated {
			t.Fatalf("login with code: %d %s", r.status, r.body)
		}
	})
}
