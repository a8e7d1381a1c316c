package equipment

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// InventoryColumns returns the columns of vigil's own inventory CSV, in the
// order WriteInventory writes them. The first thirteen are required on
// import; the rest are optional. Columns may come in any order.
//
//	id                 unique record id (asset tag or serial usually)
//	kind               pollbook, scanner, bmd, dre, ems, workstation, network, portal
//	manufacturer       e.g. ES&S
//	model              e.g. DS200
//	serial             manufacturer serial number
//	jurisdiction       county name or FIPS code
//	acquired           YYYY-MM-DD, or YYYY when only the year is known, or empty
//	os, os_version     operating system, e.g. "Windows" and "10"
//	firmware_version   strict version (see Version), or empty
//	software_version   strict version, or empty
//	certification      federal certified system and version, "EVS 6.2.0.0"
//	status             in_service, storage or retired
//	asset_tag, location
//	cost               price per unit in dollars, e.g. 5250.00
//	quantity           units the record stands for (default 1)
//	vvsg               2002 VSS, VVSG 1.0, VVSG 1.1, VVSG 2.0
//	certification_status  certified, under_test, decertified, withdrawn
//	state_certification   free text
//	seals              seal numbers separated by ";"
//	notes
//
// Chain-of-custody transfers are events in the log, not inventory columns.
func InventoryColumns() []string { return append([]string(nil), inventoryColumns...) }

var inventoryColumns = []string{
	"id", "kind", "manufacturer", "model", "serial", "jurisdiction", "acquired",
	"os", "os_version", "firmware_version", "software_version", "certification", "status",
	"asset_tag", "location", "cost", "quantity", "vvsg", "certification_status",
	"state_certification", "seals", "notes",
}

const requiredInventoryColumns = 13

// ReadInventory reads vigil's inventory CSV. Every problem names its line
// and column; up to ten problems are reported at once. Duplicate ids are
// refused.
func ReadInventory(r io.Reader) ([]vigil.Device, error) {
	const op = "equipment.import"
	t, err := newTable(op, r, 0, inventoryColumns[:requiredInventoryColumns], inventoryColumns[requiredInventoryColumns:])
	if err != nil {
		return nil, err
	}
	var out []vigil.Device
	seen := map[vigil.DeviceID]int{}
	for row := t.next(); row != nil; row = t.next() {
		d, ok := parseDevice(row)
		if !ok {
			continue
		}
		if prev, dup := seen[d.ID]; dup {
			row.fail("id", "id %q is already used on line %d", clip(string(d.ID)), prev)
			continue
		}
		seen[d.ID] = row.line
		out = append(out, d)
	}
	if err := t.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseDevice(row *row) (vigil.Device, bool) {
	n := len(row.t.errs)
	d := vigil.Device{
		ID:           vigil.DeviceID(row.get("id")),
		Kind:         vigil.DeviceKind(strings.ToLower(row.get("kind"))),
		Manufacturer: row.get("manufacturer"),
		Model:        row.get("model"),
		Serial:       row.get("serial"),
		AssetTag:     row.get("asset_tag"),
		Jurisdiction: row.get("jurisdiction"),
		Location:     row.get("location"),
		OS:           row.get("os"),
		OSVersion:    row.get("os_version"),
		Notes:        row.get("notes"),
		Status:       parseStatus(row.get("status")),
	}
	var err error
	if d.Acquired, err = parseDate(row.get("acquired")); err != nil {
		row.fail("acquired", "%q is not a date; write YYYY-MM-DD, or YYYY if only the year is known", clip(row.get("acquired")))
	}
	for _, f := range []struct {
		col string
		dst *string
	}{{"firmware_version", &d.FirmwareVersion}, {"software_version", &d.SoftwareVersion}} {
		v := row.get(f.col)
		if v != "" {
			if _, err := ParseVersion(v); err != nil {
				row.fail(f.col, "%s", plainMessage(err))
			}
		}
		*f.dst = v
	}
	d.Certification.System, d.Certification.Version = splitCertification(row.get("certification"))
	d.Certification.VVSG = parseVVSG(row.get("vvsg"))
	d.Certification.Status = vigil.CertificationStatus(normalizeWord(row.get("certification_status")))
	d.Certification.State = row.get("state_certification")
	if c := row.get("cost"); c != "" {
		if d.CostCents, err = parseDollars(c); err != nil {
			row.fail("cost", "%q is not an amount; write dollars and cents such as 5250.00, without $ or commas", clip(c))
		}
	}
	if q := row.get("quantity"); q != "" {
		if d.Quantity, err = strconv.Atoi(q); err != nil || d.Quantity < 1 || d.Quantity > 1_000_000 {
			row.fail("quantity", "%q is not a number of units between 1 and 1000000", clip(q))
		}
	}
	if s := row.get("seals"); s != "" {
		for _, seal := range strings.Split(s, ";") {
			if seal = strings.TrimSpace(seal); seal != "" {
				d.Seals = append(d.Seals, seal)
			}
		}
	}
	if len(row.t.errs) > n {
		return d, false
	}
	if err := d.Validate(); err != nil {
		row.failErr(err)
		return d, false
	}
	return d, true
}

// splitCertification splits "Democracy Suite 5.17" into system and version:
// the last word is the version when it parses as one.
func splitCertification(s string) (system, version string) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		if _, err := ParseVersion(s); err == nil {
			return "", s
		}
		return s, ""
	}
	if _, err := ParseVersion(s[i+1:]); err == nil {
		return strings.TrimSpace(s[:i]), s[i+1:]
	}
	return s, ""
}

