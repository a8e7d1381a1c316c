package sqlite

import (
	"encoding/binary"
	"errors"

	"github.com/vigil-elections/vigil"
)

// The cvrs.record column holds a CVR in a compact binary form, not JSON:
// a tally reads every record, and decoding JSON was most of its time. The
// form is private to this projection (the log keeps the JSON), so it can
// change with a migration. Strings are uvarint-length-prefixed; numbers are
// varints; flags one byte.
func appendCVR(b []byte, c *vigil.CastVoteRecord) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(string(c.ID))
	str(c.Tabulator)
	str(c.Batch)
	b = binary.AppendVarint(b, int64(c.Position))
	str(c.ImprintedID)
	str(string(c.BallotStyle))
	str(string(c.Precinct))
	str(c.CountingGroup)
	b = binary.AppendUvarint(b, uint64(len(c.Contests)))
	for _, cv := range c.Contests {
		str(string(cv.Contest))
		b = append(b, boolByte(cv.Overvoted))
		b = binary.AppendVarint(b, int64(cv.Undervotes))
		b = binary.AppendUvarint(b, uint64(len(cv.Marks)))
		for _, m := range cv.Marks {
			str(string(m.Choice))
			b = binary.AppendVarint(b, int64(m.Rank))
			b = append(b, boolByte(m.WriteIn)|boolByte(m.Ambiguous)<<1)
		}
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

var errCompactCVR = errors.New("sqlite: malformed compact CVR")

// cvrDecoder decodes appendCVR's form, sharing strings between records
// (ids of contests and choices repeat on every ballot).
type cvrDecoder struct {
	names map[string]string
}

func (d *cvrDecoder) decode(b []byte, c *vigil.CastVoteRecord) error {
	var err error
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			err = errCompactCVR
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int {
		v, n := binary.Varint(b)
		if n <= 0 {
			err = errCompactCVR
			return 0
		}
		b = b[n:]
		return int(v)
	}
	str := func(shared bool) string {
		l := uv()
		if err != nil || uint64(len(b)) < l {
			err = errCompactCVR
			return ""
		}
		raw := b[:l]
		b = b[l:]
		if !shared {
			return string(raw)
		}
		if s, ok := d.names[string(raw)]; ok {
			return s
		}
		s := string(raw)
		d.names[s] = s
		return s
	}
	flag := func() byte {
		if len(b) == 0 {
			err = errCompactCVR
			return 0
		}
		v := b[0]
		b = b[1:]
		return v
	}
	if d.names == nil {
		d.names = map[string]string{}
	}
	*c = vigil.CastVoteRecord{ID: vigil.CVRID(str(false)), Tabulator: str(true), Batch: str(true), Position: sv(),
		ImprintedID: str(false), BallotStyle: vigil.BallotStyleID(str(true)), Precinct: vigil.PrecinctID(str(true)), CountingGroup: str(true)}
	n := uv()
	if err != nil || n > uint64(len(b)) {
		return errCompactCVR
	}
	c.Contests = make([]vigil.ContestVote, n)
	for i := range c.Contests {
		cv := &c.Contests[i]
		cv.Contest = vigil.ContestID(str(true))
		cv.Overvoted = flag() == 1
		cv.Undervotes = sv()
		k := uv()
		if err != nil || k > uint64(len(b)) {
			return errCompactCVR
		}
		if k > 0 {
			cv.Marks = make([]vigil.Mark, k)
		}
		for j := range cv.Marks {
			m := &cv.Marks[j]
			m.Choice = vigil.ChoiceID(str(true))
			m.Rank = sv()
			f := flag()
			m.WriteIn, m.Ambiguous = f&1 != 0, f&2 != 0
		}
	}
	if err == nil && len(b) != 0 {
		err = errCompactCVR
	}
	return err
}
