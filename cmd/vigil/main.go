// Command vigil is election infrastructure that defends, detects and
// recovers. See the README for the quick start; `vigil help` lists commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	m.ParseFlags(os.Args[1:])
	err := m.Run(ctx)
	stop()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil:", userMessage(err))
		os.Exit(exitCode(err))
	}
}