func parseStatus(s string) vigil.DeviceStatus {
	switch w := normalizeWord(s); w {
	case "in_service", "inservice", "active":
		return vigil.DeviceInService
	case "storage", "in_storage", "stored":
		return vigil.DeviceInStorage
	default:
		return vigil.DeviceStatus(w)
	}
}

func parseVVSG(s string) vigil.VVSGEdition {
	switch strings.ToUpper(strings.Join(strings.Fields(s), " ")) {
	case "":
		return ""
	case "2002 VSS", "VSS 2002", "2002":
		return vigil.VSS2002
	case "VVSG 1.0", "VVSG 1", "2005 VVSG", "2005 VVSG 1.0", "1.0":
		return vigil.VVSG10
	case "VVSG 1.1", "1.1":
		return vigil.VVSG11
	case "VVSG 2.0", "VVSG 2", "2.0":
		return vigil.VVSG20
	}
	return vigil.VVSGEdition(s)
}

func normalizeWord(s string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
}

func parseDate(s string) (time.Time, error) {
	switch len(s) {
	case 0:
		return time.Time{}, nil
	case 4:
		y, err := strconv.Atoi(s)
		if err != nil || y < 1900 || s[0] == '+' || s[0] == '-' {
			return time.Time{}, fmt.Errorf("bad year")
		}
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err == nil && t.Year() < 1900 {
		return time.Time{}, fmt.Errorf("bad year")
	}
	return t, err
}

// parseDollars reads "5250", "5250.5" or "5250.00" into cents.
func parseDollars(s string) (int64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || dot && (frac == "" || len(frac) > 2) {
		return 0, fmt.Errorf("bad amount")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("bad amount")
			}
		}
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

func formatDollars(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// WriteInventory writes devices in the InventoryColumns layout, which
// ReadInventory reads back unchanged. A date known only to the year is
// written as YYYY-01-01.
func WriteInventory(w io.Writer, devices []vigil.Device) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(inventoryColumns); err != nil {
		return err
	}
	for _, d := range devices {
		cert := strings.TrimSpace(d.Certification.System + " " + d.Certification.Version)
		acquired, cost, qty := "", "", ""
		if !d.Acquired.IsZero() {
			acquired = d.Acquired.Format("2006-01-02")
		}
		if d.CostCents != 0 {
			cost = formatDollars(d.CostCents)
		}
		if d.Quantity != 0 {
			qty = strconv.Itoa(d.Quantity)
		}
		rec := []string{
			string(d.ID), string(d.Kind), d.Manufacturer, d.Model, d.Serial, d.Jurisdiction, acquired,
			d.OS, d.OSVersion, d.FirmwareVersion, d.SoftwareVersion, cert, string(d.Status),
			d.AssetTag, d.Location, cost, qty, string(d.Certification.VVSG), string(d.Certification.Status),
			d.Certification.State, strings.Join(d.Seals, ";"), d.Notes,
		}
		for i, f := range rec {
			rec[i] = defuseFormula(f)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuseFormula keeps a spreadsheet from running a cell as a formula when
// an exported file is opened: a value starting with = + - @ gets a leading
// apostrophe, which spreadsheets hide. Versions and dates never start with
// these characters, so they are unaffected.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
