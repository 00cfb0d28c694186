-- A member who moved to another unit (they opened its invite and confirmed): from where, to
-- where, when (UTC, and the local date: the day they left the one unit and joined the other in
-- the figures), who did it ("channel:user", the member themself). Their referrals stay with
-- the unit where they were introduced, waiting ones included. The old unit's leaders are told.
-- The rows go with the member when they erase their data (ON DELETE CASCADE; actor_ref is the
-- member themself, the only one who moves them).
CREATE TABLE member_moves (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    from_unit_id    INTEGER NOT NULL REFERENCES units(id),
    to_unit_id      INTEGER NOT NULL REFERENCES units(id),
    at              TEXT NOT NULL,          -- UTC ISO-8601
    moved_on        TEXT NOT NULL,          -- local date (TIMEZONE), YYYY-MM-DD
    actor_ref       TEXT
);
CREATE INDEX member_moves_member ON member_moves(member_id);
CREATE INDEX member_moves_from ON member_moves(from_unit_id, at);
