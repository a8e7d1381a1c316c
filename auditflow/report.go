package auditflow

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/vigil-elections/vigil"
)

// reportSections are the audit report's parts, in order; the CSV and the
// PDF show the same rows.
type reportSection struct {
	Title  string
	Header []string
	Rows   [][]string
}

func reportSections(r *Record) []reportSection {
	var out []reportSection
	contests := make([]string, len(r.Settings.Contests))
	for i, c := range r.Settings.Contests {
		contests[i] = string(c.ID)
		if c.Targeted {
			contests[i] += " (targeted)"
		} else {
			contests[i] += " (opportunistic)"
		}
	}
	status := "not started"
	if n := len(r.Rounds); n > 0 {
		status = fmt.Sprintf("round %d open", n)
		if c := r.Rounds[n-1].Close; c != nil {
			status = c.Status
		}
	}
	out = append(out, reportSection{"Audit settings", []string{"setting", "value"}, [][]string{
		{"audit", string(r.Settings.ID)}, {"name", r.Settings.Name}, {"kind", string(r.Settings.Kind)},
		{"risk limit", strconv.Itoa(r.Settings.RiskLimit) + "%"}, {"contests", strings.Join(contests, "; ")},
		{"jurisdictions", strings.Join(r.Settings.Jurisdictions, "; ")}, {"random seed", r.Seed},
		{"ballots in manifest", strconv.Itoa(r.TotalBallots())}, {"status", status},
	}})
	if r.Settings.Kind == vigil.AuditHybrid {
		cb, nb := StratumBallots(r.Manifest)
		out[len(out)-1].Rows = append(out[len(out)-1].Rows, []string{"ballots with CVRs (comparison stratum)", strconv.Itoa(cb)},
			[]string{"ballots without CVRs (polling stratum)", strconv.Itoa(nb)})
	}
	var boards [][]string
	for _, b := range r.Boards {
		boards = append(boards, []string{b.Board, b.Jurisdiction, strings.Join(b.Members, "; ")})
	}
	out = append(out, reportSection{"Audit boards", []string{"board", "jurisdiction", "members"}, boards})
	var reported [][]string
	for _, c := range r.Reported {
		for _, ch := range c.Choices {
			reported = append(reported, []string{string(c.ID), strconv.FormatBool(c.Targeted), strconv.Itoa(c.Winners), strconv.Itoa(c.Ballots), string(ch.ID), strconv.Itoa(ch.Votes)})
		}
	}
	out = append(out, reportSection{"Reported results", []string{"contest", "targeted", "winners", "ballots", "choice", "votes"}, reported})
	if r.Settings.Kind == vigil.AuditHybrid {
		var strata [][]string
		for _, c := range r.Reported {
			for _, s := range []struct {
				name string
				t    *vigil.AuditStratumTally
			}{{"with CVRs", c.CVR}, {"without CVRs", c.NoCVR}} {
				if s.t == nil {
					continue
				}
				for _, ch := range c.Choices {
					strata = append(strata, []string{string(c.ID), s.name, strconv.Itoa(s.t.Ballots), string(ch.ID), strconv.Itoa(s.t.Votes[ch.ID])})
				}
			}
		}
		out = append(out, reportSection{"Reported results by stratum", []string{"contest", "stratum", "ballots", "choice", "votes"}, strata})
	}
	var rounds, risks [][]string
	for _, rd := range r.Rounds {
		st, next := "open", ""
		if rd.Close != nil {
			st = rd.Close.Status
			if rd.Close.NextSize > 0 {
				next = strconv.Itoa(rd.Close.NextSize)
				if r.Settings.Kind == vigil.AuditHybrid {
					next += fmt.Sprintf(" (with CVRs %d, without %d)", rd.Close.NextCVR, rd.Close.NextNoCVR)
				}
			}
			for _, c := range rd.Close.Results {
				risks = append(risks, []string{strconv.Itoa(rd.Round), string(c.Contest), strconv.FormatFloat(c.Risk, 'g', 6, 64),
					strconv.FormatBool(c.Confirmed), strconv.Itoa(c.O1), strconv.Itoa(c.O2), strconv.Itoa(c.U1), strconv.Itoa(c.U2), votesText(c.Votes)})
			}
		}
		size := strconv.Itoa(rd.Size)
		if r.Settings.Kind == vigil.AuditHybrid {
			size += fmt.Sprintf(" (with CVRs %d, without %d)", rd.CVRSize, rd.NoCVRSize)
		}
		rounds = append(rounds, []string{strconv.Itoa(rd.Round), size, strconv.Itoa(len(rd.Draws)), st, next})
	}
	out = append(out, reportSection{"Rounds", []string{"round", "size", "draws", "status", "next round size"}, rounds})
	out = append(out, reportSection{"Risk measures", []string{"round", "contest", "risk", "confirmed", "o1", "o2", "u1", "u2", "votes found"}, risks})
	var outcomes, counts [][]string
	for _, o := range Outcomes(r) {
		outcomes = append(outcomes, []string{string(o.Contest), idsText(o.Reported), o.Status, idsText(o.Winners)})
	}
	out = append(out, reportSection{"Contest outcomes", []string{"contest", "reported winners", "outcome", "hand count winners"}, outcomes})
	for _, hc := range r.HandCounts {
		for _, c := range r.Reported {
			if c.ID != hc.Contest {
				continue
			}
			for _, ch := range c.Choices {
				counts = append(counts, []string{string(hc.Contest), strconv.Itoa(hc.Ballots), string(ch.ID), strconv.Itoa(ch.Votes), strconv.Itoa(hc.Votes[ch.ID]), hc.Outcome})
			}
		}
	}
	if len(counts) > 0 {
		out = append(out, reportSection{"Full hand counts", []string{"contest", "ballots counted", "choice", "reported votes", "hand count votes", "outcome"}, counts})
	}
	if r.Settings.Kind == vigil.AuditBatch {
		rep := map[string]vigil.AuditBatchTally{}
		for _, b := range r.Batches {
			rep[CountKey(b.BatchKey(), TallyContest(r.Reported, b))] = b
		}
		var rows [][]string
		for _, rd := range r.Rounds {
			for _, d := range rd.Draws {
				for _, c := range r.Reported {
					counted := "(not counted)"
					if cnt, ok := r.Count(rd.Round, d.BatchKey(), c.ID); ok {
						counted = batchText(cnt.AuditBatchTally, c)
					}
					rows = append(rows, []string{strconv.Itoa(rd.Round), d.Ticket, d.BatchKey(), d.Board, string(c.ID), batchText(rep[CountKey(d.BatchKey(), c.ID)], c), counted})
				}
			}
		}
		return append(out, reportSection{"Sampled batches", []string{"round", "ticket", "batch", "board", "contest", "reported", "counted"}, rows})
	}
	var sample, disc [][]string
	noCVR := noCVRBatches(r.Manifest)
	for _, rd := range r.Rounds {
		for _, d := range rd.Draws {
			in, ok := r.Reading(rd.Round, d.Key())
			var reading []string
			for _, c := range r.Reported {
				txt := "(not read)"
				if ok {
					txt = FormatReading(in, c.ID)
				}
				reading = append(reading, string(c.ID)+": "+txt)
				if ok && (r.Settings.Kind == vigil.AuditComparison || (r.Settings.Kind == vigil.AuditHybrid && !noCVR[d.BatchKey()])) {
					cvr, has := rd.CVRs[d.Key()]
					if got, want := FormatReading(in, c.ID), joinChoices(cvr[c.ID]); !has || (got != want && !(want == "" && (got == vigil.AuditBlank || got == vigil.AuditNotOnBallot))) {
						rep := "no CVR"
						if has {
							rep = want
						}
						disc = append(disc, []string{strconv.Itoa(rd.Round), d.Ticket, d.Key(), string(c.ID), rep, got})
					}
				}
			}
			sample = append(sample, []string{strconv.Itoa(rd.Round), d.Ticket, d.Key(), d.Container, d.Board, strings.Join(reading, "; ")})
		}
	}
	out = append(out, reportSection{"Sampled ballots", []string{"round", "ticket", "ballot", "container", "board", "reading"}, sample})
	if r.Settings.Kind == vigil.AuditComparison || r.Settings.Kind == vigil.AuditHybrid {
		out = append(out, reportSection{"Discrepancies", []string{"round", "ticket", "ballot", "contest", "cvr", "audited"}, disc})
	}
	return out
}

