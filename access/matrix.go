// Package access decides who may do what: the permission matrix (role ×
// action with scope and time-window rules), passwords (argon2id), TOTP, and
// login throttling.
//
// Default deny: an action not in the matrix, a role not listed for it, a
// target outside every grant's scope or a grant outside its time window is
// refused. Every route and CLI command names the action it performs; tests
// fail if one does not appear here.
package access

import (
	"sort"
	"time"

	"github.com/vigil-elections/vigil"
)

// Action is one thing a user can ask vigil to do.
type Action string

// Actions. Append-only: names appear in logged denials.
const (
	ActionPublic        Action = "public"         // no session needed: login page, health, static files
	ActionHomeView      Action = "home.view"      // a home page, for any signed-in user
	ActionAccountManage Action = "account.manage" // own password and MFA
	ActionUserRead      Action = "user.read"
	ActionUserManage    Action = "user.manage" // create, disable, grant and revoke roles
	ActionLogRead       Action = "log.read"    // event metadata, checkpoints, proofs
	ActionLogVerify     Action = "log.verify"  // run verification of log and projections
	ActionCheckpointGet Action = "checkpoint.read"
	ActionVoterRead     Action = "voter.read"   // full record
	ActionVoterLookup   Action = "voter.lookup" // check-in view: name, address, birth year, status
	ActionVoterWrite    Action = "voter.write"  // register, change
	ActionVoterExport   Action = "voter.export" // bulk export of the roll
	ActionVoterImport   Action = "voter.import" // bulk import of a state file
	ActionJurisdiction  Action = "jurisdiction.manage"
	ActionBench         Action = "bench.run" // CLI only: write synthetic load to a node
	ActionNodeAdmin     Action = "node.admin"
	ActionFileCompute   Action = "file.compute" // CLI math on the caller's own files (audit sample sizes)
)

// Rule grants an action to a role. Scoped rules are checked against the
// grant's scope; unscoped rules (the action has no target) need only the
// role. Write marks actions that change data: roles that hold one outside a
// polling place need MFA.
type Rule struct {
	Roles  []vigil.Role
	Scoped bool
	Write  bool
	Public bool
}

var (
	admins     = []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin}
	everyone   = append([]vigil.Role(nil), vigil.HumanRoles...)
	logReaders = []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleSecurityOfficer,
		vigil.RoleObserver, vigil.RoleAuditAdmin}
)

// Matrix is the permission matrix. It is data: read it to audit vigil's
// access policy.
var Matrix = map[Action]Rule{
	ActionPublic:        {Public: true},
	ActionHomeView:      {Roles: everyone},
	ActionAccountManage: {Roles: everyone},
	ActionUserRead:      {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}, Scoped: true},
	ActionUserManage:    {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionLogRead:       {Roles: append(logReaders, vigil.RoleOperator)},
	ActionLogVerify:     {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}},
	ActionCheckpointGet: {Public: true},
	ActionVoterRead:     {Roles: append(admins, vigil.RoleRegistrar), Scoped: true},
	ActionVoterLookup:   {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor, vigil.RoleRegistrar, vigil.RoleCountyAdmin, vigil.RoleStateAdmin}, Scoped: true},
	ActionVoterWrite:    {Roles: []vigil.Role{vigil.RoleRegistrar}, Scoped: true, Write: true},
	ActionVoterExport:   {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true},
	ActionVoterImport:   {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionJurisdiction:  {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleOperator}, Write: true},
	ActionBench:         {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionNodeAdmin:     {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionFileCompute:   {Public: true},
}

// Actions lists the matrix's actions, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(Matrix))
	for a := range Matrix {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Allows reports whether role may perform action at all (ignoring scope).
func Allows(role vigil.Role, action Action) bool {
	r, ok := Matrix[action]
	if !ok {
		return false
	}
	if r.Public {
		return true
	}
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}

// Decision is the outcome of Authorize: the grant that allowed the action,
// or why it was refused.
type Decision struct {
	Allowed bool
	Grant   vigil.Grant // the grant used
	Reason  string      // why not, in plain words
}

// Authorize decides whether a user holding grants may perform action on
// target (a scope; "" for actions without a target) at time now.
func Authorize(grants []vigil.Grant, action Action, target vigil.Scope, now time.Time) Decision {
	rule, ok := Matrix[action]
	if !ok {
		return Decision{Reason: "action " + string(action) + " is not in the permission matrix"}
	}
	if rule.Public {
		return Decision{Allowed: true}
	}
	reason := "no role of yours may " + string(action)
	for _, g := range grants {
		if !Allows(g.Role, action) {
			continue
		}
		if rule.Scoped && target != "" && !g.Scope.Contains(target) {
			reason = "your " + string(g.Role) + " role covers " + string(g.Scope) + ", not " + string(target)
			continue
		}
		if !g.Active(now) {
			reason = "your " + string(g.Role) + " role is not active now (it is limited to the voting period)"
			continue
		}
		return Decision{Allowed: true, Grant: g}
	}
	return Decision{Reason: reason}
}

// NeedsMFA reports whether a user with these grants must use TOTP: anyone
// whose roles can change data outside a polling place.
func NeedsMFA(grants []vigil.Grant) bool {
	for _, g := range grants {
		if g.Scope.Kind() == "place" {
			continue
		}
		for a, r := range Matrix {
			if r.Write && Allows(g.Role, a) && !r.Public {
				return true
			}
		}
	}
	return false
}
