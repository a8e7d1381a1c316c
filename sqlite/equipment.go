package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func registerEquipment(m map[vigil.EventType]applier) {
	putDevice := func(tx *Tx, ev vigil.Event) error {
		d, err := decode[vigil.DeviceRecord](ev)
		if err != nil {
			return err
		}
		rec, err := json.Marshal(d.Device)
		if err != nil {
			return err
		}
		t := timeText(ev.Time)
		_, err = tx.Exec(`INSERT INTO devices(id, county, jurisdiction, kind, status, record, registered, updated, updated_by)
			VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET county = excluded.county,
			jurisdiction = excluded.jurisdiction, kind = excluded.kind, status = excluded.status,
			record = excluded.record, updated = excluded.updated, updated_by = excluded.updated_by`,
			d.Device.ID, d.County, d.Device.Jurisdiction, d.Device.Kind, d.Device.Status, string(rec), t, t, ev.Actor)
		return err
	}
	m[vigil.EventDeviceRegistered] = putDevice
	m[vigil.EventDeviceChanged] = putDevice
	m[vigil.EventCustodyTransferred] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.CustodyTransfer](ev)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO device_custody(event, device, time, from_loc, to_loc, carrier, seals, note, actor, recorded)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(event) DO NOTHING`, ev.ID, c.Device, timeText(c.Time), c.From, c.To,
			c.By, strings.Join(c.Seals, ";"), c.Note, ev.Actor, timeText(ev.Time)); err != nil {
			return err
		}
		// The inventory shows where the device is now and which seals
		// were last verified on it.
		var raw string
		if err := tx.QueryRow(`SELECT record FROM devices WHERE id = ?`, c.Device).Scan(&raw); err != nil {
			if err == sql.ErrNoRows {
				return nil
			}
			return err
		}
		var d vigil.Device
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return err
		}
		d.Location = c.To
		if len(c.Seals) > 0 {
			d.Seals = c.Seals
		}
		rec, _ := json.Marshal(d)
		_, err = tx.Exec(`UPDATE devices SET record = ?, updated = ?, updated_by = ? WHERE id = ?`,
			string(rec), timeText(ev.Time), ev.Actor, c.Device)
		return err
	}
	m[vigil.EventAdvisoryImported] = func(tx *Tx, ev vigil.Event) error {
		a, err := decode[vigil.Advisory](ev)
		if err != nil {
			return err
		}
		rec, _ := json.Marshal(a)
		_, err = tx.Exec(`INSERT INTO advisories(id, record, imported, actor) VALUES (?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET record = excluded.record, imported = excluded.imported, actor = excluded.actor`,
			a.ID, string(rec), timeText(ev.Time), ev.Actor)
		return err
	}
	m[vigil.EventUnitCostSet] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.UnitCost](ev)
		if err != nil {
			return err
		}
		key := costKey(c)
		if c.Cents == 0 {
			_, err = tx.Exec(`DELETE FROM equipment_costs WHERE key = ?`, key)
			return err
		}
		_, err = tx.Exec(`INSERT INTO equipment_costs(key, kind, manufacturer, model, cents) VALUES (?,?,?,?,?)
			ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, manufacturer = excluded.manufacturer,
			model = excluded.model, cents = excluded.cents`, key, c.Kind, c.Manufacturer, c.Model, c.Cents)
		return err
	}
	m[vigil.EventMinimumVersionSet] = func(tx *Tx, ev vigil.Event) error {
		v, err := decode[vigil.MinimumVersion](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO equipment_settings(name, value, actor, time) VALUES ('pollbook_minimum',?,?,?)
			ON CONFLICT(name) DO UPDATE SET value = excluded.value, actor = excluded.actor, time = excluded.time`,
			v.Version, ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventLifecycleRuleSet] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.LifecycleRule](ev)
		if err != nil {
			return err
		}
		if r.Remove {
			_, err = tx.Exec(`DELETE FROM equipment_rules WHERE key = ?`, r.Key())
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		rec, _ := json.Marshal(r)
		_, err = tx.Exec(`INSERT INTO equipment_rules(key, seq, record, actor, time) VALUES (?,?,?,?,?)
			ON CONFLICT(key) DO UPDATE SET seq = excluded.seq, record = excluded.record, actor = excluded.actor,
			time = excluded.time`, r.Key(), seq, string(rec), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventDeviceRefused] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.DeviceRefusal](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO device_refusals(event, device, version, os, site, codes, reasons, actor, time)
			VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(event) DO NOTHING`, ev.ID, r.Device, r.Version, r.OS, r.Site,
			strings.Join(r.Codes, ";"), strings.Join(r.Reasons, "; "), ev.Actor, timeText(ev.Time))
		return err
	}
}

func costKey(c vigil.UnitCost) string {
	if c.Model != "" {
		return "model:" + equipment.ModelKey(c.Manufacturer, c.Model)
	}
	return "kind:" + string(c.Kind)
}

// Equipment is the voting-technology register on a node: inventory, chain
// of custody, advisories, unit costs and the pollbook device check.
type Equipment struct {
	db  *DB
	log vigil.EventAppender
	now func() time.Time
	// Rules are the base lifecycle rules (default: equipment.DefaultRules);
	// the jurisdiction's edits (SetRule) are applied over them.
	Rules equipment.Rules
}

// RuleRow is one edit of the lifecycle rules as stored.
type RuleRow struct {
	vigil.LifecycleRule
	Actor string    `json:"set_by"`
	Time  time.Time `json:"set_at"`
}

// SetRule records an edit of the lifecycle rules. Errors: Invalid, Unavailable.
func (e *Equipment) SetRule(ctx context.Context, a vigil.Actor, r vigil.LifecycleRule) error {
	r.OS, r.System, r.Version, r.Reason = strings.TrimSpace(r.OS), strings.TrimSpace(r.System),
		strings.TrimSpace(r.Version), strings.TrimSpace(r.Reason)
	if err := r.Validate(); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(a, vigil.EventLifecycleRuleSet, r.Key(), e.now(), r)
	if err != nil {
		return err
	}
	_, err = e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// RuleEdits returns the jurisdiction's edits of the lifecycle rules, in the
// order they were made.
func (e *Equipment) RuleEdits(ctx context.Context) ([]RuleRow, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT record, actor, time FROM equipment_rules ORDER BY seq`)
	if err != nil {
		return nil, vigil.Wrap("equipment.rules", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []RuleRow
	for rows.Next() {
		var rec, t string
		var r RuleRow
		if err := rows.Scan(&rec, &r.Actor, &t); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rec), &r.LifecycleRule); err != nil {
			return nil, vigil.Wrap("equipment.rules", vigil.Integrity, err)
		}
		r.Time = parseTime(t)
		out = append(out, r)
	}
	return out, rows.Err()
}

