-- Risk-limiting audits (issue 7), continued: hybrid (SUITE) rounds split
-- their size between the stratum with CVRs and the stratum without, and
-- an audit that escalated to a full hand count records each contest's
-- hand-counted tally. Rebuilt from the log like every table.

ALTER TABLE audit_rounds ADD COLUMN cvr_size    INTEGER NOT NULL DEFAULT 0; -- hybrid: draws in the stratum with CVRs
ALTER TABLE audit_rounds ADD COLUMN no_cvr_size INTEGER NOT NULL DEFAULT 0; -- hybrid: draws in the stratum without

CREATE TABLE audit_hand_counts (
	audit   TEXT NOT NULL,
	contest TEXT NOT NULL,
	count   TEXT NOT NULL, -- vigil.AuditHandCount as JSON
	outcome TEXT NOT NULL, -- confirmed, overturned or tied
	seq     INTEGER NOT NULL, -- order of recording
	actor   TEXT NOT NULL,
	time    TEXT NOT NULL,
	PRIMARY KEY (audit, contest)
) WITHOUT ROWID;

-- Batch comparison audits of several contests: a board counts each
-- audited contest of a drawn batch, so a count is keyed by its contest
-- too ('' for counts of single-contest audits recorded before).
CREATE TABLE audit_batch_counts_by_contest (
	audit   TEXT NOT NULL,
	round   INTEGER NOT NULL,
	batch   TEXT NOT NULL, -- jurisdiction/tabulator/batch
	contest TEXT NOT NULL,
	board   TEXT NOT NULL,
	count   TEXT NOT NULL, -- vigil.AuditBatchCount as JSON
	actor   TEXT NOT NULL,
	time    TEXT NOT NULL,
	PRIMARY KEY (audit, round, batch, contest)
) WITHOUT ROWID;
INSERT INTO audit_batch_counts_by_contest(audit, round, batch, contest, board, count, actor, time)
	SELECT audit, round, batch, '', board, count, actor, time FROM audit_batch_counts;
DROP TABLE audit_batch_counts;
ALTER TABLE audit_batch_counts_by_contest RENAME TO audit_batch_counts;
