package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// Voting history written back to the roll after an election: who voted,
// how and where, from what the pollbooks recorded.

// VotingHistoryResult says what WriteVotingHistory did.
type VotingHistoryResult struct {
	Election string `json:"election"`
	Voters   int    `json:"voters"`  // participants the pollbooks recorded
	Added    int    `json:"added"`   // history entries written
	Already  int    `json:"already"` // voters whose history already held the election
	Missing  int    `json:"missing"` // participants no longer on the roll (merged away, …)
	Events   int    `json:"events"`
}

// WriteVotingHistory adds the election to the voting history of every
// voter the pollbooks recorded for it — checked in (in person or early),
// a mail ballot received, or a provisional ballot accepted — with the
// method and the polling place, as voter.changed events (reason
// voting-history) in batches. county "" means every county. It runs only
// once the voting period is over, and running it again adds nothing.
// Errors: NotFound (no such election), Conflict (voting not over), Unavailable.
func (s *VoterService) WriteVotingHistory(ctx context.Context, actor vigil.Actor, election, county string) (VotingHistoryResult, error) {
	const op = "voters.history"
	res := VotingHistoryResult{Election: election}
	var name, day, end string
	err := s.DB.QueryRowContext(ctx, `SELECT name, day, voting_end FROM elections WHERE id = ?`, election).Scan(&name, &day, &end)
	if err == sql.ErrNoRows {
		return res, &vigil.Error{Op: op, Kind: vigil.NotFound, Field: "election", Message: "there is no election " + election}
	}
	if err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if closes := parseTime(end); s.Now().Before(closes) {
		return res, vigil.Errorf(vigil.Conflict, op, "voting in %s is open until %s: write the history once the polls have closed",
			name, closes.Format(time.RFC3339))
	}
	date, err := vigil.ParseDate(day)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Integrity, err)
	}
	type took struct {
		method vigil.VotingMethod
		place  string
	}
	participants := map[vigil.VoterID]took{}
	var order []vigil.VoterID
	rows, err := s.DB.QueryContext(ctx, `SELECT voter, method, place, 0 FROM checkins
			WHERE election = ?1 AND state = 'checked_in' AND (?2 = '' OR county = ?2)
		UNION ALL SELECT voter, 'provisional', place, 1 FROM provisionals
			WHERE election = ?1 AND status = 'accepted' AND voter != '' AND (?2 = '' OR county = ?2)
		ORDER BY 1, 4`, election, county)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	for rows.Next() {
		var id, method, place string
		var provisional int
		if err := rows.Scan(&id, &method, &place, &provisional); err != nil {
			rows.Close()
			return res, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if _, seen := participants[vigil.VoterID(id)]; seen {
			continue // a check-in wins over a provisional ballot of the same voter
		}
		participants[vigil.VoterID(id)] = took{vigil.VotingMethod(method), place}
		order = append(order, vigil.VoterID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	res.Voters = len(order)
	fp := voter.NewFingerprinter(s.fpKey)
	var batch []vigil.VoterRecord
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		p := vigil.VoterRecords{Reason: vigil.ReasonVotingHistory, Detail: "voting history of " + name + " (" + day + ") from the pollbooks",
			Records: batch}
		ev, err := vigil.NewEvent(actor, vigil.EventVoterChanged, "", s.Now(), p)
		if err != nil {
			return err
		}
		if _, err := s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			return err
		}
		res.Events++
		batch, size = nil, 0
		return nil
	}
	for _, id := range order {
		sv, err := s.DB.Voter(ctx, id)
		if vigil.ErrorKind(err) == vigil.NotFound {
			res.Missing++
			continue
		}
		if err != nil {
			return res, err
		}
		v, err := voter.Open(&sv.VoterRecord, s.Sealer.Open)
		if err != nil {
			return res, err
		}
		already := false
		for _, h := range v.History {
			already = already || (h.Election == date && h.Name == name)
		}
		if already {
			res.Already++
			continue
		}
		t := participants[id]
		v.History = append(v.History, vigil.VotingHistoryEntry{Election: date, Name: name, Method: t.method, Place: t.place})
		if len(v.History) > vigil.MaxHistoryLen {
			v.History = v.History[len(v.History)-vigil.MaxHistoryLen:]
		}
		rec := s.record(&v, fp)
		batch = append(batch, rec)
		size += recordSize(&rec)
		res.Added++
		if len(batch) >= 4000 || size >= 4<<20 {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}
