package vigil

import (
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the nouns of the voting-technology lifecycle register:
// devices, their certifications, custody transfers and security advisories.
// The rules that read them (end of life, advisories, replacement plans) and
// the CSV/JSON formats live in package equipment.

// DeviceID names one inventory record. It is chosen by the jurisdiction
// (an asset tag or a serial number usually serves) and never reused.
type DeviceID string

// DeviceKind says what a device does. Each kind can have its own expected
// life in the lifecycle rules.
type DeviceKind string

const (
	DevicePollbook    DeviceKind = "pollbook"    // electronic pollbook
	DeviceScanner     DeviceKind = "scanner"     // optical scanner, hand-fed or batch-fed
	DeviceBMD         DeviceKind = "bmd"         // ballot-marking device
	DeviceDRE         DeviceKind = "dre"         // direct-recording electronic machine, with or without VVPAT
	DeviceEMS         DeviceKind = "ems"         // election-management system server
	DeviceWorkstation DeviceKind = "workstation" // a PC or laptop used to program, tally or report
	DeviceNetwork     DeviceKind = "network"     // router, switch, firewall, modem
	DevicePortal      DeviceKind = "portal"      // an internet ballot-delivery or voting portal (a service, not a box)
)

// DeviceKinds lists the valid kinds in a stable order.
func DeviceKinds() []DeviceKind {
	return []DeviceKind{DevicePollbook, DeviceScanner, DeviceBMD, DeviceDRE, DeviceEMS, DeviceWorkstation, DeviceNetwork, DevicePortal}
}

// Valid reports whether k is one of DeviceKinds.
func (k DeviceKind) Valid() bool {
	for _, v := range DeviceKinds() {
		if k == v {
			return true
		}
	}
	return false
}

// DeviceStatus is where a device is in its life.
type DeviceStatus string

const (
	DeviceInService DeviceStatus = "in_service"
	DeviceInStorage DeviceStatus = "storage"
	DeviceRetired   DeviceStatus = "retired"
)

// Valid reports whether s is a known status.
func (s DeviceStatus) Valid() bool {
	return s == DeviceInService || s == DeviceInStorage || s == DeviceRetired
}

// CertificationStatus follows the EAC record's "Certification Status".
type CertificationStatus string

const (
	CertificationUnknown     CertificationStatus = ""
	CertificationUnderTest   CertificationStatus = "under_test"
	CertificationCertified   CertificationStatus = "certified"
	CertificationDecertified CertificationStatus = "decertified"
	CertificationWithdrawn   CertificationStatus = "withdrawn"
)

// Valid reports whether s is a known status (the empty status is valid and
// means "not recorded").
func (s CertificationStatus) Valid() bool {
	switch s {
	case CertificationUnknown, CertificationUnderTest, CertificationCertified, CertificationDecertified, CertificationWithdrawn:
		return true
	}
	return false
}

// VVSGEdition is the federal standard a system was tested to.
type VVSGEdition string

const (
	VSS2002 VVSGEdition = "2002 VSS"
	VVSG10  VVSGEdition = "VVSG 1.0"
	VVSG11  VVSGEdition = "VVSG 1.1"
	VVSG20  VVSGEdition = "VVSG 2.0"
)

// Valid reports whether e is a known edition or empty.
func (e VVSGEdition) Valid() bool {
	switch e {
	case "", VSS2002, VVSG10, VVSG11, VVSG20:
		return true
	}
	return false
}

// Certification records the federal (EAC) certification of the voting
// system a device belongs to, and the state's own certification.
type Certification struct {
	System  string              `json:"system"`           // EAC product name, e.g. "EVS" or "Verity Voting"
	Version string              `json:"version"`          // certified system version, e.g. "6.2.0.0"
	VVSG    VVSGEdition         `json:"vvsg,omitempty"`   // standard the system was tested to
	Status  CertificationStatus `json:"status,omitempty"` // as last seen on the EAC record
	State   string              `json:"state,omitempty"`  // state certification reference, free text
}

// Device is one piece of voting technology, or, when Quantity > 1, a batch
// of identical units bought together that share one record.
type Device struct {
	ID           DeviceID   `json:"id"`
	Kind         DeviceKind `json:"kind"`
	Manufacturer string     `json:"manufacturer"`
	Model        string     `json:"model"`
	Serial       string     `json:"serial,omitempty"`
	AssetTag     string     `json:"asset_tag,omitempty"`
	Jurisdiction string     `json:"jurisdiction"`       // the owning jurisdiction: a county name or a FIPS code
	Location     string     `json:"location,omitempty"` // where it is kept or deployed
	// Acquired is the acquisition date; the zero time means unknown. When
	// only a year is known it is January 1 of that year.
	Acquired        time.Time     `json:"acquired,omitzero"`
	CostCents       int64         `json:"cost_cents,omitempty"` // acquisition cost per unit, in US cents
	Quantity        int           `json:"quantity,omitempty"`   // units this record stands for; 0 means 1
	OS              string        `json:"os,omitempty"`
	OSVersion       string        `json:"os_version,omitempty"`
	FirmwareVersion string        `json:"firmware_version,omitempty"`
	SoftwareVersion string        `json:"software_version,omitempty"`
	Certification   Certification `json:"certification"`
	Status          DeviceStatus  `json:"status"`
	Seals           []string      `json:"seals,omitempty"` // tamper-evident seal numbers currently applied
	Notes           string        `json:"notes,omitempty"`
}

// Units returns the number of units the record stands for (at least 1).
func (d Device) Units() int {
	if d.Quantity < 1 {
		return 1
	}
	return d.Quantity
}

// Bounds that keep a hostile import from growing a record without limit.
const (
	maxDeviceText = 256
	maxNotes      = 4096
	maxSeals      = 64
)

// Validate checks the rules every stored device obeys. Version strings are
// checked by package equipment, which owns the version grammar.
func (d Device) Validate() error {
	const op = "equipment.validate"
	if err := validEquipmentText(op, "id", string(d.ID), maxDeviceText, true); err != nil {
		return err
	}
	if !d.Kind.Valid() {
		return FieldError(op, "kind", "unknown device kind %q; use one of %s", d.Kind, joinDeviceKinds())
	}
	if !d.Status.Valid() {
		return FieldError(op, "status", "unknown status %q; use in_service, storage or retired", d.Status)
	}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"manufacturer", d.Manufacturer, true},
		{"model", d.Model, true},
		{"serial", d.Serial, false},
		{"asset_tag", d.AssetTag, false},
		{"jurisdiction", d.Jurisdiction, true},
		{"location", d.Location, false},
		{"os", d.OS, false},
		{"os_version", d.OSVersion, false},
		{"firmware_version", d.FirmwareVersion, false},
		{"software_version", d.SoftwareVersion, false},
		{"certification", d.Certification.System, false},
		{"certification_version", d.Certification.Version, false},
		{"state_certification", d.Certification.State, false},
	} {
		if err := validEquipmentText(op, f.name, f.value, maxDeviceText, f.required); err != nil {
			return err
		}
	}
	if err := validEquipmentText(op, "notes", d.Notes, maxNotes, false); err != nil {
		return err
	}
	if d.CostCents < 0 {
		return FieldError(op, "cost", "cost is negative; enter the price paid per unit")
	}
	if d.Quantity < 0 {
		return FieldError(op, "quantity", "quantity is negative")
	}
	if !d.Certification.VVSG.Valid() {
		return FieldError(op, "vvsg", "unknown VVSG edition %q; use 2002 VSS, VVSG 1.0, VVSG 1.1 or VVSG 2.0", d.Certification.VVSG)
	}
	if !d.Certification.Status.Valid() {
		return FieldError(op, "certification_status", "unknown certification status %q", d.Certification.Status)
	}
	if len(d.Seals) > maxSeals {
		return FieldError(op, "seals", "more than %d seals on one device", maxSeals)
	}
	for _, s := range d.Seals {
		if err := validEquipmentText(op, "seals", s, 64, true); err != nil {
			return err
		}
		if strings.ContainsAny(s, "; ") {
			return FieldError(op, "seals", "a seal number cannot contain ';' or spaces")
		}
	}
	if !d.Acquired.IsZero() && (d.Acquired.Year() < 1900 || d.Acquired.Year() > 9999) {
		return FieldError(op, "acquired", "acquisition year %d is out of range", d.Acquired.Year())
	}
	return nil
}

