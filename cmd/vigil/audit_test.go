package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/rla"
)

// arloSeed is the seed of Arlo's sampler tests
// (votingworks/arlo server/tests/audit_math/test_sampler.py, SEED).
const arloSeed = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"

// runAudit runs "vigil audit ARGS..." in-process and returns its output.
func runAudit(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newAuditCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// writeFile writes content to a file in a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const arloManifest = "batch,ballots\npct 1,25\npct 2,25\npct 3,25\npct 4,25\n"

func TestAuditSample(t *testing.T) {
	t.Run("draws the ballots of Arlo's sampler snapshot", func(t *testing.T) {
		// Arlo server/tests/audit_math/snapshots/snap_test_sampler.py,
		// "test_draw_more_samples 1": the first 10 draws for this seed and
		// four batches of 25.
		manifest := writeFile(t, "manifest.csv", arloManifest)
		got, err := runAudit(t, "sample", "--seed", arloSeed, "--manifest", manifest, "--count", "10")
		if err != nil {
			t.Fatal(err)
		}
		want := `ticket,batch,position
0.000617786129909912,pct 2,3
0.002991631653037245,pct 3,24
0.012057030610635061,pct 1,25
0.017930028930651931,pct 4,19
0.025599454926985137,pct 3,15
0.045351055354441163,pct 1,7
0.063913979803461405,pct 1,8
0.064553852798863609,pct 1,22
0.078998835671540970,pct 1,20
0.090240829778172783,pct 3,12
`
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("a ballot drawn twice appears twice", func(t *testing.T) {
		// Same snapshot, "test_draw_sample 1": draw 11 is ('pct 1', 20)
		// again, generation 2, ticket 0.096136506157297637.
		manifest := writeFile(t, "manifest.csv", arloManifest)
		got, err := runAudit(t, "sample", "--seed", arloSeed, "--manifest", manifest, "--count", "11")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(got, "0.096136506157297637,pct 1,20\n") {
			t.Fatalf("got\n%s", got)
		}
	})

	t.Run("without replacement a ballot appears once", func(t *testing.T) {
		manifest := writeFile(t, "manifest.csv", arloManifest)
		got, err := runAudit(t, "sample", "--seed", arloSeed, "--manifest", manifest, "--count", "100", "--without-replacement")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(got), "\n")
		seen := map[string]bool{}
		for _, l := range lines[1:] {
			id := l[strings.IndexByte(l, ',')+1:]
			if seen[id] {
				t.Fatalf("%s drawn twice", id)
			}
			seen[id] = true
		}
		if len(seen) != 100 {
			t.Fatalf("drew %d ballots, want all 100", len(seen))
		}
	})

	t.Run("batch names with commas and quotes are written as CSV", func(t *testing.T) {
		manifest := writeFile(t, "manifest.csv", "batch,ballots\n\"Smith, \"\"North\"\"\",3\n")
		got, err := runAudit(t, "sample", "--seed", arloSeed, "--manifest", manifest, "--count", "1")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, `,"Smith, ""North""",`) {
			t.Fatalf("got %s", got)
		}
	})

	for _, tc := range []struct {
		name     string
		seed     string
		manifest string
		extra    []string
		field    string
		says     string
	}{
		{"a seed with too few digits is refused", "1234567890123456789", arloManifest, nil, "seed", "at least 20"},
		{"a manifest that does not add up to the ballots cast is refused", arloSeed, arloManifest,
			[]string{"--ballots", "99"}, "ballots", "add up to 100 ballots, not 99"},
		{"a count that is not a number is refused with its line", arloSeed, "batch,ballots\na,1\nb,x\n", nil,
			"manifest", `line 3, field ballots: "x" is not a whole number`},
		{"a negative count is refused with its line", arloSeed, "batch,ballots\na,-4\n", nil,
			"manifest", "line 2, field ballots"},
		{"a batch listed twice is refused with both lines", arloSeed, "batch,ballots\na,1\nb,2\na,3\n", nil,
			"manifest", `line 4, field batch: batch "a" is listed twice (first on line 2)`},
		{"an unnamed batch is refused with its line", arloSeed, "batch,ballots\n,1\n", nil,
			"manifest", "line 2, field batch"},
		{"a manifest without the header is refused", arloSeed, "a,1\n", nil, "manifest", "line 1: the header must be batch,ballots"},
		{"a line with three fields is refused", arloSeed, "batch,ballots\na,1,2\n", nil, "manifest", "line 2: has 3 fields"},
		{"a manifest without ballots is refused", arloSeed, "batch,ballots\na,0\n", nil, "manifest", "no ballots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest := writeFile(t, "manifest.csv", tc.manifest)
			args := append([]string{"sample", "--seed", tc.seed, "--manifest", manifest, "--count", "5"}, tc.extra...)
			_, err := runAudit(t, args...)
			assertInvalid(t, err, tc.field, tc.says)
		})
	}
}

