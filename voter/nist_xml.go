package voter

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
)

// nistXML streams VoterRecord elements out of a VRI XML document
// (VoterRecordsResponse of type VoterRecordResults), or reads the Subject
// of a VoterRecordsRequest. Elements are matched by local name, so any
// namespace prefixes work (the NIST examples use three styles).
type nistXML struct {
	dec  *xml.Decoder
	file string
	n    int
}

// Bounds on one record, so hostile input cannot exhaust memory.
const (
	maxXMLDepth = 64
	maxXMLNodes = 20000
)

func newNISTXMLSource(r io.Reader, file string) (source, error) {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	d.Strict = true
	// Reject DTD entity tricks by not defining any entities beyond XML's own.
	d.Entity = nil
	return &nistXML{dec: d, file: file}, nil
}

func (s *nistXML) next(rec *Record) error {
	for {
		tok, err := s.dec.Token()
		if errors.Is(err, io.EOF) {
			if s.n == 0 {
				return vigil.Errorf(vigil.Invalid, "voters.import", "%s holds no VoterRecord or Subject element", s.file)
			}
			return io.EOF
		}
		if err != nil {
			return vigil.Errorf(vigil.Invalid, "voters.import", "%s: malformed XML near byte %d: %v", s.file, s.dec.InputOffset(), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "VoterRecord", "Subject":
			s.n++
			rec.Line = s.n
			count := 0
			n, err := s.element(se, 0, &count)
			if err != nil {
				return vigil.Errorf(vigil.Invalid, "voters.import", "%s: record %d: %v", s.file, s.n, err)
			}
			voterFromVRI(n, rec, s.file)
			return nil
		}
	}
}

var errXMLTooBig = errors.New("element too large or too deeply nested")

// element reads the subtree of se into a node.
func (s *nistXML) element(se xml.StartElement, depth int, count *int) (*node, error) {
	if depth > maxXMLDepth {
		return nil, errXMLTooBig
	}
	n := &node{name: se.Name.Local}
	for _, a := range se.Attr {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		n.children = append(n.children, &node{name: a.Name.Local, text: a.Value})
	}
	var text strings.Builder
	for {
		tok, err := s.dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			*count++
			if *count > maxXMLNodes {
				return nil, errXMLTooBig
			}
			c, err := s.element(t, depth+1, count)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		case xml.CharData:
			if text.Len()+len(t) <= 1<<16 {
				text.Write(t)
			}
		case xml.EndElement:
			n.text = text.String()
			return n, nil
		}
	}
}
