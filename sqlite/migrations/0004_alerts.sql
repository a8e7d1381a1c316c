-- Anomaly alerts (issue 10): one row per alert.raised, updated by
-- alert.acknowledged and alert.resolved. Evidence is the JSON list of the
-- events behind the alert (vigil.Evidence).
CREATE TABLE alerts (
	id            TEXT PRIMARY KEY,
	rule          TEXT NOT NULL,
	kind          TEXT NOT NULL,
	severity      TEXT NOT NULL,
	title         TEXT NOT NULL,
	summary       TEXT NOT NULL,
	grp           TEXT NOT NULL,
	window_start  TEXT NOT NULL,
	window_end    TEXT NOT NULL,
	count         REAL NOT NULL,
	threshold     REAL NOT NULL,
	evidence      TEXT NOT NULL,
	raised        TEXT NOT NULL,
	status        TEXT NOT NULL,   -- open, acknowledged, resolved
	ack_by        TEXT NOT NULL DEFAULT '',
	ack_note      TEXT NOT NULL DEFAULT '',
	ack_time      TEXT NOT NULL DEFAULT '',
	resolved_by   TEXT NOT NULL DEFAULT '',
	resolved_note TEXT NOT NULL DEFAULT '',
	resolved_time TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX alerts_status ON alerts(status, raised);
