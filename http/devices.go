package http

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/sqlite"
)

// Pollbook devices: the county or a supervisor issues a one-time code for
// a polling place; the tablet (or a laptop's client) redeems it and keeps
// the key it is given, as a cookie (pages) or a Vigil-Device header (API).
// Every site-level pollbook request passes sqlite.Devices.Admit first.

const (
	deviceCookie  = "vigil_device"
	deviceHeader  = "Vigil-Device"
	versionHeader = "Vigil-Version" // API clients report what they run
	osHeader      = "Vigil-OS"
)

type devicePages struct {
	s   *Server
	dev *sqlite.Devices
}

func (s *Server) registerDevices() {
	h := &devicePages{s: s, dev: s.deviceService()}
	s.handle("GET /devices", access.ActionDeviceRead, nil, h.listPage)
	s.handle("POST /devices/codes", access.ActionDeviceManage, nil, h.codeForm)
	s.handle("POST /devices/{id}/revoke", access.ActionDeviceManage, nil, h.revokeForm)
	s.handle("GET /devices/enrol", access.ActionDeviceEnrol, nil, h.enrolPage)
	s.handle("POST /devices/enrol", access.ActionDeviceEnrol, nil, h.enrolForm)

	s.handle("GET /api/v1/devices", access.ActionDeviceRead, nil, h.apiList)
	s.handle("POST /api/v1/devices/codes", access.ActionDeviceManage, nil, h.apiCode)
	s.handle("POST /api/v1/devices/enrol", access.ActionDeviceEnrol, nil, h.apiEnrol)
	s.handle("POST /api/v1/devices/{id}/revoke", access.ActionDeviceManage, nil, h.apiRevoke)
}

// deviceService is the one Devices service of the server (its refusal
// de-duplication and policy cache are shared by every route).
func (s *Server) deviceService() *sqlite.Devices {
	if s.devices == nil {
		n := s.node
		s.devices = sqlite.NewDevices(n.DB, n, n.Now, sqlite.NewEquipment(n.DB, n, n.Now))
	}
	return s.devices
}

// admitDevice admits the request's device at site (see sqlite.Devices.Admit).
func (s *Server) admitDevice(r *http.Request, rq *request, site vigil.Scope) (vigil.PollbookDevice, error) {
	token := r.Header.Get(deviceHeader)
	if token == "" {
		if c, err := r.Cookie(deviceCookie); err == nil {
			token = c.Value
		}
	}
	return s.deviceService().Admit(r.Context(), s.actor(rq), token, site, deviceReport(r))
}

// deviceReport is what the device runs: an API client says so in headers;
// a browser runs the pages this node serves, on the OS its user agent names.
func deviceReport(r *http.Request) sqlite.Report {
	if v := r.Header.Get(versionHeader); v != "" {
		return sqlite.Report{Version: v, OS: r.Header.Get(osHeader)}
	}
	return sqlite.Report{Version: vigil.Version, OS: osFromUserAgent(r.Header.Get("User-Agent"),
		r.Header.Get("Sec-CH-UA-Platform"), r.Header.Get("Sec-CH-UA-Platform-Version"))}
}

var (
	uaWindows = regexp.MustCompile(`Windows NT (\d+\.\d+)`)
	uaAndroid = regexp.MustCompile(`Android (\d+(?:\.\d+)?)`)
	uaIOS     = regexp.MustCompile(`(?:iPhone|CPU) OS (\d+)_(\d+)`)
	uaMac     = regexp.MustCompile(`Mac OS X (\d+)[_.](\d+)`)
	uaCrOS    = regexp.MustCompile(`CrOS \S+ (\d+)`)
)

