-- A member who moved to another unit (they opened its invite and confirmed): from where, to
-- where, when, who did it ("channel:user", the member themself), and how many undecided
-- referrals went with them. Admitted and declined referrals stay counted where they were
-- decided. The old unit's leaders are told. The rows go with the member when they erase their
-- data (ON DELETE CASCADE; actor_ref is the member themself, the only one who moves them).
CREATE TABLE member_moves (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    from_unit_id    INTEGER NOT NULL REFERENCES units(id),
    to_unit_id      INTEGER NOT NULL REFERENCES units(id),
    at              TEXT NOT NULL,          -- UTC ISO-8601
    actor_ref       TEXT,
    referrals_moved INTEGER NOT NULL DEFAULT 0 CHECK (referrals_moved >= 0)
);
CREATE INDEX member_moves_member ON member_moves(member_id);
CREATE INDEX member_moves_from ON member_moves(from_unit_id, at);
