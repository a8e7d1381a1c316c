-- Same-day registration at the polls (issue 4 §2): whether a county allows
-- it (its state's law), set by county.policy_set.
ALTER TABLE counties ADD COLUMN same_day_registration INTEGER NOT NULL DEFAULT 0;
ALTER TABLE counties ADD COLUMN policy_actor TEXT NOT NULL DEFAULT '';
ALTER TABLE counties ADD COLUMN policy_reason TEXT NOT NULL DEFAULT '';
