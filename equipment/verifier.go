package equipment

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// The Verified Voting "Verifier" export (equipment by jurisdiction), as
// re-published in votingworks/verified-voting-data-analysis:
// data/YYYY_verifier-machines.csv and data/YYYY_verifier-jurisdictions.csv.
//
// Line 1 is a preamble that is not CSV ("The Verifier - November 2024. Data
// as of December 7, 2025."); line 2 is the header; every data row ends in a
// trailing comma. "First Year in Use" may be blank or, for some old
// equipment, negative; both are read as unknown.

// YesNo is a Verifier flag column.
type YesNo string

const (
	Unset YesNo = ""
	Yes   YesNo = "Yes"
	No    YesNo = "No"
	NA    YesNo = "N/A"
)

// VerifierMachine is one row of verifier-machines.csv: one use of one
// equipment model in one jurisdiction (not one device).
type VerifierMachine struct {
	Line                  int
	FIPS                  string // 10 digits: state 2, county 3, sub-county 5
	State                 string
	Jurisdiction          string
	EquipmentType         string // e.g. "Hand-Fed Optical Scanner"
	Manufacturer          string
	Model                 string
	FirstYear             int    // 0 when blank or negative
	FirstYearText         string // the field as written
	QRBarcode             YesNo
	VVPAT                 YesNo
	ElectionDayStandard   YesNo
	ElectionDayAccessible YesNo
	EarlyVotingStandard   YesNo
	EarlyVotingAccessible YesNo
	MailBallot            YesNo
	Notes                 string
}

// VerifierJurisdiction is one row of verifier-jurisdictions.csv.
type VerifierJurisdiction struct {
	Line             int
	FIPS             string
	State            string
	Jurisdiction     string
	RegisteredVoters int // -1 when blank
	Precincts        int // -1 when blank
	VotingLocation   string
	AllMail          YesNo
	MarkingMethod    string
	Tabulation       string
}

var verifierMachineColumns = []string{
	"fips_code", "state", "jurisdiction", "equipment_type", "manufacturer", "model",
	"first_year_in_use", "qr/barcode", "vvpat", "election_day_standard", "election_day_accessible",
	"early_voting_standard", "early_voting_accessible", "mail_ballot/absentee_equipment", "notes_on_usage",
}

var verifierJurisdictionColumns = []string{
	"fips_code", "state", "jurisdiction", "registered_voters", "precincts", "voting_location",
	"all_mail_ballot?", "election_day_marking_method", "election_day_tabulation",
}

var fipsPattern = regexp.MustCompile(`^[0-9]{10}$`)

// verifierTable skips the preamble line when there is one and opens the table.
func verifierTable(op string, r io.Reader, cols []string) (*table, string, error) {
	br := bufio.NewReader(io.LimitReader(r, 1<<30))
	first, err := br.Peek(1)
	if err != nil && len(first) == 0 {
		return nil, "", vigil.FieldError(op, "header", "line 1: the file is empty")
	}
	head, _ := br.Peek(64)
	if strings.HasPrefix(strings.ToLower(strings.TrimPrefix(string(head), "\ufeff")), "fips code") ||
		strings.HasPrefix(strings.ToLower(strings.TrimPrefix(string(head), "\ufeff")), "\"fips code") {
		t, err := newTable(op, br, 0, cols, nil)
		return t, "", err
	}
	preamble, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, "", vigil.Wrap(op, vigil.Other, err)
	}
	if len(preamble) > 1024 {
		return nil, "", vigil.FieldError(op, "header", "line 1: expected the Verifier preamble or header, found a line of %d bytes", len(preamble))
	}
	t, err := newTable(op, br, 1, cols, nil)
	return t, strings.TrimSpace(preamble), err
}

// ReadVerifierMachines reads a verifier-machines.csv export. It returns the
// preamble line (empty when the file has none) and the rows.
func ReadVerifierMachines(r io.Reader) (preamble string, rows []VerifierMachine, err error) {
	const op = "equipment.import_verifier"
	t, preamble, err := verifierTable(op, r, verifierMachineColumns)
	if err != nil {
		return "", nil, err
	}
	for row := t.next(); row != nil; row = t.next() {
		n := len(t.errs)
		m := VerifierMachine{
			Line:          row.line,
			FIPS:          row.get("fips_code"),
			State:         row.get("state"),
			Jurisdiction:  row.get("jurisdiction"),
			EquipmentType: row.get("equipment_type"),
			Manufacturer:  row.get("manufacturer"),
			Model:         row.get("model"),
			FirstYearText: row.get("first_year_in_use"),
			Notes:         row.get("notes_on_usage"),
		}
		checkFIPS(row, m.FIPS)
		for _, col := range []string{"state", "jurisdiction", "equipment_type", "manufacturer", "model"} {
			if row.get(col) == "" {
				row.fail(col, "%s is empty", col)
			}
		}
		if y := m.FirstYearText; y != "" {
			n, err := strconv.Atoi(y)
			switch {
			case err != nil || len(y) > 6:
				row.fail("first_year_in_use", "%q is not a year", clip(y))
			case n >= 1900 && n <= 2200:
				m.FirstYear = n
			case n <= 0:
				// A known anomaly of the dataset: read as unknown.
			default:
				row.fail("first_year_in_use", "year %d is out of range", n)
			}
		}
		for _, f := range []struct {
			col string
			dst *YesNo
		}{
			{"qr/barcode", &m.QRBarcode}, {"vvpat", &m.VVPAT},
			{"election_day_standard", &m.ElectionDayStandard}, {"election_day_accessible", &m.ElectionDayAccessible},
			{"early_voting_standard", &m.EarlyVotingStandard}, {"early_voting_accessible", &m.EarlyVotingAccessible},
			{"mail_ballot/absentee_equipment", &m.MailBallot},
		} {
			*f.dst = parseYesNo(row, f.col)
		}
		if len(t.errs) == n {
			rows = append(rows, m)
		}
	}
	if err := t.err(); err != nil {
		return "", nil, err
	}
	return preamble, rows, nil
}

