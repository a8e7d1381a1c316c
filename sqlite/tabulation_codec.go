package sqlite

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"

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
	// The record's slices are reused from the last one decoded into c: a
	// tally reads a million records and keeps none of them.
	contests := c.Contests[:cap(c.Contests)]
	*c = vigil.CastVoteRecord{ID: vigil.CVRID(str(false)), Tabulator: str(true), Batch: str(true), Position: sv(),
		ImprintedID: str(false), BallotStyle: vigil.BallotStyleID(str(true)), Precinct: vigil.PrecinctID(str(true)), CountingGroup: str(true)}
	n := uv()
	if err != nil || n > uint64(len(b)) {
		return errCompactCVR
	}
	if uint64(len(contests)) >= n {
		c.Contests = contests[:n]
	} else {
		c.Contests = append(contests, make([]vigil.ContestVote, int(n)-len(contests))...)
	}
	for i := range c.Contests {
		cv := &c.Contests[i]
		marks := cv.Marks[:0]
		*cv = vigil.ContestVote{Contest: vigil.ContestID(str(true)), Overvoted: flag() == 1, Undervotes: sv()}
		k := uv()
		if err != nil || k > uint64(len(b)) {
			return errCompactCVR
		}
		if k > 0 {
			cv.Marks = append(marks, make([]vigil.Mark, k)...)
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

// errSlowPath makes batchDecoder give up on a payload it does not read
// exactly as encoding/json would (an unknown or differently cased key, a
// number that is not an integer, invalid UTF-8): the caller then decodes
// the payload with encoding/json, which also reports any real error.
var errSlowPath = errors.New("sqlite: payload needs encoding/json")

// batchDecoder reads a cvrs.imported payload (vigil.CVRBatch as JSON)
// without reflection: decoding it with encoding/json was most of the time a
// node spent applying a large import. Strings without escapes point into
// the payload instead of being copied, so the records are valid only while
// the payload is; the applier copies what it keeps. The decoder is reused
// batch after batch, with its slices. An empty and a missing list of
// contests or marks both decode as empty (the projection stores them
// alike).
type batchDecoder struct {
	b     []byte
	i     int
	batch vigil.CVRBatch
	// contests and marks back the records' slices; spans say which part
	// is whose while the backing arrays still grow.
	contests []vigil.ContestVote
	marks    []vigil.Mark
	cspans   []span // by record
	mspans   []span // by contest
}

type span struct{ from, to int }

// decode reads payload into d.batch. Any error means: use encoding/json.
func (d *batchDecoder) decode(payload []byte) error {
	d.b, d.i = payload, 0
	d.batch = vigil.CVRBatch{Records: d.batch.Records[:0], Files: d.batch.Files[:0], Strings: d.batch.Strings[:0]}
	d.contests, d.marks, d.cspans, d.mspans = d.contests[:0], d.marks[:0], d.cspans[:0], d.mspans[:0]
	seen := map[string]bool{}
	err := d.object(func(key string) error {
		if seen[key] {
			return errSlowPath // a repeated key: encoding/json keeps the last
		}
		seen[key] = true
		switch key {
		case "import":
			return d.str(&d.batch.Import)
		case "format":
			return d.str(&d.batch.Format)
		case "county":
			return d.str(&d.batch.County)
		case "part":
			return d.int(&d.batch.Part)
		case "last":
			return d.bool(&d.batch.Last)
		case "total":
			return d.int(&d.batch.Total)
		case "files":
			return d.array(func() error {
				var s string
				err := d.str(&s)
				d.batch.Files = append(d.batch.Files, s)
				return err
			})
		case "records":
			return d.array(func() error {
				d.batch.Records = append(d.batch.Records, vigil.CastVoteRecord{})
				return d.record(&d.batch.Records[len(d.batch.Records)-1])
			})
		case "strings":
			return d.array(func() error {
				var s string
				err := d.str(&s)
				d.batch.Strings = append(d.batch.Strings, s)
				return err
			})
		case "rows":
			if !seen["strings"] {
				return errSlowPath // the rows cannot be read before their strings
			}
			return d.array(func() error {
				d.batch.Records = append(d.batch.Records, vigil.CastVoteRecord{})
				return d.row(&d.batch.Records[len(d.batch.Records)-1])
			})
		}
		return errSlowPath
	})
	if err != nil {
		return err
	}
	if d.ws(); d.i != len(d.b) {
		return errSlowPath
	}
	for k, sp := range d.mspans {
		d.contests[k].Marks = d.marks[sp.from:sp.to:sp.to]
	}
	for r, sp := range d.cspans {
		d.batch.Records[r].Contests = d.contests[sp.from:sp.to:sp.to]
	}
	return nil
}

// release drops every reference into the last payload.
func (d *batchDecoder) release() {
	clear(d.batch.Records)
	clear(d.batch.Files)
	clear(d.batch.Strings)
	clear(d.contests)
	clear(d.marks)
	d.b, d.batch = nil, vigil.CVRBatch{Records: d.batch.Records[:0], Files: d.batch.Files[:0], Strings: d.batch.Strings[:0]}
}

// record reads one vigil.CastVoteRecord; its contests go to d.contests.
func (d *batchDecoder) record(c *vigil.CastVoteRecord) error {
	from := len(d.contests)
	var seen uint16
	err := d.object(func(key string) error {
		bit, ok := recordKeys[key]
		if !ok || seen&bit != 0 {
			return errSlowPath
		}
		seen |= bit
		switch key {
		case "id":
			return d.str((*string)(&c.ID))
		case "tabulator":
			return d.str(&c.Tabulator)
		case "batch":
			return d.str(&c.Batch)
		case "position":
			return d.int(&c.Position)
		case "imprintedId":
			return d.str(&c.ImprintedID)
		case "ballotStyle":
			return d.str((*string)(&c.BallotStyle))
		case "precinct":
			return d.str((*string)(&c.Precinct))
		case "countingGroup":
			return d.str(&c.CountingGroup)
		}
		return d.array(d.contestVote) // "contests"
	})
	d.cspans = append(d.cspans, span{from, len(d.contests)})
	return err
}

// row reads one row of the compact form (see vigil.CVRBatch): exactly
// the canonical shapes CVRRows writes; anything else (a null, a flag out of
// range) is left to vigil.DecodeCVRRow.
func (d *batchDecoder) row(c *vigil.CastVoteRecord) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return errSlowPath
	}
	d.i++
	from := len(d.contests)
	defer func() { d.cspans = append(d.cspans, span{from, len(d.contests)}) }()
	if d.str((*string)(&c.ID)) != nil || d.comma() != nil || d.str(&c.ImprintedID) != nil || d.comma() != nil || d.int(&c.Position) != nil {
		return errSlowPath
	}
	for _, dst := range [...]*string{&c.Tabulator, &c.Batch, (*string)(&c.BallotStyle), (*string)(&c.Precinct), &c.CountingGroup} {
		if d.comma() != nil || d.index(dst) != nil {
			return errSlowPath
		}
	}
	for {
		d.ws()
		if d.i >= len(d.b) {
			return errSlowPath
		}
		if d.b[d.i] == ']' {
			d.i++
			return nil
		}
		if d.comma() != nil || d.vote() != nil {
			return errSlowPath
		}
	}
}