// CustodyTransfer is one hand-over of a device in its chain of custody.
// Transfers are events in the log, not columns of the inventory: the
// inventory shows only where a device is now and which seals are on it.
type CustodyTransfer struct {
	Device DeviceID  `json:"device"`
	Time   time.Time `json:"time"`
	From   string    `json:"from"`            // location or person handing over
	To     string    `json:"to"`              // location or person receiving
	By     string    `json:"by"`              // who carried it
	Seals  []string  `json:"seals,omitempty"` // seal numbers verified intact at hand-over
	Note   string    `json:"note,omitempty"`
}

// Validate checks a transfer before it is recorded.
func (t CustodyTransfer) Validate() error {
	const op = "equipment.custody"
	if err := validEquipmentText(op, "device", string(t.Device), maxDeviceText, true); err != nil {
		return err
	}
	if t.Time.IsZero() {
		return FieldError(op, "time", "the time of the hand-over is required")
	}
	for _, f := range []struct{ name, value string }{{"from", t.From}, {"to", t.To}, {"by", t.By}} {
		if err := validEquipmentText(op, f.name, f.value, maxDeviceText, true); err != nil {
			return err
		}
	}
	if t.From == t.To {
		return FieldError(op, "to", "a transfer must move the device somewhere else")
	}
	for _, s := range t.Seals {
		if err := validEquipmentText(op, "seals", s, 64, true); err != nil {
			return err
		}
	}
	return validEquipmentText(op, "note", t.Note, maxNotes, false)
}

