package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/bench"
	"github.com/vigil-elections/vigil/demo"
)

// apiClient is a signed-in JSON API client.
type apiClient struct {
	base, csrf string
	device     string // the enrolled device's token (see enrol)
	hc         *http.Client
}

func signInAPI(t *testing.T, base, user string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	status, body, err := c.post(context.Background(), "/api/v1/session", map[string]string{"username": user, "password": demo.Password})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("sign in as %s: %d %v %s", user, status, err, body)
	}
	var s struct{ CSRF string }
	json.Unmarshal(body, &s)
	c.csrf = s.CSRF
	return c
}

func (c *apiClient) post(ctx context.Context, path string, v any) (int, []byte, error) {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
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

func TestKill9DuringCheckInsLosesNoAcknowledgedCheckIn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := pollbookCounty(t, dir, 8000)
	placeOf := map[string]string{}
	for _, p := range c.Precincts {
		placeOf[p.ID] = p.Place
	}
	queue := make(chan string, len(c.Voters))
	for _, v := range c.Voters {
		if placeOf[v.Precinct] == "P01" && v.Status == "active" {
			queue <- v.ID
		}
	}
	close(queue)
	child := startServe(t, dir)
	base := "http://" + child.addr
	clients := []*apiClient{signInAPI(t, base, "pollworker"), signInAPI(t, base, "pollworker2")}
	for _, cl := range clients {
		cl.enrol(t, issueCode(t, dir, demoSite))
	}

	var mu sync.Mutex
	acked := map[string]string{} // voter → check-in event id
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cl := clients[w%2]
			for id := range queue {
				if ctx.Err() != nil {
					return
				}
				status, body, err := cl.post(ctx, "/api/v1/pollbook/checkins", map[string]string{"voter": id})
				if err != nil || status != http.StatusCreated {
					continue
				}
				var r struct{ Checkin vigil.CheckInRecord }
				if json.Unmarshal(body, &r) == nil {
					mu.Lock()
					acked[id] = r.Checkin.Event
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill mid-load: some check-ins are in flight, unacknowledged.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	child.kill9(t)
	cancel()
	wg.Wait()
	if len(queue) == 0 {
		t.Fatal("every voter was checked in before the kill; the kill did not happen under load")
	}
	if len(acked) < 20 {
		t.Fatalf("only %d check-ins acknowledged before the kill; the load did not run", len(acked))
	}

	child = startServe(t, dir)
	log, closeLog := connectLog(t, dir)
	inLog, twice, _, err := bench.LogCheckIns(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	closeLog()
	t.Logf("%d check-ins acknowledged before kill -9; %d in the log after restart", len(acked), len(inLog))
	for voter, id := range acked {
		if !inLog[id] {
			t.Errorf("acknowledged check-in of %s (event %s) is missing after kill -9", voter, id)
		}
	}
	if twice > 0 {
		t.Errorf("%d voters have more than one check-in in the log", twice)
	}
	// The restarted node's projections know them: a second check-in of an
	// acknowledged voter is refused.
	again := signInAPI(t, "http://"+child.addr, "pollworker2")
	again.device = clients[1].device // the same tablet: its enrolment survived too
	n := 0
	for voter := range acked {
		status, body, err := again.post(t.Context(), "/api/v1/pollbook/checkins", map[string]string{"voter": voter})
		if err != nil || status != http.StatusConflict {
			t.Errorf("re-checking in %s after restart: %d %v %s", voter, status, err, body)
		}
		if n++; n == 20 {
			break
		}
	}
	child.stop(t)
}
