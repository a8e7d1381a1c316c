package node

import (
	"context"
	"encoding/json"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// Laptops joined to a site (issue 4 §1, §4; decision 0008). A laptop runs
// its own `vigil site`, linked to its site's node instead of the hub: it
// is a leaf of the site (credential SITE_LAPTOP from `vigil site allow` on
// the site), its streams mirror the site's copy of the hub's log, so it
// carries the roster and checks the hub's checkpoints, and it sends its
// appends and offline entries to the site exactly as a site sends its own
// to the hub. The site answers them through its own append path: online,
// on the hub (which vouches for a site's laptops by their name); cut off,
// with a claim in the site's log. So the site and its laptops never both
// check a voter in, online or not, and a laptop cut off even from its site
// still works alone and merges later under the same rule.

// siteRelay is a site's service to the laptops joined to it.
type siteRelay struct {
	s   *siteLink
	pb  *sqlite.Pollbook
	sem chan struct{}
}

// startRelay answers the laptops that mirrors.json in the site's
// directory admits (none: nothing to do).
func (s *siteLink) startRelay() error {
	n := s.n
	if n.hubMirrors == nil || len(n.hubMirrors.Mirrors) == 0 {
		return nil
	}
	r := &siteRelay{s: s, sem: make(chan struct{}, 16)}
	r.pb = sqlite.NewPollbook(n.DB, n, n.Now)
	r.pb.Site = true
	for _, m := range n.hubMirrors.Mirrors {
		for _, subject := range []string{vnats.SiteAppendSubject(m.Name), vnats.SiteMergeSubject(m.Name), vnats.MirrorReportSubject(m.Name)} {
			if _, err := n.NC.Subscribe(subject, func(msg *natsgo.Msg) {
				r.sem <- struct{}{}
				go func() {
					defer func() { <-r.sem }()
					r.serve(m.Name, msg)
				}()
			}); err != nil {
				return vigil.Wrap("site.relay", vigil.Unavailable, err)
			}
		}
	}
	return nil
}

func (r *siteRelay) serve(laptop string, msg *natsgo.Msg) {
	if _, ok := r.s.n.links.place(laptop); !ok {
		return // revoked
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var reply any
	switch msg.Subject {
	case vnats.SiteAppendSubject(laptop):
		reply = r.appendFor(ctx, laptop, msg.Data)
	case vnats.SiteMergeSubject(laptop):
		reply = r.merge(ctx, laptop, msg.Data)
	case vnats.MirrorReportSubject(laptop):
		// The laptop's checkpoint checks go to the hub, which records
		// them as the laptop's (the hub's detection watches them).
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		resp, err := r.s.n.NC.RequestWithContext(rctx, vnats.MirrorReportSubject(r.s.name), msg.Data)
		if err != nil {
			reply = map[string]string{"error": "the site could not reach the county's system: " + err.Error()}
			break
		}
		msg.Respond(resp.Data)
		return
	default:
		return
	}
	b, _ := json.Marshal(reply)
	msg.Respond(b)
}

// appendFor stores a laptop's online appends through the site's own path.
// A check-in is checked against what the site knows (its own check-ins
// included, which the laptop may not have seen) and claimed with the
// sequences of that same read.
func (r *siteRelay) appendFor(ctx context.Context, laptop string, data []byte) siteReply {
	s := r.s
	var req siteRequest
	if len(data) > 8<<20 || json.Unmarshal(data, &req) != nil || len(req.Events) == 0 {
		return siteReply{Kind: vigil.Invalid, Error: "malformed append"}
	}
	o := vigil.AppendOptions{ExpectSubjectSeq: req.Expect}
	for _, ev := range req.Events {
		if reason := checkSiteEvent(laptop, s.place, ev); reason != "" {
			// Kept and sent on: the hub records the refusal and alerts.
			if _, err := s.log.AppendRelayed(ctx, ev); err != nil {
				return siteReply{Kind: vigil.ErrorKind(err), Error: vigil.ErrorMessage(err)}
			}
			s.poke()
			s.n.log.Warn("laptop entry refused", "laptop", laptop, "reason", reason, "event", ev.ID)
			return siteReply{Kind: vigil.Permission, Error: "the site refused this: " + reason}
		}
		if ev.Type != vigil.EventCheckInRecorded {
			continue
		}
		var ci vigil.CheckIn
		if err := json.Unmarshal(ev.Payload, &ci); err != nil {
			return siteReply{Kind: vigil.Invalid, Error: "malformed check-in"}
		}
		prior, _, siteSeq, err := r.pb.SiteCheckInOf(ctx, ci.Voter)
		if err != nil {
			return siteReply{Kind: vigil.ErrorKind(err), Error: vigil.ErrorMessage(err)}
		}
		switch {
		case prior != nil && prior.Event == ev.ID:
			return siteReply{Seq: prior.Seq} // sent again: held already
		case prior != nil && prior.Election == ci.Election:
			_, here, _ := pollbook.SitePlace(s.place)
			return siteReply{Kind: vigil.Conflict, Error: vigil.AlreadyCheckedInMessage(prior, here, r.pb.Loc)}
		}
		o.ExpectSiteSeq = &siteSeq
	}
	seq, err := s.append(ctx, req.Events, o)
	if err != nil {
		return siteReply{Kind: vigil.ErrorKind(err), Error: vigil.ErrorMessage(err)}
	}
	return siteReply{Seq: seq}
}

// merge takes a batch of what a laptop did while cut off from the site.
// Each entry is kept in the site's log, claimed there when it can be (a
// voter or envelope not yet taken at the site), otherwise unclaimed, and
// goes on to the hub with the site's own entries, where a duplicate
// becomes a conflict for the county and a refusal is recorded: the same
// rule as for a site's, one level down, and nothing dropped.
func (r *siteRelay) merge(ctx context.Context, laptop string, data []byte) siteMergeReply {
	var req siteMerge
	if len(data) > 64<<20 || json.Unmarshal(data, &req) != nil {
		return siteMergeReply{Kind: vigil.Invalid, Error: "malformed merge"}
	}
	reply, _ := mergeEntries(req.Entries, 32, func(ev vigil.Event) (siteOutcome, error) {
		return r.mergeOne(ctx, laptop, ev)
	})
	r.s.poke()
	return reply
}

func (r *siteRelay) mergeOne(ctx context.Context, laptop string, ev vigil.Event) (siteOutcome, error) {
	s := r.s
	relay := func(o siteOutcome) (siteOutcome, error) {
		_, err := s.log.AppendRelayed(ctx, ev)
		return o, err
	}
	if reason := checkSiteEvent(laptop, s.place, ev); reason != "" {
		return relay(siteOutcome{Outcome: outcomeRefused, Reason: reason})
	}
	switch ev.Type {
	case vigil.EventCheckInRecorded:
		var ci vigil.CheckIn
		if err := json.Unmarshal(ev.Payload, &ci); err != nil {
			return relay(siteOutcome{Outcome: outcomeRefused, Reason: "malformed check-in"})
		}
		for attempt := 0; ; attempt++ {
			prior, _, siteSeq, err := r.pb.SiteCheckInOf(ctx, ci.Voter)
			switch {
			case err != nil:
				return siteOutcome{}, err
			case prior != nil && prior.Event == ev.ID:
				return siteOutcome{Outcome: outcomeAlready}, nil
			case prior != nil && prior.Election == ci.Election:
				return relay(siteOutcome{Outcome: outcomeConflict})
			}
			seq, err := s.log.Append(ctx, ev, &siteSeq, 0)
			if vigil.ErrorKind(err) == vigil.Conflict && attempt < maxRelayAttempts {
				continue // a tablet claimed the voter meanwhile: read it
			}
			if err != nil {
				return siteOutcome{}, err
			}
			return siteOutcome{Outcome: outcomeMerged}, s.n.DB.RecordSiteClaim(ctx, seq, ev, 0)
		}
	case vigil.EventProvisionalIssued:
		if seq, err := s.n.DB.EventSeq(ctx, ev.ID); err != nil || seq > 0 {
			return siteOutcome{Outcome: outcomeAlready}, err
		}
		var zero uint64
		if _, err := s.log.Append(ctx, ev, &zero, 0); vigil.ErrorKind(err) == vigil.Conflict {
			return relay(siteOutcome{Outcome: outcomeRefused, Reason: "envelope number already used at this site"})
		} else if err != nil {
			return siteOutcome{}, err
		}
		return siteOutcome{Outcome: outcomeMerged}, nil
	}
	if seq, err := s.n.DB.EventSeq(ctx, ev.ID); err != nil || seq > 0 {
		return siteOutcome{Outcome: outcomeAlready}, err
	}
	if _, err := s.log.Append(ctx, ev, nil, 0); err != nil {
		return siteOutcome{}, err
	}
	return siteOutcome{Outcome: outcomeMerged}, nil
}

// maxRelayAttempts bounds re-reads after a lost claim at the site.
const maxRelayAttempts = 3
