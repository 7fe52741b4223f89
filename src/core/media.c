/*
 * media.c — see media.h. Slow work (certificates, images, PDFs) happens outside transactions;
 * each media's row and audit record are committed together once its image is on disk, so an
 * interrupted build resumes where it stopped and never records an image that is not there. A
 * media whose files cannot be made (a name the certificate refuses, say) is named in a
 * media_build_failed audit record and in the result, and the build goes on with the others.
 */
#include "core/media.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/certificates.h"
#include "domain/iso.h"
#include "domain/media_pdf.h"
#include "domain/pki.h"
#include "domain/text_chars.h"
#include "domain/vpn_profile.h"
#include "domain/shipping.h"
#include "store/audit.h"
#include "store/media_lock.h"
#include "store/media_timing.h"
#include "store/municipalities.h"
#include "store/users.h"
#include "util/log.h"

static NSDB_MUST_CHECK nsdb_err make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return NSDB_ERR_IO;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err write_file(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NSDB_ERR_IO;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return NSDB_ERR_IO;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return NSDB_ERR_IO;
    }
    return NSDB_OK;
}

/* The media operations' context: the connection of the build or packing, the actor, now. */
static core_ctx media_core(app *a, db *conn, arena *ar, const core_actor *who)
{
    core_ctx c = {.app = a, .conn = conn, .arena = ar, .who = *who};
    c.who.now = (int64_t)time(NULL);
    return c;
}

nsdb_err media_cycles_ensure(db *conn, int through_year)
{
    size_t n = cycle_generate(2023, through_year, NULL, 0);
    cycle_window *cycles = calloc(n ? n : 1, sizeof *cycles);
    if (cycles == NULL)
        return NSDB_ERR_NOMEM;
    n = cycle_generate(2023, through_year, cycles, n);
    nsdb_err e = db_begin(conn);
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = store_cycle_ensure(conn, &cycles[i]);
    free(cycles);
    if (e == NSDB_OK)
        return db_commit(conn);
    db_rollback(conn);
    return e;
}

/* The institution's users registered by the municipality, for the list on the media. */
static NSDB_MUST_CHECK nsdb_err institution_list(db *conn, arena *ar, const store_media *m,
                                                 media_list_row **rows_out, size_t *n_out)
{
    store_user_query q = {.municipality_pk = m->municipality_pk,
                          .municipal_roles = false,
                          .institution_pk = m->institution_pk,
                          .limit = 100000};
    store_user *users = NULL;
    size_t n = 0;
    int64_t total = 0;
    nsdb_err e = store_user_search(conn, ar, &q, &users, &n, &total);
    if (e != NSDB_OK)
        return e;
    media_list_row *rows = arena_calloc(ar, n ? n : 1, sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (media_list_row){m->municipality_code, m->municipality_name,
                                   m->institution_code, m->institution_name, users[i].user_id};
    *rows_out = rows;
    *n_out = n;
    return NSDB_OK;
}

/* The VPN server written into each profile ("host port"). */
static const char *vpn_remote(const app *a)
{
    return a->cfg.vpn_remote ? a->cfg.vpn_remote : "vpn.nsdb.invalid 1194";
}

/* The reason a step of build_one failed, for the result and the audit record. */
static const char *step_failed(arena *ar, const char *step, nsdb_err e)
{
    return arena_printf(ar, "%s: %s", step, nsdb_err_message(e));
}

/* The files nsdb adds to the template on each media. The certificate has its own folder:
   the template's VPN client software sits in VPN/, and Windows reads the disc's (Joliet) names
   without case, so a vpn/ of ours would hide it or be hidden. */
static const char *const MEDIA_FILES[] = {
    "証明書/client.p12",
    "証明書/nsdb-vpn.ovpn",
    "ユーザID一覧/ユーザID一覧.csv",
    "ユーザID一覧/ユーザID一覧.pdf",
};

/* 4700000000 as "4,700,000,000". */
static const char *bytes_text(arena *ar, int64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)n);
    strbuf sb = STRBUF_INIT;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            strbuf_putc(&sb, ',');
        strbuf_putc(&sb, digits[i]);
    }
    const char *text = arena_strdup(ar, sb.data);
    strbuf_free(&sb);
    return text;
}

/* The template with the files nsdb adds, checked before anything is built: no two paths that
   Windows would take for one (they differ only in case), and not more than a DVD holds. A
   refusal's sentence in *error. */
