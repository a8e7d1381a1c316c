package paper_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/demo"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/paper"
)

var day = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

func MustCounty(t *testing.T, voters int) (*node.Node, demo.County) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "paper-test"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(t.Context(), node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c := demo.Generate(demo.Options{Seed: 3, Voters: voters, Today: day})
	loadCounty(t, n, c)
	return n, c
}

// pdfText reads a PDF back with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	f := filepath.Join(t.TempDir(), "doc.pdf")
	os.WriteFile(f, pdf, 0o600)
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func stamp(t *testing.T, n *node.Node, place string) paper.Stamp {
	t.Helper()
	p, err := paper.ReadPlace(t.Context(), n.DB.DB, place)
	if err != nil {
		t.Fatal(err)
	}
	el, err := paper.ReadElection(t.Context(), n.DB.DB, "")
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := paper.Cursor(t.Context(), n.DB.DB, vnats.EventsStream)
	size, root := n.Tree.Root()
	return paper.Stamp{Election: el.Name + " (" + el.Day + ")", County: p.CountyName, PlaceID: p.ID, PlaceName: p.Name,
		PlaceAddress: p.Address, Printed: time.Date(2026, 11, 3, 5, 30, 0, 0, time.UTC), CheckpointSize: size,
		CheckpointRoot: hex.EncodeToString(root[:]), Cursor: cur}
}

