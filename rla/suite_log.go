package rla

import "math"

// natLog is the natural logarithm the SUITE code uses. It is math.Log: a
// copy of the standard library's amd64 assembly in Go was measured at
// 49 ms against 52 ms for BenchmarkSUITE100Contests, too little to keep a
// second logarithm.
func natLog(x float64) float64 { return math.Log(x) }
