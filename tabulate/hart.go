package tabulate

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// A Hart Verity export is one XML file per ballot (usually delivered as a
// ZIP, one per tabulator) plus optional "scanned ballot information" CSVs
// that give each CvrGuid its workstation (tabulator) and the unique id
// printed on the ballot. When several ZIPs are given, each ZIP's name
// (without .zip) is its tabulator and wins over the CSVs' Workstation.
// Hart's XML does not say how many choices a contest allows; without
// Options.Election every contest is taken as vote for 1. Each sheet of a
// multi-sheet ballot is a separate CVR, "<CvrGuid>/<sheet>" from sheet 2 on.

type hartXML struct {
	Contests []struct {
		Name    string `xml:"Name"`
		ID      string `xml:"Id"`
		Options []struct {
			Name    string    `xml:"Name"`
			ID      string    `xml:"Id"`
			Value   string    `xml:"Value"`
			WriteIn *struct{} `xml:"WriteInData"`
		} `xml:"Options>Option"`
		Undervotes string `xml:"Undervotes"`
	} `xml:"Contests>Contest"`
	BatchSequence string `xml:"BatchSequence"`
	SheetNumber   string `xml:"SheetNumber"`
	BatchNumber   string `xml:"BatchNumber"`
	PrecinctSplit struct {
		Name string `xml:"Name"`
	} `xml:"PrecinctSplit"`
	CvrGuid string `xml:"CvrGuid"`
}

type hartScan struct {
	unique, workstation, file string
	line                      int
}

func (r *Reader) readHart(files []File, fn func(*vigil.CastVoteRecord) error) error {
	scans := map[string]hartScan{}
	var xmls, zips []File
	for _, f := range files {
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".csv":
			if err := r.readHartScans(f, scans); err != nil {
				return err
			}
		case ".zip":
			zips = append(zips, f)
		default:
			xmls = append(xmls, f)
		}
	}
	var cvr vigil.CastVoteRecord
	for _, f := range xmls {
		if err := r.readHartXML(f, "", scans, &cvr, fn); err != nil {
			return err
		}
	}
	for _, f := range zips {
		data, err := readAll(opImport, f.Name, f.Reader, r.opt.MaxFileBytes)
		if err != nil {
			return err
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return parseErr(opImport, f.Name, 0, "", "not a readable ZIP archive: %v", err)
		}
		tab := ""
		if len(zips) > 1 {
			tab = strings.TrimSuffix(path.Base(f.Name), path.Ext(f.Name))
		}
		for _, m := range zr.File {
			base := path.Base(m.Name)
			if m.FileInfo().IsDir() || strings.HasPrefix(base, ".") || strings.Contains(m.Name, "__MACOSX") || !strings.EqualFold(path.Ext(base), ".xml") {
				continue
			}
			name := f.Name + ":" + m.Name
			if m.UncompressedSize64 > uint64(r.opt.MaxFileBytes) {
				return parseErr(opImport, name, 0, "", "the member is larger than %d bytes", r.opt.MaxFileBytes)
			}
			rc, err := m.Open()
			if err != nil {
				return parseErr(opImport, name, 0, "", "cannot open the ZIP member: %v", err)
			}
			err = r.readHartXML(File{Name: name, Reader: rc}, tab, scans, &cvr, fn)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reader) readHartXML(f File, tab string, scans map[string]hartScan, cvr *vigil.CastVoteRecord, fn func(*vigil.CastVoteRecord) error) error {
	data, err := readAll(opImport, f.Name, f.Reader, r.opt.MaxFileBytes)
	if err != nil {
		return err
	}
	var h hartXML
	if err := xml.Unmarshal(data, &h); err != nil {
		return xmlErr(f.Name, err)
	}
	guid := strings.TrimSpace(h.CvrGuid)
	if guid == "" {
		return parseErr(opImport, f.Name, 0, "CvrGuid", "the CVR has no CvrGuid; is this a Hart CVR file?")
	}
	id := guid
	if sheet := strings.TrimSpace(h.SheetNumber); sheet != "" && sheet != "1" {
		// Each sheet of a multi-sheet ballot is its own CVR with the
		// ballot's CvrGuid; the sheet number keeps them apart.
		id += "/" + sheet
	}
	*cvr = vigil.CastVoteRecord{ID: vigil.CVRID(id), Batch: strings.TrimSpace(h.BatchNumber), ImprintedID: guid,
		Precinct: vigil.PrecinctID(strings.TrimSpace(h.PrecinctSplit.Name)), Contests: cvr.Contests[:0]}
	if s, ok := scans[guid]; ok {
		cvr.ImprintedID, cvr.Tabulator = s.unique, s.workstation
	}
	if tab != "" {
		cvr.Tabulator = tab
	}
	if seq := strings.TrimSpace(h.BatchSequence); seq != "" {
		n, err := strconv.Atoi(seq)
		if err != nil || n < 0 {
			return parseErr(opImport, f.Name, 0, "BatchSequence", "BatchSequence %q is not a whole number", seq)
		}
		cvr.Position = n
	}
	for _, hc := range h.Contests {
		name := normSpace(hc.Name)
		if name == "" {
			name = strings.TrimSpace(hc.ID)
		}
		if name == "" {
			return parseErr(opImport, f.Name, 0, "Contest", "a contest has neither Name nor Id")
		}
		ci, err := r.def.contest(name, vigil.Contest{Name: name, VoteFor: 1})
		if err != nil {
			return parseErr(opImport, f.Name, 0, "Contest "+name, "%v", err)
		}
		cv := vigil.ContestVote{Contest: r.def.e.Contests[ci].ID}
		if u := strings.TrimSpace(hc.Undervotes); u != "" {
			cv.Undervotes, _ = strconv.Atoi(u)
			cv.Undervotes = max(cv.Undervotes, 0)
		}
		for _, o := range hc.Options {
			if v := strings.TrimSpace(o.Value); v != "" && v != "1" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return parseErr(opImport, f.Name, 0, "Contest "+name+": Value", "option value %q must be a whole number", v)
				}
				if n == 0 {
					continue
				}
			}
			choice, writeIn := normSpace(o.Name), o.WriteIn != nil
			if choice == "" && writeIn {
				choice = "Write-in"
			}
			if choice == "" {
				return parseErr(opImport, f.Name, 0, "Contest "+name+": Option", "an option has no Name")
			}
			id, err := r.def.choice(ci, choice, vigil.Choice{WriteIn: writeIn || isWriteIn(choice)})
			if err != nil {
				return parseErr(opImport, f.Name, 0, "Contest "+name+": "+choice, "%v", err)
			}
			cv.Marks = append(cv.Marks, vigil.Mark{Choice: id, WriteIn: writeIn})
		}
		cvr.Contests = append(cvr.Contests, cv)
	}
	return r.emit(f.Name, 0, cvr, fn)
}

