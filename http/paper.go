package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/paper"
	"github.com/vigil-elections/vigil/pollbook"
)

// Paper backups from the administrator's pages: the same PDFs as `vigil
// paper pollbook|envelopes|voted` (key sheets stay on the console: offline
// keys never pass through a web server). Each print is a privileged read
// in the log: a pollbook is a bulk copy of personal data.
type paperPages struct{ s *Server }

func (s *Server) registerPaper() {
	h := &paperPages{s: s}
	site := func(r *http.Request) vigil.Scope { return vigil.Scope(r.URL.Query().Get("site")) }
	s.handle("GET /paper", access.ActionPaperPrint, nil, h.page)
	s.handle("GET /paper/pollbook.pdf", access.ActionPaperPrint, site, h.pollbookPDF)
	s.handle("GET /paper/envelopes.pdf", access.ActionPaperPrint, site, h.envelopesPDF)
	s.handle("GET /paper/voted.pdf", access.ActionPaperPrint, site, h.votedPDF)
}

// page lists the polling places the user may print for.
func (h *paperPages) page(w http.ResponseWriter, r *http.Request, rq *request) error {
	rows, err := h.s.node.DB.QueryContext(r.Context(), `SELECT county, id, name FROM places ORDER BY county, name`)
	if err != nil {
		return vigil.Wrap("paper.page", vigil.Unavailable, err)
	}
	defer rows.Close()
	now := h.s.node.Now()
	var places []map[string]string
	for rows.Next() {
		var county, id, name string
		if err := rows.Scan(&county, &id, &name); err != nil {
			return err
		}
		sc := vigil.PlaceScope(county, id)
		if access.Authorize(rq.user.Grants, access.ActionPaperPrint, sc, now).Allowed {
			places = append(places, map[string]string{"Scope": string(sc), "Name": name, "ID": id})
		}
	}
	h.s.renderPage(w, r, rq, "paper.html", map[string]any{"Title": "Paper backups", "Places": places,
		"Now": now.Format("2006-01-02T15:04")})
	return rows.Err()
}

// stamp reads the header every page of a printout carries.
func (h *paperPages) stamp(ctx context.Context, r *http.Request) (paper.Stamp, error) {
	site := vigil.Scope(r.URL.Query().Get("site"))
	county, place, ok := pollbook.SitePlace(site)
	if !ok {
		return paper.Stamp{}, vigil.FieldError("paper", "site", "name the polling place: ?site=county/ID/place/ID")
	}
	n := h.s.node
	s, err := h.s.paperStamp(ctx, place, r.URL.Query().Get("election"))
	if err != nil {
		return s, err
	}
	var placeCounty string
	n.DB.QueryRowContext(ctx, `SELECT county FROM places WHERE id = ?`, place).Scan(&placeCounty)
	if placeCounty != county {
		return s, vigil.Errorf(vigil.NotFound, "paper", "there is no polling place %s in county %s", place, county)
	}
	return s, nil
}

// paperStamp reads the header of a printout for a polling place (election
// "" is the latest) at this node's latest checkpoint.
func (s *Server) paperStamp(ctx context.Context, place, election string) (paper.Stamp, error) {
	n := s.node
	ck, err := n.Checkpoint(ctx)
	if err != nil {
		return paper.Stamp{}, err
	}
	return paper.ReadStamp(ctx, paper.StampSource{DB: n.DB.DB, LogName: vnats.EventsStream, Checkpoint: ck,
		Verifier: n.Signer.Verifier, Printed: n.Now()}, place, election)
}

// send records the print and sends the PDF.
func (h *paperPages) send(w http.ResponseWriter, r *http.Request, rq *request, name, what string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(h.s.actor(rq), vigil.EventAccessPrivileged, string(access.ActionPaperPrint), h.s.node.Now(),
		vigil.Privileged{Action: string(access.ActionPaperPrint), Detail: what})
	if err != nil {
		return err
	}
	if _, err := h.s.node.Append(r.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *paperPages) pollbookPDF(w http.ResponseWriter, r *http.Request, rq *request) error {
	s, err := h.stamp(r.Context(), r)
	if err != nil {
		return err
	}
	voters, err := paper.ReadRoll(r.Context(), h.s.node.DB.DB, s.PlaceID)
	if err != nil {
		return err
	}
	return h.send(w, r, rq, "pollbook-"+s.PlaceID+".pdf", "paper pollbook for polling place "+s.PlaceID, func(w io.Writer) error {
		_, err := paper.Pollbook(w, s, voters)
		return err
	})
}

func (h *paperPages) envelopesPDF(w http.ResponseWriter, r *http.Request, rq *request) error {
	first, count := 1, 50
	var err error
	if v := r.URL.Query().Get("first"); v != "" {
		if first, err = strconv.Atoi(v); err != nil {
			return vigil.FieldError("paper.envelopes", "first", "must be a number")
		}
	}
	if v := r.URL.Query().Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil {
			return vigil.FieldError("paper.envelopes", "count", "must be a number")
		}
	}
	if count < 1 || count > 10000 || first < 1 {
		return vigil.FieldError("paper.envelopes", "count", "print 1 to 10000 envelopes, numbered from 1 or more")
	}
	s, err := h.stamp(r.Context(), r)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("provisional envelopes %s..%s", paper.EnvelopeNumber(s.PlaceID, first), paper.EnvelopeNumber(s.PlaceID, first+count-1))
	return h.send(w, r, rq, "envelopes-"+s.PlaceID+".pdf", what, func(w io.Writer) error {
		return paper.Envelopes(w, s, first, count)
	})
}

func (h *paperPages) votedPDF(w http.ResponseWriter, r *http.Request, rq *request) error {
	s, err := h.stamp(r.Context(), r)
	if err != nil {
		return err
	}
	until := s.Printed
	if at := r.URL.Query().Get("at"); at != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", at, time.Local)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, at); err != nil {
				return vigil.FieldError("paper.voted", "at", "%q is not a time (2026-11-03T15:00)", at)
			}
		}
		until = t
	}
	voted, err := paper.ReadVoted(r.Context(), h.s.node.DB.DB, s.PlaceID, until)
	if err != nil {
		return err
	}
	return h.send(w, r, rq, "voted-"+s.PlaceID+".pdf", "voted list for polling place "+s.PlaceID, func(w io.Writer) error {
		_, err := paper.VotedList(w, s, until, voted)
		return err
	})
}
