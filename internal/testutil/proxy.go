package testutil

import (
	"testing"

	"github.com/vigil-elections/vigil/internal/netcut"
)

// NewCutProxy starts a TCP proxy to target that the test can cut and
// restore (a polling place's uplink); it is closed at cleanup.
func NewCutProxy(t testing.TB, target string) *netcut.Proxy {
	p, err := netcut.Listen(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
