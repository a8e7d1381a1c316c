package sqlite_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/sqlite"
)

// FuzzReadPaperCheckIns: any input is either refused with a message or
// read into entries that each name a voter and a line, no voter twice.
func FuzzReadPaperCheckIns(f *testing.F) {
	for _, s := range []string{
		"voter\nNC1\nNC2\n",
		"voter,time,identity\nNC1,2026-11-03 09:14,licence\nNC2,2026-11-03T10:00:00Z,\n",
		"\ufeffVoter,Time\nA,\n",
		"voter\nA\nA\n",
		"voter,voter\nA,B\n",
		"time\n2026-11-03 09:14\n",
		"voter,\"time\"\n\"A\nB\",x\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := sqlite.ReadPaperCheckIns(strings.NewReader(s), time.UTC)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Voter == "" || e.Line < 2 || seen[string(e.Voter)] {
				t.Fatalf("bad entry %+v", e)
			}
			seen[string(e.Voter)] = true
		}
	})
}
