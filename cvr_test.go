package vigil_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

func TestCastVoteRecordValidate(t *testing.T) {
	votes := func(ids ...string) []vigil.ContestVote {
		var out []vigil.ContestVote
		for _, id := range ids {
			out = append(out, vigil.ContestVote{Contest: vigil.ContestID(id)})
		}
		return out
	}
	many := func(n int, dup bool) []string {
		var ids []string
		for i := range n {
			ids = append(ids, fmt.Sprint("C", i))
		}
		if dup {
			ids = append(ids, "C3")
		}
		return ids
	}
	for _, tt := range []struct {
		name  string
		c     vigil.CastVoteRecord
		field string
	}{
		{"a record without an id is refused", vigil.CastVoteRecord{}, "id"},
		{"a contest listed twice is refused", vigil.CastVoteRecord{ID: "1", Contests: votes("A", "B", "A")}, "contests[2].contest"},
		{"a contest listed twice among many is refused", vigil.CastVoteRecord{ID: "1", Contests: votes(many(40, true)...)}, "contests[40].contest"},
		{"many distinct contests are fine", vigil.CastVoteRecord{ID: "1", Contests: votes(many(40, false)...)}, ""},
		{"a contest without an id is refused", vigil.CastVoteRecord{ID: "1", Contests: votes("A", "")}, "contests[1].contest"},
		{"a negative position is refused", vigil.CastVoteRecord{ID: "1", Position: -1}, "position"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("got %v, want an error naming %s", err, tt.field)
			}
		})
	}
}
