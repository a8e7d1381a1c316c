package sqlite

import (
	"context"
	"sort"

	"github.com/vigil-elections/vigil"
)

// ReconcileLine compares, for one precinct or polling place, pollbook
// check-ins with the ballots counted (CVRs of complete imports) and the
// manifest. Provisional ballots are counted apart: they are neither
// check-ins nor, until accepted, counted ballots.
type ReconcileLine struct {
	vigil.Discrepancy
	Flagged bool `json:"flagged"` // |Difference| or |Ballots - Manifest| is above the threshold
}

// Reconcile compares check-ins (of election, or of every election when
// empty) with counted ballots, precinct by precinct and place by place, in
// the service's county (or every county).
//
// Manifest counts are batch counts; a batch is attributed to a precinct
// only when all its CVRs are of that precinct (precinct-sorted batches),
// otherwise the precinct's Manifest is 0 and not compared. Places map to
// precincts through the precincts table. Errors: Unavailable.
func (t *Tabulation) Reconcile(ctx context.Context, election string, threshold int) ([]ReconcileLine, error) {
	const op = "reconcile"
	type key struct{ kind, id string }
	lines := map[key]*vigil.Discrepancy{}
	get := func(kind, id string) *vigil.Discrepancy {
		k := key{kind, id}
		if lines[k] == nil {
			lines[k] = &vigil.Discrepancy{County: t.county, Kind: kind, ID: id}
		}
		return lines[k]
	}
	query := func(q string, fn func(id string, n int), args ...any) error {
		rows, err := t.db.QueryContext(ctx, q, args...)
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return vigil.Wrap(op, vigil.Unavailable, err)
			}
			fn(id, n)
		}
		return rows.Err()
	}
	steps := []struct {
		q    string
		fn   func(id string, n int)
		args []any
	}{
		{`SELECT precinct, COUNT(*) FROM checkins WHERE state = 'checked_in' AND (?1 = '' OR election = ?1)
			AND (?2 = '' OR county = ?2) GROUP BY precinct`,
			func(id string, n int) { get("precinct", id).CheckIns += n }, []any{election, t.county}},
		{`SELECT place, COUNT(*) FROM checkins WHERE state = 'checked_in' AND (?1 = '' OR election = ?1)
			AND (?2 = '' OR county = ?2) GROUP BY place`,
			func(id string, n int) { get("place", id).CheckIns += n }, []any{election, t.county}},
		{`SELECT place, COUNT(*) FROM provisionals WHERE (?1 = '' OR election = ?1) AND (?2 = '' OR county = ?2) GROUP BY place`,
			func(id string, n int) { get("place", id).Provisionals += n }, []any{election, t.county}},
		{`SELECT c.precinct, COUNT(*) FROM cvrs c JOIN cvr_imports i ON i.id = c.import
			WHERE i.complete = 1 AND (?1 = '' OR c.county = ?1) GROUP BY c.precinct`,
			func(id string, n int) { get("precinct", id).Ballots += n }, []any{t.county}},
		{`SELECT pr.place, COUNT(*) FROM cvrs c JOIN cvr_imports i ON i.id = c.import JOIN precincts pr ON pr.id = c.precinct
			WHERE i.complete = 1 AND (?1 = '' OR c.county = ?1) GROUP BY pr.place`,
			func(id string, n int) { get("place", id).Ballots += n }, []any{t.county}},
		{`SELECT b.precinct, SUM(m.ballots) FROM manifest_batches m JOIN (
			SELECT c.county, c.tabulator, c.batch, MIN(c.precinct) precinct FROM cvrs c JOIN cvr_imports i ON i.id = c.import
			WHERE i.complete = 1 AND (?1 = '' OR c.county = ?1) GROUP BY c.county, c.tabulator, c.batch
			HAVING MIN(c.precinct) = MAX(c.precinct)) b
			ON b.county = m.county AND b.tabulator = m.tabulator AND b.batch = m.batch GROUP BY b.precinct`,
			func(id string, n int) { get("precinct", id).Manifest += n }, []any{t.county}},
	}
	for _, s := range steps {
		if err := query(s.q, s.fn, s.args...); err != nil {
			return nil, err
		}
	}
	out := make([]ReconcileLine, 0, len(lines))
	for _, d := range lines {
		d.Difference = d.Ballots - d.CheckIns
		l := ReconcileLine{Discrepancy: *d}
		l.Flagged = abs(d.Difference) > threshold || (d.Manifest > 0 && abs(d.Ballots-d.Manifest) > threshold)
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind > out[j].Kind // precincts first, then places
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// RecordDiscrepancies appends a reconciliation.discrepancy event for every
// flagged line not already recorded with the same numbers, so that the
// detection engine sees each new disagreement once. It returns how many
// were recorded. Errors: Unavailable.
func (t *Tabulation) RecordDiscrepancies(ctx context.Context, a vigil.Actor, lines []ReconcileLine) (int, error) {
	var evs []vigil.Event
	for _, l := range lines {
		if !l.Flagged {
			continue
		}
		var n int
		if err := t.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reconciliation_discrepancies WHERE county = ? AND kind = ? AND id = ?
			AND checkins = ? AND provisionals = ? AND ballots = ? AND manifest = ?`,
			l.County, l.Kind, l.ID, l.CheckIns, l.Provisionals, l.Ballots, l.Manifest).Scan(&n); err != nil {
			return 0, vigil.Wrap("reconcile", vigil.Unavailable, err)
		}
		if n > 0 {
			continue
		}
		ev, err := vigil.NewEvent(a, vigil.EventReconciliationDiscrepancy, l.Kind+"."+l.ID, t.now(), l.Discrepancy)
		if err != nil {
			return 0, err
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return 0, nil
	}
	if _, err := t.log.Append(ctx, evs, vigil.AppendOptions{}); err != nil {
		return 0, err
	}
	return len(evs), nil
}
