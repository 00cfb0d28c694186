-- Đơn vị: a tree of any depth; levels are never hard-coded.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_id   INTEGER REFERENCES units(id),
    org         TEXT NOT NULL CHECK (org IN ('doan', 'hoi')),
    -- Member invite links are an HMAC of (unit, generation) under a secret kept outside the
    -- database; bumping the generation revokes the unit's current link.
    invite_generation INTEGER NOT NULL DEFAULT 1,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX units_parent ON units(parent_id);

-- Đoàn viên / hội viên: one chat user registered in one unit.
CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL DEFAULT 'telegram',
    user_ref      TEXT NOT NULL,          -- the user's id on that channel
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    full_name     TEXT NOT NULL,
    membership    TEXT NOT NULL CHECK (membership IN ('doan', 'hoi')),
    phone         TEXT,
    registered_at TEXT NOT NULL,          -- UTC ISO-8601
    UNIQUE (channel, user_ref)
);
CREATE INDEX members_unit ON members(unit_id);

-- Leader or admin, valid for the unit's whole subtree.
CREATE TABLE roles (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    role       TEXT NOT NULL CHECK (role IN ('leader', 'admin')),
    granted_at TEXT NOT NULL,
    granted_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
    PRIMARY KEY (member_id, unit_id, role)
);

-- Giới thiệu: a young person introduced by a member.
CREATE TABLE referrals (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER NOT NULL REFERENCES members(id),
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
    introduced_at    TEXT NOT NULL,        -- UTC ISO-8601
    admitted_on      TEXT,                 -- local date of kết nạp, YYYY-MM-DD
    decided_at       TEXT,
    decided_by       INTEGER REFERENCES members(id)
);
CREATE INDEX referrals_member ON referrals(member_id, introduced_at);
CREATE INDEX referrals_unit ON referrals(unit_id, status);
CREATE INDEX referrals_name ON referrals(name_key, birth_year);
-- One live referral per phone, whoever introduced it (a withdrawn one frees the phone).
CREATE UNIQUE INDEX referrals_phone ON referrals(phone)
    WHERE phone IS NOT NULL AND status <> 'withdrawn';

-- A conversation in progress, written before the bot asks its next question,
-- so that a restart (or a crash) resumes where the user was.
CREATE TABLE conversations (
    channel    TEXT NOT NULL,
    chat_ref   TEXT NOT NULL,
    user_ref   TEXT NOT NULL,
    journey    TEXT NOT NULL,
    step       TEXT NOT NULL,
    draft      TEXT NOT NULL DEFAULT '{}',  -- JSON
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_ref, user_ref)
);