static NSDB_MUST_CHECK nsdb_err media_content_check(const char *template_dir, arena *ar,
                                                    const char **error)
{
    iso_extra_file probe[sizeof MEDIA_FILES / sizeof MEDIA_FILES[0]];
    for (size_t i = 0; i < sizeof MEDIA_FILES / sizeof MEDIA_FILES[0]; i++)
        probe[i] = (iso_extra_file){MEDIA_FILES[i], NULL, 0};
    iso_content content;
    nsdb_err e = iso_check(template_dir, probe, sizeof probe / sizeof probe[0], &content);
    if (e == NSDB_ERR_EXISTS && content.clash_first[0] != '\0') {
        *error = arena_printf(ar, "媒体の中に、大文字と小文字だけが違う名前が2つあります:「%s」と"
                                  "「%s」。Windows では片方しか見えないため、媒体テンプレートの"
                                  "フォルダ名またはファイル名を変えてください。",
                              content.clash_first, content.clash_second);
        return NSDB_ERR_INVALID;
    }
    if (e == NSDB_ERR_EXISTS) {
        *error = arena_printf(ar, "媒体テンプレートに、nsdb が媒体に加えるファイル（%s、%s）と"
                                  "同じ名前があります。テンプレートから外してください。",
                              MEDIA_FILES[0], MEDIA_FILES[1]);
        return NSDB_ERR_INVALID;
    }
    if (e != NSDB_OK) {
        *error = arena_printf(ar, "媒体テンプレートのフォルダ %s を読めません: %s", template_dir,
                              nsdb_err_message(e));
        return e;
    }
    if (content.file_bytes > ISO_DVD_CAPACITY_BYTES) {
        *error = arena_printf(ar, "媒体テンプレートの大きさ（%s バイト）が片面一層 DVD の容量"
                                  "（%s バイト）を超えています。媒体は作成していません。"
                                  "テンプレートのファイルを減らしてください。",
                              bytes_text(ar, content.file_bytes),
                              bytes_text(ar, ISO_DVD_CAPACITY_BYTES));
        return NSDB_ERR_TOO_LARGE;
    }
    return NSDB_OK;
}

/* Everything generated for one media, then its image; on failure *why names the step. */
static NSDB_MUST_CHECK nsdb_err build_one(app *a, db *conn, pki_ca *ca, const char *dir,
                                          const char *template_dir, arena *ar, store_media *m,
                                          char *passphrase, const char **why)
{
    strbuf p12 = STRBUF_INIT, list_pdf = STRBUF_INIT, list_csv = STRBUF_INIT,
           profile = STRBUF_INIT;
    char serial[41];
    pki_passphrase_generate(passphrase);
    nsdb_err e = pki_client_p12(ca, m->institution_code, m->institution_name, passphrase, &p12,
                                serial);
    if (e != NSDB_OK)
        *why = e == NSDB_ERR_INVALID ? "VPN 証明書: 医療機関名に証明書に使えない文字があります"
                                     : step_failed(ar, "VPN 証明書", e);
    media_list_row *rows = NULL;
    size_t n = 0;
    if (e == NSDB_OK && (e = institution_list(conn, ar, m, &rows, &n)) != NSDB_OK)
        *why = step_failed(ar, "ユーザID一覧", e);
    const char *subtitle = arena_printf(ar, "媒体送付サイクル %s ・ %s %s", m->cycle_id,
                                        m->institution_code, m->institution_name);
    if (e == NSDB_OK && n > 0 &&
        (e = media_user_list_pdf(rows, n, "医療機関毎の指定医のユーザID一覧", subtitle,
                                 &list_pdf)) != NSDB_OK)
        *why = step_failed(ar, "ユーザID一覧（PDF）", e);
    if (e == NSDB_OK && (e = media_user_list_csv(rows, n, &list_csv)) != NSDB_OK)
        *why = step_failed(ar, "ユーザID一覧（CSV）", e);
    if (e == NSDB_OK && (e = vpn_profile_render(m->institution_code, m->institution_name,
                                                vpn_remote(a), &profile)) != NSDB_OK)
        *why = step_failed(ar, "VPN 接続設定", e);
    iso_extra_file extras[] = {
        {MEDIA_FILES[0], p12.data, p12.len},
        {MEDIA_FILES[1], profile.data, profile.len},
        {MEDIA_FILES[2], list_csv.data, list_csv.len},
        {MEDIA_FILES[3], list_pdf.data, list_pdf.len},
    };
    size_t extra_count = list_pdf.len > 0 ? 4 : 3;
    char sha[65];
    m->volume_id = arena_printf(ar, "NSDB_%s%s", m->institution_code,
                                m->reissue_of ? "_R" : m->renewal_of ? "_U" : "");
    m->iso_path = m->renewal_of ? arena_printf(ar, "%s/%s_%s_u%lld.iso", dir, m->municipality_code,
                                               m->institution_code, (long long)m->renewal_of)
                  : m->reissue_of
                      ? arena_printf(ar, "%s/%s_%s_r%lld.iso", dir, m->municipality_code,
                                     m->institution_code, (long long)m->reissue_of)
                      : arena_printf(ar, "%s/%s_%s.iso", dir, m->municipality_code,
                                     m->institution_code);
    if (e == NSDB_OK &&
        (e = iso_build(m->iso_path, m->volume_id, template_dir, extras, extra_count, sha)) !=
            NSDB_OK)
        *why = e == NSDB_ERR_TOO_LARGE
                   ? "ディスクイメージ: テンプレートと証明書・ユーザID一覧を合わせると片面一層 DVD"
                     "（4,700,000,000 バイト）に収まりません"
                   : step_failed(ar, "ディスクイメージ", e);
    if (e == NSDB_OK) {
        struct stat st;
        m->sha256 = arena_strdup(ar, sha);
        m->size_bytes = stat(m->iso_path, &st) == 0 ? (int64_t)st.st_size : 0;
        m->cert_serial = arena_strdup(ar, serial);
    }
    if (p12.data)
        sodium_memzero(p12.data, p12.len);
    strbuf_free(&p12);
    strbuf_free(&list_pdf);
    strbuf_free(&list_csv);
    strbuf_free(&profile);
    return e;
}

