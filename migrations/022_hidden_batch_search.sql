-- 022: the search screen's covering indexes of 007 also hold users.batch_id (021), so that the
-- condition that hides the users of a batch that is not visible (src/store/visible.h) is checked
-- from the index, and neither paging nor counting reads a user who is not shown (issue 11).
DROP INDEX users_inst_name;
CREATE INDEX users_inst_name
    ON users(municipality_id, name_search, id, notice_status, status, category, role, created_at,
             institution_id, batch_id)
    WHERE role IN ('doctor', 'inst_manager');
DROP INDEX users_inst_status_name;
CREATE INDEX users_inst_status_name
    ON users(municipality_id, notice_status, name_search, id, category, status, role, created_at,
             institution_id, batch_id)
    WHERE role IN ('doctor', 'inst_manager');
