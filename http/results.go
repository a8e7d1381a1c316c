package http

import (
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

// maxUpload bounds one upload's multipart form held in memory; the
// middleware already caps every request body at 8 MiB. Larger exports are
// imported with the CLI on the node (vigil cvrs import).
const maxUpload = 8 << 20

// Tabulation routes. Uploads and unpublished counts are for tabulation
// operators of the county (?county=); the published results are public and
// show exactly what was published, as of the checkpoint it names.
func (s *Server) registerResults() {
	county := func(r *http.Request) vigil.Scope {
		if c := r.URL.Query().Get("county"); c != "" {
			return vigil.CountyScope(c)
		}
		return ""
	}
	s.handle("POST /api/v1/tabulation/election", access.ActionTabulationImport, county, s.apiElectionUpload)
	s.handle("POST /api/v1/tabulation/cvrs", access.ActionTabulationImport, county, s.apiCVRsUpload)
	s.handle("POST /api/v1/tabulation/manifest", access.ActionTabulationImport, county, s.apiManifestUpload)
	s.handle("GET /api/v1/tabulation/tally", access.ActionTabulationRead, county, s.apiTally)
	s.handle("GET /api/v1/tabulation/reconciliation", access.ActionTabulationRead, county, s.apiReconciliation)
	s.handle("GET /tabulation", access.ActionTabulationRead, county, s.tabulationPage)
	s.handle("POST /api/v1/results/publish", access.ActionResultsPublish, county, s.apiPublish)
	s.handle("GET /api/v1/results", access.ActionResultsRead, nil, s.apiResults)
	s.handle("GET /results", access.ActionResultsRead, nil, s.resultsPage)
	s.handle("GET /results.csv", access.ActionResultsRead, nil, s.resultsDownload("csv"))
	s.handle("GET /results.xml", access.ActionResultsRead, nil, s.resultsDownload("nist"))
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

// count tallies now and names the checkpoint.
func (s *Server) count(ctx context.Context) (*tabulate.Results, error) {
	res, _, err := s.tabulation().Tally(ctx)
	if err != nil {
		return nil, err
	}
	res.Checkpoint, err = s.checkpointLine(ctx)
	return res, err
}

func (s *Server) apiTally(w http.ResponseWriter, r *http.Request, rq *request) error {
	res, err := s.count(r.Context())
	if err != nil {
		return err
	}
	return s.writeResults(w, r, res, r.URL.Query().Get("format"))
}

// writeResults writes res as json (default), csv or nist (SP 1500-100 XML),
// optionally one contest (?contest=).
func (s *Server) writeResults(w http.ResponseWriter, r *http.Request, res *tabulate.Results, format string) error {
	if c := r.URL.Query().Get("contest"); c != "" {
		if err := sqlite.FilterContest(res, vigil.ContestID(c)); err != nil {
			return err
		}
	}
	switch format {
	case "", "json":
		return writeJSON(w, http.StatusOK, res)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="results.csv"`)
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
	}
	return vigil.FieldError("results", "format", "use json, csv or nist, not %q", format)
}

func (s *Server) apiReconciliation(w http.ResponseWriter, r *http.Request, rq *request) error {
	threshold, _ := strconv.Atoi(r.URL.Query().Get("threshold"))
	lines, err := s.tabulation().Reconcile(r.Context(), r.URL.Query().Get("election"), threshold)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"threshold": threshold, "lines": lines})
}

func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request, rq *request) error {
	if r.URL.Query().Get("county") == "" {
		return vigil.FieldError("results.publish", "county", "name the county whose results you publish (?county=)")
	}
	res, err := s.count(r.Context())
	if err != nil {
		return err
	}
	if err := s.tabulation().Publish(r.Context(), s.actor(rq), res, res.Checkpoint); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"checkpoint": res.Checkpoint, "ballots": res.Ballots})
}

func (s *Server) apiResults(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := s.tabulation().Published(r.Context())
	if err != nil {
		return err
	}
	return s.writeResults(w, r, p.Results, r.URL.Query().Get("format"))
}

func (s *Server) resultsDownload(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		p, err := s.tabulation().Published(r.Context())
		if err != nil {
			return err
		}
		return s.writeResults(w, r, p.Results, format)
	}
}

func (s *Server) resultsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	d := map[string]any{"Title": "Results"}
	p, err := s.tabulation().Published(r.Context())
	switch {
	case vigil.ErrorKind(err) == vigil.NotFound:
	case err != nil:
		return err
	default:
		d["P"] = p
	}
	s.renderPage(w, r, rq, "results.html", d)
	return nil
}

func (s *Server) tabulationPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	d := map[string]any{"Title": "Tabulation"}
	res, err := s.count(r.Context())
	switch {
	case vigil.ErrorKind(err) == vigil.NotFound:
	case err != nil:
		return err
	default:
		d["R"] = res
	}
	threshold, _ := strconv.Atoi(r.URL.Query().Get("threshold"))
	lines, err := s.tabulation().Reconcile(r.Context(), r.URL.Query().Get("election"), threshold)
	if err != nil {
		return err
	}
	var flagged []sqlite.ReconcileLine
	for _, l := range lines {
		if l.Flagged {
			flagged = append(flagged, l)
		}
	}
	d["Lines"], d["Flagged"], d["Threshold"] = lines, flagged, threshold
	if p, err := s.tabulation().Published(r.Context()); err == nil {
		d["P"] = p
	}
	s.renderPage(w, r, rq, "results_tabulation.html", d)
	return nil
}
