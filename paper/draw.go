package paper

import (
	"fmt"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
	"github.com/go-pdf/fpdf"
)

// Stamp identifies the log state a document was printed from. It is
// printed on every page.
type Stamp struct {
	Election       string // "General Election 2026 (2026-11-03)"
	County         string
	PlaceID        string
	PlaceName      string
	PlaceAddress   string
	Printed        time.Time
	CheckpointSize int64
	CheckpointRoot string // hex
	Cursor         uint64 // the projection's last applied entry
}

func (s Stamp) logLine() string {
	if s.CheckpointSize == 0 {
		return fmt.Sprintf("printed %s · log not yet checkpointed · roll as of entry %d",
			s.Printed.UTC().Format("2006-01-02 15:04:05 MST"), s.Cursor)
	}
	return fmt.Sprintf("printed %s · roll as of log entry %d · checkpoint %d entries, root %s",
		s.Printed.UTC().Format("2006-01-02 15:04:05 MST"), s.Cursor, s.CheckpointSize, s.CheckpointRoot)
}

// doc is a PDF under construction with a translator for the core fonts.
type doc struct {
	*fpdf.Fpdf
	tr func(string) string
}

func newDoc(orientation string) *doc {
	p := fpdf.New(orientation, "mm", "Letter", "")
	p.SetMargins(10, 10, 10)
	p.SetAutoPageBreak(false, 12)
	p.AliasNbPages("{nb}")
	p.SetCreator("vigil", true)
	return &doc{Fpdf: p, tr: p.UnicodeTranslatorFromDescriptor("")}
}

// text writes s at the current position in a cell of width w.
func (d *doc) cell(w, h float64, s, align string) {
	d.CellFormat(w, h, d.tr(s), "", 0, align, false, 0, "")
}

func (d *doc) font(style string, size float64) { d.SetFont("Helvetica", style, size) }

// code128 draws a Code 128 barcode of s in the box (x, y, w, h), bars only.
func (d *doc) code128(s string, x, y, w, h float64) error {
	bc, err := code128.Encode(s)
	if err != nil {
		return fmt.Errorf("barcode of %q: %w", s, err)
	}
	d.bars(bc, x, y, w, h)
	return nil
}

func (d *doc) bars(bc barcode.Barcode, x, y, w, h float64) {
	b := bc.Bounds()
	modules := b.Dx()
	mw := w / float64(modules)
	d.SetFillColor(0, 0, 0)
	for i := 0; i < modules; {
		if r, _, _, _ := bc.At(b.Min.X+i, b.Min.Y).RGBA(); r != 0 {
			i++
			continue
		}
		j := i
		for j < modules {
			if r, _, _, _ := bc.At(b.Min.X+j, b.Min.Y).RGBA(); r != 0 {
				break
			}
			j++
		}
		d.Rect(x+float64(i)*mw, y, float64(j-i)*mw, h, "F")
		i = j
	}
}

// qrCode draws a QR code of s as a square of side size at (x, y).
func (d *doc) qrCode(s string, x, y, size float64) error {
	bc, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	b := bc.Bounds()
	n := b.Dx()
	m := size / float64(n+8) // a quiet zone of 4 modules
	d.SetFillColor(0, 0, 0)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if r, _, _, _ := bc.At(b.Min.X+col, b.Min.Y+row).RGBA(); r != 0 {
				col++
				continue
			}
			end := col
			for end < n {
				if r, _, _, _ := bc.At(b.Min.X+end, b.Min.Y+row).RGBA(); r != 0 {
					break
				}
				end++
			}
			d.Rect(x+float64(4+col)*m, y+float64(4+row)*m, float64(end-col)*m, m, "F")
			col = end
		}
	}
	return nil
}

// stampHeader prints the title and the stamp at the top of a page.
func (d *doc) stampHeader(title string, s Stamp) {
	pw, _ := d.GetPageSize()
	l, _, r, _ := d.GetMargins()
	w := pw - l - r
	d.SetXY(l, 8)
	d.font("B", 12)
	d.cell(w*0.6, 6, title, "L")
	d.font("", 9)
	d.cell(w*0.4, 6, s.Election, "R")
	d.SetXY(l, 14)
	d.font("", 9)
	place := "Polling place " + s.PlaceID
	if s.PlaceName != "" {
		place += " · " + s.PlaceName
	}
	if s.PlaceAddress != "" {
		place += " · " + s.PlaceAddress
	}
	if s.County != "" {
		place += " · " + s.County
	}
	d.cell(w, 5, place, "L")
	d.SetXY(l, 19)
	d.font("", 6.5)
	d.cell(w, 4, s.logLine(), "L")
	d.SetDrawColor(0, 0, 0)
	d.SetLineWidth(0.3)
	d.Line(l, 24, pw-r, 24)
}

// pageFooter prints "Page N of M" and a note at the bottom of a page.
func (d *doc) pageFooter(note string) {
	pw, ph := d.GetPageSize()
	l, _, r, _ := d.GetMargins()
	w := pw - l - r
	d.SetXY(l, ph-10)
	d.font("", 7)
	d.cell(w*0.7, 4, note, "L")
	d.cell(w*0.3, 4, fmt.Sprintf("Page %d of {nb}", d.PageNo()), "R")
}
