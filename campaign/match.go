package campaign

import (
	"sort"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Candidate is a firm as matching sees it: its application, its vetting
// status and how many engagements it has running now.
type Candidate struct {
	Firm   vigil.Firm
	Status vigil.FirmStatus
	Active int // engagements running now
}

// Proposal is a firm proposed for a help request.
type Proposal struct {
	Firm    vigil.FirmID     `json:"firm"`
	Name    string           `json:"name"`
	Covers  []vigil.HelpArea `json:"covers"`            // requested areas the firm offers
	Missing []vigil.HelpArea `json:"missing,omitempty"` // requested areas it does not
	Free    int              `json:"free"`              // engagements it can still take
}

// Match proposes firms for a campaign's help request. A firm is proposed
// only if it is approved, has free capacity, offers at least one of the
// requested areas, and declared no conflict with the campaign: a declared
// conflict matching (case and spacing ignored) the campaign's id,
// organisation, candidate, party or domain excludes it. Firms covering
// more of the request come first, then those with more free capacity,
// then by id.
func Match(c vigil.Campaign, req vigil.HelpRequest, firms []Candidate) []Proposal {
	var out []Proposal
	for _, cand := range firms {
		f := cand.Firm
		free := f.Capacity - cand.Active
		if cand.Status != vigil.FirmApproved || free <= 0 || Conflicted(f, c) {
			continue
		}
		p := Proposal{Firm: f.ID, Name: f.Name, Free: free}
		for _, a := range req.Areas {
			if offers(f, a) {
				p.Covers = append(p.Covers, a)
			} else {
				p.Missing = append(p.Missing, a)
			}
		}
		if len(p.Covers) == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Covers) != len(b.Covers) {
			return len(a.Covers) > len(b.Covers)
		}
		if a.Free != b.Free {
			return a.Free > b.Free
		}
		return a.Firm < b.Firm
	})
	return out
}

// Conflicted reports whether firm declared a conflict of interest with c.
func Conflicted(f vigil.Firm, c vigil.Campaign) bool {
	names := map[string]bool{}
	for _, n := range []string{string(c.ID), c.Organisation, c.Candidate, c.Party, c.Domain} {
		if n = normalName(n); n != "" {
			names[n] = true
		}
	}
	for _, d := range f.Conflicts {
		if names[normalName(d)] {
			return true
		}
	}
	return false
}

func offers(f vigil.Firm, a vigil.HelpArea) bool {
	for _, s := range f.Specialties {
		if s == a {
			return true
		}
	}
	return false
}

func normalName(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
