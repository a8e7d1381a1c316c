package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/sqlite"
)

func (s *Server) registerAuditPages() {
	s.handle("GET /audits", access.ActionAuditRead, nil, s.auditsPage)
	s.handle("POST /audits", access.ActionAuditManage, nil, s.auditCreateForm)
	s.handle("GET /audits/{id}", access.ActionAuditRead, nil, s.auditPage)
	s.handle("GET /audits/{id}/seed/stream", access.ActionAuditRead, nil, s.auditSeedStream)
	s.handle("POST /audits/{id}/seed", access.ActionAuditManage, nil, s.auditForm(s.formSeedDigit))
	s.handle("POST /audits/{id}/seed/finish", access.ActionAuditManage, nil, s.auditForm(s.formSeedFinish))
	s.handle("POST /audits/{id}/boards", access.ActionAuditManage, nil, s.auditForm(s.formBoard))
	s.handle("POST /audits/{id}/rounds", access.ActionAuditManage, nil, s.auditForm(s.formDraw))
	s.handle("POST /audits/{id}/rounds/close", access.ActionAuditManage, nil, s.auditForm(s.formClose))
	s.handle("POST /audits/{id}/hand-counts", access.ActionAuditManage, nil, s.auditForm(s.formHandCount))
	s.handle("GET /audits/{id}/boards/{board}", access.ActionAuditRetrieval, nil, s.auditBoardPage)
	s.handle("POST /audits/{id}/boards/{board}/ballots", access.ActionAuditEnter, nil, s.boardForm(s.formInterpret))
	s.handle("POST /audits/{id}/boards/{board}/counts", access.ActionAuditEnter, nil, s.boardForm(s.formCount))
	s.handle("POST /audits/{id}/boards/{board}/signoff", access.ActionAuditEnter, nil, s.boardForm(s.formSignOff))
}

// canIn reports whether the user may perform action now in any of scopes.
func (s *Server) canIn(rq *request, action access.Action, scopes ...vigil.Scope) bool {
	for _, sc := range scopes {
		if access.Authorize(rq.user.Grants, action, sc, s.node.Now()).Allowed {
			return true
		}
	}
	return false
}

// userError reports whether err is the user's to fix (shown on the page)
// rather than the server's.
func userError(err error) bool {
	k := vigil.ErrorKind(err)
	return k == vigil.Invalid || k == vigil.Conflict || k == vigil.Permission || k == vigil.NotFound
}

func (s *Server) auditsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderAudits(w, r, rq, http.StatusOK, "")
}

func (s *Server) renderAudits(w http.ResponseWriter, r *http.Request, rq *request, status int, errMsg string) error {
	list, err := s.visibleAudits(r.Context(), rq)
	if err != nil {
		return err
	}
	canManage := false
	for _, g := range rq.user.Grants {
		canManage = canManage || (access.Allows(g.Role, access.ActionAuditManage) && g.Active(s.node.Now()))
	}
	var contests []vigil.Contest
	if e, err := sqlite.NewTabulation(s.node.DB, s.node, s.node.Now).Election(r.Context()); err == nil {
		contests = e.Contests
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "audits.html", map[string]any{"Title": "Risk-limiting audits", "Audits": list, "CanManage": canManage,
		"Contests": contests, "Kinds": vigil.AuditKinds, "Error": errMsg,
		"Form": r.PostForm})
	return nil
}

