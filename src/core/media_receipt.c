/*
 * media_receipt.c — see media_receipt.h. The store's transitions move a row only from the state
 * the rule allows (the WHERE clause is the guard against a concurrent change), so "nothing
 * changed" means the state did not allow it.
 */
#include "core/media_receipt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/registration.h"
#include "domain/holiday.h"
#include "util/str.h"

#define DAMAGE_NOTE_MAX_CHARS 500

nsdb_err core_package_receive(core_ctx *c, const store_package *p, nsdb_problem *pb)
{
    if (p->status == PACKAGE_STATUS_PACKED) /* the operator has not sent it yet */
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "この梱包はまだ発送されていません。届いてから受領を記録してください。");
    bool changed = false;
    store_media *media = NULL;
    size_t n = 0;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_media_list(c->conn, c->arena, NULL, c->who.municipality_pk, p->id,
                             MEDIA_STATUS_SHIPPED, &media, &n);
    if (e == NSDB_OK)
        e = store_package_receive(c->conn, p->id, c->who.user_pk, c->who.now, &changed);
    if (e == NSDB_OK && changed) {
        e = core_audit(c, "package_received", core_target_id(c, "package", p->id), "ok",
                       p->tracking_number);
        for (size_t i = 0; e == NSDB_OK && i < n; i++)
            e = core_audit(c, "media_received", core_target_id(c, "media", media[i].id), "ok",
                           "shipped → received");
    }
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (!changed)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL, "この梱包は既に受領済みです。");
    return NSDB_OK;
}

/* "YYYY-MM-DD" of a real day, in the arena; NULL otherwise. */
static const char *date_text(arena *a, const char *s)
{
    int y, m, d;
    char tail;
    if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        !holiday_date_valid(y, m, d))
        return NULL;
    return arena_printf(a, "%04d-%02d-%02d", y, m, d);
}

/* Today in Japan, YYYY-MM-DD. */
static const char *today_text(core_ctx *c)
{
    time_t t = (time_t)(c->who.now + JST_OFFSET_SECONDS);
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_printf(c->arena, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

nsdb_err core_media_forward(core_ctx *c, const store_media *m, const char *date_raw,
                            nsdb_problem *pb)
{
    const char *date = date_text(c->arena, date_raw);
    if (date == NULL || strcmp(date, "2023-01-01") < 0 || strcmp(date, today_text(c)) > 0)
        return problem_set(pb, NSDB_ERR_INVALID, "date",
                           "送付日は今日以前の日付を「2026-11-25」の形で入力してください。");
    cycle_window cycle;
    if (store_cycle_get(c->conn, m->cycle_id, &cycle) == NSDB_OK &&
        strcmp(date, cycle.registration_from) < 0)
        return problem_set(pb, NSDB_ERR_INVALID, "date",
                           arena_printf(c->arena,
                                        "送付日が媒体の作成より前になっています。%s 以降の日付を"
                                        "入力してください。",
                                        cycle.registration_from));
    bool changed = false;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_media_forward(c->conn, m->id, m->status, date, c->who.now, &changed);
    if (e == NSDB_OK && changed)
        e = core_audit(c, "media_forwarded", core_target_id(c, "media", m->id), "ok",
                       arena_printf(c->arena, "received → forwarded %s", date));
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (!changed)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "受領済みの媒体だけを医療機関へ送付済みにできます。");
    return NSDB_OK;
}

nsdb_err core_media_damage(core_ctx *c, const store_media *m, const char *note,
                           nsdb_problem *pb)
{
    char *trimmed = note ? str_trim(arena_strdup(c->arena, note)) : NULL;
    if (trimmed == NULL || *trimmed == '\0' || str_utf8_length(trimmed) > DAMAGE_NOTE_MAX_CHARS)
        return problem_set(pb, NSDB_ERR_INVALID, "note",
                           "破損の内容を500文字以内で入力してください（例：ディスクが割れていた）。");
    cycle_window now_cycle, next;
    bool changed = false;
    nsdb_err e = registration_cycle(c->conn, c->who.now, &now_cycle);
    if (e == NSDB_OK)
        e = store_cycle_next(c->conn, now_cycle.id, &next);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    e = core_begin(c);
    if (e == NSDB_OK)
        e = store_media_damage(c->conn, m->id, m->status, trimmed, next.id, c->who.now, &changed);
    if (e == NSDB_OK && changed)
        e = core_audit(c, "media_damaged", core_target_id(c, "media", m->id), "ok",
                       arena_printf(c->arena, "%s → damaged; 再発行サイクル %s: %s",
                                    media_status_key(m->status),
                                    next.id, trimmed));
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (!changed)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "この媒体は破損を連絡できる状態ではありません。");
    return NSDB_OK;
}

/* Copies a valid date into out (11 bytes). */
static bool date_copy(arena *a, const char *s, char out[11])
{
    const char *d = date_text(a, s);
    if (d == NULL || strlen(d) != 10)
        return false;
    memcpy(out, d, 11);
    return true;
}

