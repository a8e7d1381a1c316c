package voter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Fingerprint is a stable 128-bit digest of a normalized voter record. Two
// records have the same fingerprint exactly when every field vigil keeps
// is equal (up to the order of districts and history entries), whatever
// the layout, column order, delimiter or encoding they were read from. An
// importer compares a row's fingerprint with the stored one to skip
// unchanged voters without comparing fields.
type Fingerprint [16]byte

func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// IsZero reports whether f is unset (a rejected row has no fingerprint).
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// fingerprintVersion changes whenever the canonical encoding changes, so
// stored fingerprints of an older version never match by accident.
const fingerprintVersion = 1

// Fingerprinter computes fingerprints with a key, reusing its buffers. It
// is not safe for concurrent use.
type Fingerprinter struct {
	mac hash.Hash
	buf []byte
	sum []byte
}

// NewFingerprinter returns a Fingerprinter keyed with key (HMAC-SHA-256,
// truncated to 128 bits). The same key must be used for fingerprints that
// are compared. See Options.FingerprintKey for why the key should be secret.
func NewFingerprinter(key []byte) *Fingerprinter {
	if len(key) == 0 {
		key = []byte("vigil voter fingerprint v1")
	}
	return &Fingerprinter{mac: hmac.New(sha256.New, key)}
}

// Sum returns the fingerprint of v.
func (f *Fingerprinter) Sum(v *vigil.Voter) Fingerprint {
	b := f.buf[:0]
	b = append(b, fingerprintVersion)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	date := func(d vigil.Date) {
		b = binary.AppendUvarint(b, uint64(d.Year))
		b = append(b, byte(d.Month), byte(d.Day))
	}
	recordFields(v, str, date)
	ds := v.Districts
	if !slices.IsSortedFunc(ds, districtCmp) {
		ds = slices.Clone(ds)
		canonDistricts(ds)
	}
	b = binary.AppendUvarint(b, uint64(len(ds)))
	for _, d := range ds {
		str(string(d.Type))
		str(d.Code)
		str(d.Name)
	}
	hs := v.History
	if !slices.IsSortedFunc(hs, historyCmp) {
		hs = slices.Clone(hs)
		canonHistory(hs)
	}
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		date(h.Election)
		str(h.Name)
		str(string(h.Method))
		str(h.Party)
	}
	str(v.DriversLicense.Reveal())
	str(v.SSN4.Reveal())
	if v.Confidential {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	f.buf = b
	f.mac.Reset()
	f.mac.Write(b)
	f.sum = f.mac.Sum(f.sum[:0])
	var out Fingerprint
	copy(out[:], f.sum)
	return out
}

func districtCmp(a, b vigil.DistrictAssignment) int {
	if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Code, b.Code)
}

func historyCmp(a, b vigil.VotingHistoryEntry) int {
	if a.Election != b.Election {
		if a.Election.Before(b.Election) {
			return -1
		}
		if b.Election.Before(a.Election) {
			return 1
		}
	}
	return strings.Compare(a.Name, b.Name)
}

// recordFields visits a voter's fields from its ID to its precinct in the
// one order that both the fingerprint and the row form (rows.go) use. Both
// are stored formats: the order never changes.
func recordFields(v *vigil.Voter, str func(string), date func(vigil.Date)) {
	addr := func(a *vigil.Address) {
		str(a.Line1)
		str(a.Line2)
		str(a.City)
		str(a.State)
		str(a.ZIP)
		str(a.ZIP4)
		str(a.Country)
	}
	str(string(v.ID))
	str(v.LocalID)
	str(v.County)
	str(v.Name.Prefix)
	str(v.Name.First)
	str(v.Name.Middle)
	str(v.Name.Last)
	str(v.Name.Suffix)
	date(v.BirthDate)
	str(v.Gender)
	addr(&v.Residence)
	addr(&v.Mailing)
	str(v.Phone)
	str(v.Email)
	str(v.Party)
	str(string(v.Status.Code))
	str(string(v.Status.Reason))
	str(v.Status.Detail)
	date(v.Status.Since)
	date(v.Registered)
	str(v.Precinct)
}