func (s *Server) auditCreateForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := r.ParseForm(); err != nil {
		return vigil.FieldError("audit.create", "form", "the form could not be read")
	}
	risk, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("risk_limit")))
	if err != nil {
		return s.renderAudits(w, r, rq, http.StatusBadRequest, "risk_limit: the risk limit is a whole percentage, e.g. 10")
	}
	set := vigil.AuditSettings{ID: vigil.AuditID(strings.TrimSpace(r.PostFormValue("id"))), Name: strings.TrimSpace(r.PostFormValue("name")),
		Kind: vigil.AuditKind(r.PostFormValue("kind")), RiskLimit: risk}
	for _, c := range r.PostForm["targeted"] {
		set.Contests = append(set.Contests, vigil.AuditContest{ID: vigil.ContestID(c), Targeted: true})
	}
	for _, c := range r.PostForm["opportunistic"] {
		set.Contests = append(set.Contests, vigil.AuditContest{ID: vigil.ContestID(c)})
	}
	for _, j := range strings.Split(r.PostFormValue("jurisdictions"), ",") {
		if j = strings.TrimSpace(j); j != "" {
			set.Jurisdictions = append(set.Jurisdictions, j)
		}
	}
	if raw := strings.TrimSpace(r.PostFormValue("no_cvr")); raw != "" {
		t, err := auditflow.ParseContestTallies("audit.create", strings.NewReader(raw+"\n"))
		if err != nil {
			return s.renderAudits(w, r, rq, http.StatusBadRequest, "no_cvr: "+vigil.ErrorMessage(err))
		}
		set.NoCVR = t
	}
	if err := s.createAudit(r, rq, set); err != nil {
		if !userError(err) {
			return err
		}
		return s.renderAudits(w, r, rq, statusOf(vigil.ErrorKind(err)), vigil.ErrorMessage(err))
	}
	http.Redirect(w, r, "/audits/"+url.PathEscape(string(set.ID))+"?msg="+url.QueryEscape("Audit created. Next: the seed ceremony."), http.StatusSeeOther)
	return nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	return s.renderAudit(w, r, rq, st, http.StatusOK, r.URL.Query().Get("msg"), "")
}

// sampleRow is one draw as the audit page lists it (report readers only).
type sampleRow struct {
	Round int
	vigil.AuditDraw
	Read bool
}

func (s *Server) renderAudit(w http.ResponseWriter, r *http.Request, rq *request, st *sqlite.AuditState, status int, msg, errMsg string) error {
	v := newAuditView(st)
	canReport := s.canIn(rq, access.ActionAuditReport, readScopes(st.Settings)...)
	var boards []boardView
	for _, b := range v.Boards {
		member := b.Members[0] == rq.user.Name || b.Members[1] == rq.user.Name
		if member || s.canIn(rq, access.ActionAuditManage, st.Scope) {
			boards = append(boards, b)
		}
	}
	var sample []sampleRow
	if canReport {
		for _, rd := range st.Rounds {
			for _, d := range rd.Draws {
				_, read := st.Reading(rd.Round, d.Key())
				sample = append(sample, sampleRow{rd.Round, d, read})
			}
		}
	}
	var open *roundView
	if n := len(v.Rounds); n > 0 && v.Rounds[n-1].Close == nil {
		open = &v.Rounds[n-1]
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	last := 0
	if n := len(st.Digits); n > 0 {
		last = st.Digits[n-1].Index
	}
	// The manifests the draw uses: frozen by round 1, the tabulation's
	// current ones before.
	manifest, frozen, manifestErr := st.Manifest, len(st.Rounds) > 0, ""
	if !frozen {
		var err error
		if manifest, err = s.node.DB.AuditManifest(r.Context(), st.Settings.Jurisdictions); err != nil {
			manifestErr = vigil.ErrorMessage(err)
		}
	}
	type manifestLine struct {
		Jurisdiction     string
		Batches, Ballots int
		NoCVR            int // ballots in batches without CVRs
	}
	var manifests []manifestLine
	for _, b := range manifest {
		if n := len(manifests); n == 0 || manifests[n-1].Jurisdiction != b.Jurisdiction {
			manifests = append(manifests, manifestLine{Jurisdiction: b.Jurisdiction})
		}
		manifests[len(manifests)-1].Batches++
		manifests[len(manifests)-1].Ballots += b.Ballots
		if b.NoCVR {
			manifests[len(manifests)-1].NoCVR += b.Ballots
		}
	}
	// The contests a hand count can still be recorded for.
	var toCount []vigil.AuditReportedContest
	if st.Status == vigil.AuditFullHandCount {
		counted := map[vigil.ContestID]bool{}
		for _, hc := range st.HandCounts {
			counted[hc.Contest] = true
		}
		for _, c := range st.Reported {
			if !counted[c.ID] {
				toCount = append(toCount, c)
			}
		}
	}
	s.renderPage(w, r, rq, "audit.html", map[string]any{"Title": "Audit " + string(st.Settings.ID), "Audit": v,
		"Manifests": manifests, "ManifestFrozen": frozen, "ManifestError": manifestErr,
		"CanManage": s.canIn(rq, access.ActionAuditManage, st.Scope), "CanReport": canReport, "MyBoards": boards,
		"Sample": sample, "Open": open, "Message": msg, "Error": errMsg, "LastDigit": last, "MinDigits": vigil.MinSeedDigits,
		"Hybrid": st.Settings.Kind == vigil.AuditHybrid, "ToCount": toCount,
		"Stream": "/audits/" + url.PathEscape(string(st.Settings.ID)) + "/seed/stream"})
	return nil
}

// auditForm wraps a form handler on an audit page: on success it
// redirects to the page with a message; an error the user can fix is
// shown on the page.
func (s *Server) auditForm(fn func(r *http.Request, rq *request, st *sqlite.AuditState) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		st, err := s.loadAudit(r, rq)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return vigil.FieldError("audit", "form", "the form could not be read")
		}
		msg, err := fn(r, rq, st)
		if err != nil {
			if !userError(err) {
				return err
			}
			if st2, err2 := s.node.DB.Audit(r.Context(), st.Settings.ID); err2 == nil {
				st = st2
			}
			return s.renderAudit(w, r, rq, st, statusOf(vigil.ErrorKind(err)), "", vigil.ErrorMessage(err))
		}
		http.Redirect(w, r, "/audits/"+url.PathEscape(string(st.Settings.ID))+"?msg="+url.QueryEscape(msg), http.StatusSeeOther)
		return nil
	}
}

