-- 001: municipalities, medical institutions, users, sessions, audit.
-- Portable SQL: @ID@ becomes the dialect's auto-increment primary key; times are Unix seconds.

CREATE TABLE municipalities (
    id @ID@,
    code TEXT NOT NULL UNIQUE,            -- 地方公共団体コード, 6 digits with check digit
    name TEXT NOT NULL,
    postal TEXT,                          -- 郵便番号 NNN-NNNN (shipping address, seed 参考③)
    address TEXT,                         -- 所属先住所
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE institutions (
    id @ID@,
    code TEXT NOT NULL UNIQUE,            -- 医療機関コード, 10 digits, Luhn
    name TEXT NOT NULL,
    postal TEXT,
    address TEXT,
    phone TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id @ID@,
    user_id TEXT NOT NULL UNIQUE,         -- 12 characters, upper case, check character
    role TEXT NOT NULL CHECK (role IN ('mhlw','operator','muni_admin','muni_staff','inst_manager','doctor')),
    name TEXT NOT NULL,
    name_kana TEXT,
    email TEXT,
    department TEXT,
    category TEXT NOT NULL DEFAULT 'nanbyo' CHECK (category IN ('nanbyo','shoman','both')),
    municipality_id BIGINT REFERENCES municipalities(id),
    institution_id BIGINT REFERENCES institutions(id),
    doctor_number TEXT,
    specialty TEXT,
    password_hash TEXT,                   -- argon2id PHC string once the user chose a password
    initial_password_sealed BLOB,         -- secretbox under the key file; NULL once destroyed
    notice_status TEXT NOT NULL DEFAULT 'unissued' CHECK (notice_status IN ('unissued','issued','active')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),
    must_change_password INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_login_at BIGINT,
    password_changed_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_municipality ON users(municipality_id, role);
CREATE INDEX users_institution ON users(institution_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,          -- BLAKE2b-256 of the cookie token; the token is never stored
    user_pk BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    client_ip TEXT
);
CREATE INDEX sessions_user ON sessions(user_pk);

CREATE TABLE audit_log (
    id @ID@,
    at BIGINT NOT NULL,
    actor_user_pk BIGINT,
    actor_user_id TEXT,                   -- kept as text: survives a user's deletion
    client_ip TEXT,
    action TEXT NOT NULL,
    target TEXT,
    result TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
