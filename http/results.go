package http

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/paper"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

// maxUpload bounds one upload's multipart form held in memory; the
// middleware already caps every request body at 8 MiB. Larger exports are
// imported with the CLI on the node (vigil cvrs import).
const maxUpload = 8 << 20

// Tabulation routes. Uploads and unpublished counts are for tabulation
// staff of the county (?county=): a county's staff import and read that
// county only, the state's staff every county (see tabulationFor). The
// published results are public and show exactly what was published, as of
// the checkpoint it names.
func (s *Server) registerResults() {
	county := func(r *http.Request) vigil.Scope {
		if c := r.URL.Query().Get("county"); c != "" {
			return vigil.CountyScope(c)
		}
		return ""
	}
	// The election definition is the whole state's: only state staff
	// replace it.
	state := func(*http.Request) vigil.Scope { return vigil.ScopeState }
	s.handle("POST /api/v1/tabulation/election", access.ActionTabulationImport, state, s.apiElectionUpload)
	s.handle("POST /api/v1/tabulation/cvrs", access.ActionTabulationImport, county, s.apiCVRsUpload)
	s.handle("POST /api/v1/tabulation/manifest", access.ActionTabulationImport, county, s.apiManifestUpload)
	s.handle("GET /api/v1/tabulation/tally", access.ActionTabulationRead, county, s.apiTally)
	s.handle("GET /api/v1/tabulation/reconciliation", access.ActionTabulationRead, county, s.apiReconciliation)
	s.handle("GET /api/v1/tabulation/reconciliation/stream", access.ActionTabulationRead, county, s.reconciliationStream)
	s.handle("GET /tabulation", access.ActionTabulationRead, county, s.tabulationPage)
	s.handle("GET /tabulation/reconciliation", access.ActionTabulationRead, county, s.reconciliationPage)
	s.handle("POST /api/v1/results/publish", access.ActionResultsPublish, county, s.apiPublish)
	s.handle("GET /api/v1/results", access.ActionResultsRead, nil, s.apiResults)
	s.handle("GET /results", access.ActionResultsRead, nil, s.resultsPage)
	s.handle("GET /results.csv", access.ActionResultsRead, nil, s.resultsDownload("csv"))
	s.handle("GET /results.xml", access.ActionResultsRead, nil, s.resultsDownload("nist"))
	s.handle("GET /results.pdf", access.ActionResultsRead, nil, s.resultsDownload("pdf"))
}

// tabulationFor is the tabulation service limited to what the request
// reads: the county named by ?county= (which the middleware authorized), or
// else the county of the grant that allowed the action; a state grant
// reads every county. Errors: Invalid (a malformed county).
func (s *Server) tabulationFor(r *http.Request, rq *request) (*sqlite.Tabulation, error) {
	t := s.tabulation()
	if c := r.URL.Query().Get("county"); c != "" {
		if err := vigil.CountyScope(c).Validate(); err != nil {
			return nil, vigil.FieldError("tabulation", "county", "%q is not a county id", c)
		}
		return t.InCounty(c), nil
	}
	if g := rq.decision.Grant.Scope; g != vigil.ScopeState {
		c := g.County()
		if c == "" {
			return nil, vigil.Errorf(vigil.Permission, "tabulation", "your role covers no county; name one with ?county=")
		}
		return t.InCounty(c), nil
	}
	return t, nil
}

// publicTabulation is the service for published results: ?county= picks a
// county's publications; without it, the latest of any. Errors: Invalid.
func (s *Server) publicTabulation(r *http.Request) (*sqlite.Tabulation, error) {
	t := s.tabulation()
	if c := r.URL.Query().Get("county"); c != "" {
		if err := vigil.CountyScope(c).Validate(); err != nil {
			return nil, vigil.FieldError("results", "county", "%q is not a county id", c)
		}
		return t.InCounty(c), nil
	}
	return t, nil
}

func (s *Server) tabulation() *sqlite.Tabulation {
	t := sqlite.NewTabulation(s.node.DB, s.node, s.node.Now)
	t.Bulk, t.WaitApplied = s.node.Log, s.node.WaitApplied
	return t
}

// uploads reads the multipart form's "file" parts. Errors: Invalid.
func uploads(r *http.Request) ([]*multipart.FileHeader, error) {
	if r.URL.Query().Get("county") == "" {
		return nil, vigil.FieldError("tabulation.upload", "county", "name the county the files belong to (?county=)")
	}
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return nil, vigil.Errorf(vigil.Invalid, "tabulation.upload", "send the files as multipart/form-data parts named file, 8 MiB in all at most (%v)", err)
	}
	fs := r.MultipartForm.File["file"]
	if len(fs) == 0 {
		return nil, vigil.FieldError("tabulation.upload", "file", "attach at least one file")
	}
	return fs, nil
}

