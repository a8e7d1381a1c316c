package node

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// The hub's side of polling-place sites (decision 0008): it answers each
// site's appends and merges its offline entries. A site is authenticated
// by its leaf link (the hub lets it publish on its own subjects only); the
// hub still checks every event it sends: the event must be the site's
// own (its origin), of a kind a site writes, and about the site's place.

// siteWritable is what a site may send: what it may store offline, and
// what needs the hub (an undo, a device enrolment, the paper switch).
var siteWritable = func() map[vigil.EventType]bool {
	m := map[vigil.EventType]bool{vigil.EventCheckInUndone: true, vigil.EventDeviceEnrolled: true,
		vigil.EventDeviceReported: true, vigil.EventSitePaperMode: true}
	for t := range siteOffline {
		m[t] = true
	}
	return m
}()

// siteHub serves the sites of a hub.
type siteHub struct {
	n   *Node
	pb  *sqlite.Pollbook
	sem chan struct{}

	mu    sync.Mutex
	heard map[string]time.Time
	taken map[string]siteCounts
}

type siteCounts struct{ Merged, Already, Conflicts, Refused int }

// SiteLinkState is the hub's view of one site, for the turnout page.
type SiteLinkState struct {
	Name      string      `json:"name"`
	Place     vigil.Scope `json:"place"`
	Connected bool        `json:"connected"`
	LastHeard time.Time   `json:"last_heard,omitzero"`
	Merged    int         `json:"merged"`    // offline check-ins and records taken since the hub started
	Conflicts int         `json:"conflicts"` // of which cross-site duplicates
	Refused   int         `json:"refused"`
}

func (n *Node) startSiteHub() error {
	h := &siteHub{n: n, sem: make(chan struct{}, 64), heard: map[string]time.Time{}, taken: map[string]siteCounts{}}
	if len(h.sites()) == 0 {
		return nil
	}
	h.pb = sqlite.NewPollbook(n.DB, n, n.Now)
	h.pb.CatchUp = n.CatchUp
	_, err := n.NC.Subscribe(vnats.SiteSubjects, func(msg *natsgo.Msg) {
		// Each request on its own goroutine: a subscription's callback is
		// serial, and one site's merge must not hold up another's check-in.
		h.sem <- struct{}{}
		go func() {
			defer func() { <-h.sem }()
			h.serve(msg)
		}()
	})
	if err != nil {
		return vigil.Wrap("node.sites", vigil.Unavailable, err)
	}
	n.siteHub = h
	n.background(h.watchLinks)
	return nil
}

// sites returns the sites the hub admits now: name -> place.
func (h *siteHub) sites() map[string]vigil.Scope {
	out := h.n.links.snapshot()
	maps.DeleteFunc(out, func(_ string, place vigil.Scope) bool { return place == "" })
	return out
}

