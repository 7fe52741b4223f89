-- 017 (SQLite): 作成 → 梱包 → 発送 as separate steps (issue 13, item 2). A package is made 梱包済
-- ('packed') without a tracking number; 発送 records the Letter Pack's real number, the day and
-- who, and makes it 'shipped'. Packages made before keep the number nsdb generated for them and
-- count as shipped on the day they were packed. SQLite cannot change a CHECK or a NOT NULL, so
-- the table is rebuilt (the media rows that point at it keep their package ids; the foreign keys
-- are checked when the migration commits).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE packages_new (
    id @ID@,
    cycle_id TEXT NOT NULL REFERENCES cycles(id),
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    seq INTEGER NOT NULL,
    tracking_number TEXT UNIQUE,          -- 12 digits, entered at 発送; NULL while packed
    status TEXT NOT NULL CHECK (status IN ('packed','shipped','received')),
    created_at BIGINT NOT NULL,
    received_at BIGINT,
    received_by BIGINT REFERENCES users(id),
    to_category TEXT CHECK (to_category IN ('nanbyo','shoman')),
    to_postal TEXT,
    to_address TEXT,
    to_department TEXT,
    to_phone TEXT,
    shipped_on TEXT,                      -- ISO date (Japan) of 発送
    shipped_at BIGINT,
    shipped_by BIGINT REFERENCES users(id),
    UNIQUE (cycle_id, municipality_id, seq),
    CHECK (status = 'packed' OR (tracking_number IS NOT NULL AND shipped_at IS NOT NULL))
);
INSERT INTO packages_new (id, cycle_id, municipality_id, seq, tracking_number, status, created_at,
                          received_at, received_by, to_category, to_postal, to_address,
                          to_department, to_phone, shipped_on, shipped_at, shipped_by)
SELECT id, cycle_id, municipality_id, seq, tracking_number, status, created_at, received_at,
       received_by, to_category, to_postal, to_address, to_department, to_phone,
       date(created_at + 32400, 'unixepoch'), created_at, NULL
FROM packages;
DROP TABLE packages;
ALTER TABLE packages_new RENAME TO packages;