/* s cut to max code points, with "…" when it was longer (for a sentence of bounded length). */
static const char *cut(arena *ar, const char *s, size_t max)
{
    size_t chars = 0, end = 0;
    for (; s[end] != '\0'; end++)
        if (((unsigned char)s[end] & 0xC0) != 0x80 && chars++ == max)
            return arena_printf(ar, "%.*s…", (int)end, s);
    return s;
}

/* A media that could not be built: named (municipality, institution code and name, the step)
 * in the log and in a media_build_failed audit record of its own; *line gets the same for the
 * result. An error only when the record cannot be written. */
static NSDB_MUST_CHECK nsdb_err report_failed(app *a, db *conn, arena *ar, const core_actor *who,
                                              const store_media *m, const char *why,
                                              const char **line)
{
    const char *muni = text_chars_visible(ar, m->municipality_name);
    const char *name = text_chars_visible(ar, m->institution_name);
    log_event(LOG_ERROR, "media_build_failed", "cycle", m->cycle_id, "municipality",
              m->municipality_code, "institution", m->institution_code, "name", name, "reason",
              why, NULL);
    *line = arena_printf(ar, "%s %s %s「%s」（%s）", m->municipality_code,
                         text_chars_visible(ar, cut(ar, m->municipality_name, 20)),
                         m->institution_code,
                         text_chars_visible(ar, cut(ar, m->institution_name, 30)), why);
    core_ctx c = media_core(a, conn, ar, who);
    return core_audit_event(&c, "media_build_failed",
                            core_target_id(&c, "institution", m->institution_pk), "failed",
                            arena_printf(ar, "%s %s %s %s「%s」（%s）", m->cycle_id,
                                         m->municipality_code, muni, m->institution_code, name,
                                         why));
}

/* The result's sentence about the media that failed: how many, the first few by name (the
 * screen keeps about 500 bytes), where to find the rest. */
static const char *failed_summary(arena *ar, size_t done, const char *const *lines, size_t n)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%zu 件の媒体を作成しました。%zu 件は作成できませんでした: ", done, n);
    size_t shown = 0;
    for (; shown < n && (shown == 0 || sb.len + strlen(lines[shown]) < 400); shown++)
        strbuf_printf(&sb, "%s%s", shown ? "、" : "", lines[shown]);
    if (shown < n)
        strbuf_printf(&sb, " ほか %zu 件", n - shown);
    strbuf_puts(&sb, "。医療機関の登録内容を直してから、もう一度作成してください（監査ログ "
                     "media_build_failed に全件あります）。");
    const char *text = arena_strdup(ar, sb.data);
    strbuf_free(&sb);
    return text;
}

static NSDB_MUST_CHECK nsdb_err record_one(app *a, db *conn, store_media *m, const char *passphrase,
                                           const core_actor *who, arena *ar, int64_t *id_out)
{
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    nsdb_err e = secret_seal(&a->key, passphrase, strlen(passphrase), &sealed, &sealed_len);
    if (e != NSDB_OK)
        return e;
    m->passphrase_sealed = sealed;
    m->passphrase_sealed_len = sealed_len;
    core_ctx c = media_core(a, conn, ar, who);
    int64_t now = c.who.now;
    e = core_begin(&c);
    if (e == NSDB_OK)
        e = store_media_insert(conn, m, now, id_out);
    if (e == NSDB_OK && m->reissue_of) {
        bool changed = false;
        e = store_media_transition(conn, m->reissue_of, MEDIA_STATUS_DAMAGED,
                                   MEDIA_ACTION_REISSUE, now, &changed);
        if (e == NSDB_OK)
            e = core_audit(&c, "media_reissued", core_target_id(&c, "media", m->reissue_of), "ok",
                           arena_printf(ar, "damaged → reissued (media:%lld)", (long long)*id_out));
        /* the damaged disc's certificate is replaced by the new one: off the CRL it goes */
        if (e == NSDB_OK)
            e = core_cert_revoke_step(&c, m->reissue_of, PKI_REVOKED_SUPERSEDED);
    }
    if (e == NSDB_OK && m->renewal_of)
        e = core_renewal_record_step(&c, *id_out, m->renewal_of);
    if (e == NSDB_OK)
        e = core_audit(&c, "media_create", core_target_id(&c, "media", *id_out), "ok",
                       arena_printf(ar, "%s %s %s", m->cycle_id, m->municipality_code,
                                    m->institution_code));
    e = core_end(&c, e);
    free(sealed);
    m->passphrase_sealed = NULL;
    return e;
}

