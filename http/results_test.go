package http_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

const cvrSamples = "../../shared/data/cvr"

// upload posts files as multipart parts named file.
func (c *client) upload(path string, files ...string) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			c.t.Fatal(err)
		}
		w, _ := mw.CreateFormFile("file", filepath.Base(f))
		w.Write(b)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

func TestResultsThroughHTTP(t *testing.T) {
	e := MustServe(t)
	tab := e.MustUser("tab", vigil.Grant{Role: vigil.RoleTabulator, Scope: vigil.CountyScope("ADAMS")})
	admin := e.MustUser("admin", vigil.Grant{Role: vigil.RoleCountyAdmin, Scope: vigil.CountyScope("ADAMS")})
	observer := e.MustUser("obs", vigil.Grant{Role: vigil.RoleObserver, Scope: vigil.ScopeState})
	anon := e.client()
	cvrs := filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv")

	t.Run("an observer cannot upload CVRs", func(t *testing.T) {
		if r := observer.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", cvrs); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a tabulator of another county cannot upload", func(t *testing.T) {
		if r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=BOONE", cvrs); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the county's tabulator uploads CVRs and a manifest", func(t *testing.T) {
		if r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS", cvrs); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := tab.upload("/api/v1/tabulation/manifest?county=ADAMS", filepath.Join(cvrSamples, "arlo-fixtures", "manifest-for-TEST_CVRS.csv"))
		if r.status != http.StatusCreated || !strings.Contains(r.body, `"ok":false`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a bad upload is refused with the file and line", func(t *testing.T) {
		r := tab.upload("/api/v1/tabulation/cvrs?format=dominion&county=ADAMS",
			filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS_WITH_EXTRA_CHOICE.csv"))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "line 3") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("nobody outside tabulation reads results before publication", func(t *testing.T) {
		if r := anon.do("GET", "/api/v1/results", nil); r.status != http.StatusNotFound {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := observer.do("GET", "/api/v1/tabulation/tally", nil); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := anon.do("GET", "/results", nil); r.status != http.StatusOK || !strings.Contains(r.body, "No results have been published") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("the tabulator sees the count and the reconciliation", func(t *testing.T) {
		r := tab.do("GET", "/api/v1/tabulation/tally?format=csv&county=ADAMS", nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "contest,choice,votes\nContest 1,Choice 1-1,7\n") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = tab.do("GET", "/tabulation?county=ADAMS", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "discrepancy") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("a tabulator cannot publish; the county admin can", func(t *testing.T) {
		if r := tab.do("POST", "/api/v1/results/publish?county=ADAMS", `{}`); r.status != http.StatusForbidden {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := admin.do("POST", "/api/v1/results/publish?county=ADAMS", `{}`); r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("everyone reads the published results: page, CSV and NIST XML", func(t *testing.T) {
		r := anon.do("GET", "/results", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Contest 2") || !strings.Contains(r.body, "vigil.log/") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = anon.do("GET", "/results.csv", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Contest 2,Choice 2-3,7") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = anon.do("GET", "/results.xml", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "ElectionReport") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