// osFromUserAgent names a browser's operating system the way the lifecycle
// rules name them ("Windows 7", "Windows 10", "Android 9"). Windows 11
// reports "Windows NT 10.0" too; its client hint platform version (13 or
// more) tells them apart when the browser sends it.
func osFromUserAgent(ua, platform, platformVersion string) string {
	platform = strings.Trim(platform, `"`)
	platformVersion = strings.Trim(platformVersion, `"`)
	if m := uaWindows.FindStringSubmatch(ua); m != nil {
		switch m[1] {
		case "5.1", "5.2":
			return "Windows XP"
		case "6.0":
			return "Windows Vista"
		case "6.1":
			return "Windows 7"
		case "6.2":
			return "Windows 8"
		case "6.3":
			return "Windows 8.1"
		case "10.0":
			if platform == "Windows" && platformVersion != "" {
				major, _, _ := strings.Cut(platformVersion, ".")
				if n, err := strconv.Atoi(major); err == nil && n >= 13 {
					return "Windows 11"
				}
			}
			return "Windows 10"
		}
		return "Windows NT " + m[1]
	}
	if m := uaAndroid.FindStringSubmatch(ua); m != nil {
		return "Android " + m[1]
	}
	if m := uaIOS.FindStringSubmatch(ua); m != nil {
		if strings.Contains(ua, "iPad") {
			return "iPadOS " + m[1] + "." + m[2]
		}
		return "iOS " + m[1] + "." + m[2]
	}
	if m := uaCrOS.FindStringSubmatch(ua); m != nil {
		return "ChromeOS " + m[1]
	}
	if m := uaMac.FindStringSubmatch(ua); m != nil {
		return "macOS " + m[1] + "." + m[2]
	}
	if strings.Contains(ua, "Linux") {
		return "Linux"
	}
	if len(ua) > 60 {
		ua = ua[:60]
	}
	return strings.TrimSpace("unknown " + ua)
}

// visible filters devices to those the reader may see.
func (h *devicePages) visible(ctx context.Context, r *http.Request, rq *request) ([]vigil.PollbookDevice, error) {
	all, err := h.dev.List(ctx, r.URL.Query().Get("county"))
	if err != nil {
		return nil, err
	}
	now := h.s.node.Now()
	out := []vigil.PollbookDevice{}
	for _, d := range all {
		if access.Authorize(rq.user.Grants, access.ActionDeviceRead, d.Site, now).Allowed {
			out = append(out, d)
		}
	}
	return out, nil
}

// sites lists the polling places the reader may issue codes for.
func (h *devicePages) sites(ctx context.Context, rq *request) ([]map[string]string, error) {
	rows, err := h.s.node.DB.QueryContext(ctx, `SELECT county, id, name FROM places ORDER BY county, name`)
	if err != nil {
		return nil, vigil.Wrap("device.sites", vigil.Unavailable, err)
	}
	defer rows.Close()
	now := h.s.node.Now()
	var out []map[string]string
	for rows.Next() {
		var county, id, name string
		if err := rows.Scan(&county, &id, &name); err != nil {
			return nil, err
		}
		sc := vigil.PlaceScope(county, id)
		if access.Authorize(rq.user.Grants, access.ActionDeviceManage, sc, now).Allowed {
			out = append(out, map[string]string{"Scope": string(sc), "Name": name})
		}
	}
	return out, rows.Err()
}

func (h *devicePages) render(w http.ResponseWriter, r *http.Request, rq *request, status int, d map[string]any) error {
	list, err := h.visible(r.Context(), r, rq)
	if err != nil {
		return err
	}
	sites, err := h.sites(r.Context(), rq)
	if err != nil {
		return err
	}
	d["Title"], d["Devices"], d["Sites"] = "Pollbook devices", list, sites
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
	}
	h.s.renderPage(w, r, rq, "devices.html", d)
	return nil
}

func (h *devicePages) listPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.render(w, r, rq, http.StatusOK, map[string]any{})
}

func (h *devicePages) issue(r *http.Request, rq *request, site vigil.Scope, name string) (map[string]any, error) {
	if err := h.s.authorizeTarget(r.Context(), r, rq, site); err != nil {
		return nil, err
	}
	code, expires, err := h.dev.IssueCode(r.Context(), h.s.actor(rq), site, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"code": code, "expires": expires, "site": site, "name": strings.TrimSpace(name)}, nil
}

