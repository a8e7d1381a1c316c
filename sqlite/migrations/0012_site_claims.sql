-- A polling-place site's own check-ins (issue 4, decision 0008): every
-- check-in the site made, online or cut off from the hub, from its own log
-- (the SITE stream). The eligibility check reads it besides checkins, so a
-- voter checked in here is refused here even before (or without) the hub's
-- copy arriving. Empty on the hub. Rebuilt from the site's log at start.
CREATE TABLE site_claims (
	voter    TEXT PRIMARY KEY,
	site_seq INTEGER NOT NULL,  -- the entry in the site's log: the claim sequence there
	event    TEXT NOT NULL,     -- the checkin.recorded event id (the same on the hub)
	election TEXT NOT NULL,
	record   TEXT NOT NULL,     -- the vigil.CheckInRecord as JSON
	hub_seq  INTEGER NOT NULL   -- the hub's entry once it holds the check-in; 0 before
) WITHOUT ROWID;

-- How far the site's log has been merged into the hub's.
CREATE TABLE site_state (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
