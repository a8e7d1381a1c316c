package http

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/sqlite"
)

// Risk-limiting audits: the JSON API here, the pages and the live seed
// ceremony in audits_pages.go. Every route re-checks its action in the
// audit's scope (its county, or the state for several); board routes
// also check that a board member acts for their own board only.

func (s *Server) registerAudits() {
	s.handle("GET /api/v1/audits", access.ActionAuditRead, nil, s.apiAudits)
	s.handle("POST /api/v1/audits", access.ActionAuditManage, nil, s.apiAuditCreate)
	s.handle("GET /api/v1/audits/{id}", access.ActionAuditRead, nil, s.apiAudit)
	s.handle("GET /api/v1/audits/{id}/sample", access.ActionAuditReport, nil, s.apiAuditSample)
	s.handle("POST /api/v1/audits/{id}/seed", access.ActionAuditManage, nil, s.apiAuditSeed)
	s.handle("POST /api/v1/audits/{id}/seed/finish", access.ActionAuditManage, nil, s.apiAuditSeedFinish)
	s.handle("POST /api/v1/audits/{id}/boards", access.ActionAuditManage, nil, s.apiAuditBoard)
	s.handle("POST /api/v1/audits/{id}/rounds", access.ActionAuditManage, nil, s.apiAuditDraw)
	s.handle("POST /api/v1/audits/{id}/rounds/close", access.ActionAuditManage, nil, s.apiAuditClose)
	s.handle("POST /api/v1/audits/{id}/hand-counts", access.ActionAuditManage, nil, s.apiAuditHandCount)
	s.handle("GET /api/v1/audits/{id}/boards/{board}/retrieval", access.ActionAuditRetrieval, nil, s.apiAuditRetrieval)
	s.handle("POST /api/v1/audits/{id}/boards/{board}/interpretations", access.ActionAuditEnter, nil, s.apiAuditInterpret)
	s.handle("POST /api/v1/audits/{id}/boards/{board}/counts", access.ActionAuditEnter, nil, s.apiAuditCount)
	s.handle("POST /api/v1/audits/{id}/boards/{board}/signoff", access.ActionAuditEnter, nil, s.apiAuditSignOff)
	s.handle("GET /api/v1/audits/{id}/report.csv", access.ActionAuditReport, nil, s.auditReport("csv"))
	s.handle("GET /api/v1/audits/{id}/report.pdf", access.ActionAuditReport, nil, s.auditReport("pdf"))
	s.handle("GET /api/v1/audits/{id}/bundle.zip", access.ActionAuditReport, nil, s.auditBundle)
	s.registerAuditPages()
}

func (s *Server) auditService() *sqlite.AuditService {
	return sqlite.NewAuditService(s.node.DB, s.node, s.node.Now)
}

// readScopes are the scopes in which reading an audit is authorized: its
// own, and each of its jurisdictions' (an observer or admin of one county
// follows a statewide audit that includes it).
func readScopes(set vigil.AuditSettings) []vigil.Scope {
	out := []vigil.Scope{set.Scope()}
	if len(set.Jurisdictions) > 1 {
		for _, j := range set.Jurisdictions {
			out = append(out, vigil.CountyScope(j))
		}
	}
	return out
}

// authorizeIn authorizes the route's action in the first of scopes that
// allows it; a refusal is logged once, with the audit's own scope's reason.
func (s *Server) authorizeIn(r *http.Request, rq *request, scopes []vigil.Scope) error {
	first := access.Decision{}
	for i, sc := range scopes {
		d := access.Authorize(rq.user.Grants, rq.action, sc, s.node.Now())
		if d.Allowed {
			rq.decision = d
			return nil
		}
		if i == 0 {
			first = d
		}
	}
	s.deny(r.Context(), r, rq, first.Reason)
	return &vigil.Error{Op: "http", Kind: vigil.Permission, Message: "you may not do this: " + first.Reason}
}

