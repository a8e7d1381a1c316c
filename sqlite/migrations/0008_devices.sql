-- Editable lifecycle rules (issue 8) and enrolled pollbook devices (issue 4).
-- Rebuilt from the log like every table.

-- The jurisdiction's edits of the lifecycle rules, one row per rule key
-- (vigil.LifecycleRule.Key); applied over the defaults in seq order.
CREATE TABLE equipment_rules (
	key    TEXT PRIMARY KEY,
	seq    INTEGER NOT NULL,  -- the log entry of the last edit
	record TEXT NOT NULL,     -- vigil.LifecycleRule as JSON
	actor  TEXT NOT NULL,
	time   TEXT NOT NULL
) WITHOUT ROWID;

-- One-time enrolment codes. Only the code's hash is stored; its subject
-- ev.device.<id> holds the issue and then the single redemption.
CREATE TABLE enrolment_codes (
	id        TEXT PRIMARY KEY,  -- enrol-<first 16 hex of SHA-256(code)>
	seq       INTEGER NOT NULL,  -- last entry on the code's subject
	code_hash TEXT NOT NULL,     -- hex SHA-256 of the normalized code
	site      TEXT NOT NULL,     -- the polling-place scope the device will serve
	name      TEXT NOT NULL,     -- a label, e.g. "Table 3 tablet"
	expires   TEXT NOT NULL,
	issued_by TEXT NOT NULL,
	issued    TEXT NOT NULL,
	device    TEXT NOT NULL DEFAULT ''  -- set when redeemed
) WITHOUT ROWID;

-- Enrolled pollbook devices. A device is identified by its key: only the
-- key's SHA-256 is stored, and the device id is derived from it.
CREATE TABLE pollbook_devices (
	id          TEXT PRIMARY KEY,
	key_hash    TEXT NOT NULL,
	site        TEXT NOT NULL,
	county      TEXT NOT NULL,
	name        TEXT NOT NULL,
	version     TEXT NOT NULL,   -- vigil version last reported
	os          TEXT NOT NULL,   -- operating system last reported
	enrolled_by TEXT NOT NULL,
	enrolled    TEXT NOT NULL,
	reported    TEXT NOT NULL,   -- time of the last version report
	status      TEXT NOT NULL,   -- enrolled | revoked
	revoked_by  TEXT NOT NULL DEFAULT '',
	revoked     TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX pollbook_devices_site ON pollbook_devices(county, site);
