package equipment_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func TestPlan(t *testing.T) {
	devices := MustReadInventory(t)
	// EMS-01 (2019-06-15) reaches 10 years in 2029; PB-0007 (2021) in 2031;
	// BMD-0001 (20 units, 2022) in 2032; SC-0001 (2014) is overdue; OLD-1 is retired.
	costs := equipment.Costs{
		ByModel: map[string]int64{equipment.ModelKey("es&s", "expressvote"): 400000},
		ByKind:  map[vigil.DeviceKind]int64{vigil.DeviceEMS: 2000000},
	}
	p, err := equipment.Plan(devices, costs, equipment.DefaultRules(), 2026, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("overdue devices are due in the first year", func(t *testing.T) {
		r := p.Rows[0]
		if r.Year != 2026 || r.Units != 1 || r.Overdue != 1 || r.Cost != 525000 || r.Devices[0] != "SC-0001" {
			t.Errorf("2026 = %+v", r)
		}
	})
	t.Run("a kind's unit cost prices a device without a model cost", func(t *testing.T) {
		if r := p.Rows[3]; r.Year != 2029 || r.Cost != 2000000 || r.Devices[0] != "EMS-01" {
			t.Errorf("2029 = %+v", r)
		}
	})
	t.Run("the acquisition price is the fallback", func(t *testing.T) {
		if r := p.Rows[5]; r.Year != 2031 || r.Cost != 120000 {
			t.Errorf("2031 = %+v", r)
		}
	})
	t.Run("a model's unit cost is multiplied by the quantity", func(t *testing.T) {
		if r := p.Rows[6]; r.Year != 2032 || r.Units != 20 || r.Cost != 20*400000 {
			t.Errorf("2032 = %+v", r)
		}
	})
	t.Run("the total adds every year", func(t *testing.T) {
		if p.Total != 525000+2000000+120000+8000000 {
			t.Errorf("total = %d", p.Total)
		}
	})
	t.Run("devices beyond the horizon are left out", func(t *testing.T) {
		short, _ := equipment.Plan(devices, costs, equipment.DefaultRules(), 2026, 3)
		if short.Total != 525000 {
			t.Errorf("total = %d", short.Total)
		}
	})
	t.Run("the text table shows every year and the total", func(t *testing.T) {
		var buf bytes.Buffer
		if err := equipment.WritePlanText(&buf, p); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Count(out, "\n") != 9 || !strings.Contains(out, "$80,000.00") || !strings.Contains(out, "$106,450.00") {
			t.Errorf("table:\n%s", out)
		}
	})
	t.Run("the CSV has one row per year", func(t *testing.T) {
		var buf bytes.Buffer
		if err := equipment.WritePlanCSV(&buf, p); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 8 || lines[0] != "year,units,cost,unpriced,overdue,devices" || lines[1] != "2026,1,5250.00,0,1,SC-0001" || lines[2] != "2027,0,0.00,0,0," {
			t.Errorf("csv:\n%s", buf.String())
		}
	})
	t.Run("a device with no price is counted as unpriced", func(t *testing.T) {
		d := []vigil.Device{{ID: "X", Kind: vigil.DeviceNetwork, Manufacturer: "M", Model: "R", Jurisdiction: "J", Status: vigil.DeviceInService, Acquired: day(2016, 1, 1)}, {ID: "Y", Kind: vigil.DeviceNetwork, Manufacturer: "M", Model: "R", Jurisdiction: "J", Status: vigil.DeviceInService}}
		p, _ := equipment.Plan(d, equipment.Costs{}, equipment.DefaultRules(), 2026, 1)
		if p.Rows[0].Unpriced != 1 || p.Rows[0].Cost != 0 || len(p.Undated) != 1 || p.Undated[0] != "Y" {
			t.Errorf("plan = %+v", p)
		}
	})
	t.Run("a plan of zero or a hundred years is refused", func(t *testing.T) {
		for _, years := range []int{0, 100} {
			if _, err := equipment.Plan(devices, costs, equipment.DefaultRules(), 2026, years); vigil.ErrorField(err) != "years" {
				t.Errorf("years=%d: %v", years, err)
			}
		}
	})
}

func TestWritePlanSVG(t *testing.T) {
	devices := MustReadInventory(t)
	p, err := equipment.Plan(devices, equipment.Costs{}, equipment.DefaultRules(), 2026, 7)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := equipment.WritePlanSVG(&buf, p); err != nil {
		t.Fatal(err)
	}
	t.Run("the chart is well-formed XML with one bar per year", func(t *testing.T) {
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		bars, titles := 0, []string{}
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "class" && a.Value == "bar" {
						bars++
					}
				}
				if se.Name.Local == "title" {
					var s string
					dec.DecodeElement(&s, &se)
					titles = append(titles, s)
				}
			}
		}
		if bars != 7 {
			t.Errorf("%d bars, want 7", bars)
		}
		if len(titles) < 2 || titles[0] != "Replacement cost per year, 2026–2032" || !strings.Contains(strings.Join(titles, "|"), "2032: 20 units, $70,000.00") {
			t.Errorf("titles = %q", titles)
		}
	})
	t.Run("the chart has no script and no external reference", func(t *testing.T) {
		s := buf.String()
		if strings.Contains(s, "<script") || strings.Contains(s, "href") {
			t.Error("the SVG is not self-contained")
		}
	})
	t.Run("an empty plan still draws", func(t *testing.T) {
		p, _ := equipment.Plan(nil, equipment.Costs{}, equipment.DefaultRules(), 2026, 3)
		var buf bytes.Buffer
		if err := equipment.WritePlanSVG(&buf, p); err != nil || !strings.HasSuffix(buf.String(), "</svg>\n") {
			t.Errorf("err %v:\n%s", err, buf.String())
		}
	})
}

func TestReadCosts(t *testing.T) {
	c, err := equipment.ReadCosts(strings.NewReader("kind,manufacturer,model,unit_cost\nscanner,,,5000\n,ES&S,DS200,5250.50\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ByKind[vigil.DeviceScanner] != 500000 || c.ByModel[equipment.ModelKey("ES&S", "DS200")] != 525050 {
		t.Errorf("costs = %+v", c)
	}
	tests := []struct{ name, in, line, field, msg string }{
		{"a price with a dollar sign is refused", "kind,manufacturer,model,unit_cost\nscanner,,,$5000\n", "line 2", "unit_cost", "without $"},
		{"a model without a manufacturer is refused", "kind,manufacturer,model,unit_cost\n,,DS200,5000\n", "line 2", "model", "both"},
		{"an unknown kind is refused", "kind,manufacturer,model,unit_cost\nrobot,,,5000\n", "line 2", "kind", "unknown"},
		{"a kind priced twice is refused", "kind,manufacturer,model,unit_cost\nbmd,,,1\nbmd,,,2\n", "line 3", "model", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ReadCosts(strings.NewReader(tt.in))
			checkImportError(t, err, tt.line, tt.field, tt.msg)
		})
	}
}

func FuzzReadCosts(f *testing.F) {
	f.Add("kind,manufacturer,model,unit_cost\nscanner,,,5000\n,ES&S,DS200,5250.50\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := equipment.ReadCosts(strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		for _, v := range c.ByModel {
			if v < 0 {
				t.Fatal("negative cost")
			}
		}
	})
}
