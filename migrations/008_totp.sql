-- 008: two-factor authentication (TOTP, RFC 6238; issue 14). A user's secret is sealed under the
-- key file like the initial passwords; confirmed_at stays 0 until one code confirmed the
-- enrolment, and last_step is the last time step accepted (a step is accepted once). Recovery
-- codes are kept as keyed hashes. users.totp_enrolled_at mirrors confirmed_at so that the router
-- knows from the user row alone; a session opened by the password of an enrolled user is
-- totp_pending (half-authenticated) until /login/totp accepts a code.

CREATE TABLE user_totp (
    user_pk BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed BLOB NOT NULL,          -- 20 random bytes, sealed; never logged
    confirmed_at BIGINT NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_recovery_codes (
    id @ID@,
    user_pk BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,              -- keyed BLAKE2b of the normalised code
    used_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_recovery_codes_user ON user_recovery_codes(user_pk);

ALTER TABLE users ADD COLUMN totp_enrolled_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN totp_pending INTEGER NOT NULL DEFAULT 0;
