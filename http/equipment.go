package http

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/equipment"
	"github.com/vigil-elections/vigil/sqlite"
)

// equipmentPages serves the voting-technology register. Devices belong to
// the county their jurisdiction resolved to; every list is filtered to the
// counties the reader's grants cover, and every change is re-authorized
// against the device's county (before and after a change).
type equipmentPages struct {
	s  *Server
	eq *sqlite.Equipment
}

func (s *Server) registerEquipment() {
	h := &equipmentPages{s: s, eq: sqlite.NewEquipment(s.node.DB, s.node, s.node.Now)}
	s.handle("GET /equipment", access.ActionEquipmentRead, nil, h.inventoryPage)
	s.handle("POST /equipment/import", access.ActionEquipmentWrite, nil, h.importForm)
	s.handle("GET /equipment/inventory.csv", access.ActionEquipmentRead, nil, h.inventoryCSV)
	s.handle("GET /equipment/devices/{id}", access.ActionEquipmentRead, nil, h.devicePage)
	s.handle("POST /equipment/devices/{id}/custody", access.ActionEquipmentWrite, nil, h.custodyForm)
	s.handle("GET /equipment/dashboard", access.ActionEquipmentRead, nil, h.dashboardPage)
	s.handle("GET /equipment/plan", access.ActionEquipmentRead, nil, h.planPage)
	s.handle("GET /equipment/plan.csv", access.ActionEquipmentRead, nil, h.planCSV)
	s.handle("GET /equipment/plan.pdf", access.ActionEquipmentRead, nil, h.planPDF)
	s.handle("POST /equipment/costs", access.ActionEquipmentWrite, nil, h.costForm)

	s.handle("GET /api/v1/equipment/devices", access.ActionEquipmentRead, nil, h.apiDevices)
	s.handle("GET /api/v1/equipment/devices/{id}", access.ActionEquipmentRead, nil, h.apiDevice)
	s.handle("POST /api/v1/equipment/import", access.ActionEquipmentWrite, nil, h.apiImport)
	s.handle("POST /api/v1/equipment/devices/{id}/custody", access.ActionEquipmentWrite, nil, h.apiCustody)
	s.handle("PUT /api/v1/equipment/costs", access.ActionEquipmentWrite, nil, h.apiCost)
	s.handle("GET /api/v1/equipment/outdated", access.ActionEquipmentRead, nil, h.apiOutdated)
	s.handle("GET /api/v1/equipment/plan", access.ActionEquipmentRead, nil, h.apiPlan)
	s.handle("POST /api/v1/equipment/advisories", access.ActionEquipmentPolicy, nil, h.apiAdvisories)
	s.handle("POST /api/v1/equipment/minimum", access.ActionEquipmentPolicy, nil, h.apiMinimum)
	s.handle("POST /api/v1/equipment/device-check", access.ActionDeviceCheck, nil, h.apiDeviceCheck)
	s.handle("GET /equipment/rules", access.ActionEquipmentRead, nil, h.rulesPage)
	s.handle("POST /equipment/rules", access.ActionEquipmentPolicy, nil, h.rulesForm)
	s.handle("GET /api/v1/equipment/rules", access.ActionEquipmentRead, nil, h.apiRules)
	s.handle("POST /api/v1/equipment/rules", access.ActionEquipmentPolicy, nil, h.apiSetRule)
}

// countyTarget is the scope a device's county stands for: devices whose
// jurisdiction matched no county are reached only from the state scope.
func countyTarget(county string) vigil.Scope {
	if county == "" {
		return vigil.ScopeState
	}
	return vigil.CountyScope(county)
}

// visible filters devices to those the reader may read.
func (h *equipmentPages) visible(ctx context.Context, rq *request) ([]sqlite.DeviceRow, error) {
	all, err := h.eq.Devices(ctx)
	if err != nil {
		return nil, err
	}
	now := h.s.node.Now()
	var out []sqlite.DeviceRow
	for _, d := range all {
		if access.Authorize(rq.user.Grants, access.ActionEquipmentRead, countyTarget(d.County), now).Allowed {
			out = append(out, d)
		}
	}
	return out, nil
}

// allow authorizes the request's action on a county (for Import).
func (h *equipmentPages) allow(r *http.Request, rq *request) func(string) error {
	return func(county string) error { return h.s.authorizeTarget(r.Context(), r, rq, countyTarget(county)) }
}

