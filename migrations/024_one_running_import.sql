-- 024: one running import per municipality, across every server on the database. A server keeps
-- the rule in memory for its own uploads and asks the database for the others', but two servers
-- could both ask before either opened its batch; this index refuses the second batch.
CREATE UNIQUE INDEX import_batches_one_running ON import_batches(municipality_id)
    WHERE state IN ('checking', 'writing');