// loadAudit reads the audit named in the path and authorizes the route's
// action: changes in the audit's scope (its county, or the state for
// several), reads also in any of its jurisdictions. Errors: NotFound,
// Permission.
func (s *Server) loadAudit(r *http.Request, rq *request) (*sqlite.AuditState, error) {
	st, err := s.node.DB.Audit(r.Context(), vigil.AuditID(r.PathValue("id")))
	if err != nil {
		return nil, err
	}
	scopes := []vigil.Scope{st.Scope}
	if !access.Matrix[rq.action].Write {
		scopes = readScopes(st.Settings)
	}
	if err := s.authorizeIn(r, rq, scopes); err != nil {
		return nil, err
	}
	return st, nil
}

// loadBoard reads the audit and the board named in the path, authorizing
// the action in the board's jurisdiction. A user who acts as an audit
// board member reaches only a board they sit on. Errors: NotFound,
// Permission.
func (s *Server) loadBoard(r *http.Request, rq *request) (*sqlite.AuditState, *vigil.AuditBoard, error) {
	st, err := s.node.DB.Audit(r.Context(), vigil.AuditID(r.PathValue("id")))
	if err != nil {
		return nil, nil, err
	}
	b := st.Board(r.PathValue("board"))
	if b == nil {
		// Authorize first, so that a refused user learns nothing of the boards.
		if err := s.authorizeIn(r, rq, []vigil.Scope{st.Scope}); err != nil {
			return nil, nil, err
		}
		return nil, nil, vigil.Errorf(vigil.NotFound, "audit.board", "audit %s has no board %q", st.Settings.ID, r.PathValue("board"))
	}
	if err := s.authorizeIn(r, rq, []vigil.Scope{vigil.CountyScope(b.Jurisdiction)}); err != nil {
		return nil, nil, err
	}
	if rq.decision.Grant.Role == vigil.RoleAuditBoard && b.Members[0] != rq.user.Name && b.Members[1] != rq.user.Name {
		reason := "you are not a member of board " + b.Board
		s.deny(r.Context(), r, rq, reason)
		return nil, nil, &vigil.Error{Op: "audit.board", Kind: vigil.Permission, Message: "you may not do this: " + reason}
	}
	return st, b, nil
}

// visibleAudits lists the audits whose scope the user may read.
func (s *Server) visibleAudits(ctx context.Context, rq *request) ([]sqlite.AuditSummary, error) {
	all, err := s.node.DB.Audits(ctx)
	if err != nil {
		return nil, err
	}
	out := []sqlite.AuditSummary{}
	for _, a := range all {
		for _, sc := range readScopes(a.Settings) {
			if access.Authorize(rq.user.Grants, access.ActionAuditRead, sc, s.node.Now()).Allowed {
				out = append(out, a)
				break
			}
		}
	}
	return out, nil
}

func (s *Server) apiAudits(w http.ResponseWriter, r *http.Request, rq *request) error {
	list, err := s.visibleAudits(r.Context(), rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"audits": list})
}

// createAudit validates, authorizes in the audit's scope and creates.
func (s *Server) createAudit(r *http.Request, rq *request, set vigil.AuditSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := s.authorizeTarget(r.Context(), r, rq, set.Scope()); err != nil {
		return err
	}
	return s.auditService().Create(r.Context(), s.actor(rq), set)
}

func (s *Server) apiAuditCreate(w http.ResponseWriter, r *http.Request, rq *request) error {
	var set vigil.AuditSettings
	if err := decodeJSON(r, &set); err != nil {
		return err
	}
	if err := s.createAudit(r, rq, set); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"audit": set})
}

// auditView is what every reader of an audit may see: no draws, no
// ballots, no retrieval lists.
type auditView struct {
	Settings vigil.AuditSettings          `json:"settings"`
	Status   string                       `json:"status"`
	Digits   []sqlite.SeedDigit           `json:"seed_digits"`
	Seed     string                       `json:"seed"`
	Boards   []boardView                  `json:"boards"`
	Rounds   []roundView                  `json:"rounds"`
	Reported []vigil.AuditReportedContest `json:"reported,omitempty"`
	// Outcomes says where each contest stands: confirmed by the audit, a
	// full hand count pending, or the hand count's outcome.
	Outcomes   []auditflow.ContestOutcome `json:"outcomes"`
	HandCounts []vigil.AuditHandCount     `json:"hand_counts,omitempty"`
}

