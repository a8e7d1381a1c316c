package equipment

import (
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// With returns a copy of r with the jurisdiction's edits applied, in order:
// an expected life replaces the kind's (or the default) life, an OS date
// replaces the entry with the same name or adds one, a withdrawal is added
// or replaces the same system and version. A Remove edit undoes an earlier
// edit of the same rule; the base rule, if any, applies again. r itself is
// not changed.
func (r Rules) With(edits []vigil.LifecycleRule) Rules {
	out := r
	out.LifeYears = make(map[vigil.DeviceKind]int, len(r.LifeYears))
	for k, v := range r.LifeYears {
		out.LifeYears[k] = v
	}
	out.OSSupport = append([]OSSupport(nil), r.OSSupport...)
	out.Withdrawn = append([]WithdrawnCertification(nil), r.Withdrawn...)
	// Later edits of the same key win; a Remove only clears an edit, so
	// apply the surviving edit of each key.
	last := map[string]vigil.LifecycleRule{}
	var order []string
	for _, e := range edits {
		k := e.Key()
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = e
	}
	for _, k := range order {
		e := last[k]
		if e.Remove {
			continue
		}
		switch e.Rule {
		case vigil.RuleLife:
			if e.Kind == "" {
				out.DefaultLifeYears = e.Years
			} else {
				out.LifeYears[e.Kind] = e.Years
			}
		case vigil.RuleOSEnd:
			s := OSSupport{Name: strings.Join(strings.Fields(e.OS), " "), End: dateTime(e.Date)}
			replaced := false
			for i := range out.OSSupport {
				if strings.EqualFold(out.OSSupport[i].Name, s.Name) {
					out.OSSupport[i], replaced = s, true
				}
			}
			if !replaced {
				out.OSSupport = append(out.OSSupport, s)
			}
		case vigil.RuleWithdrawn:
			w := WithdrawnCertification{System: strings.TrimSpace(e.System), Version: strings.TrimSpace(e.Version),
				Date: dateTime(e.Date), Reason: e.Reason}
			replaced := false
			for i := range out.Withdrawn {
				if fold(out.Withdrawn[i].System) == fold(w.System) && fold(out.Withdrawn[i].Version) == fold(w.Version) {
					out.Withdrawn[i], replaced = w, true
				}
			}
			if !replaced {
				out.Withdrawn = append(out.Withdrawn, w)
			}
		}
	}
	return out
}

func dateTime(d vigil.Date) time.Time {
	if d.IsZero() || d.YearOnly() {
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// LifeOf returns the expected life of a kind under r.
func (r Rules) LifeOf(k vigil.DeviceKind) int { return r.lifeYears(k) }
