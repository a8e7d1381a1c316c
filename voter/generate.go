package voter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
)

// Roll is a synthetic voter roll with the truth about its duplicates.
type Roll struct {
	Voters []vigil.Voter
	// Duplicates lists every injected duplicate registration. Pairs of
	// voters not listed are different people, even when they look alike
	// (twins, a father and son at one address, two JOHN SMITHs born the
	// same day).
	Duplicates []InjectedDuplicate
}

// InjectedDuplicate is one duplicate registration GenerateRoll made, and
// how it differs from the original.
type InjectedDuplicate struct {
	Original, Duplicate vigil.VoterID
	Changes             []string // "typo-last", "typo-first", "nickname", "swapped", "moved", "middle", "birth-date"
}

type wordLists struct {
	male, female, last, streets, types []string
	cities                             []city
	nicks                              map[string][]string // canonical → nicknames
}

type city struct {
	name, zip3 string
}

var lists = sync.OnceValue(func() *wordLists {
	w := &wordLists{
		male: strings.Fields(maleNames), female: strings.Fields(femaleNames),
		last: strings.Fields(lastNames), streets: strings.Fields(streetNames), types: strings.Fields(streetTypes),
		nicks: map[string][]string{},
	}
	for _, c := range strings.Fields(cities) {
		name, zip, _ := strings.Cut(c, ":")
		w.cities = append(w.cities, city{strings.ReplaceAll(name, "_", " "), zip})
	}
	for _, line := range strings.Split(nicknameData, "\n") {
		canon, nicks, ok := strings.Cut(line, ":")
		if ok {
			w.nicks[strings.TrimSpace(canon)] = strings.Fields(nicks)
		}
	}
	return w
})

// generatorEpoch is the "today" of generated rolls, fixed so a seed always
// yields the same roll.
var generatorEpoch = vigil.Date{Year: 2026, Month: time.January, Day: 1}

// GenerateRoll returns a deterministic synthetic roll of n registrations
// of which about dupRate are duplicates of others (0 ≤ dupRate < 0.5).
// The same seed always gives the same roll. Names, streets and cities are
// drawn from lists of common US names with a skew towards the frequent
// ones; ages run from 18 to 95; about a third of voters share a household
// (same surname and address) with the voter before them, with a few twins
// and JR/SR pairs among them, so that "same address, same surname" is not
// enough to call two voters one.
//
// Duplicates copy an original and change one or two things: a typo in a
// name, a nickname, first and last name swapped, a move to a new address,
// a dropped middle name, occasionally a slip in the birth date.
func GenerateRoll(seed int64, n int, dupRate float64) *Roll {
	if n < 0 {
		n = 0
	}
	dupRate = min(max(dupRate, 0), 0.49)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x76696769_6c726f6c)) // "vigilrol"
	g := &generator{rng: rng, w: lists()}
	dups := int(math.Round(float64(n) * dupRate))
	originals := n - dups
	roll := &Roll{Voters: make([]vigil.Voter, 0, n)}
	for i := 0; i < originals; i++ {
		var v vigil.Voter
		if i > 0 && rng.Float64() < 0.3 {
			v = g.householdMember(&roll.Voters[i-1])
		} else {
			v = g.person()
		}
		v.ID = vigil.VoterID(fmt.Sprintf("SY%09d", i+1))
		roll.Voters = append(roll.Voters, v)
	}
	// Pick distinct originals to duplicate.
	if originals > 0 {
		picked := rng.Perm(originals)
		for k := 0; k < dups; k++ {
			orig := &roll.Voters[picked[k%originals]]
			d, changes := g.duplicate(orig)
			d.ID = vigil.VoterID(fmt.Sprintf("SY%09d", originals+k+1))
			roll.Voters = append(roll.Voters, d)
			roll.Duplicates = append(roll.Duplicates, InjectedDuplicate{Original: orig.ID, Duplicate: d.ID, Changes: changes})
		}
	}
	rng.Shuffle(len(roll.Voters), func(i, j int) { roll.Voters[i], roll.Voters[j] = roll.Voters[j], roll.Voters[i] })
	return roll
}

type generator struct {
	rng *rand.Rand
	w   *wordLists
}

