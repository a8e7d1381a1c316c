package http

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// pollbooks serves the poll worker's pages and the pollbook API. Every
// check-in is a claim in the log (see sqlite.Pollbook); these handlers only
// work out the site (the polling place the signed-in role is granted at),
// call the service and show its answer.
type pollbooks struct {
	s  *Server
	pb *sqlite.Pollbook
}

func (s *Server) registerPollbook() {
	n := s.node
	pb := sqlite.NewPollbook(n.DB, n, n.Now)
	pb.Site = n.IsSite()
	pb.CatchUp = n.CatchUp
	h := &pollbooks{s: s, pb: pb}
	site := func(r *http.Request) vigil.Scope { return vigil.Scope(r.URL.Query().Get("site")) }
	county := func(r *http.Request) vigil.Scope {
		if c := r.URL.Query().Get("county"); c != "" {
			return vigil.CountyScope(c)
		}
		return ""
	}
	// Pages.
	s.handle("GET /pollbook", access.ActionPollbookCheckIn, site, h.searchPage)
	s.handle("POST /pollbook", access.ActionPollbookCheckIn, site, h.searchPage) // a scanned licence: kept out of URLs and history
	s.handle("GET /pollbook/voters/{id}", access.ActionPollbookCheckIn, site, h.voterPage)
	s.handle("POST /pollbook/voters/{id}/checkin", access.ActionPollbookCheckIn, site, h.checkInPage)
	s.handle("POST /pollbook/voters/{id}/undo", access.ActionPollbookUndo, site, h.undoPage)
	s.handle("GET /pollbook/provisional", access.ActionProvisionalIssue, site, h.provisionalForm)
	s.handle("POST /pollbook/provisional", access.ActionProvisionalIssue, site, h.provisionalPost)
	s.handle("GET /pollbook/turnout", access.ActionTurnoutRead, county, h.turnoutPage)
	s.handle("GET /pollbook/provisionals", access.ActionPollbookAdjudicate, county, h.provisionalsPage)
	s.handle("POST /pollbook/provisionals/{envelope}/decision", access.ActionPollbookAdjudicate, county, h.decisionPage)
	// API.
	s.handle("GET /api/v1/pollbook/voters", access.ActionPollbookCheckIn, site, h.apiSearch)
	s.handle("POST /api/v1/pollbook/checkins", access.ActionPollbookCheckIn, site, h.apiCheckIn)
	s.handle("GET /api/v1/pollbook/checkins/{id}", access.ActionPollbookCheckIn, site, h.apiCheckInOf)
	s.handle("POST /api/v1/pollbook/checkins/{id}/undo", access.ActionPollbookUndo, site, h.apiUndo)
	s.handle("POST /api/v1/pollbook/provisionals", access.ActionProvisionalIssue, site, h.apiIssueProvisional)
	s.handle("GET /api/v1/pollbook/provisionals", access.ActionPollbookAdjudicate, county, h.apiProvisionals)
	s.handle("POST /api/v1/pollbook/provisionals/{envelope}/decision", access.ActionPollbookAdjudicate, county, h.apiDecision)
	s.handle("POST /api/v1/pollbook/mail-ballots", access.ActionPollbookAdjudicate, county, h.apiMailBallot)
	s.handle("GET /api/v1/pollbook/conflicts", access.ActionPollbookAdjudicate, county, h.apiConflicts)
	s.handle("POST /api/v1/pollbook/conflicts/{event}/resolve", access.ActionPollbookAdjudicate, county, h.apiResolve)
	s.handle("POST /pollbook/conflicts/{event}/resolve", access.ActionPollbookAdjudicate, county, h.resolvePage)
	s.handle("GET /api/v1/pollbook/turnout", access.ActionTurnoutRead, county, h.apiTurnout)
	s.handle("GET /api/v1/pollbook/turnout/stream", access.ActionTurnoutRead, county, h.turnoutStream)
	h.registerPaper(site)
	h.registerSameDay(site)
	h.registerHistory()
	h.registerRoster()
}

// site is the polling place the request acts for (see placeOf), once the
// requesting device is admitted there: every site-level pollbook route
// calls it first, so no voter data reaches an unenrolled, revoked or
// outdated device.
func (h *pollbooks) site(r *http.Request, rq *request) (vigil.Scope, error) {
	site, _, err := h.station(r, rq)
	return site, err
}

// station is the polling place and the admitted device of a request.
func (h *pollbooks) station(r *http.Request, rq *request) (vigil.Scope, vigil.PollbookDevice, error) {
	site, err := h.placeOf(r, rq)
	if err != nil {
		return "", vigil.PollbookDevice{}, err
	}
	dev, err := h.s.admitDevice(r, rq, site)
	return site, dev, err
}