func assertInvalid(t *testing.T, err error, field, says string) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted")
	}
	if vigil.ErrorKind(err) != vigil.Invalid {
		t.Errorf("kind %v, want invalid: %v", vigil.ErrorKind(err), err)
	}
	if got := vigil.ErrorField(err); got != field {
		t.Errorf("field %q, want %q: %v", got, field, err)
	}
	if !strings.Contains(vigil.ErrorMessage(err), says) {
		t.Errorf("message %q does not say %q", vigil.ErrorMessage(err), says)
	}
}

func TestAuditSampleSize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		tally string
		want  string
	}{
		// Arlo test_bravo.py, true_sample_sizes["test1"]: 119, 184, 244, 351.
		{"BRAVO prints the ASN and the 70/80/90% sizes", []string{"--method", "bravo", "--ballots", "1000"},
			"choice,votes\ncand1,600\ncand2,400\n", "option,size\nasn,119\n0.7,184\n0.8,244\n0.9,351\n"},
		// Arlo test_bravo.py, true_sample_sizes["test5"]: all ballots, 1000.
		{"BRAVO on a tie prints the full count", []string{"--method", "bravo", "--ballots", "1000"},
			"choice,votes\ncand1,500\ncand2,500\n", "option,size\nasn,1000\n0.7,1000\n0.8,1000\n0.9,1000\n"},
		// Arlo test_minerva.py, test_get_sample_size (d1 for 0.7 and 0.8,
		// c3 for 0.9); see rla's TestMinervaSampleSizes for the others.
		{"Minerva prints the 70/80/90% sizes", []string{"--method", "minerva", "--ballots", "900"},
			"choice,votes\na,600\nb,200\nc,100\n", "option,size\n0.7,20\n0.8,25\n"},
		// Arlo test_supersimple.py, true_sample_sizes["Contest A"]: 27.
		{"supersimple prints one size", []string{"--method", "supersimple", "--ballots", "100000"},
			"choice,votes\nwinner,60000\nloser,40000\n", "option,size\nsize,27\n"},
		// Arlo test_bravo.py, true_sample_sizes["test7"]: ASN 101 for vote-for-two.
		{"BRAVO handles vote-for-two contests", []string{"--method", "bravo", "--ballots", "700", "--winners", "2"},
			"choice,votes\ncand1,300\ncand2,200\ncand3,100\n", "option,size\nasn,101\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tally := writeFile(t, "tally.csv", tc.tally)
			args := append([]string{"sample-size", "--risk-limit", "10", "--tally", tally}, tc.args...)
			got, err := runAudit(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got\n%s\nwant prefix\n%s", got, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name, tally string
		args        []string
		field, says string
	}{
		{"an unknown method is refused", "choice,votes\na,2\nb,1\n", []string{"--method", "magic"}, "method", `unknown method "magic"`},
		{"a risk limit of 100% is refused", "choice,votes\na,2\nb,1\n", []string{"--method", "bravo", "--risk-limit", "100"}, "risk-limit", "between 0 and 100"},
		{"a choice listed twice is refused with its line", "choice,votes\na,2\nb,1\na,3\n", []string{"--method", "bravo"},
			"tally", `line 4, field choice: choice "a" is listed twice`},
		{"votes that are not a number are refused with their line", "choice,votes\na,many\n", []string{"--method", "bravo"},
			"tally", `line 2, field votes: "many"`},
		{"more votes than ballots are refused with their line", "choice,votes\n\na,20\nb,1\n", []string{"--method", "bravo"},
			"tally", "line 3, field votes"},
		{"a contest where every choice wins is refused", "choice,votes\na,2\nb,1\n", []string{"--method", "bravo", "--winners", "2"},
			"winners", "no outcome to audit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tally := writeFile(t, "tally.csv", tc.tally)
			args := append([]string{"sample-size", "--risk-limit", "10", "--tally", tally, "--ballots", "10"}, tc.args...)
			_, err := runAudit(t, args...)
			assertInvalid(t, err, tc.field, tc.says)
		})
	}
}

