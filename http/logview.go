package http

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"golang.org/x/mod/sumdb/tlog"
)

func (s *Server) registerLog() {
	s.handle("GET /log", access.ActionLogRead, nil, s.logPage)
	s.handle("GET /api/v1/log/events", access.ActionLogRead, nil, s.apiEvents)
	s.handle("GET /api/v1/log/entries/{seq}", access.ActionLogRead, nil, s.apiEntry)
	s.handle("GET /api/v1/log/checkpoint", access.ActionCheckpointGet, nil, s.apiCheckpoint)
	s.handle("GET /api/v1/log/verifier", access.ActionCheckpointGet, nil, s.apiVerifier)
	s.handle("GET /api/v1/log/proof/inclusion", access.ActionCheckpointGet, nil, s.apiInclusion)
	s.handle("GET /api/v1/log/proof/consistency", access.ActionCheckpointGet, nil, s.apiConsistency)
	s.handle("POST /api/v1/log/verify", access.ActionLogVerify, nil, s.apiVerify)
}

func (s *Server) logPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	events, err := s.node.DB.Events(r.Context(), before, 50)
	if err != nil {
		return err
	}
	ckpt, err := s.node.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	var older uint64
	if len(events) == 50 {
		older = events[len(events)-1].Seq
	}
	s.renderPage(w, r, rq, "log.html", map[string]any{"Title": "Event log", "Events": events,
		"Checkpoint": string(ckpt), "Verifier": s.node.Signer.VKey, "Older": older})
	return nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request, rq *request) error {
	before, err := optUint(r, "before")
	if err != nil {
		return err
	}
	limit, err := optUint(r, "limit")
	if err != nil {
		return err
	}
	if limit == 0 || limit > 500 {
		limit = 100
	}
	events, err := s.node.DB.Events(r.Context(), before, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": events})
}

func optUint(r *http.Request, name string) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, vigil.FieldError("http.query", name, "must be a non-negative integer")
	}
	return n, nil
}

func pathSeq(r *http.Request) (uint64, error) {
	n, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || n == 0 {
		return 0, vigil.FieldError("http.path", "seq", "must be a positive integer")
	}
	return n, nil
}

// apiEntry returns an entry's events with secrets and personal data masked.
// Only roles that may verify the log get the raw bytes (and so can hash
// them in the page); others get the leaf hash the tree recorded.
func (s *Server) apiEntry(w http.ResponseWriter, r *http.Request, rq *request) error {
	seq, err := pathSeq(r)
	if err != nil {
		return err
	}
	data, err := s.node.Log.Get(r.Context(), seq)
	if err != nil {
		return err
	}
	entry, err := vigil.UnmarshalEntry(data)
	if err != nil {
		return err
	}
	var shown []map[string]any
	for _, ev := range entry {
		shown = append(shown, redactEvent(ev))
	}
	leaf := tlog.RecordHash(data)
	out := map[string]any{"seq": seq, "index": seq - 1, "leaf_hash": hashString(leaf), "events": shown}
	if access.Authorize(rq.user.Grants, access.ActionLogVerify, "", s.node.Now()).Allowed {
		out["raw"] = base64.StdEncoding.EncodeToString(data)
	}
	return writeJSON(w, http.StatusOK, out)
}

var sensitiveKeys = []string{"password", "totp", "secret", "ssn", "licen", "birth", "dob"}

func redactEvent(ev vigil.Event) map[string]any {
	m := map[string]any{"id": ev.ID, "origin": ev.Origin, "actor": ev.Actor, "role": ev.Role, "scope": ev.Scope,
		"type": ev.Type, "time": ev.Time, "key": ev.Key}
	if strings.HasPrefix(string(ev.Type), "voter.") {
		m["payload"] = "(voter records are shown in the voter pages, to roles that may see them)"
		return m
	}
	var p any
	if json.Unmarshal(ev.Payload, &p) == nil {
		m["payload"] = redact(p)
	}
	return m
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			lk := strings.ToLower(k)
			masked := false
			for _, s := range sensitiveKeys {
				if strings.Contains(lk, s) {
					x[k], masked = "•••", true
					break
				}
			}
			if !masked {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

func (s *Server) apiCheckpoint(w http.ResponseWriter, r *http.Request, rq *request) error {
	ckpt, err := s.node.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	if ckpt == nil {
		return vigil.Errorf(vigil.NotFound, "checkpoint", "the log is empty: no checkpoint yet")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(ckpt)
	return err
}

func (s *Server) apiVerifier(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte(s.node.Signer.VKey + "\n"))
	return err
}

func (s *Server) apiInclusion(w http.ResponseWriter, r *http.Request, rq *request) error {
	seq, err := optUint(r, "seq")
	if err != nil {
		return err
	}
	size, err := optUint(r, "size")
	if err != nil {
		return err
	}
	have := uint64(s.node.Tree.Size())
	if size == 0 {
		size = have
	}
	if seq == 0 || seq > size || size > have {
		return vigil.FieldError("log.inclusion", "seq", "must be between 1 and size (%d); size must be at most %d", size, have)
	}
	proof, err := s.node.Tree.InclusionProof(int64(seq-1), int64(size))
	if err != nil {
		return vigil.Wrap("log.inclusion", vigil.Other, err)
	}
	root, err := s.node.Tree.RootAt(int64(size))
	if err != nil {
		return vigil.Wrap("log.inclusion", vigil.Other, err)
	}
	leaf, err := s.node.Tree.LeafHash(int64(seq - 1))
	if err != nil {
		return vigil.Wrap("log.inclusion", vigil.Other, err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"index": seq - 1, "size": size, "root": hashString(root),
		"leaf_hash": hashString(leaf), "proof": hashList(proof)})
}

func (s *Server) apiConsistency(w http.ResponseWriter, r *http.Request, rq *request) error {
	oldSize, err := optUint(r, "old")
	if err != nil {
		return err
	}
	newSize, err := optUint(r, "new")
	if err != nil {
		return err
	}
	have := uint64(s.node.Tree.Size())
	if newSize == 0 {
		newSize = have
	}
	if oldSize == 0 || oldSize > newSize || newSize > have {
		return vigil.FieldError("log.consistency", "old", "must satisfy 1 <= old <= new <= %d", have)
	}
	proof, err := s.node.Tree.ConsistencyProof(int64(oldSize), int64(newSize))
	if err != nil {
		return vigil.Wrap("log.consistency", vigil.Other, err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"old": oldSize, "new": newSize, "proof": hashList(proof)})
}

func hashList(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hashString(h)
	}
	return out
}

func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request, rq *request) error {
	rep, err := s.node.VerifyLog(r.Context(), nil)
	if err != nil {
		return err
	}
	ev, err := vigil.NewEvent(s.actor(rq), vigil.EventAccessPrivileged, rq.user.Name, s.node.Now(),
		vigil.Privileged{Action: string(access.ActionLogVerify), Detail: "ok=" + strconv.FormatBool(rep.OK())})
	if err == nil {
		s.node.Log.Append(r.Context(), []vigil.Event{ev}, vigil.AppendOptions{})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK(), "entries": rep.Entries, "events": rep.Events,
		"checkpoints_verified": rep.Checkpoints, "problems": rep.Problems, "first_bad_index": rep.FirstBad,
		"root": hashString(rep.Root)})
}
