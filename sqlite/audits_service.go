package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// AuditService runs the audit workflow on a node. Every change is checked
// against the audit's current state and appended with the audit's last
// log sequence as the expected one, so a check and its event are atomic:
// of two racing changes one is stored and the other fails with Conflict.
type AuditService struct {
	db  *DB
	log vigil.EventAppender
	now func() time.Time
	tab *Tabulation
}

// NewAuditService returns the service.
func NewAuditService(db *DB, log vigil.EventAppender, now func() time.Time) *AuditService {
	return &AuditService{db: db, log: log, now: now, tab: NewTabulation(db, log, now)}
}

// lastSeq is the sequence of the audit's last event (its log subject).
func (s *AuditService) lastSeq(ctx context.Context, id vigil.AuditID) (uint64, error) {
	var seq uint64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events WHERE key = ? AND type LIKE 'audit.%'`, string(id)).Scan(&seq)
	if err != nil {
		return 0, vigil.Wrap("audit.append", vigil.Unavailable, err)
	}
	return seq, nil
}

// append stores payload as one event on the audit's subject, expecting
// the audit's last sequence to be seq.
func (s *AuditService) append(ctx context.Context, a vigil.Actor, typ vigil.EventType, id vigil.AuditID, seq uint64, payload any) error {
	ev, err := vigil.NewEvent(a, typ, string(id), s.now(), payload)
	if err != nil {
		return err
	}
	_, err = s.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &seq})
	if vigil.ErrorKind(err) == vigil.Conflict {
		return vigil.Errorf(vigil.Conflict, "audit."+string(typ), "the audit changed at the same moment (someone else acted on it); reload and try again")
	}
	return err
}

// state reads the audit and its last sequence together.
func (s *AuditService) state(ctx context.Context, id vigil.AuditID) (*AuditState, uint64, error) {
	seq, err := s.lastSeq(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	st, err := s.db.Audit(ctx, id)
	return st, seq, err
}

// Create creates an audit. The contests must be in the imported election
// and be plurality contests. Errors: Invalid (naming the field), Conflict
// (the id is taken), Unavailable.
func (s *AuditService) Create(ctx context.Context, a vigil.Actor, set vigil.AuditSettings) error {
	const op = "audit.create"
	if err := set.Validate(); err != nil {
		return err
	}
	e, err := s.tab.Election(ctx)
	if err != nil {
		return vigil.FieldError(op, "contests", "there is no election to audit yet: import the election definition or CVRs first")
	}
	for i, c := range set.Contests {
		ec := e.Contest(c.ID)
		if ec == nil {
			return vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "unknown contest %q; the election's contests are %s", c.ID, contestList(e))
		}
		if ec.Kind == vigil.RankedChoice {
			return vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "contest %q is ranked choice, which these audits cannot test", c.ID)
		}
	}
	if err := checkHybridSettings(e, set); err != nil {
		return err
	}
	if _, err := s.db.Audit(ctx, set.ID); err == nil {
		return vigil.FieldError(op, "id", "audit %q exists already; choose another id", set.ID)
	}
	return s.append(ctx, a, vigil.EventAuditCreated, set.ID, 0, set)
}

func contestList(e *vigil.Election) string {
	var s []string
	for _, c := range e.Contests {
		s = append(s, fmt.Sprintf("%q", c.ID))
	}
	return strings.Join(s, ", ")
}

// SeedDigit records one die roll of the ceremony and returns its index.
// Errors: Invalid (not a digit), Conflict (seed finished, or the actor
// sits on a board of this audit), NotFound.
func (s *AuditService) SeedDigit(ctx context.Context, a vigil.Actor, id vigil.AuditID, digit int) (int, error) {
	const op = "audit.seed"
	if digit < 0 || digit > 9 {
		return 0, vigil.FieldError(op, "digit", "a ten-sided die shows 0 to 9, not %d", digit)
	}
	st, seq, err := s.state(ctx, id)
	if err != nil {
		return 0, err
	}
	if st.Seed != "" {
		return 0, vigil.Errorf(vigil.Conflict, op, "the seed of audit %s is finished already", id)
	}
	if st.OnBoard(a.Name) {
		return 0, vigil.Errorf(vigil.Permission, op, "%s sits on an audit board of %s and may not author its seed", a.Name, id)
	}
	idx := len(st.Digits) + 1
	return idx, s.append(ctx, a, vigil.EventAuditSeedDigit, id, seq, vigil.AuditSeedDigit{Audit: id, Index: idx, Digit: digit})
}

// FinishSeed closes the ceremony: the digits entered, in order, are the
// seed. Errors: Invalid (too few digits), Conflict, Permission, NotFound.
func (s *AuditService) FinishSeed(ctx context.Context, a vigil.Actor, id vigil.AuditID) (string, error) {
	const op = "audit.seed"
	st, seq, err := s.state(ctx, id)
	if err != nil {
		return "", err
	}
	if st.Seed != "" {
		return "", vigil.Errorf(vigil.Conflict, op, "the seed of audit %s is finished already", id)
	}
	if st.OnBoard(a.Name) {
		return "", vigil.Errorf(vigil.Permission, op, "%s sits on an audit board of %s and may not author its seed", a.Name, id)
	}
	var b strings.Builder
	for _, d := range st.Digits {
		b.WriteByte(byte('0' + d.Digit))
	}
	seed := b.String()
	if err := vigil.ValidateSeed(seed); err != nil {
		return "", err
	}
	return seed, s.append(ctx, a, vigil.EventAuditSeeded, id, seq, vigil.AuditSeed{Audit: id, Seed: seed})
}

// CreateBoard adds an audit board before the first draw. Its members
// must not have authored the seed. Errors: Invalid, Conflict, Permission,
// NotFound.
func (s *AuditService) CreateBoard(ctx context.Context, a vigil.Actor, b vigil.AuditBoard) error {
	const op = "audit.board"
	if err := b.Validate(); err != nil {
		return err
	}
	st, seq, err := s.state(ctx, b.Audit)
	if err != nil {
		return err
	}
	known := false
	for _, j := range st.Settings.Jurisdictions {
		known = known || j == b.Jurisdiction
	}
	if !known {
		return vigil.FieldError(op, "jurisdiction", "%q is not a jurisdiction of audit %s (%s)", b.Jurisdiction, b.Audit, strings.Join(st.Settings.Jurisdictions, ", "))
	}
	if st.Board(b.Board) != nil {
		return vigil.FieldError(op, "board", "audit %s has a board %q already", b.Audit, b.Board)
	}
	if len(st.Rounds) > 0 {
		return vigil.Errorf(vigil.Conflict, op, "the sample is drawn already; boards are set before the first draw")
	}
	authors := st.SeedAuthors()
	for _, m := range b.Members {
		if authors[m] {
			return vigil.FieldError(op, "members", "%s authored the seed of audit %s and may not sit on its audit board", m, b.Audit)
		}
		for _, other := range st.Boards {
			if other.Members[0] == m || other.Members[1] == m {
				return vigil.FieldError(op, "members", "%s is on board %s already", m, other.Board)
			}
		}
	}
	return s.append(ctx, a, vigil.EventAuditBoardCreated, b.Audit, seq, b)
}

// reported reads the reported results of the audited contests across the
// audit's jurisdictions.
func (s *AuditService) reported(ctx context.Context, set vigil.AuditSettings) ([]vigil.AuditReportedContest, error) {
	e, err := s.tab.Election(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]vigil.AuditReportedContest, len(set.Contests))
	for i, c := range set.Contests {
		ec := e.Contest(c.ID)
		if ec == nil {
			return nil, vigil.FieldError("audit.draw", fmt.Sprintf("contests[%d]", i), "contest %q is no longer in the election", c.ID)
		}
		out[i] = vigil.AuditReportedContest{ID: c.ID, Name: ec.Name, Targeted: c.Targeted, Winners: ec.VoteFor}
		for _, ch := range ec.Choices {
			out[i].Choices = append(out[i].Choices, vigil.AuditReportedChoice{ID: ch.ID, Name: ch.Name})
		}
	}
	for _, j := range set.Jurisdictions {
		res, _, err := s.tab.InCounty(j).Tally(ctx)
		if err != nil {
			return nil, err
		}
		for i := range out {
			for _, cr := range res.Contests {
				if cr.ID != out[i].ID {
					continue
				}
				out[i].Ballots += int(cr.Ballots)
				for _, ch := range cr.Choices {
					for k := range out[i].Choices {
						if out[i].Choices[k].ID == ch.ID {
							out[i].Choices[k].Votes += int(ch.Votes)
						}
					}
				}
			}
		}
	}
	for i, c := range out {
		if c.Ballots == 0 {
			return nil, vigil.FieldError("audit.draw", fmt.Sprintf("contests[%d]", i), "no counted ballot of the audit's jurisdictions holds contest %q", c.ID)
		}
	}
	// An audit confirms a contest's outcome only if it samples every
	// ballot the contest is on: the jurisdictions must cover the contest.
	all, _, err := s.tab.InCounty("").Tally(ctx)
	if err != nil {
		return nil, err
	}
	for i, c := range out {
		for _, cr := range all.Contests {
			if cr.ID == c.ID && int(cr.Ballots) > c.Ballots {
				return nil, vigil.FieldError("audit.draw", "jurisdictions", "contest %q is on %d counted ballots outside the audit's jurisdictions (contests[%d]); add every county whose ballots hold it",
					c.ID, int(cr.Ballots)-c.Ballots, i)
			}
		}
	}
	return out, nil
}

// cvrsFor reads the cast vote records of the drawn ballots, by ballot key.
func (s *AuditService) cvrsFor(ctx context.Context, draws []vigil.AuditDraw, contests []vigil.AuditReportedContest) (map[string]map[vigil.ContestID][]vigil.ChoiceID, error) {
	want := map[string]map[string]bool{} // jurisdiction → tabulator/batch/position
	for _, d := range draws {
		if want[d.Jurisdiction] == nil {
			want[d.Jurisdiction] = map[string]bool{}
		}
		want[d.Jurisdiction][fmt.Sprintf("%s/%s/%d", d.Tabulator, d.Batch, d.Position)] = true
	}
	audited := map[vigil.ContestID]bool{}
	for _, c := range contests {
		audited[c.ID] = true
	}
	out := map[string]map[vigil.ContestID][]vigil.ChoiceID{}
	for j, keys := range want {
		err := s.tab.InCounty(j).eachCVR(ctx, nil, func(c *vigil.CastVoteRecord) error {
			k := fmt.Sprintf("%s/%s/%d", c.Tabulator, c.Batch, c.Position)
			if !keys[k] {
				return nil
			}
			rec := map[vigil.ContestID][]vigil.ChoiceID{}
			for _, cv := range c.Contests {
				if !audited[cv.Contest] {
					continue
				}
				marks := []vigil.ChoiceID{}
				if !cv.Overvoted {
					for _, m := range cv.Marks {
						marks = append(marks, m.Choice)
					}
				}
				rec[cv.Contest] = marks
			}
			out[j+"/"+k] = rec
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StartRound draws the next round. Round 1 freezes the manifest and the
// reported results; its size, when 0, is the one that finishes in one
// round with a 90 % chance. Later rounds take the size the previous round
// closed with. Errors: Invalid, Conflict (no seed, no board, round open,
// audit over), NotFound.
func (s *AuditService) StartRound(ctx context.Context, a vigil.Actor, id vigil.AuditID, size int) (vigil.AuditRound, error) {
	const op = "audit.draw"
	st, seq, err := s.state(ctx, id)
	if err != nil {
		return vigil.AuditRound{}, err
	}
	if st.Seed == "" {
		return vigil.AuditRound{}, vigil.Errorf(vigil.Conflict, op, "audit %s has no seed yet: hold the seed ceremony first", id)
	}
	if size < 0 {
		return vigil.AuditRound{}, vigil.FieldError(op, "size", "a round size is a positive number of ballots")
	}
	r := vigil.AuditRound{Audit: id, Round: len(st.Rounds) + 1}
	requested := size
	if cur := st.Current(); cur != nil {
		if cur.Close == nil {
			return r, vigil.Errorf(vigil.Conflict, op, "round %d is still open: close it first", cur.Round)
		}
		if cur.Close.Status != vigil.AuditInProgress {
			return r, vigil.Errorf(vigil.Conflict, op, "the audit is over (%s)", cur.Close.Status)
		}
		if size == 0 {
			size = cur.Close.NextSize
		}
	} else {
		for _, j := range st.Settings.Jurisdictions {
			found := false
			for _, b := range st.Boards {
				found = found || b.Jurisdiction == j
			}
			if !found {
				return r, vigil.Errorf(vigil.Conflict, op, "jurisdiction %s has no audit board: create one before the draw", j)
			}
		}
		if st.Manifest, err = s.db.auditManifest(ctx, st.Settings.Jurisdictions); err != nil {
			return r, err
		}
		if st.Settings.Kind == vigil.AuditHybrid {
			st.Reported, err = s.hybridReported(ctx, st.Settings, st.Manifest)
		} else {
			st.Reported, err = s.reported(ctx, st.Settings)
		}
		if err != nil {
			return r, err
		}
		r.Manifest, r.Reported = st.Manifest, st.Reported
		if st.Settings.Kind == vigil.AuditBatch {
			for _, rc := range st.Reported {
				t, err := s.batchTallies(ctx, st.Manifest, rc)
				if err != nil {
					return r, err
				}
				st.Batches = append(st.Batches, t...)
			}
			r.Batches = st.Batches
		}
		if size == 0 && st.Settings.Kind != vigil.AuditHybrid {
			if size, err = auditflow.FirstRoundSize(&st.Record); err != nil {
				return r, err
			}
		}
	}
	r.Size = size
	if st.Settings.Kind == vigil.AuditHybrid {
		if err := s.hybridRound(ctx, st, &r, requested); err != nil {
			return r, err
		}
		return r, s.append(ctx, a, vigil.EventAuditRoundStarted, id, seq, r)
	}
	if st.Settings.Kind == vigil.AuditBatch {
		r.Draws, err = auditflow.DrawBatches(st.Seed, st.Manifest, st.Batches, st.Reported, st.Boards, st.Drawn(r.Round), size)
	} else {
		r.Draws, err = auditflow.Draw(st.Seed, st.Manifest, st.Boards, st.Settings.Kind.Polling(), st.Drawn(r.Round), size)
	}
	if err != nil {
		return r, err
	}
	if st.Settings.Kind == vigil.AuditComparison {
		if r.CVRs, err = s.cvrsFor(ctx, r.Draws, st.Reported); err != nil {
			return r, err
		}
	}
	return r, s.append(ctx, a, vigil.EventAuditRoundStarted, id, seq, r)
}

// member reports whether user may act for board: a member of it, or an
// operator (the CLI, recording what the board's paper tally sheet says).
func member(a vigil.Actor, b *vigil.AuditBoard) bool {
	if a.Role == vigil.RoleOperator {
		return true
	}
	return b.Members[0] == a.Name || b.Members[1] == a.Name
}

// Interpret records a board's reading of a ballot of the current round's
// sample. A ballot not in the board's part of the sample is refused.
// Errors: Invalid (naming the field), Permission (not the board's
// member), Conflict (round closed, batch signed off), NotFound.
func (s *AuditService) Interpret(ctx context.Context, a vigil.Actor, in vigil.AuditInterpretation) error {
	const op = "audit.interpret"
	st, seq, err := s.state(ctx, in.Audit)
	if err != nil {
		return err
	}
	if st.Settings.Kind == vigil.AuditBatch {
		return vigil.Errorf(vigil.Conflict, op, "audit %s is a batch comparison: count whole batches instead of reading ballots", in.Audit)
	}
	b := st.Board(in.Board)
	if b == nil {
		return vigil.FieldError(op, "board", "audit %s has no board %q", in.Audit, in.Board)
	}
	if !member(a, b) {
		return vigil.Errorf(vigil.Permission, op, "%s is not a member of board %s", a.Name, in.Board)
	}
	cur := st.Current()
	if cur == nil {
		return vigil.Errorf(vigil.Conflict, op, "nothing is drawn yet")
	}
	if cur.Close != nil {
		return vigil.Errorf(vigil.Conflict, op, "round %d is closed", cur.Round)
	}
	if in.Round == 0 {
		in.Round = cur.Round
	}
	if in.Round != cur.Round {
		return vigil.FieldError(op, "round", "round %d is the open round, not %d", cur.Round, in.Round)
	}
	inSample := false
	for _, d := range cur.Draws {
		if d.AuditBallot == in.Ballot {
			inSample = inSample || d.Board == in.Board
			if d.Board != in.Board {
				return vigil.FieldError(op, "ballot", "ballot %s is on board %s's list, not %s's", in.Ballot.Key(), d.Board, in.Board)
			}
		}
	}
	if !inSample {
		return vigil.FieldError(op, "ballot", "ballot %s is not in the sample of round %d; interpretations are only for sampled ballots", in.Ballot.Key(), cur.Round)
	}
	if err := auditflow.CheckReading(st.Reported, in); err != nil {
		return err
	}
	if len(st.SignOffs[cur.Round][in.Board][in.Ballot.BatchKey()]) > 0 {
		return vigil.Errorf(vigil.Conflict, op, "batch %s is signed off already; its readings are final", in.Ballot.BatchKey())
	}
	return s.append(ctx, a, vigil.EventAuditInterpreted, in.Audit, seq, in)
}

// SignOff records one board member's signature on a batch of the board's
// retrieval list; every ballot of the batch must be read. Errors: Invalid,
// Permission (not this board's member, or signing for someone else),
// Conflict (already signed, ballots unread), NotFound.
func (s *AuditService) SignOff(ctx context.Context, a vigil.Actor, so vigil.AuditSignOff) error {
	const op = "audit.signoff"
	st, seq, err := s.state(ctx, so.Audit)
	if err != nil {
		return err
	}
	b := st.Board(so.Board)
	if b == nil {
		return vigil.FieldError(op, "board", "audit %s has no board %q", so.Audit, so.Board)
	}
	if so.Member == "" {
		so.Member = a.Name
	}
	if so.Member != b.Members[0] && so.Member != b.Members[1] {
		return vigil.FieldError(op, "member", "%s is not a member of board %s", so.Member, so.Board)
	}
	if a.Role != vigil.RoleOperator && so.Member != a.Name {
		return vigil.Errorf(vigil.Permission, op, "each member signs for themselves: sign in as %s", so.Member)
	}
	cur := st.Current()
	if cur == nil || cur.Close != nil {
		return vigil.Errorf(vigil.Conflict, op, "no round is open")
	}
	so.Round = cur.Round
	batch := vigil.AuditBallot{Jurisdiction: so.Jurisdiction, Tabulator: so.Tabulator, Batch: so.Batch}
	n := 0
	for _, d := range cur.Draws {
		if d.Board != so.Board || d.BatchKey() != batch.BatchKey() {
			continue
		}
		n++
		if st.Settings.Kind == vigil.AuditBatch {
			if !st.BatchCounted(cur.Round, d.BatchKey()) {
				return vigil.Errorf(vigil.Conflict, op, "batch %s (ticket %s) is not counted yet in every audited contest; count it before signing", d.BatchKey(), d.Ticket)
			}
			continue
		}
		if _, ok := st.Reading(cur.Round, d.Key()); !ok {
			return vigil.Errorf(vigil.Conflict, op, "ballot %s (ticket %s) is not read yet; read every ballot of the batch before signing", d.Key(), d.Ticket)
		}
	}
	if n == 0 {
		return vigil.FieldError(op, "batch", "batch %s is not on board %s's retrieval list in round %d", batch.BatchKey(), so.Board, cur.Round)
	}
	for _, m := range st.SignOffs[cur.Round][so.Board][batch.BatchKey()] {
		if m == so.Member {
			return vigil.Errorf(vigil.Conflict, op, "%s signed batch %s already", so.Member, batch.BatchKey())
		}
	}
	return s.append(ctx, a, vigil.EventAuditSignedOff, so.Audit, seq, so)
}

// CloseRound measures every contest's risk after the open round and
// records it with the audit's status and the next round's size. It
// refuses while any sampled ballot is unread or any batch lacks either
// member's sign-off. Errors: Conflict (partial data), NotFound.
func (s *AuditService) CloseRound(ctx context.Context, a vigil.Actor, id vigil.AuditID) (vigil.AuditRoundClose, error) {
	const op = "audit.close"
	st, seq, err := s.state(ctx, id)
	if err != nil {
		return vigil.AuditRoundClose{}, err
	}
	cur := st.Current()
	if cur == nil || cur.Close != nil {
		return vigil.AuditRoundClose{}, vigil.Errorf(vigil.Conflict, op, "no round is open")
	}
	res, err := auditflow.Measure(&st.Record, cur.Round)
	if err != nil {
		return res, err
	}
	if miss := st.UnsignedBatches(cur.Round); len(miss) > 0 {
		return res, vigil.Errorf(vigil.Conflict, op, "%d batches are not signed off by both board members (first: %s); a round closes only on complete data",
			len(miss), miss[0])
	}
	return res, s.append(ctx, a, vigil.EventAuditRoundClosed, id, seq, res)
}
