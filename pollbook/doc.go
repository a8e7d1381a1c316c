// Package pollbook holds the rules of electronic pollbooks that need no
// storage: reading the AAMVA text a keyboard-wedge PDF417 scanner types from
// a driver's licence, and deciding whether a voter may be checked in at a
// polling place now (Eligible). The check-in itself is a claim in the log;
// see the root package (pollbook.go) and sqlite.Pollbook.
package pollbook
