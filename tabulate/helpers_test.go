package tabulate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

// dataPath locates a file under shared/data, which sits beside the
// repository (../../shared/data from this package). A missing file fails
// the test: the samples are part of what the tests promise.
func dataPath(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared", "data"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample file %s is missing (%v); the tests need shared/data next to the repository checkout", p, err)
	}
	return p
}

// MustOpen opens sample files as tabulate.Files named by their base name.
func MustOpen(t testing.TB, paths ...string) []tabulate.File {
	t.Helper()
	var files []tabulate.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		t.Cleanup(func() { f.Close() })
		files = append(files, tabulate.File{Name: filepath.Base(p), Reader: f})
	}
	return files
}

// MustParse reads sample files and fails the test on error.
func MustParse(t testing.TB, format tabulate.Format, opt tabulate.Options, paths ...string) ([]vigil.CastVoteRecord, *vigil.Election) {
	t.Helper()
	cvrs, e, err := tabulate.ParseCVRs(format, MustOpen(t, paths...), opt)
	if err != nil {
		t.Fatalf("parse %v: %v", paths, err)
	}
	return cvrs, e
}

func stringFile(name, s string) []tabulate.File {
	return []tabulate.File{{Name: name, Reader: strings.NewReader(s)}}
}

// wantParseError checks that err is an Invalid vigil.Error wrapping a
// ParseError at the given file and line whose text mentions every want.
func wantParseError(t testing.TB, err error, file string, line int, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one at %s line %d mentioning %q", file, line, want)
	}
	if vigil.ErrorKind(err) != vigil.Invalid {
		t.Errorf("error kind %v, want invalid: %v", vigil.ErrorKind(err), err)
	}
	var pe *tabulate.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v does not wrap a *tabulate.ParseError", err)
	}
	if pe.File != file || (line >= 0 && pe.Line != line) {
		t.Errorf("error at %s line %d, want %s line %d: %v", pe.File, pe.Line, file, line, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func contestNames(e *vigil.Election) []string {
	var out []string
	for _, c := range e.Contests {
		out = append(out, c.Name)
	}
	return out
}

// votes maps "contest/choice" to votes from results.
func votes(r *tabulate.Results) map[string]int64 {
	m := map[string]int64{}
	for _, c := range r.Contests {
		for _, ch := range c.Choices {
			m[c.Name+"/"+ch.Name] = ch.Votes
		}
	}
	return m
}
