package voter

import "github.com/vigil-elections/vigil"

// NewRecord returns v as events carry it: its secrets sealed with seal (the
// node keyring's Seal) and removed from the clear fields, with its
// fingerprint. v itself is not modified.
func NewRecord(v *vigil.Voter, seal func([]byte) string, fp Fingerprint) vigil.VoterRecord {
	r := vigil.VoterRecord{Voter: *v}
	if !v.DriversLicense.IsZero() {
		r.DriversLicenseSealed = seal([]byte(v.DriversLicense.Reveal()))
	}
	if !v.SSN4.IsZero() {
		r.SSN4Sealed = seal([]byte(v.SSN4.Reveal()))
	}
	r.DriversLicense, r.SSN4 = "", ""
	if !fp.IsZero() {
		r.Fingerprint = fp.String()
	}
	return r
}

// Open returns the voter of r with its secrets opened by open (the node
// keyring's Open). A secret that does not open is an Integrity error.
func Open(r *vigil.VoterRecord, open func(string) ([]byte, error)) (vigil.Voter, error) {
	v := r.Voter
	for _, s := range []struct {
		sealed string
		dst    *vigil.Secret
	}{{r.DriversLicenseSealed, &v.DriversLicense}, {r.SSN4Sealed, &v.SSN4}} {
		if s.sealed == "" {
			continue
		}
		b, err := open(s.sealed)
		if err != nil {
			return v, &vigil.Error{Op: "voter.open", Kind: vigil.Integrity,
				Message: "a sealed identifier of voter " + string(v.ID) + " does not open with this node's keys", Err: err}
		}
		*s.dst = vigil.Secret(b)
	}
	return v, nil
}
