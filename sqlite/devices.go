package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/pollbook"
)

func registerDevices(m map[vigil.EventType]applier) {
	m[vigil.EventEnrolmentCodeIssued] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.EnrolmentCode](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO enrolment_codes(id, seq, code_hash, site, name, expires, issued_by, issued)
			VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
			c.ID, seq, c.CodeHash, c.Site, c.Name, timeText(c.Expires), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventDeviceEnrolled] = func(tx *Tx, ev vigil.Event) error {
		d, err := decode[vigil.DeviceEnrolment](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE enrolment_codes SET seq = ?, device = ? WHERE id = ?`, seq, d.Device, d.Code); err != nil {
			return err
		}
		t := timeText(ev.Time)
		_, err = tx.Exec(`INSERT INTO pollbook_devices(id, key_hash, site, county, name, version, os, enrolled_by, enrolled,
			reported, status) VALUES (?,?,?,?,?,?,?,?,?,?,'enrolled') ON CONFLICT(id) DO NOTHING`,
			d.Device, d.KeyHash, d.Site, d.Site.County(), d.Name, d.Version, d.OS, ev.Actor, t, t)
		return err
	}
	m[vigil.EventDeviceRevoked] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.DeviceRevocation](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE pollbook_devices SET status = 'revoked', revoked_by = ?, revoked = ?, reason = ?
			WHERE id = ? AND status != 'revoked'`, ev.Actor, timeText(ev.Time), r.Reason, r.Device)
		return err
	}
	m[vigil.EventDeviceReported] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.DeviceReport](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE pollbook_devices SET version = ?, os = ?, reported = ? WHERE id = ?`,
			r.Version, r.OS, timeText(ev.Time), r.Device)
		return err
	}
}

// Devices enrols pollbook devices and admits them: every site-level
// pollbook action (search, check-in, undo, provisional ballot) first passes
// Admit with the device's token.
type Devices struct {
	db  *DB
	log vigil.EventAppender
	now func() time.Time
	eq  *Equipment

	mu        sync.Mutex
	policy    DevicePolicy
	policyVer string
	// refused keeps one device.refused event per device and cause a
	// minute, so a misconfigured tablet retrying cannot flood the log.
	refused map[string]time.Time
}

// NewDevices returns the service; eq supplies the version policy.
func NewDevices(db *DB, log vigil.EventAppender, now func() time.Time, eq *Equipment) *Devices {
	return &Devices{db: db, log: log, now: now, eq: eq, refused: map[string]time.Time{}}
}

// EnrolmentCodeTTL is how long a code can be redeemed.
const EnrolmentCodeTTL = 24 * time.Hour

// IssueCode records a one-time enrolment code for a polling place and
// returns it (the log keeps only its hash). Errors: Invalid, Unavailable.
func (d *Devices) IssueCode(ctx context.Context, a vigil.Actor, site vigil.Scope, name string) (code string, expires time.Time, err error) {
	const op = "device.code"
	county, place, ok := pollbook.SitePlace(site)
	if !ok {
		return "", time.Time{}, vigil.FieldError(op, "site", "a device is enrolled for one polling place: county/ID/place/ID")
	}
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM places WHERE id = ? AND county = ?`, place, county).Scan(&n); err != nil {
		return "", time.Time{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if n == 0 {
		return "", time.Time{}, vigil.FieldError(op, "site", "there is no polling place %s in county %s", place, county)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return "", time.Time{}, vigil.FieldError(op, "name", "give the device a label of 1-64 characters, e.g. \"Table 3 tablet\"")
	}
	var random [10]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", time.Time{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	code = vigil.NewEnrolmentCode(random)
	id, hash := vigil.EnrolmentCodeID(vigil.NormalizeEnrolmentCode(code))
	now := d.now()
	expires = now.Add(EnrolmentCodeTTL).UTC()
	ev, err := vigil.NewEvent(a, vigil.EventEnrolmentCodeIssued, id, now,
		vigil.EnrolmentCode{ID: id, CodeHash: hash, Site: site, Name: name, Expires: expires})
	if err != nil {
		return "", time.Time{}, err
	}
	var zero uint64
	if _, err := d.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// Enrol redeems a code: the device gets its key (returned once, as a
// token) and is recorded with the version and OS it reports. allow is asked
// about the code's polling place before anything is written (the person
// enrolling must work there). A code is used once: the enrolment is claimed
// on the code's subject over its issue.
// Errors: Invalid, NotFound (unknown or expired code), Conflict (used), Permission.
func (d *Devices) Enrol(ctx context.Context, a vigil.Actor, code, version, os string, allow func(vigil.Scope) error) (vigil.PollbookDevice, string, error) {
	const op = "device.enrol"
	norm := vigil.NormalizeEnrolmentCode(code)
	if norm == "" {
		return vigil.PollbookDevice{}, "", vigil.FieldError(op, "code",
			"an enrolment code has %d letters and digits, like 7K2M-QX9D-4HVB-T1ZE", vigil.EnrolmentCodeLen)
	}
	if err := checkReport(op, version, os); err != nil {
		return vigil.PollbookDevice{}, "", err
	}
	id, hash := vigil.EnrolmentCodeID(norm)
	var seq uint64
	var stored, site, name, expires, used string
	err := d.db.QueryRowContext(ctx, `SELECT seq, code_hash, site, name, expires, device FROM enrolment_codes WHERE id = ?`, id).
		Scan(&seq, &stored, &site, &name, &expires, &used)
	if err == sql.ErrNoRows || (err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1) {
		return vigil.PollbookDevice{}, "", &vigil.Error{Op: op, Kind: vigil.NotFound, Field: "code",
			Message: "this enrolment code is not known; check it, or ask for a new one"}
	}
	if err != nil {
		return vigil.PollbookDevice{}, "", vigil.Wrap(op, vigil.Unavailable, err)
	}
	now := d.now()
	if used != "" {
		return vigil.PollbookDevice{}, "", &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "code",
			Message: "this enrolment code was already used (device " + used + "); ask for a new one"}
	}
	if !now.Before(parseTime(expires)) {
		return vigil.PollbookDevice{}, "", &vigil.Error{Op: op, Kind: vigil.NotFound, Field: "code",
			Message: "this enrolment code expired; ask for a new one"}
	}
	if allow != nil {
		if err := allow(vigil.Scope(site)); err != nil {
			return vigil.PollbookDevice{}, "", err
		}
	}
	var key vigil.DeviceKey
	if _, err := rand.Read(key[:]); err != nil {
		return vigil.PollbookDevice{}, "", vigil.Wrap(op, vigil.Unavailable, err)
	}
	e := vigil.DeviceEnrolment{Code: id, Device: key.ID(), KeyHash: key.Hash(), Site: vigil.Scope(site), Name: name,
		Version: version, OS: os}
	ev, err := vigil.NewEvent(a, vigil.EventDeviceEnrolled, id, now, e)
	if err != nil {
		return vigil.PollbookDevice{}, "", err
	}
	if _, err := d.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &seq}); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict {
			return vigil.PollbookDevice{}, "", &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "code",
				Message: "this enrolment code was used a moment ago by another device; ask for a new one"}
		}
		return vigil.PollbookDevice{}, "", err
	}
	dev, err := d.Device(ctx, key.ID())
	return dev, key.Token(), err
}

