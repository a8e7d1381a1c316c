package voter_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// KeyIndex is the key table the SQLite layer keeps, in memory.
type KeyIndex map[string][]int32

func MustIndex(voters []vigil.Voter) KeyIndex {
	ix := KeyIndex{}
	for i := range voters {
		for _, k := range voter.SearchKeys(&voters[i]) {
			ix[k] = append(ix[k], int32(i))
		}
	}
	return ix
}

// Search returns candidates ordered by rank, best first.
func (ix KeyIndex) Search(voters []vigil.Voter, q string) []int32 {
	pq := voter.ParseQuery(q)
	var cand []int32
	for _, k := range pq.Keys() {
		cand = append(cand, ix[k]...)
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	scores := make(map[int32]float64, len(cand))
	for _, c := range cand {
		scores[c] = pq.Rank(&voters[c])
	}
	slices.SortStableFunc(cand, func(a, b int32) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	return cand
}

// typo replaces one inner letter.
func typo(rng *rand.Rand, s string) string {
	if len(s) < 4 {
		return s
	}
	b := []byte(s)
	i := 1 + rng.IntN(len(b)-2)
	b[i] = byte('A' + (int(b[i]-'A')+1+rng.IntN(24))%26)
	return string(b)
}

func TestSearchFindsVotersDespiteTyposNicknamesAndOrder(t *testing.T) {
	roll := voter.GenerateRoll(11, 20000, 0)
	ix := MustIndex(roll.Voters)
	rng := rand.New(rand.NewPCG(1, 2))
	nick := map[string]string{"WILLIAM": "BILL", "ROBERT": "BOB", "MARGARET": "PEGGY", "ELIZABETH": "LIZ",
		"JAMES": "JIM", "RICHARD": "DICK", "MICHAEL": "MIKE", "PATRICIA": "PATTY", "JOSEPH": "JOE", "THOMAS": "TOM"}
	variants := []struct {
		name  string
		query func(v *vigil.Voter) string
	}{
		{"exact name", func(v *vigil.Voter) string { return v.Name.First + " " + v.Name.Last }},
		{"last name first with a comma", func(v *vigil.Voter) string { return v.Name.Last + ", " + v.Name.First }},
		{"a typo in the last name", func(v *vigil.Voter) string { return v.Name.First + " " + typo(rng, v.Name.Last) }},
		{"a typo in the first name", func(v *vigil.Voter) string { return typo(rng, v.Name.First) + " " + v.Name.Last }},
		{"a nickname", func(v *vigil.Voter) string {
			if n, ok := nick[v.Name.First]; ok {
				return n + " " + v.Name.Last
			}
			return v.Name.First + " " + v.Name.Last
		}},
		{"name and birth date", func(v *vigil.Voter) string {
			return strings.ToLower(v.Name.First+" "+typo(rng, v.Name.Last)) + " " + v.BirthDate.String()
		}},
		{"the voter ID", func(v *vigil.Voter) string { return string(v.ID) }},
	}
	for _, vt := range variants {
		t.Run(vt.name+" finds the voter", func(t *testing.T) {
			found, top := 0, 0
			const n = 400
			for i := 0; i < n; i++ {
				v := &roll.Voters[rng.IntN(len(roll.Voters))]
				q := vt.query(v)
				res := ix.Search(roll.Voters, q)
				pos := slices.IndexFunc(res, func(c int32) bool { return roll.Voters[c].ID == v.ID })
				if pos < 0 {
					continue
				}
				found++
				// Ties with namesakes are fine: the voter scores as high as the best.
				if voter.Rank(q, &roll.Voters[res[0]]) <= voter.Rank(q, v)+1e-9 {
					top++
				}
			}
			if float64(found)/n < 0.98 || float64(top)/n < 0.95 {
				t.Fatalf("found %d/%d, ranked first %d/%d", found, n, top, n)
			}
		})
	}
}

func TestQueryParsing(t *testing.T) {
	tests := []struct {
		q    string
		want string
	}{
		{"Bill Smith", "{[BILL SMITH]   }"},
		{"smith, john 1980-02-03", "{[SMITH JOHN] 1980-02-03  }"},
		{"doe jane 2/3/1980", "{[DOE JANE] 1980-02-03  }"},
		{"NC123456", "{[]  NC123456 }"},
		{"12 N Main St", "{[]   12 MAIN}"},
	}
	for _, tt := range tests {
		t.Run(tt.q+" parses", func(t *testing.T) {
			if got := fmt.Sprint(voter.ParseQuery(tt.q)); got != tt.want {
				t.Fatalf("got %s want %s", got, tt.want)
			}
		})
	}
}

// BenchmarkSearch1M measures a name search with a typo against a key index
// of 1,000,000 voters: key lookup, candidate fetch and ranking. It reports
// the 99th percentile latency. Run with -bench Search1M.
func BenchmarkSearch1M(b *testing.B) {
	roll := voter.GenerateRoll(5, 1_000_000, 0)
	ix := MustIndex(roll.Voters)
	rng := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	var cands int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := &roll.Voters[rng.IntN(len(roll.Voters))]
		q := v.Name.First + " " + typo(rng, v.Name.Last)
		t0 := time.Now()
		res := ix.Search(roll.Voters, q)
		lat = append(lat, time.Since(t0))
		cands += len(res)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(cands)/float64(b.N), "candidates/op")
}