// placeOf is the place scope named by ?site= (already authorized by the
// matrix), or else the place scope of the grant that allowed the action.
func (h *pollbooks) placeOf(r *http.Request, rq *request) (vigil.Scope, error) {
	sc := vigil.Scope(r.URL.Query().Get("site"))
	if sc == "" {
		sc = rq.decision.Grant.Scope
	}
	if sc.Validate() != nil || sc.Kind() != "place" {
		return "", &vigil.Error{Op: "pollbook.site", Kind: vigil.Invalid, Field: "site",
			Message: "a pollbook works at one polling place: your role covers " + string(rq.decision.Grant.Scope) +
				"; add ?site=county/ID/place/ID or ask for a grant at a polling place"}
	}
	return sc, nil
}

// county is the county a county-level request reads: ?county=, or the
// county of the grant that allowed it, or the only county defined.
func (h *pollbooks) county(ctx context.Context, r *http.Request, rq *request) (string, error) {
	if c := r.URL.Query().Get("county"); c != "" {
		return c, nil
	}
	if c := rq.decision.Grant.Scope.County(); c != "" {
		return c, nil
	}
	var c string
	err := h.s.node.DB.QueryRowContext(ctx, `SELECT id FROM counties ORDER BY id LIMIT 1`).Scan(&c)
	if err != nil {
		return "", vigil.FieldError("pollbook.county", "county", "name the county: ?county=ID")
	}
	return c, nil
}

// Hit is one search result as a poll worker sees it: no full birth date,
// no identifiers, where the voter votes and whether they checked in.
type Hit struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Address     string               `json:"address"`
	BirthYear   int                  `json:"birth_year"`
	Status      string               `json:"status"`
	Precinct    string               `json:"precinct"`
	Place       string               `json:"place"`
	PlaceName   string               `json:"place_name"`
	BallotStyle string               `json:"ballot_style"`
	Here        bool                 `json:"here"` // votes at the searching site
	CheckedIn   *vigil.CheckInRecord `json:"checked_in,omitempty"`
}

// search finds voters in the site's county: a typed name (typos
// tolerated), a date of birth, a voter ID, or the text of a scanned
// licence, which is read and turned into a name and birth date search.
func (h *pollbooks) search(ctx context.Context, site vigil.Scope, q string) (string, []Hit, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", nil, nil
	}
	shown := q
	if pollbook.LooksLikeAAMVA(q) {
		lic, err := pollbook.ParseAAMVA(q)
		if err != nil {
			return "", nil, err
		}
		q = lic.Query()
		shown = "scanned licence: " + q
	} else if len(q) > 100 {
		return "", nil, vigil.FieldError("pollbook.search", "q", "is longer than 100 characters")
	}
	county, place, _ := pollbook.SitePlace(site)
	results, err := h.s.node.DB.SearchVoters(ctx, q, []vigil.Scope{vigil.CountyScope(county)}, 25)
	if err != nil {
		return shown, nil, err
	}
	precincts, err := h.precincts(ctx, county)
	if err != nil {
		return shown, nil, err
	}
	hits := make([]Hit, 0, len(results))
	for _, res := range results {
		v := res.Voter.Voter
		hit := Hit{ID: string(v.ID), Name: v.Name.Full(), Address: v.Residence.String(), BirthYear: v.BirthDate.Year,
			Status: string(v.Status.Code), Precinct: v.Precinct}
		if res.Voter.MergedInto != "" {
			hit.Status = string(vigil.StatusCancelled)
		}
		if pr, ok := precincts[v.Precinct]; ok {
			hit.Place, hit.PlaceName, hit.BallotStyle = pr.place, pr.placeName, pr.style
			hit.Here = pr.place == place
		}
		if hit.CheckedIn, err = h.pb.CheckInOf(ctx, v.ID); err != nil {
			return shown, nil, err
		}
		hits = append(hits, hit)
	}
	return shown, hits, nil
}

type precinctInfo struct{ place, placeName, style string }

