-- Who acted, also when they are not a registered member (an admin from ADMIN_IDS):
-- the user's id on their channel.
ALTER TABLE referral_audit ADD COLUMN actor_ref TEXT;
UPDATE referral_audit SET actor_ref = (
    SELECT m.channel || ':' || m.user_ref FROM members m WHERE m.id = referral_audit.actor_id
) WHERE actor_id IS NOT NULL;