// vote reads [contest, flags, undervotes, mark…] into d.contests.
func (d *batchDecoder) vote() error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return errSlowPath
	}
	d.i++
	d.contests = append(d.contests, vigil.ContestVote{})
	cv := &d.contests[len(d.contests)-1]
	from := len(d.marks)
	var flags int
	if d.index((*string)(&cv.Contest)) != nil || d.comma() != nil || d.int(&flags) != nil || flags&^1 != 0 ||
		d.comma() != nil || d.int(&cv.Undervotes) != nil {
		return errSlowPath
	}
	cv.Overvoted = flags == 1
	for {
		d.ws()
		if d.i >= len(d.b) {
			return errSlowPath
		}
		if d.b[d.i] == ']' {
			d.i++
			d.mspans = append(d.mspans, span{from, len(d.marks)})
			return nil
		}
		if d.comma() != nil {
			return errSlowPath
		}
		d.ws()
		var m vigil.Mark
		if d.i < len(d.b) && d.b[d.i] == '[' {
			d.i++
			var mf int
			if d.index((*string)(&m.Choice)) != nil || d.comma() != nil || d.int(&m.Rank) != nil || d.comma() != nil ||
				d.int(&mf) != nil || mf&^3 != 0 {
				return errSlowPath
			}
			if d.ws(); d.i >= len(d.b) || d.b[d.i] != ']' {
				return errSlowPath
			}
			d.i++
			m.WriteIn, m.Ambiguous = mf&1 != 0, mf&2 != 0
		} else if d.index((*string)(&m.Choice)) != nil {
			return errSlowPath
		}
		d.marks = append(d.marks, m)
	}
}

// comma consumes a ',' (after any space).
func (d *batchDecoder) comma() error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != ',' {
		return errSlowPath
	}
	d.i++
	return nil
}

