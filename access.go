package vigil

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Role is a named set of permissions; the permission matrix (package access)
// says what each role may do.
type Role string

// The roles of DESIGN.md §1. The list is append-only.
const (
	RoleSystem           Role = "system"   // a node acting for itself (checkpoints, alerts)
	RoleOperator         Role = "operator" // whoever runs the CLI on the node's data directory
	RoleStateAdmin       Role = "state_admin"
	RoleCountyAdmin      Role = "county_admin"
	RoleRegistrar        Role = "registrar"
	RolePollWorker       Role = "poll_worker"
	RolePollSupervisor   Role = "poll_supervisor"
	RoleTabulator        Role = "tabulator"
	RoleAuditAdmin       Role = "audit_admin"
	RoleAuditBoard       Role = "audit_board"
	RoleObserver         Role = "observer"
	RoleEquipmentManager Role = "equipment_manager"
	RoleCampaignStaff    Role = "campaign_staff"
	RoleSecurityFirm     Role = "security_firm"
	RoleSecurityOfficer  Role = "security_officer"
	RoleAnonymous        Role = "anonymous" // no session: only public actions
)

// HumanRoles lists the roles that can be granted to a user account.
var HumanRoles = []Role{
	RoleStateAdmin, RoleCountyAdmin, RoleRegistrar, RolePollWorker, RolePollSupervisor,
	RoleTabulator, RoleAuditAdmin, RoleAuditBoard, RoleObserver, RoleEquipmentManager,
	RoleCampaignStaff, RoleSecurityFirm, RoleSecurityOfficer,
}

// Valid reports whether r is a role a user can hold.
func (r Role) Valid() bool {
	for _, h := range HumanRoles {
		if r == h {
			return true
		}
	}
	return false
}

// Scope is where a grant applies, as a path from the state down:
//
//	state
//	county/ADAMS
//	county/ADAMS/place/P01
//	campaign/C7
//	firm/F3
//
// A scope contains itself and every scope below it; "state" contains all.
type Scope string

const ScopeState Scope = "state"

var scopeSegment = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CountyScope and PlaceScope build scopes from ids.
func CountyScope(county string) Scope { return Scope("county/" + county) }
func PlaceScope(county, place string) Scope {
	return Scope("county/" + county + "/place/" + place)
}

// Validate checks the scope's shape.
func (s Scope) Validate() error {
	const op = "scope.validate"
	if s == ScopeState {
		return nil
	}
	parts := strings.Split(string(s), "/")
	if len(parts)%2 != 0 {
		return FieldError(op, "scope", "%q is not a scope (try state, county/ID, county/ID/place/ID, campaign/ID or firm/ID)", s)
	}
	for i := 0; i < len(parts); i += 2 {
		kind, id := parts[i], parts[i+1]
		ok := (i == 0 && (kind == "county" || kind == "campaign" || kind == "firm")) ||
			(i == 2 && kind == "place" && parts[0] == "county")
		if !ok || len(parts) > 4 {
			return FieldError(op, "scope", "%q is not a scope (try state, county/ID, county/ID/place/ID, campaign/ID or firm/ID)", s)
		}
		if !scopeSegment.MatchString(id) {
			return FieldError(op, "scope", "id %q must be 1-64 letters, digits, - or _", id)
		}
	}
	return nil
}

// Contains reports whether t is s or lies below s.
func (s Scope) Contains(t Scope) bool {
	if s == ScopeState {
		return true
	}
	return t == s || strings.HasPrefix(string(t), string(s)+"/")
}

// Kind returns the scope's level: state, county, place, campaign or firm.
func (s Scope) Kind() string {
	if s == ScopeState {
		return "state"
	}
	parts := strings.Split(string(s), "/")
	if len(parts) >= 4 {
		return parts[2]
	}
	return parts[0]
}

// County returns the county id of a county or place scope, or "".
func (s Scope) County() string {
	parts := strings.Split(string(s), "/")
	if len(parts) >= 2 && parts[0] == "county" {
		return parts[1]
	}
	return ""
}

// Grant gives a user one role in one scope, optionally only inside a time
// window (poll workers hold theirs for the election's voting period only).
type Grant struct {
	Role      Role      `json:"role"`
	Scope     Scope     `json:"scope"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
}

// Active reports whether the grant's window contains now.
func (g Grant) Active(now time.Time) bool {
	if !g.NotBefore.IsZero() && now.Before(g.NotBefore) {
		return false
	}
	if !g.NotAfter.IsZero() && !now.Before(g.NotAfter) {
		return false
	}
	return true
}

// Validate checks the grant.
func (g Grant) Validate() error {
	const op = "grant.validate"
	if !g.Role.Valid() {
		return FieldError(op, "role", "unknown role %q", g.Role)
	}
	if err := g.Scope.Validate(); err != nil {
		return err
	}
	if !g.NotBefore.IsZero() && !g.NotAfter.IsZero() && !g.NotAfter.After(g.NotBefore) {
		return FieldError(op, "not_after", "must be after not_before")
	}
	return nil
}

// User is an account. Secrets (password hash, TOTP seed) live in the access
// store, never in this struct's JSON.
type User struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Grants      []Grant   `json:"grants"`
	MFA         bool      `json:"mfa"`      // TOTP enrolled
	Disabled    bool      `json:"disabled"` // cannot log in
	Created     time.Time `json:"created"`
}

var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// ValidateUserName checks a login name.
func ValidateUserName(name string) error {
	if !userName.MatchString(name) {
		return FieldError("user.validate", "name", "must be 2-64 lower-case letters, digits, '.', '_' or '-'")
	}
	return nil
}

// Validate checks the user.
func (u User) Validate() error {
	if err := ValidateUserName(u.Name); err != nil {
		return err
	}
	for _, g := range u.Grants {
		if err := g.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// UserService manages accounts.
type UserService interface {
	// User returns one account. Errors: NotFound.
	User(ctx context.Context, name string) (User, error)
	// Users lists the accounts whose grants lie inside scope.
	Users(ctx context.Context, scope Scope) ([]User, error)
}