/* Releases the database's build lock and the connection that holds it. */
static void build_unlock(app *a, db *conn)
{
    /* a session that keeps the lock would refuse every later build: say so */
    if (store_media_build_unlock(conn) != NSDB_OK)
        log_event(LOG_ERROR, "media_build_unlock_failed", "error", db_error_message(conn), NULL);
    db_pool_release(a->pool, conn);
}

nsdb_err media_build_cycle(app *a, const char *cycle_id, const char *template_dir,
                           const core_actor *who, const media_progress *progress, arena *ar,
                           media_built **out, size_t *count_out, nsdb_problem *pb)
{
    *out = NULL;
    *count_out = 0;
    const char *error = NULL;
    struct stat st;
    if (template_dir == NULL || stat(template_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = arena_printf(ar, "媒体テンプレートのフォルダ %s がありません。",
                                  template_dir ? template_dir : "(未指定)");
        return problem_set(pb, NSDB_ERR_INVALID, NULL, error);
    }
    nsdb_err checked = media_content_check(template_dir, ar, &error);
    if (checked != NSDB_OK)
        return problem_set(pb, checked == NSDB_ERR_TOO_LARGE ? NSDB_ERR_INVALID : checked, NULL,
                           error);
    if (!vpn_remote_valid(vpn_remote(a))) {
        error = arena_printf(ar, "VPN の接続先（--vpn-remote）「%s」が正しくありません。"
                                 "「vpn.example.jp 1194」の形で指定してください。",
                             text_chars_visible(ar, vpn_remote(a)));
        return problem_set(pb, NSDB_ERR_INVALID, NULL, error);
    }
    /* one build at a time on this data folder (the screen's, another server's, the CLI's): two
       would both take the same institutions and write over each other's images */
    char *dir = arena_printf(ar, "%s/media", a->cfg.data_dir);
    int lock_fd = make_dir(dir) == NSDB_OK
                      ? open(arena_printf(ar, "%s/.build.lock", dir), O_RDWR | O_CREAT | O_CLOEXEC,
                             0600)
                      : -1;
    if (lock_fd < 0) {
        error = arena_printf(ar, "媒体のフォルダ %s を作成できません。", dir);
        return problem_set(pb, NSDB_ERR_IO, NULL, error);
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        close(lock_fd);
        error = arena_strdup(ar, "別の媒体作成（画面または nsdb media build）が実行中です。"
                                      "終わってから、もう一度作成してください。");
        return problem_set(pb, NSDB_ERR_BUSY, NULL, error);
    }
    db *conn = db_pool_acquire(a->pool);
    /* and across the servers on one PostgreSQL, whose data folders may not share file locks */
    bool got = false;
    if (store_media_build_lock_try(conn, &got) != NSDB_OK || !got) {
        db_pool_release(a->pool, conn);
        close(lock_fd);
        error = arena_strdup(ar, "別の媒体作成（画面または nsdb media build）が実行中です。"
                                 "終わってから、もう一度作成してください。");
        return problem_set(pb, NSDB_ERR_BUSY, NULL, error);
    }
    cycle_window c;
    nsdb_err e = store_cycle_get(conn, cycle_id, &c);
    if (e != NSDB_OK) {
        build_unlock(a, conn);
        close(lock_fd);
        error = arena_printf(ar, "サイクル %s はありません（nsdb cycle list で確認してください）。",
                                  cycle_id);
        return problem_set(pb, e == NSDB_ERR_NOT_FOUND ? NSDB_ERR_INVALID : e, NULL, error);
    }
    store_media *wanted = NULL;
    size_t n = 0;
    e = store_media_candidates(conn, ar, cycle_id, &wanted, &n);
    core_ctx renewals = media_core(a, conn, ar, who);
    if (e == NSDB_OK) /* certificates near their end: a renewal media each */
        e = core_renewal_candidates(&renewals, cycle_id, &wanted, &n);
    char *cycle_dir = arena_printf(ar, "%s/%s", dir, cycle_id);
    pki_ca *ca = NULL;
    if (e == NSDB_OK && n > 0 && make_dir(cycle_dir) != NSDB_OK)
        e = NSDB_ERR_IO;
    if (e == NSDB_OK && n > 0)
        e = pki_ca_load_or_create(arena_printf(ar, "%s/ca", a->cfg.data_dir), &ca);
    media_built *built = arena_calloc(ar, n ? n : 1, sizeof *built);
    const char **failed = arena_calloc(ar, n ? n : 1, sizeof *failed);
    size_t done = 0, failed_count = 0;
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        if (progress != NULL && progress->report != NULL)
            progress->report(progress->ctx, done, n);
        if (progress != NULL && progress->stop != NULL && atomic_load(progress->stop)) {
            error = arena_printf(ar, "サーバの停止で媒体の作成を中断しました（%zu 件作成済み）。"
                                          "もう一度作成すると続きを作成します。",
                                      done);
            e = NSDB_ERR_BUSY;
            break;
        }
        char passphrase[PKI_PASSPHRASE_LEN + 1];
        const char *why = NULL;
        e = build_one(a, conn, ca, cycle_dir, template_dir, ar, &wanted[i], passphrase, &why);
        if (e != NSDB_OK) { /* this media only: named, and the others are still built */
            sodium_memzero(passphrase, sizeof passphrase);
            e = report_failed(a, conn, ar, who, &wanted[i], why, &failed[failed_count++]);
            continue;
        }
        int64_t id = 0;
        e = record_one(a, conn, &wanted[i], passphrase, who, ar, &id);
        sodium_memzero(passphrase, sizeof passphrase);
        if (e != NSDB_OK)
            break;
        built[done++] = (media_built){id, wanted[i].municipality_code, wanted[i].institution_code,
                                      wanted[i].iso_path, wanted[i].sha256,
                                      wanted[i].reissue_of != 0 || wanted[i].renewal_of != 0};
    }
    pki_ca_free(ca);
    build_unlock(a, conn);
    close(lock_fd); /* and the lock with it */
    if (e == NSDB_OK && progress != NULL && progress->report != NULL)
        progress->report(progress->ctx, done, n);
    if (e != NSDB_OK && error == NULL)
        error = arena_printf(ar, "媒体の作成に失敗しました（%zu 件作成済み）: %s", done,
                                  nsdb_err_message(e));
    if (failed_count > 0) {
        const char *summary = failed_summary(ar, done, failed, failed_count);
        error = error ? arena_printf(ar, "%s %s", error, summary) : summary;
        if (e == NSDB_OK)
            e = NSDB_ERR_INVALID; /* what is built stays; the result names what is not */
    }
    *out = built;
    *count_out = done;
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, error);
}

