-- Local dates (in TIMEZONE) of introduction and decision, so periods are plain string ranges.
-- Existing rows are filled in Asia/Ho_Chi_Minh time (UTC+7, the default TIMEZONE).
ALTER TABLE referrals ADD COLUMN introduced_on TEXT;
ALTER TABLE referrals ADD COLUMN decided_on TEXT;
UPDATE referrals SET introduced_on = date(introduced_at, '+7 hours');
UPDATE referrals SET decided_on = date(decided_at, '+7 hours') WHERE decided_at IS NOT NULL;

-- Figures of each unit's whole subtree, kept up to date in the same transaction as every
-- change, so /stats reads a few rows instead of scanning millions.
-- bucket: '' for the current state (members, pending), else '2026', '2026-H1', '2026-Q3'.
CREATE TABLE unit_stats (
    unit_id INTEGER NOT NULL REFERENCES units(id),
    bucket  TEXT NOT NULL,
    metric  TEXT NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (unit_id, bucket, metric)
) WITHOUT ROWID;

CREATE INDEX referrals_member_admitted ON referrals(member_id, admitted_on)
    WHERE status = 'admitted';
