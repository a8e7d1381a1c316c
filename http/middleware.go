package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// request is what the middleware learned about a request.
type request struct {
	sess     *session
	user     *access.UserRecord
	decision access.Decision
	action   access.Action
	route    string
}

// actor is the signed-in user acting in the role that allowed the action.
func (s *Server) actor(rq *request) vigil.Actor {
	a := vigil.Actor{Origin: s.node.Origin(), Role: vigil.RoleAnonymous, Scope: vigil.ScopeState}
	if rq.user != nil {
		a.Name = rq.user.Name
		a.Role, a.Scope = rq.decision.Grant.Role, rq.decision.Grant.Scope
		if a.Role == "" && len(rq.user.Grants) > 0 {
			a.Role, a.Scope = rq.user.Grants[0].Role, rq.user.Grants[0].Scope
		}
	}
	if a.Name == "" {
		a.Name = "anonymous"
	}
	return a
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

// scopeFunc names the scope a request acts on ("" when the action has no
// target, or the handler filters by the user's scopes itself).
type scopeFunc func(r *http.Request) vigil.Scope

// mfaExempt routes stay reachable while a session must still enroll TOTP.
var mfaExempt = map[string]bool{"GET /mfa": true, "POST /mfa": true, "POST /logout": true}

// handle registers pattern for action. Nothing reaches h unless the matrix
// allows the action for the session's user in the target scope.
func (s *Server) handle(pattern string, action access.Action, target scopeFunc, h handlerFunc) {
	if _, ok := access.Matrix[action]; !ok {
		panic("http: route " + pattern + " names action " + string(action) + " which is not in the permission matrix")
	}
	s.routes = append(s.routes, Route{Pattern: pattern, Action: action})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		rq := &request{action: action, route: pattern}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "route", pattern, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(sw, r, rq, &vigil.Error{Op: "http", Kind: vigil.Other})
				}
			}
			s.metrics.observe(pattern, sw.status, time.Since(start))
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "route", pattern, "status", sw.status,
				"ms", time.Since(start).Milliseconds(), "user", userName(rq))
		}()
		setSecurityHeaders(sw)
		r.Body = http.MaxBytesReader(sw, r.Body, 8<<20)
		if rule := access.Matrix[action]; s.cfg.ReadOnly != "" && (rule.Write || unsafeMethod(r.Method) && !rule.Public) {
			s.writeError(sw, r, rq, &vigil.Error{Op: "http", Kind: vigil.Permission, Message: s.cfg.ReadOnly})
			return
		}
		if err := s.admit(sw, r, rq, action, target); err != nil {
			s.writeError(sw, r, rq, err)
			return
		}
		if rq.decision.Allowed || access.Matrix[action].Public {
			if err := h(sw, r, rq); err != nil {
				s.writeError(sw, r, rq, err)
			}
		}
	})
}

