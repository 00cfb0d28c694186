-- Reminders: one run per occurrence (e.g. "qwarn:2026-Q4"), one delivery row per recipient.
-- The rows are written before anything is sent, so a crash or a second firing resumes the
-- same fan-out instead of starting another.
CREATE TABLE reminder_runs (
    occurrence  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    due_at      TEXT NOT NULL,             -- UTC
    planned_at  TEXT NOT NULL,
    finished_at TEXT,
    late        INTEGER NOT NULL DEFAULT 0,
    requested_by TEXT                       -- user ref of a leader's manual /nhacnho
);

CREATE TABLE reminder_deliveries (
    occurrence TEXT NOT NULL REFERENCES reminder_runs(occurrence) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    user_ref   TEXT NOT NULL,
    body       TEXT,                        -- the message; cleared once it is sent
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sending', 'sent', 'unreachable', 'failed', 'uncertain')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_at    TEXT,
    PRIMARY KEY (occurrence, channel, user_ref)
);
CREATE INDEX reminder_deliveries_status ON reminder_deliveries(occurrence, status);

-- A 403 "blocked by the user": stop writing to them until they write to us again.
ALTER TABLE members ADD COLUMN unreachable_at TEXT;
