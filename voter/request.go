package voter

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/vigil-elections/vigil"
)

// A NIST SP 1500-102 registration request (a VoterRecordsRequest from an
// online or agency registration) carries the applicant but no state voter
// ID: the registration system assigns one. AssignRequestID gives the
// applicant an ID derived from who they are (normalized name, date of
// birth, residential address), so importing the same request again finds
// the same registration instead of adding a second one; and it leaves the
// registration pending until a registrar verifies it, unless the request
// said otherwise.
func AssignRequestID(v *vigil.Voter) {
	parts := []string{NormalizeName(v.Name.First), NormalizeName(v.Name.Middle), NormalizeName(v.Name.Last),
		NormalizeName(v.Name.Suffix), v.BirthDate.String(), NormalizeName(v.Residence.Line1),
		NormalizeName(v.Residence.City), strings.TrimSpace(v.Residence.ZIP)}
	h := sha256.Sum256([]byte("vigil registration request\n" + strings.Join(parts, "\n")))
	v.ID = vigil.VoterID("REQ-" + base32.StdEncoding.EncodeToString(h[:10]))
	if v.Status.Code == "" {
		v.Status.Code = vigil.StatusPending
	}
}
