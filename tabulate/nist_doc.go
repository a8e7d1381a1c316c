package tabulate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// nistDoc walks the top level of one NIST common-data-format document,
// JSON or XML, a child element at a time. The XML schemas order a report's
// children alphabetically, so the CVRs come before the Election that
// defines their contests; readers therefore make two passes over the bytes
// (one for everything but the CVRs, one streaming the CVRs) rather than
// hold every CVR in memory.
type nistDoc struct {
	op   string
	name string
	data []byte
	json bool
	root string // the root element the document must have
}

// nistElem is one top-level child of a document. A repeated XML element
// (<CVR>…</CVR><CVR>…</CVR>) is one JSON array ("CVR": […]); each visits
// the members either way.
type nistElem struct {
	name string
	line int
	// each calls fn once per member with the member's first line and a
	// decode function for it. fn MUST call decode before returning nil,
	// and MUST pass a zeroed value: decoding merges into what is there.
	each func(fn func(line int, decode func(v any) error) error) error
	used bool
}

// walk calls fn with each top-level child; a child fn does not call each on
// is skipped.
func (d *nistDoc) walk(fn func(el *nistElem) error) error {
	if d.json {
		return d.walkJSON(fn)
	}
	return d.walkXML(fn)
}

func (d *nistDoc) walkXML(fn func(el *nistElem) error) error {
	dec := xml.NewDecoder(bytes.NewReader(d.data))
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return parseErr(d.op, d.name, 0, "", "the file holds no XML element; expected a <%s>", d.root)
		}
		if err != nil {
			return d.xmlErr(err, 0, "")
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != d.root {
		line, _ := dec.InputPos()
		return parseErr(d.op, d.name, line, root.Name.Local, "the root element is <%s>, not <%s>; is this a NIST %s file?", root.Name.Local, d.root, d.root)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return parseErr(d.op, d.name, 0, d.root, "the file ends before </%s>", d.root)
			}
			return d.xmlErr(err, 0, "")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			line, _ := dec.InputPos()
			el := &nistElem{name: t.Name.Local, line: line}
			el.each = func(fn func(line int, decode func(v any) error) error) error {
				el.used = true
				return fn(line, func(v any) error {
					if err := dec.DecodeElement(v, &t); err != nil {
						return d.xmlErr(err, line, t.Name.Local)
					}
					return nil
				})
			}
			if err := fn(el); err != nil {
				return err
			}
			if !el.used {
				if err := dec.Skip(); err != nil {
					return d.xmlErr(err, line, t.Name.Local)
				}
			}
		}
	}
}

func (d *nistDoc) xmlErr(err error, line int, elem string) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return parseErr(d.op, d.name, se.Line, elem, "malformed XML: %s", se.Msg)
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return parseErr(d.op, d.name, line, elem, "%q is not a number where the schema wants one (in <%s> starting here)", ne.Num, elem)
	}
	return parseErr(d.op, d.name, line, elem, "cannot read <%s>: %v", elem, err)
}

func (d *nistDoc) walkJSON(fn func(el *nistElem) error) error {
	dec := json.NewDecoder(bytes.NewReader(d.data))
	tok, err := dec.Token()
	if err != nil {
		return d.jsonErr(err, "")
	}
	if tok != json.Delim('{') {
		return parseErr(d.op, d.name, 1, "", "a NIST %s JSON file is one JSON object", d.root)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return d.jsonErr(err, "")
		}
		key, _ := tok.(string)
		line := d.lineAt(dec.InputOffset())
		if key == "@type" {
			var s string
			if err := dec.Decode(&s); err != nil {
				return d.jsonErr(err, key)
			}
			if typeName(s) != d.root {
				return parseErr(d.op, d.name, line, key, "the document's @type is %q, not %s; is this a NIST %s file?", s, d.root, d.root)
			}
			continue
		}
		el := &nistElem{name: key, line: line}
		el.each = func(fn func(line int, decode func(v any) error) error) error {
			el.used = true
			tok, err := dec.Token()
			if err != nil {
				return d.jsonErr(err, key)
			}
			if tok != json.Delim('[') {
				return parseErr(d.op, d.name, line, key, "%s must be a JSON array", key)
			}
			for i := 0; dec.More(); i++ {
				at := d.lineAt(dec.InputOffset())
				elem := fmt.Sprintf("%s[%d]", key, i)
				err := fn(at, func(v any) error {
					if err := dec.Decode(v); err != nil {
						return d.jsonErr(err, elem)
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return d.jsonErr(err, key)
			}
			return nil
		}
		if err := fn(el); err != nil {
			return err
		}
		if !el.used {
			if err := skipJSON(dec); err != nil {
				return d.jsonErr(err, key)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return d.jsonErr(err, "")
	}
	return nil
}

// skipJSON reads past the next JSON value without keeping it.
func skipJSON(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func (d *nistDoc) jsonErr(err error, elem string) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return parseErr(d.op, d.name, d.lineAt(se.Offset), elem, "malformed JSON: %v", se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := elem
		if te.Field != "" {
			field = elem + "." + te.Field
		}
		return parseErr(d.op, d.name, d.lineAt(te.Offset), field, "a JSON %s where the schema wants %s", te.Value, jsonKind(te.Type.String()))
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return parseErr(d.op, d.name, d.lineAt(int64(len(d.data))), elem, "the JSON ends early; is the file complete?")
	}
	return parseErr(d.op, d.name, 0, elem, "cannot read the JSON: %v", err)
}

func jsonKind(goType string) string {
	switch goType {
	case "int", "*int", "int64":
		return "a whole number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return fmt.Sprintf("a different value (%s)", goType)
}

// lineAt is the 1-based line of byte offset off, skipping the white space
// after it (a JSON decoder's offset sits before the separator).
func (d *nistDoc) lineAt(off int64) int {
	if off < 0 {
		return 0
	}
	off = min(off, int64(len(d.data)))
	for off < int64(len(d.data)) {
		c := d.data[off]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ',' && c != ':' {
			break
		}
		off++
	}
	return 1 + bytes.Count(d.data[:off], []byte{'\n'})
}
