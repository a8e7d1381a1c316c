package node

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// A polling-place site (docs/decisions/0008-sites.md): a mirror of the
// hub's log (same sequences, same projections) whose appends go to the hub
// while the link is up, and into its own log (the SITE stream) while it is
// not. Check-ins are claims in both: on the hub over the voter's subject
// there, and here over the voter's subject in the site's log, so that two
// pollbooks of one site never both check a voter in, online or not. The
// site sends its offline entries to the hub as soon as the link is back;
// the hub merges them under the same rule as any other check-in, recording
// each cross-site duplicate as a conflict for the county.

// siteHubTimeout bounds an online append. Past it the site stops waiting
// and stores the entry itself; if the hub did store it, the merge finds
// the same event id and changes nothing.
const siteHubTimeout = 2 * time.Second

// siteMergeBatch is how many entries of the site's log one merge request
// carries.
const siteMergeBatch = 2000

// siteOffline lists what a site may store while cut off: the check-in and
// the records around it. Everything else (an undo, a device enrolment, a
// change of paper mode) needs the hub, and is refused with a message
// saying so.
var siteOffline = map[vigil.EventType]bool{
	vigil.EventCheckInRecorded:   true,
	vigil.EventCheckInRefused:    true,
	vigil.EventProvisionalIssued: true,
	vigil.EventDeviceRefused:     true,
	vigil.EventAccessDenied:      true,
	vigil.EventAccessPrivileged:  true,
	vigil.EventLoginSucceeded:    true,
	vigil.EventLoginFailed:       true,
	vigil.EventVoterExported:     true,
}

type siteLink struct {
	n     *Node
	name  string
	place vigil.Scope
	log   *vnats.SiteLog
	wake  chan struct{}

	mu        sync.Mutex
	lastHub   time.Time // the hub last answered an append or a merge
	lastError string    // why the last attempt to reach the hub failed
	mergeErr  string    // why the hub refused an entry of the site's log
}

func siteStatusPath(dir string) string { return filepath.Join(dir, "site", "status.json") }

// ReadSiteStatus reads the status a running site last wrote (each second).
func ReadSiteStatus(dir string) (SiteStatus, time.Time, error) {
	var st SiteStatus
	fi, err := os.Stat(siteStatusPath(dir))
	if err != nil {
		return st, time.Time{}, vigil.Errorf(vigil.NotFound, "site.status", "%s has no site status (is it a polling-place site that has run?)", dir)
	}
	return st, fi.ModTime(), readJSON(siteStatusPath(dir), &st)
}

// SiteStatus is what every page of a site shows, and what `vigil site
// status` prints.
type SiteStatus struct {
	Name   string      `json:"name"`
	Place  vigil.Scope `json:"place"`
	Hub    string      `json:"hub"`
	Online bool        `json:"online"` // the link to the hub is up
	// LastSync is when the hub was last heard from: a mirrored entry, an
	// answered append or merge.
	LastSync time.Time `json:"last_sync,omitzero"`
	// SinceSync is the time since LastSync, in seconds.
	SinceSync float64 `json:"since_sync_seconds"`
	// Waiting counts entries of the site's log the hub does not hold yet.
	Waiting uint64 `json:"waiting"`
	// CheckIns counts the site's check-ins; HubHolds those the hub holds.
	CheckIns int    `json:"checkins"`
	HubHolds int    `json:"hub_holds"`
	Problem  string `json:"problem,omitempty"`
	// Laptops are the laptops joined to this site (node/site_relay.go).
	Laptops []LaptopLink `json:"laptops,omitempty"`
}

// LaptopLink is a laptop joined to a site, and whether it is linked now.
type LaptopLink struct {
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
}

// startSite opens the site's log, rebuilds its check-ins from it, and
// starts sending what the hub does not hold yet.
func (n *Node) startSite(ctx context.Context) error {
	l, err := vnats.OpenSiteLog(ctx, n.JS)
	if err != nil {
		return err
	}
	s := &siteLink{n: n, name: n.mirror.Name, place: n.mirror.Place, log: l, wake: make(chan struct{}, 1)}
	if err := s.rebuild(ctx); err != nil {
		return err
	}
	n.background(s.mergeLoop)
	n.site = s
	return s.startRelay()
}

