-- 023: what removing the rows of a failed import (and any delete of an institution or a user)
-- looks up through foreign keys. Without these indexes each deleted institution scanned all
-- registrations and each deleted user scanned all users (initial_password_by refers to users):
-- a chunk of 500 users held SQLite's write lock for many seconds at 100,000 users.
CREATE INDEX registrations_institution ON registrations(institution_id);
CREATE INDEX users_initial_password_by ON users(initial_password_by);