// AdvisorySeverity ranks a security advisory.
type AdvisorySeverity string

const (
	SeverityLow      AdvisorySeverity = "low"
	SeverityMedium   AdvisorySeverity = "medium"
	SeverityHigh     AdvisorySeverity = "high"
	SeverityCritical AdvisorySeverity = "critical"
)

// Rank orders severities: low 1 … critical 4, anything else 0.
func (s AdvisorySeverity) Rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// AdvisoryComponent names which version of a device an advisory is about.
type AdvisoryComponent string

const (
	ComponentAny      AdvisoryComponent = ""         // firmware or software
	ComponentFirmware AdvisoryComponent = "firmware" // Device.FirmwareVersion
	ComponentSoftware AdvisoryComponent = "software" // Device.SoftwareVersion
	ComponentOS       AdvisoryComponent = "os"       // Device.OSVersion
)

// Advisory is a published vulnerability or defect notice about a product.
//
// Affected is a version range in the syntax documented in package equipment
// (for example ">=5.10.0 <5.10.50.85 || 5.4.x"). When Affected is empty and
// Fixed is set, every version below Fixed is affected.
type Advisory struct {
	ID           string            `json:"id"`
	Manufacturer string            `json:"manufacturer"`
	Model        string            `json:"model,omitempty"` // empty or "*" means every model of the manufacturer
	Component    AdvisoryComponent `json:"component,omitempty"`
	Affected     string            `json:"affected_versions,omitempty"`
	Severity     AdvisorySeverity  `json:"severity"`
	Fixed        string            `json:"fixed_version,omitempty"` // first fixed version, if any
	Summary      string            `json:"summary,omitempty"`
}