// index reads an index into the batch's strings (not null).
func (d *batchDecoder) index(dst *string) error {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == 'n' {
		return errSlowPath
	}
	var i int
	if err := d.int(&i); err != nil || i < 0 || i >= len(d.batch.Strings) {
		return errSlowPath
	}
	*dst = d.batch.Strings[i]
	return nil
}

var recordKeys = map[string]uint16{"id": 1, "tabulator": 2, "batch": 4, "position": 8, "imprintedId": 16,
	"ballotStyle": 32, "precinct": 64, "countingGroup": 128, "contests": 256}

// contestVote reads one vigil.ContestVote into d.contests; its marks go
// to d.marks.
func (d *batchDecoder) contestVote() error {
	d.contests = append(d.contests, vigil.ContestVote{})
	at, from := len(d.contests)-1, len(d.marks)
	var seen uint8
	err := d.object(func(key string) error {
		cv := &d.contests[at]
		var bit uint8
		switch key {
		case "contest":
			bit = 1
		case "overvoted":
			bit = 2
		case "undervotes":
			bit = 4
		case "marks":
			bit = 8
		}
		if bit == 0 || seen&bit != 0 {
			return errSlowPath
		}
		seen |= bit
		switch key {
		case "contest":
			return d.str((*string)(&cv.Contest))
		case "overvoted":
			return d.bool(&cv.Overvoted)
		case "undervotes":
			return d.int(&cv.Undervotes)
		}
		return d.array(d.mark)
	})
	d.mspans = append(d.mspans, span{from, len(d.marks)})
	return err
}

func (d *batchDecoder) mark() error {
	d.marks = append(d.marks, vigil.Mark{})
	at := len(d.marks) - 1
	var seen uint8
	return d.object(func(key string) error {
		m := &d.marks[at]
		var bit uint8
		switch key {
		case "choice":
			bit = 1
		case "rank":
			bit = 2
		case "writeIn":
			bit = 4
		case "ambiguous":
			bit = 8
		default:
			return errSlowPath
		}
		if seen&bit != 0 {
			return errSlowPath
		}
		seen |= bit
		switch bit {
		case 1:
			return d.str((*string)(&m.Choice))
		case 2:
			return d.int(&m.Rank)
		case 4:
			return d.bool(&m.WriteIn)
		}
		return d.bool(&m.Ambiguous)
	})
}

func (d *batchDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// null consumes a null if one is next.
func (d *batchDecoder) null() bool {
	d.ws()
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object reads {"key": value, …}, calling field for each key with the
// reader before the value.
func (d *batchDecoder) object(field func(key string) error) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return errSlowPath
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		var key string
		if err := d.str(&key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return errSlowPath
		}
		d.i++
		if err := field(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return errSlowPath
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return nil
		default:
			return errSlowPath
		}
	}
}

// array reads [v, …], calling elem for each element.
func (d *batchDecoder) array(elem func() error) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return errSlowPath
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return errSlowPath
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return errSlowPath
		}
	}
}

// str reads a string. One without escapes or non-ASCII bytes points into
// the payload; anything else is decoded by encoding/json (and must be valid
// UTF-8, which encoding/json would otherwise replace).
func (d *batchDecoder) str(s *string) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return errSlowPath
	}
	start := d.i + 1
	plain := true
	j := start
	for ; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			j++ // skip the escaped byte (an escaped quote must not end the string)
			continue
		}
		if c < 0x20 || c >= 0x80 {
			plain = false
		}
	}
	if j >= len(d.b) {
		return errSlowPath
	}
	d.i = j + 1
	if plain {
		if j > start {
			*s = unsafe.String(&d.b[start], j-start)
		} else {
			*s = ""
		}
		return nil
	}
	raw := d.b[start-1 : j+1]
	if !utf8.Valid(raw) {
		return errSlowPath
	}
	return json.Unmarshal(raw, s)
}

// int reads an integer (no fraction, no exponent: encoding/json refuses
// those for an int).
func (d *batchDecoder) int(v *int) error {
	if d.null() {
		return nil
	}
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	if j == digits || j-digits > 18 || (j < len(d.b) && (d.b[j] == '.' || d.b[j] == 'e' || d.b[j] == 'E')) {
		return errSlowPath
	}
	n, err := strconv.Atoi(unsafe.String(&d.b[d.i], j-d.i))
	if err != nil {
		return errSlowPath
	}
	*v, d.i = n, j
	return nil
}

func (d *batchDecoder) bool(v *bool) error {
	if d.null() {
		return nil
	}
	switch {
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		*v, d.i = true, d.i+4
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		*v, d.i = false, d.i+5
	default:
		return errSlowPath
	}
	return nil
}
