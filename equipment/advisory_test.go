package equipment_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func MustReadAdvisories(t testing.TB) []vigil.Advisory {
	t.Helper()
	advs, err := equipment.ReadAdvisoriesCSV(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", "advisories.csv"))))
	if err != nil {
		t.Fatal(err)
	}
	return advs
}

func TestReadAdvisories(t *testing.T) {
	fromCSV := MustReadAdvisories(t)
	fromJSON, err := equipment.ReadAdvisoriesJSON(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", "advisories.json"))))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CSV and JSON forms read the same advisories", func(t *testing.T) {
		if !reflect.DeepEqual(fromCSV, fromJSON) {
			t.Errorf("CSV  %+v\nJSON %+v", fromCSV, fromJSON)
		}
	})
	t.Run("every field is read", func(t *testing.T) {
		want := vigil.Advisory{ID: "KNK-2023-07", Manufacturer: "KNOWiNK", Model: "Poll Pad", Component: vigil.ComponentSoftware,
			Affected: "3.4.x || 3.5.0", Severity: vigil.SeverityCritical, Fixed: "3.5.1", Summary: "Example advisory for tests (not a real notice)"}
		if fromCSV[1] != want {
			t.Errorf("got %+v", fromCSV[1])
		}
	})
}

func TestReadAdvisoriesErrors(t *testing.T) {
	header := "id,manufacturer,model,affected_versions,severity,fixed_version\n"
	csvTests := []struct{ name, in, line, field, msg string }{
		{"a malformed range names its line", header + "A1,ES&S,DS200,>=2.0 <2.x,high,\n", "line 2", "affected_versions", "wildcard"},
		{"a pip-style range is refused", header + "A1,ES&S,DS200,\">=1.0,<2.0\",high,\n", "line 2", "affected_versions", "every version"},
		{"a fixed version inside the range is refused", header + "A1,ES&S,DS200,<3,high,2.5\n", "line 2", "fixed_version", "inside"},
		{"a malformed fixed version is refused", header + "A1,ES&S,DS200,,high,2.5b\n", "line 2", "fixed_version", "not a version"},
		{"an unknown severity is refused", header + "A1,ES&S,DS200,<2,severe,\n", "line 2", "severity", "critical"},
		{"neither range nor fix is refused", header + "A1,ES&S,DS200,,high,\n", "line 2", "affected_versions", "fixed version"},
		{"the same advisory twice for one model is refused", header + "A1,ES&S,DS200,<2,high,\nA1,ES&S,ds200,<2,high,\n", "line 3", "id", "line 2"},
	}
	for _, tt := range csvTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ReadAdvisoriesCSV(strings.NewReader(tt.in))
			checkImportError(t, err, tt.line, tt.field, tt.msg)
		})
	}
	jsonTests := []struct{ name, in, line, field, msg string }{
		{"a misspelt key is refused with its line", "[\n{\"id\":\"A1\",\"manufacturer\":\"ES&S\",\n \"fixed_verison\":\"2\"}\n]", "line 2", "fixed_verison", "unknown key"},
		{"a bad range names the line of its object", "[\n{\"id\":\"A0\",\"manufacturer\":\"X\",\"severity\":\"low\",\"fixed_version\":\"1\"},\n{\"id\":\"A1\",\"manufacturer\":\"X\",\"severity\":\"low\",\"affected_versions\":\"~1\"}]", "line 3", "affected_versions", "~"},
		{"a number where text belongs is refused", "[{\"id\":1}]", "line 1", "id", "string"},
		{"an object instead of an array is refused", "{}", "line 1", "file", "array"},
		{"trailing data is refused", "[] []", "line 1", "file", "after the array"},
		{"broken JSON is refused", "[{\"id\":", "line 1", "file", "JSON"},
	}
	for _, tt := range jsonTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ReadAdvisoriesJSON(strings.NewReader(tt.in))
			checkImportError(t, err, tt.line, tt.field, tt.msg)
		})
	}
}

func checkImportError(t *testing.T, err error, line, field, msg string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if vigil.ErrorKind(err) != vigil.Invalid {
		t.Errorf("kind = %v", vigil.ErrorKind(err))
	}
	if vigil.ErrorField(err) != field {
		t.Errorf("field = %q, want %q (%v)", vigil.ErrorField(err), field, err)
	}
	if m := vigil.ErrorMessage(err); !strings.Contains(m, line+":") || !strings.Contains(m, msg) {
		t.Errorf("message %q should name %s and mention %q", m, line, msg)
	}
}

func FuzzReadAdvisoriesCSV(f *testing.F) {
	f.Add(string(MustReadFile(f, filepath.Join("testdata", "advisories.csv"))))
	f.Fuzz(func(t *testing.T, in string) {
		advs, err := equipment.ReadAdvisoriesCSV(strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		for _, a := range advs {
			if err := equipment.CheckAdvisory(a); err != nil {
				t.Fatalf("accepted an advisory that does not check: %v", err)
			}
		}
	})
}

func FuzzReadAdvisoriesJSON(f *testing.F) {
	f.Add(string(MustReadFile(f, filepath.Join("testdata", "advisories.json"))))
	f.Add(`[{"id":"A","manufacturer":"M","severity":"low","fixed_version":"1"}]`)
	f.Fuzz(func(t *testing.T, in string) {
		advs, err := equipment.ReadAdvisoriesJSON(strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		for _, a := range advs {
			if err := equipment.CheckAdvisory(a); err != nil {
				t.Fatalf("accepted an advisory that does not check: %v", err)
			}
		}
	})
}
