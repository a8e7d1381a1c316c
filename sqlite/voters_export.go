package sqlite

import (
	"context"
	"encoding/csv"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// ExportFormats are the formats Export writes.
var ExportFormats = []string{voter.FormatNISTJSON, voter.FormatNISTXML, voter.FormatCSV}

// csvHeader is the column list of the csv export.
var csvHeader = []string{"voter_id", "county", "precinct", "last_name", "first_name", "middle_name", "suffix",
	"birth_date", "gender", "res_line1", "res_line2", "res_city", "res_state", "res_zip", "mail_line1", "mail_city",
	"mail_state", "mail_zip", "party", "status", "status_reason", "registered"}

// Export writes the registrations inside target in format (nist-json,
// nist-xml or csv). The export is recorded as a voter.exported event
// before any data is written, so a copy of the roll never leaves unlogged.
// Identifiers are never exported; confidential addresses are left out.
// Errors: Invalid (format), Unavailable.
func (s *VoterService) Export(ctx context.Context, actor vigil.Actor, format string, target vigil.Scope, w io.Writer) (int, error) {
	const op = "voters.export"
	switch format {
	case voter.FormatNISTJSON, voter.FormatNISTXML, voter.FormatCSV:
	default:
		return 0, vigil.FieldError(op, "format", "use one of %s", strings.Join(ExportFormats, ", "))
	}
	if err := target.Validate(); err != nil {
		return 0, err
	}
	ev, err := vigil.NewEvent(actor, vigil.EventVoterExported, string(target), s.Now(), vigil.VoterExport{Format: format, Target: target})
	if err != nil {
		return 0, err
	}
	if _, err := s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		return 0, err
	}
	n := 0
	if format == voter.FormatCSV {
		cw := csv.NewWriter(w)
		cw.Write(csvHeader)
		err = s.DB.EachVoter(ctx, []vigil.Scope{target}, func(sv StoredVoter) error {
			v := &sv.Voter
			res := v.Residence
			if v.Confidential {
				res = vigil.Address{}
			}
			n++
			return cw.Write([]string{string(v.ID), v.County, v.Precinct, v.Name.Last, v.Name.First, v.Name.Middle, v.Name.Suffix,
				v.BirthDate.String(), v.Gender, res.Line1, res.Line2, res.City, res.State, res.ZIP, v.Mailing.Line1, v.Mailing.City,
				v.Mailing.State, v.Mailing.ZIP, v.Party, string(v.Status.Code), string(v.Status.Reason), v.Registered.String()})
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		return n, err
	}
	nw, err := voter.NewNISTWriter(w, format, voter.WriterOptions{TransactionID: ev.ID})
	if err != nil {
		return 0, err
	}
	err = s.DB.EachVoter(ctx, []vigil.Scope{target}, func(sv StoredVoter) error {
		n++
		return nw.Write(&sv.Voter)
	})
	if err != nil {
		return n, err
	}
	return n, nw.Close()
}

// RosterRow is one voter of a polling place's roster: what a pollbook needs
// to check the voter in, and the ballot style to hand out.
type RosterRow struct {
	ID, Name, Address, BirthYear, Status, Precinct, BallotStyle string
}

// Roster lists the voters who vote at a polling place (active and
// inactive; cancelled registrations are left out), by name.
func (db *DB) Roster(ctx context.Context, place string, fn func(RosterRow) error) error {
	rows, err := db.QueryContext(ctx, `SELECT v.id, v.first_name, v.middle, v.last_name, v.suffix, v.street, v.city, v.zip,
		substr(v.birth_date, 1, 4), v.status, v.precinct, p.ballot_style
		FROM voters v JOIN precincts p ON p.id = v.precinct
		WHERE p.place = ? AND v.status IN ('active', 'inactive') AND v.merged_into = ''
		ORDER BY v.last_name, v.first_name, v.id`, place)
	if err != nil {
		return vigil.Wrap("voters.roster", vigil.Unavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RosterRow
		var f, m, l, sfx, street, city, zip string
		if err := rows.Scan(&r.ID, &f, &m, &l, &sfx, &street, &city, &zip, &r.BirthYear, &r.Status, &r.Precinct, &r.BallotStyle); err != nil {
			return err
		}
		r.Name = strings.Join(strings.Fields(l+", "+f+" "+m+" "+sfx), " ")
		r.Address = strings.TrimSpace(street + ", " + city + " " + zip)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// WriteRoster writes a polling place's roster as CSV; it returns the
// number of voters. Errors: NotFound (no such place), Unavailable.
func (db *DB) WriteRoster(ctx context.Context, place string, w io.Writer) (int, error) {
	var county string
	if err := db.QueryRowContext(ctx, `SELECT county FROM places WHERE id = ?`, place).Scan(&county); err != nil {
		return 0, vigil.Errorf(vigil.NotFound, "voters.roster", "there is no polling place %s", place)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"voter_id", "name", "address", "birth_year", "status", "precinct", "ballot_style"})
	n := 0
	err := db.Roster(ctx, place, func(r RosterRow) error {
		n++
		return cw.Write([]string{r.ID, r.Name, r.Address, r.BirthYear, r.Status, r.Precinct, r.BallotStyle})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}