// Validate checks the fields every advisory needs. The version range syntax
// is checked by package equipment when the advisory is imported.
func (a Advisory) Validate() error {
	const op = "equipment.advisory"
	if err := validEquipmentText(op, "id", a.ID, maxDeviceText, true); err != nil {
		return err
	}
	if err := validEquipmentText(op, "manufacturer", a.Manufacturer, maxDeviceText, true); err != nil {
		return err
	}
	if err := validEquipmentText(op, "model", a.Model, maxDeviceText, false); err != nil {
		return err
	}
	switch a.Component {
	case ComponentAny, ComponentFirmware, ComponentSoftware, ComponentOS:
	default:
		return FieldError(op, "component", "unknown component %q; use firmware, software or os", a.Component)
	}
	if a.Severity.Rank() == 0 {
		return FieldError(op, "severity", "unknown severity %q; use low, medium, high or critical", a.Severity)
	}
	if strings.TrimSpace(a.Affected) == "" && strings.TrimSpace(a.Fixed) == "" {
		return FieldError(op, "affected_versions", "give the affected versions, the fixed version, or both")
	}
	for _, f := range []struct{ name, value string }{{"affected_versions", a.Affected}, {"fixed_version", a.Fixed}} {
		if err := validEquipmentText(op, f.name, f.value, 1024, false); err != nil {
			return err
		}
	}
	return validEquipmentText(op, "summary", a.Summary, maxNotes, false)
}

func validEquipmentText(op, field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return FieldError(op, field, "%s is required", field)
	case len(v) > max:
		return FieldError(op, field, "longer than %d bytes", max)
	case !utf8.ValidString(v):
		return FieldError(op, field, "not valid UTF-8; save the file as UTF-8")
	case strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f }):
		return FieldError(op, field, "contains control characters")
	}
	return nil
}