// admit loads the session, checks CSRF and authorizes. A nil error with
// rq.decision.Allowed false means admit already answered (a redirect).
func (s *Server) admit(w http.ResponseWriter, r *http.Request, rq *request, action access.Action, target scopeFunc) error {
	ctx := r.Context()
	if c, err := r.Cookie(sessionCookie); err == nil {
		sess, err := s.sessions.get(ctx, c.Value)
		if err != nil {
			return err
		}
		if sess != nil {
			rec, err := s.node.DB.UserRecord(ctx, sess.User)
			if err == nil && !rec.Disabled {
				rq.sess, rq.user = sess, &rec
			}
		}
	}
	if unsafeMethod(r.Method) {
		if err := s.checkCSRF(r, rq); err != nil {
			s.deny(ctx, r, rq, "missing or wrong CSRF token")
			return err
		}
	}
	rule := access.Matrix[action]
	if rule.Public {
		rq.decision = access.Decision{Allowed: true}
		return nil
	}
	if rq.user == nil {
		if isAPI(r) {
			return vigil.Errorf(vigil.Unauthenticated, "http", "sign in first (POST /api/v1/session)")
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	if rq.sess.MFAEnroll && !mfaExempt[rq.route] {
		if isAPI(r) {
			return vigil.Errorf(vigil.Unauthenticated, "http", "your role requires two-factor authentication: enroll at /mfa first")
		}
		http.Redirect(w, r, "/mfa", http.StatusSeeOther)
		return nil
	}
	var scope vigil.Scope
	if target != nil {
		scope = target(r)
	}
	rq.decision = access.Authorize(rq.user.Grants, action, scope, s.node.Now())
	if !rq.decision.Allowed {
		s.deny(ctx, r, rq, rq.decision.Reason)
		return &vigil.Error{Op: "http", Kind: vigil.Permission, Message: "you may not do this: " + rq.decision.Reason}
	}
	return nil
}

// deny records a refusal in the log.
func (s *Server) deny(ctx context.Context, r *http.Request, rq *request, reason string) {
	s.metrics.denials.Inc()
	if s.cfg.ReadOnly != "" {
		// A read-only mirror has no log to record it in.
		s.log.Warn("access denied", "user", userName(rq), "action", rq.action, "route", r.Method+" "+r.URL.Path, "reason", reason)
		return
	}
	ev, err := vigil.NewEvent(s.actor(rq), vigil.EventAccessDenied, userName(rq), s.node.Now(),
		vigil.Denial{Action: string(rq.action), Route: r.Method + " " + r.URL.Path, Reason: reason, Addr: clientAddr(r)})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.node.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		s.log.Error("could not record a denial", "err", err)
	}
}

const csrfCookie = "vigil_csrf"

// checkCSRF: signed-in requests carry the session's token (form field
// "csrf" or header X-CSRF-Token); signed-out forms (login) use a
// double-submit cookie.
func (s *Server) checkCSRF(r *http.Request, rq *request) error {
	token := r.Header.Get("X-CSRF-Token")
	if token == "" {
		token = r.PostFormValue("csrf")
	}
	if rq.sess != nil {
		if rq.sess.csrfOK(token) {
			return nil
		}
	} else if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 && c.Value == token {
		return nil
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// Without a session there is nothing to ride on; and a browser
		// cannot send a cross-site JSON body without a CORS preflight,
		// which vigil never grants.
		return nil
	}
	return &vigil.Error{Op: "http", Kind: vigil.Permission, Field: "csrf",
		Message: "the form's security token is missing or stale; reload the page and try again"}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func userName(rq *request) string {
	if rq.user != nil {
		return rq.user.Name
	}
	return "anonymous"
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// kindStatus maps error kinds to HTTP statuses; anything else is a 500.
var kindStatus = map[vigil.Kind]int{
	vigil.Invalid:         http.StatusBadRequest,
	vigil.NotFound:        http.StatusNotFound,
	vigil.Conflict:        http.StatusConflict,
	vigil.Permission:      http.StatusForbidden,
	vigil.Unauthenticated: http.StatusUnauthorized,
	vigil.Unavailable:     http.StatusServiceUnavailable,
	vigil.TooMany:         http.StatusTooManyRequests,
}

// statusOf maps an error kind to an HTTP status.
func statusOf(k vigil.Kind) int {
	if s, ok := kindStatus[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError answers with the error: JSON under /api/, a page elsewhere.
// Internal errors are logged and shown without details.
// A signed-in user's error page keeps the menu and the sign-out button.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	kind := vigil.ErrorKind(err)
	status := statusOf(kind)
	if kind == vigil.Other || kind == vigil.Integrity {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	msg := vigil.ErrorMessage(err)
	if isAPI(r) || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		body := map[string]any{"kind": kind.String(), "message": msg}
		if f := vigil.ErrorField(err); f != "" {
			body["field"] = f
		}
		json.NewEncoder(w).Encode(map[string]any{"error": body})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if rq != nil && rq.sess == nil {
		rq = nil
	}
	s.renderPage(w, r, rq, "error.html", map[string]any{"Status": status, "Title": http.StatusText(status), "Message": msg})
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data
// are errors naming what was wrong.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var field string
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			field = te.Field
			return vigil.FieldError("http.decode", field, "has the wrong type (want %s)", te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return vigil.FieldError("http.decode", field, "is not a known field")
		}
		return vigil.FieldError("http.decode", "body", "is not valid JSON: %v", err)
	}
	if dec.More() {
		return vigil.FieldError("http.decode", "body", "has data after the JSON object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
