-- 017 (PostgreSQL): 作成 → 梱包 → 発送 as separate steps (issue 13, item 2). A package is made
-- 梱包済 ('packed') without a tracking number; 発送 records the Letter Pack's real number, the day
-- and who, and makes it 'shipped'. Packages made before keep the number nsdb generated for them
-- and count as shipped on the day they were packed.
ALTER TABLE packages DROP CONSTRAINT packages_status_check;
ALTER TABLE packages ADD CONSTRAINT packages_status_check
    CHECK (status IN ('packed','shipped','received'));
ALTER TABLE packages ALTER COLUMN tracking_number DROP NOT NULL;
ALTER TABLE packages ADD COLUMN shipped_on TEXT;
ALTER TABLE packages ADD COLUMN shipped_at BIGINT;
ALTER TABLE packages ADD COLUMN shipped_by BIGINT REFERENCES users(id);
UPDATE packages SET shipped_at = created_at,
    shipped_on = to_char(to_timestamp(created_at + 32400) AT TIME ZONE 'UTC', 'YYYY-MM-DD');
ALTER TABLE packages ADD CONSTRAINT packages_shipped_has_number
    CHECK (status = 'packed' OR (tracking_number IS NOT NULL AND shipped_at IS NOT NULL));
