package paper

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
)

// KeySheet is an offline key to print for recovery.
type KeySheet struct {
	Label     string // "State offline backup key 1"
	Secret    string // AGE-SECRET-KEY-… (or AGE-SECRET-KEY-PQ-…)
	Public    string // the matching age1… recipient
	Printed   time.Time
	Custodian string
}

// Fingerprint identifies a secret key without revealing it: the first 16
// bytes of SHA-256 of the key string, in groups of four hex digits.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return group(hex.EncodeToString(sum[:16]), 4, " ")
}

func group(s string, n int, sep string) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), sep)
}

// KeySheets writes one recovery sheet per key: label, public key,
// fingerprint, the secret key in numbered groups to type back (age's
// Bech32 checksum catches a mistyped character), and a QR code of it.
func KeySheets(w io.Writer, keys []KeySheet) error {
	d := newDoc("P")
	for _, k := range keys {
		d.AddPage()
		d.SetXY(10, 10)
		d.font("B", 15)
		d.cell(195.9, 8, "OFFLINE KEY RECOVERY SHEET", "L")
		d.SetXY(10, 19)
		d.font("", 11)
		d.cell(195.9, 6, k.Label, "L")
		d.SetXY(10, 26)
		d.font("", 8)
		d.cell(195.9, 5, "Printed "+k.Printed.UTC().Format("2006-01-02 15:04 MST")+
			". SECRET: whoever holds this sheet can decrypt every vigil backup made for this key.", "L")
		y := 36.0
		line := func(label, value string, size float64) {
			d.SetXY(10, y)
			d.font("B", 9)
			d.cell(35, 6, label, "L")
			d.font("", size)
			d.SetXY(45, y)
			d.MultiCell(160, 5.5, d.tr(value), "", "L", false)
			y = d.GetY() + 2
		}
		line("Public key", k.Public, 8.5)
		line("Fingerprint", Fingerprint(k.Secret), 10)
		if k.Custodian != "" {
			line("Custodian", k.Custodian, 9)
		}
		d.SetXY(10, y+2)
		d.font("B", 9)
		d.cell(195.9, 6, "Secret key, in groups of four (type all groups in order as one line, without spaces):", "L")
		y += 9
		groups := strings.Split(group(k.Secret, 4, " "), " ")
		d.font("", 13)
		for i := 0; i < len(groups); i += 6 {
			end := min(i+6, len(groups))
			d.SetXY(14, y)
			d.font("", 8)
			d.cell(10, 7, fmt.Sprintf("%d", i/6+1), "L")
			d.SetFont("Courier", "B", 14)
			d.cell(170, 7, strings.Join(groups[i:end], "  "), "L")
			y += 8
		}
		y += 4
		if err := d.qrCode(k.Secret, 10, y, 70); err != nil {
			return err
		}
		d.SetXY(85, y+6)
		d.font("", 8.5)
		d.MultiCell(120, 4.5, d.tr("To recover: type the groups above, joined without spaces, into a file (or scan the QR code), "+
			"check that the fingerprint printed by `vigil paper keysheet --identity FILE --check` matches the one on this sheet, "+
			"then use the file with `vigil backup verify` or `vigil restore --identity FILE`. Keep this sheet sealed, "+
			"in a different place from the backups it opens."), "", "L", false)
	}
	return d.Output(w)
}
