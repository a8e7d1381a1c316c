package sqlite

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// Sealer seals and opens secrets (the node keyring).
type Sealer interface {
	Seal(plain []byte) string
	Open(sealed string) ([]byte, error)
}

// FingerprintKey derives the key of voter fingerprints from a node secret
// (the keyring's store key). Fingerprints cover the SSN4, so the key MUST be
// secret: with a known key, anyone holding a fingerprint and the other
// fields could try the 10,000 SSN4s.
func FingerprintKey(secret string) []byte {
	sum := sha256.Sum256([]byte("vigil voter fingerprint v1\x00" + secret))
	return sum[:]
}

// VoterService changes the voter roll. Every change is an event appended
// to the log; the projection is updated by applying it, never directly.
type VoterService struct {
	DB  *DB
	Log vigil.EventAppender // MUST return once the events are applied here (node.Node does)
	// Bulk, if set, is the log itself (durable, not yet applied) and
	// WaitApplied waits until the projection applied an entry: an import
	// then lets the projection apply many entries per transaction.
	Bulk        vigil.EventAppender
	WaitApplied func(ctx context.Context, seq uint64) error
	Sealer      Sealer
	Now         func() time.Time
	fpKey       []byte
}

// NewVoterService returns a service writing through log.
func NewVoterService(db *DB, log vigil.EventAppender, sealer Sealer, fingerprintKey []byte, now func() time.Time) *VoterService {
	return &VoterService{DB: db, Log: log, Sealer: sealer, Now: now, fpKey: fingerprintKey}
}

func (s *VoterService) record(v *vigil.Voter, fp *voter.Fingerprinter) vigil.VoterRecord {
	return voter.NewRecord(v, s.Sealer.Seal, fp.Sum(v))
}

// Register adds one registration. Errors: Invalid, Conflict (the ID is
// taken), Unavailable.
func (s *VoterService) Register(ctx context.Context, actor vigil.Actor, v vigil.Voter, detail string) error {
	const op = "voters.register"
	if v.Status.Code == "" {
		v.Status.Code = vigil.StatusActive
	}
	if v.Registered.IsZero() {
		v.Registered = vigil.DateOf(s.Now())
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if _, err := s.DB.Voter(ctx, v.ID); err == nil {
		return &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "id", Message: "voter " + string(v.ID) + " is already registered; edit that record instead"}
	} else if vigil.ErrorKind(err) != vigil.NotFound {
		return err
	}
	p := vigil.VoterRecords{Reason: vigil.ReasonNew, Detail: detail,
		Records: []vigil.VoterRecord{s.record(&v, voter.NewFingerprinter(s.fpKey))}}
	if err := p.Validate(); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(actor, vigil.EventVoterAdded, string(v.ID), s.Now(), p)
	if err != nil {
		return err
	}
	// The first event on the voter's subject claims the ID: of two clerks
	// registering the same ID at once, one gets Conflict.
	var none uint64
	_, err = s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &none})
	if vigil.ErrorKind(err) == vigil.Conflict {
		return &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "id", Message: "voter " + string(v.ID) + " was registered a moment ago; reload it", Err: err}
	}
	return err
}

// Change records a new version of a registration with the reason. Secrets
// left empty in v keep their stored values. Errors: Invalid (also when
// nothing changed), NotFound, Permission is the caller's to check,
// Unavailable.
func (s *VoterService) Change(ctx context.Context, actor vigil.Actor, v vigil.Voter, reason vigil.ChangeReason, detail string) error {
	const op = "voters.change"
	old, err := s.DB.Voter(ctx, v.ID)
	if err != nil {
		return err
	}
	if old.MergedInto != "" {
		return vigil.Errorf(vigil.Conflict, op, "voter %s was merged into %s; change that record", v.ID, old.MergedInto)
	}
	prev, err := voter.Open(&old.VoterRecord, s.Sealer.Open)
	if err != nil {
		return err
	}
	if v.DriversLicense.IsZero() {
		v.DriversLicense = prev.DriversLicense
	}
	if v.SSN4.IsZero() {
		v.SSN4 = prev.SSN4
	}
	if v.Registered.IsZero() {
		v.Registered = prev.Registered
	}
	if err := v.Validate(); err != nil {
		return err
	}
	fp := voter.NewFingerprinter(s.fpKey)
	if fp.Sum(&v) == fp.Sum(&prev) {
		return vigil.FieldError(op, "record", "nothing changed")
	}
	p := vigil.VoterRecords{Reason: reason, Detail: detail, Records: []vigil.VoterRecord{s.record(&v, fp)}}
	if err := p.Validate(); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(actor, vigil.EventVoterChanged, string(v.ID), s.Now(), p)
	if err != nil {
		return err
	}
	_, err = s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Merge cancels drop as a duplicate registration of keep. Errors: Invalid,
// NotFound, Conflict (already merged or cancelled), Unavailable.
func (s *VoterService) Merge(ctx context.Context, actor vigil.Actor, m vigil.VoterMerge) error {
	const op = "voters.merge"
	if err := m.Validate(); err != nil {
		return err
	}
	keep, err := s.DB.Voter(ctx, m.Keep)
	if err != nil {
		return err
	}
	drop, err := s.DB.Voter(ctx, m.Drop)
	if err != nil {
		return err
	}
	if keep.MergedInto != "" {
		return vigil.Errorf(vigil.Conflict, op, "voter %s was itself merged into %s; keep that one", m.Keep, keep.MergedInto)
	}
	if drop.MergedInto != "" || drop.Status.Code == vigil.StatusCancelled {
		return vigil.Errorf(vigil.Conflict, op, "voter %s is already cancelled", m.Drop)
	}
	ev, err := vigil.NewEvent(actor, vigil.EventVoterMerged, string(m.Drop), s.Now(), m)
	if err != nil {
		return err
	}
	_, err = s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Duplicates finds likely duplicate registrations inside scopes
// (voter.FindDuplicates over every registration that is not cancelled).
func (s *VoterService) Duplicates(ctx context.Context, scopes []vigil.Scope, opts voter.DuplicateOptions) ([]voter.DuplicatePair, error) {
	vs, err := s.DB.MatchVoters(ctx, scopes)
	if err != nil {
		return nil, err
	}
	return voter.FindDuplicates(vs, opts), nil
}

// Similar returns registrations that look like v (for the warning while a
// clerk types a new registration), best first.
func (s *VoterService) Similar(ctx context.Context, v vigil.Voter, scopes []vigil.Scope, limit int) ([]SearchResult, error) {
	q := v.Name.First + " " + v.Name.Last
	if !v.BirthDate.IsZero() && !v.BirthDate.YearOnly() {
		q += " " + v.BirthDate.String()
	}
	return s.DB.SearchVoters(ctx, q, scopes, limit)
}
