package detect

import (
	_ "embed"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-elections/vigil"
)

//go:embed default.rules
var defaultRules []byte

// DefaultRulesText is the built-in rule file, the starting point for an
// officer's own.
func DefaultRulesText() []byte { return append([]byte(nil), defaultRules...) }

// DefaultRules returns the built-in rules.
func DefaultRules() *Rules {
	rs, err := Parse(defaultRules, "built-in rules")
	if err != nil {
		panic("detect: the built-in rules do not parse: " + err.Error())
	}
	return rs
}

// LoadFile reads and parses a rule file; a missing file yields the
// built-in rules. Errors: Invalid (with every bad line), Unavailable.
func LoadFile(path string) (*Rules, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return DefaultRules(), nil
	}
	if err != nil {
		return nil, vigil.Wrap("detect.load", vigil.Unavailable, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRuleFileBytes+1))
	if err != nil {
		return nil, vigil.Wrap("detect.load", vigil.Unavailable, err)
	}
	return Parse(data, path)
}

// RulesPath is where a node's rule file lives: DIR/detect/rules.
func RulesPath(dataDir string) string { return filepath.Join(dataDir, "detect", "rules") }

// StatePath is where a node's detection cursor lives.
func StatePath(dataDir string) string { return filepath.Join(dataDir, "detect", "cursor.json") }