/* ---- packing ---- */

/* The label's addressee: the municipality and the department on record. */
static const char *label_addressee(arena *ar, const store_package *p)
{
    if (p->to.department == NULL || p->to.department[0] == '\0')
        return arena_printf(ar, "%s 難病・小慢DB ご担当者 御中", p->municipality_name);
    return arena_printf(ar, "%s %s 御中", p->municipality_name, p->to.department);
}

/* The 追加分 of one package: users due (store_supplement_due) of its municipality. */
typedef struct pack_supplement {
    const store_supplement_user *users;
    size_t n;
} pack_supplement;

/* The 追加分's rows for the printed list. */
static media_supplement_row *supplement_rows(arena *ar, const pack_supplement *extra)
{
    media_supplement_row *rows = arena_calloc(ar, extra->n ? extra->n : 1, sizeof *rows);
    for (size_t i = 0; i < extra->n; i++) {
        const store_supplement_user *u = &extra->users[i];
        char *day = arena_calloc(ar, 1, 11);
        cycle_day_of_time(u->registered_at, day);
        rows[i] = (media_supplement_row){u->institution_code, u->institution_name, u->name,
                                         u->user_id, day};
    }
    return rows;
}

static NSDB_MUST_CHECK nsdb_err pack_files(app *a, db *conn, arena *ar, const char *cycle_dir,
                                           const store_package *p, const store_media *media,
                                           size_t n, const pack_supplement *extra,
                                           package_built *b)
{
    media_list_row *rows = NULL;
    const char **numbers = NULL; /* each row's 媒体番号 */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        media_list_row *part = NULL;
        size_t k = 0;
        nsdb_err e = institution_list(conn, ar, &media[i], &part, &k);
        if (e != NSDB_OK)
            return e;
        media_list_row *joined = arena_calloc(ar, total + k + 1, sizeof *joined);
        const char **joined_numbers = arena_calloc(ar, total + k + 1, sizeof *joined_numbers);
        if (total) {
            memcpy(joined, rows, total * sizeof *rows);
            memcpy(joined_numbers, numbers, total * sizeof *numbers);
        }
        if (k)
            memcpy(joined + total, part, k * sizeof *part);
        for (size_t j = 0; j < k; j++) /* as on the disc label (web/media_files.c) */
            joined_numbers[total + j] = arena_printf(ar, "%lld", (long long)media[i].id);
        rows = joined;
        numbers = joined_numbers;
        total += k;
    }
    strbuf list = STRBUF_INIT, csv = STRBUF_INIT, label = STRBUF_INIT;
    const char *subtitle = arena_printf(ar, "媒体送付サイクル %s ・ %s %s ・ 梱包 %lld",
                                        p->cycle_id, p->municipality_code, p->municipality_name,
                                        (long long)p->seq);
    nsdb_err e = total + extra->n > 0
                     ? media_package_list_pdf(rows, total ? numbers : NULL, total,
                                              supplement_rows(ar, extra), extra->n,
                                              "医療機関毎の指定医のユーザID一覧", subtitle, &list)
                     : NSDB_OK;
    if (e == NSDB_OK)
        e = media_user_list_csv(rows, total, &csv);
    media_label lab = {.sender_name = a->cfg.sender_name,
                       .sender_postal = a->cfg.sender_postal,
                       .sender_address = a->cfg.sender_address,
                       .sender_phone = a->cfg.sender_phone,
                       .to_postal = p->to.postal ? p->to.postal : "",
                       .to_address = p->to.address ? p->to.address : "",
                       .to_name = label_addressee(ar, p),
                       .to_phone = p->to.phone ? p->to.phone : "",
                       .package_ref = arena_printf(ar, "%s / %s / %lld%s", p->cycle_id,
                                                   p->municipality_code, (long long)p->seq,
                                                   p->to.category
                                                       ? arena_printf(ar, "（%s）",
                                                                      category_label(p->to.category))
                                                       : ""),
                       .tracking_number = "", /* Japan Post prints it on the Letter Pack */
                       .media_count = (int)n};
    if (e == NSDB_OK)
        e = media_label_pdf(&lab, 1, &label);
    char *base = arena_printf(ar, "%s/packages/%s_%02lld", cycle_dir, p->municipality_code,
                              (long long)p->seq);
    b->label_pdf = arena_printf(ar, "%s_label.pdf", base);
    b->list_pdf = arena_printf(ar, "%s_list.pdf", base);
    if (e == NSDB_OK)
        e = write_file(b->label_pdf, label.data, label.len);
    if (e == NSDB_OK && list.len > 0)
        e = write_file(b->list_pdf, list.data, list.len);
    if (e == NSDB_OK)
        e = write_file(arena_printf(ar, "%s_list.csv", base), csv.data, csv.len);
    strbuf_free(&list);
    strbuf_free(&csv);
    strbuf_free(&label);
    return e;
}