func idsText(ids []vigil.ChoiceID) string {
	s := make([]string, len(ids))
	for i, x := range ids {
		s[i] = string(x)
	}
	return strings.Join(s, "; ")
}

func votesText(v map[vigil.ChoiceID]int) string {
	var s []string
	for ch, n := range v {
		s = append(s, fmt.Sprintf("%s=%d", ch, n))
	}
	sort.Strings(s)
	return strings.Join(s, "; ")
}

// WriteReportCSV writes the audit report as CSV: each section starts with
// a row "# TITLE", then its header and rows, then an empty line.
func WriteReportCSV(w io.Writer, r *Record) error {
	cw := csv.NewWriter(w)
	for _, s := range reportSections(r) {
		cw.Write([]string{"# " + strings.ToUpper(s.Title)})
		cw.Write(s.Header)
		for _, row := range s.Rows {
			cw.Write(row)
		}
		cw.Write(nil)
	}
	cw.Flush()
	return cw.Error()
}

// WriteReportPDF writes the audit report as a PDF, every page naming the
// audit, when it was printed and the log entry it was read at.
func WriteReportPDF(w io.Writer, r *Record, printed time.Time, entry uint64) error {
	p := fpdf.New("L", "mm", "Letter", "")
	p.SetMargins(10, 10, 10)
	p.SetAutoPageBreak(true, 14)
	p.AliasNbPages("{nb}")
	p.SetCreator("vigil", true)
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.SetFooterFunc(func() {
		p.SetY(-10)
		p.SetFont("Helvetica", "", 7)
		p.CellFormat(0, 4, tr(fmt.Sprintf("Risk-limiting audit %s · printed %s · as of log entry %d · Page %d of {nb}",
			r.Settings.ID, printed.UTC().Format("2006-01-02 15:04:05 MST"), entry, p.PageNo())), "", 0, "C", false, 0, "")
	})
	p.AddPage()
	p.SetFont("Helvetica", "B", 16)
	p.CellFormat(0, 9, tr("RISK-LIMITING AUDIT REPORT: "+r.Settings.Name), "", 1, "L", false, 0, "")
	pageW, _ := p.GetPageSize()
	usable := pageW - 20
	for _, s := range reportSections(r) {
		p.Ln(3)
		p.SetFont("Helvetica", "B", 11)
		p.CellFormat(0, 6, tr(s.Title), "", 1, "L", false, 0, "")
		widths := columnWidths(s, usable)
		p.SetFont("Helvetica", "B", 8)
		for i, h := range s.Header {
			p.CellFormat(widths[i], 5, tr(h), "B", 0, "L", false, 0, "")
		}
		p.Ln(-1)
		p.SetFont("Helvetica", "", 8)
		if len(s.Rows) == 0 {
			p.CellFormat(0, 5, "(none)", "", 1, "L", false, 0, "")
		}
		for _, row := range s.Rows {
			for i, c := range row {
				p.CellFormat(widths[i], 4.5, tr(fit(p, c, widths[i])), "", 0, "L", false, 0, "")
			}
			p.Ln(-1)
		}
	}
	if err := p.Error(); err != nil {
		return vigil.Wrap("audit.report", vigil.Other, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return vigil.Wrap("audit.report", vigil.Other, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// columnWidths shares the width among columns by their longest text.
func columnWidths(s reportSection, total float64) []float64 {
	longest := make([]float64, len(s.Header))
	for i, h := range s.Header {
		longest[i] = float64(min(len(h)+2, 60))
	}
	for _, row := range s.Rows {
		for i, c := range row {
			longest[i] = max(longest[i], float64(min(len(c)+2, 60)))
		}
	}
	sum := 0.0
	for _, l := range longest {
		sum += l
	}
	out := make([]float64, len(longest))
	for i, l := range longest {
		out[i] = total * l / sum
	}
	return out
}

// fit shortens s with an ellipsis to fit width w in the current font.
func fit(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w-1 {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && p.GetStringWidth(string(r)+"...") > w-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "..."
}
