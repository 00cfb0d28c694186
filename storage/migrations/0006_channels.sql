-- Codes that work where links can't (Zalo has no /start payload): only their SHA-256 is kept.
-- A unit's invite code is derived from its link generation; renewing the link kills it too.
CREATE TABLE invite_codes (
    digest     TEXT PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL
);
-- A one-time appointment also gets a code, redeemed once with its link.
ALTER TABLE grants ADD COLUMN code_hash TEXT;
CREATE UNIQUE INDEX grants_code_hash ON grants(code_hash) WHERE code_hash IS NOT NULL;

-- The numbered choices last shown to a person on a channel without buttons: "2" means what
-- they saw. One list per person, replaced by every question.
CREATE TABLE shown_choices (
    channel    TEXT NOT NULL,
    chat_ref   TEXT NOT NULL,
    user_ref   TEXT NOT NULL,
    choices    TEXT NOT NULL,          -- JSON [[label, data or null], …]
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_ref, user_ref)
);

-- Updates already acted on, for channels that deliver one twice (Zalo).
CREATE TABLE seen_updates (
    channel    TEXT NOT NULL,
    update_ref TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (channel, update_ref)
);
CREATE INDEX seen_updates_at ON seen_updates(seen_at);
