-- 020: who each package's printed list names (issue 13 item 7). A doctor registered after the
-- package holding their institution's media was packed is on no list; such users are put on a
-- supplementary list (追加分) in the municipality's package of a later cycle. supplement = 0: on
-- the package's list of its media's institutions; 1: on its 追加分, at most once per user.
CREATE TABLE package_listings (
    user_pk BIGINT NOT NULL REFERENCES users(id),
    package_id BIGINT NOT NULL REFERENCES packages(id),
    supplement INTEGER NOT NULL CHECK (supplement IN (0, 1)),
    PRIMARY KEY (user_pk, package_id)
);
CREATE UNIQUE INDEX package_listings_supplement ON package_listings(user_pk) WHERE supplement = 1;
CREATE INDEX package_listings_package ON package_listings(package_id, supplement);
-- Packages made before this migration: their lists named the institutions' users created by then.
INSERT INTO package_listings (user_pk, package_id, supplement)
SELECT DISTINCT u.id, p.id, 0 FROM packages p
JOIN media d ON d.package_id = p.id
JOIN users u ON u.municipality_id = d.municipality_id AND u.institution_id = d.institution_id
WHERE u.role IN ('doctor', 'inst_manager') AND u.created_at <= p.created_at;
