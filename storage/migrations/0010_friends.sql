-- A member's own invitation (/moiban): a link r_<member>_<tag> and a code, both derived from the
-- member's invitation generation; renewing bumps it and kills both. Codes are kept hashed.
ALTER TABLE members ADD COLUMN invite_generation INTEGER NOT NULL DEFAULT 1;
CREATE TABLE member_invite_codes (
    digest     TEXT PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL
);

-- A youth who signed up through a member's invitation gave their own details and consent.
ALTER TABLE referrals ADD COLUMN self_registered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN consent_at TEXT;         -- UTC, when the youth agreed
ALTER TABLE referrals ADD COLUMN youth_channel TEXT;      -- so that the youth can erase it
ALTER TABLE referrals ADD COLUMN youth_ref TEXT;
CREATE INDEX referrals_youth ON referrals(youth_channel, youth_ref) WHERE youth_ref IS NOT NULL;
