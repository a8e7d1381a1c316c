package http

import (
	"net/http"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

func (s *Server) registerHome() {
	s.handle("GET /{$}", access.ActionHomeView, nil, s.home)
	s.handle("GET /static/", access.ActionPublic, nil, s.static)
	s.handle("/", access.ActionPublic, nil, s.notFound)
}

// menu is every page a role may be offered, with the action that opens it.
var menu = []struct {
	action      access.Action
	href, label string
}{
	{access.ActionPollbookCheckIn, "/pollbook", "Check in"},
	{access.ActionVoterLookup, "/voters", "Find a voter"},
	{access.ActionVoterRead, "/voters/roll", "Voter roll"},
	{access.ActionTurnoutRead, "/pollbook/turnout", "Turnout"},
	{access.ActionCampaignRead, "/campaigns", "Campaign security"},
	{access.ActionIncidentRead, "/incidents", "Incidents"},
	{access.ActionFirmRead, "/firms", "Security firms"},
	{access.ActionAlertRead, "/alerts", "Alerts"},
	{access.ActionEquipmentRead, "/equipment", "Equipment"},
	{access.ActionDeviceRead, "/devices", "Pollbook devices"},
	{access.ActionPaperPrint, "/paper", "Paper backups"},
	{access.ActionUserRead, "/admin/users", "Users and roles"},
	{access.ActionLogRead, "/log", "Event log"},
	{access.ActionTabulationRead, "/tabulation", "Tabulation"},
	{access.ActionTabulationRead, "/tabulation/reconciliation", "Reconciliation (live)"},
	{access.ActionResultsRead, "/results", "Results"},
	{access.ActionAuditRead, "/audits", "Audits"},
}

// navFor lists the pages the user's roles can open now.
func (s *Server) navFor(rq *request) []navItem {
	nav := []navItem{{"/", "Home"}}
	for _, m := range menu {
		for _, g := range rq.user.Grants {
			if access.Allows(g.Role, m.action) && g.Active(s.node.Now()) {
				nav = append(nav, navItem{m.href, m.label})
				break
			}
		}
	}
	return append(nav, navItem{"/mfa", "Two-factor"})
}

type roleCard struct {
	Role   vigil.Role
	Scope  vigil.Scope
	Active bool
	Tasks  []string
}

// roleTasks says, per role, what the home page offers.
var roleTasks = map[vigil.Role][]string{
	vigil.RoleStateAdmin:       {"Manage users and roles across the state", "Read the event log and its checkpoints"},
	vigil.RoleCountyAdmin:      {"Manage users and roles in your county", "Read the event log"},
	vigil.RoleRegistrar:        {"Find and maintain voter records in your county"},
	vigil.RolePollWorker:       {"Find a voter and check them in at your polling place (election days only)"},
	vigil.RolePollSupervisor:   {"Undo a mistaken check-in; switch to paper; enter paper check-ins"},
	vigil.RoleTabulator:        {"Load cast vote records and ballot manifests; publish results"},
	vigil.RoleAuditAdmin:       {"Run risk-limiting audits: seed ceremony, draw, rounds"},
	vigil.RoleAuditBoard:       {"Enter interpretations of the ballots on your retrieval list"},
	vigil.RoleObserver:         {"Watch audits and verify the public log"},
	vigil.RoleEquipmentManager: {"Keep the voting-technology inventory and replacement plan"},
	vigil.RoleCampaignStaff:    {"Assess your campaign's security; ask for help; report incidents"},
	vigil.RoleSecurityFirm:     {"Support the campaigns that engaged you"},
	vigil.RoleSecurityOfficer:  {"Watch alerts and log verification; vet security firms"},
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, rq *request) error {
	var cards []roleCard
	for _, g := range rq.user.Grants {
		cards = append(cards, roleCard{Role: g.Role, Scope: g.Scope, Active: g.Active(s.node.Now()), Tasks: roleTasks[g.Role]})
	}
	size, root := s.node.Tree.Root()
	s.renderPage(w, r, rq, "home.html", map[string]any{"Title": "Home", "Cards": cards,
		"LogSize": size, "Root": hashString(root), "Applied": s.node.Applied()})
	return nil
}

func (s *Server) static(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/static/", http.FileServerFS(mustSub(staticFS, "html/static"))).ServeHTTP(w, r)
	return nil
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, rq *request) error {
	return vigil.Errorf(vigil.NotFound, "http", "there is no page at %s", r.URL.Path)
}