func (h *devicePages) codeForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, err := h.issue(r, rq, vigil.Scope(r.PostFormValue("site")), r.PostFormValue("name"))
	if err != nil {
		if vigil.ErrorKind(err) == vigil.Permission {
			return err
		}
		return h.render(w, r, rq, statusOf(vigil.ErrorKind(err)), map[string]any{"Error": vigil.ErrorMessage(err)})
	}
	return h.render(w, r, rq, http.StatusOK, map[string]any{"Code": c})
}

func (h *devicePages) revoke(r *http.Request, rq *request, reason string) error {
	return h.dev.Revoke(r.Context(), h.s.actor(rq), r.PathValue("id"), reason, func(sc vigil.Scope) error {
		return h.s.authorizeTarget(r.Context(), r, rq, sc)
	})
}

func (h *devicePages) revokeForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := h.revoke(r, rq, r.PostFormValue("reason")); err != nil {
		if vigil.ErrorKind(err) == vigil.Permission {
			return err
		}
		return h.render(w, r, rq, statusOf(vigil.ErrorKind(err)), map[string]any{"Error": vigil.ErrorMessage(err)})
	}
	return h.render(w, r, rq, http.StatusOK, map[string]any{"Message": "Device " + r.PathValue("id") + " is revoked: it can no longer check voters in."})
}

// enrol redeems a code for the requesting device, whose report (version,
// OS) is recorded with it.
func (h *devicePages) enrol(r *http.Request, rq *request, code string) (vigil.PollbookDevice, string, error) {
	rep := deviceReport(r)
	return h.dev.Enrol(r.Context(), h.s.actor(rq), code, rep.Version, rep.OS, func(sc vigil.Scope) error {
		return h.s.authorizeTarget(r.Context(), r, rq, sc)
	})
}

func (h *devicePages) enrolPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	h.s.renderPage(w, r, rq, "device_enrol.html", map[string]any{"Title": "Enrol this device", "Next": r.URL.Query().Get("next"),
		"Reason": r.URL.Query().Get("reason")})
	return nil
}

func (h *devicePages) enrolForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	dev, token, err := h.enrol(r, rq, r.PostFormValue("code"))
	if err != nil {
		if vigil.ErrorKind(err) == vigil.Permission {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(statusOf(vigil.ErrorKind(err)))
		h.s.renderPage(w, r, rq, "device_enrol.html", map[string]any{"Title": "Enrol this device", "Error": vigil.ErrorMessage(err)})
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: h.s.secureCookie(r), SameSite: http.SameSiteStrictMode, MaxAge: 400 * 24 * 3600})
	_, place, _ := pollbook.SitePlace(dev.Site)
	next := "/pollbook?site=" + url.QueryEscape(string(dev.Site))
	h.s.renderPage(w, r, rq, "device_enrol.html", map[string]any{"Title": "Device enrolled", "Device": dev, "Place": place, "Next": next})
	return nil
}

// --- API ---

func (h *devicePages) apiList(w http.ResponseWriter, r *http.Request, rq *request) error {
	list, err := h.visible(r.Context(), r, rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"devices": list})
}

func (h *devicePages) apiCode(w http.ResponseWriter, r *http.Request, rq *request) error {
	var body struct {
		Site vigil.Scope `json:"site"`
		Name string      `json:"name"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	c, err := h.issue(r, rq, body.Site, body.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

// apiEnrol answers 201 with the device and its token, shown once: the
// client keeps it and sends it as the Vigil-Device header.
func (h *devicePages) apiEnrol(w http.ResponseWriter, r *http.Request, rq *request) error {
	var body struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	dev, token, err := h.enrol(r, rq, body.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"device": dev, "token": token})
}

func (h *devicePages) apiRevoke(w http.ResponseWriter, r *http.Request, rq *request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.revoke(r, rq, body.Reason); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"revoked": r.PathValue("id")})
}
