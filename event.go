package vigil

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// EventType names what happened, as "noun.verb" in the past tense
// ("user.created", "voter.registered").
type EventType string

// Event is one immutable change, the unit of the log. Projections are built
// by applying events in log order; nothing else changes state.
//
// Payload holds type-specific JSON. Secrets (SSN digits, licence numbers,
// TOTP seeds) MUST NOT appear in a payload in clear: they are sealed with the
// node's secrets key before the event is built.
type Event struct {
	ID      string          `json:"id"`
	Origin  string          `json:"origin"`
	Actor   string          `json:"actor"`
	Role    Role            `json:"role"`
	Scope   Scope           `json:"scope,omitempty"`
	Type    EventType       `json:"type"`
	Time    time.Time       `json:"time"`
	Key     string          `json:"key,omitempty"` // the object the event is about; selects the log subject
	Payload json.RawMessage `json:"payload,omitempty"`
}

// NewEventID returns a random, unique event id. It doubles as the
// Nats-Msg-Id so a retried publish is stored once.
func NewEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("vigil: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// NewEvent builds an event with a fresh id and the payload marshalled.
func NewEvent(a Actor, typ EventType, key string, now time.Time, payload any) (Event, error) {
	ev := Event{ID: NewEventID(), Origin: a.Origin, Actor: a.Name, Role: a.Role, Scope: a.Scope,
		Type: typ, Time: now.UTC(), Key: key}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return Event{}, Wrap("event.new", Other, err)
		}
		ev.Payload = b
	}
	return ev, nil
}

// Validate checks the fields every event must carry.
func (e Event) Validate() error {
	const op = "event.validate"
	switch {
	case e.ID == "":
		return FieldError(op, "id", "is empty")
	case e.Origin == "":
		return FieldError(op, "origin", "is empty")
	case e.Actor == "":
		return FieldError(op, "actor", "is empty")
	case e.Type == "" || !strings.Contains(string(e.Type), "."):
		return FieldError(op, "type", "must look like noun.verb, got %q", e.Type)
	case e.Time.IsZero():
		return FieldError(op, "time", "is zero")
	}
	if len(e.Payload) > 0 && !validJSON(e.Payload) {
		return FieldError(op, "payload", "is not valid JSON")
	}
	return nil
}

// Actor is who causes events: a person acting in one role and scope, or a
// node acting for itself (Role System).
type Actor struct {
	Name   string
	Role   Role
	Scope  Scope
	Origin string // the node the action was taken on
}

// An Entry is what one log message holds: one event, or a batch of events
// appended atomically. Entries are the leaves of the Merkle tree, so their
// byte encoding is fixed: each event as compact JSON, one per line.
type Entry []Event

// MarshalEntry encodes events as an entry.
func MarshalEntry(events []Event) ([]byte, error) {
	var buf bytes.Buffer
	for i, ev := range events {
		if i > 0 {
			buf.WriteByte('\n')
		}
		buf.Grow(len(ev.Payload) + 512)
		if b, ok := appendEvent(buf.AvailableBuffer(), &ev); ok { // the same bytes, in one pass (event_decode.go)
			buf.Write(b)
			continue
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, Wrap("entry.marshal", Other, err)
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// UnmarshalEntry decodes an entry. It fails on any malformed line, naming it.
func UnmarshalEntry(data []byte) (Entry, error) {
	var out Entry
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		if ev, ok := decodeEvent(line); ok { // the usual form, in one pass (event_decode.go)
			out = append(out, ev)
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, &Error{Op: "entry.unmarshal", Kind: Integrity,
				Message: "event " + strconv.Itoa(i+1) + " of the entry is not valid JSON", Err: err}
		}
		out = append(out, ev)
	}
	return out, nil
}

// AppendOptions modify an append to the log.
type AppendOptions struct {
	// ExpectSubjectSeq, when set, makes the append atomic with a check that
	// the last entry on the event's subject (its type's noun and key) has
	// this sequence (0: there is none). This is how uniqueness is claimed in
	// the log: of two racing appends with the same expectation, exactly one
	// is stored and the other fails with Conflict.
	ExpectSubjectSeq *uint64
	// ExpectSiteSeq is a polling-place site's claim in its own log, used
	// when the site is cut off from the hub (decision 0008): the voter's
	// last entry there (0: none). The hub's log ignores it.
	ExpectSiteSeq *uint64
}

// EventAppender appends events to the log.
type EventAppender interface {
	// Append stores events as one entry and returns its sequence once it is
	// durable and applied to this node's projections.
	// Errors: Invalid, Conflict (a lost claim), Unavailable.
	Append(ctx context.Context, events []Event, o AppendOptions) (uint64, error)
}
