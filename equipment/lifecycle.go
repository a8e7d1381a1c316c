package equipment

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Rules are the lifecycle rules a jurisdiction applies to its inventory.
// They are data: DefaultRules returns a starting point to edit.
type Rules struct {
	// DefaultLifeYears is the expected life of a device whose kind has no
	// entry in LifeYears; 0 means 10 years, the Brennan Center's estimate
	// ("between 10 and 20 years … probably closer to 10").
	DefaultLifeYears int
	LifeYears        map[vigil.DeviceKind]int
	// OSSupport lists operating-system end-of-support dates. A device's
	// OS ("Windows" + "10", or "Windows 10 Enterprise LTSC 2019") matches
	// the entry whose Name is the longest word-prefix of it, so a specific
	// LTSC entry overrides the general "Windows 10".
	OSSupport []OSSupport
	// Withdrawn lists federal certifications that were withdrawn or
	// revoked. A device whose own Certification.Status says decertified or
	// withdrawn is flagged too.
	Withdrawn []WithdrawnCertification
	// Models is the catalog of known models. A device whose manufacturer
	// and model are not in it is accepted but flagged. An empty catalog
	// turns the check off.
	Models []Model
}

// OSSupport is the end of vendor security updates for one operating system.
type OSSupport struct {
	Name string    // "Windows 7"
	End  time.Time // first day without security updates
}

// WithdrawnCertification names a certified system version that lost its
// certification.
type WithdrawnCertification struct {
	System  string
	Version string // empty: every version of System
	Date    time.Time
	Reason  string
}