func xmlErr(name string, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return parseErr(opImport, name, se.Line, "", "malformed XML: %s", se.Msg)
	}
	return parseErr(opImport, name, 0, "", "cannot read the XML: %v", err)
}

func (r *Reader) readHartScans(f File, scans map[string]hartScan) error {
	br := bufio.NewReader(f.Reader)
	c := newCSV(opImport, f.Name, br, r.opt.MaxLineBytes)
	first, err := c.next()
	if err != nil || len(first) == 0 || !strings.HasPrefix(cell(first[0]), "#FormatVersion") {
		if err != nil && err != io.EOF {
			return err
		}
		return c.errorf(1, "", "a scanned ballot information CSV starts with a #FormatVersion line")
	}
	head, err := c.next()
	if err != nil {
		if err == io.EOF {
			return c.errorf(2, "", "the header row is missing")
		}
		return err
	}
	head = slices.Clone(head)
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(cell(head[0]), "#")
	}
	idx := headerIndex(head)
	var cols [3]int
	for i, name := range []string{"CvrId", "UniqueIdentifier", "Workstation"} {
		j, ok := idx[name]
		if !ok {
			return c.errorf(2, name, "missing required column %s", name)
		}
		cols[i] = j
	}
	for {
		rec, err := c.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line := c.line()
		get := func(i int) string {
			if i >= len(rec) {
				return ""
			}
			return cell(rec[i])
		}
		id := get(cols[0])
		s := hartScan{unique: get(cols[1]), workstation: get(cols[2]), file: f.Name, line: line}
		for i, name := range []string{"CvrId", "UniqueIdentifier", "Workstation"} {
			if get(cols[i]) == "" {
				return c.errorf(line, name, "%s is empty", name)
			}
		}
		if prev, ok := scans[id]; ok {
			if prev.unique != s.unique || prev.workstation != s.workstation {
				return c.errorf(line, "Workstation", "CVR %s has conflicting scanned ballot information: %s/%s here, %s/%s at %s, line %d", id, s.unique, s.workstation, prev.unique, prev.workstation, prev.file, prev.line)
			}
			continue
		}
		scans[strings.Clone(id)] = s
	}
}