type boardView struct {
	Board        string   `json:"board"`
	Jurisdiction string   `json:"jurisdiction"`
	Members      []string `json:"members"`
}

type roundView struct {
	Round int                    `json:"round"`
	Size  int                    `json:"size"`
	Draws int                    `json:"draws"`
	Read  int                    `json:"read"`
	Close *vigil.AuditRoundClose `json:"close,omitempty"`
	// CVRSize and NoCVRSize split the round between the strata (hybrid).
	CVRSize   int `json:"cvr_size,omitempty"`
	NoCVRSize int `json:"no_cvr_size,omitempty"`
}

func newAuditView(st *sqlite.AuditState) auditView {
	v := auditView{Settings: st.Settings, Status: st.Status, Digits: st.Digits, Seed: st.Seed, Reported: st.Reported,
		Boards: []boardView{}, Rounds: []roundView{}, Outcomes: auditflow.Outcomes(&st.Record), HandCounts: st.HandCounts}
	if v.Digits == nil {
		v.Digits = []sqlite.SeedDigit{}
	}
	for _, b := range st.Boards {
		v.Boards = append(v.Boards, boardView{b.Board, b.Jurisdiction, b.Members})
	}
	for _, rd := range st.Rounds {
		read := 0
		for _, d := range rd.Draws {
			if _, ok := st.Reading(rd.Round, d.Key()); ok {
				read++
			}
		}
		v.Rounds = append(v.Rounds, roundView{rd.Round, rd.Size, len(rd.Draws), read, rd.Close, rd.CVRSize, rd.NoCVRSize})
	}
	return v
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"audit": newAuditView(st)})
}

func (s *Server) apiAuditSample(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	type round struct {
		Round int               `json:"round"`
		Draws []vigil.AuditDraw `json:"draws"`
	}
	out := []round{}
	for _, rd := range st.Rounds {
		out = append(out, round{rd.Round, rd.Draws})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"seed": st.Seed, "rounds": out})
}

func (s *Server) apiAuditSeed(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req struct {
		Digit *int `json:"digit"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	if req.Digit == nil {
		return vigil.FieldError("audit.seed", "digit", "send the digit the die shows, 0 to 9")
	}
	i, err := s.auditService().SeedDigit(r.Context(), s.actor(rq), st.Settings.ID, *req.Digit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"index": i, "digit": *req.Digit})
}

func (s *Server) apiAuditSeedFinish(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	seed, err := s.auditService().FinishSeed(r.Context(), s.actor(rq), st.Settings.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"seed": seed})
}

func (s *Server) apiAuditBoard(w http.ResponseWriter, r *http.Request, rq *request) error {
	var b vigil.AuditBoard
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	b.Audit = st.Settings.ID
	if err := s.auditService().CreateBoard(r.Context(), s.actor(rq), b); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"board": b})
}

func (s *Server) apiAuditDraw(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req struct {
		Size int `json:"size"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	rd, err := s.auditService().StartRound(r.Context(), s.actor(rq), st.Settings.ID, req.Size)
	if err != nil {
		return err
	}
	out := map[string]any{"round": rd.Round, "size": rd.Size, "draws": len(rd.Draws)}
	if st.Settings.Kind == vigil.AuditHybrid {
		out["cvr_size"], out["no_cvr_size"] = rd.CVRSize, rd.NoCVRSize
	}
	return writeJSON(w, http.StatusCreated, out)
}

// apiAuditHandCount records one contest's full hand count, once the audit
// has escalated to a full hand count; the answer carries its outcome.
func (s *Server) apiAuditHandCount(w http.ResponseWriter, r *http.Request, rq *request) error {
	var hc vigil.AuditHandCount
	if err := decodeJSON(r, &hc); err != nil {
		return err
	}
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	hc.Audit, hc.Winners, hc.Outcome = st.Settings.ID, nil, ""
	got, err := s.auditService().RecordHandCount(r.Context(), s.actor(rq), hc)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"hand_count": got})
}

func (s *Server) apiAuditClose(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	res, err := s.auditService().CloseRound(r.Context(), s.actor(rq), st.Settings.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"close": res})
}

