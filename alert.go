package vigil

import (
	"strings"
	"time"
)

// Event types of anomaly detection (package detect). An alert is raised
// once per cause: its ID is a hash of the rule, the group and the window, and
// alert.raised is claimed on the alert's subject, so two detectors (or one
// restarted) never raise the same alert twice.
const (
	EventAlertRaised       EventType = "alert.raised"       // AlertRaised, key = alert id, claimed
	EventAlertAcknowledged EventType = "alert.acknowledged" // AlertNote
	EventAlertResolved     EventType = "alert.resolved"     // AlertNote
)

// Event types that detection rules are written against but that other
// capabilities (pollbooks, recovery) emit. They are named here so that the
// default rules, the bench and the emitters agree; a rule file can name any
// type, so a rename elsewhere is fixed in the rule file, not in code.
// (checkin.recorded and checkin.conflicted are the pollbooks' own, in
// pollbook.go; the clock-skew rule reads an optional device_time in the
// check-in payload.)
const (
	EventMirrorChecked             EventType = "mirror.checked"              // a mirror checked a checkpoint; payload lag_seconds
	EventBackupCompleted           EventType = "backup.completed"            // a backup was written
	EventLogCheckpointInconsistent EventType = "log.checkpoint_inconsistent" // a consistency proof failed: history rewritten or forked
	EventLogVerificationFailed     EventType = "log.verification_failed"     // log verify found a bad entry
)

// AlertSeverity ranks alerts.
type AlertSeverity string

const (
	AlertLow      AlertSeverity = "low"
	AlertMedium   AlertSeverity = "medium"
	AlertHigh     AlertSeverity = "high"
	AlertCritical AlertSeverity = "critical"
)

// Valid reports whether s is a known severity.
func (s AlertSeverity) Valid() bool {
	switch s {
	case AlertLow, AlertMedium, AlertHigh, AlertCritical:
		return true
	}
	return false
}

// Rank orders severities (low 1 … critical 4; unknown 0).
func (s AlertSeverity) Rank() int {
	return map[AlertSeverity]int{AlertLow: 1, AlertMedium: 2, AlertHigh: 3, AlertCritical: 4}[s]
}

// Evidence names one event behind an alert. Seq is the log entry holding
// it (0 when unknown), which is what an inclusion proof is asked for.
type Evidence struct {
	EventID string    `json:"event_id"`
	Seq     uint64    `json:"seq,omitempty"`
	Type    EventType `json:"type"`
	Actor   string    `json:"actor"`
	Time    time.Time `json:"time"`
}

// MaxEvidence bounds the events an alert carries; Count says how many there
// were in all.
const MaxEvidence = 50

// AlertRaised is the payload of alert.raised.
type AlertRaised struct {
	ID          string        `json:"id"`
	Rule        string        `json:"rule"`
	Kind        string        `json:"kind"`
	Severity    AlertSeverity `json:"severity"`
	Title       string        `json:"title"`
	Summary     string        `json:"summary"`
	Group       string        `json:"group,omitempty"` // "county=ADAMS actor=clerk1"
	WindowStart time.Time     `json:"window_start"`
	WindowEnd   time.Time     `json:"window_end"`
	Count       float64       `json:"count"`
	Threshold   float64       `json:"threshold"`
	Evidence    []Evidence    `json:"evidence"`
}

// Validate checks the payload.
func (a AlertRaised) Validate() error {
	const op = "alert.validate"
	switch {
	case len(a.ID) < 8 || len(a.ID) > 64:
		return FieldError(op, "id", "must be 8-64 characters")
	case a.Rule == "":
		return FieldError(op, "rule", "is empty")
	case !a.Severity.Valid():
		return FieldError(op, "severity", "unknown severity %q", a.Severity)
	case len(a.Evidence) > MaxEvidence:
		return FieldError(op, "evidence", "at most %d events", MaxEvidence)
	}
	return nil
}

// AlertNote is the payload of alert.acknowledged and alert.resolved.
type AlertNote struct {
	ID   string `json:"id"`
	Note string `json:"note"`
}

// Validate checks the note: a security officer must say what they did.
func (n AlertNote) Validate() error {
	const op = "alert.note"
	if n.ID == "" {
		return FieldError(op, "id", "is empty")
	}
	note := strings.TrimSpace(n.Note)
	if note == "" {
		return FieldError(op, "note", "say what was checked or done")
	}
	if len(note) > 2000 {
		return FieldError(op, "note", "must be at most 2000 characters")
	}
	return nil
}

// AlertStatus is where an alert is in its handling.
type AlertStatus string

const (
	AlertOpen         AlertStatus = "open"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertResolved     AlertStatus = "resolved"
)

// Alert is an alert as the projection holds it.
type Alert struct {
	AlertRaised
	Raised       time.Time   `json:"raised"`
	Status       AlertStatus `json:"status"`
	AckBy        string      `json:"ack_by,omitempty"`
	AckNote      string      `json:"ack_note,omitempty"`
	AckTime      time.Time   `json:"ack_time,omitzero"`
	ResolvedBy   string      `json:"resolved_by,omitempty"`
	ResolvedNote string      `json:"resolved_note,omitempty"`
	ResolvedTime time.Time   `json:"resolved_time,omitzero"`
}
