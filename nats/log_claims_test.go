package nats_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
)

// Claims from many goroutines go out in atomic batches, and still each
// subject is claimed once: of two claims of one subject expecting it empty,
// exactly one is stored, whether they share a batch or not; every stored
// claim has its own sequence, and reading the log back finds each once.
func TestClaimsInAtomicBatchesStayAtomicPerSubject(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	srv, err := vnats.Start(vnats.Config{Name: "claims", StoreDir: t.TempDir(), Key: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	_, js := js(t, srv)
	if err := vnats.CreateStreams(ctx, js, vnats.StreamSet{Replicas: 1, LogID: "LOG1", SecretsFP: "fp1"}); err != nil {
		t.Fatal(err)
	}
	l, err := vnats.OpenLog(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	won := map[string][]uint64{}
	lost := 0
	claim := func(key string) {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "pb", Role: vigil.RolePollWorker, Scope: vigil.ScopeState, Origin: "t"},
			vigil.EventCheckInRecorded, key, time.Now(), nil)
		var zero uint64
		seq, err := l.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			won[key] = append(won[key], seq)
		case vigil.ErrorKind(err) == vigil.Conflict:
			lost++
		default:
			t.Errorf("claim %s: %v", key, err)
		}
	}
	burst := func(keys []string) {
		var wg sync.WaitGroup
		for _, k := range keys {
			wg.Add(1)
			go func() { defer wg.Done(); claim(k) }()
		}
		wg.Wait()
	}
	// Distinct voters: batches are stored whole.
	const voters = 600
	var keys []string
	for i := range 400 {
		keys = append(keys, fmt.Sprintf("V%05d", i))
	}
	burst(keys)
	if stored, _ := l.ClaimBatches(); stored == 0 {
		t.Fatal("no claim went out in an atomic batch")
	}
	// Every voter again (all must lose), and new voters claimed twice at
	// once (one of each pair must lose, in a batch or not).
	keys = keys[:0]
	for i := range 400 {
		keys = append(keys, fmt.Sprintf("V%05d", i))
	}
	for i := 400; i < voters; i++ {
		keys = append(keys, fmt.Sprintf("V%05d", i), fmt.Sprintf("V%05d", i))
	}
	burst(keys)
	const tries = 2
	seen := map[uint64]bool{}
	for key, seqs := range won {
		if len(seqs) != 1 {
			t.Fatalf("%s was claimed %d times: %v", key, len(seqs), seqs)
		}
		if seen[seqs[0]] {
			t.Fatalf("sequence %d acknowledged twice", seqs[0])
		}
		seen[seqs[0]] = true
	}
	if len(won) != voters || lost != voters*(tries-1) {
		t.Fatalf("%d voters claimed, %d claims lost; want %d and %d", len(won), lost, voters, voters*(tries-1))
	}
	stored, resent := l.ClaimBatches()
	t.Logf("%d batches stored atomically, %d re-sent claim by claim", stored, resent)
	last, _ := l.LastSeq(ctx)
	inLog := map[uint64]string{}
	if err := l.Read(ctx, 1, last, func(seq uint64, data []byte) error {
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			return err
		}
		inLog[seq] = entry[0].Key
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for key, seqs := range won {
		if inLog[seqs[0]] != key {
			t.Fatalf("the log holds %q at %d, acknowledged as %s's claim", inLog[seqs[0]], seqs[0], key)
		}
	}
	if len(inLog) != voters {
		t.Fatalf("the log holds %d entries for %d claims", len(inLog), voters)
	}
}
