// Package voter is the pure core of vigil's voter registration: reading
// state voter files and NIST SP 1500-102 documents, writing NIST exports,
// matching names, and finding duplicate registrations. It does no I/O of
// its own beyond the readers and writers it is given, keeps no state
// between calls, and depends only on the standard library and the root
// package's domain types.
//
// # Reading voter files
//
// NewReader streams records from a voter file in one of the built-in
// state layouts (see Layouts: nc, fl, ny, pa, oh, co, wa, mi, ut, vt, de,
// nj, ok), from NIST SP 1500-102 JSON or XML, or from any delimited file
// described by a mapping file (ParseMapping):
//
//	r, err := voter.NewReader("nc", f, voter.Options{File: "ncvoter_Statewide.txt", FingerprintKey: key})
//	for rec, err := range r.All() {
//		if err != nil { ... }             // the file cannot be read further
//		if !rec.OK() { continue }          // rec.Rejections say why; they are also in r.Report()
//		use(rec.Voter, rec.Fingerprint)
//	}
//	if err := r.Report().Check(voter.DefaultMaxRejectFraction); err != nil {
//		// too many bad rows: apply nothing
//	}
//
// The reader finds the header row (if there is one) and matches columns
// by name, so reordered or renamed columns (the layout lists the
// spellings of other years) read the same; without a header, columns are
// taken by position. It detects the delimiter (tab, pipe, comma,
// semicolon), honours double quotes (delimiters, doubled quotes and line
// breaks inside them), skips a byte-order mark and blank lines, and reads
// a line that is not valid UTF-8 as Latin-1. Memory is bounded by the
// longest row; a row costs a handful of allocations.
//
// A bad row never stops the read: it comes back with Rejections naming
// its line, the column and the reason, and the Report collects them for
// the rejection report a clerk receives.
//
// # Idempotent imports
//
// Every accepted record carries a Fingerprint: a keyed digest of the
// normalized record. The same voter read from the same file, or from the
// same data in another column order, delimiter or encoding, has the same
// fingerprint; any change to a field vigil keeps changes it. An importer
// stores the fingerprint per voter ID and emits an event only for new IDs
// and changed fingerprints, so importing one file twice changes nothing
// and a newer file yields exactly the changed records.
//
// # The row form
//
// AppendRow writes a record as a JSON array of strings in a fixed order
// (no field names), ParseRow reads it back without reflection, and
// ParseRecords reads a voter.added or voter.changed payload in either
// form. An import's voter.added events carry their records this way:
// about half the bytes of JSON objects, decoded several times faster.
//
// # Search
//
// SearchKeys and QueryKeys define a key table for candidate lookup that
// tolerates typos, nicknames, name order and partial input; Rank orders
// the candidates. NormalizeName, Soundex, JaroWinkler, DamerauLevenshtein,
// NameSimilarity and CanonicalNames (a table of several hundred English
// nicknames) are the building blocks.
//
// # Duplicates
//
// FindDuplicates blocks and scores a whole roll and returns candidate
// pairs with a score and reasons; nothing is merged. GenerateRoll makes a
// deterministic synthetic roll with injected duplicates for benchmarks
// and demonstrations, and Evaluate measures precision and recall against
// it.
//
// # Secrets
//
// Driver's licence numbers and SSN4s are vigil.Secret values: they print
// and marshal as "[redacted]". Rejection reasons never contain them. NIST
// exports leave them out unless WriterOptions.IncludeSecrets is set.
package voter
