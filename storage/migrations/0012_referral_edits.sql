-- A member may correct a referral still waiting for a decision: each correction is an audit
-- row with action 'edit', its before and after holding the fields that changed.
-- SQLite cannot change a CHECK constraint: the table is made again, its rows kept.
CREATE TABLE referral_audit_new (
    id          INTEGER PRIMARY KEY,
    referral_id INTEGER NOT NULL REFERENCES referrals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES members(id) ON DELETE SET NULL,
    action      TEXT NOT NULL
                CHECK (action IN ('admit', 'decline', 'withdraw', 'reopen', 'edit')),
    before      TEXT NOT NULL,             -- JSON: status, admitted_on (and an edit's fields)
    after       TEXT NOT NULL,
    reason      TEXT,
    actor_ref   TEXT
);
INSERT INTO referral_audit_new (id, referral_id, at, actor_id, action, before, after, reason,
    actor_ref)
SELECT id, referral_id, at, actor_id, action, before, after, reason, actor_ref
FROM referral_audit;
DROP TABLE referral_audit;
ALTER TABLE referral_audit_new RENAME TO referral_audit;
CREATE INDEX referral_audit_referral ON referral_audit(referral_id);
