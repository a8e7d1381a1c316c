package equipment_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func codes(f equipment.Flag) string {
	var s []string
	for _, r := range f.Reasons {
		c := string(r.Code)
		if r.Advisory != "" {
			c += ":" + r.Advisory
		}
		s = append(s, c)
	}
	return strings.Join(s, " ")
}

func TestOutdatedSampleInventory(t *testing.T) {
	flags := equipment.Outdated(MustReadInventory(t), MustReadAdvisories(t), equipment.DefaultRules(), day(2025, time.November, 1))
	got := map[vigil.DeviceID]string{}
	for _, f := range flags {
		got[f.Device.ID] = codes(f)
	}
	want := map[vigil.DeviceID]string{
		// bought 2014-03-01: ten years are up; firmware 2.17.4.0 is in >=2.0 <2.17.4.1;
		// ESS-2022-03 is about software, which is not recorded: fail closed.
		"SC-0001": "end_of_life advisory:ESS-2024-01 advisory:ESS-2022-03",
		// no software version recorded for an ES&S device: possibly affected.
		"BMD-0001": "advisory:ESS-2022-03",
		// Windows 7 ended 2020-01-14; software 6.2.0.0 is below the fix 6.3; not in the catalog.
		"EMS-01": "os_end_of_support advisory:ESS-2022-03 unknown_model",
		// in storage still counts; 3.4.2 is in 3.4.x.
		"PB-0007": "advisory:KNK-2023-07",
		// OLD-1 is retired and never flagged.
	}
	if len(got) != len(want) {
		t.Errorf("flagged %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: reasons %q, want %q", id, got[id], w)
		}
	}
	t.Run("reasons read as sentences with the fix", func(t *testing.T) {
		text := flags[0].Reasons[1].Text
		if !strings.Contains(text, "firmware version 2.17.4.0 is affected") || !strings.Contains(text, "fixed in 2.17.4.1") {
			t.Errorf("reason = %q", text)
		}
	})
	t.Run("the text report has one line per device", func(t *testing.T) {
		var buf bytes.Buffer
		if err := equipment.WriteFlagsText(&buf, flags); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "SC-0001\treached the end of its 10-year expected life on 2024-03-01; advisory ESS-2024-01") {
			t.Errorf("report:\n%s", buf.String())
		}
	})
	t.Run("the CSV report has a header and one row per device", func(t *testing.T) {
		var buf bytes.Buffer
		if err := equipment.WriteFlagsCSV(&buf, flags); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 5 || lines[0] != "id,kind,manufacturer,model,jurisdiction,codes,reasons" ||
			!strings.HasPrefix(lines[3], "EMS-01,ems,ES&S,Election Management Server,Autauga County,os_end_of_support;advisory;unknown_model,") {
			t.Errorf("report:\n%s", buf.String())
		}
	})
}

