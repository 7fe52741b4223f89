-- 015: the warning of a registration whose institution name or address differs from the
-- institution master (issue 12 item 5): the user is registered at the master's institution and
-- the warning, naming both values, is shown with the result of 個別登録.
ALTER TABLE registrations ADD COLUMN master_warning TEXT;