// retrievalView is one ballot of a board's list, as the board sees it:
// where it is, its tickets and whether it is read — never its CVR.
type retrievalView struct {
	vigil.AuditBallot
	Container string   `json:"container,omitempty"`
	Tickets   []string `json:"tickets"`
	Read      bool     `json:"read"`
	SignedBy  []string `json:"signed_by"`
}

func boardList(st *sqlite.AuditState, board string) (int, []retrievalView) {
	cur := st.Current()
	if cur == nil {
		return 0, []retrievalView{}
	}
	out := []retrievalView{}
	for _, l := range auditflow.Retrieval(cur.Draws, board) {
		_, read := st.Reading(cur.Round, l.Key())
		if st.Settings.Kind == vigil.AuditBatch {
			read = st.BatchCounted(cur.Round, l.BatchKey())
		}
		signed := st.SignOffs[cur.Round][board][l.BatchKey()]
		if signed == nil {
			signed = []string{}
		}
		out = append(out, retrievalView{AuditBallot: l.AuditBallot, Container: l.Container, Tickets: l.Tickets, Read: read, SignedBy: signed})
	}
	return cur.Round, out
}

func (s *Server) apiAuditRetrieval(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, b, err := s.loadBoard(r, rq)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		cur := st.Current()
		if cur == nil {
			return vigil.Errorf(vigil.Conflict, "audit.retrieval", "nothing is drawn yet")
		}
		var buf bytes.Buffer
		if err := auditflow.WriteRetrievalCSV(&buf, b.Board, auditflow.Retrieval(cur.Draws, b.Board)); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="retrieval-`+string(st.Settings.ID)+"-"+b.Board+`.csv"`)
		_, err := w.Write(buf.Bytes())
		return err
	}
	round, list := boardList(st, b.Board)
	return writeJSON(w, http.StatusOK, map[string]any{"board": b.Board, "jurisdiction": b.Jurisdiction, "round": round, "ballots": list})
}

func (s *Server) apiAuditInterpret(w http.ResponseWriter, r *http.Request, rq *request) error {
	var in vigil.AuditInterpretation
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	st, b, err := s.loadBoard(r, rq)
	if err != nil {
		return err
	}
	in.Audit, in.Board = st.Settings.ID, b.Board
	if in.Ballot.Jurisdiction == "" {
		in.Ballot.Jurisdiction = b.Jurisdiction
	}
	if err := s.auditService().Interpret(r.Context(), s.actor(rq), in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"interpretation": in})
}

func (s *Server) apiAuditCount(w http.ResponseWriter, r *http.Request, rq *request) error {
	var c vigil.AuditBatchCount
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	st, b, err := s.loadBoard(r, rq)
	if err != nil {
		return err
	}
	c.Audit, c.Board, c.Jurisdiction = st.Settings.ID, b.Board, b.Jurisdiction
	if err := s.auditService().CountBatch(r.Context(), s.actor(rq), c); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"count": c})
}

func (s *Server) apiAuditSignOff(w http.ResponseWriter, r *http.Request, rq *request) error {
	var so vigil.AuditSignOff
	if err := decodeJSON(r, &so); err != nil {
		return err
	}
	st, b, err := s.loadBoard(r, rq)
	if err != nil {
		return err
	}
	so.Audit, so.Board, so.Jurisdiction, so.Member = st.Settings.ID, b.Board, b.Jurisdiction, rq.user.Name
	if err := s.auditService().SignOff(r.Context(), s.actor(rq), so); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"signoff": so})
}

func (s *Server) auditReport(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		st, err := s.loadAudit(r, rq)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		name := "audit-report-" + string(st.Settings.ID)
		if format == "csv" {
			err = auditflow.WriteReportCSV(&buf, &st.Record)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			name += ".csv"
		} else {
			err = auditflow.WriteReportPDF(&buf, &st.Record, s.node.Now(), s.node.Applied())
			w.Header().Set("Content-Type", "application/pdf")
			name += ".pdf"
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
		_, err = w.Write(buf.Bytes())
		return err
	}
}

func (s *Server) auditBundle(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.loadAudit(r, rq)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := auditflow.WriteBundle(&buf, &st.Record); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-bundle-`+string(st.Settings.ID)+`.zip"`)
	_, err = w.Write(buf.Bytes())
	return err
}