// device returns one device the reader may see; another county's device
// is refused (and the refusal logged).
func (h *equipmentPages) device(r *http.Request, rq *request) (sqlite.DeviceRow, []sqlite.CustodyRow, error) {
	d, err := h.eq.Device(r.Context(), vigil.DeviceID(r.PathValue("id")))
	if err != nil {
		return d, nil, err
	}
	if err := h.s.authorizeTarget(r.Context(), r, rq, countyTarget(d.County)); err != nil {
		return d, nil, err
	}
	c, err := h.eq.Custody(r.Context(), d.ID)
	return d, c, err
}

func (h *equipmentPages) canEdit(rq *request, county string) bool {
	return access.Authorize(rq.user.Grants, access.ActionEquipmentWrite, countyTarget(county), h.s.node.Now()).Allowed
}

type jurisdictionGroup struct {
	Jurisdiction string
	County       string
	Devices      []sqlite.DeviceRow
	Units        int
	Flags        []equipment.Flag
	EndOfLife    int // flagged for end of life, OS end of support or certification
	Insecure     int // flagged by an advisory
	Unknown      int // model not in the catalog
}

func groupByJurisdiction(rows []sqlite.DeviceRow, flags []equipment.Flag) []*jurisdictionGroup {
	byName := map[string]*jurisdictionGroup{}
	var out []*jurisdictionGroup
	get := func(d vigil.Device, county string) *jurisdictionGroup {
		g := byName[d.Jurisdiction]
		if g == nil {
			g = &jurisdictionGroup{Jurisdiction: d.Jurisdiction, County: county}
			byName[d.Jurisdiction] = g
			out = append(out, g)
		}
		return g
	}
	county := map[vigil.DeviceID]string{}
	for _, d := range rows {
		g := get(d.Device, d.County)
		g.Devices = append(g.Devices, d)
		g.Units += d.Units()
		county[d.ID] = d.County
	}
	for _, f := range flags {
		g := get(f.Device, county[f.Device.ID])
		g.Flags = append(g.Flags, f)
		seen := map[string]bool{}
		for _, r := range f.Reasons {
			switch r.Code {
			case equipment.ReasonAdvisory:
				seen["insecure"] = true
			case equipment.ReasonUnknownModel:
				seen["unknown"] = true
			default:
				seen["outdated"] = true
			}
		}
		if seen["outdated"] {
			g.EndOfLife++
		}
		if seen["insecure"] {
			g.Insecure++
		}
		if seen["unknown"] {
			g.Unknown++
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Jurisdiction < out[j].Jurisdiction })
	return out
}

func (h *equipmentPages) inventoryPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.renderInventory(w, r, rq, http.StatusOK, "", "")
}

func (h *equipmentPages) renderInventory(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	rows, err := h.visible(r.Context(), rq)
	if err != nil {
		return err
	}
	canImport := false
	for _, g := range rq.user.Grants {
		canImport = canImport || (access.Allows(g.Role, access.ActionEquipmentWrite) && g.Active(h.s.node.Now()))
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	h.s.renderPage(w, r, rq, "equipment.html", map[string]any{"Title": "Voting equipment",
		"Groups": groupByJurisdiction(rows, nil), "Count": len(rows), "CanImport": canImport, "Message": msg, "Error": errMsg})
	return nil
}

// importForm imports an uploaded inventory file: all or nothing, and only
// when every device lies in a county the manager's grant covers.
func (h *equipmentPages) importForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return h.renderInventory(w, r, rq, http.StatusBadRequest, "", "choose an inventory CSV file to import")
	}
	defer f.Close()
	devices, err := sqlite.ReadDevices(f)
	var res sqlite.EquipmentImport
	if err == nil {
		res, err = h.eq.Import(r.Context(), h.s.actor(rq), hdr.Filename, devices, h.allow(r, rq))
	}
	if err != nil {
		k := vigil.ErrorKind(err)
		if k != vigil.Invalid && k != vigil.Permission {
			return err
		}
		return h.renderInventory(w, r, rq, statusOf(k), "", "Nothing was imported: "+vigil.ErrorMessage(err))
	}
	msg := fmt.Sprintf("%d devices: added %d, changed %d, unchanged %d.", res.Devices, res.Added, res.Changed, res.Unchanged)
	if len(res.Unknown) > 0 {
		ids := make([]string, len(res.Unknown))
		for i, id := range res.Unknown {
			ids[i] = string(id)
		}
		msg += " Accepted but flagged, model not in the catalog: " + strings.Join(ids, ", ") + "."
	}
	return h.renderInventory(w, r, rq, http.StatusOK, msg, "")
}

func (h *equipmentPages) inventoryCSV(w http.ResponseWriter, r *http.Request, rq *request) error {
	rows, err := h.visible(r.Context(), rq)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	devices := make([]vigil.Device, len(rows))
	for i, d := range rows {
		devices[i] = d.Device
	}
	if err := equipment.WriteInventory(&buf, devices); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="inventory.csv"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *equipmentPages) devicePage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.renderDevice(w, r, rq, http.StatusOK, "", "")
}

