package equipment

import (
	"sort"
	"strconv"
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

// RuleLine is one lifecycle rule in force, as listed to people: the kind of
// rule, what it applies to, its value, and whether the jurisdiction edited
// it (Rule is then what removing the edit sends, with Remove set).
type RuleLine struct {
	Kind, Subject, Value string
	Edited               bool
	Rule                 vigil.LifecycleRule
}

// Lines lists r: the default life and each kind's, every OS by name, every
// withdrawn certification. edited holds the keys (LifecycleRule.Key) the
// jurisdiction changed.
func (r Rules) Lines(edited map[string]bool) []RuleLine {
	line := func(kind, subject, value string, rule vigil.LifecycleRule) RuleLine {
		rule.Remove = true
		return RuleLine{Kind: kind, Subject: subject, Value: value, Edited: edited[rule.Key()], Rule: rule}
	}
	out := []RuleLine{line(vigil.RuleLife, "default", strconv.Itoa(r.LifeOf("")), vigil.LifecycleRule{Rule: vigil.RuleLife})}
	for _, k := range vigil.DeviceKinds() {
		out = append(out, line(vigil.RuleLife, string(k), strconv.Itoa(r.LifeOf(k)), vigil.LifecycleRule{Rule: vigil.RuleLife, Kind: k}))
	}
	oss := append([]OSSupport(nil), r.OSSupport...)
	sort.SliceStable(oss, func(i, j int) bool { return oss[i].Name < oss[j].Name })
	for _, o := range oss {
		out = append(out, line(vigil.RuleOSEnd, o.Name, o.End.Format("2006-01-02"), vigil.LifecycleRule{Rule: vigil.RuleOSEnd, OS: o.Name}))
	}
	for _, w := range r.Withdrawn {
		subject, value := w.System, w.Date.Format("2006-01-02")
		if w.Version != "" {
			subject += "@" + w.Version
		}
		if w.Reason != "" {
			value += " (" + w.Reason + ")"
		}
		out = append(out, line(vigil.RuleWithdrawn, subject, value,
			vigil.LifecycleRule{Rule: vigil.RuleWithdrawn, System: w.System, Version: w.Version}))
	}
	return out
}
