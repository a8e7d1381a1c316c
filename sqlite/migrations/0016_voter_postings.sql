-- Search keys as posting lists (docs/decisions/0011-search-key-postings.md):
-- one row per key and chunk of sorted voter IDs instead of one row per key
-- and voter, about a fifth of the rows. The layout is canonical (see
-- sqlite/voters_postings.go): an ID starts a chunk when chunkStart says so,
-- computed here from the same bytes, so a converted projection holds the
-- rows a rebuild from the log gives.
CREATE TABLE voter_postings (
	h     INTEGER NOT NULL, -- the key's hash (keyHash)
	first TEXT NOT NULL,    -- the ID starting the chunk; '' for the head
	n     INTEGER NOT NULL, -- head row: the key's voters; 0 in the others
	ids   TEXT NOT NULL,    -- the chunk's IDs, sorted, joined by a newline
	PRIMARY KEY (h, first)
) WITHOUT ROWID;

-- chunkStart(h, id): ((h >> 8) & 0xFFFFFF) + the last four bytes of id
-- (0 where it is shorter) weighted 1, 7, 23, 41, divisible by 61. A byte is
-- read from hex(), which gives the bytes of the ID's UTF-8 text.
CREATE TEMP TABLE voter_keys_marked AS
	SELECT h, id, CASE WHEN (((h >> 8) & 16777215)
		+ 1  * (CASE WHEN length(CAST(id AS BLOB)) >= 1 THEN
			(instr('0123456789ABCDEF', substr(hex(id), -2, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(id), -1, 1)) - 1 ELSE 0 END)
		+ 7  * (CASE WHEN length(CAST(id AS BLOB)) >= 2 THEN
			(instr('0123456789ABCDEF', substr(hex(id), -4, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(id), -3, 1)) - 1 ELSE 0 END)
		+ 23 * (CASE WHEN length(CAST(id AS BLOB)) >= 3 THEN
			(instr('0123456789ABCDEF', substr(hex(id), -6, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(id), -5, 1)) - 1 ELSE 0 END)
		+ 41 * (CASE WHEN length(CAST(id AS BLOB)) >= 4 THEN
			(instr('0123456789ABCDEF', substr(hex(id), -8, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(hex(id), -7, 1)) - 1 ELSE 0 END)
		) % 61 = 0 THEN 1 ELSE 0 END AS start
	FROM voter_keys WHERE id != '' AND instr(id, char(10)) = 0;

-- The head rows, with every key's count; then each chunk's IDs (chunk 0,
-- the IDs before the first start, is the head's).
INSERT INTO voter_postings(h, first, n, ids)
	SELECT h, '', count(*), '' FROM voter_keys_marked GROUP BY h;
INSERT INTO voter_postings(h, first, n, ids)
	SELECT h, CASE WHEN c = 0 THEN '' ELSE min(id) END, 0, group_concat(id, char(10) ORDER BY id)
	FROM (SELECT h, id, sum(start) OVER (PARTITION BY h ORDER BY id ROWS UNBOUNDED PRECEDING) AS c FROM voter_keys_marked)
	GROUP BY h, c
	ON CONFLICT(h, first) DO UPDATE SET ids = excluded.ids;

DROP TABLE voter_keys_marked;
DROP TABLE voter_keys;
