-- The voter registration system (issue 3). It extends the foundation's
-- minimal roll: the demo's voter.registered rows keep their columns and the
-- check-in lookup keeps working; voter.added / voter.changed / voter.merged
-- fill the new columns too. `record` holds the full vigil.VoterRecord as
-- JSON (identifiers sealed), '' for rows from voter.registered.
ALTER TABLE voters ADD COLUMN gender        TEXT NOT NULL DEFAULT '';
ALTER TABLE voters ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE voters ADD COLUMN fingerprint   TEXT NOT NULL DEFAULT '';
ALTER TABLE voters ADD COLUMN merged_into   TEXT NOT NULL DEFAULT '';
ALTER TABLE voters ADD COLUMN updated       TEXT NOT NULL DEFAULT '';
ALTER TABLE voters ADD COLUMN record        TEXT NOT NULL DEFAULT '';

-- Search keys (voter.SearchKeys), stored as 64-bit hashes: a collision only
-- adds a candidate, which ranking then drops.
CREATE TABLE voter_keys (
	h  INTEGER NOT NULL,
	id TEXT NOT NULL,
	PRIMARY KEY (h, id)
) WITHOUT ROWID;

-- One row per event that touched a voter: the history page joins events for
-- who and when; reason, detail and the changed parts are here.
CREATE TABLE voter_history (
	id      TEXT NOT NULL,
	event   TEXT NOT NULL,
	type    TEXT NOT NULL,
	reason  TEXT NOT NULL,
	detail  TEXT NOT NULL,
	changes TEXT NOT NULL,
	PRIMARY KEY (id, event)
) WITHOUT ROWID;

-- Imports and exports, for the list maintenance page and audits.
CREATE TABLE voter_imports (
	id        TEXT PRIMARY KEY,
	event     TEXT NOT NULL,
	file      TEXT NOT NULL,
	layout    TEXT NOT NULL,
	sha256    TEXT NOT NULL,
	rows      INTEGER NOT NULL,
	rejected  INTEGER NOT NULL,
	added     INTEGER NOT NULL,
	changed   INTEGER NOT NULL,
	unchanged INTEGER NOT NULL
) WITHOUT ROWID;