// EffectiveRules returns the base rules with the jurisdiction's edits.
func (e *Equipment) EffectiveRules(ctx context.Context) (equipment.Rules, error) {
	edits, err := e.RuleEdits(ctx)
	if err != nil {
		return equipment.Rules{}, err
	}
	plain := make([]vigil.LifecycleRule, len(edits))
	for i, r := range edits {
		plain[i] = r.LifecycleRule
	}
	return e.Rules.With(plain), nil
}

// RuleLines lists the lifecycle rules in force, marking the edited ones.
func (e *Equipment) RuleLines(ctx context.Context) ([]equipment.RuleLine, error) {
	edits, err := e.RuleEdits(ctx)
	if err != nil {
		return nil, err
	}
	plain := make([]vigil.LifecycleRule, len(edits))
	edited := map[string]bool{}
	for i, r := range edits {
		plain[i] = r.LifecycleRule
		edited[r.Key()] = true
	}
	return e.Rules.With(plain).Lines(edited), nil
}

// NewEquipment returns the register. log MUST return once an append is
// applied to db (node.Node.Append does), so a read after a write sees it.
func NewEquipment(db *DB, log vigil.EventAppender, now func() time.Time) *Equipment {
	return &Equipment{db: db, log: log, now: now, Rules: equipment.DefaultRules()}
}

// DeviceRow is a stored device with what the register knows about it.
type DeviceRow struct {
	vigil.Device
	County     string    // county id, "" when the jurisdiction matched none
	Registered time.Time // first recorded
	Updated    time.Time
	UpdatedBy  string
}

