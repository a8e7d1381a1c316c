package pollbook_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-elections/vigil/pollbook"
)

// A version-9 card as the AAMVA 2020 standard's example lays it out, with
// the separators a scanner sends (LF after elements, RS, CR in the header).
const sampleV9 = "@\n\x1e\rANSI 636000090002DL00410278ZV03190008DLDAQT64235789\nDCSSAMPLE\nDDEN\nDACMICHAEL\nDDFN\nDADJOHN\nDDGN\nDCAD\nDCBK\nDCDPH\nDBD06062019\nDBB06061986\nDBA12102024\nDBC1\nDAU068 in\nDAYBRO\nDAG2300 WEST BROAD STREET\nDAIRICHMOND\nDAJVA\nDAK232690000  \nDCF2424244747474786102204\nDCGUSA\nDCK123456789\nDDAF\nDDB06062018\nDDC06062020\nDDD1\rZVZVA01\r"

func TestParseAAMVA(t *testing.T) {
	tests := []struct {
		name, in           string
		last, first, birth string
	}{
		{"a version 9 card with line feeds", sampleV9, "SAMPLE", "MICHAEL", "1986-06-06"},
		{"the same card typed without any separator", strings.NewReplacer("\n", "", "\r", "", "\x1e", "").Replace(sampleV9), "SAMPLE", "MICHAEL", "1986-06-06"},
		{"separators turned into record separators by the page", strings.ReplaceAll(sampleV9, "\n", "\x1e"), "SAMPLE", "MICHAEL", "1986-06-06"},
		{"CRLF line ends", strings.ReplaceAll(sampleV9, "\n", "\r\n"), "SAMPLE", "MICHAEL", "1986-06-06"},
		{"a first name ending in DA before the birth date, without separators", "@ANSI 636020090002DL00410278ZC03190008DLDAQ987654321DCSCOLLINSDACLINDADBB03112008DAJCO", "COLLINS", "LINDA", "2008-03-11"},
		{"a Canadian card (CCYYMMDD)", "@\n\x1e\rANSI 636012080102DL00410240ZO02810047DLDAQS1234-56789-01234\nDCSMARTIN\nDACJULIE\nDBB19900317\nDCGCAN\n", "MARTIN", "JULIE", "1990-03-17"},
		{"version 1 with the full name in DAA", "@\n\x1e\rANSI 6360100101DL00390187DLDAAJOHNSON,ROBERT,L\nDAQ1234567\nDBB19701231\n", "JOHNSON", "ROBERT", "1970-12-31"},
		{"version 3 with first and middle in DCT", "@\n\x1e\rANSI 636026030102DL00410264ZA03050015DLDCSWILLIAMS\nDCTMARY,ANN\nDBB07041976\nDAQW1234\n", "WILLIAMS", "MARY", "1976-07-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := pollbook.ParseAAMVA(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if l.LastName != tt.last || l.FirstName != tt.first || l.BirthDate.String() != tt.birth {
				t.Fatalf("got %q %q %s", l.LastName, l.FirstName, l.BirthDate)
			}
			if !pollbook.LooksLikeAAMVA(tt.in) {
				t.Fatal("not recognised as a scan")
			}
		})
	}
	t.Run("the licence number is read but never printed", func(t *testing.T) {
		l, _ := pollbook.ParseAAMVA(sampleV9)
		if l.Number.Reveal() != "T64235789" {
			t.Fatalf("number %q", l.Number.Reveal())
		}
		if s := fmt.Sprintf("%v %+v", l, l); strings.Contains(s, "T64235789") {
			t.Fatalf("the number leaks: %s", s)
		}
	})
	t.Run("the search query holds names and birth date only", func(t *testing.T) {
		l, _ := pollbook.ParseAAMVA(sampleV9)
		if q := l.Query(); q != "MICHAEL SAMPLE 1986-06-06" {
			t.Fatalf("query %q", q)
		}
	})
	t.Run("a typed name is not a scan", func(t *testing.T) {
		for _, s := range []string{"SMITH JOHN", "DCS", "ansi smith", "1980-02-03"} {
			if pollbook.LooksLikeAAMVA(s) {
				t.Errorf("%q looks like a scan", s)
			}
		}
	})
	t.Run("garbage is refused without echoing it", func(t *testing.T) {
		for _, s := range []string{"@\nANSI 6360\nDAQSECRET99\n", strings.Repeat("DCS", 2000)} {
			_, err := pollbook.ParseAAMVA(s)
			if err == nil || strings.Contains(err.Error(), "SECRET99") {
				t.Errorf("%q: %v", s[:min(20, len(s))], err)
			}
		}
	})
}

func FuzzParseAAMVA(f *testing.F) {
	f.Add(sampleV9)
	f.Add("@\n\x1e\rANSI 6360100101DL00390187DLDAAJOHNSON,ROBERT,L\nDAQ1234567\nDBB19701231\n")
	f.Add("DCSX\nDACY\nDBB99999999")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := pollbook.ParseAAMVA(s)
		if err != nil {
			if l.LastName != "" {
				t.Fatal("a licence with an error")
			}
			return
		}
		if l.LastName == "" || len(l.LastName) > 64 || len(l.FirstName) > 64 || len(l.Number.Reveal()) > 32 {
			t.Fatalf("unbounded or empty fields: %q %q", l.LastName, l.FirstName)
		}
		if !utf8.ValidString(l.LastName) || !utf8.ValidString(l.FirstName) {
			t.Fatal("invalid UTF-8 in a name")
		}
		if !l.BirthDate.IsZero() && !l.BirthDate.Valid() {
			t.Fatalf("invalid birth date %v", l.BirthDate)
		}
		_ = l.Query()
	})
}
