package nats

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

// A polling-place site (docs/decisions/0008-sites.md) is a mirror of the
// hub's log (nats/mirror.go) that also writes: online, it sends its events
// to the hub as requests on SiteAppendSubject, which the hub checks and
// appends (claims included); cut off, it claims in its own SITE stream and
// sends those entries on SiteMergeSubject once the link is back. The hub
// lets each site publish on its own subjects only, so the name in the
// subject is authenticated.

// SiteStream is a site's own log: what it did while it could not reach the
// hub (and the record of every check-in it made, so that a voter checked in
// here just before a cut is still refused after it).
const SiteStream = "SITE"

const sitePrefix = "vigil.site."

// SiteAppendSubject carries site name's appends to the hub.
func SiteAppendSubject(name string) string { return sitePrefix + SubjectToken(name) + ".append" }

// SiteMergeSubject carries site name's offline entries to the hub.
func SiteMergeSubject(name string) string { return sitePrefix + SubjectToken(name) + ".merge" }

// SiteSubjects matches every site's requests, on the hub.
const SiteSubjects = sitePrefix + "*.*"

// SiteOfSubject returns the site a request subject names.
func SiteOfSubject(subject string) string {
	rest := subject[min(len(sitePrefix), len(subject)):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			return rest[:i]
		}
	}
	return ""
}

// siteEventSubject is where a site stores an event in its own log:
// site.<noun>.<key>, so that a claim there is atomic per voter as on the hub.
func siteEventSubject(ev vigil.Event) string { return "site." + Subject(ev)[len("ev."):] }

// relayedPrefix is where a site keeps, unclaimed, an entry from a laptop
// joined to it that the site could not claim (a voter or an envelope
// already taken here) or would not take: it goes to the hub with the rest,
// where it becomes a conflict or a refusal on record. Nothing is dropped.
const relayedPrefix = "site.relayed."

// hubSeqHeader marks an entry of the site's log that the hub has already
// stored (an online check-in recorded here too): it is never sent again.
const hubSeqHeader = "Vigil-Hub-Seq"

// SiteLog is a site's own log, the SITE stream of its embedded server.
type SiteLog struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// OpenSiteLog creates the SITE stream if it does not exist and binds to it.
func OpenSiteLog(ctx context.Context, js jetstream.JetStream) (*SiteLog, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: SiteStream, Subjects: []string{"site.>"},
		Description: "vigil polling-place site: entries made here, sent to the hub when it can be reached",
		Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Replicas: 1,
		Duplicates: 2 * time.Minute, DenyDelete: true, DenyPurge: true, MaxMsgSize: 8 << 20,
	})
	if err != nil {
		return nil, vigil.Wrap("site.open_log", vigil.Unavailable, err)
	}
	return &SiteLog{js: js, stream: st}, nil
}

// Append stores one event in the site's log. With expect, it is a claim on
// the event's subject there (0: nothing stored on it yet). hubSeq > 0 marks
// an event the hub already holds at that sequence. It returns the entry's
// sequence in the site's log. Errors: Conflict (claim lost), Unavailable.
func (l *SiteLog) Append(ctx context.Context, ev vigil.Event, expect *uint64, hubSeq uint64) (uint64, error) {
	return l.append(ctx, siteEventSubject(ev), ev, expect, hubSeq)
}

// AppendRelayed stores an entry of a laptop joined to the site without a
// claim, to be sent to the hub with the rest (see relayedPrefix).
func (l *SiteLog) AppendRelayed(ctx context.Context, ev vigil.Event) (uint64, error) {
	return l.append(ctx, relayedPrefix+siteEventSubject(ev)[len("site."):], ev, nil, 0)
}

func (l *SiteLog) append(ctx context.Context, subject string, ev vigil.Event, expect *uint64, hubSeq uint64) (uint64, error) {
	const op = "site.append"
	data, err := vigil.MarshalEntry([]vigil.Event{ev})
	if err != nil {
		return 0, err
	}
	msg := natsgo.NewMsg(subject)
	msg.Data = data
	if hubSeq > 0 {
		msg.Header.Set(hubSeqHeader, strconv.FormatUint(hubSeq, 10))
	}
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(ev.ID), jetstream.WithExpectStream(SiteStream)}
	if expect != nil {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*expect))
	}
	ack, err := l.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return 0, &vigil.Error{Op: op, Kind: vigil.Conflict, Message: "another pollbook at this site claimed this first", Err: err}
		}
		return 0, &vigil.Error{Op: op, Kind: vigil.Unavailable, Message: "the site's log did not acknowledge the write", Err: err}
	}
	return ack.Sequence, nil
}

// LastSeq returns the sequence of the newest entry (0 when empty).
func (l *SiteLog) LastSeq(ctx context.Context) (uint64, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return 0, vigil.Wrap("site.log", vigil.Unavailable, err)
	}
	return info.State.LastSeq, nil
}

// SiteEntry is one entry of a site's log.
type SiteEntry struct {
	Seq    uint64
	Event  vigil.Event
	HubSeq uint64 // > 0: the hub already holds it
	// Relayed: a laptop's entry kept unclaimed (AppendRelayed).
	Relayed bool
}

// Read returns up to limit entries from sequence from on (fewer at the end).
func (l *SiteLog) Read(ctx context.Context, from uint64, limit int) ([]SiteEntry, error) {
	const op = "site.read"
	last, err := l.LastSeq(ctx)
	if err != nil || last < max(from, 1) {
		return nil, err
	}
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(from, 1),
	})
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	n := min(uint64(limit), last-max(from, 1)+1)
	batch, err := cons.Fetch(int(n), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	var out []SiteEntry
	for msg := range batch.Messages() {
		md, err := msg.Metadata()
		if err != nil {
			return nil, vigil.Wrap(op, vigil.Other, err)
		}
		evs, err := vigil.UnmarshalEntry(msg.Data())
		if err != nil || len(evs) != 1 {
			return nil, &vigil.Error{Op: op, Kind: vigil.Integrity, Message: "entry " + strconv.FormatUint(md.Sequence.Stream, 10) + " of the site's log is malformed", Err: err}
		}
		e := SiteEntry{Seq: md.Sequence.Stream, Event: evs[0], Relayed: strings.HasPrefix(msg.Subject(), relayedPrefix)}
		if h := msg.Headers().Get(hubSeqHeader); h != "" {
			e.HubSeq, _ = strconv.ParseUint(h, 10, 64)
		}
		out = append(out, e)
	}
	if err := batch.Error(); err != nil && len(out) == 0 {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	return out, nil
}

// LeafNames returns the names of the servers linked to this one as leaf
// nodes (on a hub: the mirrors and sites connected now).
func (s *Server) LeafNames() map[string]bool {
	out := map[string]bool{}
	lz, err := s.ns.Leafz(nil)
	if err != nil {
		return out
	}
	for _, l := range lz.Leafs {
		out[l.Name] = true
	}
	return out
}