func TestAuditRisk(t *testing.T) {
	bravoTally := "choice,votes\ncand1,600\ncand2,400\n"
	minervaTally := "choice,votes\na,600\nb,400\nc,100\n"
	for _, tc := range []struct {
		name      string
		tally     string
		samples   []string
		args      []string
		pairs     map[string]float64 // "winner,loser" -> p
		tolerance float64
		confirmed bool
	}{
		// Arlo test_bravo.py, test_compute_risk, "test1": 0.07 (to 0.01), confirmed.
		{"BRAVO confirms a 60-40 contest with 72 to 47", bravoTally, []string{"choice,votes\ncand1,72\ncand2,47\n"},
			[]string{"--method", "bravo", "--ballots", "1000"}, map[string]float64{"cand1,cand2": 0.07}, 0.01, true},
		// The same sample split over two rounds: BRAVO adds rounds up.
		{"BRAVO adds up the rounds", bravoTally, []string{"choice,votes\ncand1,40\ncand2,20\n", "choice,votes\ncand1,32\ncand2,27\n"},
			[]string{"--method", "bravo", "--ballots", "1000"}, map[string]float64{"cand1,cand2": 0.07}, 0.01, true},
		// Arlo test_minerva.py, test_compute_risk: 0.0933945799801079.
		{"Minerva confirms with 56 to 40", minervaTally, []string{"choice,votes\na,56\nb,40\nc,3\n"},
			[]string{"--method", "minerva", "--ballots", "1200"}, map[string]float64{"a,b": 0.0933945799801079}, 1e-9, true},
		// Arlo test_minerva.py, test_compute_risk_2r: 0.006382031505998192.
		{"Minerva takes one file per round", minervaTally,
			[]string{"choice,votes\na,40\nb,40\nc,3\n", "choice,votes\na,70\nb,30\nc,10\n"},
			[]string{"--method", "minerva", "--ballots", "1200"}, map[string]float64{"a,b": 0.006382031505998192}, 1e-9, true},
		// Arlo test_supersimple.py, expected_p_values["one_vote_over"]["Contest A"]:
		// 0.12534 (to 0.001) after 27 ballots with one one-vote overstatement.
		{"supersimple measures overstatements", "choice,votes\nwinner,60000\nloser,40000\n", nil,
			[]string{"--method", "supersimple", "--ballots", "100000", "--sampled", "27", "--o1", "1"},
			map[string]float64{"winner,loser": 0.12534}, 0.001, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"risk", "--risk-limit", "10", "--tally", writeFile(t, "tally.csv", tc.tally)}, tc.args...)
			for i, s := range tc.samples {
				args = append(args, "--sample", writeFile(t, "sample"+strconv.Itoa(i)+".csv", s))
			}
			got, err := runAudit(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if lines[0] != "winner,loser,p" {
				t.Fatalf("header %q", lines[0])
			}
			if want := "confirmed," + strconv.FormatBool(tc.confirmed); lines[len(lines)-1] != want {
				t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
			}
			for _, l := range lines[1 : len(lines)-1] {
				i := strings.LastIndexByte(l, ',')
				want, ok := tc.pairs[l[:i]]
				if !ok {
					continue
				}
				p, err := strconv.ParseFloat(l[i+1:], 64)
				if err != nil || p-want > tc.tolerance || want-p > tc.tolerance {
					t.Errorf("%s: got %s, want %v", l[:i], l[i+1:], want)
				}
				delete(tc.pairs, l[:i])
			}
			if len(tc.pairs) > 0 {
				t.Errorf("missing pairs %v in\n%s", tc.pairs, got)
			}
		})
	}

	t.Run("a sampled choice missing from the tally is refused with its line", func(t *testing.T) {
		tally := writeFile(t, "tally.csv", bravoTally)
		sample := writeFile(t, "sample.csv", "choice,votes\ncand1,3\nCand2,4\n")
		_, err := runAudit(t, "risk", "--method", "bravo", "--risk-limit", "10", "--tally", tally, "--ballots", "1000", "--sample", sample)
		assertInvalid(t, err, "sample", `line 3, field choice: "Cand2" is not a choice of the tally`)
	})

	t.Run("more discrepancies than ballots are refused", func(t *testing.T) {
		tally := writeFile(t, "tally.csv", bravoTally)
		_, err := runAudit(t, "risk", "--method", "supersimple", "--risk-limit", "10", "--tally", tally, "--ballots", "1000",
			"--sampled", "2", "--o1", "2", "--u1", "1")
		assertInvalid(t, err, "sampled", "3 discrepancies")
	})

	t.Run("polling without a sample is refused", func(t *testing.T) {
		tally := writeFile(t, "tally.csv", bravoTally)
		_, err := runAudit(t, "risk", "--method", "bravo", "--risk-limit", "10", "--tally", tally, "--ballots", "1000")
		assertInvalid(t, err, "sample", "--sample")
	})
}

