-- Records as a Youth Union office keeps them.
--
-- units.headcount: the official number of đoàn viên / hội viên of the unit's whole subtree
-- (the unit file's optional `members` column); NULL when unknown.
ALTER TABLE units ADD COLUMN headcount INTEGER CHECK (headcount IS NULL OR headcount >= 0);

-- The local date a member registered, so a past period counts who had registered by its end.
-- Existing rows are filled in Asia/Ho_Chi_Minh time (UTC+7, the default TIMEZONE), as in 0004.
ALTER TABLE members ADD COLUMN registered_on TEXT;
UPDATE members SET registered_on = date(registered_at, '+7 hours');

-- Referrals are rebuilt (SQLite cannot drop a NOT NULL): an admission outlives the member who
-- introduced it (erasure), and an admission imported from a unit's records may have no member.
--   member_id       NULL once the introducing member erased their data, or for an import
--   introducer      the introducing member's name as the unit's records give it (imports)
--   introducer_gone 1 when the introducing member erased their data
--   source          'chat' (typed in the bot) or 'import' (motcongmot import-admissions)
--   withdrawn_on    local date of a withdrawal, so a past period knows what was still waiting
-- referral_audit points at referrals with ON DELETE CASCADE: it is set aside first, so that
-- dropping the old table deletes none of its rows.
CREATE TABLE referral_audit_kept AS SELECT * FROM referral_audit;
DROP TABLE referral_audit;

CREATE TABLE referrals_new (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER REFERENCES members(id),
    unit_id          INTEGER NOT NULL REFERENCES units(id),  -- the member's unit at the time
    full_name        TEXT NOT NULL,
    name_key         TEXT NOT NULL,        -- normalised name, for duplicate checks
    birth_date       TEXT,                 -- YYYY-MM-DD when the full date is known
    birth_year       INTEGER NOT NULL,
    phone            TEXT,                 -- normal form 0XXXXXXXXX
    org              TEXT NOT NULL CHECK (org IN ('doan', 'hoi')),
    guardian_consent INTEGER NOT NULL DEFAULT 0 CHECK (guardian_consent IN (0, 1)),
    status           TEXT NOT NULL DEFAULT 'introduced'
                     CHECK (status IN ('introduced', 'admitted', 'declined', 'withdrawn')),
    introduced_at    TEXT NOT NULL,        -- UTC ISO-8601: when it was typed or imported
    admitted_on      TEXT,                 -- local date of kết nạp, YYYY-MM-DD
    decided_at       TEXT,
    decided_by       INTEGER REFERENCES members(id),
    introduced_on    TEXT,                 -- local date it counts as introduced (<= admitted_on)
    decided_on       TEXT,
    withdrawn_on     TEXT,
    introducer       TEXT,
    introducer_gone  INTEGER NOT NULL DEFAULT 0 CHECK (introducer_gone IN (0, 1)),
    source           TEXT NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'import'))
);
INSERT INTO referrals_new (id, member_id, unit_id, full_name, name_key, birth_date, birth_year,
    phone, org, guardian_consent, status, introduced_at, admitted_on, decided_at, decided_by,
    introduced_on, decided_on, withdrawn_on)
SELECT r.id, r.member_id, r.unit_id, r.full_name, r.name_key, r.birth_date, r.birth_year,
    r.phone, r.org, r.guardian_consent, r.status, r.introduced_at, r.admitted_on, r.decided_at,
    r.decided_by, r.introduced_on, r.decided_on,
    CASE WHEN r.status = 'withdrawn' THEN coalesce(
        (SELECT date(max(a.at), '+7 hours') FROM referral_audit_kept a
         WHERE a.referral_id = r.id AND a.action = 'withdraw'),
        r.introduced_on) END
FROM referrals r;
DROP TABLE referrals;
ALTER TABLE referrals_new RENAME TO referrals;

CREATE INDEX referrals_member ON referrals(member_id, introduced_at);
CREATE INDEX referrals_unit ON referrals(unit_id, status);
CREATE INDEX referrals_name ON referrals(name_key, birth_year);
-- One live referral per phone, whoever introduced it (a withdrawn one frees the phone).
CREATE UNIQUE INDEX referrals_phone ON referrals(phone)
    WHERE phone IS NOT NULL AND status <> 'withdrawn';
CREATE INDEX referrals_admitted ON referrals(admitted_on) WHERE status = 'admitted';
CREATE INDEX referrals_member_admitted ON referrals(member_id, admitted_on)
    WHERE status = 'admitted';

CREATE TABLE referral_audit (
    id          INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES members(id) ON DELETE SET NULL,
    action      TEXT NOT NULL CHECK (action IN ('admit', 'decline', 'withdraw', 'reopen')),
    before      TEXT NOT NULL,             -- JSON: status, admitted_on
    after       TEXT NOT NULL,
    reason      TEXT,
    actor_ref   TEXT
);
INSERT INTO referral_audit (id, referral_id, at, actor_id, action, before, after, reason,
    actor_ref)
SELECT id, referral_id, at, actor_id, action, before, after, reason, actor_ref
FROM referral_audit_kept;
DROP TABLE referral_audit_kept;
CREATE INDEX referral_audit_referral ON referral_audit(referral_id);

-- The counters change shape (targets, headcounts, periods' ends): Database.open recounts them
-- from the rows when it finds none.
DELETE FROM unit_stats;
