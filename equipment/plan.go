package equipment

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vigil-elections/vigil"
)

// Costs are the unit replacement costs a plan is priced with, in cents. A
// device is priced by its model first, then by its kind, then by what it
// cost when bought (Device.CostCents); a device with none of these is
// counted as unpriced.
type Costs struct {
	ByModel map[string]int64 // key: ModelKey(manufacturer, model)
	ByKind  map[vigil.DeviceKind]int64
}

// ModelKey is the key of Costs.ByModel; case and spacing do not matter.
func ModelKey(manufacturer, model string) string {
	return fold(manufacturer) + "\x00" + fold(model)
}

// UnitCost returns the replacement cost of one unit of d.
func (c Costs) UnitCost(d vigil.Device) (cents int64, ok bool) {
	if v, ok := c.ByModel[ModelKey(d.Manufacturer, d.Model)]; ok {
		return v, true
	}
	if v, ok := c.ByKind[d.Kind]; ok {
		return v, true
	}
	if d.CostCents > 0 {
		return d.CostCents, true
	}
	return 0, false
}

// CostColumns returns the columns of a unit-cost CSV. Each row prices either a
// kind (manufacturer and model empty) or a model (kind may be empty):
//
//	kind,manufacturer,model,unit_cost
//	scanner,,,5000.00
//	,ES&S,DS200,5250.00
func CostColumns() []string { return append([]string(nil), costColumns...) }

var costColumns = []string{"kind", "manufacturer", "model", "unit_cost"}

// ReadCosts reads a unit-cost CSV; problems name line and column.
func ReadCosts(r io.Reader) (Costs, error) {
	const op = "equipment.import_costs"
	t, err := newTable(op, r, 0, costColumns, nil)
	if err != nil {
		return Costs{}, err
	}
	c := Costs{ByModel: map[string]int64{}, ByKind: map[vigil.DeviceKind]int64{}}
	seen := map[string]int{}
	for row := t.next(); row != nil; row = t.next() {
		kind, mfr, model := vigil.DeviceKind(strings.ToLower(row.get("kind"))), row.get("manufacturer"), row.get("model")
		cents, err := parseDollars(row.get("unit_cost"))
		if err != nil {
			row.fail("unit_cost", "%q is not an amount; write dollars and cents such as 5250.00, without $ or commas", clip(row.get("unit_cost")))
			continue
		}
		var key string
		switch {
		case mfr != "" && model != "":
			key = ModelKey(mfr, model)
		case mfr != "" || model != "":
			row.fail("model", "give both manufacturer and model, or neither to price a kind")
			continue
		case kind == "":
			row.fail("kind", "give a kind, or a manufacturer and model")
			continue
		case !kind.Valid():
			row.fail("kind", "unknown device kind %q", clip(string(kind)))
			continue
		default:
			key = "kind\x00" + string(kind)
		}
		if prev, dup := seen[key]; dup {
			row.fail("model", "this is already priced on line %d", prev)
			continue
		}
		seen[key] = row.line
		if mfr != "" {
			c.ByModel[key] = cents
		} else {
			c.ByKind[kind] = cents
		}
	}
	return c, t.err()
}

// ReplacementPlan lists, for each year, the devices reaching the end of
// their expected life and what replacing them costs.
type ReplacementPlan struct {
	From  int // first year
	Rows  []PlanYear
	Total int64 // cents, over all rows
	// Undated are devices whose acquisition date is unknown, so their end
	// of life cannot be planned. Record the dates to plan them.
	Undated []vigil.DeviceID
}

// PlanYear is one year of a replacement plan.
type PlanYear struct {
	Year     int
	Devices  []vigil.DeviceID // sorted
	Units    int
	Cost     int64 // cents, over the priced units
	Unpriced int   // units without a unit cost, not in Cost
	Overdue  int   // units already past their end of life before From (first year only)
}

