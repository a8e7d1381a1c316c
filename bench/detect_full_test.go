package bench_test

import (
	"os"
	"testing"

	"github.com/vigil-elections/vigil/bench"
)

func TestDetectFullScaleManual(t *testing.T) {
	if os.Getenv("VIGIL_FULL") == "" {
		t.Skip()
	}
	for seed := uint64(1); seed <= 5; seed++ {
		res, err := bench.RunDetect(bench.DetectOptions{Seed: seed}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Report(os.Stdout)
	}
}
