/*
 * audit_names.h — the Japanese names of the audit log's actions and results, for the 監査ログ
 * screen: one table, action key → 名称. The keys stay in the database and in `nsdb audit --json`
 * (scripts read them); people read the names.
 */
#ifndef NSDB_AUDIT_NAMES_H
#define NSDB_AUDIT_NAMES_H

/* The Japanese name of an audit action ("login" → "ログイン"); NULL for a key not in the table. */
const char *audit_action_label(const char *action);
/* The Japanese name of a result ("ok" → "成功", "denied" → "拒否", "failed" → "失敗"); NULL for
   another value. */
const char *audit_result_label(const char *result);

#endif