// rebuild records every check-in of the site's log in site_claims (a
// crash may have come between the log and the table).
func (s *siteLink) rebuild(ctx context.Context) error {
	for from := uint64(1); ; {
		entries, err := s.log.Read(ctx, from, 2000)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			if e.Relayed {
				continue // a laptop's, not claimed here
			}
			if err := s.n.DB.RecordSiteClaim(ctx, e.Seq, e.Event, e.HubSeq); err != nil {
				return err
			}
		}
		from = entries[len(entries)-1].Seq + 1
	}
}

// IsSite reports whether the node runs as a polling-place site.
func (n *Node) IsSite() bool { return n.site != nil }

// SiteStatus reports the site's link and what waits for it.
func (n *Node) SiteStatus(ctx context.Context) (SiteStatus, error) {
	s := n.site
	if s == nil {
		return SiteStatus{}, vigil.Errorf(vigil.NotFound, "site.status", "this node is not a polling-place site")
	}
	st := SiteStatus{Name: s.name, Place: s.place, Hub: n.mirror.Hub, Online: n.server.LinkUp()}
	s.mu.Lock()
	st.LastSync, st.Problem = s.lastHub, s.mergeErr
	if st.Problem == "" && !st.Online {
		st.Problem = s.lastError
	}
	s.mu.Unlock()
	if _, active, err := vnats.MirrorState(ctx, n.JS, vnats.EventsStream); err == nil && active > 0 {
		if t := n.now().Add(-active); t.After(st.LastSync) {
			st.LastSync = t
		}
	}
	if !st.LastSync.IsZero() {
		st.SinceSync = n.now().Sub(st.LastSync).Seconds()
	}
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return st, err
	}
	cur, err := n.DB.SiteCursor(ctx)
	if err != nil {
		return st, err
	}
	if last > cur {
		st.Waiting = last - cur
	}
	if names := n.links.names(); len(names) > 0 {
		up := n.server.LeafNames()
		for _, name := range names {
			st.Laptops = append(st.Laptops, LaptopLink{Name: name, Connected: up[name]})
		}
	}
	held, waiting, err := n.DB.SiteClaimCounts(ctx)
	st.HubHolds, st.CheckIns = held, held+waiting
	return st, err
}

func (s *siteLink) heard() {
	s.mu.Lock()
	s.lastHub, s.lastError = s.n.now(), ""
	s.mu.Unlock()
}

func (s *siteLink) unreachable(err error) {
	s.mu.Lock()
	s.lastError = "the county's system cannot be reached: " + err.Error()
	s.mu.Unlock()
}

// siteRequest is an append sent to the hub.
type siteRequest struct {
	Events []vigil.Event `json:"events"`
	Expect *uint64       `json:"expect,omitempty"`
}

// siteReply is the hub's answer to an append.
type siteReply struct {
	Seq   uint64     `json:"seq"`
	Kind  vigil.Kind `json:"kind,omitempty"`
	Error string     `json:"error,omitempty"`
}

func (r siteReply) err(op string) error {
	if r.Error == "" {
		return nil
	}
	return &vigil.Error{Op: op, Kind: r.Kind, Message: r.Error}
}

// errUnreachable marks a failure to reach the hub (as opposed to the
// hub's refusal).
var errUnreachable = errors.New("the hub did not answer")

// append stores events: on the hub while it answers, here otherwise.
func (s *siteLink) append(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	for _, ev := range events {
		// What a site may not write is refused here, before the hub would
		// refuse it as a site out of line (and alert the county).
		if !siteWritable[ev.Type] {
			return 0, vigil.Errorf(vigil.Permission, "site.append",
				"this is the polling-place site %s: %s is done on the county's system, not here", s.name, ev.Type)
		}
	}
	if s.n.server.LinkUp() {
		seq, err := s.appendOnHub(ctx, events, o)
		if err == nil {
			s.heard()
			for _, ev := range events {
				if ev.Type == vigil.EventCheckInRecorded {
					// The site's own record: a voter checked in here is
					// refused here even if the link drops before the
					// hub's copy arrives.
					// A laptop's site that is itself cut off answers 0:
					// held upstream, not yet by the hub.
					if ss, lerr := s.log.Append(ctx, ev, nil, max(seq, 1)); lerr == nil {
						s.n.DB.RecordSiteClaim(ctx, ss, ev, max(seq, 1))
					}
				}
			}
			// Read-your-writes through the mirror, bounded: a slow mirror
			// must not hold up the poll worker (the site's record answers
			// for the check-in meanwhile).
			wctx, cancel := context.WithTimeout(ctx, siteHubTimeout)
			s.n.WaitApplied(wctx, seq)
			cancel()
			return seq, nil
		}
		// The hub not answering, or answering that its own log did not
		// take the entry, is the same to the poll worker: the site stores
		// it (with the same event id, so a copy the hub did keep is found
		// by the merge and stored once).
		if !errors.Is(err, errUnreachable) && vigil.ErrorKind(err) != vigil.Unavailable {
			return 0, err
		}
		s.unreachable(err)
	}
	return s.appendHere(ctx, events, o)
}

