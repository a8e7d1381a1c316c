package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/paper"
)

func (m *Main) paperCmd() *cobra.Command {
	c := &cobra.Command{Use: "paper", Short: "Print paper backups: pollbooks, provisional envelopes, voted lists, key sheets"}
	c.AddCommand(m.paperPollbookCmd(), m.paperEnvelopesCmd(), m.paperVotedCmd(), m.paperKeysheetCmd())
	return c
}

type paperFlags struct {
	dir, place, out, election string
}

func (f *paperFlags) add(c *cobra.Command) {
	dataFlag(c, &f.dir)
	c.Flags().StringVar(&f.place, "polling-place", "", "polling place ID (e.g. P01)")
	c.Flags().StringVar(&f.out, "out", "", "the PDF file to write")
	c.Flags().StringVar(&f.election, "election", "", "election ID (default: the latest)")
}

func (f *paperFlags) check() error {
	if f.place == "" {
		return vigil.FieldError("paper", "polling-place", "name the polling place (--polling-place ID)")
	}
	if f.out == "" {
		return vigil.FieldError("paper", "out", "name the PDF file to write (--out FILE.pdf)")
	}
	return nil
}

// stamp opens the node and reads what every page names: election, place,
// checkpoint and the projection's cursor.
func (m *Main) stamp(ctx context.Context, f paperFlags) (*node.Node, paper.Stamp, error) {
	if err := f.check(); err != nil {
		return nil, paper.Stamp{}, err
	}
	n, err := m.openNode(ctx, node.Options{Dir: f.dir})
	if err != nil {
		return nil, paper.Stamp{}, err
	}
	ck, err := n.Checkpoint(ctx)
	if err != nil {
		return nil, paper.Stamp{}, err
	}
	s, err := paper.ReadStamp(ctx, paper.StampSource{DB: n.DB.DB, LogName: vnats.EventsStream, Checkpoint: ck,
		Verifier: n.Signer.Verifier, Printed: n.Now()}, f.place, f.election)
	if err != nil {
		return nil, s, err
	}
	return n, s, nil
}

// writePDF writes a PDF atomically: a half-written file never has the name.
func writePDF(path string, write func(w io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	tmp := path + ".partial"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return vigil.Wrap("paper", vigil.Unavailable, err)
	}
	return vigil.Wrap("paper", vigil.Unavailable, os.Rename(tmp, path))
}

// recordPrint logs the print as a privileged read: a pollbook is a bulk
// export of personal data.
func recordPrint(ctx context.Context, n *node.Node, what string, s paper.Stamp) {
	ev, err := vigil.NewEvent(operator(n.Origin()), vigil.EventAccessPrivileged, string(access.ActionPaperPrint), n.Now(),
		vigil.Privileged{Action: string(access.ActionPaperPrint), Detail: what + " for polling place " + s.PlaceID})
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
}

func (m *Main) paperPollbookCmd() *cobra.Command {
	var f paperFlags
	c := &cobra.Command{
		Use:   "pollbook",
		Short: "The paper pollbook of a polling place: alphabetical roster, barcodes, signature boxes",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			n, s, err := m.stamp(ctx, f)
			if err != nil {
				return err
			}
			start := time.Now()
			voters, err := paper.ReadRoll(ctx, n.DB.DB, f.place)
			if err != nil {
				return err
			}
			var pages int
			if err := writePDF(f.out, func(w io.Writer) (err error) { pages, err = paper.Pollbook(w, s, voters); return err }); err != nil {
				return err
			}
			recordPrint(ctx, n, "paper pollbook", s)
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d voters on %d pages in %.1f s (checkpoint %d entries)\n",
				f.out, len(voters), pages, time.Since(start).Seconds(), s.CheckpointSize)
			return nil
		},
	}
	f.add(c)
	return withAction(c, access.ActionPaperPrint)
}

func (m *Main) paperEnvelopesCmd() *cobra.Command {
	var f paperFlags
	var first, count int
	c := &cobra.Command{
		Use:   "envelopes",
		Short: "Numbered provisional ballot envelopes for a polling place",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if count < 1 || count > 10000 || first < 1 {
				return vigil.FieldError("paper envelopes", "count", "print 1 to 10000 envelopes, numbered from 1 or more")
			}
			n, s, err := m.stamp(c.Context(), f)
			if err != nil {
				return err
			}
			if err := writePDF(f.out, func(w io.Writer) error { return paper.Envelopes(w, s, first, count) }); err != nil {
				return err
			}
			recordPrint(c.Context(), n, fmt.Sprintf("provisional envelopes %s..%s", paper.EnvelopeNumber(f.place, first),
				paper.EnvelopeNumber(f.place, first+count-1)), s)
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: envelopes %s to %s\n", f.out,
				paper.EnvelopeNumber(f.place, first), paper.EnvelopeNumber(f.place, first+count-1))
			return nil
		},
	}
	f.add(c)
	c.Flags().IntVar(&first, "first", 1, "number of the first envelope (continue where the last print ended)")
	c.Flags().IntVar(&count, "count", 50, "how many envelopes")
	return withAction(c, access.ActionPaperPrint)
}

