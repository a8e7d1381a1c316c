-- Paper fallback at a polling place (issue 4): which sites are on paper,
-- and which check-ins were entered from the paper pollbook.
CREATE TABLE site_modes (
	site   TEXT PRIMARY KEY,   -- county/ID/place/ID
	paper  INTEGER NOT NULL,   -- 1 while on paper
	reason TEXT NOT NULL,
	actor  TEXT NOT NULL,
	time   TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE checkins ADD COLUMN source TEXT NOT NULL DEFAULT '';