func (s *Server) formSeedDigit(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	raw := strings.TrimSpace(r.PostFormValue("digit"))
	d, err := strconv.Atoi(raw)
	if err != nil || len(raw) != 1 {
		return "", vigil.FieldError("audit.seed", "digit", "enter the one digit the die shows, 0 to 9")
	}
	i, err := s.auditService().SeedDigit(r.Context(), s.actor(rq), st.Settings.ID, d)
	return fmt.Sprintf("Digit %d entered: %d.", i, d), err
}

func (s *Server) formSeedFinish(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	seed, err := s.auditService().FinishSeed(r.Context(), s.actor(rq), st.Settings.ID)
	return "The seed is " + seed + ".", err
}

func (s *Server) formBoard(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	b := vigil.AuditBoard{Audit: st.Settings.ID, Board: strings.TrimSpace(r.PostFormValue("board")),
		Jurisdiction: strings.TrimSpace(r.PostFormValue("jurisdiction")),
		Members:      []string{strings.TrimSpace(r.PostFormValue("member1")), strings.TrimSpace(r.PostFormValue("member2"))}}
	return "Board " + b.Board + " created.", s.auditService().CreateBoard(r.Context(), s.actor(rq), b)
}

func (s *Server) formDraw(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	size := 0
	if raw := strings.TrimSpace(r.PostFormValue("size")); raw != "" {
		var err error
		if size, err = strconv.Atoi(raw); err != nil || size < 1 {
			return "", vigil.FieldError("audit.draw", "size", "the round size is a number of ballots, or empty for the computed size")
		}
	}
	rd, err := s.auditService().StartRound(r.Context(), s.actor(rq), st.Settings.ID, size)
	return fmt.Sprintf("Round %d drawn: %d ballots.", rd.Round, len(rd.Draws)), err
}

func (s *Server) formClose(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	res, err := s.auditService().CloseRound(r.Context(), s.actor(rq), st.Settings.ID)
	msg := fmt.Sprintf("Round %d closed: %s.", res.Round, strings.ReplaceAll(res.Status, "_", " "))
	if res.NextSize > 0 {
		msg += fmt.Sprintf(" Next round: %d ballots.", res.NextSize)
	}
	return msg, err
}

// formHandCount records one contest's full hand count from the audit
// page: the ballots counted and each choice's votes (choice and votes
// fields in the same order).
func (s *Server) formHandCount(r *http.Request, rq *request, st *sqlite.AuditState) (string, error) {
	const op = "audit.hand_count"
	hc := vigil.AuditHandCount{Audit: st.Settings.ID, Contest: vigil.ContestID(r.PostFormValue("contest")), Votes: map[vigil.ChoiceID]int{}}
	var err error
	if hc.Ballots, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("ballots"))); err != nil {
		return "", vigil.FieldError(op, "ballots", "the ballots counted are a whole number")
	}
	choices, votes := r.PostForm["choice"], r.PostForm["votes"]
	if len(choices) != len(votes) {
		return "", vigil.FieldError(op, "votes", "give one count per choice")
	}
	for i, ch := range choices {
		v, err := strconv.Atoi(strings.TrimSpace(votes[i]))
		if err != nil {
			return "", vigil.FieldError(op, "votes", "the votes of %q are a whole number", ch)
		}
		hc.Votes[vigil.ChoiceID(ch)] = v
	}
	got, err := s.auditService().RecordHandCount(r.Context(), s.actor(rq), hc)
	if err != nil {
		return "", err
	}
	switch got.Outcome {
	case vigil.HandCountConfirmed:
		return fmt.Sprintf("Hand count of %s recorded: the reported outcome is confirmed.", got.Contest), nil
	case vigil.HandCountOverturned:
		return fmt.Sprintf("Hand count of %s recorded: the outcome is OVERTURNED; the hand count's winners stand.", got.Contest), nil
	}
	return fmt.Sprintf("Hand count of %s recorded: it is tied for the last seat; break the tie as the law says.", got.Contest), nil
}

