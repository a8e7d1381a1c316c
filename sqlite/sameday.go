package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Same-day registration at the polls (issue 4 §2): the county's policy,
// and the check a poll worker's registration must pass before it is made.

func registerCountyPolicy(m map[vigil.EventType]applier) {
	m[vigil.EventCountyPolicySet] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.CountyPolicy](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE counties SET same_day_registration = ?, policy_actor = ?, policy_reason = ? WHERE id = ?`,
			p.SameDayRegistration, ev.Actor, p.Reason, p.County)
		return err
	}
}

// SetCountyPolicy records a county's election-day rules. Errors: NotFound
// (no such county), Invalid (no reason).
func SetCountyPolicy(ctx context.Context, db *DB, log vigil.EventAppender, a vigil.Actor, p vigil.CountyPolicy, now time.Time) error {
	const op = "county.policy"
	if _, err := db.SameDayRegistration(ctx, p.County); err != nil {
		return err
	}
	if err := vigil.ValidateReason(op, "reason", p.Reason); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(a, vigil.EventCountyPolicySet, p.County, now, p)
	if err != nil {
		return err
	}
	_, err = log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// SameDayRegistration says whether the county allows registering voters at
// the polls. Errors: NotFound (no such county).
func (db *DB) SameDayRegistration(ctx context.Context, county string) (bool, error) {
	var on bool
	err := db.QueryRowContext(ctx, `SELECT same_day_registration FROM counties WHERE id = ?`, county).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, vigil.Errorf(vigil.NotFound, "county.policy", "no county %q", county)
	}
	return on, vigil.Wrap("county.policy", vigil.Unavailable, err)
}

// RegisteredAs returns the voters of the county with this name and date of
// birth: a same-day registration of someone already on the roll is refused
// naming them (look them up instead).
func (db *DB) RegisteredAs(ctx context.Context, county, first, last string, birth vigil.Date) ([]vigil.VoterID, error) {
	// The roll keeps names as the files spelled them: ask for the usual
	// spellings so that the name index answers, then compare ignoring case.
	spellings := map[string]bool{last: true, strings.ToUpper(last): true, strings.ToLower(last): true}
	if last != "" {
		spellings[strings.ToUpper(last[:1])+strings.ToLower(last[1:])] = true
	}
	var out []vigil.VoterID
	for l := range spellings {
		rows, err := db.QueryContext(ctx, `SELECT id, first_name FROM voters WHERE last_name = ? AND county = ?
			AND birth_date = ? AND merged_into = ''`, l, county, birth.String())
		if err != nil {
			return nil, vigil.Wrap("voters.same_person", vigil.Unavailable, err)
		}
		for rows.Next() {
			var id, f string
			if err := rows.Scan(&id, &f); err != nil {
				rows.Close()
				return nil, err
			}
			if strings.EqualFold(strings.TrimSpace(f), strings.TrimSpace(first)) {
				out = append(out, vigil.VoterID(id))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
