package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

func (s *Server) registerUsers() {
	s.handle("GET /admin/users", access.ActionUserRead, nil, s.usersPage)
	s.handle("POST /admin/users", access.ActionUserManage, nil, s.usersCreateForm)
	s.handle("POST /admin/grants", access.ActionUserManage, nil, s.grantForm)
	s.handle("POST /admin/users/{name}/revoke", access.ActionUserManage, nil, s.revokeForm)
	s.handle("POST /admin/users/{name}/disable", access.ActionUserManage, nil, s.disableForm)
	s.handle("GET /api/v1/users", access.ActionUserRead, nil, s.apiUsers)
	s.handle("POST /api/v1/users", access.ActionUserManage, nil, s.apiCreateUser)
	s.handle("POST /api/v1/users/{name}/grants", access.ActionUserManage, nil, s.apiGrant)
	s.handle("DELETE /api/v1/users/{name}/grants", access.ActionUserManage, nil, s.apiRevoke)
}

// authorizeTarget re-checks an action against the scope the request body
// names, choosing the grant that covers it; a refusal is logged.
func (s *Server) authorizeTarget(ctx context.Context, r *http.Request, rq *request, target vigil.Scope) error {
	d := access.Authorize(rq.user.Grants, rq.action, target, s.node.Now())
	if !d.Allowed {
		s.deny(ctx, r, rq, d.Reason)
		return &vigil.Error{Op: "http", Kind: vigil.Permission, Message: "you may not do this: " + d.Reason}
	}
	rq.decision = d
	return nil
}

// visibleUsers filters accounts to those the reader's scopes cover.
func (s *Server) visibleUsers(ctx context.Context, rq *request) ([]vigil.User, error) {
	all, err := s.node.DB.Users(ctx)
	if err != nil {
		return nil, err
	}
	var out []vigil.User
	for _, u := range all {
		if len(u.Grants) == 0 {
			out = append(out, u)
			continue
		}
		for _, g := range u.Grants {
			if access.Authorize(rq.user.Grants, access.ActionUserRead, g.Scope, s.node.Now()).Allowed {
				out = append(out, u)
				break
			}
		}
	}
	return out, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderUsers(w, r, rq, http.StatusOK, "", "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	users, err := s.visibleUsers(r.Context(), rq)
	if err != nil {
		return err
	}
	canManage := false
	for _, g := range rq.user.Grants {
		canManage = canManage || access.Allows(g.Role, access.ActionUserManage)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "users.html", map[string]any{"Title": "Users and roles", "Users": users,
		"Roles": vigil.HumanRoles, "CanManage": canManage, "Message": msg, "Error": errMsg})
	return nil
}

// formResult re-renders the page with the outcome of a form.
func (s *Server) formResult(w http.ResponseWriter, r *http.Request, rq *request, err error, ok string) error {
	if err != nil {
		k := vigil.ErrorKind(err)
		if k == vigil.Other || k == vigil.Unavailable || k == vigil.Integrity {
			return err
		}
		return s.renderUsers(w, r, rq, statusOf(k), "", vigil.ErrorMessage(err))
	}
	return s.renderUsers(w, r, rq, http.StatusOK, ok, "")
}

func (s *Server) usersCreateForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	name := strings.TrimSpace(strings.ToLower(r.PostFormValue("name")))
	err := s.users.Create(r.Context(), s.actor(rq), name, r.PostFormValue("display_name"), r.PostFormValue("password"))
	return s.formResult(w, r, rq, err, "Account "+name+" created. Give it a role below.")
}

func grantFromForm(r *http.Request) (vigil.Grant, error) {
	g := vigil.Grant{Role: vigil.Role(r.PostFormValue("role")), Scope: vigil.Scope(strings.TrimSpace(r.PostFormValue("scope")))}
	for field, dst := range map[string]*time.Time{"not_before": &g.NotBefore, "not_after": &g.NotAfter} {
		v := strings.TrimSpace(r.PostFormValue(field))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02T15:04", v, time.Local)
		if err != nil {
			return g, vigil.FieldError("role.grant", field, "must be a date and time like 2026-11-03T06:00")
		}
		*dst = t
	}
	return g, g.Validate()
}

func (s *Server) grantForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	g, err := grantFromForm(r)
	if err == nil {
		err = s.authorizeTarget(r.Context(), r, rq, g.Scope)
	}
	user := strings.TrimSpace(strings.ToLower(r.PostFormValue("user")))
	if err == nil {
		err = s.users.Grant(r.Context(), s.actor(rq), user, g)
	}
	return s.formResult(w, r, rq, err, "Granted "+roleName(g.Role)+" in "+string(g.Scope)+" to "+user+".")
}

func (s *Server) revokeForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	g := vigil.Grant{Role: vigil.Role(r.PostFormValue("role")), Scope: vigil.Scope(r.PostFormValue("scope"))}
	err := s.authorizeTarget(r.Context(), r, rq, g.Scope)
	if err == nil {
		err = s.users.Revoke(r.Context(), s.actor(rq), r.PathValue("name"), g)
	}
	return s.formResult(w, r, rq, err, "Revoked "+roleName(g.Role)+" in "+string(g.Scope)+" from "+r.PathValue("name")+".")
}

func (s *Server) disableForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	name := r.PathValue("name")
	rec, err := s.node.DB.UserRecord(r.Context(), name)
	if err != nil {
		return s.formResult(w, r, rq, err, "")
	}
	for _, g := range rec.Grants {
		if err := s.authorizeTarget(r.Context(), r, rq, g.Scope); err != nil {
			return s.formResult(w, r, rq, err, "")
		}
	}
	disable := r.PostFormValue("disabled") != "false"
	err = s.users.SetDisabled(r.Context(), s.actor(rq), name, disable)
	verb := "Disabled"
	if !disable {
		verb = "Enabled"
	}
	return s.formResult(w, r, rq, err, verb+" "+name+".")
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request, rq *request) error {
	users, err := s.visibleUsers(r.Context(), rq)
	if err != nil {
		return err
	}
	if users == nil {
		users = []vigil.User{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

type createUserRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req createUserRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.users.Create(r.Context(), s.actor(rq), req.Name, req.DisplayName, req.Password); err != nil {
		return err
	}
	rec, err := s.node.DB.UserRecord(r.Context(), req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"user": rec.User})
}

func (s *Server) apiGrant(w http.ResponseWriter, r *http.Request, rq *request) error {
	var g vigil.Grant
	if err := decodeJSON(r, &g); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	if err := s.authorizeTarget(r.Context(), r, rq, g.Scope); err != nil {
		return err
	}
	if err := s.users.Grant(r.Context(), s.actor(rq), r.PathValue("name"), g); err != nil {
		return err
	}
	rec, err := s.node.DB.UserRecord(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user": rec.User})
}

func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	var g vigil.Grant
	if err := decodeJSON(r, &g); err != nil {
		return err
	}
	if err := s.authorizeTarget(r.Context(), r, rq, g.Scope); err != nil {
		return err
	}
	if err := s.users.Revoke(r.Context(), s.actor(rq), r.PathValue("name"), g); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
