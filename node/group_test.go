package node_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
)

func TestConcurrentLargeAppendsStayUnderTheMessageLimit(t *testing.T) {
	n := MustOpen(t, MustInit(t))
	defer n.Close()
	big := strings.Repeat("x", 3<<20) // three appends of 3 MiB at once: no single entry may hold them all
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, _ := vigil.NewEvent(vigil.Actor{Name: "t", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "t"},
				"blob.stored", "", time.Now(), map[string]string{"data": big})
			_, err := n.Log.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
