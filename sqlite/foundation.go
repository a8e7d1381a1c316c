package sqlite

import (
	"github.com/vigil-elections/vigil"
)

func registerFoundation(m map[vigil.EventType]applier) {
	m[vigil.EventUserCreated] = func(tx *Tx, ev vigil.Event) error {
		u, err := decode[vigil.UserCreated](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO users(name, display_name, password_hash, created) VALUES (?,?,?,?)
			ON CONFLICT(name) DO NOTHING`, u.Name, u.DisplayName, u.PasswordHash, timeText(ev.Time))
		return err
	}
	m[vigil.EventUserPassword] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.PasswordSet](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE users SET password_hash = ? WHERE name = ?`, p.PasswordHash, p.Name)
		return err
	}
	m[vigil.EventUserMFAEnrolled] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.MFAEnrolled](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE users SET totp_sealed = ?, mfa = 1 WHERE name = ?`, p.TOTPSealed, p.Name)
		return err
	}
	setDisabled := func(v int) applier {
		return func(tx *Tx, ev vigil.Event) error {
			p, err := decode[vigil.UserRef](ev)
			if err != nil {
				return err
			}
			_, err = tx.Exec(`UPDATE users SET disabled = ? WHERE name = ?`, v, p.Name)
			return err
		}
	}
	m[vigil.EventUserDisabled] = setDisabled(1)
	m[vigil.EventUserEnabled] = setDisabled(0)
	m[vigil.EventRoleGranted] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.RoleChange](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO grants(user, role, scope, not_before, not_after) VALUES (?,?,?,?,?)
			ON CONFLICT(user, role, scope) DO UPDATE SET not_before = excluded.not_before, not_after = excluded.not_after`,
			p.User, p.Grant.Role, p.Grant.Scope, timeText(p.Grant.NotBefore), timeText(p.Grant.NotAfter))
		return err
	}
	m[vigil.EventRoleRevoked] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.RoleChange](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM grants WHERE user = ? AND role = ? AND scope = ?`, p.User, p.Grant.Role, p.Grant.Scope)
		return err
	}
	m[vigil.EventCountyDefined] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.County](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO counties(id, name) VALUES (?,?) ON CONFLICT(id) DO UPDATE SET name = excluded.name`, c.ID, c.Name)
		return err
	}
	m[vigil.EventPlaceDefined] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.PollingPlace](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO places(id, county, name, address) VALUES (?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET county = excluded.county, name = excluded.name, address = excluded.address`,
			p.ID, p.County, p.Name, p.Address)
		return err
	}
	m[vigil.EventPrecinctDefined] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.RollPrecinct](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO precincts(id, county, place, name, ballot_style) VALUES (?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET county = excluded.county, place = excluded.place, name = excluded.name,
			ballot_style = excluded.ballot_style`, p.ID, p.County, p.Place, p.Name, p.BallotStyle)
		return err
	}
	m[vigil.EventElectionDefined] = func(tx *Tx, ev vigil.Event) error {
		e, err := decode[vigil.ElectionDay](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO elections(id, name, day, voting_start, voting_end) VALUES (?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET name = excluded.name, day = excluded.day,
			voting_start = excluded.voting_start, voting_end = excluded.voting_end`,
			e.ID, e.Name, e.Day, timeText(e.VotingStart), timeText(e.VotingEnd))
		return err
	}
	m[vigil.EventVoterRegistered] = func(tx *Tx, ev vigil.Event) error {
		vs, err := decode[[]vigil.RollVoter](ev)
		if err != nil {
			return err
		}
		stmt, err := tx.Prepare(`INSERT INTO voters(id, county, precinct, first_name, middle, last_name, suffix,
			birth_date, street, city, zip, party, status, registered) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, v := range vs {
			if _, err := stmt.Exec(v.ID, v.County, v.Precinct, v.FirstName, v.Middle, v.LastName, v.Suffix,
				v.BirthDate, v.Street, v.City, v.Zip, v.Party, v.Status, v.Registered); err != nil {
				return err
			}
		}
		return nil
	}
}