static NSDB_MUST_CHECK nsdb_err pack_media_one(core_ctx *c, const store_media *m,
                                               int64_t package_id)
{
    db *conn = c->conn;
    arena *ar = c->arena;
    int64_t now = c->who.now;
    bool changed = false;
    const char *target = core_target_id(c, "media", m->id);
    nsdb_err e = store_media_set_package(conn, m->id, package_id, now);
    if (e == NSDB_OK)
        e = store_media_transition(conn, m->id, MEDIA_STATUS_CREATED, MEDIA_ACTION_PACK, now,
                                   &changed);
    if (e == NSDB_OK && !changed)
        e = NSDB_ERR_BUSY; /* packed by someone else meanwhile */
    if (e == NSDB_OK)
        e = core_audit(c, "media_packed", target, "ok",
                       arena_printf(ar, "created → packed (package:%lld)", (long long)package_id));
    return e; /* 発送 is its own step, with the real number (core/shipping_desk.c) */
}

/* Records the 追加分 of package_id, each user once (NSDB_ERR_BUSY when another packing listed
   one meanwhile), with its audit record. */
static NSDB_MUST_CHECK nsdb_err supplement_record(core_ctx *c, int64_t package_id,
                                                 const pack_supplement *extra)
{
    if (extra->n == 0)
        return NSDB_OK;
    strbuf ids = STRBUF_INIT;
    nsdb_err e = NSDB_OK;
    for (size_t i = 0; e == NSDB_OK && i < extra->n; i++) {
        e = store_package_listing_supplement(c->conn, package_id, extra->users[i].user_pk);
        strbuf_printf(&ids, "%s%s", i ? " " : "", extra->users[i].user_id);
    }
    if (e == NSDB_ERR_EXISTS)
        e = NSDB_ERR_BUSY;
    if (e == NSDB_OK)
        e = core_audit(c, "package_supplement", core_target_id(c, "package", package_id), "ok",
                       arena_printf(c->arena, "追加分 %zu 名: %s", extra->n, ids.data));
    strbuf_free(&ids);
    return e;
}

