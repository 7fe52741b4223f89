-- 010 (SQLite): API tokens expire (issue 14, finding 7). Every token gets expires_at; the tokens
-- made before this migration expire 90 days after it ran, the default of `nsdb token add --days`.
-- 0 (the column default) is long past, so a row written without an expiry is refused.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400;
