package tabulate

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/vigil-elections/vigil"
)

// definition resolves the contest and choice names an export uses to the
// ids of an election definition. With a reference election it only looks
// names up; without, it learns them, appending to e.
type definition struct {
	learn    bool
	e        *vigil.Election
	contests map[string]int   // key → index into e.Contests
	choices  []map[string]int // per contest: key → index into Choices
}

func newDefinition(ref *vigil.Election) *definition {
	d := &definition{learn: ref == nil, contests: make(map[string]int)}
	if ref == nil {
		d.e = &vigil.Election{Name: "imported cast vote records"}
		return d
	}
	e := *ref
	e.Contests = make([]vigil.Contest, len(ref.Contests))
	for i, c := range ref.Contests {
		e.Contests[i] = c
		e.Contests[i].Choices = append([]vigil.Choice(nil), c.Choices...)
	}
	d.e = &e
	for i, c := range e.Contests {
		d.index(i, c)
	}
	return d
}

func (d *definition) index(i int, c vigil.Contest) {
	if _, ok := d.contests[string(c.ID)]; !ok {
		d.contests[string(c.ID)] = i
	}
	if k := key(c.Name); k != "" {
		if _, ok := d.contests[k]; !ok {
			d.contests[k] = i
		}
	}
	m := make(map[string]int, 2*len(c.Choices))
	for j, ch := range c.Choices {
		if _, ok := m[string(ch.ID)]; !ok {
			m[string(ch.ID)] = j
		}
	}
	for j, ch := range c.Choices {
		if k := key(ch.Name); k != "" {
			if _, ok := m[k]; !ok {
				m[k] = j
			}
		}
	}
	for len(d.choices) <= i {
		d.choices = append(d.choices, nil)
	}
	d.choices[i] = m
}

// key normalises a name for matching: case folded, runs of white space
// (including line breaks inside a CSV cell) turned into one space.
func key(s string) string {
	return strings.ToLower(normSpace(s))
}

// normSpace trims s and collapses every run of white space to one space.
func normSpace(s string) string {
	clean := true
	prevSpace := true
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// contest finds a contest by id or name; when learning it appends proto.
func (d *definition) contest(name string, proto vigil.Contest) (int, error) {
	if i, ok := d.contests[name]; ok {
		return i, nil
	}
	if i, ok := d.contests[key(name)]; ok {
		return i, nil
	}
	if !d.learn {
		return 0, fmt.Errorf("contest %q is not in the election definition; check the export or the definition", name)
	}
	if proto.ID == "" {
		proto.ID = vigil.ContestID(name)
	}
	if proto.Name == "" {
		proto.Name = name
	}
	if proto.VoteFor == 0 {
		proto.VoteFor = 1
	}
	d.e.Contests = append(d.e.Contests, proto)
	i := len(d.e.Contests) - 1
	d.index(i, proto)
	return i, nil
}

// choice finds a choice of contest ci by id or name; when learning it
// appends proto (whose ID and Name default to name).
func (d *definition) choice(ci int, name string, proto vigil.Choice) (vigil.ChoiceID, error) {
	m := d.choices[ci]
	if j, ok := m[name]; ok {
		return d.e.Contests[ci].Choices[j].ID, nil
	}
	if j, ok := m[key(name)]; ok {
		return d.e.Contests[ci].Choices[j].ID, nil
	}
	if !d.learn {
		return "", fmt.Errorf("choice %q is not in contest %q of the election definition; check the export or the definition", name, d.e.Contests[ci].Name)
	}
	if proto.ID == "" {
		proto.ID = vigil.ChoiceID(name)
	}
	if proto.Name == "" {
		proto.Name = name
	}
	c := &d.e.Contests[ci]
	c.Choices = append(c.Choices, proto)
	j := len(c.Choices) - 1
	m[string(proto.ID)] = j
	if k := key(proto.Name); k != "" {
		if _, ok := m[k]; !ok {
			m[k] = j
		}
	}
	return proto.ID, nil
}

// isWriteIn reports whether a choice name is a vendor's write-in line.
func isWriteIn(name string) bool {
	k := key(name)
	return strings.HasPrefix(k, "write-in") || strings.HasPrefix(k, "write in") || strings.HasPrefix(k, "writein")
}
