-- Tabulation (issue 6): the election definition, cast vote records, the
-- ballot manifest, publications and reconciliation discrepancies. Rebuilt
-- from the log like every table.

-- The current election definition (election.imported replaces it).
CREATE TABLE tab_election (
	k          INTEGER PRIMARY KEY CHECK (k = 1),
	event      TEXT NOT NULL,
	file       TEXT NOT NULL,
	definition TEXT NOT NULL, -- vigil.Election as JSON
	time       TEXT NOT NULL
);

-- One row per CVR import; complete once its last batch is in.
CREATE TABLE cvr_imports (
	id       TEXT PRIMARY KEY,
	format   TEXT NOT NULL,
	files    TEXT NOT NULL,
	county   TEXT NOT NULL,
	actor    TEXT NOT NULL,
	time     TEXT NOT NULL,
	records  INTEGER NOT NULL,
	complete INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- One row per ballot. record is the vigil.CastVoteRecord in a compact
-- binary form (sqlite/tabulation.go appendCVR); the log keeps the JSON.
CREATE TABLE cvrs (
	id             TEXT PRIMARY KEY,
	import         TEXT NOT NULL,
	tabulator      TEXT NOT NULL,
	batch          TEXT NOT NULL,
	position       INTEGER NOT NULL,
	precinct       TEXT NOT NULL,
	ballot_style   TEXT NOT NULL,
	counting_group TEXT NOT NULL,
	record         BLOB NOT NULL
);
-- No secondary indexes: every read (tally, reconciliation) scans all rows,
-- and each index would slow the import of a million rows.

-- The current ballot manifest (manifest.imported replaces it).
CREATE TABLE manifest_batches (
	tabulator TEXT NOT NULL,
	batch     TEXT NOT NULL,
	container TEXT NOT NULL,
	ballots   INTEGER NOT NULL,
	cvrs      INTEGER NOT NULL,
	event     TEXT NOT NULL,
	PRIMARY KEY (tabulator, batch)
) WITHOUT ROWID;

CREATE TABLE results_publications (
	event      TEXT PRIMARY KEY,
	checkpoint TEXT NOT NULL,
	ballots    INTEGER NOT NULL,
	results    TEXT NOT NULL,
	actor      TEXT NOT NULL,
	time       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE reconciliation_discrepancies (
	event        TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	id           TEXT NOT NULL,
	checkins     INTEGER NOT NULL,
	provisionals INTEGER NOT NULL,
	ballots      INTEGER NOT NULL,
	manifest     INTEGER NOT NULL,
	difference   INTEGER NOT NULL,
	time         TEXT NOT NULL
) WITHOUT ROWID;
