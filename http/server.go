// Package http serves vigil's web pages and JSON API (under /api/v1).
//
// Every route is registered with the permission-matrix action it performs
// (see package access); the registration wraps the handler in session
// loading, authorization, CSRF checking, panic recovery and request
// logging, so no handler can forget them. Denials are events in the log.
package http

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

//go:embed html/templates/*.html
var templateFS embed.FS

//go:embed html/static
var staticFS embed.FS

// Config configures a Server.
type Config struct {
	Node   *node.Node
	Logger *slog.Logger
	// Demo shows the demo banner and switches MFA off. Never in production.
	Demo bool
	// SecureCookies forces the Secure attribute; it is always set when the
	// request came over TLS or not from loopback.
	SecureCookies bool
	// ReadOnly, when set, refuses every write (actions marked Write, and
	// any other unsafe method except signing in and out) with this
	// message: a remote mirror serves pages and API but holds no log of its
	// own (docs/decisions/0009-mirror.md).
	ReadOnly string
}

// Server is the HTTP front end of one node.
type Server struct {
	cfg      Config
	node     *node.Node
	users    *access.Users
	sessions *sessionStore
	log      *slog.Logger
	mux      *http.ServeMux
	tmpl     map[string]*template.Template
	routes   []Route
	metrics  *metrics
	srv      *http.Server
	ln       net.Listener
	ready    func() bool
	devices  *sqlite.Devices // see deviceService
}

// Route is one registered route and the action it performs.
type Route struct {
	Pattern string
	Action  access.Action
}

// New builds a server on an open node.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := cfg.Node
	kv, err := n.JS.KeyValue(ctx, "SESSIONS")
	if err != nil {
		return nil, vigil.Wrap("http.new", vigil.Unavailable, err)
	}
	s := &Server{cfg: cfg, node: n, log: cfg.Logger, mux: http.NewServeMux(),
		sessions: &sessionStore{kv: kv, now: n.Now}}
	s.users = access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now)
	s.users.NoMFA = cfg.Demo
	s.metrics = newMetrics(n)
	if s.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.ready = func() bool { return n.Err() == nil }
	s.registerRoutes()
	return s, nil
}

// Users exposes the account service (the demo seeds accounts through it).
func (s *Server) Users() *access.Users { return s.users }

// Routes lists every registered route with its action, sorted.
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// Handle registers a route for a capability outside this package: the
// handler runs only after session, CSRF and matrix checks for action, and
// its errors and panics are answered like every other route's.
func (s *Server) Handle(pattern string, action access.Action, h func(w http.ResponseWriter, r *http.Request) error) {
	s.handle(pattern, action, nil, func(w http.ResponseWriter, r *http.Request, rq *request) error { return h(w, r) })
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve listens on addr and serves until ctx ends.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, vigil.Errorf(vigil.Unavailable, "http.listen", "cannot listen on %s: %v", addr, err)
	}
	s.ln = ln
	return ln, nil
}

// Serve serves on the listener from Listen until ctx is done.
func (s *Server) Serve(ctx context.Context, certFile, keyFile string) error {
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		// Requests in flight get 5 s to finish; live streams (SSE) never
		// go idle, so whatever is left then is closed.
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(shut); err != nil {
			s.srv.Close()
		}
	}()
	var err error
	if certFile != "" {
		err = s.srv.ServeTLS(s.ln, certFile, keyFile)
	} else {
		err = s.srv.Serve(s.ln)
	}
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"roleName": roleName,
		"logTime": func(s string) string {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return s
			}
			return t.Local().Format("2006-01-02 15:04:05")
		},
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("2006-01-02 15:04")
		},
	}
	pages, err := fs.Glob(templateFS, "html/templates/*.html")
	if err != nil {
		return nil, err
	}
	// Files starting with "_" are partials shared by several pages.
	partials, err := fs.Glob(templateFS, "html/templates/_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := p[len("html/templates/"):]
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		files := append([]string{"html/templates/layout.html", p}, partials...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

func (s *Server) registerRoutes() {
	s.registerHealth()
	s.registerAuth()
	s.registerHome()
	s.registerUsers()
	s.registerLog()
	s.registerVoters()
	s.registerAlerts()
	s.registerCampaigns()
	s.registerVoterRoll()
	s.registerPollbook()
	s.registerSites()
	s.registerDevices()
	s.registerPaper()
	s.registerEquipment()
	s.registerResults()
	s.registerAudits()
}