// The parsers face files from outside; the fuzz tests check that no
// input makes them panic and that what they accept is consistent.

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(arloManifest))
	f.Add([]byte("batch,ballots\n\"a,b\",3\n"))
	f.Add([]byte("\xef\xbb\xbfBatch , Ballots\r\nx,0\r\n"))
	f.Add([]byte("batch,ballots\na,1\na,2\n"))
	f.Add([]byte("batch,ballots\na,99999999999999999999\n"))
	f.Add([]byte("batch,ballots\n\"unterminated,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		batches, err := parseManifest(bytes.NewReader(data))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		if len(batches) > 0 {
			if err := rla.CheckManifest(batches); err != nil {
				t.Fatalf("accepted a manifest rla refuses: %v", err)
			}
		}
	})
}

func FuzzParseTally(f *testing.F) {
	f.Add([]byte("choice,votes\na,600\nb,400\n"))
	f.Add([]byte("choice,votes\n"))
	f.Add([]byte("choice,votes\na,1\na,1\n"))
	f.Add([]byte("choice,votes\n\"\",1\n"))
	f.Add([]byte("choice;votes\na;1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tally, err := parseTally(bytes.NewReader(data))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		c := rla.Contest{Ballots: maxCount, Tally: tally.choices}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted a tally rla refuses: %v", err)
		}
	})
}

func FuzzParseSampleVotes(f *testing.F) {
	tally := []rla.Choice{{Name: "a", Votes: 600}, {Name: "b", Votes: 400}}
	f.Add([]byte("choice,votes\na,56\nb,40\n"))
	f.Add([]byte("choice,votes\nc,1\n"))
	f.Add([]byte("choice,votes\na,-1\n"))
	f.Add([]byte("choice,votes\na,1\na,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		votes, err := parseSampleVotes(bytes.NewReader(data), tally)
		if err != nil {
			var e *vigil.Error
			if !errors.As(err, &e) || e.Kind != vigil.Invalid {
				t.Fatalf("error %v", err)
			}
			return
		}
		c := rla.Contest{Ballots: maxCount, Tally: tally}
		if _, err := rla.BRAVO(c, 0.1, votes); err != nil {
			t.Fatalf("accepted a sample rla refuses: %v", err)
		}
	})
}
