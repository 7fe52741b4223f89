-- 025: users(email) served no query: every lookup by e-mail is LOWER(email) = LOWER($n) within
-- one municipality, found through users_municipality. It was one of the indexes a 一括登録
-- writes at random places, so each chunk of an import rewrote most of its pages (issue 11).
DROP INDEX IF EXISTS users_email;
