-- Issue 12, item 3: the shipping address per department. A municipality keeps its 郵便番号,
-- 所属先住所, 部署名 and 電話番号 per category (難病 / 小慢), written by 払出し from the admin list
-- rows of that category (a 両方 row writes both); municipalities.postal/address remain the
-- address given when the municipality was created, used while no department is on record. Each
-- package records where it was sent when it is packed, so a later change does not rewrite it.
CREATE TABLE municipality_departments (
    id @ID@,
    municipality_id BIGINT NOT NULL REFERENCES municipalities(id),
    category TEXT NOT NULL CHECK (category IN ('nanbyo','shoman')),
    postal TEXT,
    address TEXT,
    department TEXT,
    phone TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (municipality_id, category)
);

-- Filled from what is stored: per municipality and category, the last 新規 or 変更 row of an
-- issued list (in the order 払出し wrote them) of that category or 両方.
INSERT INTO municipality_departments (municipality_id, category, postal, address, department,
                                      phone, updated_at)
SELECT m.id, c.category, r.postal, r.address, r.department, r.phone, COALESCE(l.issued_at, 0)
FROM admin_list_rows r
JOIN admin_lists l ON l.id = r.list_id
JOIN municipalities m ON m.code = r.municipality_code
JOIN (SELECT 'nanbyo' AS category UNION ALL SELECT 'shoman') c
  ON r.category = c.category OR r.category = 'both'
WHERE l.status = 'issued' AND r.request_type IN ('new', 'change')
  AND NOT EXISTS (
    SELECT 1 FROM admin_list_rows r2 JOIN admin_lists l2 ON l2.id = r2.list_id
    WHERE l2.status = 'issued' AND r2.request_type IN ('new', 'change')
      AND r2.municipality_code = r.municipality_code
      AND (r2.category = c.category OR r2.category = 'both')
      AND (COALESCE(l2.issued_at, 0) > COALESCE(l.issued_at, 0)
           OR (COALESCE(l2.issued_at, 0) = COALESCE(l.issued_at, 0)
               AND (l2.id > l.id OR (l2.id = l.id AND r2.row_number > r.row_number)))));

-- Where each package was sent: category NULL for a municipality's one destination. Packages
-- made before this migration went to the municipality's address.
ALTER TABLE packages ADD COLUMN to_category TEXT CHECK (to_category IN ('nanbyo','shoman'));
ALTER TABLE packages ADD COLUMN to_postal TEXT;
ALTER TABLE packages ADD COLUMN to_address TEXT;
ALTER TABLE packages ADD COLUMN to_department TEXT;
ALTER TABLE packages ADD COLUMN to_phone TEXT;
UPDATE packages SET
    to_postal = (SELECT m.postal FROM municipalities m WHERE m.id = packages.municipality_id),
    to_address = (SELECT m.address FROM municipalities m WHERE m.id = packages.municipality_id);
