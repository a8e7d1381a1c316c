package sqlite

import (
	"context"
	"strings"

	"github.com/vigil-elections/vigil"
)

// VoterRow is what a check-in lookup shows: no full birth date, no
// identifiers.
type VoterRow struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	BirthYear string `json:"birth_year"`
	Status    string `json:"status"`
	Precinct  string `json:"precinct"`
	Place     string `json:"place"`
}

// LookupVoters finds voters whose last name starts with the query's first
// word (and first name with the second, if given) inside scopes.
func (db *DB) LookupVoters(ctx context.Context, q string, scopes []vigil.Scope, limit int) ([]VoterRow, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	words := strings.Fields(strings.ToUpper(strings.ReplaceAll(q, ",", " ")))
	if len(words) == 0 {
		return nil, nil
	}
	last, first := words[0], ""
	if len(words) > 1 {
		first = words[1]
	}
	var where []string
	var args []any
	args = append(args, escapeLike(last)+"%", escapeLike(first)+"%")
	for _, sc := range scopes {
		switch sc.Kind() {
		case "state":
			where = append(where, "1")
		case "county":
			where = append(where, "v.county = ?")
			args = append(args, sc.County())
		case "place":
			where = append(where, "(v.county = ? AND p.place = ?)")
			parts := strings.Split(string(sc), "/")
			args = append(args, sc.County(), parts[3])
		}
	}
	if len(where) == 0 {
		return nil, nil
	}
	args = append(args, limit)
	rows, err := db.QueryContext(ctx, `SELECT v.id, v.first_name, v.middle, v.last_name, v.suffix, v.street, v.city, v.zip,
		substr(v.birth_date, 1, 4), v.status, v.precinct, COALESCE(p.place, '')
		FROM voters v LEFT JOIN precincts p ON p.id = v.precinct
		WHERE upper(v.last_name) LIKE ? ESCAPE '\' AND upper(v.first_name) LIKE ? ESCAPE '\'
		AND (`+strings.Join(where, " OR ")+`)
		ORDER BY v.last_name, v.first_name, v.id LIMIT ?`, args...)
	if err != nil {
		return nil, vigil.Wrap("voters.lookup", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []VoterRow
	for rows.Next() {
		var r VoterRow
		var f, m, l, sfx, street, city, zip string
		if err := rows.Scan(&r.ID, &f, &m, &l, &sfx, &street, &city, &zip, &r.BirthYear, &r.Status, &r.Precinct, &r.Place); err != nil {
			return nil, err
		}
		r.Name = strings.Join(strings.Fields(l+", "+f+" "+m+" "+sfx), " ")
		r.Address = street + ", " + city + " " + zip
		out = append(out, r)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