// CustodyRow is one hand-over in a device's chain of custody.
type CustodyRow struct {
	vigil.CustodyTransfer
	Event    string    `json:"event"`
	Actor    string    `json:"recorded_by"` // who recorded it
	Recorded time.Time `json:"recorded"`
}

// EquipmentImport is the outcome of an inventory import.
type EquipmentImport struct {
	Devices, Added, Changed, Unchanged int
	// Unknown lists devices whose model is not in the catalog: accepted,
	// and flagged by Outdated.
	Unknown []vigil.DeviceID
}

// maxImportDevices keeps one all-or-nothing import inside one log entry.
const maxImportDevices = 5000

// ReadDevices reads an inventory in vigil's layout or in Verified Voting's
// Verifier machines layout (recognised by its preamble or its "FIPS code"
// header). Errors name line and column; nothing is returned on any error.
func ReadDevices(r io.Reader) ([]vigil.Device, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	first := string(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))
	if strings.HasPrefix(first, "The Verifier") || strings.HasPrefix(first, "FIPS code") {
		_, rows, err := equipment.ReadVerifierMachines(br)
		if err != nil {
			return nil, err
		}
		devices, _ := equipment.VerifierDevices(rows)
		// One jurisdiction can list the same type and model twice (say,
		// election day and mail ballots): number the repeats.
		seen := map[vigil.DeviceID]int{}
		for i, d := range devices {
			if seen[d.ID]++; seen[d.ID] > 1 {
				devices[i].ID = vigil.DeviceID(fmt.Sprintf("%s/%d", d.ID, seen[d.ID]))
			}
		}
		return devices, nil
	}
	return equipment.ReadInventory(br)
}

