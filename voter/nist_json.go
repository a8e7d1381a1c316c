package voter

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vigil-elections/vigil"
)

// nistJSON streams VoterRecord objects out of a VRI JSON document. It
// accepts a VoterRecordResults object (records are decoded one at a time,
// so a file of millions of records stays in bounded memory), a single
// VoterRecord, a VoterRecordsRequest (its Subject), or a bare JSON array
// of VoterRecord objects.
type nistJSON struct {
	dec     *json.Decoder
	file    string
	n       int
	inArray bool
	rest    map[string]json.RawMessage
	done    bool
}

func newNISTJSONSource(r io.Reader, file string) (source, error) {
	s := &nistJSON{dec: json.NewDecoder(bufio.NewReaderSize(r, 64<<10)), file: file}
	s.dec.UseNumber()
	tok, err := s.dec.Token()
	if err != nil {
		return nil, vigil.Errorf(vigil.Invalid, "voters.import", "%s is not JSON: %v", file, err)
	}
	switch tok {
	case json.Delim('['):
		s.inArray = true
		return s, nil
	case json.Delim('{'):
	default:
		return nil, vigil.Errorf(vigil.Invalid, "voters.import", "%s: a NIST SP 1500-102 document is a JSON object", file)
	}
	// Read members until the VoterRecord array; keep the others.
	s.rest = map[string]json.RawMessage{}
	for s.dec.More() {
		kt, err := s.dec.Token()
		if err != nil {
			return nil, s.syntax(err)
		}
		key, _ := kt.(string)
		if key == "VoterRecord" {
			t, err := s.dec.Token()
			if err != nil {
				return nil, s.syntax(err)
			}
			if t != json.Delim('[') {
				return nil, vigil.Errorf(vigil.Invalid, "voters.import", "%s: VoterRecord must be an array", file)
			}
			s.inArray = true
			return s, nil
		}
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return nil, s.syntax(err)
		}
		s.rest[key] = raw
	}
	return s, nil
}

func (s *nistJSON) syntax(err error) error {
	return vigil.Errorf(vigil.Invalid, "voters.import", "%s: malformed JSON near byte %d: %v", s.file, s.dec.InputOffset(), err)
}

func (s *nistJSON) next(rec *Record) error {
	if s.done {
		return io.EOF
	}
	if !s.inArray {
		// A single object: a VoterRecord, or a request with a Subject.
		s.done = true
		t := typeOf(s.rest["@type"])
		if _, ok := s.rest["Voter"]; !ok {
			if _, ok := s.rest["Subject"]; !ok {
				if t == "VRI.VoterRecordResults" {
					return io.EOF // no records
				}
				return vigil.Errorf(vigil.Invalid, "voters.import", "%s: %q holds no voter record", s.file, t)
			}
		}
		s.n++
		rec.Line = s.n
		voterFromVRI(jsonNode("", s.rest), rec, s.file)
		return nil
	}
	if !s.dec.More() {
		s.done = true
		return io.EOF
	}
	var obj map[string]any
	if err := s.dec.Decode(&obj); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return s.syntax(io.ErrUnexpectedEOF)
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			// Not an object: reject this element and go on.
			s.n++
			rec.Line = s.n
			rec.reject(s.file, "VoterRecord", "not a JSON object")
			return nil
		}
		return s.syntax(err)
	}
	s.n++
	rec.Line = s.n
	voterFromVRI(jsonNode("", obj), rec, s.file)
	return nil
}

func typeOf(raw json.RawMessage) string {
	var t string
	json.Unmarshal(raw, &t)
	return t
}

// jsonNode converts decoded JSON into a node tree. Members are visited in
// sorted order so the result does not depend on map iteration.
func jsonNode(name string, v any) *node {
	n := &node{name: name}
	switch x := v.(type) {
	case string:
		n.text = x
	case json.Number:
		n.text = x.String()
	case bool:
		n.text = fmt.Sprint(x)
	case map[string]json.RawMessage:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var val any
			d := json.NewDecoder(strings.NewReader(string(x[k])))
			d.UseNumber()
			if d.Decode(&val) == nil {
				n.addJSON(k, val)
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.addJSON(k, x[k])
		}
		if t, ok := x["Value"].(string); ok {
			n.text = t
		}
	}
	return n
}

func (n *node) addJSON(k string, v any) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			n.children = append(n.children, jsonNode(k, e))
		}
		return
	}
	n.children = append(n.children, jsonNode(k, v))
}