func (m *Main) paperVotedCmd() *cobra.Command {
	var f paperFlags
	var at string
	c := &cobra.Command{
		Use:   "voted",
		Short: "The list of voters checked in at a polling place up to a time",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			n, s, err := m.stamp(ctx, f)
			if err != nil {
				return err
			}
			until := s.Printed
			if at != "" {
				if until, err = time.Parse(time.RFC3339, at); err != nil {
					return vigil.FieldError("paper voted", "at", "%q is not an RFC 3339 time (2026-11-03T15:00:00-07:00)", at)
				}
			}
			voted, err := paper.ReadVoted(ctx, n.DB.DB, f.place, until)
			if err != nil {
				return err
			}
			var pages int
			if err := writePDF(f.out, func(w io.Writer) (err error) { pages, err = paper.VotedList(w, s, until, voted); return err }); err != nil {
				return err
			}
			recordPrint(ctx, n, "voted list", s)
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d voters checked in up to %s, %d pages\n", f.out, len(voted), until.Format(time.RFC3339), pages)
			return nil
		},
	}
	f.add(c)
	c.Flags().StringVar(&at, "at", "", "list check-ins up to this time (RFC 3339; default now)")
	return withAction(c, access.ActionPaperPrint)
}

func (m *Main) paperKeysheetCmd() *cobra.Command {
	var identities []string
	var out, label, custodian string
	var check bool
	c := &cobra.Command{
		Use:   "keysheet",
		Short: "Recovery sheets for offline age keys: fingerprint, typeable groups, QR code",
		Long: `Print one recovery sheet per age identity in the --identity files: the public
key, a fingerprint, the secret key in numbered groups of four to type back,
and a QR code. With --check, print the fingerprints only (to compare a key
typed back from a sheet).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var sheets []paper.KeySheet
			for _, file := range identities {
				b, err := os.ReadFile(file)
				if err != nil {
					return vigil.FieldError("paper keysheet", "identity", "cannot read %s: %v", file, err)
				}
				ids, err := age.ParseIdentities(bytes.NewReader(b))
				if err != nil {
					return vigil.FieldError("paper keysheet", "identity", "%s: %v", file, err)
				}
				for i, id := range ids {
					k := paper.KeySheet{Label: label, Printed: timeNow(), Custodian: custodian}
					switch id := id.(type) {
					case *age.X25519Identity:
						k.Secret, k.Public = id.String(), id.Recipient().String()
					case *age.HybridIdentity:
						k.Secret, k.Public = id.String(), id.Recipient().String()
					default:
						return vigil.FieldError("paper keysheet", "identity", "%s: unsupported identity type", file)
					}
					if k.Label == "" {
						k.Label = filepath.Base(file)
					}
					if len(ids) > 1 {
						k.Label += fmt.Sprintf(" (key %d of %d)", i+1, len(ids))
					}
					sheets = append(sheets, k)
				}
			}
			if len(sheets) == 0 {
				return vigil.FieldError("paper keysheet", "identity", "give --identity FILE: the offline key to print")
			}
			if check {
				for _, k := range sheets {
					fmt.Fprintf(c.OutOrStdout(), "%s\n  public key:  %s\n  fingerprint: %s\n", k.Label, k.Public, paper.Fingerprint(k.Secret))
				}
				return nil
			}
			if out == "" {
				return vigil.FieldError("paper keysheet", "out", "name the PDF file to write (--out FILE.pdf)")
			}
			if err := writePDF(out, func(w io.Writer) error { return paper.KeySheets(w, sheets) }); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d key sheets; print it, check the fingerprints, then delete the file\n", out, len(sheets))
			for _, k := range sheets {
				fmt.Fprintf(c.OutOrStdout(), "  %s: %s\n", k.Label, strings.TrimSpace(paper.Fingerprint(k.Secret)))
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&identities, "identity", nil, "age identity file of an offline key; repeat for several")
	c.Flags().StringVar(&out, "out", "", "the PDF file to write")
	c.Flags().StringVar(&label, "label", "", "what the key is (e.g. \"State offline backup key 1\")")
	c.Flags().StringVar(&custodian, "custodian", "", "who keeps the sheet")
	c.Flags().BoolVar(&check, "check", false, "print the fingerprints only")
	return withAction(c, access.ActionPaperPrint)
}