// auditSeedStream sends the ceremony's digits as server-sent events as
// they are entered ("digit", then "seed" once finished), following the
// projection like the turnout and alert streams: a check whenever the
// node applied new entries, resuming after Last-Event-ID (the digit
// index), ending after streamLife so the browser reconnects.
func (s *Server) auditSeedStream(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	after := 0
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after, _ = strconv.Atoi(id)
	} else if v := r.URL.Query().Get("after"); v != "" {
		after, _ = strconv.Atoi(v)
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return vigil.Errorf(vigil.Unavailable, "audit.stream", "this connection cannot stream")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	end := time.After(streamLife)
	var applied uint64
	for {
		if a := s.node.Applied(); a != applied || applied == 0 {
			applied = a
			digits, seed, err := s.node.DB.AuditSeedDigits(r.Context(), st.Settings.ID, after)
			if err != nil {
				return nil // the client reconnects
			}
			for _, d := range digits {
				b, _ := json.Marshal(d)
				if _, err := fmt.Fprintf(w, "id: %d\nevent: digit\ndata: %s\n\n", d.Index, b); err != nil {
					return nil
				}
				after = d.Index
			}
			if seed != "" {
				// The ceremony is over: nothing more will come.
				b, _ := json.Marshal(map[string]string{"seed": seed})
				fmt.Fprintf(w, "event: seed\ndata: %s\n\n", b)
				fl.Flush()
				return nil
			}
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-end:
			return nil
		case <-tick.C:
		}
	}
}

func (s *Server) auditBoardPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, b, err := s.loadBoard(r, rq)
	if err != nil {
		return err
	}
	return s.renderBoard(w, r, rq, st, b, http.StatusOK, r.URL.Query().Get("msg"), "")
}

// batchView groups a board's list by batch for sign-off.
type batchView struct {
	Tabulator, Batch, Container string
	Ballots                     []retrievalView
	SignedBy                    []string
	Signed                      bool // by the viewing user
}

func (s *Server) renderBoard(w http.ResponseWriter, r *http.Request, rq *request, st *sqlite.AuditState, b *vigil.AuditBoard, status int, msg, errMsg string) error {
	round, list := boardList(st, b.Board)
	var batches []*batchView
	for _, l := range list {
		n := len(batches)
		if n == 0 || batches[n-1].Tabulator != l.Tabulator || batches[n-1].Batch != l.Batch {
			bv := &batchView{Tabulator: l.Tabulator, Batch: l.Batch, Container: l.Container, SignedBy: l.SignedBy}
			for _, m := range l.SignedBy {
				bv.Signed = bv.Signed || m == rq.user.Name
			}
			batches = append(batches, bv)
		}
		batches[len(batches)-1].Ballots = append(batches[len(batches)-1].Ballots, l)
	}
	open := false
	if cur := st.Current(); cur != nil && cur.Close == nil {
		open = true
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.renderPage(w, r, rq, "audit_board.html", map[string]any{"Title": "Audit board " + b.Board, "Audit": st.Settings, "Board": b,
		"Round": round, "Open": open, "Batches": batches, "BatchAudit": st.Settings.Kind == vigil.AuditBatch, "Contests": st.Reported, "CanEnter": s.canIn(rq, access.ActionAuditEnter, vigil.CountyScope(b.Jurisdiction)),
		"Message": msg, "Error": errMsg})
	return nil
}

// boardForm wraps a form handler on a board page like auditForm.
func (s *Server) boardForm(fn func(r *http.Request, rq *request, st *sqlite.AuditState, b *vigil.AuditBoard) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		st, b, err := s.loadBoard(r, rq)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return vigil.FieldError("audit", "form", "the form could not be read")
		}
		msg, err := fn(r, rq, st, b)
		if err != nil {
			if !userError(err) {
				return err
			}
			if st2, err2 := s.node.DB.Audit(r.Context(), st.Settings.ID); err2 == nil {
				st = st2
			}
			return s.renderBoard(w, r, rq, st, b, statusOf(vigil.ErrorKind(err)), "", vigil.ErrorMessage(err))
		}
		http.Redirect(w, r, "/audits/"+url.PathEscape(string(st.Settings.ID))+"/boards/"+url.PathEscape(b.Board)+"?msg="+url.QueryEscape(msg), http.StatusSeeOther)
		return nil
	}
}

