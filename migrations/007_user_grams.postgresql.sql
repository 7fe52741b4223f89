-- 007 (PostgreSQL): 医療機関ユーザ検索 by name or kana over an index of character pairs of the names.
-- user_grams holds, for every distinct name key (users.name_search) of the institution users
-- (doctor, inst_manager) of a municipality, each of its distinct characters and pairs of adjacent
-- characters (the grams), with the key beside it and the number of users who have that key.
-- The rows of one gram are in key order, so a search walks one contiguous range, checks the
-- whole search key against each name key, adds up the users (the count) and takes the page's
-- users from users_inst_name (src/store/user_search.c).
-- Maintained by src/store/users.c (insert, change of name); users are never deleted.
CREATE TABLE user_grams (
    municipality_id BIGINT NOT NULL,
    gram TEXT NOT NULL,
    name_search TEXT NOT NULL,
    users BIGINT NOT NULL,
    PRIMARY KEY (municipality_id, gram, name_search)
);
INSERT INTO user_grams (municipality_id, gram, name_search, users)
SELECT municipality_id, gram, name_search, COUNT(DISTINCT id)
FROM (SELECT u.municipality_id, u.name_search, u.id, gram
      FROM users u CROSS JOIN LATERAL generate_series(1, length(u.name_search)) AS i
      CROSS JOIN LATERAL (SELECT substr(u.name_search, i, 1)
                          UNION ALL SELECT substr(u.name_search, i, 2)
                          WHERE i < length(u.name_search)) AS grams(gram)
      WHERE u.role IN ('doctor', 'inst_manager') AND u.municipality_id IS NOT NULL
        AND u.name_search IS NOT NULL AND u.name_search <> '') t
GROUP BY municipality_id, gram, name_search;
-- The institution users in (key, id) order, with the columns the search screen filters on, so
-- that neither paging nor filtering reads a user who is not shown.
CREATE INDEX users_inst_name
    ON users(municipality_id, name_search, id, notice_status, status, category, role, created_at,
             institution_id)
    WHERE role IN ('doctor', 'inst_manager');
-- The same users by notice status first: 未発行 (to print) or 発行済 among many, in name order.
CREATE INDEX users_inst_status_name
    ON users(municipality_id, notice_status, name_search, id, category, status, role, created_at,
             institution_id)
    WHERE role IN ('doctor', 'inst_manager');
-- How many institution users each municipality has: the count of the search screen without
-- conditions, its first view (maintained by src/store/users.c and user_search.c).
ALTER TABLE municipalities ADD COLUMN inst_users BIGINT NOT NULL DEFAULT 0;
UPDATE municipalities SET inst_users = (SELECT COUNT(*) FROM users u
    WHERE u.municipality_id = municipalities.id AND u.role IN ('doctor', 'inst_manager'));