func (h *equipmentPages) renderDevice(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	d, custody, err := h.device(r, rq)
	if err != nil {
		return err
	}
	flags, err := h.eq.Outdated(r.Context(), []sqlite.DeviceRow{d})
	if err != nil {
		return err
	}
	var reasons []equipment.Reason
	if len(flags) > 0 {
		reasons = flags[0].Reasons
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	h.s.renderPage(w, r, rq, "equipment_device.html", map[string]any{"Title": "Device " + string(d.ID),
		"Device": d, "Custody": custody, "Reasons": reasons, "CanEdit": h.canEdit(rq, d.County),
		"Message": msg, "Error": errMsg})
	return nil
}

func (h *equipmentPages) custodyForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := vigil.CustodyTransfer{Device: vigil.DeviceID(r.PathValue("id")), From: strings.TrimSpace(r.PostFormValue("from")),
		To: strings.TrimSpace(r.PostFormValue("to")), By: strings.TrimSpace(r.PostFormValue("by")),
		Note: r.PostFormValue("note"), Time: h.s.node.Now()}
	if s := strings.TrimSpace(r.PostFormValue("seals")); s != "" {
		t.Seals = strings.Split(s, ";")
	}
	err := h.transfer(r, rq, t)
	if err != nil {
		k := vigil.ErrorKind(err)
		if k != vigil.Invalid && k != vigil.Conflict {
			return err
		}
		return h.renderDevice(w, r, rq, statusOf(k), "", vigil.ErrorMessage(err))
	}
	return h.renderDevice(w, r, rq, http.StatusOK, "Custody transfer to "+t.To+" recorded.", "")
}

func (h *equipmentPages) transfer(r *http.Request, rq *request, t vigil.CustodyTransfer) error {
	d, err := h.eq.Device(r.Context(), t.Device)
	if err != nil {
		return err
	}
	if err := h.s.authorizeTarget(r.Context(), r, rq, countyTarget(d.County)); err != nil {
		return err
	}
	return h.eq.Transfer(r.Context(), h.s.actor(rq), t)
}

func (h *equipmentPages) dashboardPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	rows, err := h.visible(r.Context(), rq)
	if err != nil {
		return err
	}
	flags, err := h.eq.Outdated(r.Context(), rows)
	if err != nil {
		return err
	}
	groups := groupByJurisdiction(rows, flags)
	var outdated, insecure int
	for _, g := range groups {
		outdated += g.EndOfLife
		insecure += g.Insecure
	}
	h.s.renderPage(w, r, rq, "equipment_dashboard.html", map[string]any{"Title": "Outdated and insecure equipment",
		"Groups": groups, "Flagged": len(flags), "Devices": len(rows), "Outdated": outdated, "Insecure": insecure})
	return nil
}

// API.

type deviceJSON struct {
	vigil.Device
	County  string              `json:"county"`
	Updated time.Time           `json:"updated"`
	Reasons []reasonJSON        `json:"reasons,omitempty"`
	Custody []sqlite.CustodyRow `json:"custody,omitempty"`
}

func (h *equipmentPages) apiDevices(w http.ResponseWriter, r *http.Request, rq *request) error {
	rows, err := h.visible(r.Context(), rq)
	if err != nil {
		return err
	}
	out := make([]deviceJSON, len(rows))
	for i, d := range rows {
		out[i] = deviceJSON{Device: d.Device, County: d.County, Updated: d.Updated}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"devices": out})
}

func (h *equipmentPages) apiDevice(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, custody, err := h.device(r, rq)
	if err != nil {
		return err
	}
	flags, err := h.eq.Outdated(r.Context(), []sqlite.DeviceRow{d})
	if err != nil {
		return err
	}
	out := deviceJSON{Device: d.Device, County: d.County, Updated: d.Updated, Custody: custody}
	if len(flags) > 0 {
		out.Reasons = reasonsJSON(flags[0].Reasons)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"device": out})
}

// apiImport imports an inventory CSV sent as the body: all or nothing,
// and only when every device lies in the caller's county.
func (h *equipmentPages) apiImport(w http.ResponseWriter, r *http.Request, rq *request) error {
	devices, err := sqlite.ReadDevices(r.Body)
	if err != nil {
		return err
	}
	res, err := h.eq.Import(r.Context(), h.s.actor(rq), "", devices, h.allow(r, rq))
	if err != nil {
		return err
	}
	if res.Unknown == nil {
		res.Unknown = []vigil.DeviceID{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"devices": res.Devices, "added": res.Added, "changed": res.Changed,
		"unchanged": res.Unchanged, "unknown_models": res.Unknown})
}

