package paper

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
)

// StampSource is what a stamp is read from: the projection, the name of
// the log it follows, and the node's latest signed checkpoint with the
// verifier of its key (nil checkpoint: not yet checkpointed).
type StampSource struct {
	DB         *sql.DB
	LogName    string
	Checkpoint []byte
	Verifier   note.Verifier
	Printed    time.Time
}

// ReadStamp reads what every page names: election (election "" is the
// latest), polling place, the checkpoint the printout can be checked
// against and the projection's cursor. Errors: NotFound, Integrity (the
// checkpoint does not verify).
func ReadStamp(ctx context.Context, src StampSource, placeID, election string) (Stamp, error) {
	s := Stamp{Printed: src.Printed}
	place, err := ReadPlace(ctx, src.DB, placeID)
	if err != nil {
		return s, err
	}
	el, err := ReadElection(ctx, src.DB, election)
	if err != nil {
		return s, err
	}
	s.PlaceID, s.PlaceName, s.PlaceAddress, s.County = place.ID, place.Name, place.Address, place.CountyName
	s.Election = fmt.Sprintf("%s (%s)", el.Name, el.Day)
	if s.Cursor, err = Cursor(ctx, src.DB, src.LogName); err != nil {
		return s, err
	}
	if src.Checkpoint != nil {
		c, err := ledger.OpenCheckpoint(src.Checkpoint, note.VerifierList(src.Verifier))
		if err != nil {
			return s, vigil.Errorf(vigil.Integrity, "paper", "the node's latest checkpoint does not verify: %v; run `vigil log verify`", err)
		}
		s.CheckpointSize, s.CheckpointRoot = c.Size, hex.EncodeToString(c.Root[:])
	}
	return s, nil
}
