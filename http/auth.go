package http

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

func (s *Server) registerAuth() {
	s.handle("GET /login", access.ActionPublic, nil, s.loginPage)
	s.handle("POST /login", access.ActionPublic, nil, s.loginSubmit)
	s.handle("POST /logout", access.ActionPublic, nil, s.logout)
	s.handle("GET /mfa", access.ActionAccountManage, nil, s.mfaPage)
	s.handle("POST /mfa", access.ActionAccountManage, nil, s.mfaSubmit)
	s.handle("POST /api/v1/session", access.ActionPublic, nil, s.apiLogin)
	s.handle("DELETE /api/v1/session", access.ActionPublic, nil, s.logout)
	s.handle("GET /api/v1/me", access.ActionHomeView, nil, s.apiMe)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	token := randomToken()
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		token = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteStrictMode})
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: token})
	s.renderPage(w, r, nil, "login.html", map[string]any{"Title": "Sign in", "Next": safeNext(r.URL.Query().Get("next"))})
	return nil
}

// safeNext allows only local paths as a post-login redirect.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, rq *request) error {
	name := strings.TrimSpace(strings.ToLower(r.PostFormValue("username")))
	login, err := s.users.Authenticate(r.Context(), name, r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("code")), clientAddr(r))
	if err != nil {
		k := vigil.ErrorKind(err)
		if k != vigil.Unauthenticated && k != vigil.TooMany {
			return err
		}
		w.WriteHeader(statusOf(k))
		s.renderPage(w, r, nil, "login.html", map[string]any{"Title": "Sign in", "Error": vigil.ErrorMessage(err),
			"Username": name, "NeedCode": vigil.ErrorField(err) == "code", "Next": safeNext(r.PostFormValue("next"))})
		return nil
	}
	if err := s.startSession(w, r, login); err != nil {
		return err
	}
	if login.MFAEnrollRequired {
		http.Redirect(w, r, "/mfa", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, login access.Login) error {
	sess, err := s.sessions.create(r.Context(), login.User.Name, clientAddr(r), login.MFAEnrollRequired)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMaxAge.Seconds())})
	w.Header().Set("X-CSRF-Token", sess.CSRF)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.sess != nil {
		s.sessions.delete(r.Context(), rq.sess.id)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookie(r), SameSite: http.SameSiteStrictMode})
	if isAPI(r) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	secret, otpURL, err := access.NewTOTP("vigil", rq.user.Name)
	if err != nil {
		return vigil.Wrap("mfa", vigil.Other, err)
	}
	rq.sess.TOTPNew = secret
	if err := s.sessions.save(r.Context(), rq.sess); err != nil {
		return err
	}
	qr, _ := access.TOTPQR(otpURL)
	s.renderPage(w, r, rq, "mfa.html", map[string]any{"Title": "Two-factor authentication", "Secret": secret,
		"URL": otpURL, "QR": template.URL(qr), "Enrolled": rq.user.MFA, "Required": rq.sess.MFAEnroll})
	return nil
}

func (s *Server) mfaSubmit(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.sess.TOTPNew == "" {
		http.Redirect(w, r, "/mfa", http.StatusSeeOther)
		return nil
	}
	err := s.users.EnrollMFA(r.Context(), s.actor(rq), rq.user.Name, rq.sess.TOTPNew, strings.TrimSpace(r.PostFormValue("code")))
	if vigil.ErrorKind(err) == vigil.Invalid {
		w.WriteHeader(http.StatusBadRequest)
		s.renderPage(w, r, rq, "mfa.html", map[string]any{"Title": "Two-factor authentication", "Secret": rq.sess.TOTPNew,
			"URL":   "otpauth://totp/vigil:" + url.PathEscape(rq.user.Name) + "?secret=" + rq.sess.TOTPNew + "&issuer=vigil",
			"Error": vigil.ErrorMessage(err), "Required": rq.sess.MFAEnroll})
		return nil
	}
	if err != nil {
		return err
	}
	rq.sess.TOTPNew, rq.sess.MFAEnroll = "", false
	if err := s.sessions.save(r.Context(), rq.sess); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// apiLogin signs in a JSON client. The session cookie and the CSRF token
// (in the response and the X-CSRF-Token header) work as for pages.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Username == "" {
		return vigil.FieldError("session.create", "username", "is required")
	}
	login, err := s.users.Authenticate(r.Context(), strings.ToLower(req.Username), req.Password, req.Code, clientAddr(r))
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, login); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"user": login.User, "csrf": w.Header().Get("X-CSRF-Token"),
		"mfa_enroll_required": login.MFAEnrollRequired})
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, rq *request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"user": rq.user.User, "csrf": rq.sess.CSRF})
}