// openUploads opens the parts as tabulate files.
func openUploads(fs []*multipart.FileHeader) ([]tabulate.File, func(), error) {
	var files []tabulate.File
	var open []multipart.File
	done := func() {
		for _, f := range open {
			f.Close()
		}
	}
	for _, h := range fs {
		f, err := h.Open()
		if err != nil {
			done()
			return nil, nil, vigil.Wrap("tabulation.upload", vigil.Invalid, err)
		}
		open = append(open, f)
		files = append(files, tabulate.File{Name: h.Filename, Reader: f})
	}
	return files, done, nil
}

func (s *Server) apiElectionUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	fs, err := uploads(r)
	if err != nil {
		return err
	}
	files, done, err := openUploads(fs[:1])
	if err != nil {
		return err
	}
	defer done()
	e, err := s.tabulation().ImportElection(r.Context(), s.actor(rq), files[0])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"election": e})
}

func (s *Server) apiCVRsUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	format, err := tabulate.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	fs, err := uploads(r)
	if err != nil {
		return err
	}
	var names []string
	for _, h := range fs {
		names = append(names, h.Filename)
	}
	res, err := s.tabulation().ImportCVRs(r.Context(), s.actor(rq), sqlite.CVRImport{Format: format, Names: names,
		County: r.URL.Query().Get("county"), Open: func() ([]tabulate.File, func(), error) { return openUploads(fs) }})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiManifestUpload(w http.ResponseWriter, r *http.Request, rq *request) error {
	fs, err := uploads(r)
	if err != nil {
		return err
	}
	files, done, err := openUploads(fs[:1])
	if err != nil {
		return err
	}
	defer done()
	batches, rep, err := s.tabulation().ImportManifest(r.Context(), s.actor(rq), files[0], r.URL.Query().Get("county"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"batches": len(batches), "check": rep, "ok": rep.OK()})
}

// checkpointLine signs a checkpoint now and returns it as one line
// (origin, size, root).
func (s *Server) checkpointLine(ctx context.Context) (string, error) {
	b, err := s.node.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	body, _, _ := strings.Cut(string(b), "\n\n")
	return strings.Join(strings.Fields(body), " "), nil
}

// count tallies t's ballots now, grouped by dims, and names the checkpoint.
func (s *Server) count(ctx context.Context, t *sqlite.Tabulation, dims ...tabulate.Dimension) (*tabulate.Results, error) {
	res, _, err := t.Tally(ctx, dims...)
	if err != nil {
		return nil, err
	}
	res.Checkpoint, err = s.checkpointLine(ctx)
	return res, err
}

// dimensions reads ?by= (precinct, ballot_style, batch, counting_group,
// comma-separated). Errors: Invalid, naming the field by.
func dimensions(r *http.Request) ([]tabulate.Dimension, error) {
	return tabulate.ParseDimensions(r.URL.Query().Get("by"))
}

func (s *Server) apiTally(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	dims, err := dimensions(r)
	if err != nil {
		return err
	}
	res, err := s.count(r.Context(), t, dims...)
	if err != nil {
		return err
	}
	return s.writeResults(w, r, res, r.URL.Query().Get("format"), paper.ResultsStamp{County: t.County()})
}

// writeResults writes res as json (default), csv, nist (SP 1500-100 XML)
// or pdf, optionally one contest (?contest=) and grouped (?by=): the groups
// res carries are kept only for the dimensions asked for, and a dimension
// res was not counted by is an error. CSV takes one dimension at most: it
// adds that column (two, tabulator and batch, for batch) in front of
// contest,choice,votes.
func (s *Server) writeResults(w http.ResponseWriter, r *http.Request, res *tabulate.Results, format string, stamp paper.ResultsStamp) error {
	dims, err := dimensions(r)
	if err != nil {
		return err
	}
	var groups []tabulate.GroupResult
	for _, d := range dims {
		found := false
		for _, g := range res.Groups {
			if g.By == d {
				groups, found = append(groups, g), true
			}
		}
		if !found && len(res.Contests) > 0 && res.Ballots > 0 {
			return vigil.FieldError("results", "by", "these results hold no count by %s", d)
		}
	}
	res.Groups = groups
	if c := r.URL.Query().Get("contest"); c != "" {
		if err := sqlite.FilterContest(res, vigil.ContestID(c)); err != nil {
			return err
		}
	}
	switch format {
	case "", "json":
		return writeJSON(w, http.StatusOK, res)
	case "csv":
		if len(dims) > 1 {
			return vigil.FieldError("results", "by", "CSV holds one grouping at a time; ask for one of %s", r.URL.Query().Get("by"))
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="results.csv"`)
		if len(dims) == 1 {
			return res.WriteGroupsCSV(w, dims[0])
		}
		return res.WriteCSV(w)
	case "nist":
		e, err := s.tabulation().Election(r.Context())
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Disposition", `attachment; filename="results-nist-1500-100.xml"`)
		return res.WriteNISTXML(w, tabulate.NISTExport{Issuer: "vigil", IssuerAbbreviation: "vigil", Generated: s.node.Now(),
			Date: e.Date, Election: e})
	case "pdf":
		stamp.Printed = s.node.Now()
		var buf bytes.Buffer
		if err := paper.Results(&buf, res, stamp); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="results.pdf"`)
		_, err := w.Write(buf.Bytes())
		return err
	}
	return vigil.FieldError("results", "format", "use json, csv, nist or pdf, not %q", format)
}