// watchLinks records each site's link going up or down (site.link), so the
// turnout page and the log show when a site was cut off.
func (h *siteHub) watchLinks(ctx context.Context) {
	up := map[string]bool{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		now := h.n.server.LeafNames()
		for name, place := range h.sites() {
			if now[name] == up[name] {
				continue
			}
			a := vigil.Actor{Name: "site:" + name, Role: vigil.RoleSystem, Scope: place, Origin: h.n.Origin()}
			ev, err := vigil.NewEvent(a, vigil.EventSiteLink, name, h.n.Now(), vigil.SiteLink{Site: name, Up: now[name]})
			if err != nil {
				continue
			}
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if _, err := h.n.Log.Append(actx, []vigil.Event{ev}, vigil.AppendOptions{}); err == nil {
				up[name] = now[name]
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (h *siteHub) serve(msg *natsgo.Msg) {
	name := vnats.SiteOfSubject(msg.Subject)
	place, _ := h.n.links.place(name)
	if place == "" {
		return // revoked; or a mirror, which the link's permissions keep from sending this
	}
	h.mu.Lock()
	h.heard[name] = h.n.Now()
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var reply any
	switch {
	case msg.Subject == vnats.SiteAppendSubject(name):
		reply = h.appendFor(ctx, name, place, msg.Data)
	case msg.Subject == vnats.SiteMergeSubject(name):
		reply = h.merge(ctx, name, place, msg.Data)
	default:
		return
	}
	b, _ := json.Marshal(reply)
	msg.Respond(b)
}

// appendFor appends a site's online events (a check-in's claim included).
func (h *siteHub) appendFor(ctx context.Context, name string, place vigil.Scope, data []byte) siteReply {
	var req siteRequest
	if len(data) > 8<<20 || json.Unmarshal(data, &req) != nil || len(req.Events) == 0 {
		return siteReply{Kind: vigil.Invalid, Error: "malformed append"}
	}
	for _, ev := range req.Events {
		if reason := checkSiteEvent(name, place, ev); reason != "" {
			h.refuse(ctx, name, reason, ev)
			return siteReply{Kind: vigil.Permission, Error: "the county's system refused this: " + reason}
		}
	}
	seq, err := h.n.Log.Append(ctx, req.Events, vigil.AppendOptions{ExpectSubjectSeq: req.Expect})
	if err != nil {
		return siteReply{Kind: vigil.ErrorKind(err), Error: vigil.ErrorMessage(err)}
	}
	return siteReply{Seq: seq}
}

// merge takes a batch of a site's offline entries. Entries about different
// voters are merged concurrently (each merge is a claim, one sync each, so
// concurrency is what fills the log's atomic batches);
// entries about one voter stay in order.
func (h *siteHub) merge(ctx context.Context, name string, place vigil.Scope, data []byte) siteMergeReply {
	var req siteMerge
	if len(data) > 64<<20 || json.Unmarshal(data, &req) != nil {
		return siteMergeReply{Kind: vigil.Invalid, Error: "malformed merge"}
	}
	r, c := mergeEntries(req.Entries, 256, func(ev vigil.Event) (siteOutcome, error) {
		return h.mergeOne(ctx, name, place, ev)
	})
	h.mu.Lock()
	t := h.taken[name]
	t.Merged, t.Already, t.Conflicts, t.Refused = t.Merged+c.Merged, t.Already+c.Already, t.Conflicts+c.Conflicts, t.Refused+c.Refused
	h.taken[name] = t
	h.mu.Unlock()
	if len(r.Outcomes) > 0 {
		// The record of the batch (an alert when it re-sent entries).
		a := vigil.Actor{Name: "site:" + name, Role: vigil.RoleSystem, Scope: place, Origin: h.n.Origin()}
		rec := vigil.SiteMerged{Site: name, From: req.Entries[0].Seq, To: req.Entries[len(r.Outcomes)-1].Seq,
			Merged: c.Merged - c.Conflicts, Conflicts: c.Conflicts, Already: c.Already, Refused: c.Refused}
		if ev, err := vigil.NewEvent(a, vigil.EventSiteMerged, name, h.n.Now(), rec); err == nil {
			if _, err := h.n.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
				h.n.log.Warn("site merge not recorded", "site", name, "err", err)
			}
		}
	}
	return r
}

// mergeEntries runs one on each entry: entries about different subjects
// concurrently (width at a time), entries about one subject in order. The
// reply holds the outcomes up to the first entry that failed, with its
// error; the rest wait for the next batch.
func mergeEntries(entries []siteMergeEntry, width int, one func(vigil.Event) (siteOutcome, error)) (siteMergeReply, siteCounts) {
	outcomes := make([]siteOutcome, len(entries))
	errs := make([]error, len(entries))
	byKey := map[string][]int{}
	var keys []string
	for i, e := range entries {
		k := string(e.Event.Type) + "\x00" + e.Event.Key
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(width, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range work {
				for _, i := range idx {
					outcomes[i], errs[i] = one(entries[i].Event)
					if errs[i] != nil {
						break // the rest of this subject's entries wait for the next batch
					}
				}
			}
		}()
	}
	for _, k := range keys {
		work <- byKey[k]
	}
	close(work)
	wg.Wait()
	var r siteMergeReply
	var c siteCounts
	for i := range entries {
		if errs[i] != nil || outcomes[i].Outcome == "" {
			r.Error, r.Kind = "could not store entry "+fmt.Sprint(entries[i].Seq), vigil.Unavailable
			if errs[i] != nil {
				r.Error, r.Kind = vigil.ErrorMessage(errs[i]), vigil.ErrorKind(errs[i])
			}
			break
		}
		r.Outcomes = append(r.Outcomes, outcomes[i])
		switch outcomes[i].Outcome {
		case outcomeMerged:
			c.Merged++
		case outcomeAlready:
			c.Already++
		case outcomeConflict:
			c.Merged++
			c.Conflicts++
		case outcomeRefused:
			c.Refused++
		}
	}
	return r, c
}

func (h *siteHub) mergeOne(ctx context.Context, name string, place vigil.Scope, ev vigil.Event) (siteOutcome, error) {
	if reason := checkSiteEvent(name, place, ev); reason != "" {
		if err := h.refuse(ctx, name, reason, ev); err != nil {
			return siteOutcome{}, err
		}
		return siteOutcome{Outcome: outcomeRefused, Reason: reason}, nil
	}
	if ev.Type == vigil.EventCheckInRecorded {
		a := vigil.Actor{Name: "site:" + name, Role: vigil.RoleSystem, Scope: place, Origin: h.n.Origin()}
		res, err := h.pb.MergeCheckIn(ctx, a, ev)
		switch {
		case err != nil:
			return siteOutcome{}, err
		case res.Conflict != nil:
			return siteOutcome{Outcome: outcomeConflict}, nil
		case res.Already:
			return siteOutcome{Outcome: outcomeAlready}, nil
		}
		return siteOutcome{Outcome: outcomeMerged}, nil
	}
	// Anything else is a record: stored once, by its id.
	if seq, err := h.n.DB.EventSeq(ctx, ev.ID); err != nil {
		return siteOutcome{}, err
	} else if seq > 0 {
		return siteOutcome{Outcome: outcomeAlready}, nil
	}
	var o vigil.AppendOptions
	if ev.Type == vigil.EventProvisionalIssued {
		// An envelope number is used once in the county: claimed here as
		// online. One another site used meanwhile is kept, refused, with
		// the entry, for the county to sort out: never dropped.
		var zero uint64
		o.ExpectSubjectSeq = &zero
	}
	if _, err := h.n.Append(ctx, []vigil.Event{ev}, o); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict && o.ExpectSubjectSeq != nil {
			reason := "envelope number already used elsewhere in the county"
			if err := h.refuse(ctx, name, reason, ev); err != nil {
				return siteOutcome{}, err
			}
			return siteOutcome{Outcome: outcomeRefused, Reason: reason}, nil
		}
		return siteOutcome{}, err
	}
	return siteOutcome{Outcome: outcomeMerged}, nil
}

// refuse records an entry the hub will not take, with the entry itself.
func (h *siteHub) refuse(ctx context.Context, name, reason string, ev vigil.Event) error {
	a := vigil.Actor{Name: "site:" + name, Role: vigil.RoleSystem, Scope: vigil.ScopeState, Origin: h.n.Origin()}
	rec, err := vigil.NewEvent(a, vigil.EventSiteEntryRefused, name, h.n.Now(),
		vigil.SiteEntryRefused{Site: name, Reason: reason, Entry: ev})
	if err != nil {
		return err
	}
	// Derived from the entry: a site re-sending it is recorded once.
	rec.ID = "refused-" + name + "-" + ev.ID
	if seq, err := h.n.DB.EventSeq(ctx, rec.ID); err != nil || seq > 0 {
		return err
	}
	h.n.log.Warn("site entry refused", "site", name, "reason", reason, "type", ev.Type, "event", ev.ID)
	_, err = h.n.Append(ctx, []vigil.Event{rec}, vigil.AppendOptions{})
	return err
}

// checkSiteEvent says why a site may not write ev ("" if it may): it must
// be the site's own, of a kind a site writes, and about its place.
func checkSiteEvent(name string, place vigil.Scope, ev vigil.Event) string {
	if err := ev.Validate(); err != nil {
		return "malformed event: " + vigil.ErrorMessage(err)
	}
	if !siteWritable[ev.Type] {
		return fmt.Sprintf("a polling-place site may not write %s", ev.Type)
	}
	if ev.Origin != name && !strings.HasPrefix(ev.Origin, name+"_") {
		// A site vouches for the laptops joined to it (SITE_LAPTOP).
		return fmt.Sprintf("the event was made by %q, not by this site or a laptop joined to it", ev.Origin)
	}
	county, placeID, _ := pollbook.SitePlace(place)
	var about struct {
		Place  string      `json:"place"`
		Site   vigil.Scope `json:"site"`
		County string      `json:"county"`
	}
	json.Unmarshal(ev.Payload, &about)
	if about.Place != "" && about.Place != placeID {
		return fmt.Sprintf("the event is about polling place %s, not this site's %s", about.Place, placeID)
	}
	if about.Site != "" && about.Site != place && string(about.Site) != placeID && !strings.HasPrefix(string(place), string(about.Site)+"/") {
		return fmt.Sprintf("the event is about %s, not this site's %s", about.Site, place)
	}
	if about.County != "" && about.County != county {
		return fmt.Sprintf("the event is about county %s, not this site's %s", about.County, county)
	}
	if ev.Scope != "" && ev.Scope != place && ev.Scope != vigil.CountyScope(county) &&
		ev.Scope != vigil.ScopeState && !strings.HasPrefix(string(place), string(ev.Scope)+"/") {
		return fmt.Sprintf("the event's actor is scoped to %s, outside this site", ev.Scope)
	}
	return ""
}

// SiteLinks lists the sites a hub admits with their link state (nil when
// it admits none).
func (n *Node) SiteLinks() []SiteLinkState {
	h := n.siteHub
	if h == nil {
		return nil
	}
	up := n.server.LeafNames()
	sites := h.sites()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []SiteLinkState
	for name, place := range sites {
		c := h.taken[name]
		out = append(out, SiteLinkState{Name: name, Place: place, Connected: up[name], LastHeard: h.heard[name],
			Merged: c.Merged, Conflicts: c.Conflicts, Refused: c.Refused})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// startSites starts a site's link (Options.Site) or a hub's service of its
// sites.
func (n *Node) startSites(ctx context.Context, o Options) error {
	switch {
	case o.Site && n.mirror != nil && n.mirror.Place != "":
		return n.startSite(ctx)
	case n.hubMirrors != nil && n.Log != nil && n.server != nil:
		return n.startSiteHub()
	}
	return nil
}
