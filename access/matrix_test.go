package access_test

import (
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	county := vigil.CountyScope("ADAMS")
	place := vigil.PlaceScope("ADAMS", "P01")
	worker := vigil.Grant{Role: vigil.RolePollWorker, Scope: place, NotBefore: now.Add(-6 * time.Hour), NotAfter: now.Add(8 * time.Hour)}
	tests := []struct {
		name   string
		grants []vigil.Grant
		action access.Action
		target vigil.Scope
		want   bool
	}{
		{"a registrar changes records in their own county", []vigil.Grant{{Role: vigil.RoleRegistrar, Scope: county}}, access.ActionVoterWrite, county + "/place/P02", true},
		{"a registrar cannot change records in another county", []vigil.Grant{{Role: vigil.RoleRegistrar, Scope: county}}, access.ActionVoterWrite, vigil.CountyScope("BAKER"), false},
		{"a poll worker looks voters up at their place during voting", []vigil.Grant{worker}, access.ActionVoterLookup, place, true},
		{"a poll worker cannot look voters up at another place", []vigil.Grant{worker}, access.ActionVoterLookup, vigil.PlaceScope("ADAMS", "P02"), false},
		{"a poll worker cannot read full voter records", []vigil.Grant{worker}, access.ActionVoterRead, place, false},
		{"a poll worker cannot manage users", []vigil.Grant{worker}, access.ActionUserManage, "", false},
		{"an admin cannot silently edit voter records", []vigil.Grant{{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState}}, access.ActionVoterWrite, county, false},
		{"a county admin manages users in the county", []vigil.Grant{{Role: vigil.RoleCountyAdmin, Scope: county}}, access.ActionUserManage, place, true},
		{"a county admin cannot manage state-wide users", []vigil.Grant{{Role: vigil.RoleCountyAdmin, Scope: county}}, access.ActionUserManage, vigil.ScopeState, false},
		{"anyone may read checkpoints", nil, access.ActionCheckpointGet, "", true},
		{"an unknown action is denied", []vigil.Grant{{Role: vigil.RoleStateAdmin, Scope: vigil.ScopeState}}, access.Action("launch.missiles"), "", false},
		{"a campaign cannot read the log", []vigil.Grant{{Role: vigil.RoleCampaignStaff, Scope: "campaign/C1"}}, access.ActionLogRead, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := access.Authorize(tt.grants, tt.action, tt.target, now)
			if d.Allowed != tt.want {
				t.Fatalf("allowed=%v, want %v (reason %q)", d.Allowed, tt.want, d.Reason)
			}
			if !d.Allowed && d.Reason == "" {
				t.Fatal("a denial must say why")
			}
		})
	}
	t.Run("a poll worker is refused outside the voting period", func(t *testing.T) {
		d := access.Authorize([]vigil.Grant{worker}, access.ActionVoterLookup, place, now.Add(9*time.Hour))
		if d.Allowed {
			t.Fatal("allowed after the voting period")
		}
		d = access.Authorize([]vigil.Grant{worker}, access.ActionVoterLookup, place, now.Add(-7*time.Hour))
		if d.Allowed {
			t.Fatal("allowed before the voting period")
		}
	})
}

func TestNeedsMFA(t *testing.T) {
	if !access.NeedsMFA([]vigil.Grant{{Role: vigil.RoleRegistrar, Scope: vigil.CountyScope("A")}}) {
		t.Fatal("a registrar changes data outside a polling place and needs MFA")
	}
	if access.NeedsMFA([]vigil.Grant{{Role: vigil.RolePollWorker, Scope: vigil.PlaceScope("A", "P1")}}) {
		t.Fatal("a poll worker at a polling place does not need MFA")
	}
	if access.NeedsMFA([]vigil.Grant{{Role: vigil.RoleObserver, Scope: vigil.ScopeState}}) {
		t.Fatal("an observer changes nothing")
	}
}

func TestMatrixRolesAreKnown(t *testing.T) {
	for a, r := range access.Matrix {
		if r.Public && len(r.Roles) > 0 {
			t.Errorf("%s is public and also lists roles", a)
		}
		for _, role := range r.Roles {
			if !role.Valid() && role != vigil.RoleOperator {
				t.Errorf("%s lists unknown role %q", a, role)
			}
		}
	}
}