func (s *siteLink) appendOnHub(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	b, err := json.Marshal(siteRequest{Events: events, Expect: o.ExpectSubjectSeq})
	if err != nil {
		return 0, vigil.Wrap("site.append", vigil.Other, err)
	}
	rctx, cancel := context.WithTimeout(ctx, siteHubTimeout)
	defer cancel()
	msg, err := s.n.NC.RequestWithContext(rctx, vnats.SiteAppendSubject(s.name), b)
	if err != nil {
		if ctx.Err() != nil {
			return 0, vigil.Wrap("site.append", vigil.Unavailable, ctx.Err())
		}
		return 0, errors.Join(errUnreachable, err)
	}
	var r siteReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return 0, errors.Join(errUnreachable, err)
	}
	return r.Seq, r.err("site.append")
}

// appendHere stores an event in the site's own log while the hub cannot be
// reached. A check-in is claimed there; other events are stored as they
// are. The sequence returned is 0: the entry is not in the hub's log yet.
func (s *siteLink) appendHere(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	const op = "site.append"
	for _, ev := range events {
		if !siteOffline[ev.Type] {
			return 0, vigil.Errorf(vigil.Unavailable, op,
				"this site is cut off from the county's system and %s needs it: try again when the site is back online (check-ins go on here)", ev.Type)
		}
	}
	for _, ev := range events {
		var expect *uint64
		switch {
		case ev.Type == vigil.EventCheckInRecorded:
			if o.ExpectSiteSeq == nil {
				return 0, vigil.Errorf(vigil.Unavailable, op, "this site is cut off from the county's system; try again when it is back online")
			}
			expect = o.ExpectSiteSeq
		case o.ExpectSubjectSeq != nil && *o.ExpectSubjectSeq == 0:
			// Used once (an envelope number): once here too; the hub
			// checks it against everyone else's when it merges.
			var zero uint64
			expect = &zero
		}
		seq, err := s.log.Append(ctx, ev, expect, 0)
		if err != nil {
			return 0, err
		}
		if err := s.n.DB.RecordSiteClaim(ctx, seq, ev, 0); err != nil {
			return 0, err
		}
	}
	s.poke()
	return 0, nil
}

func (s *siteLink) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// siteMerge is a batch of the site's log sent to the hub.
type siteMerge struct {
	Entries []siteMergeEntry `json:"entries"`
}

type siteMergeEntry struct {
	Seq   uint64      `json:"seq"`
	Event vigil.Event `json:"event"`
}

