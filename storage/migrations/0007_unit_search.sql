-- Searching branches by name without reading the whole tree into Python.
--
-- SQL cannot fold Vietnamese (lower() knows only ASCII, nothing strips diacritics), so these
-- columns are filled by storage/units.py: by import_rows for what it writes, and for any other
-- row (existing ones, rows written by other code) by a backfill that search_leaves runs first.
-- NULL search_text means "to be computed"; the partial index finds those rows without a scan.
ALTER TABLE units ADD COLUMN search_text TEXT;   -- folded "name code": no case, no diacritics
ALTER TABLE units ADD COLUMN order_letters TEXT; -- validation.sort_key(name) as text, so the
ALTER TABLE units ADD COLUMN order_tones TEXT;   -- Vietnamese order is an index order
CREATE INDEX units_unsearchable ON units(id) WHERE search_text IS NULL;
-- search_text rides along so that a walk in order (words too short for trigrams) reads the
-- index alone.
CREATE INDEX units_order ON units(order_letters, order_tones, code, search_text);

-- Any substring of 3+ characters is found through the trigram index (SQLite >= 3.34). The text
-- is already folded, so the tokenizer must not fold again: matches stay exact substrings.
CREATE VIRTUAL TABLE unit_search USING fts5(
    search_text, content = 'units', content_rowid = 'id', tokenize = 'trigram case_sensitive 1'
);
-- One entry per existing unit (empty until its search_text is filled), so that the triggers'
-- 'delete' always removes what was inserted and the index stays exactly the units table.
INSERT INTO unit_search (unit_search) VALUES ('rebuild');

-- The index follows search_text whoever writes the units table.
CREATE TRIGGER units_search_insert AFTER INSERT ON units BEGIN
    INSERT INTO unit_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER units_search_delete AFTER DELETE ON units BEGIN
    INSERT INTO unit_search (unit_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER units_search_update AFTER UPDATE OF id, search_text ON units
WHEN new.search_text IS NOT old.search_text OR new.id IS NOT old.id BEGIN
    INSERT INTO unit_search (unit_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO unit_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- A rename that did not bring its own folded text (any UPDATE but import_rows') makes the row
-- "to be computed" again, so a search never matches an old name.
CREATE TRIGGER units_search_stale AFTER UPDATE OF name, code ON units
WHEN new.search_text IS old.search_text
 AND (new.name IS NOT old.name OR new.code IS NOT old.code)
BEGIN
    UPDATE units SET search_text = NULL, order_letters = NULL, order_tones = NULL
    WHERE id = new.id;
END;