// Plan builds a replacement plan for the years from … from+years-1. Devices
// already past their end of life are due in the first year, and counted as
// Overdue there. Retired devices are left out.
func Plan(devices []vigil.Device, costs Costs, rules Rules, from, years int) (ReplacementPlan, error) {
	const op = "equipment.plan"
	if years < 1 || years > 50 {
		return ReplacementPlan{}, vigil.FieldError(op, "years", "plan between 1 and 50 years")
	}
	if from < 1900 || from > 9999 {
		return ReplacementPlan{}, vigil.FieldError(op, "from", "year %d is out of range", from)
	}
	p := ReplacementPlan{From: from, Rows: make([]PlanYear, years)}
	for i := range p.Rows {
		p.Rows[i].Year = from + i
	}
	for _, d := range devices {
		if d.Status == vigil.DeviceRetired {
			continue
		}
		end, ok := rules.EndOfLife(d)
		if !ok {
			p.Undated = append(p.Undated, d.ID)
			continue
		}
		i := end.Year() - from
		if i >= years {
			continue
		}
		row := &p.Rows[max(i, 0)]
		if i < 0 {
			row.Overdue += d.Units()
		}
		row.Devices = append(row.Devices, d.ID)
		row.Units += d.Units()
		if c, ok := costs.UnitCost(d); ok {
			row.Cost = satAdd(row.Cost, c*int64(d.Units()))
		} else {
			row.Unpriced += d.Units()
		}
	}
	for i := range p.Rows {
		sort.Slice(p.Rows[i].Devices, func(a, b int) bool { return p.Rows[i].Devices[a] < p.Rows[i].Devices[b] })
		p.Total = satAdd(p.Total, p.Rows[i].Cost)
	}
	sort.Slice(p.Undated, func(a, b int) bool { return p.Undated[a] < p.Undated[b] })
	return p, nil
}

// money formats cents as "$1,234,567.89".
func money(cents int64) string {
	s := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("$%s.%02d", b.String(), cents%100)
}

// WritePlanText writes the plan as an aligned table for a terminal.
func WritePlanText(w io.Writer, p ReplacementPlan) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "year\tunits\tcost\tunpriced\toverdue\t")
	units := 0
	for _, r := range p.Rows {
		units += r.Units
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t\n", r.Year, r.Units, money(r.Cost), r.Unpriced, r.Overdue)
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\t\t\n", units, money(p.Total))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Undated) > 0 {
		_, err := fmt.Fprintf(w, "%d devices have no acquisition date and are not planned; record their dates.\n", len(p.Undated))
		return err
	}
	return nil
}

// WritePlanCSV writes one row per year: year,units,cost,unpriced,overdue,devices
// (cost in dollars, devices separated by ";").
func WritePlanCSV(w io.Writer, p ReplacementPlan) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"year", "units", "cost", "unpriced", "overdue", "devices"})
	for _, r := range p.Rows {
		ids := make([]string, len(r.Devices))
		for i, id := range r.Devices {
			ids[i] = string(id)
		}
		cw.Write([]string{strconv.Itoa(r.Year), strconv.Itoa(r.Units), formatDollars(r.Cost),
			strconv.Itoa(r.Unpriced), strconv.Itoa(r.Overdue), defuseFormula(strings.Join(ids, ";"))})
	}
	cw.Flush()
	return cw.Error()
}

// WriteFlagsText writes one line per flagged device: its id, a tab, and
// every reason separated by "; ".
func WriteFlagsText(w io.Writer, flags []Flag) error {
	for _, f := range flags {
		texts := make([]string, len(f.Reasons))
		for i, r := range f.Reasons {
			texts[i] = r.Text
		}
		if _, err := fmt.Fprintf(w, "%s\t%s\n", f.Device.ID, strings.Join(texts, "; ")); err != nil {
			return err
		}
	}
	return nil
}

// WriteFlagsCSV writes one row per flagged device:
// id,kind,manufacturer,model,jurisdiction,codes,reasons (codes and reasons
// separated by ";", in the same order).
func WriteFlagsCSV(w io.Writer, flags []Flag) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "kind", "manufacturer", "model", "jurisdiction", "codes", "reasons"})
	for _, f := range flags {
		codes := make([]string, len(f.Reasons))
		texts := make([]string, len(f.Reasons))
		for i, r := range f.Reasons {
			codes[i], texts[i] = string(r.Code), r.Text
		}
		d := f.Device
		rec := []string{string(d.ID), string(d.Kind), d.Manufacturer, d.Model, d.Jurisdiction, strings.Join(codes, ";"), strings.Join(texts, "; ")}
		for i := range rec {
			rec[i] = defuseFormula(rec[i])
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// satAdd adds non-negative amounts, stopping at the largest int64 instead
// of wrapping around: an absurd inventory must not print a negative budget.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
