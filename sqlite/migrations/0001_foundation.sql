-- Projections of the event log. Every table here can be dropped and rebuilt
-- from the log; vigil verify does exactly that and compares.
CREATE TABLE cursors (
	origin TEXT PRIMARY KEY,   -- the stream the entries came from
	seq    INTEGER NOT NULL    -- last entry applied
);

-- One row per event: the log viewer's index and the idempotency guard
-- (an event id is applied once, even if a retry stored it twice).
CREATE TABLE events (
	id     TEXT PRIMARY KEY,
	seq    INTEGER NOT NULL,
	pos    INTEGER NOT NULL,   -- position inside the entry
	type   TEXT NOT NULL,
	actor  TEXT NOT NULL,
	role   TEXT NOT NULL,
	scope  TEXT NOT NULL,
	key    TEXT NOT NULL,
	time   TEXT NOT NULL,
	origin TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_seq ON events(seq, pos);
CREATE INDEX events_key ON events(key, seq);

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	display_name  TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	totp_sealed   TEXT NOT NULL DEFAULT '',
	mfa           INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE grants (
	user       TEXT NOT NULL REFERENCES users(name),
	role       TEXT NOT NULL,
	scope      TEXT NOT NULL,
	not_before TEXT NOT NULL DEFAULT '',
	not_after  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (user, role, scope)
) WITHOUT ROWID;

CREATE TABLE counties (
	id   TEXT PRIMARY KEY,
	name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE places (
	id      TEXT PRIMARY KEY,
	county  TEXT NOT NULL,
	name    TEXT NOT NULL,
	address TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE precincts (
	id           TEXT PRIMARY KEY,
	county       TEXT NOT NULL,
	place        TEXT NOT NULL,
	name         TEXT NOT NULL,
	ballot_style TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE elections (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	day          TEXT NOT NULL,
	voting_start TEXT NOT NULL,
	voting_end   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE voters (
	id         TEXT PRIMARY KEY,
	county     TEXT NOT NULL,
	precinct   TEXT NOT NULL,
	first_name TEXT NOT NULL,
	middle     TEXT NOT NULL,
	last_name  TEXT NOT NULL,
	suffix     TEXT NOT NULL,
	birth_date TEXT NOT NULL,
	street     TEXT NOT NULL,
	city       TEXT NOT NULL,
	zip        TEXT NOT NULL,
	party      TEXT NOT NULL,
	status     TEXT NOT NULL,
	registered TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX voters_name ON voters(last_name, first_name);
CREATE INDEX voters_precinct ON voters(precinct);