// countyOf resolves a jurisdiction to a county id: a defined county whose
// id or name (ignoring case) is the jurisdiction; else the jurisdiction
// itself when it can be a county id ("ADAMS", a FIPS code); else "", which
// only state-wide roles reach.
func countyOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, jurisdiction string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM counties WHERE id = ?1 OR lower(name) = lower(?1) ORDER BY id = ?1 DESC LIMIT 1`,
		strings.TrimSpace(jurisdiction)).Scan(&id)
	if err == sql.ErrNoRows {
		if j := strings.TrimSpace(jurisdiction); vigil.CountyScope(j).Validate() == nil {
			return j, nil
		}
		return "", nil
	}
	return id, err
}

// CountyOf returns the county id a jurisdiction resolves to ("" if none).
func (e *Equipment) CountyOf(ctx context.Context, jurisdiction string) (string, error) {
	return countyOf(ctx, e.db, jurisdiction)
}

// Import records devices as one entry: new ones as device.registered,
// changed ones as device.changed; identical ones change nothing. allow,
// when not nil, is asked about every device's county before anything is
// written; one refusal refuses the whole import.
// Errors: Invalid (a bad record, too many), Permission (from allow), Unavailable.
func (e *Equipment) Import(ctx context.Context, a vigil.Actor, file string, devices []vigil.Device, allow func(county string) error) (EquipmentImport, error) {
	const op = "equipment.import"
	res := EquipmentImport{Devices: len(devices)}
	if len(devices) > maxImportDevices {
		return res, vigil.Errorf(vigil.Invalid, op, "%d devices in one file; split it into files of at most %d", len(devices), maxImportDevices)
	}
	now := e.now()
	var events []vigil.Event
	seen := map[vigil.DeviceID]bool{}
	for i, d := range devices {
		if err := d.Validate(); err != nil {
			return res, fmt.Errorf("device %d (%s): %w", i+1, d.ID, err)
		}
		if seen[d.ID] {
			return res, vigil.FieldError(op, "id", "device %q appears twice; every id must be unique", d.ID)
		}
		seen[d.ID] = true
		county, err := countyOf(ctx, e.db, d.Jurisdiction)
		if err != nil {
			return res, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if allow != nil {
			if err := allow(county); err != nil {
				return res, err
			}
		}
		rec, _ := json.Marshal(d)
		var old, oldCounty string
		err = e.db.QueryRowContext(ctx, `SELECT record, county FROM devices WHERE id = ?`, d.ID).Scan(&old, &oldCounty)
		typ := vigil.EventDeviceChanged
		switch {
		case err == sql.ErrNoRows:
			typ = vigil.EventDeviceRegistered
			res.Added++
		case err != nil:
			return res, vigil.Wrap(op, vigil.Unavailable, err)
		case old == string(rec) && oldCounty == county:
			res.Unchanged++
			continue
		default:
			if allow != nil && oldCounty != county {
				// Moving a device out of a county needs that county too.
				if err := allow(oldCounty); err != nil {
					return res, err
				}
			}
			res.Changed++
		}
		ev, err := vigil.NewEvent(a, typ, string(d.ID), now, vigil.DeviceRecord{Device: d, County: county, File: file})
		if err != nil {
			return res, err
		}
		events = append(events, ev)
	}
	for _, f := range equipment.Outdated(devices, nil, equipment.Rules{Models: e.Rules.Models}, now) {
		for _, r := range f.Reasons {
			if r.Code == equipment.ReasonUnknownModel {
				res.Unknown = append(res.Unknown, f.Device.ID)
			}
		}
	}
	if len(events) == 0 {
		return res, nil
	}
	_, err := e.log.Append(ctx, events, vigil.AppendOptions{})
	return res, err
}

// Save records one device (new or changed). See Import.
func (e *Equipment) Save(ctx context.Context, a vigil.Actor, d vigil.Device, allow func(county string) error) (EquipmentImport, error) {
	return e.Import(ctx, a, "", []vigil.Device{d}, allow)
}

const deviceColumns = `id, county, record, registered, updated, updated_by`

func scanDevice(sc interface{ Scan(...any) error }) (DeviceRow, error) {
	var row DeviceRow
	var id, rec, reg, upd string
	if err := sc.Scan(&id, &row.County, &rec, &reg, &upd, &row.UpdatedBy); err != nil {
		return row, err
	}
	if err := json.Unmarshal([]byte(rec), &row.Device); err != nil {
		return row, vigil.Wrap("equipment.read", vigil.Integrity, err)
	}
	row.Registered, _ = time.Parse(time.RFC3339Nano, reg)
	row.Updated, _ = time.Parse(time.RFC3339Nano, upd)
	return row, nil
}

// Devices lists every device, by county, jurisdiction and id.
func (e *Equipment) Devices(ctx context.Context) ([]DeviceRow, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices ORDER BY county, jurisdiction, id`)
	if err != nil {
		return nil, vigil.Wrap("equipment.devices", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []DeviceRow
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Device returns one device. Errors: NotFound.
func (e *Equipment) Device(ctx context.Context, id vigil.DeviceID) (DeviceRow, error) {
	d, err := scanDevice(e.db.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return d, vigil.Errorf(vigil.NotFound, "equipment.device", "there is no device %q in the inventory", id)
	}
	return d, err
}

// Custody returns a device's chain of custody, oldest first.
func (e *Equipment) Custody(ctx context.Context, id vigil.DeviceID) ([]CustodyRow, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT event, device, time, from_loc, to_loc, carrier, seals, note, actor, recorded
		FROM device_custody WHERE device = ? ORDER BY time, recorded, event`, id)
	if err != nil {
		return nil, vigil.Wrap("equipment.custody", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []CustodyRow
	for rows.Next() {
		var c CustodyRow
		var t, seals, rec string
		if err := rows.Scan(&c.Event, &c.Device, &t, &c.From, &c.To, &c.By, &seals, &c.Note, &c.Actor, &rec); err != nil {
			return nil, err
		}
		c.Time, _ = time.Parse(time.RFC3339Nano, t)
		c.Recorded, _ = time.Parse(time.RFC3339Nano, rec)
		if seals != "" {
			c.Seals = strings.Split(seals, ";")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Transfer records a hand-over of a device. The device must be in the
// inventory. Errors: Invalid, NotFound, Unavailable.
func (e *Equipment) Transfer(ctx context.Context, a vigil.Actor, t vigil.CustodyTransfer) error {
	if t.Time.IsZero() {
		t.Time = e.now()
	}
	if err := t.Validate(); err != nil {
		return err
	}
	if _, err := e.Device(ctx, t.Device); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(a, vigil.EventCustodyTransferred, string(t.Device), e.now(), t)
	if err != nil {
		return err
	}
	_, err = e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// ImportAdvisories records advisories, all or none: each is checked
// strictly first (equipment.CheckAdvisory). An advisory identical to the
// stored one is not recorded again. It returns how many were recorded.
// Errors: Invalid, Unavailable.
func (e *Equipment) ImportAdvisories(ctx context.Context, a vigil.Actor, advs []vigil.Advisory) (recorded int, err error) {
	const op = "equipment.advisories"
	if len(advs) > maxImportDevices {
		return 0, vigil.Errorf(vigil.Invalid, op, "%d advisories in one file; split it", len(advs))
	}
	now := e.now()
	var events []vigil.Event
	for _, adv := range advs {
		if err := equipment.CheckAdvisory(adv); err != nil {
			return 0, fmt.Errorf("advisory %s: %w", adv.ID, err)
		}
		rec, _ := json.Marshal(adv)
		var old string
		err := e.db.QueryRowContext(ctx, `SELECT record FROM advisories WHERE id = ?`, adv.ID).Scan(&old)
		if err != nil && err != sql.ErrNoRows {
			return 0, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if old == string(rec) {
			continue
		}
		ev, err := vigil.NewEvent(a, vigil.EventAdvisoryImported, adv.ID, now, adv)
		if err != nil {
			return 0, err
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		return 0, nil
	}
	if _, err := e.log.Append(ctx, events, vigil.AppendOptions{}); err != nil {
		return 0, err
	}
	return len(events), nil
}

// Advisories lists the stored advisories by id.
func (e *Equipment) Advisories(ctx context.Context) ([]vigil.Advisory, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT record FROM advisories ORDER BY id`)
	if err != nil {
		return nil, vigil.Wrap("equipment.advisories", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.Advisory
	for rows.Next() {
		var rec string
		var a vigil.Advisory
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rec), &a); err != nil {
			return nil, vigil.Wrap("equipment.advisories", vigil.Integrity, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetCost records a unit replacement cost. Errors: Invalid, Unavailable.
func (e *Equipment) SetCost(ctx context.Context, a vigil.Actor, c vigil.UnitCost) error {
	const op = "equipment.cost"
	switch {
	case c.Cents < 0:
		return vigil.FieldError(op, "cost", "is negative")
	case c.Model == "" && !c.Kind.Valid():
		return vigil.FieldError(op, "kind", "name a device kind or a manufacturer and model")
	case c.Model != "" && strings.TrimSpace(c.Manufacturer) == "":
		return vigil.FieldError(op, "manufacturer", "a model's price needs its manufacturer")
	case len(c.Manufacturer) > 256 || len(c.Model) > 256:
		return vigil.FieldError(op, "model", "longer than 256 bytes")
	}
	ev, err := vigil.NewEvent(a, vigil.EventUnitCostSet, costKey(c), e.now(), c)
	if err != nil {
		return err
	}
	_, err = e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Costs returns the unit costs as the plan reads them, and as recorded.
func (e *Equipment) Costs(ctx context.Context) (equipment.Costs, []vigil.UnitCost, error) {
	costs := equipment.Costs{ByModel: map[string]int64{}, ByKind: map[vigil.DeviceKind]int64{}}
	rows, err := e.db.QueryContext(ctx, `SELECT kind, manufacturer, model, cents FROM equipment_costs ORDER BY key`)
	if err != nil {
		return costs, nil, vigil.Wrap("equipment.costs", vigil.Unavailable, err)
	}
	defer rows.Close()
	var list []vigil.UnitCost
	for rows.Next() {
		var c vigil.UnitCost
		if err := rows.Scan(&c.Kind, &c.Manufacturer, &c.Model, &c.Cents); err != nil {
			return costs, nil, err
		}
		if c.Model != "" {
			costs.ByModel[equipment.ModelKey(c.Manufacturer, c.Model)] = c.Cents
		} else {
			costs.ByKind[c.Kind] = c.Cents
		}
		list = append(list, c)
	}
	return costs, list, rows.Err()
}

// SetMinimum sets the minimum vigil version a pollbook device must run
// ("" removes it). Errors: Invalid, Unavailable.
func (e *Equipment) SetMinimum(ctx context.Context, a vigil.Actor, version string) error {
	version = strings.TrimSpace(version)
	if version != "" {
		if _, err := equipment.ParseVersion(version); err != nil {
			return err
		}
	}
	ev, err := vigil.NewEvent(a, vigil.EventMinimumVersionSet, "pollbook", e.now(), vigil.MinimumVersion{Version: version})
	if err != nil {
		return err
	}
	_, err = e.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Minimum returns the minimum pollbook version ("" when none is set).
func (e *Equipment) Minimum(ctx context.Context) (string, error) {
	var v string
	err := e.db.QueryRowContext(ctx, `SELECT value FROM equipment_settings WHERE name = 'pollbook_minimum'`).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// Outdated applies the rules and the stored advisories to devices.
func (e *Equipment) Outdated(ctx context.Context, devices []DeviceRow) ([]equipment.Flag, error) {
	advs, err := e.Advisories(ctx)
	if err != nil {
		return nil, err
	}
	rules, err := e.EffectiveRules(ctx)
	if err != nil {
		return nil, err
	}
	return equipment.Outdated(plain(devices), advs, rules, e.now()), nil
}

// Plan builds the replacement plan of devices for years from this year.
func (e *Equipment) Plan(ctx context.Context, devices []DeviceRow, years int) (equipment.ReplacementPlan, error) {
	costs, _, err := e.Costs(ctx)
	if err != nil {
		return equipment.ReplacementPlan{}, err
	}
	rules, err := e.EffectiveRules(ctx)
	if err != nil {
		return equipment.ReplacementPlan{}, err
	}
	return equipment.Plan(plain(devices), costs, rules, e.now().Year(), years)
}

func plain(rows []DeviceRow) []vigil.Device {
	out := make([]vigil.Device, len(rows))
	for i, r := range rows {
		out[i] = r.Device
	}
	return out
}

// DevicePolicy is what decides whether a pollbook device may act: the
// effective lifecycle rules (OS end of support), the minimum vigil version
// and the advisories about vigil's own pollbook.
type DevicePolicy struct {
	Rules      equipment.Rules
	Minimum    string
	Advisories []vigil.Advisory
}

// Allow applies the policy to a device's reported version and OS.
func (p DevicePolicy) Allow(version, os string, now time.Time) (bool, []equipment.Reason) {
	return p.Rules.AllowDevice(version, os, p.Advisories, p.Minimum, now)
}

// DevicePolicy reads the policy pollbook devices are held to now.
func (e *Equipment) DevicePolicy(ctx context.Context) (DevicePolicy, error) {
	const op = "equipment.device_policy"
	var p DevicePolicy
	var err error
	if p.Minimum, err = e.Minimum(ctx); err != nil {
		return p, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if p.Rules, err = e.EffectiveRules(ctx); err != nil {
		return p, err
	}
	all, err := e.Advisories(ctx)
	if err != nil {
		return p, err
	}
	for _, adv := range all {
		model := strings.ToLower(strings.TrimSpace(adv.Model))
		if strings.EqualFold(strings.TrimSpace(adv.Manufacturer), vigil.VigilManufacturer) &&
			(model == "" || model == "*" || model == vigil.VigilPollbook) {
			p.Advisories = append(p.Advisories, adv)
		}
	}
	return p, nil
}

// PolicyVersion changes whenever anything DevicePolicy reads changes, so a
// policy can be cached between check-ins.
func (e *Equipment) PolicyVersion(ctx context.Context) (string, error) {
	var v string
	err := e.db.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(MAX(seq), 0) FROM equipment_rules) || '/' || (SELECT COUNT(*) FROM equipment_rules) || '/' ||
		(SELECT COALESCE(MAX(time), '') FROM equipment_settings WHERE name = 'pollbook_minimum') || '/' ||
		(SELECT COUNT(*) FROM advisories) || '/' || (SELECT COALESCE(MAX(imported), '') FROM advisories)`).Scan(&v)
	if err != nil {
		return "", vigil.Wrap("equipment.device_policy", vigil.Unavailable, err)
	}
	return v, nil
}