// ReadVerifierJurisdictions reads a verifier-jurisdictions.csv export.
func ReadVerifierJurisdictions(r io.Reader) (preamble string, rows []VerifierJurisdiction, err error) {
	const op = "equipment.import_verifier"
	t, preamble, err := verifierTable(op, r, verifierJurisdictionColumns)
	if err != nil {
		return "", nil, err
	}
	for row := t.next(); row != nil; row = t.next() {
		n := len(t.errs)
		j := VerifierJurisdiction{
			Line:           row.line,
			FIPS:           row.get("fips_code"),
			State:          row.get("state"),
			Jurisdiction:   row.get("jurisdiction"),
			VotingLocation: row.get("voting_location"),
			AllMail:        parseYesNo(row, "all_mail_ballot?"),
			MarkingMethod:  row.get("election_day_marking_method"),
			Tabulation:     row.get("election_day_tabulation"),
		}
		checkFIPS(row, j.FIPS)
		j.RegisteredVoters = parseCount(row, "registered_voters")
		j.Precincts = parseCount(row, "precincts")
		if len(t.errs) == n {
			rows = append(rows, j)
		}
	}
	if err := t.err(); err != nil {
		return "", nil, err
	}
	return preamble, rows, nil
}

func checkFIPS(row *row, fips string) {
	if !fipsPattern.MatchString(fips) {
		row.fail("fips_code", "%q is not a 10-digit FIPS code", clip(fips))
	}
}

func parseYesNo(row *row, col string) YesNo {
	switch v := row.get(col); strings.ToLower(v) {
	case "":
		return Unset
	case "yes":
		return Yes
	case "no":
		return No
	case "n/a":
		return NA
	default:
		row.fail(col, "%q is not Yes, No or N/A", clip(v))
		return Unset
	}
}

func parseCount(row *row, col string) int {
	v := strings.ReplaceAll(row.get(col), ",", "")
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || len(v) > 10 {
		row.fail(col, "%q is not a count", clip(row.get(col)))
		return -1
	}
	return n
}

// VerifierKind maps a Verifier "Equipment Type" to a device kind. It
// reports false for rows that are not equipment (paper pollbooks, hand
// counting) and for types it does not know.
func VerifierKind(equipmentType string) (vigil.DeviceKind, bool) {
	t := strings.ToLower(equipmentType)
	switch {
	case strings.Contains(t, "paper poll book"), strings.Contains(t, "hand count"):
		return "", false
	case strings.Contains(t, "dre"):
		return vigil.DeviceDRE, true
	case strings.Contains(t, "optical scan"):
		return vigil.DeviceScanner, true
	case strings.Contains(t, "ballot marking"):
		return vigil.DeviceBMD, true
	case strings.Contains(t, "poll book"), strings.Contains(t, "pollbook"):
		return vigil.DevicePollbook, true
	case strings.Contains(t, "internet voting"), strings.Contains(t, "portal"):
		return vigil.DevicePortal, true
	}
	return "", false
}

// VerifierDevices turns Verifier rows into inventory records, one per row,
// so the lifecycle rules can run over public data. The id is
// "FIPS/type/model"; jurisdiction is the FIPS code and location is
// "Jurisdiction, State". Acquired is January 1 of First Year in Use. Rows
// that are not equipment, whose manufacturer is "Not Applicable", or that
// would not make a valid device (an over-long or garbled field) are returned
// in skipped.
func VerifierDevices(rows []VerifierMachine) (devices []vigil.Device, skipped []VerifierMachine) {
	seen := map[vigil.DeviceID]int{}
	for _, m := range rows {
		kind, ok := VerifierKind(m.EquipmentType)
		if !ok || strings.EqualFold(m.Manufacturer, "Not Applicable") {
			skipped = append(skipped, m)
			continue
		}
		id := vigil.DeviceID(m.FIPS + "/" + slug(m.EquipmentType) + "/" + slug(m.Model))
		if n := seen[id]; n > 0 {
			seen[id] = n + 1
			id = vigil.DeviceID(string(id) + "/" + strconv.Itoa(n+1))
		} else {
			seen[id] = 1
		}
		d := vigil.Device{
			ID:           id,
			Kind:         kind,
			Manufacturer: m.Manufacturer,
			Model:        m.Model,
			Jurisdiction: m.FIPS,
			Location:     m.Jurisdiction + ", " + m.State,
			Status:       vigil.DeviceInService,
			Notes:        m.Notes,
		}
		if m.FirstYear > 0 {
			d.Acquired = time.Date(m.FirstYear, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if d.Validate() != nil {
			skipped = append(skipped, m)
			continue
		}
		devices = append(devices, d)
	}
	return devices, skipped
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
