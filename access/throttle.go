package access

import (
	"sync"
	"time"
)

// Throttle limits failed logins per key (an account name or an address):
// after Max failures inside Window, further attempts are refused until the
// oldest failure leaves the window. Successful logins do not count.
type Throttle struct {
	Max    int
	Window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle returns a throttle allowing max failures per window.
func NewThrottle(max int, window time.Duration) *Throttle {
	return &Throttle{Max: max, Window: window, failures: map[string][]time.Time{}}
}

// Blocked reports whether key is throttled at now, and until when.
func (t *Throttle) Blocked(key string, now time.Time) (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key, now)
	if len(fs) >= t.Max {
		return true, fs[0].Add(t.Window)
	}
	return false, time.Time{}
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures[key] = append(t.prune(key, now), now)
}

// Reset forgets key's failures (after a successful login).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.Window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = fs
	return fs
}
