package equipment

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WritePlanSVG draws the plan as a bar chart of replacement cost per year:
// a self-contained SVG (no scripts, no external fonts or styles) that the
// web UI can inline and a report can embed. Each bar has a <title> for
// screen readers and tooltips; the chart's own title and description say
// what it shows in words.
func WritePlanSVG(w io.Writer, p ReplacementPlan) error {
	const (
		width, height = 640, 360
		left, right   = 80, 16
		top, bottom   = 40, 48
		plotW         = width - left - right
		plotH         = height - top - bottom
	)
	var maxCost int64
	for _, r := range p.Rows {
		maxCost = max(maxCost, r.Cost)
	}
	scale := niceCeiling(maxCost)
	var b bytes.Buffer
	esc := func(s string) string {
		var e strings.Builder
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	title := fmt.Sprintf("Replacement cost per year, %d–%d", p.From, p.From+len(p.Rows)-1)
	desc := fmt.Sprintf("Total %s over %d years.", money(p.Total), len(p.Rows))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="plan-title plan-desc" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, "<title id=\"plan-title\">%s</title>\n<desc id=\"plan-desc\">%s</desc>\n", esc(title), esc(desc))
	fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height)
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"24\" font-size=\"14\" font-weight=\"bold\" fill=\"#111111\">%s</text>\n", left, esc(title))
	// Gridlines and y-axis labels at quarters of the scale.
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*i/4
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>\n", left, y, left+plotW, y)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#333333\">%s</text>\n", left-6, y+4, esc(shortMoney(scale*int64(i)/4)))
	}
	n := max(len(p.Rows), 1)
	slot := plotW / n
	barW := max(slot*6/10, 1)
	for i, r := range p.Rows {
		h := 0
		if scale > 0 {
			h = int(float64(plotH) * float64(r.Cost) / float64(scale))
		}
		x := left + i*slot + (slot-barW)/2
		y := top + plotH - h
		label := fmt.Sprintf("%d: %d units, %s", r.Year, r.Units, money(r.Cost))
		if r.Unpriced > 0 {
			label += fmt.Sprintf(" (%d units unpriced)", r.Unpriced)
		}
		fmt.Fprintf(&b, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#1f5fa8\"><title>%s</title></rect>\n", x, y, barW, h, esc(label))
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#333333\">%d</text>\n", x+barW/2, top+plotH+16, r.Year)
		if r.Cost > 0 {
			fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#111111\">%s</text>\n", x+barW/2, y-4, esc(shortMoney(r.Cost)))
		}
	}
	fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333333\"/>\n", left, top+plotH, left+plotW, top+plotH)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// niceCeiling rounds cents up to 1, 2 or 5 times a power of ten dollars, so
// the axis has round labels.
func niceCeiling(cents int64) int64 {
	if cents <= 0 {
		return 0
	}
	step := int64(100)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*step >= cents {
				return m * step
			}
		}
		if step > (1<<62)/10 {
			return cents
		}
		step *= 10
	}
}

// shortMoney formats cents compactly: "$950", "$12.5K", "$3.2M".
func shortMoney(cents int64) string {
	d := float64(cents) / 100
	switch {
	case d >= 1e9:
		return fmt.Sprintf("$%.1fB", d/1e9)
	case d >= 1e6:
		return fmt.Sprintf("$%.1fM", d/1e6)
	case d >= 1e4:
		return fmt.Sprintf("$%.1fK", d/1e3)
	}
	return fmt.Sprintf("$%.0f", d)
}
