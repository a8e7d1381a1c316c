-- Tabulation per county (issue 6): a ballot id is unique within its
-- county, not across the state (two counties' Dominion exports both have a
-- ballot "1-1-1"); each county has its own ballot manifest; a publication
-- names the county it publishes ("" for a statewide publication).

-- cvrs gains its county (the import's) and is unique per county. It keeps
-- as columns only what SQL reads (reconciliation groups by precinct and
-- batch); the rest is in record. The rows are copied in their order, so a
-- tally reads them as before.
CREATE TABLE cvrs_by_county (
	county    TEXT NOT NULL,
	id        TEXT NOT NULL,
	import    TEXT NOT NULL,
	tabulator TEXT NOT NULL,
	batch     TEXT NOT NULL,
	precinct  TEXT NOT NULL,
	record    BLOB NOT NULL,
	UNIQUE (county, id)
);
INSERT INTO cvrs_by_county(county, id, import, tabulator, batch, precinct, record)
	SELECT i.county, c.id, c.import, c.tabulator, c.batch, c.precinct, c.record
	FROM cvrs c JOIN cvr_imports i ON i.id = c.import ORDER BY c.rowid;
DROP TABLE cvrs;
ALTER TABLE cvrs_by_county RENAME TO cvrs;

-- One manifest per county: manifest.imported replaces its county's batches
-- only. Rows kept from before this migration have no county (their event
-- did not say one to this table); a re-import sets it.
CREATE TABLE manifest_by_county (
	county    TEXT NOT NULL,
	tabulator TEXT NOT NULL,
	batch     TEXT NOT NULL,
	container TEXT NOT NULL,
	ballots   INTEGER NOT NULL,
	cvrs      INTEGER NOT NULL,
	event     TEXT NOT NULL,
	PRIMARY KEY (county, tabulator, batch)
) WITHOUT ROWID;
INSERT INTO manifest_by_county(county, tabulator, batch, container, ballots, cvrs, event)
	SELECT '', tabulator, batch, container, ballots, cvrs, event FROM manifest_batches;
DROP TABLE manifest_batches;
ALTER TABLE manifest_by_county RENAME TO manifest_batches;

ALTER TABLE results_publications ADD COLUMN county TEXT NOT NULL DEFAULT '';
ALTER TABLE reconciliation_discrepancies ADD COLUMN county TEXT NOT NULL DEFAULT '';
