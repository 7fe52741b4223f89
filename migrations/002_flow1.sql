-- 002: Flow I — admin application lists (管理者権限のユーザID申請リスト), their rows, the mail outbox.

CREATE TABLE admin_lists (
    id @ID@,
    status TEXT NOT NULL CHECK (status IN ('submitted','approved','issued','rejected')),
    filename TEXT NOT NULL,
    file_sha256 TEXT NOT NULL UNIQUE,     -- an identical re-upload is recognised
    file_data BLOB NOT NULL,              -- the original file as uploaded
    row_count INTEGER NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    reject_reason TEXT,
    issued_by BIGINT REFERENCES users(id),
    issued_at BIGINT
);
CREATE INDEX admin_lists_status ON admin_lists(status, id);

CREATE TABLE admin_list_rows (
    id @ID@,
    list_id BIGINT NOT NULL REFERENCES admin_lists(id),
    row_number INTEGER NOT NULL,
    municipality_code TEXT NOT NULL,
    municipality_name TEXT NOT NULL,
    category TEXT NOT NULL,
    department TEXT,
    title TEXT,
    name TEXT NOT NULL,
    name_kana TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    extension TEXT,
    request_type TEXT NOT NULL CHECK (request_type IN ('new','change','delete')),
    note TEXT,
    postal TEXT NOT NULL,
    address TEXT NOT NULL,
    user_pk BIGINT REFERENCES users(id),  -- the account created, changed or suspended by 払出し
    outcome TEXT                          -- what 払出し did with the row
);
CREATE INDEX admin_list_rows_list ON admin_list_rows(list_id, row_number);

ALTER TABLE users ADD COLUMN title TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN name_search TEXT;  -- name and kana normalised (NFKC, katakana) for search
CREATE INDEX users_email ON users(email);

CREATE TABLE mail_outbox (
    id @ID@,
    created_at BIGINT NOT NULL,
    to_address TEXT NOT NULL,
    purpose TEXT NOT NULL,                -- 'account_issued' …
    message_sealed BLOB NOT NULL,         -- the whole RFC 5322 message, sealed: it holds a password
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    sent_at BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
