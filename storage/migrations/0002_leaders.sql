-- One-time links that make their first opener a leader or an admin of a unit.
CREATE TABLE grants (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,       -- SHA-256 of the token; the token is shown once
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    role       TEXT NOT NULL CHECK (role IN ('leader', 'admin')),
    created_by TEXT NOT NULL,              -- channel user ref of the admin who made it
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by    INTEGER REFERENCES members(id) ON DELETE SET NULL,
    used_at    TEXT
);

-- Chỉ tiêu: admissions to reach in a year, for the members registered directly in the unit.
CREATE TABLE targets (
    unit_id INTEGER NOT NULL REFERENCES units(id),
    year    INTEGER NOT NULL,
    org     TEXT NOT NULL CHECK (org IN ('doan', 'hoi')),
    value   INTEGER NOT NULL CHECK (value >= 0),
    set_by  INTEGER REFERENCES members(id) ON DELETE SET NULL,
    set_at  TEXT NOT NULL,
    PRIMARY KEY (unit_id, year, org)
);

-- Who changed a referral's status, when, and from what to what.
CREATE TABLE referral_audit (
    id          INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES members(id) ON DELETE SET NULL,
    action      TEXT NOT NULL CHECK (action IN ('admit', 'decline', 'withdraw', 'reopen')),
    before      TEXT NOT NULL,             -- JSON: status, admitted_on
    after       TEXT NOT NULL,
    reason      TEXT
);
CREATE INDEX referral_audit_referral ON referral_audit(referral_id);
CREATE INDEX roles_unit ON roles(unit_id, role);
CREATE INDEX referrals_admitted ON referrals(admitted_on) WHERE status = 'admitted';