// siteMergeReply says what the hub did with the entries, in order: one
// outcome per entry it took. It stops early only when its own log fails
// (Error); an entry it refuses is taken too, recorded in its log as
// site.entry_refused with the entry itself, so nothing is lost and the
// merge never sticks.
type siteMergeReply struct {
	Outcomes []siteOutcome `json:"outcomes"`
	Kind     vigil.Kind    `json:"kind,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// siteOutcome is what the hub did with one entry.
type siteOutcome struct {
	Outcome string `json:"outcome"` // merged, already, conflict, refused
	Reason  string `json:"reason,omitempty"`
}

// Merge outcomes.
const (
	outcomeMerged   = "merged"
	outcomeAlready  = "already"
	outcomeConflict = "conflict"
	outcomeRefused  = "refused"
)

// mergeLoop sends the site's log to the hub whenever the link is up and
// entries wait, from the cursor the hub last confirmed.
func (s *siteLink) mergeLoop(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var wrote time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		}
		if time.Since(wrote) >= time.Second {
			wrote = time.Now()
			if st, err := s.n.SiteStatus(ctx); err == nil {
				writeJSON(siteStatusPath(s.n.Dir), st)
			}
		}
		for s.n.server.LinkUp() && ctx.Err() == nil {
			more, err := s.mergeOnce(ctx)
			if err != nil {
				if errors.Is(err, errUnreachable) {
					s.unreachable(err)
				} else {
					s.n.log.Warn("site merge", "err", err)
				}
				break
			}
			if !more {
				break
			}
		}
	}
}

// mergeOnce sends one batch; more says whether entries still wait.
func (s *siteLink) mergeOnce(ctx context.Context) (more bool, err error) {
	cur, err := s.n.DB.SiteCursor(ctx)
	if err != nil {
		return false, err
	}
	entries, err := s.log.Read(ctx, cur+1, siteMergeBatch)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	var batch siteMerge
	for _, e := range entries {
		if e.HubSeq > 0 {
			continue // stored on the hub online
		}
		batch.Entries = append(batch.Entries, siteMergeEntry{Seq: e.Seq, Event: e.Event})
	}
	last := entries[len(entries)-1].Seq
	if len(batch.Entries) == 0 {
		return true, s.n.DB.SetSiteCursor(ctx, last)
	}
	b, err := json.Marshal(batch)
	if err != nil {
		return false, err
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	msg, err := s.n.NC.RequestWithContext(rctx, vnats.SiteMergeSubject(s.name), b)
	if err != nil {
		return false, errors.Join(errUnreachable, err)
	}
	var r siteMergeReply
	if err := json.Unmarshal(msg.Data, &r); err != nil || len(r.Outcomes) > len(batch.Entries) {
		return false, errors.Join(errUnreachable, errors.New("malformed merge reply"))
	}
	s.heard()
	taken := len(r.Outcomes)
	var held []vigil.Event
	for i, o := range r.Outcomes {
		if ev := batch.Entries[i].Event; ev.Type == vigil.EventCheckInRecorded {
			// Held by the hub, as the voter's check-in or as one side of a
			// conflict: either way it is no longer only here.
			held = append(held, ev)
		}
		if o.Outcome == outcomeRefused {
			s.mu.Lock()
			s.mergeErr = "the county's system refused entry " + strconv.FormatUint(batch.Entries[i].Seq, 10) +
				" of this site's log (kept there as evidence): " + o.Reason
			s.mu.Unlock()
		}
	}
	if err := s.n.DB.SiteClaimsMerged(ctx, held); err != nil {
		return false, err
	}
	if taken == 0 {
		return false, &vigil.Error{Op: "site.merge", Kind: r.Kind, Message: "the county's system could not take this site's entries: " + r.Error}
	}
	upTo := batch.Entries[taken-1].Seq
	if taken == len(batch.Entries) {
		upTo = last
	}
	if err := s.n.DB.SetSiteCursor(ctx, upTo); err != nil {
		return false, err
	}
	return r.Error == "", nil
}

// AllowSite admits a polling-place site on a hub (a mirror that also
// writes, for one place) and returns its credential. place is the place's
// id, or its scope county/C/place/P. Errors: NotFound (no such place),
// Invalid.
func AllowSite(ctx context.Context, o AllowMirrorOptions, place string) (MirrorCredential, error) {
	const op = "site.allow"
	var site mirrorConfig
	if readJSON(mirrorPath(o.Dir), &site) == nil && site.Place != "" {
		// On a site: a laptop joined to it serves the site's place.
		if strings.Contains(site.Name, "_") {
			return MirrorCredential{}, vigil.Errorf(vigil.Conflict, op, "%s is the laptop %s: laptops are joined to a site, not to another laptop", o.Dir, site.Name)
		}
		if _, p, _ := pollbook.SitePlace(site.Place); place != "" && place != p && vigil.Scope(place) != site.Place {
			return MirrorCredential{}, vigil.FieldError(op, "place", "this is the site %s of %s: a laptop joined to it serves %s (leave --place out)", site.Name, site.Place, p)
		}
		o.Place = site.Place
		return AllowMirror(o)
	}
	if place == "" {
		return MirrorCredential{}, vigil.FieldError(op, "place", "name the polling place this site serves (its id)")
	}
	db, err := sqlite.Open(ctx, dbPath(o.Dir))
	if err != nil {
		return MirrorCredential{}, err
	}
	defer db.Close()
	id := place
	if _, p, ok := pollbook.SitePlace(vigil.Scope(place)); ok {
		id = p
	}
	var county string
	if err := db.QueryRowContext(ctx, `SELECT county FROM places WHERE id = ?`, id).Scan(&county); err != nil {
		return MirrorCredential{}, vigil.Errorf(vigil.NotFound, op, "no polling place %q in this hub's log; define it (or import the election) first", place)
	}
	o.Place = vigil.PlaceScope(county, id)
	return AllowMirror(o)
}