// formInterpret reads a ballot's form: "not_found", and per contest C
// either "result:C" (blank, not_on_ballot, overvote) or the choices
// checked as "vote:C".
func (s *Server) formInterpret(r *http.Request, rq *request, st *sqlite.AuditState, b *vigil.AuditBoard) (string, error) {
	pos, err := strconv.Atoi(r.PostFormValue("position"))
	if err != nil {
		return "", vigil.FieldError("audit.interpret", "position", "the ballot's position is a number")
	}
	in := vigil.AuditInterpretation{Audit: st.Settings.ID, Board: b.Board,
		Ballot: vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: r.PostFormValue("tabulator"), Batch: r.PostFormValue("batch"), Position: pos}}
	if r.PostFormValue("not_found") != "" {
		in.NotFound = true
	} else {
		for _, c := range st.Reported {
			rd := vigil.AuditContestReading{Contest: c.ID, Result: r.PostFormValue("result:" + string(c.ID))}
			if rd.Result == "" {
				for _, ch := range r.PostForm["vote:"+string(c.ID)] {
					rd.Choices = append(rd.Choices, vigil.ChoiceID(ch))
				}
			}
			in.Contests = append(in.Contests, rd)
		}
	}
	return "Ballot " + in.Ballot.Key() + " recorded.", s.auditService().Interpret(r.Context(), s.actor(rq), in)
}

// formCount reads a batch's hand count of one contest: "contest",
// "ballots" and "count:CHOICE" for each of its choices.
func (s *Server) formCount(r *http.Request, rq *request, st *sqlite.AuditState, b *vigil.AuditBoard) (string, error) {
	const op = "audit.count"
	ballots, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("ballots")))
	if err != nil {
		return "", vigil.FieldError(op, "ballots", "the number of ballots holding the contest is a number")
	}
	c := vigil.AuditBatchCount{Audit: st.Settings.ID, Board: b.Board, AuditBatchTally: vigil.AuditBatchTally{Jurisdiction: b.Jurisdiction,
		Tabulator: r.PostFormValue("tabulator"), Batch: r.PostFormValue("batch"), Contest: vigil.ContestID(r.PostFormValue("contest")),
		Ballots: ballots, Votes: map[vigil.ChoiceID]int{}}}
	for _, rc := range st.Reported {
		if c.Contest != "" && rc.ID != c.Contest {
			continue
		}
		for _, ch := range rc.Choices {
			raw := strings.TrimSpace(r.PostFormValue("count:" + string(ch.ID)))
			if raw == "" {
				continue
			}
			n, err := strconv.Atoi(raw)
			if err != nil {
				return "", vigil.FieldError(op, "votes", "the votes for %s are a number", ch.Name)
			}
			c.Votes[ch.ID] = n
		}
	}
	msg := "Batch " + c.Tabulator + " / " + c.Batch + " counted."
	if c.Contest != "" {
		msg = "Batch " + c.Tabulator + " / " + c.Batch + " counted in " + string(c.Contest) + "."
	}
	return msg, s.auditService().CountBatch(r.Context(), s.actor(rq), c)
}

func (s *Server) formSignOff(r *http.Request, rq *request, st *sqlite.AuditState, b *vigil.AuditBoard) (string, error) {
	so := vigil.AuditSignOff{Audit: st.Settings.ID, Board: b.Board, Jurisdiction: b.Jurisdiction,
		Tabulator: r.PostFormValue("tabulator"), Batch: r.PostFormValue("batch"), Member: rq.user.Name}
	return "Batch " + so.Tabulator + " / " + so.Batch + " signed off by " + so.Member + ".", s.auditService().SignOff(r.Context(), s.actor(rq), so)
}
