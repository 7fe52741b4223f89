-- 009: mail that is never lost (issue 14, finding 6). A sender claims a row before it sends it
-- (claimed_by, claim_until: a lease, so that a server that died holding it gives it back when the
-- lease ends), and a permanent-looking refusal (SMTP 5xx) is trusted only after it has lasted a
-- day (refused_since: the first refusal of the current run of refusals; NULL after any other
-- outcome). Temporary failures are retried for ever, so attempts has no ceiling any more.
ALTER TABLE mail_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE mail_outbox ADD COLUMN claim_until BIGINT;
ALTER TABLE mail_outbox ADD COLUMN refused_since BIGINT;
-- the operator's screen lists waiting and failed mail; /metrics counts them
CREATE INDEX mail_outbox_status_created ON mail_outbox(status, created_at);
