package equipment

import (
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

func TestEditedRulesChangeWhatIsFlagged(t *testing.T) {
	base := DefaultRules()
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	scanner := vigil.Device{ID: "S1", Kind: vigil.DeviceScanner, Manufacturer: "ES&S", Model: "DS200",
		Acquired: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), OS: "Windows 11", OSVersion: "23H2",
		Certification: vigil.Certification{System: "EVS", Version: "6.0.4.0"}}
	if got := reasons(Outdated([]vigil.Device{scanner}, nil, base, now)); len(got) != 0 {
		t.Fatalf("default rules flag a 2019 scanner on Windows 11: %v", got)
	}
	edited := base.With([]vigil.LifecycleRule{
		{Rule: vigil.RuleLife, Kind: vigil.DeviceScanner, Years: 7},
		{Rule: vigil.RuleOSEnd, OS: "Windows 11 23H2", Date: vigil.Date{Year: 2025, Month: 11, Day: 11}},
		{Rule: vigil.RuleWithdrawn, System: "EVS", Version: "6.0.4.0", Date: vigil.Date{Year: 2026, Month: 3, Day: 1}, Reason: "test lab finding"},
	})
	got := reasons(Outdated([]vigil.Device{scanner}, nil, edited, now))
	for _, want := range []ReasonCode{ReasonEndOfLife, ReasonOSUnsupported, ReasonCertWithdrawn} {
		if !got[want] {
			t.Errorf("edited rules: %s not flagged (got %v)", want, got)
		}
	}
	// The base rules are not changed by With.
	if base.lifeYears(vigil.DeviceScanner) != 10 || len(base.Withdrawn) != 0 {
		t.Error("With changed its receiver")
	}
	// Removing the edits restores the defaults.
	undone := base.With([]vigil.LifecycleRule{
		{Rule: vigil.RuleLife, Kind: vigil.DeviceScanner, Years: 7},
		{Rule: vigil.RuleLife, Kind: vigil.DeviceScanner, Remove: true},
	})
	if undone.LifeOf(vigil.DeviceScanner) != 10 {
		t.Errorf("removed edit still applies: %d years", undone.LifeOf(vigil.DeviceScanner))
	}
	// An OS date replaces the default entry of the same name.
	later := base.With([]vigil.LifecycleRule{{Rule: vigil.RuleOSEnd, OS: "windows  10", Date: vigil.Date{Year: 2026, Month: 10, Day: 13}}})
	if e, _ := later.osEnd("Windows 10 Pro"); e.End.Year() != 2026 {
		t.Errorf("Windows 10 end = %v, want the edited 2026 date", e.End)
	}
	// A default life for every kind.
	if r := base.With([]vigil.LifecycleRule{{Rule: vigil.RuleLife, Years: 12}}); r.LifeOf(vigil.DeviceBMD) != 12 {
		t.Errorf("default life = %d, want 12", r.LifeOf(vigil.DeviceBMD))
	}
}

func TestLifecycleRuleValidation(t *testing.T) {
	for _, bad := range []vigil.LifecycleRule{
		{Rule: "age"},
		{Rule: vigil.RuleLife, Kind: "toaster", Years: 5},
		{Rule: vigil.RuleLife, Years: 0},
		{Rule: vigil.RuleLife, Years: 99},
		{Rule: vigil.RuleOSEnd, OS: "Windows 11"},
		{Rule: vigil.RuleOSEnd, Date: vigil.Date{Year: 2030, Month: 1, Day: 1}},
		{Rule: vigil.RuleWithdrawn, System: "EVS"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func reasons(flags []Flag) map[ReasonCode]bool {
	out := map[ReasonCode]bool{}
	for _, f := range flags {
		for _, r := range f.Reasons {
			out[r.Code] = true
		}
	}
	return out
}