func checkReport(op, version, os string) error {
	if len(version) > 64 || !printable(version) {
		return vigil.FieldError(op, "version", "must be printable text of at most 64 characters")
	}
	if len(os) > 128 || !printable(os) {
		return vigil.FieldError(op, "os", "must be printable text of at most 128 characters")
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Revoke stops a device from acting, at once. allow is asked about the
// device's polling place. Errors: Invalid (no reason), NotFound, Permission.
func (d *Devices) Revoke(ctx context.Context, a vigil.Actor, id, reason string, allow func(vigil.Scope) error) error {
	const op = "device.revoke"
	if err := vigil.ValidateReason(op, "reason", reason); err != nil {
		return err
	}
	dev, err := d.Device(ctx, id)
	if err != nil {
		return err
	}
	if allow != nil {
		if err := allow(dev.Site); err != nil {
			return err
		}
	}
	if dev.Status == "revoked" {
		return vigil.Errorf(vigil.Conflict, op, "device %s was already revoked by %s", id, dev.RevokedBy)
	}
	ev, err := vigil.NewEvent(a, vigil.EventDeviceRevoked, id, d.now(), vigil.DeviceRevocation{Device: id, Reason: strings.TrimSpace(reason)})
	if err != nil {
		return err
	}
	_, err = d.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

const pollbookDeviceColumns = `id, site, county, name, version, os, enrolled_by, enrolled, reported, status,
	revoked_by, revoked, reason`

func scanPollbookDevice(sc interface{ Scan(...any) error }) (vigil.PollbookDevice, error) {
	var dv vigil.PollbookDevice
	var enrolled, reported, revoked string
	err := sc.Scan(&dv.ID, &dv.Site, &dv.County, &dv.Name, &dv.Version, &dv.OS, &dv.EnrolledBy, &enrolled, &reported,
		&dv.Status, &dv.RevokedBy, &revoked, &dv.Reason)
	dv.Enrolled, dv.Reported = parseTime(enrolled), parseTime(reported)
	if revoked != "" {
		dv.Revoked = parseTime(revoked)
	}
	return dv, err
}

// keyed scans the key hash in front of a device row.
type keyed struct {
	hash *string
	row  *sql.Row
}

func (k keyed) Scan(dest ...any) error { return k.row.Scan(append([]any{k.hash}, dest...)...) }

// Device returns one enrolled device. Errors: NotFound, Unavailable.
func (d *Devices) Device(ctx context.Context, id string) (vigil.PollbookDevice, error) {
	dv, err := scanPollbookDevice(d.db.QueryRowContext(ctx, `SELECT `+pollbookDeviceColumns+` FROM pollbook_devices WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return dv, vigil.Errorf(vigil.NotFound, "device.read", "no enrolled device %s", id)
	}
	if err != nil {
		return dv, vigil.Wrap("device.read", vigil.Unavailable, err)
	}
	return dv, nil
}

// List returns the devices of a county ("" every county), by site and name.
func (d *Devices) List(ctx context.Context, county string) ([]vigil.PollbookDevice, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+pollbookDeviceColumns+` FROM pollbook_devices
		WHERE ?1 = '' OR county = ?1 ORDER BY county, site, name, id`, county)
	if err != nil {
		return nil, vigil.Wrap("device.list", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.PollbookDevice
	for rows.Next() {
		dv, err := scanPollbookDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, dv)
	}
	return out, rows.Err()
}

// Report is what a device says about itself at sync: its vigil version
// and operating system. Empty fields are not reported.
type Report struct {
	Version, OS string
}

// Admit decides whether the device presenting token may act at site, now:
// it must be enrolled (its key known), not revoked, enrolled for this
// polling place, and its version and OS (as reported now, or last) must
// pass the device policy (minimum version, OS support, advisories). A
// changed report is recorded first (device.reported). A refusal is recorded
// as device.refused (detection alerts on it) and returned as a Permission
// error whose message tells the poll worker what to do.
func (d *Devices) Admit(ctx context.Context, a vigil.Actor, token string, site vigil.Scope, rep Report) (vigil.PollbookDevice, error) {
	const op = "device.admit"
	id, keyHash, ok := vigil.ParseDeviceToken(token)
	if !ok {
		return vigil.PollbookDevice{}, d.refuse(ctx, a, site, vigil.PollbookDevice{ID: "unenrolled"}, rep,
			[]string{vigil.DeviceUnenrolled}, []string{"this device is not enrolled as a pollbook"},
			"This device is not enrolled as a pollbook. Ask your supervisor for an enrolment code and enter it on the enrolment page.")
	}
	var stored string
	dv, err := scanPollbookDevice(keyed{&stored, d.db.QueryRowContext(ctx,
		`SELECT key_hash, `+pollbookDeviceColumns+` FROM pollbook_devices WHERE id = ?`, id)})
	if err == sql.ErrNoRows || (err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(keyHash)) != 1) {
		return vigil.PollbookDevice{}, d.refuse(ctx, a, site, vigil.PollbookDevice{ID: id}, rep,
			[]string{vigil.DeviceUnenrolled}, []string{"no enrolled device has this key"},
			"This device is not enrolled as a pollbook. Ask your supervisor for an enrolment code and enter it on the enrolment page.")
	}
	if err != nil {
		return vigil.PollbookDevice{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if dv.Status == "revoked" {
		return dv, d.refuse(ctx, a, site, dv, rep, []string{vigil.DeviceRevoked}, []string{"revoked: " + dv.Reason},
			fmt.Sprintf("This pollbook was revoked by %s (%s) and may not be used. Use another pollbook or the paper pollbook.", dv.RevokedBy, dv.Reason))
	}
	if dv.Site != site {
		return dv, d.refuse(ctx, a, site, dv, rep, []string{vigil.DeviceWrongSite}, []string{"enrolled for " + string(dv.Site)},
			fmt.Sprintf("This pollbook is enrolled for %s, not this polling place. Use a pollbook enrolled here, or ask for an enrolment code.", dv.Site))
	}
	if rep.Version == "" {
		rep.Version = dv.Version
	}
	if rep.OS == "" {
		rep.OS = dv.OS
	}
	if err := checkReport(op, rep.Version, rep.OS); err != nil {
		return dv, err
	}
	if rep.Version != dv.Version || rep.OS != dv.OS {
		ev, err := vigil.NewEvent(a, vigil.EventDeviceReported, dv.ID, d.now(), vigil.DeviceReport{Device: dv.ID, Version: rep.Version, OS: rep.OS})
		if err != nil {
			return dv, err
		}
		if _, err := d.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			return dv, err
		}
		dv.Version, dv.OS = rep.Version, rep.OS
	}
	pol, err := d.devicePolicy(ctx)
	if err != nil {
		return dv, err
	}
	if ok, reasons := pol.Allow(dv.Version, dv.OS, d.now()); !ok {
		codes, texts := make([]string, len(reasons)), make([]string, len(reasons))
		for i, r := range reasons {
			codes[i], texts[i] = string(r.Code), r.Text
		}
		return dv, d.refuse(ctx, a, site, dv, rep, codes, texts,
			"This pollbook may not check voters in: "+strings.Join(texts, "; ")+
				". Use another pollbook or the paper pollbook, and call the county to update this one.")
	}
	return dv, nil
}

// devicePolicy returns the policy, re-read only when it changed.
func (d *Devices) devicePolicy(ctx context.Context) (DevicePolicy, error) {
	ver, err := d.eq.PolicyVersion(ctx)
	if err != nil {
		return DevicePolicy{}, err
	}
	d.mu.Lock()
	if ver == d.policyVer {
		p := d.policy
		d.mu.Unlock()
		return p, nil
	}
	d.mu.Unlock()
	p, err := d.eq.DevicePolicy(ctx)
	if err != nil {
		return p, err
	}
	d.mu.Lock()
	d.policy, d.policyVer = p, ver
	d.mu.Unlock()
	return p, nil
}

// refuse records device.refused (at most once a minute per device and
// cause) and returns the poll worker's message as a Permission error.
func (d *Devices) refuse(ctx context.Context, a vigil.Actor, site vigil.Scope, dv vigil.PollbookDevice, rep Report, codes, reasons []string, message string) error {
	now := d.now()
	key := dv.ID + "|" + strings.Join(codes, ",") + "|" + string(site)
	d.mu.Lock()
	last, seen := d.refused[key]
	record := !seen || now.Sub(last) >= time.Minute
	if record {
		if len(d.refused) > 10000 {
			clear(d.refused)
		}
		d.refused[key] = now
	}
	d.mu.Unlock()
	if record {
		version, os := rep.Version, rep.OS
		if version == "" {
			version = dv.Version
		}
		if os == "" {
			os = dv.OS
		}
		ref := vigil.DeviceRefusal{Device: dv.ID, Version: version, OS: os, Site: site, Codes: codes, Reasons: reasons}
		if ev, err := vigil.NewEvent(a, vigil.EventDeviceRefused, dv.ID, now, ref); err == nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			d.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
		}
	}
	return &vigil.Error{Op: "device.admit", Kind: vigil.Permission, Field: "device", Message: message}
}
