package equipment

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
)

// AdvisoryColumns returns the columns of an advisory CSV; the first six are
// required. The JSON form is an array of objects with the same keys:
//
//	[{"id":"ESS-2024-01","manufacturer":"ES&S","model":"DS200",
//	  "affected_versions":">=2.0 <2.17.4","severity":"high","fixed_version":"2.17.4"}]
//
// model may be empty or "*" for every model; component is firmware,
// software, os or empty (firmware or software). affected_versions uses the
// Range syntax; when it is empty, every version below fixed_version is
// affected.
func AdvisoryColumns() []string { return append([]string(nil), advisoryColumns...) }

var advisoryColumns = []string{"id", "manufacturer", "model", "affected_versions", "severity", "fixed_version", "component", "summary"}

const maxAdvisoryJSON = 16 << 20

// ReadAdvisoriesCSV reads advisories from CSV; problems name line and column.
func ReadAdvisoriesCSV(r io.Reader) ([]vigil.Advisory, error) {
	const op = "equipment.import_advisories"
	t, err := newTable(op, r, 0, advisoryColumns[:6], advisoryColumns[6:])
	if err != nil {
		return nil, err
	}
	var out []vigil.Advisory
	seen := map[string]int{}
	for row := t.next(); row != nil; row = t.next() {
		a := vigil.Advisory{
			ID:           row.get("id"),
			Manufacturer: row.get("manufacturer"),
			Model:        row.get("model"),
			Component:    vigil.AdvisoryComponent(strings.ToLower(row.get("component"))),
			Affected:     row.get("affected_versions"),
			Severity:     vigil.AdvisorySeverity(strings.ToLower(row.get("severity"))),
			Fixed:        row.get("fixed_version"),
			Summary:      row.get("summary"),
		}
		if err := CheckAdvisory(a); err != nil {
			row.failErr(err)
			continue
		}
		key := advisoryKey(a)
		if prev, dup := seen[key]; dup {
			row.fail("id", "advisory %q for this model is already on line %d", clip(a.ID), prev)
			continue
		}
		seen[key] = row.line
		out = append(out, a)
	}
	if err := t.err(); err != nil {
		return nil, err
	}
	return out, nil
}

type advisoryJSON struct {
	ID               string `json:"id"`
	Manufacturer     string `json:"manufacturer"`
	Model            string `json:"model"`
	AffectedVersions string `json:"affected_versions"`
	Severity         string `json:"severity"`
	FixedVersion     string `json:"fixed_version"`
	Component        string `json:"component"`
	Summary          string `json:"summary"`
}

// ReadAdvisoriesJSON reads a JSON array of advisories. Unknown keys are
// refused (a misspelt "fixed_verison" must not pass silently); problems
// name the line where the advisory's object starts and the key.
func ReadAdvisoriesJSON(r io.Reader) ([]vigil.Advisory, error) {
	const op = "equipment.import_advisories"
	data, err := io.ReadAll(io.LimitReader(r, maxAdvisoryJSON+1))
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Other, err)
	}
	if len(data) > maxAdvisoryJSON {
		return nil, vigil.FieldError(op, "file", "larger than 16 MiB; split the file")
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, vigil.FieldError(op, "file", "line %d: expected a JSON array of advisories", lineAt(dec.InputOffset()))
	}
	var out []vigil.Advisory
	var errs []error
	seen := map[string]int{}
	for dec.More() && len(errs) < maxErrors {
		// InputOffset is just past the previous element; skip to the '{'.
		start := dec.InputOffset()
		for start < int64(len(data)) && strings.ContainsRune(" \t\r\n,", rune(data[start])) {
			start++
		}
		line := lineAt(start)
		var j advisoryJSON
		if err := dec.Decode(&j); err != nil {
			field := "file"
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) && ute.Field != "" {
				field = ute.Field
			} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				field = strings.Trim(f, `"`)
			}
			return nil, errors.Join(append(errs, vigil.FieldError(op, clip(field), "line %d: %s", line, jsonProblem(err)))...)
		}
		a := vigil.Advisory{
			ID: strings.TrimSpace(j.ID), Manufacturer: strings.TrimSpace(j.Manufacturer), Model: strings.TrimSpace(j.Model),
			Component: vigil.AdvisoryComponent(strings.ToLower(strings.TrimSpace(j.Component))),
			Affected:  strings.TrimSpace(j.AffectedVersions),
			Severity:  vigil.AdvisorySeverity(strings.ToLower(strings.TrimSpace(j.Severity))),
			Fixed:     strings.TrimSpace(j.FixedVersion), Summary: strings.TrimSpace(j.Summary),
		}
		if err := CheckAdvisory(a); err != nil {
			errs = append(errs, vigil.FieldError(op, vigil.ErrorField(err), "line %d: %s", line, plainMessage(err)))
			continue
		}
		key := advisoryKey(a)
		if prev, dup := seen[key]; dup {
			errs = append(errs, vigil.FieldError(op, "id", "line %d: advisory %q for this model is already on line %d", line, clip(a.ID), prev))
			continue
		}
		seen[key] = line
		out = append(out, a)
	}
	if len(errs) == 0 {
		if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
			errs = append(errs, vigil.FieldError(op, "file", "line %d: expected ] at the end of the array", lineAt(dec.InputOffset())))
		} else if _, err := dec.Token(); err != io.EOF {
			errs = append(errs, vigil.FieldError(op, "file", "line %d: unexpected data after the array", lineAt(dec.InputOffset())))
		}
	}
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "not valid JSON: " + se.Error()
	case errors.As(err, &ute):
		return "expected a string"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown key; the keys are " + strings.Join(advisoryColumns, ", ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	return "not valid JSON"
}

func advisoryKey(a vigil.Advisory) string {
	return a.ID + "\x00" + fold(a.Manufacturer) + "\x00" + fold(a.Model)
}

// CheckAdvisory validates a and parses its versions strictly: the range,
// the fixed version, and that the fixed version is not itself affected.
func CheckAdvisory(a vigil.Advisory) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := advisoryRange(a)
	return err
}

// advisoryRange returns the versions a covers.
func advisoryRange(a vigil.Advisory) (Range, error) {
	const op = "equipment.advisory"
	var fixed Version
	if a.Fixed != "" {
		var err error
		if fixed, err = ParseVersion(a.Fixed); err != nil {
			return Range{}, vigil.FieldError(op, "fixed_version", "%s", plainMessage(err))
		}
	}
	if a.Affected == "" {
		return ParseRange("<" + a.Fixed)
	}
	r, err := ParseRange(a.Affected)
	if err != nil {
		return Range{}, err
	}
	if a.Fixed != "" && r.Contains(fixed) {
		return Range{}, vigil.FieldError(op, "fixed_version", "fixed version %s is inside the affected range %q; one of them is wrong", clip(a.Fixed), clip(a.Affected))
	}
	return r, nil
}

// fold normalises names for comparison: case, and runs of spaces.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