static NSDB_MUST_CHECK nsdb_err pack_one(app *a, db *conn, arena *ar, const char *cycle_id,
                                         const char *cycle_dir, store_media *media, size_t n,
                                         const pack_supplement *extra,
                                         const shipping_destination *to, const core_actor *who,
                                         package_built *b)
{
    assert(n > 0 || extra->n > 0);
    int64_t municipality_pk = n ? media[0].municipality_pk : extra->users[0].municipality_pk;
    const char *municipality = n ? media[0].municipality_code : extra->users[0].municipality_code;
    core_ctx c = media_core(a, conn, ar, who);
    int64_t seq = 0, id = 0, now = c.who.now;
    nsdb_err e = core_begin(&c);
    if (e == NSDB_OK)
        e = store_package_max_seq(conn, cycle_id, municipality_pk, &seq);
    if (e == NSDB_OK)
        e = store_package_insert(conn, cycle_id, municipality_pk, seq + 1, to, now, &id);
    b->media_ids = arena_calloc(ar, n ? n : 1, sizeof *b->media_ids);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        e = pack_media_one(&c, &media[i], id);
        b->media_ids[i] = media[i].id;
    }
    if (e == NSDB_OK)
        e = core_audit(&c, "package_create", core_target_id(&c, "package", id), "ok",
                       arena_printf(ar, "%s %s 媒体%zu枚 梱包済 発送先 %s〒%s %s", cycle_id,
                                    municipality, n,
                                    to->category ? arena_printf(ar, "%s（%s） ",
                                                                to->department ? to->department : "",
                                                                category_label(to->category))
                                                 : "",
                                    to->postal ? to->postal : "", to->address ? to->address : ""));
    if (e == NSDB_OK) /* whom its list names: they need no 追加分 later */
        e = store_package_listing_main(conn, id);
    if (e == NSDB_OK)
        e = supplement_record(&c, id, extra);
    store_package *p = NULL;
    if (e == NSDB_OK)
        e = store_package_get(conn, ar, id, 0, &p);
    if (e == NSDB_OK)
        e = pack_files(a, conn, ar, cycle_dir, p, media, n, extra, b);
    e = core_end(&c, e);
    b->package_id = id;
    b->municipality = municipality;
    b->media_count = n;
    return e;
}

/* The department each media goes to (its institution's users decide), in media order. */
static NSDB_MUST_CHECK nsdb_err media_departments(db *conn, arena *ar, const char *cycle_id,
                                                  const store_media *media, size_t n,
                                                  user_category *out)
{
    store_media_users *users = NULL;
    size_t k = 0;
    nsdb_err e = store_media_user_categories(conn, ar, cycle_id, media[0].municipality_pk,
                                             MEDIA_STATUS_CREATED, &users, &k);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        out[i] = CATEGORY_NANBYO;
        for (size_t j = 0; j < k; j++) /* rows by media id: a municipality's few */
            if (users[j].media_id == media[i].id)
                out[i] = shipping_category_of_users(users[j].nanbyo, users[j].shoman,
                                                    users[j].both);
    }
    return e;
}

/* One municipality's n created media: to its one destination, or per department
   (domain/shipping.h). Each package made is added to built[*count]. */
static NSDB_MUST_CHECK nsdb_err pack_municipality(app *a, db *conn, arena *ar,
                                                  const char *cycle_id, const char *cycle_dir,
                                                  const store_media *media, size_t n,
                                                  const pack_supplement *extra,
                                                  const core_actor *who, package_built *built,
                                                  size_t *count)
{
    shipping_addresses addresses;
    shipping_destination to[2];
    nsdb_err e = store_municipality_addresses(conn, ar, media[0].municipality_pk, &addresses);
    if (e != NSDB_OK)
        return e;
    size_t destinations = shipping_destinations(ar, &addresses, to);
    user_category *departments = arena_calloc(ar, n, sizeof *departments);
    if (destinations == 2)
        e = media_departments(conn, ar, cycle_id, media, n, departments);
    size_t *order = arena_calloc(ar, n, sizeof *order);
    shipping_package *plan = arena_calloc(ar, n, sizeof *plan);
    size_t packages = e == NSDB_OK ? shipping_plan(departments, n, destinations,
                                                   MEDIA_PER_PACKAGE, order, plan)
                                   : 0;
    store_media *ordered = arena_calloc(ar, n, sizeof *ordered);
    for (size_t i = 0; i < n; i++)
        ordered[i] = media[order[i]];
    pack_supplement none = {NULL, 0};
    for (size_t p = 0; e == NSDB_OK && p < packages; p++) {
        /* the 追加分 travels with the municipality's first package */
        e = pack_one(a, conn, ar, cycle_id, cycle_dir, &ordered[plan[p].first], plan[p].count,
                     p == 0 ? extra : &none, &to[plan[p].destination], who, &built[*count]);
        if (e == NSDB_OK)
            (*count)++;
    }
    return e;
}

/* The users of due (sorted by municipality) of municipality_pk, marked as taken in packed. */
static pack_supplement supplement_of(const store_supplement_user *due, size_t due_n,
                                     int64_t municipality_pk, bool *packed)
{
    pack_supplement out = {NULL, 0};
    for (size_t i = 0; i < due_n; i++)
        if (due[i].municipality_pk == municipality_pk) {
            if (out.n == 0)
                out.users = &due[i];
            out.n++;
            packed[i] = true;
        }
    return out;
}

