// Package tabulate reads the cast vote records (CVRs) and ballot manifests
// that scanners and election management systems export, checks them against
// each other, and counts them.
//
// It is pure: readers in, structs out. It holds no database, opens no
// network connection and depends on the standard library only.
//
// # Reading cast vote records
//
// A Reader turns one vendor export (one or more files) into a stream of
// vigil.CastVoteRecord values:
//
//	r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
//	t := tabulate.NewTally(r.Election(), tabulate.ByPrecinct)
//	err := r.Read(files, t.Add)
//	res := t.Results()
//	res.WriteCSV(os.Stdout)
//
// Records are delivered one at a time so that a million ballots never sit in
// memory; ParseCVRs collects them when that is what the caller wants.
//
// Formats (Format) and the files each expects:
//
//   - Dominion: the tabular "CVR Export" CSV (four header rows), including
//     ranked-choice headers. Spreadsheet-style ="1" cells, line breaks inside
//     contest names and stray spaces are accepted. Also the JSON CvrExport
//     files (EMS 5.2 and 5.10 layouts, whole or split), with the manifests
//     (ContestManifest.json, CandidateManifest.json, …) given as extra files
//     to name what the export only numbers; see dominion_json.go.
//   - ClearBallot: the CSV export whose contest columns are named
//     Choice_<id>_1:<contest>:Vote For <n>:<choice>:<party>.
//   - ESS: the ES&S CVR CSV plus, for older software, one or more "Ballots"
//     exports that give each CVR its batch and tabulator.
//   - Hart: one XML file per ballot (or ZIP archives of them) plus optional
//     "scanned ballot information" CSVs that name the workstation.
//   - NIST: NIST SP 1500-103 cast vote record reports, JSON or XML. The
//     latest snapshot of each CVR is counted (modified over interpreted over
//     original); see nist_cvr.go for how ids, votes, write-ins and ranks
//     are read.
//
// # Election definitions
//
// Without Options.Election the Reader learns contests and choices from the
// files (Reader.Election grows as it reads; it covers every record delivered
// so far). With Options.Election every contest and choice in the files must
// be in that definition, matched by id or by name (ignoring case and runs of
// spaces); anything else is an error that names the file, line and column.
//
// ParseElection reads a definition from a NIST SP 1500-100 v2
// ElectionReport (JSON or XML) or from vigil's own JSON.
//
// # Errors
//
// Every error about the input is a *vigil.Error of kind vigil.Invalid whose
// Field names the file, line and column ("TEST_CVRS.csv, line 12, column
// RecordId") and which wraps a *ParseError carrying the same facts.
// Parsers bound what they read (Options.MaxLineBytes, Options.MaxFileBytes)
// and never panic on any input; each is fuzzed.
//
// # Counting
//
// Tally counts plurality, vote-for-N and ballot-measure contests, and keeps
// the rankings of ranked-choice contests for an instant-runoff count (see
// RunIRV for the rules, including how ties are broken). Results can be
// grouped by precinct, ballot style, batch or counting group, and written
// as CSV (header contest,choice,votes), as text, or as a NIST SP 1500-100 v2
// ElectionReport (WriteNISTXML, WriteNISTJSON) that validates against the
// NIST schema and carries Results.Checkpoint, the event-log checkpoint the
// count was computed at.
package tabulate
