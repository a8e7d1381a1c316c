-- The voting-technology register (issue 8). Rebuilt from the log like every table.

-- One row per device record: the whole record as JSON (vigil.Device) and the
-- columns the pages filter and sort on.
CREATE TABLE devices (
	id           TEXT PRIMARY KEY,
	county       TEXT NOT NULL,      -- county id the jurisdiction resolved to, '' if none
	jurisdiction TEXT NOT NULL,
	kind         TEXT NOT NULL,
	status       TEXT NOT NULL,
	record       TEXT NOT NULL,      -- vigil.Device as JSON
	registered   TEXT NOT NULL,
	updated      TEXT NOT NULL,
	updated_by   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX devices_county ON devices(county, jurisdiction, id);

-- The chain of custody: one row per custody.transferred event.
CREATE TABLE device_custody (
	event    TEXT PRIMARY KEY,
	device   TEXT NOT NULL,
	time     TEXT NOT NULL,      -- the hand-over, as recorded
	from_loc TEXT NOT NULL,
	to_loc   TEXT NOT NULL,
	carrier  TEXT NOT NULL,
	seals    TEXT NOT NULL,      -- separated by ';'
	note     TEXT NOT NULL,
	actor    TEXT NOT NULL,      -- who recorded it
	recorded TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX device_custody_device ON device_custody(device, time);

-- Security advisories, the last import of each id winning.
CREATE TABLE advisories (
	id       TEXT PRIMARY KEY,
	record   TEXT NOT NULL,      -- vigil.Advisory as JSON
	imported TEXT NOT NULL,
	actor    TEXT NOT NULL
) WITHOUT ROWID;

-- Unit replacement costs: key is 'kind:<kind>' or 'model:<ModelKey>'.
CREATE TABLE equipment_costs (
	key          TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	manufacturer TEXT NOT NULL,
	model        TEXT NOT NULL,
	cents        INTEGER NOT NULL
) WITHOUT ROWID;

-- Settings of the register (the pollbook minimum version).
CREATE TABLE equipment_settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	actor TEXT NOT NULL,
	time  TEXT NOT NULL
) WITHOUT ROWID;

-- Devices refused at sync.
CREATE TABLE device_refusals (
	event   TEXT PRIMARY KEY,
	device  TEXT NOT NULL,
	version TEXT NOT NULL,
	os      TEXT NOT NULL,
	site    TEXT NOT NULL,
	codes   TEXT NOT NULL,
	reasons TEXT NOT NULL,
	actor   TEXT NOT NULL,
	time    TEXT NOT NULL
) WITHOUT ROWID;
