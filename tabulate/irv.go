package tabulate

import "github.com/vigil-elections/vigil"

// IRVResult is an instant-runoff count, round by round.
type IRVResult struct {
	Rounds []IRVRound
	Winner vigil.ChoiceID // "" when every ballot was exhausted
}

// IRVRound is one round: every continuing choice's votes, the ballots no
// longer counting, and who was eliminated (or won) at its end.
type IRVRound struct {
	Votes      []ChoiceResult // continuing choices, in contest order
	Continuing int64          // ballots counting for a continuing choice
	Exhausted  int64          // ballots with no continuing choice left (incl. overvotes)
	Eliminated vigil.ChoiceID // "" in the last round
	// Tie says how a tie for last place was broken, "" when there was none.
	Tie string
}

// runIRV counts one ranked-choice contest by instant runoff, single-winner.
//
// Each round every ballot counts for its highest-ranked continuing choice
// (rankings were normalised when added: skipped ranks passed over, repeated
// choices ignored, an overvote exhausts the ballot when reached). A choice
// with more than half of the continuing ballots wins; otherwise the choice
// with the fewest votes is eliminated and the next round begins. When one
// choice is left, it wins.
//
// Tie rule for last place: the tied choice with fewer votes in the most
// recent earlier round where they differ is eliminated; if they were tied in
// every round, the one listed last in the contest's choices is eliminated.
// The law usually asks for a drawing of lots there, so the round's Tie field
// says when that fallback was used and the result must be checked by hand.
func runIRV(con *vigil.Contest, rk *rankings) IRVResult {
	n := len(con.Choices)
	continuing := make([]bool, n)
	left := n
	for i := range continuing {
		continuing[i] = true
	}
	var res IRVResult
	var history [][]int64
	if n == 0 {
		return res
	}
	for {
		votes := make([]int64, n)
		var exh, cont int64
		if rk != nil {
			for b := 0; b+1 < len(rk.offs); b++ {
				counted := false
				for _, s := range rk.data[rk.offs[b]:rk.offs[b+1]] {
					if s == overvote {
						break
					}
					if s >= 0 && int(s) < n && continuing[s] {
						votes[s]++
						counted = true
						break
					}
				}
				if counted {
					cont++
				} else {
					exh++
				}
			}
		}
		round := IRVRound{Continuing: cont, Exhausted: exh}
		for i, c := range con.Choices {
			if continuing[i] {
				round.Votes = append(round.Votes, ChoiceResult{ID: c.ID, Name: c.Name, Votes: votes[i]})
			}
		}
		history = append(history, votes)
		lead := -1
		for i := range votes {
			if continuing[i] && (lead < 0 || votes[i] > votes[lead]) {
				lead = i
			}
		}
		if cont == 0 {
			res.Rounds = append(res.Rounds, round)
			return res // everyone exhausted: no winner
		}
		if 2*votes[lead] > cont || left == 1 {
			res.Rounds = append(res.Rounds, round)
			res.Winner = con.Choices[lead].ID
			return res
		}
		// Find last place.
		var low []int
		for i := range votes {
			if !continuing[i] {
				continue
			}
			switch {
			case len(low) == 0 || votes[i] < votes[low[0]]:
				low = append(low[:0], i)
			case votes[i] == votes[low[0]]:
				low = append(low, i)
			}
		}
		out := low[0]
		if len(low) > 1 {
			out = -1
			for r := len(history) - 2; r >= 0 && out < 0; r-- {
				min, at, unique := int64(-1), -1, false
				for _, i := range low {
					switch v := history[r][i]; {
					case at < 0 || v < min:
						min, at, unique = v, i, true
					case v == min:
						unique = false
					}
				}
				if unique {
					out = at
					round.Tie = "tie for last place broken by an earlier round's votes"
				}
			}
			if out < 0 {
				out = low[len(low)-1]
				round.Tie = "tie for last place in every round; the choice listed last was eliminated — the law may require drawing lots instead"
			}
		}
		continuing[out] = false
		left--
		round.Eliminated = con.Choices[out].ID
		res.Rounds = append(res.Rounds, round)
	}
}