// Model is one catalog entry.
type Model struct {
	Manufacturer string
	Model        string
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// DefaultRules returns a 10-year life for every kind, the end-of-support
// dates of the Windows releases found on election systems (from Microsoft's
// lifecycle pages; Windows 7's paid extended updates through 2023 are not
// counted), no withdrawn certifications (no decertification dataset was
// found), and a catalog of the models in Verified Voting's data and the
// model families of equipment.md.
func DefaultRules() Rules {
	return Rules{
		DefaultLifeYears: 10,
		LifeYears:        map[vigil.DeviceKind]int{},
		OSSupport: []OSSupport{
			{"Windows XP", date(2014, time.April, 8)},
			{"Windows 7", date(2020, time.January, 14)},
			{"Windows 8.1", date(2023, time.January, 10)},
			{"Windows 10", date(2025, time.October, 14)},
			{"Windows 10 Enterprise LTSB 2016", date(2026, time.October, 13)},
			{"Windows 10 Enterprise LTSC 2019", date(2029, time.January, 9)},
			{"Windows 10 Enterprise LTSC 2021", date(2027, time.January, 12)},
			{"Windows 10 IoT Enterprise LTSC 2021", date(2032, time.January, 13)},
			{"Windows Server 2008", date(2020, time.January, 14)},
			{"Windows Server 2008 R2", date(2020, time.January, 14)},
			{"Windows Server 2012", date(2023, time.October, 10)},
			{"Windows Server 2012 R2", date(2023, time.October, 10)},
		},
		Models: knownModels(),
	}
}

func knownModels() []Model {
	var out []Model
	for mfr, models := range map[string][]string{
		"ES&S":            {"DS200", "DS300", "DS450", "DS850", "DS950", "ExpressVote", "ExpressVote XL", "ExpressPoll", "AutoMARK", "Model 100", "Model 650", "iVotronic"},
		"Dominion":        {"ImageCast X", "ImageCast Precinct", "ImageCast Precinct 2", "ImageCast Central", "ImageCast Evolution", "Democracy Suite"},
		"Hart InterCivic": {"Verity Scan", "Verity Touch Writer", "Verity Central", "Verity Print", "Verity Vanguard", "eScan", "eSlate", "Ballot Now"},
		"Premier/Diebold": {"AccuVote OS", "AccuVote OSX", "AccuVote TS", "AccuVote TSX", "ExpressPoll"},
		"Unisyn":          {"OpenElect OVO", "OpenElect OVI", "OpenElect OVCS", "FreedomVote Scan", "FreedomVote Tablet"},
		"Clear Ballot":    {"ClearCast", "ClearAccess", "ClearCount"},
		"VotingWorks":     {"VxScan", "VxMark", "VxCentralScan", "VxAdmin"},
		"KNOWiNK":         {"Poll Pad"},
		"Votem":           {"CastIron"},
		"Tenex":           {"Precinct Central"},
	} {
		for _, m := range models {
			out = append(out, Model{mfr, m})
		}
	}
	return out
}

// lifeYears returns the expected life of a kind of device.
func (r Rules) lifeYears(k vigil.DeviceKind) int {
	if n, ok := r.LifeYears[k]; ok && n > 0 {
		return n
	}
	if r.DefaultLifeYears > 0 {
		return r.DefaultLifeYears
	}
	return 10
}

// EndOfLife returns the date a device reaches the end of its expected
// life, and false when its acquisition date is unknown.
func (r Rules) EndOfLife(d vigil.Device) (time.Time, bool) {
	if d.Acquired.IsZero() {
		return time.Time{}, false
	}
	return d.Acquired.AddDate(r.lifeYears(d.Kind), 0, 0), true
}

// osEnd finds the end-of-support entry for an OS label.
func (r Rules) osEnd(os string) (OSSupport, bool) {
	words := strings.Fields(strings.ToLower(os))
	var best OSSupport
	bestLen := 0
	for _, s := range r.OSSupport {
		name := strings.Fields(strings.ToLower(s.Name))
		if len(name) == 0 || len(name) > len(words) || len(name) <= bestLen {
			continue
		}
		match := true
		for i := range name {
			if name[i] != words[i] {
				match = false
				break
			}
		}
		if match {
			best, bestLen = s, len(name)
		}
	}
	return best, bestLen > 0
}

// ReasonCode says why a device was flagged. Codes are stable; the text may change.
type ReasonCode string

const (
	ReasonEndOfLife       ReasonCode = "end_of_life"
	ReasonOSUnsupported   ReasonCode = "os_end_of_support"
	ReasonCertWithdrawn   ReasonCode = "certification_withdrawn"
	ReasonAdvisory        ReasonCode = "advisory"
	ReasonUnknownModel    ReasonCode = "unknown_model"
	ReasonBelowMinimum    ReasonCode = "below_minimum_version"
	ReasonUnreadableInput ReasonCode = "unreadable_version"
)

// Reason is one reason a device is flagged.
type Reason struct {
	Code     ReasonCode
	Severity vigil.AdvisorySeverity
	Advisory string // the advisory id, for ReasonAdvisory
	Text     string // a sentence for people
}

func (r Reason) String() string { return r.Text }

// Flag is a device with every reason it needs attention.
type Flag struct {
	Device  vigil.Device
	Reasons []Reason
}

// Outdated evaluates every device that is not retired against the rules and
// the advisories, at time now, and returns one Flag per device that needs
// attention, in input order, with its reasons in a fixed order: end of
// life, operating system, certification, advisories (in input order),
// unknown model.
//
// Advisory checks fail closed: a device of the advisory's manufacturer and
// model whose relevant version is not recorded or cannot be read is flagged
// as possibly affected, and so is every such device when the advisory's own
// range cannot be read. With component "" an advisory is checked against
// the firmware and the software version; the device is clear when at least
// one of them is readable and none is in the range.
func Outdated(devices []vigil.Device, advisories []vigil.Advisory, rules Rules, now time.Time) []Flag {
	ranges := make([]rangeOrErr, len(advisories))
	for i, a := range advisories {
		ranges[i].r, ranges[i].err = advisoryRange(a)
	}
	catalog := map[string]bool{}
	for _, m := range rules.Models {
		catalog[fold(m.Manufacturer)+"\x00"+fold(m.Model)] = true
	}
	var flags []Flag
	for _, d := range devices {
		if d.Status == vigil.DeviceRetired {
			continue
		}
		var rs []Reason
		if end, ok := rules.EndOfLife(d); ok && !now.Before(end) {
			rs = append(rs, Reason{Code: ReasonEndOfLife, Severity: vigil.SeverityMedium,
				Text: fmt.Sprintf("reached the end of its %d-year expected life on %s", rules.lifeYears(d.Kind), end.Format("2006-01-02"))})
		}
		if r, ok := osReason(rules, d.OS, d.OSVersion, now); ok {
			rs = append(rs, r)
		}
		if r, ok := certReason(rules, d.Certification); ok {
			rs = append(rs, r)
		}
		for i, a := range advisories {
			if r, ok := advisoryReason(a, ranges[i], d); ok {
				rs = append(rs, r)
			}
		}
		if len(catalog) > 0 && !catalog[fold(d.Manufacturer)+"\x00"+fold(d.Model)] {
			rs = append(rs, Reason{Code: ReasonUnknownModel, Severity: vigil.SeverityLow,
				Text: fmt.Sprintf("model %q of %q is not in the catalog; check the spelling or add it", clip(d.Model), clip(d.Manufacturer))})
		}
		if len(rs) > 0 {
			flags = append(flags, Flag{Device: d, Reasons: rs})
		}
	}
	return flags
}

type rangeOrErr struct {
	r   Range
	err error
}

func osLabel(os, version string) string {
	return strings.TrimSpace(os + " " + version)
}

func osReason(rules Rules, os, version string, now time.Time) (Reason, bool) {
	label := osLabel(os, version)
	s, ok := rules.osEnd(label)
	if !ok || now.Before(s.End) {
		return Reason{}, false
	}
	return Reason{Code: ReasonOSUnsupported, Severity: vigil.SeverityHigh,
		Text: fmt.Sprintf("runs %s, which has had no security updates since %s", clip(label), s.End.Format("2006-01-02"))}, true
}

func certReason(rules Rules, c vigil.Certification) (Reason, bool) {
	if c.Status == vigil.CertificationDecertified || c.Status == vigil.CertificationWithdrawn {
		return Reason{Code: ReasonCertWithdrawn, Severity: vigil.SeverityHigh,
			Text: fmt.Sprintf("federal certification of %s is %s", clip(strings.TrimSpace(c.System+" "+c.Version)), c.Status)}, true
	}
	if c.System == "" {
		return Reason{}, false
	}
	cv, cerr := ParseVersion(c.Version)
	for _, w := range rules.Withdrawn {
		if fold(w.System) != fold(c.System) {
			continue
		}
		if w.Version != "" {
			wv, werr := ParseVersion(w.Version)
			if werr != nil || cerr != nil || wv.Compare(cv) != 0 {
				continue
			}
		}
		text := fmt.Sprintf("federal certification of %s was withdrawn", clip(strings.TrimSpace(c.System+" "+c.Version)))
		if !w.Date.IsZero() {
			text += " on " + w.Date.Format("2006-01-02")
		}
		if w.Reason != "" {
			text += " (" + clip(w.Reason) + ")"
		}
		return Reason{Code: ReasonCertWithdrawn, Severity: vigil.SeverityHigh, Text: text}, true
	}
	return Reason{}, false
}

func advisoryApplies(a vigil.Advisory, d vigil.Device) bool {
	if fold(a.Manufacturer) != fold(d.Manufacturer) {
		return false
	}
	return a.Model == "" || a.Model == "*" || fold(a.Model) == fold(d.Model)
}

func advisoryReason(a vigil.Advisory, r rangeOrErr, d vigil.Device) (Reason, bool) {
	if !advisoryApplies(a, d) {
		return Reason{}, false
	}
	reason := func(text string) (Reason, bool) {
		if a.Fixed != "" {
			text += "; fixed in " + clip(a.Fixed)
		}
		return Reason{Code: ReasonAdvisory, Severity: a.Severity, Advisory: a.ID,
			Text: fmt.Sprintf("advisory %s (%s): %s", clip(a.ID), a.Severity, text)}, true
	}
	if r.err != nil {
		return reason("its affected versions cannot be read, so check this device by hand")
	}
	type candidate struct{ name, value string }
	var cands []candidate
	switch a.Component {
	case vigil.ComponentFirmware:
		cands = []candidate{{"firmware", d.FirmwareVersion}}
	case vigil.ComponentSoftware:
		cands = []candidate{{"software", d.SoftwareVersion}}
	case vigil.ComponentOS:
		cands = []candidate{{"OS", d.OSVersion}}
	default:
		cands = []candidate{{"firmware", d.FirmwareVersion}, {"software", d.SoftwareVersion}}
	}
	var unknown []string
	readable := false
	for _, c := range cands {
		if c.value == "" {
			unknown = append(unknown, c.name+" version not recorded")
			continue
		}
		v, err := ParseVersion(c.value)
		if err != nil {
			unknown = append(unknown, fmt.Sprintf("%s version %q cannot be read", c.name, clip(c.value)))
			continue
		}
		readable = true
		if r.r.Contains(v) {
			return reason(fmt.Sprintf("%s version %s is affected (%s)", c.name, clip(c.value), clip(r.r.String())))
		}
	}
	if readable {
		return Reason{}, false
	}
	return reason("may be affected: " + strings.Join(unknown, ", "))
}

// AllowDevice is the check a pollbook (or any device) passes before it may
// join: its software version must be readable and at least minVersion (when
// minVersion is not empty), its operating system must still receive
// security updates at time now, and no advisory given may cover its
// version. advisories are those about this device's own product; their
// manufacturer and model are not compared, and those about its firmware or
// OS version (component firmware or os) are skipped. ok is true exactly when reasons
// is empty.
func (r Rules) AllowDevice(version, os string, advisories []vigil.Advisory, minVersion string, now time.Time) (ok bool, reasons []Reason) {
	v, err := ParseVersion(version)
	if err != nil {
		return false, []Reason{{Code: ReasonUnreadableInput, Severity: vigil.SeverityHigh,
			Text: fmt.Sprintf("software version %q cannot be read; update the device", clip(version))}}
	}
	if minVersion != "" {
		mv, err := ParseVersion(minVersion)
		if err != nil {
			// A broken configuration must not open the door.
			reasons = append(reasons, Reason{Code: ReasonUnreadableInput, Severity: vigil.SeverityHigh,
				Text: fmt.Sprintf("the configured minimum version %q cannot be read; fix the configuration", clip(minVersion))})
		} else if v.Compare(mv) < 0 {
			reasons = append(reasons, Reason{Code: ReasonBelowMinimum, Severity: vigil.SeverityHigh,
				Text: fmt.Sprintf("software version %s is below the required minimum %s; update the device", clip(version), clip(minVersion))})
		}
	}
	if rs, bad := osReason(r, os, "", now); bad {
		reasons = append(reasons, rs)
	}
	for _, a := range advisories {
		if a.Component == vigil.ComponentFirmware || a.Component == vigil.ComponentOS {
			continue // about another version than the one reported
		}
		rg, err := advisoryRange(a)
		switch {
		case err != nil:
			reasons = append(reasons, Reason{Code: ReasonAdvisory, Severity: a.Severity, Advisory: a.ID,
				Text: fmt.Sprintf("advisory %s cannot be read; fix the advisory list", clip(a.ID))})
		case rg.Contains(v):
			text := fmt.Sprintf("advisory %s (%s) affects version %s", clip(a.ID), a.Severity, clip(version))
			if a.Fixed != "" {
				text += "; update to " + clip(a.Fixed) + " or later"
			}
			reasons = append(reasons, Reason{Code: ReasonAdvisory, Severity: a.Severity, Advisory: a.ID, Text: text})
		}
	}
	return len(reasons) == 0, reasons
}
