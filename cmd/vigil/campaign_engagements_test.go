package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

func TestCampaignEngagementsFromTheShell(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if out, err := run(t, "init", "--data", dir, "--name", "cli-test"); err != nil {
		t.Fatal(err, out)
	}
	// A campaign engages an approved firm, through the desk service.
	var engagement string
	func() {
		ctx := context.Background()
		n, err := node.Open(ctx, node.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		d := sqlite.NewDesk(n.DB, n, n.Keys, n.Now)
		staff := vigil.Actor{Name: "staff", Role: vigil.RoleCampaignStaff, Scope: "campaign/CA", Origin: n.Origin()}
		officer := vigil.Actor{Name: "officer", Role: vigil.RoleSecurityOfficer, Scope: vigil.ScopeState, Origin: n.Origin()}
		c := vigil.Campaign{ID: "CA", Organisation: "Adams for Senate", Candidate: "Ann", Race: "Senate",
			Contacts: []vigil.CampaignContact{{Name: "Ada", Email: "ada@example.org"}}}
		if _, err := d.SaveCampaign(ctx, staff, c); err != nil {
			t.Fatal(err)
		}
		f := vigil.Firm{ID: "FX", Name: "Xsec", Contact: vigil.CampaignContact{Name: "L", Email: "l@x.example"},
			Specialties: []vigil.HelpArea{vigil.AreaEmail}, Capacity: 1, Attested: true}
		if err := d.ApplyFirm(ctx, vigil.Actor{Name: "firm", Role: vigil.RoleSecurityFirm, Scope: "firm/FX", Origin: n.Origin()}, f); err != nil {
			t.Fatal(err)
		}
		if err := d.VetFirm(ctx, officer, "FX", vigil.FirmApproved, ""); err != nil {
			t.Fatal(err)
		}
		if engagement, err = d.Engage(ctx, staff, c, sqlite.EngageRequest{Firm: "FX", Days: 10, Consent: true}); err != nil {
			t.Fatal(err)
		}
	}()

	t.Run("engagements are listed with their state", func(t *testing.T) {
		out, err := run(t, "campaign", "engagements", "--data", dir)
		if err != nil {
			t.Fatal(err, out)
		}
		if !strings.Contains(out, engagement) || !strings.Contains(out, "CA") || !strings.Contains(out, "active") {
			t.Fatalf("output:\n%s", out)
		}
	})
	t.Run("the operator revokes an engagement at once", func(t *testing.T) {
		out, err := run(t, "campaign", "revoke", engagement, "--reason", "firm account compromised", "--data", dir)
		if err != nil || !strings.Contains(out, "firm FX no longer sees campaign CA") {
			t.Fatal(err, out)
		}
		out, _ = run(t, "campaign", "engagements", "--data", dir)
		if !strings.Contains(out, "revoked ") || strings.Contains(out, "active") {
			t.Fatalf("output:\n%s", out)
		}
		if _, err := run(t, "campaign", "revoke", engagement, "--data", dir); exitCode(err) != 4 {
			t.Fatalf("revoking twice: %v (exit %d), want a conflict", err, exitCode(err))
		}
		if _, err := run(t, "campaign", "revoke", "Enone", "--data", dir); exitCode(err) != 3 {
			t.Fatalf("an unknown engagement: %v (exit %d), want not found", err, exitCode(err))
		}
	})
}