func (h *pollbooks) precincts(ctx context.Context, county string) (map[string]precinctInfo, error) {
	rows, err := h.s.node.DB.QueryContext(ctx, `SELECT pr.id, pr.place, COALESCE(pl.name, ''), pr.ballot_style
		FROM precincts pr LEFT JOIN places pl ON pl.id = pr.place WHERE pr.county = ?`, county)
	if err != nil {
		return nil, vigil.Wrap("pollbook.precincts", vigil.Unavailable, err)
	}
	defer rows.Close()
	out := map[string]precinctInfo{}
	for rows.Next() {
		var id string
		var p precinctInfo
		if err := rows.Scan(&id, &p.place, &p.placeName, &p.style); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

func (h *pollbooks) actor(rq *request, site vigil.Scope) vigil.Actor {
	a := h.s.actor(rq)
	if site != "" {
		a.Scope = site
	}
	return a
}

// refusalOf returns the refusal inside a check-in error, if any.
func refusalOf(err error) *vigil.CheckInRefusal {
	var ref *vigil.CheckInRefusal
	if errors.As(err, &ref) {
		return ref
	}
	return nil
}

// --- API ---

func (h *pollbooks) apiSearch(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	shown, hits, err := h.search(r.Context(), site, r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"query": shown, "site": site, "voters": hits})
}

// apiCheckIn answers 201 with the check-in, or the refusal's status with
// {"error": …, "refusal": {reason, message, prior: {actor, place, time …}}}.
func (h *pollbooks) apiCheckIn(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, dev, err := h.station(r, rq)
	if err != nil {
		return err
	}
	var body struct {
		Voter      string    `json:"voter"`
		Identity   string    `json:"identity"`
		DeviceTime time.Time `json:"device_time"` // the device's clock (the device itself is its key)
		Expect     *uint64   `json:"expect_seq"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	rec, err := h.pb.CheckIn(r.Context(), h.actor(rq, site), vigil.CheckInRequest{Voter: vigil.VoterID(body.Voter),
		Site: site, Identity: body.Identity, Device: dev.ID, DeviceTime: body.DeviceTime, Expect: body.Expect})
	if ref := refusalOf(err); ref != nil {
		return writeJSON(w, statusOf(ref.Kind()), map[string]any{
			"error":   map[string]any{"kind": ref.Kind().String(), "message": ref.Message},
			"refusal": ref})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"checkin": rec})
}

func (h *pollbooks) apiCheckInOf(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	if _, err := h.hit(r, site, vigil.VoterID(r.PathValue("id"))); err != nil {
		return err // not a voter of the site's county
	}
	rec, err := h.pb.CheckInOf(r.Context(), vigil.VoterID(r.PathValue("id")))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"checkin": rec})
}

func (h *pollbooks) apiUndo(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.pb.Undo(r.Context(), h.actor(rq, site), site, vigil.VoterID(r.PathValue("id")), body.Reason); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"undone": r.PathValue("id")})
}

func (h *pollbooks) apiIssueProvisional(w http.ResponseWriter, r *http.Request, rq *request) error {
	site, err := h.site(r, rq)
	if err != nil {
		return err
	}
	var b vigil.ProvisionalBallot
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if err := h.issue(r.Context(), rq, site, &b); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"provisional": b})
}

// issue fills the site's county, place and the open election, then issues.
func (h *pollbooks) issue(ctx context.Context, rq *request, site vigil.Scope, b *vigil.ProvisionalBallot) error {
	county, place, _ := pollbook.SitePlace(site)
	b.County, b.Place = county, place
	b.Envelope = strings.ToUpper(strings.TrimSpace(b.Envelope))
	open, _, err := h.pb.OpenElection(ctx)
	if err != nil {
		return err
	}
	if open == nil {
		return vigil.Errorf(vigil.Conflict, "provisional.issue", "voting is not open now; provisional ballots are issued during the voting period")
	}
	b.Election = open.ID
	return h.pb.IssueProvisional(ctx, h.actor(rq, site), *b)
}

func (h *pollbooks) apiProvisionals(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	list, err := h.pb.Provisionals(r.Context(), county, r.URL.Query().Get("status"), 500)
	if err != nil {
		return err
	}
	if list == nil {
		list = []sqlite.ProvisionalRow{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"county": county, "provisionals": list})
}

func (h *pollbooks) apiDecision(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	var body struct {
		Accepted bool   `json:"accepted"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	d := vigil.ProvisionalDecision{Envelope: r.PathValue("envelope"), County: county, Accepted: body.Accepted, Reason: body.Reason}
	if err := h.pb.Adjudicate(r.Context(), h.actor(rq, ""), d); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"decision": d})
}

func (h *pollbooks) apiMailBallot(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	var body struct {
		Voter string `json:"voter"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	rec, err := h.pb.RecordMailBallot(r.Context(), h.actor(rq, ""), county, vigil.VoterID(body.Voter))
	if ref := refusalOf(err); ref != nil {
		return writeJSON(w, statusOf(ref.Kind()), map[string]any{
			"error": map[string]any{"kind": ref.Kind().String(), "message": ref.Message}, "refusal": ref})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"checkin": rec})
}

func (h *pollbooks) turnout(ctx context.Context, county string) (sqlite.Turnout, *vigil.ElectionDay, error) {
	open, next, err := h.pb.OpenElection(ctx)
	if err != nil {
		return sqlite.Turnout{}, nil, err
	}
	e := open
	if e == nil {
		e = next
	}
	if e == nil {
		return sqlite.Turnout{}, nil, nil
	}
	t, err := h.pb.Turnout(ctx, e.ID, county, h.s.node.Now())
	return t, e, err
}

func (h *pollbooks) apiTurnout(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	t, _, err := h.turnout(r.Context(), county)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (h *pollbooks) apiConflicts(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	list, err := h.pb.Conflicts(r.Context(), county, r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []sqlite.ConflictRow{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"county": county, "conflicts": list})
}

func (h *pollbooks) apiResolve(w http.ResponseWriter, r *http.Request, rq *request) error {
	county, err := h.county(r.Context(), r, rq)
	if err != nil {
		return err
	}
	var body struct {
		Outcome string `json:"outcome"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.pb.ResolveConflict(r.Context(), h.actor(rq, ""), county, r.PathValue("event"), body.Outcome); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"resolved": r.PathValue("event")})
}