func TestOutdatedRules(t *testing.T) {
	base := vigil.Device{ID: "D", Kind: vigil.DeviceWorkstation, Manufacturer: "Dell", Model: "OptiPlex",
		Jurisdiction: "J", Status: vigil.DeviceInService}
	with := func(f func(*vigil.Device)) vigil.Device { d := base; f(&d); return d }
	rules := equipment.DefaultRules()
	rules.Models = nil // no catalog: unknown models are not flagged
	rules.LifeYears[vigil.DevicePollbook] = 5
	rules.Withdrawn = []equipment.WithdrawnCertification{{System: "Democracy Suite", Version: "4.14", Date: day(2019, 1, 1), Reason: "example"}}
	tests := []struct {
		name   string
		device vigil.Device
		now    time.Time
		want   string
	}{
		{"a device is not flagged the day before its tenth anniversary", with(func(d *vigil.Device) { d.Acquired = day(2015, 6, 1) }), day(2025, 5, 31), ""},
		{"a device is flagged on its tenth anniversary", with(func(d *vigil.Device) { d.Acquired = day(2015, 6, 1) }), day(2025, 6, 1), "end_of_life"},
		{"a kind's own life overrides the default", with(func(d *vigil.Device) { d.Kind = vigil.DevicePollbook; d.Acquired = day(2020, 1, 1) }), day(2025, 1, 1), "end_of_life"},
		{"an unknown acquisition date is not an end of life", base, day(2099, 1, 1), ""},
		{"Windows 7 is flagged from 2020-01-14", with(func(d *vigil.Device) { d.OS = "Windows"; d.OSVersion = "7" }), day(2020, 1, 14), "os_end_of_support"},
		{"Windows 7 is not flagged the day before", with(func(d *vigil.Device) { d.OS = "Windows 7" }), day(2020, 1, 13), ""},
		{"Windows 10 is flagged after 2025-10-14", with(func(d *vigil.Device) { d.OS = "Windows"; d.OSVersion = "10 22H2" }), day(2025, 10, 15), "os_end_of_support"},
		{"Windows 10 LTSC 2019 keeps its own later date", with(func(d *vigil.Device) { d.OS = "Windows 10 Enterprise LTSC 2019" }), day(2025, 10, 15), ""},
		{"Windows 11 does not match Windows 1", with(func(d *vigil.Device) { d.OS = "Windows"; d.OSVersion = "11" }), day(2030, 1, 1), ""},
		{"a withdrawn certification is flagged", with(func(d *vigil.Device) {
			d.Certification = vigil.Certification{System: "democracy suite", Version: "4.14.0"}
		}), day(2025, 1, 1), "certification_withdrawn"},
		{"another version of the system is not", with(func(d *vigil.Device) {
			d.Certification = vigil.Certification{System: "Democracy Suite", Version: "5.17"}
		}), day(2025, 1, 1), ""},
		{"a decertified status is flagged", with(func(d *vigil.Device) { d.Certification.Status = vigil.CertificationDecertified }), day(2025, 1, 1), "certification_withdrawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := equipment.Outdated([]vigil.Device{tt.device}, nil, rules, tt.now)
			got := ""
			if len(flags) == 1 {
				got = codes(flags[0])
			}
			if got != tt.want {
				t.Errorf("reasons %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOutdatedAdvisories(t *testing.T) {
	dev := func(fw, sw string) vigil.Device {
		return vigil.Device{ID: "D", Kind: vigil.DeviceScanner, Manufacturer: "Dominion", Model: "ImageCast X",
			Jurisdiction: "J", Status: vigil.DeviceInService, FirmwareVersion: fw, SoftwareVersion: sw}
	}
	adv := vigil.Advisory{ID: "ICX-1", Manufacturer: "dominion", Model: "ImageCast X", Affected: ">=5.10.0 <5.10.50.85", Severity: vigil.SeverityHigh}
	rules := equipment.Rules{}
	tests := []struct {
		name   string
		device vigil.Device
		adv    vigil.Advisory
		want   string // "" not flagged, else a phrase of the reason
	}{
		{"a version inside the range is flagged", dev("", "5.10.50.84"), adv, "software version 5.10.50.84 is affected"},
		{"the first fixed version is not flagged", dev("", "5.10.50.85"), adv, ""},
		{"a firmware version is checked when the component is not given", dev("5.10.1", "1.0"), adv, "firmware version 5.10.1 is affected"},
		{"a device with no versions may be affected", dev("", ""), adv, "may be affected: firmware version not recorded, software version not recorded"},
		{"an unreadable version fails closed", dev("", "5.10 build 7"), adv, "cannot be read"},
		{"another model is not flagged", func() vigil.Device { d := dev("", "5.10.1"); d.Model = "ImageCast Precinct"; return d }(), adv, ""},
		{"a star model covers every model", func() vigil.Device { d := dev("", "5.10.1"); d.Model = "ImageCast Precinct"; return d }(),
			func() vigil.Advisory { a := adv; a.Model = "*"; return a }(), "is affected"},
		{"an advisory with an unreadable range flags every device of the model", dev("", "1.0"),
			func() vigil.Advisory { a := adv; a.Affected = "~5"; return a }(), "cannot be read, so check this device by hand"},
		{"a fixed-only advisory covers every version below the fix", dev("", "4.0"),
			func() vigil.Advisory { a := adv; a.Affected = ""; a.Fixed = "5.0"; return a }(), "fixed in 5.0"},
		{"an OS advisory reads the OS version", func() vigil.Device { d := dev("", ""); d.OSVersion = "10.0.17763"; return d }(),
			func() vigil.Advisory { a := adv; a.Component = vigil.ComponentOS; a.Affected = "10.0.x"; return a }(), "OS version 10.0.17763 is affected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := equipment.Outdated([]vigil.Device{tt.device}, []vigil.Advisory{tt.adv}, rules, day(2025, 1, 1))
			if tt.want == "" {
				if len(flags) != 0 {
					t.Errorf("flagged: %+v", flags[0].Reasons)
				}
				return
			}
			if len(flags) != 1 || !strings.Contains(flags[0].Reasons[0].Text, tt.want) {
				t.Fatalf("flags %+v, want a reason with %q", flags, tt.want)
			}
			if r := flags[0].Reasons[0]; r.Code != equipment.ReasonAdvisory || r.Advisory != "ICX-1" || r.Severity != vigil.SeverityHigh {
				t.Errorf("reason = %+v", r)
			}
		})
	}
}

func TestAllowDevice(t *testing.T) {
	rules := equipment.DefaultRules()
	now := day(2026, 3, 1)
	advs := []vigil.Advisory{
		{ID: "PP-1", Manufacturer: "KNOWiNK", Model: "Poll Pad", Affected: "3.4.x", Severity: vigil.SeverityCritical, Fixed: "3.5.1"},
		{ID: "PP-FW", Manufacturer: "KNOWiNK", Model: "Poll Pad", Component: vigil.ComponentFirmware, Affected: "*", Severity: vigil.SeverityLow},
	}
	tests := []struct {
		name        string
		version, os string
		min         string
		want        []equipment.ReasonCode
	}{
		{"a current version on a supported OS is allowed", "3.6.0", "iPadOS 17", "3.5.1", nil},
		{"no minimum means any readable version", "1.0", "Linux", "", nil},
		{"a version below the minimum is refused", "3.5.0", "iPadOS 17", "3.5.1", []equipment.ReasonCode{equipment.ReasonBelowMinimum}},
		{"an affected version is refused with the advisory", "3.4.2", "iPadOS 17", "", []equipment.ReasonCode{equipment.ReasonAdvisory}},
		{"an unsupported OS is refused", "3.6.0", "Windows 10", "3.5.1", []equipment.ReasonCode{equipment.ReasonOSUnsupported}},
		{"every reason is given at once", "3.4.9", "Windows 7 SP1", "3.5.1", []equipment.ReasonCode{equipment.ReasonBelowMinimum, equipment.ReasonOSUnsupported, equipment.ReasonAdvisory}},
		{"an unreadable version is refused", "3.6 beta", "iPadOS 17", "", []equipment.ReasonCode{equipment.ReasonUnreadableInput}},
		{"an unreadable minimum refuses rather than allows", "3.6.0", "iPadOS 17", "latest", []equipment.ReasonCode{equipment.ReasonUnreadableInput}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reasons := rules.AllowDevice(tt.version, tt.os, advs, tt.min, now)
			var got []equipment.ReasonCode
			for _, r := range reasons {
				got = append(got, r.Code)
			}
			if ok != (len(tt.want) == 0) || strings.Join(codeStrings(got), " ") != strings.Join(codeStrings(tt.want), " ") {
				t.Errorf("ok=%v reasons=%v, want %v", ok, reasons, tt.want)
			}
		})
	}
}

func codeStrings(cs []equipment.ReasonCode) []string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return s
}
