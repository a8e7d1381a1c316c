package bench_test

import (
	"os"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/bench"
)

func TestDetectBenchMeetsTarget(t *testing.T) {
	res, err := bench.RunDetect(bench.DetectOptions{Days: 30, Voters: 6000, Seed: 7}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		res.Report(os.Stdout)
	}
	for _, s := range res.Scenarios {
		if !s.Detected {
			t.Errorf("scenario %q was not detected", s.Name)
		} else if s.Latency > 10*time.Minute {
			t.Errorf("scenario %q detected only after %s", s.Name, s.Latency)
		}
	}
	if res.FalsePerDay > 1 {
		t.Errorf("%.2f false alerts per day, want at most 1", res.FalsePerDay)
	}
}
