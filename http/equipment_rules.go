package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// The lifecycle rules in force (defaults with the jurisdiction's edits)
// and the form that edits them. Every edit is an equipment.rule_set event.

func (h *equipmentPages) canSetPolicy(rq *request) bool {
	for _, g := range rq.user.Grants {
		if access.Allows(g.Role, access.ActionEquipmentPolicy) && g.Active(h.s.node.Now()) {
			return true
		}
	}
	return false
}

func (h *equipmentPages) renderRules(w http.ResponseWriter, r *http.Request, rq *request, status int, msg, errMsg string) error {
	lines, err := h.eq.RuleLines(r.Context())
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
	}
	h.s.renderPage(w, r, rq, "equipment_rules.html", map[string]any{"Title": "Lifecycle rules", "Lines": lines,
		"Kinds": vigil.DeviceKinds(), "CanEdit": h.canSetPolicy(rq), "Message": msg, "Error": errMsg})
	return nil
}

func (h *equipmentPages) rulesPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return h.renderRules(w, r, rq, http.StatusOK, "", "")
}

// ruleFromForm reads one edit from the page's form.
func ruleFromForm(r *http.Request) (vigil.LifecycleRule, error) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	rule := vigil.LifecycleRule{Rule: f("rule"), Kind: vigil.DeviceKind(f("kind")), OS: f("os"), System: f("system"),
		Version: f("version"), Reason: f("reason"), Remove: f("remove") == "1"}
	if y := f("years"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil {
			return rule, vigil.FieldError("equipment.rule", "years", "%q is not a number of years", y)
		}
		rule.Years = n
	}
	if d := f("date"); d != "" {
		date, err := vigil.ParseDate(d)
		if err != nil || date.YearOnly() || !date.Valid() {
			return rule, vigil.FieldError("equipment.rule", "date", "%q is not a date YYYY-MM-DD", d)
		}
		rule.Date = date
	}
	return rule, nil
}

func (h *equipmentPages) rulesForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	rule, err := ruleFromForm(r)
	if err == nil {
		err = h.eq.SetRule(r.Context(), h.s.actor(rq), rule)
	}
	if err != nil {
		return h.renderRules(w, r, rq, statusOf(vigil.ErrorKind(err)), "", vigil.ErrorMessage(err))
	}
	msg := "Rule " + rule.Key() + " set."
	if rule.Remove {
		msg = "Rule " + rule.Key() + " removed: the default applies again."
	}
	return h.renderRules(w, r, rq, http.StatusOK, msg, "")
}

func (h *equipmentPages) apiRules(w http.ResponseWriter, r *http.Request, rq *request) error {
	rules, err := h.eq.EffectiveRules(r.Context())
	if err != nil {
		return err
	}
	edits, err := h.eq.RuleEdits(r.Context())
	if err != nil {
		return err
	}
	life := map[string]int{"default": rules.LifeOf("")}
	for _, k := range vigil.DeviceKinds() {
		life[string(k)] = rules.LifeOf(k)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"life_years": life, "os_support": rules.OSSupport,
		"withdrawn": rules.Withdrawn, "edits": edits})
}

func (h *equipmentPages) apiSetRule(w http.ResponseWriter, r *http.Request, rq *request) error {
	var rule vigil.LifecycleRule
	if err := decodeJSON(r, &rule); err != nil {
		return err
	}
	if err := h.eq.SetRule(r.Context(), h.s.actor(rq), rule); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rule": rule.Key(), "removed": rule.Remove})
}
