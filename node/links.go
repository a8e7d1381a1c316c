package node

import (
	"context"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
)

// admitted is the live set of links a node admits: the mirrors and sites
// of a hub, or the laptops of a site (its mirrors.json). A revocation
// shrinks it while the node runs (watchRevocations); everything that
// answers a link asks it, so a revoked link is answered by nothing.
type admitted struct {
	mu    sync.RWMutex
	links map[string]vigil.Scope // name -> place ("" for a mirror)
}

func newAdmitted(hm *hubMirrors) *admitted {
	a := &admitted{links: map[string]vigil.Scope{}}
	for _, m := range hm.Mirrors {
		a.links[m.Name] = m.Place
	}
	return a
}

// place returns the place of an admitted link ("" for a mirror).
func (a *admitted) place(name string) (vigil.Scope, bool) {
	if a == nil {
		return "", false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.links[name]
	return p, ok
}

// snapshot returns a copy of the admitted links.
func (a *admitted) snapshot() map[string]vigil.Scope {
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return maps.Clone(a.links)
}

// names lists the admitted links, sorted.
func (a *admitted) names() []string {
	return slices.Sorted(maps.Keys(a.snapshot()))
}

// keepOnly drops the links not in keep and returns those it dropped.
func (a *admitted) keepOnly(keep map[string]bool) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var dropped []string
	for name := range a.links {
		if !keep[name] {
			dropped = append(dropped, name)
			delete(a.links, name)
		}
	}
	slices.Sort(dropped)
	return dropped
}

// revocationPoll is how often a running node looks at its mirrors.json.
const revocationPoll = time.Second

// watchRevocations applies `vigil mirror|site revoke` while the node runs:
// within a second the link is closed and its credential refused, the
// consumers that fed it are deleted, and its requests go unanswered. The
// revocation is recorded in the log. (An admission still takes effect at
// the next start: it may need the listener opened.)
func (n *Node) watchRevocations(ctx context.Context) {
	path := hubMirrorsPath(n.Dir)
	var seen time.Time
	if fi, err := os.Stat(path); err == nil {
		seen = fi.ModTime()
	}
	tick := time.NewTicker(revocationPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fi, err := os.Stat(path)
		var hm hubMirrors
		switch {
		case err == nil && fi.ModTime().Equal(seen):
			continue
		case err == nil:
			seen = fi.ModTime()
			if err := readJSON(path, &hm); err != nil {
				n.log.Error("mirrors.json unreadable; admissions unchanged", "err", err)
				continue
			}
		case !os.IsNotExist(err):
			continue
		}
		keep := map[string]bool{}
		for _, m := range hm.Mirrors {
			keep[m.Name] = true
		}
		revoked := n.links.keepOnly(keep)
		if len(revoked) == 0 {
			continue
		}
		n.server.RevokeLinks(revoked)
		if err := vnats.EnsureMirrorConsumers(ctx, n.JS, n.links.names()); err != nil {
			n.log.Error("revoked links' consumers not deleted", "err", err)
		}
		n.log.Warn("links revoked", "names", revoked)
		a := vigil.Actor{Name: "system", Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: n.Origin()}
		ev, err := vigil.NewEvent(a, vigil.EventAccessPrivileged, "links.revoke", n.Now(),
			vigil.Privileged{Action: "links.revoke", Detail: "revoked (mirrors.json): " + strings.Join(revoked, ", ")})
		if err == nil {
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := n.Append(actx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
				n.log.Warn("revocation not recorded", "err", err)
			}
			cancel()
		}
	}
}
