// Package access decides who may do what: the permission matrix (role ×
// action with scope and time-window rules), passwords (argon2id), TOTP, and
// login throttling.
//
// Default deny: an action not in the matrix, a role not listed for it, a
// target outside every grant's scope or a grant outside its time window is
// refused. Every route and CLI command names the action it performs; tests
// fail if one does not appear here.
package access

import (
	"sort"
	"time"

	"github.com/vigil-elections/vigil"
)

// Action is one thing a user can ask vigil to do.
type Action string

// Actions. Append-only: names appear in logged denials.
const (
	ActionPublic        Action = "public"         // no session needed: login page, health, static files
	ActionHomeView      Action = "home.view"      // a home page, for any signed-in user
	ActionAccountManage Action = "account.manage" // own password and MFA
	ActionUserRead      Action = "user.read"
	ActionUserManage    Action = "user.manage" // create, disable, grant and revoke roles
	ActionLogRead       Action = "log.read"    // event metadata, checkpoints, proofs
	ActionLogVerify     Action = "log.verify"  // run verification of log and projections
	ActionCheckpointGet Action = "checkpoint.read"
	ActionVoterRead     Action = "voter.read"   // full record
	ActionVoterLookup   Action = "voter.lookup" // check-in view: name, address, birth year, status
	ActionVoterWrite    Action = "voter.write"  // register, change
	ActionVoterExport   Action = "voter.export" // bulk export of the roll
	ActionVoterImport   Action = "voter.import" // bulk import of a state file
	ActionJurisdiction  Action = "jurisdiction.manage"
	ActionBench         Action = "bench.run" // CLI only: write synthetic load to a node
	ActionNodeAdmin     Action = "node.admin"
	ActionFileCompute   Action = "file.compute"  // CLI math on the caller's own files (audit sample sizes)
	ActionAlertRead     Action = "alert.read"    // anomaly alerts with their evidence, detection status
	ActionAlertManage   Action = "alert.manage"  // acknowledge and resolve alerts, with a note
	ActionVoterMerge    Action = "voter.merge"   // cancel a registration as a duplicate of another, with a reason
	ActionVoterHistory  Action = "voter.history" // after an election, write who voted, how and where back to the roll

	// Pollbooks (pollbook.go).
	ActionPollbookCheckIn    Action = "pollbook.checkin"    // find voters in the county, check in at the place
	ActionPollbookUndo       Action = "pollbook.undo"       // undo a mistaken check-in, with a reason
	ActionProvisionalIssue   Action = "provisional.issue"   // issue a provisional ballot at the place
	ActionPollbookAdjudicate Action = "pollbook.adjudicate" // accept or reject provisionals; record mail ballots
	ActionTurnoutRead        Action = "turnout.read"        // live turnout and check-in rate
	ActionPollbookPaper      Action = "pollbook.paper"      // switch a place to the paper pollbook and back; enter paper check-ins
	ActionPollbookRegister   Action = "pollbook.register"   // same-day registration at the polls, where the county allows it
	ActionCountyPolicy       Action = "county.policy"       // set a county's election-day rules (same-day registration)
	ActionTabulationImport   Action = "tabulation.import"   // upload an election definition, CVRs, a ballot manifest
	ActionTabulationRead     Action = "tabulation.read"     // unpublished tallies and reconciliation
	ActionResultsPublish     Action = "results.publish"     // publish the current count
	ActionResultsRead        Action = "results.read"        // published results (public; nothing before publication)

	// Recovery (backup/, paper/).
	ActionBackupRun     Action = "backup.run"     // write an encrypted backup of the whole node (recovery)
	ActionBackupVerify  Action = "backup.verify"  // decrypt and check a backup; restore it into a scratch directory (drill)
	ActionBackupRestore Action = "backup.restore" // restore a backup into a new data directory
	ActionPaperPrint    Action = "paper.print"    // paper pollbooks, envelopes, voted lists, key sheets
	ActionMirrorAllow   Action = "mirror.allow"   // on the hub: admit a remote mirror and issue its credential
	ActionMirrorRun     Action = "mirror.run"     // run a remote mirror site of a hub (read-only pages and API)
	ActionMirrorPromote Action = "mirror.promote" // make a stopped mirror the primary after a disaster
	ActionSiteAllow     Action = "site.allow"     // on the hub: admit a polling-place site and issue its credential
	ActionSiteRun       Action = "site.run"       // run a polling-place site node (a leaf of the hub)
	ActionSiteRead      Action = "site.read"      // a site's link state and what waits to be sent; the hub's sites

	// The campaign security desk (vigil campaign.go). A firm reaches a campaign's data only through an active engagement, which the handlers check; the officer never reads self-assessments.
	ActionCampaignRead      Action = "campaign.read"      // profile, help requests, engagements, incidents, access log
	ActionCampaignManage    Action = "campaign.manage"    // register a campaign, edit its profile and contacts
	ActionCampaignAssess    Action = "campaign.assess"    // save a self-assessment
	ActionAssessmentRead    Action = "assessment.read"    // self-assessments with their evidence notes
	ActionHelpRequest       Action = "help.request"       // ask the desk for help
	ActionFirmRead          Action = "firm.read"          // the firms list (what each role may see of it)
	ActionFirmApply         Action = "firm.apply"         // a firm applies or changes its application
	ActionFirmVet           Action = "firm.vet"           // approve, reject or suspend a firm
	ActionEngagementConsent Action = "engagement.consent" // only the campaign consents to an engagement
	ActionEngagementRevoke  Action = "engagement.revoke"  // end an engagement at once
	ActionIncidentReport    Action = "incident.report"    // a campaign reports an incident
	ActionIncidentRead      Action = "incident.read"      // incident reports and their status
	ActionIncidentUpdate    Action = "incident.update"    // change an incident's status, with a note

	// Voting equipment (vigil equipment.go, package equipment). Managers edit devices in their county; costs need the state scope.
	ActionEquipmentRead   Action = "equipment.read"         // inventory, chain of custody, outdated devices, replacement plan
	ActionEquipmentWrite  Action = "equipment.write"        // import and edit devices, record custody transfers, set unit costs
	ActionEquipmentPolicy Action = "equipment.policy"       // import security advisories; set the minimum pollbook version
	ActionDeviceCheck     Action = "equipment.device_check" // a pollbook device reports its version at sync and may be refused
	ActionDeviceRead      Action = "device.read"            // enrolled pollbook devices: site, version, OS, status
	ActionDeviceManage    Action = "device.manage"          // issue one-time enrolment codes; revoke a device
	ActionDeviceEnrol     Action = "device.enrol"           // redeem an enrolment code on the device itself

	// Risk-limiting audits (vigil audit_workflow.go, package auditflow). The seed's author never sits on one of the audit's boards, and a board member acts only for their own board: the service and handlers check both.
	ActionAuditRead      Action = "audit.read"      // audits' settings, the live seed ceremony, rounds and risk measures
	ActionAuditReport    Action = "audit.report"    // the full sample, the audit report and the public verification bundle
	ActionAuditManage    Action = "audit.manage"    // create an audit, enter seed digits, create boards, draw and close rounds
	ActionAuditRetrieval Action = "audit.retrieval" // a board's retrieval list (members: their own board only)
	ActionAuditEnter     Action = "audit.enter"     // a board's interpretations and batch sign-offs
)