/* A package of a municipality's 追加分 alone (it has no new media in the cycle): to the
   department of most of the users where its 難病 and 小慢 addresses differ. */
static NSDB_MUST_CHECK nsdb_err pack_supplement_alone(app *a, db *conn, arena *ar,
                                                      const char *cycle_id, const char *cycle_dir,
                                                      const pack_supplement *extra,
                                                      const core_actor *who, package_built *b)
{
    shipping_addresses addresses;
    shipping_destination to[2];
    nsdb_err e = store_municipality_addresses(conn, ar, extra->users[0].municipality_pk, &addresses);
    if (e != NSDB_OK)
        return e;
    size_t destinations = shipping_destinations(ar, &addresses, to);
    int64_t nanbyo = 0, shoman = 0, both = 0;
    for (size_t i = 0; i < extra->n; i++) {
        user_category category = 0;
        if (!category_from_key(extra->users[i].category, &category))
            continue;
        nanbyo += category == CATEGORY_NANBYO;
        shoman += category == CATEGORY_SHOMAN;
        both += category == CATEGORY_BOTH;
    }
    user_category department = shipping_category_of_users(nanbyo, shoman, both);
    size_t d = 0;
    for (size_t i = 0; i < destinations; i++)
        if (to[i].category == department)
            d = i;
    return pack_one(a, conn, ar, cycle_id, cycle_dir, NULL, 0, extra, &to[d], who, b);
}

nsdb_err media_pack_cycle(app *a, const char *cycle_id, const core_actor *who, arena *ar,
                          package_built **out, size_t *count_out, nsdb_problem *pb)
{
    const char *error = NULL;
    *out = NULL;
    *count_out = 0;
    db *conn = db_pool_acquire(a->pool);
    cycle_window c;
    nsdb_err e = store_cycle_get(conn, cycle_id, &c);
    if (e != NSDB_OK) {
        db_pool_release(a->pool, conn);
        error = arena_printf(ar, "サイクル %s はありません。", cycle_id);
        return problem_set(pb, e == NSDB_ERR_NOT_FOUND ? NSDB_ERR_INVALID : e, NULL, error);
    }
    store_media *media = NULL;
    size_t n = 0;
    e = store_media_list(conn, ar, cycle_id, 0, 0, MEDIA_STATUS_CREATED, &media, &n);
    char *cycle_dir = arena_printf(ar, "%s/media/%s", a->cfg.data_dir, cycle_id);
    if (e == NSDB_OK && n > 0 &&
        (make_dir(arena_printf(ar, "%s/media", a->cfg.data_dir)) != NSDB_OK ||
         make_dir(cycle_dir) != NSDB_OK ||
         make_dir(arena_printf(ar, "%s/packages", cycle_dir)) != NSDB_OK))
        e = NSDB_ERR_IO;
    store_supplement_user *due = NULL;
    size_t due_n = 0;
    if (e == NSDB_OK)
        e = store_supplement_due(conn, ar, cycle_id, &due, &due_n);
    if (e == NSDB_OK && n == 0 && due_n > 0 &&
        (make_dir(arena_printf(ar, "%s/media", a->cfg.data_dir)) != NSDB_OK ||
         make_dir(cycle_dir) != NSDB_OK ||
         make_dir(arena_printf(ar, "%s/packages", cycle_dir)) != NSDB_OK))
        e = NSDB_ERR_IO;
    package_built *built = arena_calloc(ar, n + due_n ? n + due_n : 1, sizeof *built);
    bool *due_packed = arena_calloc(ar, due_n ? due_n : 1, sizeof *due_packed);
    size_t count = 0;
    for (size_t i = 0; e == NSDB_OK && i < n;) {
        size_t j = i;
        while (j < n && media[j].municipality_pk == media[i].municipality_pk)
            j++;
        pack_supplement extra = supplement_of(due, due_n, media[i].municipality_pk, due_packed);
        e = pack_municipality(a, conn, ar, cycle_id, cycle_dir, &media[i], j - i, &extra, who,
                              built, &count);
        i = j;
    }
    /* municipalities with a 追加分 and no new media: a package of the list alone */
    for (size_t i = 0; e == NSDB_OK && i < due_n; i++) {
        if (due_packed[i])
            continue;
        pack_supplement extra = supplement_of(due, due_n, due[i].municipality_pk, due_packed);
        e = pack_supplement_alone(a, conn, ar, cycle_id, cycle_dir, &extra, who, &built[count]);
        if (e == NSDB_OK)
            count++;
    }
    db_pool_release(a->pool, conn);
    if (e != NSDB_OK)
        error = arena_printf(ar, "梱包に失敗しました（%zu 件作成済み）: %s", count,
                                  nsdb_err_message(e));
    *out = built;
    *count_out = count;
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, error);
}
