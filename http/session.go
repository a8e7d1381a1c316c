package http

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
)

const (
	sessionCookie = "vigil_session"
	sessionMaxAge = 12 * time.Hour
	// sessionIdle ends a session nobody used for this long.
	sessionIdle = 30 * time.Minute
)

// session is stored in the SESSIONS bucket, shared by every node of a hub,
// keyed by a random id that only the cookie carries.
type session struct {
	User      string    `json:"user"`
	CSRF      string    `json:"csrf"`
	Created   time.Time `json:"created"`
	Seen      time.Time `json:"seen"`
	MFAEnroll bool      `json:"mfa_enroll,omitempty"` // must enroll TOTP first
	TOTPNew   string    `json:"totp_new,omitempty"`   // secret being enrolled
	Addr      string    `json:"addr"`
	id        string
}

type sessionStore struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (st *sessionStore) create(ctx context.Context, user, addr string, mfaEnroll bool) (*session, error) {
	now := st.now()
	s := &session{User: user, CSRF: randomToken(), Created: now, Seen: now, MFAEnroll: mfaEnroll, Addr: addr, id: randomToken()}
	return s, st.save(ctx, s)
}

func (st *sessionStore) save(ctx context.Context, s *session) error {
	b, _ := json.Marshal(s)
	if _, err := st.kv.Put(ctx, s.id, b); err != nil {
		return vigil.Wrap("session.save", vigil.Unavailable, err)
	}
	return nil
}

// get returns the live session with id, or nil.
func (st *sessionStore) get(ctx context.Context, id string) (*session, error) {
	if len(id) != 64 {
		return nil, nil
	}
	e, err := st.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, vigil.Wrap("session.get", vigil.Unavailable, err)
	}
	var s session
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return nil, nil
	}
	s.id = id
	now := st.now()
	if now.Sub(s.Created) > sessionMaxAge || now.Sub(s.Seen) > sessionIdle {
		st.kv.Delete(ctx, id)
		return nil, nil
	}
	if now.Sub(s.Seen) > time.Minute { // refresh without a write per request
		s.Seen = now
		st.save(ctx, &s)
	}
	return &s, nil
}

func (st *sessionStore) delete(ctx context.Context, id string) {
	st.kv.Delete(ctx, id)
}

func (s *session) csrfOK(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}