func TestPollbookListsThePlaceAlphabeticallyOnEveryPage(t *testing.T) {
	n, c := MustCounty(t, 1500)
	s := stamp(t, n, "P02")
	voters, err := paper.ReadRoll(t.Context(), n.DB.DB, "P02")
	if err != nil {
		t.Fatal(err)
	}
	// The roll is exactly the active and inactive voters of P02's precincts.
	inPlace := map[string]string{}
	for _, p := range c.Precincts {
		inPlace[p.ID] = p.Place
	}
	var want []string
	for _, v := range c.Voters {
		if inPlace[v.Precinct] == "P02" && (v.Status == "active" || v.Status == "inactive") {
			want = append(want, v.ID)
		}
	}
	if len(voters) != len(want) || len(voters) < 100 {
		t.Fatalf("roll of P02 has %d voters, want %d", len(voters), len(want))
	}
	if !sort.SliceIsSorted(voters, func(i, j int) bool {
		return voters[i].Last+","+voters[i].First < voters[j].Last+","+voters[j].First
	}) {
		t.Error("the roll is not in alphabetical order")
	}
	var buf bytes.Buffer
	pages, err := paper.Pollbook(&buf, s, voters)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	pageTexts := strings.Split(text, "\f")
	if pages < 2 || len(pageTexts) < pages {
		t.Fatalf("%d pages, pdftotext found %d", pages, len(pageTexts))
	}
	for i, pt := range pageTexts[:pages] {
		for _, w := range []string{"PAPER POLLBOOK", s.Election, "Polling place P02", s.PlaceName, "printed 2026-11-03 05:30:00 UTC",
			"checkpoint " + itoa(s.CheckpointSize) + " entries", s.CheckpointRoot, "Page " + itoa(int64(i+1)) + " of " + itoa(int64(pages)), "Signature of voter"} {
			if !strings.Contains(pt, w) {
				t.Fatalf("page %d lacks %q:\n%s", i+1, w, pt)
			}
		}
	}
	// Every voter appears once, in order, with ID, ballot style and birth year.
	pos := 0
	for _, v := range voters {
		name := strings.TrimSpace(v.Last + ", " + v.First + " " + v.Middle + " " + v.Suffix)
		i := strings.Index(text[pos:], name)
		if i < 0 {
			t.Fatalf("voter %s (%s) missing or out of order", v.ID, name)
		}
		pos += i
		line := text[pos:min(len(text), pos+400)]
		pos++
		if !strings.Contains(line, v.ID) || !strings.Contains(line, v.BallotStyle) || !strings.Contains(line, v.BirthDate[:4]) {
			t.Fatalf("the line of %s lacks its ID, ballot style or birth year: %q", v.ID, line)
		}
	}
	if strings.Count(text, "AD") < len(voters) {
		t.Error("voter IDs missing")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestEnvelopesAreNumberedWithTheAffirmation(t *testing.T) {
	n, _ := MustCounty(t, 50)
	s := stamp(t, n, "P01")
	var buf bytes.Buffer
	if err := paper.Envelopes(&buf, s, 7, 3); err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(pdfText(t, buf.Bytes()), "\f")
	for i, num := range []string{"PV-P01-00007", "PV-P01-00008", "PV-P01-00009"} {
		pt := strings.Join(strings.Fields(pages[i]), " ")
		for _, w := range []string{"PROVISIONAL BALLOT ENVELOPE", "Envelope " + num, "registered voter in the jurisdiction",
			"eligible to vote in this election", "Signature of voter", "Page " + itoa(int64(i+1)) + " of 3", s.Election} {
			if !strings.Contains(pt, w) {
				t.Fatalf("envelope %s lacks %q:\n%s", num, w, pt)
			}
		}
	}
}

func TestKeySheetCanBeTypedBack(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	var buf bytes.Buffer
	keys := []paper.KeySheet{
		{Label: "State offline key 1", Secret: id.String(), Public: id.Recipient().String(), Printed: day},
		{Label: "County offline key (post-quantum)", Secret: pq.String(), Public: pq.Recipient().String(), Printed: day},
	}
	if err := paper.KeySheets(&buf, keys); err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(pdfText(t, buf.Bytes()), "\f")
	for i, k := range keys {
		pt := pages[i]
		if !strings.Contains(pt, k.Label) || !strings.Contains(pt, paper.Fingerprint(k.Secret)) {
			t.Fatalf("sheet %d lacks label or fingerprint:\n%s", i, pt)
		}
		// Type the key back: the numbered lines of groups, joined.
		var typed strings.Builder
		for _, line := range strings.Split(pt, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && regexp.MustCompile(`^\d+$`).MatchString(f[0]) && regexp.MustCompile(`^[A-Z0-9-]{1,4}$`).MatchString(f[1]) {
				typed.WriteString(strings.Join(f[1:], ""))
			}
		}
		ids, err := age.ParseIdentities(strings.NewReader(typed.String() + "\n"))
		if err != nil {
			t.Fatalf("the key typed back from sheet %d does not parse: %v (%q)", i, err, typed.String())
		}
		var got string
		switch x := ids[0].(type) {
		case *age.X25519Identity:
			got = x.String()
		case *age.HybridIdentity:
			got = x.String()
		}
		if got != k.Secret {
			t.Fatalf("typed back %q, want %q", got, k.Secret)
		}
	}
}

func TestVotedListReadsCheckInsFromTheLog(t *testing.T) {
	n, c := MustCounty(t, 400)
	// Check-ins as the pollbook capability will record them: the event's key
	// is the voter ID.
	var placeVoters []vigil.RollVoter
	inPlace := map[string]string{}
	for _, p := range c.Precincts {
		inPlace[p.ID] = p.Place
	}
	for _, v := range c.Voters {
		if inPlace[v.Precinct] == "P03" {
			placeVoters = append(placeVoters, v)
		}
	}
	actor := vigil.Actor{Name: "pat", Role: vigil.RolePollWorker, Scope: vigil.ScopeState, Origin: n.Origin()}
	t0 := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	for i, v := range placeVoters[:5] {
		ev, err := vigil.NewEvent(actor, vigil.EventCheckInRecorded, v.ID, t0.Add(time.Duration(i)*time.Hour), map[string]string{"voter": v.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// An undone check-in is not a vote; the undo is the voter's last event.
	undo, _ := vigil.NewEvent(actor, vigil.EventCheckInUndone, placeVoters[1].ID, t0.Add(30*time.Minute), map[string]string{"voter": placeVoters[1].ID})
	if _, err := n.Append(t.Context(), []vigil.Event{undo}, vigil.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	voted, err := paper.ReadVoted(t.Context(), n.DB.DB, "P03", t0.Add(150*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(voted) != 2 {
		t.Fatalf("%d voted up to 16:30, want 2 (one of three was undone)", len(voted))
	}
	var buf bytes.Buffer
	if _, err := paper.VotedList(&buf, stamp(t, n, "P03"), t0.Add(150*time.Minute), voted); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	if strings.Contains(text, placeVoters[1].ID) {
		t.Error("an undone check-in is on the voted list")
	}
	for _, v := range []vigil.RollVoter{placeVoters[0], placeVoters[2]} {
		if !strings.Contains(text, v.ID) || !strings.Contains(text, v.LastName+", "+v.FirstName) {
			t.Errorf("voted list lacks %s", v.ID)
		}
	}
	if strings.Contains(text, placeVoters[4].ID) || !strings.Contains(text, "2 voters checked in up to 2026-11-03 16:30 UTC") {
		t.Errorf("voted list:\n%s", text)
	}
}

// loadCounty appends a demo county's events, without its accounts (their
// password hashing is slow on a busy machine).
func loadCounty(t *testing.T, n *node.Node, c demo.County) {
	t.Helper()
	actor := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	if err := demo.LoadRoll(t.Context(), n, actor, c, n.Now(), nil); err != nil {
		t.Fatal(err)
	}
}
