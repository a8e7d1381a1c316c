package vigil_test

import (
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

func TestCampaignDeskValidation(t *testing.T) {
	contact := vigil.CampaignContact{Name: "Ada", Email: "ada@example.org"}
	good := vigil.Campaign{ID: "C1", Organisation: "Adams for Senate", Candidate: "Ann Adams", Race: "Senate", Contacts: []vigil.CampaignContact{contact}}
	firm := vigil.Firm{ID: "F1", Name: "Xsec", Contact: contact, Specialties: []vigil.HelpArea{vigil.AreaEmail}, Capacity: 2, Attested: true}
	tests := []struct {
		name   string
		err    error
		fields []string // every field named, in order of the form
	}{
		{"a complete campaign is valid", good.Validate(), nil},
		{"a campaign names every missing field", vigil.Campaign{ID: "bad id"}.Validate(), []string{"id", "organisation", "candidate", "race", "contacts"}},
		{"a contact's email and phone are checked", func() error {
			c := good
			c.Contacts = []vigil.CampaignContact{{Name: "A", Email: "a@", Phone: "call me"}}
			return c.Validate()
		}(), []string{"contacts.0.email", "contacts.0.phone"}},
		{"a domain must be a domain", func() error { c := good; c.Domain = "http://x"; return c.Validate() }(), []string{"domain"}},
		{"a complete firm is valid", firm.Validate(), nil},
		{"a firm must attest, offer known areas and have capacity", func() error {
			f := firm
			f.Attested, f.Specialties, f.Capacity = false, []vigil.HelpArea{"magic"}, 0
			return f.Validate()
		}(), []string{"specialties", "capacity", "attested"}},
		{"a help request needs areas and an urgency", vigil.HelpRequest{Urgency: "whenever"}.Validate(), []string{"areas", "urgency"}},
		{"an incident needs a known kind and a summary", vigil.Incident{Kind: "ufo", Occurred: "30/10/2026"}.Validate(), []string{"kind", "summary", "occurred"}},
		{"an incident of each kind is valid", func() error {
			for _, k := range vigil.IncidentKinds {
				if err := (vigil.Incident{Kind: k, Summary: "s"}).Validate(); err != nil {
					return err
				}
			}
			return nil
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fields == nil {
				if tt.err != nil {
					t.Fatal(tt.err)
				}
				return
			}
			if vigil.ErrorKind(tt.err) != vigil.Invalid || vigil.ErrorField(tt.err) != tt.fields[0] {
				t.Fatalf("error %v, want Invalid on %s", tt.err, tt.fields[0])
			}
			got := vigil.FieldErrors(tt.err)
			for _, f := range tt.fields {
				if got[f] == "" {
					t.Errorf("no message for %s in %v", f, got)
				}
			}
			if len(got) != len(tt.fields) {
				t.Errorf("messages for %v, want %v", got, tt.fields)
			}
		})
	}
	t.Run("a message never echoes a long input whole", func(t *testing.T) {
		err := vigil.HelpRequest{Areas: []vigil.HelpArea{vigil.HelpArea(strings.Repeat("x", 500))}, Urgency: "low"}.Validate()
		if len(vigil.ErrorMessage(err)) > 300 {
			t.Fatalf("message of %d bytes", len(vigil.ErrorMessage(err)))
		}
	})
}
