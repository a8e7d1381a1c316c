package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"

	"github.com/vigil-elections/vigil"
	vnats "github.com/vigil-elections/vigil/nats"
)

// startProfile starts a CPU profile into path ("" : none); the returned
// function stops it.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// freeListenAddr returns a loopback address below the kernel's ephemeral
// range: one from ":0" may be taken by an outgoing connection before a
// server listens on it.
func freeListenAddr(op string) (string, error) {
	for i := 0; i < 100; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", vigil.Errorf(vigil.Unavailable, op, "no free port for a listener")
}

// LogCheckIns reads a log back: the check-in event ids it holds, and how
// many voters it holds more than one check-in for.
func LogCheckIns(ctx context.Context, l *vnats.Log) (inLog map[string]bool, twice int, entries uint64, err error) {
	last, err := l.LastSeq(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	inLog = map[string]bool{}
	perVoter := map[string]int{}
	err = l.Read(ctx, 1, last, func(_ uint64, data []byte) error {
		entry, err := vigil.UnmarshalEntry(data)
		if err != nil {
			return err
		}
		for _, ev := range entry {
			if ev.Type == vigil.EventCheckInRecorded {
				inLog[ev.ID] = true
				perVoter[ev.Key]++
			}
		}
		return nil
	})
	for _, n := range perVoter {
		if n > 1 {
			twice++
		}
	}
	return inLog, twice, last, err
}
