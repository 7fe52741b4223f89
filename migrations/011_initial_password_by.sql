-- Issue 12, item 8: who set a user's current initial password (registration or パスワード初期化),
-- so that a 責任者 prints only the notice of a password they reset themselves. For users already
-- there, the creator set it.
ALTER TABLE users ADD COLUMN initial_password_by BIGINT REFERENCES users(id);
UPDATE users SET initial_password_by = created_by WHERE initial_password_sealed IS NOT NULL;
