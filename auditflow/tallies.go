package auditflow

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// ContestTallyHeader is the header of a file of contest tallies: a
// hybrid audit's reported results in the ballots without CVRs, or a full
// hand count. One row per contest and choice; a contest's ballots (those
// counted that hold it) are the same on each of its rows.
var ContestTallyHeader = []string{"contest", "ballots", "choice", "votes"}

// maxTallyFile bounds a file of contest tallies: a few contests of a few
// dozen choices fit in kilobytes.
const maxTallyFile = 1 << 20

// ParseContestTallies reads a file of contest tallies into one tally per
// contest, in file order. Errors: Invalid, naming the field and the line;
// the file's contents are never echoed beyond the offending field.
func ParseContestTallies(op string, r io.Reader) ([]vigil.AuditStratumTally, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTallyFile+1))
	if err != nil {
		return nil, vigil.FieldError(op, "file", "cannot read the file: %v", err)
	}
	if len(data) > maxTallyFile {
		return nil, vigil.FieldError(op, "file", "the file is larger than %d bytes", maxTallyFile)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, vigil.FieldError(op, "file", "not CSV: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(ContestTallyHeader, ",") {
		return nil, vigil.FieldError(op, "file", "the header must be %s", strings.Join(ContestTallyHeader, ","))
	}
	var out []vigil.AuditStratumTally
	idx := map[vigil.ContestID]int{}
	for i, r := range rows[1:] {
		line := i + 2
		if len(r) != len(ContestTallyHeader) {
			return nil, vigil.FieldError(op, "file", "line %d has %d fields, not %d", line, len(r), len(ContestTallyHeader))
		}
		ballots, err := strconv.Atoi(r[1])
		if err != nil || ballots < 0 {
			return nil, vigil.FieldError(op, "ballots", "line %d: the ballots are a whole number, 0 or more", line)
		}
		votes, err := strconv.Atoi(r[3])
		if err != nil || votes < 0 {
			return nil, vigil.FieldError(op, "votes", "line %d: the votes are a whole number, 0 or more", line)
		}
		c, ch := vigil.ContestID(strings.TrimSpace(r[0])), vigil.ChoiceID(strings.TrimSpace(r[2]))
		if c == "" || ch == "" {
			return nil, vigil.FieldError(op, "file", "line %d: a row names its contest and choice", line)
		}
		k, ok := idx[c]
		if !ok {
			k = len(out)
			idx[c] = k
			out = append(out, vigil.AuditStratumTally{Contest: c, Ballots: ballots, Votes: map[vigil.ChoiceID]int{}})
		}
		if out[k].Ballots != ballots {
			return nil, vigil.FieldError(op, "ballots", "line %d: contest %q has %d ballots here and %d on an earlier line", line, c, ballots, out[k].Ballots)
		}
		if _, dup := out[k].Votes[ch]; dup {
			return nil, vigil.FieldError(op, "choice", "line %d: choice %q of contest %q is listed twice", line, ch, c)
		}
		out[k].Votes[ch] = votes
	}
	if len(out) == 0 {
		return nil, vigil.FieldError(op, "file", "the file lists no contest")
	}
	return out, nil
}