// pick draws from a list with a Zipf-like skew: early entries are common.
func (g *generator) pick(list []string) string {
	u := g.rng.Float64()
	return list[int(u*u*float64(len(list)))]
}

func (g *generator) person() vigil.Voter {
	var v vigil.Voter
	male := g.rng.IntN(2) == 0
	v.Name.First, v.Gender = g.firstName(male)
	v.Name.Last = g.pick(g.w.last)
	g.middle(&v, male)
	age := 18 + int(77*math.Pow(g.rng.Float64(), 1.3))
	v.BirthDate = g.birthDate(age)
	v.Residence = g.address()
	g.registration(&v)
	return v
}

func (g *generator) firstName(male bool) (string, string) {
	if male {
		return g.pick(g.w.male), "M"
	}
	return g.pick(g.w.female), "F"
}

func (g *generator) middle(v *vigil.Voter, male bool) {
	switch r := g.rng.Float64(); {
	case r < 0.55:
		v.Name.Middle, _ = g.firstName(male)
	case r < 0.75:
		m, _ := g.firstName(male)
		v.Name.Middle = m[:1]
	}
}

func (g *generator) birthDate(age int) vigil.Date {
	y := generatorEpoch.Year - age - 1
	m := time.Month(1 + g.rng.IntN(12))
	d := 1 + g.rng.IntN(time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day())
	return vigil.Date{Year: y, Month: m, Day: d}
}

func (g *generator) address() vigil.Address {
	c := g.w.cities[int(math.Pow(g.rng.Float64(), 1.5)*float64(len(g.w.cities)))]
	a := vigil.Address{
		Line1: fmt.Sprintf("%d %s%s %s", 1+g.rng.IntN(9999), g.direction(), g.pick(g.w.streets), g.w.types[g.rng.IntN(len(g.w.types))]),
		City:  c.name, State: "NC", ZIP: fmt.Sprintf("%s%02d", c.zip3, g.rng.IntN(100)),
	}
	if g.rng.Float64() < 0.12 {
		a.Line2 = fmt.Sprintf("APT %d", 1+g.rng.IntN(400))
	}
	return a
}

func (g *generator) direction() string {
	if g.rng.Float64() < 0.15 {
		return []string{"N ", "S ", "E ", "W "}[g.rng.IntN(4)]
	}
	return ""
}

var parties = []string{"DEM", "DEM", "DEM", "REP", "REP", "REP", "UNA", "UNA", "UNA", "LIB", "GRE"}

func (g *generator) registration(v *vigil.Voter) {
	adult := v.BirthDate.Year + 18
	span := max(1, generatorEpoch.Year-adult)
	y := adult + g.rng.IntN(span)
	v.Registered = vigil.Date{Year: y, Month: time.Month(1 + g.rng.IntN(12)), Day: 1 + g.rng.IntN(28)}
	v.Party = parties[g.rng.IntN(len(parties))]
	v.Status = vigil.VoterStatus{Code: vigil.StatusActive}
	if g.rng.Float64() < 0.08 {
		v.Status = vigil.VoterStatus{Code: vigil.StatusInactive, Reason: vigil.ReasonReturnedMail}
	}
	g.assign(v)
}

// assign gives a voter precinct and districts derived from the ZIP code,
// so neighbours share them.
func (g *generator) assign(v *vigil.Voter) {
	zip := atoi(v.Residence.ZIP)
	v.County = fmt.Sprintf("%03d", 1+zip%100)
	v.Precinct = fmt.Sprintf("P%05d", zip)
	v.Districts = []vigil.DistrictAssignment{
		{Type: vigil.DistrictCongressional, Code: fmt.Sprint(1 + zip%14)},
		{Type: vigil.DistrictStateHouse, Code: fmt.Sprint(1 + zip%120)},
		{Type: vigil.DistrictStateSenate, Code: fmt.Sprint(1 + zip%50)},
	}
}

