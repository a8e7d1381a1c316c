-- Risk-limiting audits (issue 7): settings, the seed ceremony, boards,
-- rounds with their draws, the boards' readings and sign-offs. The ballot
-- manifests are the tabulation's (manifest_batches, one per county).
-- Rebuilt from the log like every table.

CREATE TABLE audits (
	id          TEXT PRIMARY KEY,
	settings    TEXT NOT NULL, -- vigil.AuditSettings as JSON
	scope       TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created     TEXT NOT NULL,
	seed        TEXT NOT NULL DEFAULT '',
	seed_author TEXT NOT NULL DEFAULT '',
	manifest    TEXT NOT NULL DEFAULT '', -- frozen by round 1, JSON
	reported    TEXT NOT NULL DEFAULT '', -- frozen by round 1, JSON
	batches     TEXT NOT NULL DEFAULT '', -- batch comparison: reported batch tallies, frozen by round 1, JSON
	status      TEXT NOT NULL             -- setup, in_progress, complete, full_hand_count
) WITHOUT ROWID;

CREATE TABLE audit_seed_digits (
	audit TEXT NOT NULL,
	idx   INTEGER NOT NULL,
	digit INTEGER NOT NULL,
	actor TEXT NOT NULL,
	event TEXT NOT NULL,
	time  TEXT NOT NULL,
	PRIMARY KEY (audit, idx)
) WITHOUT ROWID;

CREATE TABLE audit_boards (
	audit        TEXT NOT NULL,
	board        TEXT NOT NULL,
	jurisdiction TEXT NOT NULL,
	member1      TEXT NOT NULL,
	member2      TEXT NOT NULL,
	PRIMARY KEY (audit, board)
) WITHOUT ROWID;

CREATE TABLE audit_rounds (
	audit   TEXT NOT NULL,
	round   INTEGER NOT NULL,
	size    INTEGER NOT NULL,
	cvrs    TEXT NOT NULL DEFAULT '', -- comparison: the drawn ballots' CVRs, JSON; never shown to boards
	closed  TEXT NOT NULL DEFAULT '', -- vigil.AuditRoundClose as JSON once closed
	started TEXT NOT NULL,
	PRIMARY KEY (audit, round)
) WITHOUT ROWID;

CREATE TABLE audit_draws (
	audit        TEXT NOT NULL,
	round        INTEGER NOT NULL,
	n            INTEGER NOT NULL, -- draw order within the round
	ticket       TEXT NOT NULL,
	jurisdiction TEXT NOT NULL,
	container    TEXT NOT NULL,
	tabulator    TEXT NOT NULL,
	batch        TEXT NOT NULL,
	position     INTEGER NOT NULL,
	times        INTEGER NOT NULL,
	board        TEXT NOT NULL,
	PRIMARY KEY (audit, round, n)
) WITHOUT ROWID;

CREATE TABLE audit_readings (
	audit   TEXT NOT NULL,
	round   INTEGER NOT NULL,
	ballot  TEXT NOT NULL, -- jurisdiction/tabulator/batch/position
	board   TEXT NOT NULL,
	reading TEXT NOT NULL, -- vigil.AuditInterpretation as JSON
	actor   TEXT NOT NULL,
	time    TEXT NOT NULL,
	PRIMARY KEY (audit, round, ballot)
) WITHOUT ROWID;

CREATE TABLE audit_signoffs (
	audit  TEXT NOT NULL,
	round  INTEGER NOT NULL,
	board  TEXT NOT NULL,
	batch  TEXT NOT NULL, -- jurisdiction/tabulator/batch
	member TEXT NOT NULL,
	actor  TEXT NOT NULL,
	time   TEXT NOT NULL,
	PRIMARY KEY (audit, round, board, batch, member)
) WITHOUT ROWID;

-- Batch comparison: the boards' hand counts of drawn batches.
CREATE TABLE audit_batch_counts (
	audit TEXT NOT NULL,
	round INTEGER NOT NULL,
	batch TEXT NOT NULL, -- jurisdiction/tabulator/batch
	board TEXT NOT NULL,
	count TEXT NOT NULL, -- vigil.AuditBatchCount as JSON
	actor TEXT NOT NULL,
	time  TEXT NOT NULL,
	PRIMARY KEY (audit, round, batch)
) WITHOUT ROWID;