static nsdb_err cycle_refuse(nsdb_problem *pb, const char *field, const char *message)
{
    return problem_set(pb, NSDB_ERR_INVALID, field, message);
}

/* The dates of w in order and every open day in some registration window: a refusal in pb
   (naming the field to correct) or NSDB_OK. prev/next: the neighbours, NULL when none. */
static nsdb_err cycle_dates_check(core_ctx *c, const cycle_window *w, const cycle_window *prev,
                                  const cycle_window *next, nsdb_problem *pb)
{
    if (strcmp(w->registration_from, w->registration_to) > 0)
        return cycle_refuse(pb, "registration_to", "登録終了は登録開始以降の日付にしてください。");
    if (strcmp(w->media_from, w->media_to) > 0)
        return cycle_refuse(pb, "media_to", "媒体作成終了は媒体作成開始以降の日付にしてください。");
    if (strcmp(w->delivery_from, w->delivery_to) > 0)
        return cycle_refuse(pb, "delivery_to", "送付終了は送付開始以降の日付にしてください。");
    if (strcmp(w->registration_to, w->media_from) >= 0)
        return cycle_refuse(pb, "media_from", "媒体作成は登録期間の後に始まるようにしてください。");
    /* every registration date must stay in exactly one cycle: the window may not reach into its
       neighbours' windows */
    if (prev != NULL && strcmp(prev->registration_to, w->registration_from) >= 0)
        return cycle_refuse(pb, "registration_from",
                            arena_printf(c->arena,
                                         "登録期間が前のサイクル（%s）の登録期間（〜%s）と重なります。"
                                         "%s より後に始めてください。",
                                         prev->id, prev->registration_to, prev->registration_to));
    if (next != NULL && strcmp(w->registration_to, next->registration_from) >= 0)
        return cycle_refuse(pb, "registration_to",
                            arena_printf(c->arena,
                                         "登録期間が次のサイクル（%s）の登録期間（%s〜）と重なります。"
                                         "%s より前に終えてください。",
                                         next->id, next->registration_from,
                                         next->registration_from));
    /* …and may not leave a working day between them in no registration window */
    char open[11];
    if (prev != NULL && cycle_gap_first_open_day(prev->registration_to, w->registration_from, open))
        return cycle_refuse(pb, "registration_from",
                            arena_printf(c->arena,
                                         "%s がどのサイクルの登録期間にも入らなくなります。登録開始は"
                                         "前のサイクルの登録終了（%s）の翌開庁日以前にしてください。",
                                         open, prev->registration_to));
    if (next != NULL && cycle_gap_first_open_day(w->registration_to, next->registration_from, open))
        return cycle_refuse(pb, "registration_to",
                            arena_printf(c->arena,
                                         "%s がどのサイクルの登録期間にも入らなくなります。登録終了は"
                                         "次のサイクルの登録開始（%s）の前の開庁日以降にしてください。",
                                         open, next->registration_from));
    return NSDB_OK;
}

nsdb_err core_cycle_adjust(core_ctx *c, const char *id, const cycle_dates *in, nsdb_problem *pb)
{
    cycle_window w;
    nsdb_err e = store_cycle_get(c->conn, id, &w);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, NULL, "指定されたサイクルは見つかりません。");
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    const char *values[CYCLE_DATE_FIELD_COUNT] = {in->registration_from, in->registration_to,
                                                  in->media_from,        in->media_to,
                                                  in->delivery_from,     in->delivery_to};
    for (size_t i = 0; i < CYCLE_DATE_FIELD_COUNT; i++)
        if (!date_copy(c->arena, values[i], (char *)&w + CYCLE_DATE_FIELDS[i].offset))
            return cycle_refuse(pb, CYCLE_DATE_FIELDS[i].name,
                                "日付は「2026-11-25」の形で、実在する日を入力してください。");
    cycle_window prev, next;
    e = store_cycle_prev(c->conn, id, &prev);
    bool has_prev = e == NSDB_OK;
    if (e == NSDB_OK || e == NSDB_ERR_NOT_FOUND)
        e = store_cycle_next(c->conn, id, &next);
    bool has_next = e == NSDB_OK;
    if (e != NSDB_OK && e != NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, NULL, NULL);
    if (cycle_dates_check(c, &w, has_prev ? &prev : NULL, has_next ? &next : NULL, pb) != NSDB_OK)
        return pb->code;
    e = core_begin(c);
    if (e == NSDB_OK)
        e = store_cycle_update(c->conn, &w, c->who.user_pk, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "cycle_adjust", id, "ok",
                       arena_printf(c->arena, "登録 %s〜%s 媒体 %s〜%s 送付 %s〜%s",
                                    w.registration_from, w.registration_to, w.media_from,
                                    w.media_to, w.delivery_from, w.delivery_to));
    e = core_end(c, e);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}
