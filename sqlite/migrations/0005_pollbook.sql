-- Electronic pollbooks (issue 4). Rebuilt from the log like every table.

-- One row per voter ever checked in: the state of the voter's check-in
-- subject ev.checkin.<voter>. seq is the log entry of the last event on that
-- subject, which the next claim expects (an undo keeps the row, state
-- 'undone', so the next check-in claims over the undo).
CREATE TABLE checkins (
	voter        TEXT PRIMARY KEY,
	seq          INTEGER NOT NULL,
	state        TEXT NOT NULL,      -- checked_in | undone
	event        TEXT NOT NULL,      -- the checkin.recorded event id
	election     TEXT NOT NULL,
	county       TEXT NOT NULL,
	place        TEXT NOT NULL,
	precinct     TEXT NOT NULL,
	ballot_style TEXT NOT NULL,
	method       TEXT NOT NULL,
	identity     TEXT NOT NULL,
	device       TEXT NOT NULL,
	actor        TEXT NOT NULL,
	origin       TEXT NOT NULL,
	time         TEXT NOT NULL,
	undo_actor   TEXT NOT NULL DEFAULT '',
	undo_time    TEXT NOT NULL DEFAULT '',
	undo_reason  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX checkins_place ON checkins(election, place, state);

-- Refused check-ins (attempted double votes, wrong place, out of period).
CREATE TABLE checkin_refusals (
	event    TEXT PRIMARY KEY,
	voter    TEXT NOT NULL,
	election TEXT NOT NULL,
	site     TEXT NOT NULL,
	reason   TEXT NOT NULL,
	actor    TEXT NOT NULL,
	time     TEXT NOT NULL
) WITHOUT ROWID;

-- Provisional ballots: one row per envelope (county, number).
CREATE TABLE provisionals (
	county          TEXT NOT NULL,
	envelope        TEXT NOT NULL,
	seq             INTEGER NOT NULL, -- last entry on the envelope's subject
	election        TEXT NOT NULL,
	place           TEXT NOT NULL,
	reason          TEXT NOT NULL,
	voter           TEXT NOT NULL,
	first_name      TEXT NOT NULL,
	last_name       TEXT NOT NULL,
	birth_date      TEXT NOT NULL,
	address         TEXT NOT NULL,
	note            TEXT NOT NULL,
	actor           TEXT NOT NULL,
	time            TEXT NOT NULL,
	status          TEXT NOT NULL,    -- pending | accepted | rejected
	decision_reason TEXT NOT NULL DEFAULT '',
	decided_by      TEXT NOT NULL DEFAULT '',
	decided_at      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (county, envelope)
) WITHOUT ROWID;
CREATE INDEX provisionals_status ON provisionals(county, status);

-- Cross-site duplicates found when a site's offline check-ins are merged
-- into the hub's log (docs/decisions/0008-sites.md): both check-ins named.
CREATE TABLE checkin_conflicts (
	event        TEXT PRIMARY KEY,   -- the checkin.conflicted event
	voter        TEXT NOT NULL,
	election     TEXT NOT NULL,
	kept_event   TEXT NOT NULL,
	kept_place   TEXT NOT NULL,
	kept_actor   TEXT NOT NULL,
	kept_time    TEXT NOT NULL,
	other_event  TEXT NOT NULL,
	other_place  TEXT NOT NULL,
	other_actor  TEXT NOT NULL,
	other_origin TEXT NOT NULL,
	other_time   TEXT NOT NULL,
	time         TEXT NOT NULL,
	status       TEXT NOT NULL,      -- open | resolved
	outcome      TEXT NOT NULL DEFAULT '',
	resolved_by  TEXT NOT NULL DEFAULT '',
	resolved_at  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX checkin_conflicts_status ON checkin_conflicts(status, time);
CREATE INDEX checkin_conflicts_other ON checkin_conflicts(other_event);
