package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/internal/netcut"
	"github.com/vigil-elections/vigil/keyring"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// SitesOptions size the sites benchmark (issue 4: propagation p99 under
// 1 s across sites online; 10,000 check-ins made offline caught up within
// 10 s of reconnecting).
type SitesOptions struct {
	Dir      string        // an empty directory for the hub and the sites
	Voters   int           // county size; the cut-off site's place needs Offline active voters
	Duration time.Duration // online phase
	Rate     int           // online check-ins per second, over all sites
	Offline  int           // check-ins made at the cut-off site
	// CPUProfile, when set, receives a CPU profile of the catch-up.
	CPUProfile string
}

// SitesResult is what RunSites measured.
type SitesResult struct {
	Online                   int           // check-ins made online
	PropP50, PropP99, PropMx time.Duration // a check-in asked for at one site -> applied at another
	OfflineMade              int
	OfflinePerSec            float64
	CatchUp                  time.Duration // link restored -> the hub holds every offline check-in
	Lost, AcceptedTwice      int
}

type benchSite struct {
	name  string
	place string
	n     *node.Node
	pb    *sqlite.Pollbook
	proxy *netcut.Proxy
	site  vigil.Scope
}

// RunSites runs a hub and three polling-place sites in this process, each
// site linked over TLS through a proxy that can cut it, as `vigil serve` and
// `vigil site` are.
func RunSites(ctx context.Context, o SitesOptions, progress io.Writer) (SitesResult, error) {
	const op = "bench.sites"
	var res SitesResult
	say := func(f string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, f+"\n", a...)
		}
	}
	hubDir := filepath.Join(o.Dir, "hub")
	rig, err := NewCheckInRig(ctx, hubDir, o.Voters)
	if err != nil {
		return res, err
	}
	places := rig.County.Places
	if len(places) < 3 {
		return res, vigil.Errorf(vigil.Invalid, op, "the county has %d polling places; three are needed", len(places))
	}
	// The cut-off site is the place with the most voters.
	slices.SortFunc(places, func(a, b vigil.PollingPlace) int { return len(rig.ByPlace[b.ID]) - len(rig.ByPlace[a.ID]) })
	if n := len(rig.ByPlace[places[0].ID]); n < o.Offline {
		rig.Node.Close()
		return res, vigil.Errorf(vigil.Invalid, op, "the largest place has %d active voters, fewer than --offline %d: raise --voters", n, o.Offline)
	}
	rig.Node.Close()
	listen, err := freeListenAddr(op)
	if err != nil {
		return res, err
	}
	var sites []*benchSite
	creds := map[string]node.MirrorCredential{}
	for i, p := range places[:3] {
		s := &benchSite{name: fmt.Sprintf("site-%d", i+1), place: p.ID, site: vigil.PlaceScope(rig.County.County.ID, p.ID)}
		cred, err := node.AllowSite(ctx, node.AllowMirrorOptions{Dir: hubDir, Name: s.name, Listen: listen}, p.ID)
		if err != nil {
			return res, err
		}
		creds[s.name] = cred
		sites = append(sites, s)
	}
	hub, err := node.Open(ctx, node.Options{Dir: hubDir, Listen: true})
	if err != nil {
		return res, err
	}
	defer hub.Close()
	secrets, err := keyring.ReadSecretsKey(filepath.Join(hubDir, "keyring", "secrets.key"))
	if err != nil {
		return res, err
	}
	for _, s := range sites {
		if s.proxy, err = netcut.Listen(listen); err != nil {
			return res, err
		}
		defer s.proxy.Close()
		dir := filepath.Join(o.Dir, s.name)
		if _, err := node.InitMirror(ctx, node.MirrorInitOptions{Dir: dir, Hub: s.proxy.Addr(), Credential: creds[s.name], SecretsKey: secrets}); err != nil {
			return res, err
		}
		if s.n, err = node.Open(ctx, node.Options{Dir: dir, Listen: true, Mirror: true, Site: true}); err != nil {
			return res, err
		}
		defer s.n.Close()
		s.pb = sqlite.NewPollbook(s.n.DB, s.n, s.n.Now)
		s.pb.Site = true
	}
	// Each site holds the whole roll before the clock starts.
	last, err := hub.Log.LastSeq(ctx)
	if err != nil {
		return res, err
	}
	for _, s := range sites {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := s.n.WaitApplied(wctx, last)
		cancel()
		if err != nil {
			return res, vigil.Errorf(vigil.Unavailable, op, "%s did not receive the hub's log: %v", s.name, err)
		}
	}
	say("hub and 3 sites linked over TLS through cuttable proxies; %d voters", o.Voters)

	// Online: check-ins at every site; each is timed until both other
	// sites have applied it.
	queues := make([][]vigil.VoterID, 3)
	for i, s := range sites {
		queues[i] = rig.ByPlace[s.place]
	}
	offlineVoters := queues[0][:o.Offline]
	for i := range queues {
		if i == 0 {
			queues[i] = queues[i][o.Offline:]
		}
	}
	var mu sync.Mutex
	var props []time.Duration
	acked := map[string]vigil.VoterID{}
	total := int(float64(o.Rate) * o.Duration.Seconds())
	interval := time.Second / time.Duration(max(o.Rate, 1))
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < total; i++ {
		si := i % 3
		k := i / 3
		if k >= len(queues[si]) {
			break
		}
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(s *benchSite, v vigil.VoterID, others []*benchSite) {
			defer wg.Done()
			a := vigil.Actor{Name: "bench-" + s.name, Role: vigil.RolePollWorker, Scope: s.site, Origin: s.n.Origin()}
			at := time.Now() // the poll worker asks: the check-in's own latency counts
			rec, err := s.pb.CheckIn(ctx, a, vigil.CheckInRequest{Voter: v, Site: s.site})
			if err != nil {
				failed.Add(1)
				return
			}
			mu.Lock()
			acked[rec.Event] = v
			mu.Unlock()
			for _, other := range others {
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := other.n.WaitApplied(wctx, rec.Seq)
				cancel()
				if err != nil {
					failed.Add(1)
					return
				}
				d := time.Since(at)
				mu.Lock()
				props = append(props, d)
				mu.Unlock()
			}
		}(sites[si], queues[si][k], others(sites, si))
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return res, vigil.Errorf(vigil.Unavailable, op, "%d online check-ins or propagations failed", f)
	}
	res.Online = len(acked)
	slices.Sort(props)
	if len(props) > 0 {
		res.PropP50, res.PropP99, res.PropMx = props[len(props)/2], props[len(props)*99/100], props[len(props)-1]
	}
	say("online: %d check-ins; propagation to the other sites p50 %v p99 %v max %v", res.Online,
		res.PropP50.Round(time.Millisecond), res.PropP99.Round(time.Millisecond), res.PropMx.Round(time.Millisecond))

	// Offline: cut the busiest site's uplink, check Offline voters in there.
	cut := sites[0]
	cut.proxy.Cut()
	for deadline := time.Now().Add(30 * time.Second); cut.n.IsSite(); {
		st, err := cut.n.SiteStatus(ctx)
		if err == nil && !st.Online {
			break
		}
		if time.Now().After(deadline) {
			return res, vigil.Errorf(vigil.Unavailable, op, "the cut site still reports its link up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	work := make(chan vigil.VoterID, len(offlineVoters))
	for _, v := range offlineVoters {
		work <- v
	}
	close(work)
	offStart := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := vigil.Actor{Name: fmt.Sprintf("bench-offline-%d", w), Role: vigil.RolePollWorker, Scope: cut.site, Origin: cut.n.Origin()}
			for v := range work {
				rec, err := cut.pb.CheckIn(ctx, a, vigil.CheckInRequest{Voter: v, Site: cut.site})
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				acked[rec.Event] = v
				res.OfflineMade++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.OfflinePerSec = float64(res.OfflineMade) / time.Since(offStart).Seconds()
	if f := failed.Load(); f > 0 {
		return res, vigil.Errorf(vigil.Unavailable, op, "%d offline check-ins failed", f)
	}
	say("offline: %d check-ins at the cut-off site, %.0f/s", res.OfflineMade, res.OfflinePerSec)

	// Reconnect: until the hub holds every one.
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return res, err
	}
	cut.proxy.Restore()
	restored := time.Now()
	for {
		st, err := cut.n.SiteStatus(ctx)
		if err == nil && st.Online && st.Waiting == 0 {
			break
		}
		if time.Since(restored) > 5*time.Minute {
			return res, vigil.Errorf(vigil.Unavailable, op, "the cut-off site did not catch up within 5 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.CatchUp = time.Since(restored)
	stopProfile()
	say("reconnect: the hub held all %d offline check-ins %v after the link was restored", res.OfflineMade, res.CatchUp.Round(time.Millisecond))

	// Read the hub's log back: every acknowledged check-in, once per voter.
	inLog, twice, _, err := LogCheckIns(ctx, hub.Log)
	if err != nil {
		return res, err
	}
	for ev := range acked {
		if !inLog[ev] {
			res.Lost++
		}
	}
	res.AcceptedTwice = twice
	return res, nil
}

func others(sites []*benchSite, i int) []*benchSite {
	var out []*benchSite
	for j, s := range sites {
		if j != i {
			out = append(out, s)
		}
	}
	return out
}
