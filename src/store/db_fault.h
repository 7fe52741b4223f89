/*
 * db_fault.h — a database fault hook for tests, after SQLite's do_faultsim_test: it makes one
 * chosen write statement fail as a broken database would, so that rollback paths and 503 answers
 * run in tests. Compiled into every build (an armed check costs one atomic load per statement);
 * nothing in nsdb calls it outside tests.
 */
#ifndef NSDB_DB_FAULT_H
#define NSDB_DB_FAULT_H

/* The countdown-th next write statement (INSERT, UPDATE, DELETE, or one db_copy_in whatever its
   rows; on any connection) fails with DB_ERROR, so that the store function running it returns
   NSDB_ERR_DB; the hook then disarms itself. 0 disarms it. Reads, BEGIN/COMMIT and migration
   scripts are not counted. */
void db_fault_inject(int countdown);

#endif