func joinDeviceKinds() string {
	kinds := DeviceKinds()
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Event types of the equipment register. Never rename one.
const (
	// EventDeviceRegistered: a device entered the inventory; a DeviceRecord.
	EventDeviceRegistered EventType = "device.registered"
	// EventDeviceChanged: a device's record was replaced; a DeviceRecord
	// holding the whole new record.
	EventDeviceChanged EventType = "device.changed"
	// EventCustodyTransferred: a device changed hands; a CustodyTransfer
	// (who, when, from where to where, which seals were intact).
	EventCustodyTransferred EventType = "custody.transferred"
	// EventAdvisoryImported: a security advisory was imported or replaced;
	// an Advisory.
	EventAdvisoryImported EventType = "advisory.imported"
	// EventUnitCostSet: the replacement cost of a kind or model changed; a
	// UnitCost.
	EventUnitCostSet EventType = "equipment.cost_set"
	// EventMinimumVersionSet: the minimum vigil version a pollbook device
	// must run; a MinimumVersion.
	EventMinimumVersionSet EventType = "equipment.minimum_set"
	// EventDeviceRefused: a device was refused at sync (below the minimum
	// version, unsupported OS, or affected by an advisory); a
	// DeviceRefusal. Detection rules alert on it.
	EventDeviceRefused EventType = "device.refused"
	// EventLifecycleRuleSet: a lifecycle rule was set or removed (the
	// expected life of a kind, an OS end-of-support date, a withdrawn
	// certification); a LifecycleRule. Rules override the defaults.
	EventLifecycleRuleSet EventType = "equipment.rule_set"
)

// Lifecycle rule kinds (LifecycleRule.Rule).
const (
	RuleLife      = "life"      // expected life of a device kind, in years
	RuleOSEnd     = "os"        // end of security updates of an operating system
	RuleWithdrawn = "withdrawn" // a federal certification withdrawn or revoked
)

// LifecycleRule is the payload of equipment.rule_set: one edit of the
// lifecycle rules. Remove deletes an earlier edit of the same rule (the
// default, if any, applies again).
type LifecycleRule struct {
	Rule string `json:"rule"` // life | os | withdrawn
	// life: Kind ("" is every kind without its own entry) and Years.
	Kind  DeviceKind `json:"kind,omitempty"`
	Years int        `json:"years,omitempty"`
	// os: the OS name as devices report it ("Windows 11 23H2") and End,
	// the first day without security updates.
	OS string `json:"os,omitempty"`
	// withdrawn: the certified System, Version ("" every version), the
	// Date it was withdrawn and why.
	System  string `json:"system,omitempty"`
	Version string `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// End (os) or the withdrawal date (withdrawn).
	Date   Date `json:"date,omitzero"`
	Remove bool `json:"remove,omitempty"`
}

// Key names the rule a LifecycleRule edits: a later edit with the same key
// replaces it.
func (r LifecycleRule) Key() string {
	switch r.Rule {
	case RuleLife:
		return "life:" + string(r.Kind)
	case RuleOSEnd:
		return "os:" + strings.ToLower(strings.Join(strings.Fields(r.OS), " "))
	default:
		return "withdrawn:" + strings.ToLower(strings.TrimSpace(r.System)) + "@" + strings.ToLower(strings.TrimSpace(r.Version))
	}
}

// Validate checks a rule edit.
func (r LifecycleRule) Validate() error {
	const op = "equipment.rule"
	switch r.Rule {
	case RuleLife:
		if r.Kind != "" && !r.Kind.Valid() {
			return FieldError(op, "kind", "unknown device kind %q; use one of %s", r.Kind, joinDeviceKinds())
		}
		if !r.Remove && (r.Years < 1 || r.Years > 50) {
			return FieldError(op, "years", "expected life must be 1-50 years")
		}
	case RuleOSEnd:
		if err := validEquipmentText(op, "os", r.OS, 128, true); err != nil {
			return err
		}
		if !r.Remove && r.Date.IsZero() {
			return FieldError(op, "date", "give the first day without security updates (YYYY-MM-DD)")
		}
	case RuleWithdrawn:
		if err := validEquipmentText(op, "system", r.System, 128, true); err != nil {
			return err
		}
		if err := validEquipmentText(op, "version", r.Version, 64, false); err != nil {
			return err
		}
		if !r.Remove && r.Date.IsZero() {
			return FieldError(op, "date", "give the date the certification was withdrawn (YYYY-MM-DD)")
		}
		if err := validEquipmentText(op, "reason", r.Reason, 256, false); err != nil {
			return err
		}
	default:
		return FieldError(op, "rule", "unknown rule %q; use life, os or withdrawn", r.Rule)
	}
	return nil
}

// DeviceRecord is the payload of device.registered and device.changed.
// County is the county id the device's jurisdiction resolved to when it
// was recorded ("" when it matched no county: only state-wide roles see it).
type DeviceRecord struct {
	Device Device `json:"device"`
	County string `json:"county"`
	File   string `json:"file,omitempty"` // the import file, when imported
}

// UnitCost is the payload of equipment.cost_set: the replacement price of
// one unit of a kind (Model empty) or of a model. Cents 0 removes the price.
type UnitCost struct {
	Kind         DeviceKind `json:"kind,omitempty"`
	Manufacturer string     `json:"manufacturer,omitempty"`
	Model        string     `json:"model,omitempty"`
	Cents        int64      `json:"cents"`
}

// MinimumVersion is the payload of equipment.minimum_set. An empty Version
// removes the minimum.
type MinimumVersion struct {
	Version string `json:"version"`
}

// DeviceRefusal is the payload of device.refused.
type DeviceRefusal struct {
	Device  string   `json:"device"`
	Version string   `json:"version"`
	OS      string   `json:"os"`
	Site    Scope    `json:"site,omitempty"`
	Codes   []string `json:"codes"`
	Reasons []string `json:"reasons"`
}

// VigilProduct names vigil's own pollbook in advisories: an advisory whose
// manufacturer is "vigil" (and model empty, "*" or "pollbook") is checked
// against the version every pollbook device reports at sync.
const (
	VigilManufacturer = "vigil"
	VigilPollbook     = "pollbook"
)
