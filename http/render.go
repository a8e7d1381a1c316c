package http

import (
	"bytes"
	"net"
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
)

// page is the data every page template gets.
type page struct {
	Title string
	User  *vigil.User
	CSRF  string
	Demo  bool
	// ReadOnly is the server's read-only message (a remote mirror), shown
	// on every page.
	ReadOnly string
	// Site is a polling-place site's link to the hub, shown on every page.
	Site *siteBanner
	Nav  []navItem
	Data any
	Now  string
}

type navItem struct {
	Href, Label string
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, rq *request, name string, data any) {
	t, ok := s.tmpl[name]
	if !ok {
		http.Error(w, "template missing", http.StatusInternalServerError)
		return
	}
	p := page{Demo: s.cfg.Demo, ReadOnly: s.cfg.ReadOnly, Site: s.siteBanner(r), Data: data,
		Now: s.node.Now().Format("2006-01-02 15:04:05")}
	if m, ok := data.(map[string]any); ok {
		if t, ok := m["Title"].(string); ok {
			p.Title = t
		}
	}
	if rq != nil && rq.user != nil {
		p.User = &rq.user.User
		p.CSRF = rq.sess.CSRF
		p.Nav = s.navFor(rq)
	} else if c, err := r.Cookie(csrfCookie); err == nil {
		p.CSRF = c.Value
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		s.log.Error("template failed", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.Write(buf.Bytes())
}

// secureCookie: cookies are Secure except over plain HTTP on loopback
// (a demo or a test on the same machine), where browsers would drop them.
func (s *Server) secureCookie(r *http.Request) bool {
	if s.cfg.SecureCookies || r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ip := net.ParseIP(host)
	return !(host == "localhost" || (ip != nil && ip.IsLoopback()))
}

func roleName(r vigil.Role) string {
	return strings.ReplaceAll(string(r), "_", " ")
}
