package bench_test

import (
	"testing"

	"github.com/vigil-elections/vigil/bench"
)

func TestRunTallySmall(t *testing.T) {
	r, err := bench.RunTally(t.Context(), bench.TallyOptions{Dir: t.TempDir(), CVRs: 5000, NodeCVR: 3000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.CSVTime <= 0 || r.TallyTime <= 0 || r.Ratio <= 0 || r.NodeImportTime <= 0 || r.NodeRatio <= 0 || r.PeakHeap == 0 {
		t.Fatalf("%+v", r)
	}
}