type custodyRequest struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	By    string    `json:"by"`
	Seals []string  `json:"seals"`
	Note  string    `json:"note"`
	Time  time.Time `json:"time"`
}

func (h *equipmentPages) apiCustody(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req custodyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	t := vigil.CustodyTransfer{Device: vigil.DeviceID(r.PathValue("id")), From: req.From, To: req.To, By: req.By,
		Seals: req.Seals, Note: req.Note, Time: req.Time}
	if t.Time.IsZero() {
		t.Time = h.s.node.Now()
	}
	if err := h.transfer(r, rq, t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"ok": true})
}

type costRequest struct {
	Kind         vigil.DeviceKind `json:"kind"`
	Manufacturer string           `json:"manufacturer"`
	Model        string           `json:"model"`
	Cost         string           `json:"cost"` // dollars, "5250.00"
}

func (h *equipmentPages) apiCost(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req costRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cents, err := parseCents(req.Cost)
	if err != nil {
		return err
	}
	if err := h.setCost(r, rq, vigil.UnitCost{Kind: req.Kind, Manufacturer: req.Manufacturer, Model: req.Model, Cents: cents}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

type flagJSON struct {
	ID           vigil.DeviceID `json:"id"`
	Jurisdiction string         `json:"jurisdiction"`
	County       string         `json:"county"`
	Reasons      []reasonJSON   `json:"reasons"`
}

// reasonJSON is equipment.Reason as the API shows it.
type reasonJSON struct {
	Code     equipment.ReasonCode   `json:"code"`
	Severity vigil.AdvisorySeverity `json:"severity,omitempty"`
	Advisory string                 `json:"advisory,omitempty"`
	Text     string                 `json:"text"`
}

func reasonsJSON(rs []equipment.Reason) []reasonJSON {
	out := make([]reasonJSON, len(rs))
	for i, r := range rs {
		out[i] = reasonJSON{r.Code, r.Severity, r.Advisory, r.Text}
	}
	return out
}

func (h *equipmentPages) apiOutdated(w http.ResponseWriter, r *http.Request, rq *request) error {
	rows, err := h.visible(r.Context(), rq)
	if err != nil {
		return err
	}
	flags, err := h.eq.Outdated(r.Context(), rows)
	if err != nil {
		return err
	}
	county := map[vigil.DeviceID]string{}
	for _, d := range rows {
		county[d.ID] = d.County
	}
	out := make([]flagJSON, len(flags))
	for i, f := range flags {
		out[i] = flagJSON{ID: f.Device.ID, Jurisdiction: f.Device.Jurisdiction, County: county[f.Device.ID], Reasons: reasonsJSON(f.Reasons)}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"flagged": out})
}

func (h *equipmentPages) apiPlan(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := h.plan(r, rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"plan": p})
}

// apiAdvisories imports advisories: a JSON array in the body (the same
// keys as the CSV columns).
func (h *equipmentPages) apiAdvisories(w http.ResponseWriter, r *http.Request, rq *request) error {
	advs, err := equipment.ReadAdvisoriesJSON(r.Body)
	if err != nil {
		return err
	}
	n, err := h.eq.ImportAdvisories(r.Context(), h.s.actor(rq), advs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"advisories": len(advs), "recorded": n})
}

func (h *equipmentPages) apiMinimum(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req struct {
		Version string `json:"version"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := h.eq.SetMinimum(r.Context(), h.s.actor(rq), req.Version); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"minimum": strings.TrimSpace(req.Version)})
}

// apiDeviceCheck is what a pollbook client calls at every sync: it
// presents its key (Vigil-Device) and reports its vigil version and OS (in
// the body, or the Vigil-Version and Vigil-OS headers). The report is
// recorded when it changed; a device that may not act is answered 403 with
// the reasons in words for the poll worker, and device.refused is in the
// log before the answer is sent (see sqlite.Devices.Admit).
func (h *equipmentPages) apiDeviceCheck(w http.ResponseWriter, r *http.Request, rq *request) error {
	var req struct {
		Version string `json:"version"`
		OS      string `json:"os"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Version != "" {
		r.Header.Set(versionHeader, req.Version)
		r.Header.Set(osHeader, req.OS)
	}
	site := vigil.Scope(r.URL.Query().Get("site"))
	if site == "" {
		site = rq.decision.Grant.Scope
	}
	dev, err := h.s.admitDevice(r, rq, site)
	if err != nil {
		return err
	}
	minimum, err := h.eq.Minimum(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"allowed": true, "device": dev, "minimum": minimum})
}