// reconciliation reads ?threshold= and ?election= and reconciles t.
// Errors: Invalid (naming the field), Unavailable.
func reconciliation(r *http.Request, t *sqlite.Tabulation) ([]sqlite.ReconcileLine, int, error) {
	threshold := 0
	if v := r.URL.Query().Get("threshold"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, 0, vigil.FieldError("reconcile", "threshold", "must be a whole number of ballots, 0 or more, not %q", v)
		}
		threshold = n
	}
	lines, err := t.Reconcile(r.Context(), r.URL.Query().Get("election"), threshold)
	return lines, threshold, err
}

func (s *Server) apiReconciliation(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	lines, threshold, err := reconciliation(r, t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reconciliationView(t.County(), threshold, lines))
}

// publishDims are the groupings a publication carries besides the totals.
var publishDims = []tabulate.Dimension{tabulate.ByPrecinct, tabulate.ByBallotStyle}

func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	res, err := s.count(r.Context(), t, publishDims...)
	if err != nil {
		return err
	}
	if err := t.Publish(r.Context(), s.actor(rq), res, res.Checkpoint); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"county": t.County(), "checkpoint": res.Checkpoint, "ballots": res.Ballots})
}

func (s *Server) apiResults(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.resultsDownload(r.URL.Query().Get("format"))(w, r, rq)
}

func (s *Server) resultsDownload(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		t, err := s.publicTabulation(r)
		if err != nil {
			return err
		}
		p, err := t.Published(r.Context())
		if err != nil {
			return err
		}
		return s.writeResults(w, r, p.Results, format, paper.ResultsStamp{County: p.County, Published: p.Time + " by " + p.Actor})
	}
}

// resultsQuery is the page's query string for downloads: county, by and
// contest as the reader chose them.
func resultsQuery(r *http.Request, county string) string {
	q := url.Values{}
	if county != "" {
		q.Set("county", county)
	}
	for _, k := range []string{"by", "contest"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// dimensionGroups is one dimension's groups for a page.
type dimensionGroups struct {
	By     tabulate.Dimension
	Groups []tabulate.GroupResult
}

// groupsByDimension splits res.Groups by dimension, keeping dims only.
func groupsByDimension(res *tabulate.Results, dims []tabulate.Dimension) []dimensionGroups {
	var out []dimensionGroups
	for _, d := range dims {
		v := dimensionGroups{By: d}
		for _, g := range res.Groups {
			if g.By == d {
				v.Groups = append(v.Groups, g)
			}
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) resultsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.publicTabulation(r)
	if err != nil {
		return err
	}
	dims, err := dimensions(r)
	if err != nil {
		return err
	}
	ps, err := t.Publications(r.Context())
	if err != nil {
		return err
	}
	type pubView struct {
		*sqlite.Publication
		Query  string
		Groups []dimensionGroups
	}
	var views []pubView
	for _, p := range ps {
		if c := r.URL.Query().Get("contest"); c != "" {
			if err := sqlite.FilterContest(p.Results, vigil.ContestID(c)); err != nil {
				return err
			}
		}
		views = append(views, pubView{Publication: p, Query: resultsQuery(r, p.County), Groups: groupsByDimension(p.Results, dims)})
	}
	s.renderPage(w, r, rq, "results.html", map[string]any{"Title": "Results", "Publications": views,
		"By": r.URL.Query().Get("by"), "County": t.County(), "Dims": publishDims})
	return nil
}

func (s *Server) tabulationPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	t, err := s.tabulationFor(r, rq)
	if err != nil {
		return err
	}
	dims, err := dimensions(r)
	if err != nil {
		return err
	}
	d := map[string]any{"Title": "Tabulation", "County": t.County(), "By": r.URL.Query().Get("by"),
		"Query": resultsQuery(r, t.County()), "Dims": []tabulate.Dimension{tabulate.ByPrecinct, tabulate.ByBallotStyle, tabulate.ByBatch, tabulate.ByCountingGroup}}
	res, err := s.count(r.Context(), t, dims...)
	switch {
	case vigil.ErrorKind(err) == vigil.NotFound:
	case err != nil:
		return err
	default:
		if c := r.URL.Query().Get("contest"); c != "" {
			if err := sqlite.FilterContest(res, vigil.ContestID(c)); err != nil {
				return err
			}
		}
		d["R"], d["Groups"] = res, groupsByDimension(res, dims)
	}
	lines, threshold, err := reconciliation(r, t)
	if err != nil {
		return err
	}
	d["Rec"], d["Threshold"] = reconciliationView(t.County(), threshold, lines), threshold
	if p, err := t.Published(r.Context()); err == nil {
		d["P"] = p
	}
	s.renderPage(w, r, rq, "results_tabulation.html", d)
	return nil
}