// Rule grants an action to a role. Scoped rules are checked against the
// grant's scope; unscoped rules (the action has no target) need only the
// role. Write marks actions that change data: roles that hold one outside a
// polling place need MFA.
type Rule struct {
	Roles  []vigil.Role
	Scoped bool
	Write  bool
	Public bool
}

var (
	admins     = []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin}
	everyone   = append([]vigil.Role(nil), vigil.HumanRoles...)
	logReaders = []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleSecurityOfficer,
		vigil.RoleObserver, vigil.RoleAuditAdmin}
)

// Matrix is the permission matrix. It is data: read it to audit vigil's
// access policy.
var Matrix = map[Action]Rule{
	ActionPublic:        {Public: true},
	ActionHomeView:      {Roles: everyone},
	ActionAccountManage: {Roles: everyone},
	ActionUserRead:      {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}, Scoped: true},
	ActionUserManage:    {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionLogRead:       {Roles: append(logReaders, vigil.RoleOperator)},
	ActionLogVerify:     {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}},
	ActionCheckpointGet: {Public: true},
	ActionVoterRead:     {Roles: append(admins, vigil.RoleRegistrar), Scoped: true},
	ActionVoterLookup:   {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor, vigil.RoleRegistrar, vigil.RoleCountyAdmin, vigil.RoleStateAdmin}, Scoped: true},
	ActionVoterWrite:    {Roles: []vigil.Role{vigil.RoleRegistrar}, Scoped: true, Write: true},
	ActionVoterExport:   {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true},
	ActionVoterImport:   {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionJurisdiction:  {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleOperator}, Write: true},
	ActionBench:         {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionNodeAdmin:     {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionFileCompute:   {Public: true},
	ActionAlertRead:     {Roles: []vigil.Role{vigil.RoleSecurityOfficer, vigil.RoleStateAdmin, vigil.RoleOperator}},
	ActionAlertManage:   {Roles: []vigil.Role{vigil.RoleSecurityOfficer, vigil.RoleOperator}, Write: true},
	ActionVoterMerge:    {Roles: []vigil.Role{vigil.RoleRegistrar, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionVoterHistory:  {Roles: []vigil.Role{vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleOperator}, Scoped: true, Write: true},

	// Pollbooks.
	ActionPollbookCheckIn:    {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor}, Scoped: true, Write: true},
	ActionPollbookUndo:       {Roles: []vigil.Role{vigil.RolePollSupervisor}, Scoped: true, Write: true},
	ActionProvisionalIssue:   {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor}, Scoped: true, Write: true},
	ActionPollbookAdjudicate: {Roles: []vigil.Role{vigil.RoleCountyAdmin}, Scoped: true, Write: true},
	ActionTurnoutRead:        {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor, vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleObserver}, Scoped: true},
	ActionPollbookPaper:      {Roles: []vigil.Role{vigil.RolePollSupervisor, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionPollbookRegister:   {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor}, Scoped: true, Write: true},
	ActionCountyPolicy:       {Roles: []vigil.Role{vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionTabulationImport:   {Roles: []vigil.Role{vigil.RoleTabulator, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionTabulationRead:     {Roles: []vigil.Role{vigil.RoleTabulator, vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleOperator}, Scoped: true},
	ActionResultsPublish:     {Roles: []vigil.Role{vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionResultsRead:        {Public: true},

	ActionBackupRun:     {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleOperator}, Write: true},
	ActionBackupVerify:  {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}},
	ActionBackupRestore: {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionPaperPrint:    {Roles: []vigil.Role{vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RolePollSupervisor, vigil.RoleOperator}, Scoped: true},
	ActionMirrorAllow:   {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionMirrorRun:     {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionMirrorPromote: {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionSiteAllow:     {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionSiteRun:       {Roles: []vigil.Role{vigil.RoleOperator}, Write: true},
	ActionSiteRead:      {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor, vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleOperator}},

	// The campaign security desk.
	ActionCampaignRead:      {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityFirm, vigil.RoleSecurityOfficer, vigil.RoleOperator}, Scoped: true},
	ActionCampaignManage:    {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityOfficer}, Scoped: true, Write: true},
	ActionCampaignAssess:    {Roles: []vigil.Role{vigil.RoleCampaignStaff}, Scoped: true, Write: true},
	ActionAssessmentRead:    {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityFirm}, Scoped: true},
	ActionHelpRequest:       {Roles: []vigil.Role{vigil.RoleCampaignStaff}, Scoped: true, Write: true},
	ActionFirmRead:          {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityFirm, vigil.RoleSecurityOfficer}, Scoped: true},
	ActionFirmApply:         {Roles: []vigil.Role{vigil.RoleSecurityFirm}, Scoped: true, Write: true},
	ActionFirmVet:           {Roles: []vigil.Role{vigil.RoleSecurityOfficer}, Scoped: true, Write: true},
	ActionEngagementConsent: {Roles: []vigil.Role{vigil.RoleCampaignStaff}, Scoped: true, Write: true},
	ActionEngagementRevoke:  {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityOfficer, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionIncidentReport:    {Roles: []vigil.Role{vigil.RoleCampaignStaff}, Scoped: true, Write: true},
	ActionIncidentRead:      {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityFirm, vigil.RoleSecurityOfficer}, Scoped: true},
	ActionIncidentUpdate:    {Roles: []vigil.Role{vigil.RoleCampaignStaff, vigil.RoleSecurityFirm, vigil.RoleSecurityOfficer}, Scoped: true, Write: true},

	// Voting equipment: least privilege; security officers and admins read, managers edit in their county.
	ActionEquipmentRead:   {Roles: []vigil.Role{vigil.RoleEquipmentManager, vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleSecurityOfficer, vigil.RoleOperator}, Scoped: true},
	ActionEquipmentWrite:  {Roles: []vigil.Role{vigil.RoleEquipmentManager, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionEquipmentPolicy: {Roles: []vigil.Role{vigil.RoleSecurityOfficer, vigil.RoleOperator}, Write: true},
	ActionDeviceCheck:     {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor}, Scoped: true, Write: true},
	ActionDeviceRead:      {Roles: []vigil.Role{vigil.RolePollSupervisor, vigil.RoleCountyAdmin, vigil.RoleStateAdmin, vigil.RoleSecurityOfficer, vigil.RoleEquipmentManager, vigil.RoleOperator}, Scoped: true},
	ActionDeviceManage:    {Roles: []vigil.Role{vigil.RolePollSupervisor, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionDeviceEnrol:     {Roles: []vigil.Role{vigil.RolePollWorker, vigil.RolePollSupervisor}, Scoped: true, Write: true},

	// Risk-limiting audits: observers read everything public; boards only their own lists.
	ActionAuditRead:      {Roles: []vigil.Role{vigil.RoleAuditAdmin, vigil.RoleAuditBoard, vigil.RoleObserver, vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true},
	ActionAuditReport:    {Roles: []vigil.Role{vigil.RoleAuditAdmin, vigil.RoleObserver, vigil.RoleStateAdmin, vigil.RoleCountyAdmin, vigil.RoleOperator}, Scoped: true},
	ActionAuditManage:    {Roles: []vigil.Role{vigil.RoleAuditAdmin, vigil.RoleOperator}, Scoped: true, Write: true},
	ActionAuditRetrieval: {Roles: []vigil.Role{vigil.RoleAuditAdmin, vigil.RoleAuditBoard, vigil.RoleOperator}, Scoped: true},
	ActionAuditEnter:     {Roles: []vigil.Role{vigil.RoleAuditBoard, vigil.RoleOperator}, Scoped: true, Write: true},
}

// Actions lists the matrix's actions, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(Matrix))
	for a := range Matrix {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Allows reports whether role may perform action at all (ignoring scope).
func Allows(role vigil.Role, action Action) bool {
	r, ok := Matrix[action]
	if !ok {
		return false
	}
	if r.Public {
		return true
	}
	for _, x := range r.Roles {
		if x == role {
			return true
		}
	}
	return false
}

// Decision is the outcome of Authorize: the grant that allowed the action,
// or why it was refused.
type Decision struct {
	Allowed bool
	Grant   vigil.Grant // the grant used
	Reason  string      // why not, in plain words
}

// Authorize decides whether a user holding grants may perform action on
// target (a scope; "" for actions without a target) at time now.
func Authorize(grants []vigil.Grant, action Action, target vigil.Scope, now time.Time) Decision {
	rule, ok := Matrix[action]
	if !ok {
		return Decision{Reason: "action " + string(action) + " is not in the permission matrix"}
	}
	if rule.Public {
		return Decision{Allowed: true}
	}
	reason := "no role of yours may " + string(action)
	for _, g := range grants {
		if !Allows(g.Role, action) {
			continue
		}
		if rule.Scoped && target != "" && !g.Scope.Contains(target) {
			reason = "your " + string(g.Role) + " role covers " + string(g.Scope) + ", not " + string(target)
			continue
		}
		if !g.Active(now) {
			reason = "your " + string(g.Role) + " role is not active now (it is limited to the voting period)"
			continue
		}
		return Decision{Allowed: true, Grant: g}
	}
	return Decision{Reason: reason}
}

// NeedsMFA reports whether a user with these grants must use TOTP: anyone
// whose roles can change data outside a polling place.
func NeedsMFA(grants []vigil.Grant) bool {
	for _, g := range grants {
		if g.Scope.Kind() == "place" {
			continue
		}
		for a, r := range Matrix {
			if r.Write && Allows(g.Role, a) && !r.Public {
				return true
			}
		}
	}
	return false
}
