-- 013: which fold of name variants (異体字, src/domain/itaiji.c) the stored search keys
-- (users.name_search and user_grams) were made with: the table's fingerprint. When it is not the
-- running program's (none yet, or the table grew), the keys are folded again at start
-- (src/core/search_keys.c), so that 髙橋 stored before is found by 高橋 typed now.
CREATE TABLE search_fold (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
);
