package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

func MustInit(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "test-node"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func MustOpen(t *testing.T, dir string) *node.Node {
	t.Helper()
	n, err := node.Open(t.Context(), node.Options{Dir: dir, CheckpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func county(t *testing.T, id string) vigil.Event {
	ev, err := vigil.NewEvent(vigil.Actor{Name: "tester", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "test-node"},
		vigil.EventCountyDefined, id, time.Now(), vigil.County{ID: id, Name: "County " + id})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestAppendApplyAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := MustInit(t)
	n := MustOpen(t, dir)
	for i, id := range []string{"ADAMS", "BAKER", "CLARK"} {
		seq, err := n.Append(ctx, []vigil.Event{county(t, id)}, vigil.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", seq, i+1)
		}
	}
	var count int
	if err := n.DB.QueryRow(`SELECT COUNT(*) FROM counties`).Scan(&count); err != nil || count != 3 {
		t.Fatalf("counties %d err %v", count, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = MustOpen(t, dir)
	defer n.Close()
	rep, err := n.VerifyLog(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Entries != 3 || rep.Checkpoints < 1 {
		t.Fatalf("report %+v", rep)
	}
	diffs, _, err := n.VerifyProjections(ctx, t.TempDir())
	if err != nil || len(diffs) != 0 {
		t.Fatalf("diffs %v err %v", diffs, err)
	}
	t.Run("a claim on a subject is won once", func(t *testing.T) {
		var zero uint64
		ev := county(t, "DELTA")
		if _, err := n.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
			t.Fatal(err)
		}
		ev2 := county(t, "DELTA")
		_, err := n.Log.Append(ctx, []vigil.Event{ev2}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		if vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("second claim: %v", err)
		}
	})
}
