package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this test binary as the vigil program itself
// (VIGIL_EXEC_MAIN=1): fault tests need a real child process to kill.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_EXEC_MAIN") == "1" {
		os.Args = append([]string{"vigil"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
