-- The campaign security desk (issue 9). Tenant content (contacts,
-- assessments, help requests, incident reports, notes) arrives sealed with
-- the node's secrets key and is stored sealed: the HTTP layer opens it for
-- readers the matrix and the engagements allow. Identifiers, statuses and
-- times are in clear so that access checks and lists need no key.
CREATE TABLE campaigns (
	id      TEXT PRIMARY KEY,
	sealed  TEXT NOT NULL,   -- vigil.Campaign
	created TEXT NOT NULL,
	updated TEXT NOT NULL
) WITHOUT ROWID;

-- Every saved self-assessment: progress over time.
CREATE TABLE campaign_assessments (
	event    TEXT PRIMARY KEY,
	campaign TEXT NOT NULL,
	time     TEXT NOT NULL,
	actor    TEXT NOT NULL,
	sealed   TEXT NOT NULL   -- []vigil.ControlAnswer
) WITHOUT ROWID;
CREATE INDEX campaign_assessments_campaign ON campaign_assessments(campaign, time);

CREATE TABLE firms (
	id          TEXT PRIMARY KEY,
	sealed      TEXT NOT NULL,   -- vigil.Firm
	status      TEXT NOT NULL,   -- vigil.FirmStatus
	applied     TEXT NOT NULL,
	applied_by  TEXT NOT NULL,
	vetted      TEXT NOT NULL DEFAULT '',
	vetted_by   TEXT NOT NULL DEFAULT '',
	note_sealed TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE help_requests (
	id       TEXT PRIMARY KEY,
	campaign TEXT NOT NULL,
	time     TEXT NOT NULL,
	actor    TEXT NOT NULL,
	sealed   TEXT NOT NULL   -- vigil.HelpRequest
) WITHOUT ROWID;
CREATE INDEX help_requests_campaign ON help_requests(campaign, time);

CREATE TABLE engagements (
	id            TEXT PRIMARY KEY,
	campaign      TEXT NOT NULL,
	firm          TEXT NOT NULL,
	request       TEXT NOT NULL,
	not_before    TEXT NOT NULL,
	not_after     TEXT NOT NULL,
	consented_by  TEXT NOT NULL,
	revoked       TEXT NOT NULL DEFAULT '',
	revoked_by    TEXT NOT NULL DEFAULT '',
	reason_sealed TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX engagements_firm ON engagements(firm, campaign);
CREATE INDEX engagements_campaign ON engagements(campaign);

-- Every access a firm made to a campaign's data.
CREATE TABLE campaign_access (
	event      TEXT PRIMARY KEY,
	campaign   TEXT NOT NULL,
	firm       TEXT NOT NULL,
	engagement TEXT NOT NULL,
	actor      TEXT NOT NULL,
	what       TEXT NOT NULL,
	time       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX campaign_access_campaign ON campaign_access(campaign, time);

CREATE TABLE incidents (
	id       TEXT PRIMARY KEY,
	campaign TEXT NOT NULL,
	sealed   TEXT NOT NULL,   -- vigil.Incident
	status   TEXT NOT NULL,
	reporter TEXT NOT NULL,
	reported TEXT NOT NULL,
	updated  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX incidents_campaign ON incidents(campaign, reported);

CREATE TABLE incident_updates (
	event       TEXT PRIMARY KEY,
	incident    TEXT NOT NULL,
	status      TEXT NOT NULL,
	note_sealed TEXT NOT NULL,
	actor       TEXT NOT NULL,
	role        TEXT NOT NULL,
	time        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX incident_updates_incident ON incident_updates(incident, time);
