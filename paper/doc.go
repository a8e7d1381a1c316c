// Package paper prints vigil's paper backups as PDFs: the paper pollbook
// of a polling place (what poll workers use when every device is down),
// provisional ballot envelopes, the list of who has voted at a polling
// place, and recovery sheets for the offline age keys that decrypt
// backups.
//
// Every page of a pollbook or voted list names the election, the polling
// place, when it was printed and the log checkpoint (size and root hash)
// its data was read under, so a printed page can later be tied to exactly
// one state of the tamper-evident log. Barcodes are drawn as vector bars
// (Code 128 for voter IDs and envelope numbers, QR for keys), which print
// sharply at any resolution and keep a 1,000-page pollbook small.
//
// The package reads projections through database/sql (see data.go) and
// writes PDFs with github.com/go-pdf/fpdf; it holds no state.
package paper
