package voter

import (
	"fmt"
	"io"
	"strconv"

	"github.com/vigil-elections/vigil"
)

// RowWriter is what WriteRow needs: a bufio.Writer or a bytes.Buffer.
type RowWriter interface {
	io.ByteWriter
	io.StringWriter
}

// WriteHeader writes a tab-delimited header line of l's column names.
func WriteHeader(w RowWriter, l Layout) {
	for i, c := range l.Columns {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(c.Name)
	}
	w.WriteString("\r\n")
}

// WriteRow writes v as one tab-delimited line of layout l, the way a state
// file carries it (benchmarks and tests generate real-layout files with it).
// Columns vigil does not read are filled with "X".
func WriteRow(w RowWriter, l Layout, v *vigil.Voter) {
	district := func(typ vigil.DistrictType) string {
		for _, d := range v.Districts {
			if d.Type == typ {
				return d.Code
			}
		}
		return ""
	}
	for j, c := range l.Columns {
		if j > 0 {
			w.WriteByte('\t')
		}
		var s string
		switch c.Field {
		case FieldID:
			s = string(v.ID)
		case FieldCounty:
			s = v.County
		case FieldStatus:
			s = map[vigil.StatusCode]string{vigil.StatusActive: "A", vigil.StatusInactive: "I"}[v.Status.Code]
		case FieldLast:
			s = v.Name.Last
		case FieldFirst:
			s = v.Name.First
		case FieldMiddle:
			s = v.Name.Middle
		case FieldSuffix:
			s = v.Name.Suffix
		case FieldResLine1:
			s = v.Residence.Line1
		case FieldResCity:
			s = v.Residence.City
		case FieldResState:
			s = v.Residence.State
		case FieldResZIP:
			s = v.Residence.ZIP
		case FieldParty:
			s = v.Party
		case FieldGender:
			s = v.Gender
		case FieldBirthYear:
			s = strconv.Itoa(v.BirthDate.Year)
		case FieldRegistered:
			s = fmt.Sprintf("%02d/%02d/%04d", v.Registered.Month, v.Registered.Day, v.Registered.Year)
		case FieldPrecinct:
			s = v.Precinct
		case "district.congressional":
			s = district(vigil.DistrictCongressional)
		case "district.state-house":
			s = district(vigil.DistrictStateHouse)
		case "district.state-senate":
			s = district(vigil.DistrictStateSenate)
		case FieldIgnore:
			s = "X"
		}
		w.WriteString(s)
	}
	w.WriteString("\r\n")
}
