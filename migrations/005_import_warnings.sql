-- 005: what a bulk registration should tell its user although nothing was wrong (a CP932 file
-- converted, leading zeros put back), shown with the result.
ALTER TABLE import_batches ADD COLUMN warnings TEXT;