// householdMember makes someone living with prev: a spouse, a child, a
// twin or a junior.
func (g *generator) householdMember(prev *vigil.Voter) vigil.Voter {
	v := g.person()
	v.Name.Last = prev.Name.Last
	v.Residence = prev.Residence
	age := generatorEpoch.Year - prev.BirthDate.Year
	switch r := g.rng.Float64(); {
	case r < 0.01: // twin: same birthday, another name
		v.BirthDate = prev.BirthDate
		for SameGivenName(v.Name.First, prev.Name.First) {
			v.Name.First, v.Gender = g.firstName(g.rng.IntN(2) == 0)
		}
	case r < 0.03 && prev.Gender == "M" && age >= 40: // junior
		v.Name.First, v.Gender, v.Name.Middle = prev.Name.First, "M", prev.Name.Middle
		v.Name.Suffix = "JR"
		v.BirthDate = g.birthDate(max(18, age-20-g.rng.IntN(min(15, age-38))))
	case r < 0.45 && age >= 40: // child
		v.BirthDate = g.birthDate(max(18, age-20-g.rng.IntN(20)))
	default: // partner
		v.BirthDate = g.birthDate(max(18, age-5+g.rng.IntN(11)))
	}
	g.registration(&v)
	return v
}

// duplicate copies orig with one or two realistic differences.
func (g *generator) duplicate(orig *vigil.Voter) (vigil.Voter, []string) {
	d := *orig
	d.Districts = append([]vigil.DistrictAssignment(nil), orig.Districts...)
	var changes []string
	switch r := g.rng.Float64(); {
	case r < 0.25:
		d.Name.Last = g.typo(d.Name.Last)
		changes = append(changes, "typo-last")
	case r < 0.45:
		d.Name.First = g.typo(d.Name.First)
		changes = append(changes, "typo-first")
	case r < 0.65:
		if nick := g.nickname(d.Name.First); nick != "" {
			d.Name.First = nick
			changes = append(changes, "nickname")
		} else {
			d.Name.First = g.typo(d.Name.First)
			changes = append(changes, "typo-first")
		}
	case r < 0.75:
		d.Name.First, d.Name.Last = d.Name.Last, d.Name.First
		changes = append(changes, "swapped")
	}
	if g.rng.Float64() < 0.5 {
		d.Residence = g.address()
		g.assign(&d)
		changes = append(changes, "moved")
	}
	if d.Name.Middle != "" && g.rng.Float64() < 0.3 {
		if len(d.Name.Middle) > 1 && g.rng.IntN(2) == 0 {
			d.Name.Middle = d.Name.Middle[:1]
		} else {
			d.Name.Middle = ""
		}
		changes = append(changes, "middle")
	}
	if g.rng.Float64() < 0.04 {
		if d.BirthDate.Day <= 12 && int(d.BirthDate.Month) != d.BirthDate.Day {
			d.BirthDate.Month, d.BirthDate.Day = time.Month(d.BirthDate.Day), int(d.BirthDate.Month)
		} else {
			d.BirthDate.Day = 1 + (d.BirthDate.Day+g.rng.IntN(8))%28
		}
		changes = append(changes, "birth-date")
	}
	if len(changes) == 0 {
		changes = append(changes, "exact")
	}
	y := max(d.Registered.Year, generatorEpoch.Year-3) + g.rng.IntN(3)
	d.Registered = vigil.Date{Year: min(y, generatorEpoch.Year-1), Month: time.Month(1 + g.rng.IntN(12)), Day: 1 + g.rng.IntN(28)}
	return d, changes
}

// typo makes one keyboard slip: a substitution, deletion, insertion or
// transposition, never the first letter of a short name.
func (g *generator) typo(s string) string {
	if len(s) < 3 {
		return s + string(rune('A'+g.rng.IntN(26)))
	}
	b := []byte(s)
	i := 1 + g.rng.IntN(len(b)-1)
	switch g.rng.IntN(4) {
	case 0:
		c := byte('A' + g.rng.IntN(26))
		for c == b[i] {
			c = byte('A' + g.rng.IntN(26))
		}
		b[i] = c
	case 1:
		b = append(b[:i], b[i+1:]...)
	case 2:
		b = append(b[:i], append([]byte{byte('A' + g.rng.IntN(26))}, b[i:]...)...)
	default:
		if i == len(b)-1 {
			i--
		}
		if b[i] == b[i+1] {
			b[i] = byte('A' + g.rng.IntN(26))
		} else {
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
	return string(b)
}

func (g *generator) nickname(first string) string {
	nicks := g.w.nicks[first]
	if len(nicks) == 0 {
		return ""
	}
	return nicks[g.rng.IntN(len(nicks))]
}
