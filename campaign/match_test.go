package campaign_test

import (
	"slices"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

func TestMatch(t *testing.T) {
	c := vigil.Campaign{ID: "C7", Organisation: "Adams for Senate", Candidate: "Ann Adams", Party: "Blue", Domain: "adams.org"}
	firm := func(id string, areas []vigil.HelpArea, capacity int, conflicts ...string) vigil.Firm {
		return vigil.Firm{ID: vigil.FirmID(id), Name: id, Specialties: areas, Capacity: capacity, Attested: true, Conflicts: conflicts}
	}
	email, web := vigil.AreaEmail, vigil.AreaWebsite
	req := vigil.HelpRequest{Areas: []vigil.HelpArea{email, web}, Urgency: vigil.UrgencyHigh}
	tests := []struct {
		name  string
		cands []campaign.Candidate
		want  []vigil.FirmID
	}{
		{"an approved firm with the specialty and capacity is proposed",
			[]campaign.Candidate{{Firm: firm("A", []vigil.HelpArea{email}, 1), Status: vigil.FirmApproved}}, []vigil.FirmID{"A"}},
		{"a firm not approved is never proposed", []campaign.Candidate{
			{Firm: firm("P", []vigil.HelpArea{email}, 1), Status: vigil.FirmPending},
			{Firm: firm("R", []vigil.HelpArea{email}, 1), Status: vigil.FirmRejected},
			{Firm: firm("S", []vigil.HelpArea{email}, 1), Status: vigil.FirmSuspended}}, nil},
		{"a firm at capacity is not proposed",
			[]campaign.Candidate{{Firm: firm("A", []vigil.HelpArea{email}, 2), Status: vigil.FirmApproved, Active: 2}}, nil},
		{"a firm without any requested specialty is not proposed",
			[]campaign.Candidate{{Firm: firm("A", []vigil.HelpArea{vigil.AreaDevices}, 2), Status: vigil.FirmApproved}}, nil},
		{"a declared conflict with the organisation, candidate, party, domain or id excludes the firm", []campaign.Candidate{
			{Firm: firm("O", []vigil.HelpArea{email}, 1, " adams  FOR senate"), Status: vigil.FirmApproved},
			{Firm: firm("N", []vigil.HelpArea{email}, 1, "Ann Adams"), Status: vigil.FirmApproved},
			{Firm: firm("Y", []vigil.HelpArea{email}, 1, "blue"), Status: vigil.FirmApproved},
			{Firm: firm("D", []vigil.HelpArea{email}, 1, "ADAMS.org"), Status: vigil.FirmApproved},
			{Firm: firm("I", []vigil.HelpArea{email}, 1, "c7"), Status: vigil.FirmApproved},
			{Firm: firm("U", []vigil.HelpArea{email}, 1, "Baker for Mayor"), Status: vigil.FirmApproved}}, []vigil.FirmID{"U"}},
		{"firms covering more of the request come first, then those with more room", []campaign.Candidate{
			{Firm: firm("B", []vigil.HelpArea{email}, 9), Status: vigil.FirmApproved},
			{Firm: firm("A", []vigil.HelpArea{email}, 2), Status: vigil.FirmApproved},
			{Firm: firm("C", []vigil.HelpArea{web, email}, 1), Status: vigil.FirmApproved}}, []vigil.FirmID{"C", "B", "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []vigil.FirmID
			for _, p := range campaign.Match(c, req, tt.cands) {
				got = append(got, p.Firm)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("proposed %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a proposal says what the firm covers and misses", func(t *testing.T) {
		ps := campaign.Match(c, req, []campaign.Candidate{{Firm: firm("A", []vigil.HelpArea{web}, 3), Status: vigil.FirmApproved, Active: 1}})
		if len(ps) != 1 || !slices.Equal(ps[0].Covers, []vigil.HelpArea{web}) || !slices.Equal(ps[0].Missing, []vigil.HelpArea{email}) || ps[0].Free != 2 {
			t.Fatalf("%+v", ps)
		}
	})
}
