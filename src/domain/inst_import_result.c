/*
 * inst_import_result.c — the result of an import as it grows: the files read, their warnings, the
 * errors (capped, sorted, with their location written out), the rows with their strings in the
 * caller's arena, and the checks across rows and files (one institution code with two names,
 * postal codes or addresses; the same person twice; two 責任者), also when results are merged.
 *
 * Memory is bounded by the result, not by the work: a row's surviving strings are copied in one
 * block carved from large chunks (the institution strings of later rows of the same institution
 * point at the first row's), and the checks across rows use hash tables keyed by institution code
 * and by (institution, person, category), so rows are checked in one linear pass.
 */
#include "domain/inst_import_int.h"
#include "domain/inst_master.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_CHUNK 65536 /* row strings are carved from chunks of this size */

void *inst_import_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    return q;
}

typedef struct inst_entry {
    const char *code; /* NULL: empty slot */
    uint64_t hash;
    size_t value_row[INST_FIELD_COUNT]; /* per field, the row that gave it first; SIZE_MAX: none */
    size_t manager_row;                 /* SIZE_MAX when none */
} inst_entry;

typedef struct person_entry {
    size_t row; /* the row's index + 1; 0: an empty slot */
    uint64_t hash;
} person_entry;

struct inst_import_state {
    inst_import_row *rows; /* what inst_import.rows points at; malloc'd, freed with the arena */
    size_t row_cap;
    inst_entry *insts;
    size_t inst_cap, inst_count;
    person_entry *persons;
    size_t person_cap, person_count;
    file_info *file_infos; /* parallel to inst_import.files */
    size_t file_cap;
    size_t error_cap, warning_cap; /* arena arrays that grow by doubling */
    char *pool;                    /* the current chunk for row strings */
    size_t pool_left;
};

static void state_free(void *p)
{
    struct inst_import_state *s = p;
    free(s->rows);
    free(s->insts);
    free(s->persons);
    free(s->file_infos);
}

static struct inst_import_state *state_of(inst_import *out, arena *a)
{
    if (out->state == NULL) {
        out->state = arena_calloc(a, 1, sizeof *out->state);
        arena_defer(a, state_free, out->state);
    }
    return out->state;
}

void inst_import_rows_reserve(inst_import *out, arena *a, size_t need)
{
    struct inst_import_state *s = state_of(out, a);
    if (need <= s->row_cap)
        return;
    size_t cap = s->row_cap * 2 > need ? s->row_cap * 2 : need;
    s->rows = inst_import_xrealloc(s->rows, cap * sizeof *s->rows);
    s->row_cap = cap;
    out->rows = s->rows;
}

/* ---- files, warnings, errors ----------------------------------------------------------------- */

unsigned inst_import_file_add(inst_import *out, arena *a, const char *name, const file_info *info)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->file_count == s->file_cap) {
        s->file_cap = s->file_cap ? s->file_cap * 2 : 4;
        const char **files = arena_calloc(a, s->file_cap, sizeof *files);
        if (out->file_count)
            memcpy(files, out->files, out->file_count * sizeof *files);
        out->files = files;
        s->file_infos = inst_import_xrealloc(s->file_infos, s->file_cap * sizeof *s->file_infos);
    }
    out->files[out->file_count] = arena_strdup(a, name ? name : "");
    s->file_infos[out->file_count] = *info;
    return (unsigned)out->file_count++;
}

file_info *inst_import_file_info(inst_import *out, unsigned file)
{
    return &out->state->file_infos[file];
}

/* "「a.csv」" for a named file, "" otherwise. */
static const char *file_prefix(const inst_import *out, arena *a, unsigned file)
{
    const char *name = file < out->file_count ? out->files[file] : "";
    return *name ? arena_printf(a, "「%s」", name) : "";
}

static void warning_push(inst_import *out, arena *a, const char *text)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->warning_count == s->warning_cap) {
        s->warning_cap = s->warning_cap ? s->warning_cap * 2 : 4;
        const char **w = arena_calloc(a, s->warning_cap, sizeof *w);
        if (out->warning_count)
            memcpy(w, out->warnings, out->warning_count * sizeof *w);
        out->warnings = w;
    }
    out->warnings[out->warning_count++] = text;
}

void inst_import_warning_add(inst_import *out, arena *a, unsigned file, const char *text)
{
    const char *prefix = file_prefix(out, a, file);
    warning_push(out, a, *prefix ? arena_printf(a, "%s: %s", prefix, text) : arena_strdup(a, text));
}

/* Column letters as a spreadsheet shows them: 1 → A, 27 → AA. */
static void column_letters(unsigned col, char buf[8])
{
    char tmp[8];
    size_t n = 0;
    for (; col > 0 && n < sizeof tmp - 1; col = (col - 1) / 26)
        tmp[n++] = (char)('A' + (col - 1) % 26);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

static void error_grow(inst_import *out, arena *a)
{
    struct inst_import_state *s = state_of(out, a);
    if (out->error_count < s->error_cap)
        return;
    s->error_cap = s->error_cap ? s->error_cap * 2 : 16;
    inst_import_error *e = arena_calloc(a, s->error_cap, sizeof *e);
    if (out->error_count)
        memcpy(e, out->errors, out->error_count * sizeof *e);
    out->errors = e;
}

void inst_import_error_add(inst_import *out, arena *a, unsigned file, cell_ref at, const char *reason)
{
    if (out->error_count >= INST_IMPORT_MAX_ERRORS) {
        out->errors_omitted++;
        return;
    }
    error_grow(out, a);
    inst_import_error *e = &out->errors[out->error_count++];
    const char *prefix = file_prefix(out, a, file);
    e->file = file;
    e->record = at.record;
    e->column = at.record ? at.column : 0;
    e->column_name = e->column ? at.column_name : NULL;
    e->reason = arena_strdup(a, reason);
    if (e->column) {
        char letters[8];
        column_letters(e->column, letters);
        e->message = arena_printf(a, "%s%u行目 %s列（%s）: %s", prefix, e->record, letters,
                                  e->column_name, reason);
    } else if (e->record) {
        e->message = arena_printf(a, "%s%u行目: %s", prefix, e->record, reason);
    } else {
        e->message = *prefix ? arena_printf(a, "%s: %s", prefix, reason) : e->reason;
    }
}

typedef struct error_item {
    inst_import_error e;
    size_t seq;
} error_item;

static int error_compare(const void *x, const void *y)
{
    const error_item *a = x, *b = y;
    if (a->e.file != b->e.file)
        return a->e.file < b->e.file ? -1 : 1;
    if (a->e.record != b->e.record)
        return a->e.record < b->e.record ? -1 : 1;
    if (a->e.column != b->e.column)
        return a->e.column < b->e.column ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Stable: the errors of one cell keep their order. */
nsdb_err inst_import_finish(inst_import *out, arena *a)
{
    if (out->error_count > 1) {
        error_item *items = inst_import_xrealloc(NULL, out->error_count * sizeof *items);
        for (size_t i = 0; i < out->error_count; i++)
            items[i] = (error_item){out->errors[i], i};
        qsort(items, out->error_count, sizeof *items, error_compare);
        for (size_t i = 0; i < out->error_count; i++)
            out->errors[i] = items[i].e;
        free(items);
    }
    if (out->errors_omitted > 0) {
        error_grow(out, a);
        inst_import_error *e = &out->errors[out->error_count++];
        memset(e, 0, sizeof *e);
        e->message = e->reason = arena_printf(
            a,
            "誤りが多いため、最初の%d件だけを表示しています（ほかに%zu件あります）。表示された誤りを"
            "直してから、もう一度アップロードしてください。",
            INST_IMPORT_MAX_ERRORS, out->errors_omitted);
    }
    return out->error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK;
}

/* Removes the summary that import_finish appended, before more errors are added. */
static void import_reopen(inst_import *out)
{
    if (out->errors_omitted > 0 && out->error_count > 0)
        out->error_count--;
}

/* ---- rows and the checks across them ------------------------------------------------------ */

#define ROW_STRING_COUNT (INST_IMPORT_COLUMN_COUNT + 1)

static const size_t FIELD_OFFSET[ROW_STRING_COUNT] = {
    offsetof(inst_import_row, inst_code),     offsetof(inst_import_row, inst_name),
    offsetof(inst_import_row, inst_postal),   offsetof(inst_import_row, inst_address),
    offsetof(inst_import_row, inst_phone),    offsetof(inst_import_row, user_type),
    offsetof(inst_import_row, name),          offsetof(inst_import_row, name_kana),
    offsetof(inst_import_row, category),      offsetof(inst_import_row, doctor_number),
    offsetof(inst_import_row, specialty),     offsetof(inst_import_row, email),
    offsetof(inst_import_row, search_key),
};

const char **inst_import_row_slot(inst_import_row *r, field_id f)
{
    return (const char **)(void *)((char *)r + FIELD_OFFSET[f]);
}

const char *inst_import_row_get(const inst_import_row *r, field_id f)
{
    return *(const char *const *)(const void *)((const char *)r + FIELD_OFFSET[f]);
}

#define HASH_SEED 0xcbf29ce484222325ULL
#define HASH_PRIME 0x100000001b3ULL

static uint64_t hash_text(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * HASH_PRIME;
    return (h ^ 0xFFu) * HASH_PRIME; /* a separator, so that ("ab","c") ≠ ("a","bc") */
}

static void inst_table_grow(struct inst_import_state *s)
{
    size_t cap = s->inst_cap ? s->inst_cap * 2 : 64;
    inst_entry *t = calloc(cap, sizeof *t);
    if (t == NULL)
        abort();
    for (size_t i = 0; i < s->inst_cap; i++) {
        if (s->insts[i].code == NULL)
            continue;
        size_t j = s->insts[i].hash & (cap - 1);
        while (t[j].code != NULL)
            j = (j + 1) & (cap - 1);
        t[j] = s->insts[i];
    }
    free(s->insts);
    s->insts = t;
    s->inst_cap = cap;
}

/* The entry of an institution code; a fresh one when create is set, else NULL if unknown. The
 * pointer is valid until the next call with create. */
static inst_entry *inst_lookup(struct inst_import_state *s, const char *code, bool create)
{
    if (create && (s->inst_count + 1) * 2 > s->inst_cap)
        inst_table_grow(s);
    if (s->inst_cap == 0)
        return NULL;
    uint64_t h = hash_text(HASH_SEED, code);
    size_t i = h & (s->inst_cap - 1);
    for (; s->insts[i].code != NULL; i = (i + 1) & (s->inst_cap - 1))
        if (s->insts[i].hash == h && strcmp(s->insts[i].code, code) == 0)
            return &s->insts[i];
    if (!create)
        return NULL;
    inst_entry *e = &s->insts[i];
    e->code = code;
    e->hash = h;
    for (int f = 0; f < INST_FIELD_COUNT; f++)
        e->value_row[f] = SIZE_MAX;
    e->manager_row = SIZE_MAX;
    s->inst_count++;
    return e;
}

static uint64_t person_hash(const inst_import_row *r)
{
    return hash_text(hash_text(hash_text(hash_text(HASH_SEED, r->inst_code), r->search_key),
                               r->category),
                     r->user_type ? r->user_type : "");
}

/* The same account twice; the 責任者 who is also a doctor there has one of each role. */
static bool same_person(const inst_import_row *x, const inst_import_row *y)
{
    return strcmp(x->inst_code, y->inst_code) == 0 && strcmp(x->search_key, y->search_key) == 0 &&
           strcmp(x->category, y->category) == 0 &&
           strcmp(x->user_type ? x->user_type : "", y->user_type ? y->user_type : "") == 0;
}

static void person_table_grow(struct inst_import_state *s)
{
    size_t cap = s->person_cap ? s->person_cap * 2 : 256;
    person_entry *t = calloc(cap, sizeof *t);
    if (t == NULL)
        abort();
    for (size_t i = 0; i < s->person_cap; i++) {
        if (s->persons[i].row == 0)
            continue;
        size_t j = s->persons[i].hash & (cap - 1);
        while (t[j].row != 0)
            j = (j + 1) & (cap - 1);
        t[j] = s->persons[i];
    }
    free(s->persons);
    s->persons = t;
    s->person_cap = cap;
}

/* The earlier row with the same person, or SIZE_MAX after recording row idx as the first. */
static size_t person_find_or_add(struct inst_import_state *s, size_t idx)
{
    if ((s->person_count + 1) * 2 > s->person_cap)
        person_table_grow(s);
    const inst_import_row *r = &s->rows[idx];
    uint64_t h = person_hash(r);
    size_t i = h & (s->person_cap - 1);
    for (; s->persons[i].row != 0; i = (i + 1) & (s->person_cap - 1)) {
        size_t other = s->persons[i].row - 1;
        if (s->persons[i].hash == h && same_person(&s->rows[other], r))
            return other;
    }
    s->persons[i] = (person_entry){idx + 1, h}; /* row + 1, so that 0 marks an empty slot */
    s->person_count++;
    return SIZE_MAX;
}

/* Where field f of row idx was written: a CSV column, or a cell of the xlsx form. */
static cell_ref cell_of(const inst_import *out, size_t idx, field_id f)
{
    const inst_import_row *r = &out->rows[idx];
    const file_info *fi = &out->state->file_infos[r->file];
    if (!fi->xlsx)
        return (cell_ref){r->record, (unsigned)f + 1, field_get(f)->csv_header};
    if (f < INST_FIELD_COUNT)
        return (cell_ref){fi->label_row[f], 2, field_get(f)->form_label};
    unsigned column = inst_form_column(f);
    if (column == 0)
        return (cell_ref){r->record, 0, NULL}; /* the user type: the row's place in the form */
    return (cell_ref){r->record, column, field_get(f)->form_label};
}

/* "3行目", or "「b.xlsx」の3行目" when the earlier row is in another file than row idx. */
static const char *place_of(const inst_import *out, arena *a, size_t earlier, field_id f,
                            size_t idx)
{
    unsigned file = out->rows[earlier].file;
    unsigned record = cell_of(out, earlier, f).record;
    if (file == out->rows[idx].file)
        return arena_printf(a, "%u行目", record);
    const char *name = out->files[file];
    return *name ? arena_printf(a, "「%s」の%u行目", name, record)
                 : arena_printf(a, "別のファイルの%u行目", record);
}

/* Equal but for spaces (the values are NFKC already). */
static bool same_text(const char *x, const char *y)
{
    for (;;) {
        while (*x == ' ')
            x++;
        while (*y == ' ')
            y++;
        if (*x != *y)
            return false;
        if (*x == '\0')
            return true;
        x++, y++;
    }
}

/* Two values of one institution field of two rows: the name and the address are compared as
   with the institution master (inst_master.h), so 「１丁目１番１号」 and 「1-1-1」 are one address. */
static bool same_value(field_id f, const char *x, const char *y)
{
    if (f == FIELD_INST_NAME)
        return inst_master_same_name(x, y);
    if (f == FIELD_INST_ADDRESS)
        return inst_master_same_address(x, y);
    return same_text(x, y);
}

void inst_import_check_across(inst_import *out, arena *a, size_t idx, size_t checked_from)
{
    struct inst_import_state *s = out->state;
    const inst_import_row *r = &out->rows[idx];
    if (r->inst_code == NULL)
        return;
    inst_entry *e = inst_lookup(s, r->inst_code, true);
    bool xlsx = s->file_infos[r->file].xlsx;
    /* an xlsx form states its institution once: check it on the file's first row only */
    bool check_inst = !xlsx || idx == 0 || out->rows[idx - 1].file != r->file;
    static const char *const WHAT[INST_FIELD_COUNT] = {
        [FIELD_INST_NAME] = "医療機関名", [FIELD_INST_POSTAL] = "郵便番号", [FIELD_INST_ADDRESS] = "所在地"};
    for (field_id f = FIELD_INST_NAME; f <= FIELD_INST_PHONE; f++) {
        const char *value = inst_import_row_get(r, f);
        if (value == NULL)
            continue;
        size_t earlier = e->value_row[f];
        if (earlier == SIZE_MAX) {
            e->value_row[f] = idx;
            continue;
        }
        if (f == FIELD_INST_PHONE || !check_inst || earlier >= checked_from)
            continue; /* the phone of the first row is kept: an institution has several lines */
        const char *first = inst_import_row_get(&out->rows[earlier], f);
        if (same_value(f, first, value))
            continue;
        inst_import_error_add(out, a, r->file, cell_of(out, idx, f),
                  arena_printf(a,
                               "医療機関コード %s の%sが、%s（「%s」）と違います。同じ医療機関は"
                               "同じ%sで入力してください。",
                               r->inst_code, WHAT[f], place_of(out, a, earlier, f, idx), first,
                               WHAT[f]));
    }
    if (r->user_type != NULL && strcmp(r->user_type, "inst_manager") == 0) {
        if (e->manager_row == SIZE_MAX) {
            e->manager_row = idx;
        } else if (e->manager_row < checked_from) {
            const char *where = place_of(out, a, e->manager_row, FIELD_USER_TYPE, idx);
            inst_import_error_add(out, a, r->file, cell_of(out, idx, FIELD_USER_TYPE),
                      xlsx ? arena_printf(a,
                                          "医療機関コード %s の責任者が%sにもいます（このファイルでは"
                                          "1人目の方が責任者になります）。責任者は1つの医療機関に"
                                          "1人です。",
                                          r->inst_code, where)
                           : arena_printf(a,
                                          "医療機関コード %s の責任者が%sにもいます。責任者は1つの"
                                          "医療機関に1人です。ほかの方は「指定医」にしてください。",
                                          r->inst_code, where));
        }
    }
    if (r->search_key != NULL && r->category != NULL) {
        size_t earlier = person_find_or_add(s, idx);
        if (earlier != SIZE_MAX && earlier < checked_from)
            inst_import_error_add(out, a, r->file, cell_of(out, idx, FIELD_NAME),
                      arena_printf(a,
                                   "同じ方が%sにもいます（医療機関・氏名・氏名カナ・難病/小慢が同じ）。"
                                   "1人につき1行にしてください。",
                                   place_of(out, a, earlier, FIELD_NAME, idx)));
    }
}

/* The strings go into a in one block; institution strings equal to those already stored for its
 * code are shared. */
size_t inst_import_row_commit(inst_import *out, arena *a, const inst_import_row *tmp)
{
    struct inst_import_state *s = state_of(out, a);
    inst_import_rows_reserve(out, a, out->row_count + 1);
    size_t idx = out->row_count;
    inst_import_row *r = &s->rows[idx];
    *r = *tmp;
    bool keep[ROW_STRING_COUNT] = {false};
    /* user_type and category point at static words of their validators */
    keep[FIELD_USER_TYPE] = keep[FIELD_CATEGORY] = true;
    const inst_entry *e = r->inst_code ? inst_lookup(s, r->inst_code, false) : NULL;
    if (e != NULL) {
        r->inst_code = e->code;
        keep[FIELD_INST_CODE] = true;
        for (field_id f = FIELD_INST_NAME; f <= FIELD_INST_PHONE; f++) {
            const char *v = inst_import_row_get(r, f);
            if (v == NULL || e->value_row[f] == SIZE_MAX)
                continue;
            const char *stored = inst_import_row_get(&s->rows[e->value_row[f]], f);
            if (strcmp(stored, v) == 0) {
                *inst_import_row_slot(r, f) = stored;
                keep[f] = true;
            }
        }
    }
    size_t total = 0;
    for (int f = 0; f < ROW_STRING_COUNT; f++)
        if (!keep[f] && inst_import_row_get(r, f) != NULL)
            total += strlen(inst_import_row_get(r, f)) + 1;
    char *block = NULL;
    if (total > POOL_CHUNK / 4) {
        block = arena_alloc(a, total);
    } else if (total > 0) {
        /* one chunk holds hundreds of rows: far fewer, larger arena blocks */
        if (s->pool_left < total) {
            s->pool = arena_alloc(a, POOL_CHUNK);
            s->pool_left = POOL_CHUNK;
        }
        block = s->pool;
        s->pool += total;
        s->pool_left -= total;
    }
    for (int f = 0; f < ROW_STRING_COUNT; f++) {
        const char *v = inst_import_row_get(r, f);
        if (keep[f] || v == NULL)
            continue;
        size_t n = strlen(v) + 1;
        memcpy(block, v, n);
        *inst_import_row_slot(r, f) = block;
        block += n;
    }
    out->row_count++;
    return idx;
}

/* ==== several files ============================================================================ */

nsdb_err inst_import_merge(inst_import *into, inst_import *from, arena *a)
{
    if (into == from)
        abort(); /* a result cannot be merged into itself */
    if (into->state == NULL && into->file_count == 0 && into->row_count == 0 &&
        into->error_count == 0 && into->warning_count == 0) {
        /* the first file, moved as it was read: its rows were checked against each other then,
           and copying them checked them all again (a tenth of reading a big file) */
        *into = *from;
        memset(from, 0, sizeof *from);
        return into->error_count > 0 ? NSDB_ERR_INVALID : NSDB_OK;
    }
    state_of(into, a);
    import_reopen(into);
    unsigned file_base = (unsigned)into->file_count;
    for (size_t i = 0; i < from->file_count; i++)
        inst_import_file_add(into, a, from->files[i], &from->state->file_infos[i]);
    size_t from_errors = from->error_count - (from->errors_omitted > 0 && from->error_count > 0);
    for (size_t i = 0; i < from_errors; i++) {
        if (into->error_count >= INST_IMPORT_MAX_ERRORS) {
            into->errors_omitted++;
            continue;
        }
        error_grow(into, a);
        inst_import_error *e = &into->errors[into->error_count++];
        *e = from->errors[i];
        e->file += file_base;
    }
    into->errors_omitted += from->errors_omitted;
    for (size_t i = 0; i < from->warning_count; i++)
        warning_push(into, a, from->warnings[i]);
    into->converted_from_cp932 |= from->converted_from_cp932;
    size_t base = into->row_count;
    inst_import_rows_reserve(into, a, base + from->row_count);
    for (size_t i = 0; i < from->row_count; i++) {
        size_t idx = into->row_count++;
        into->rows[idx] = from->rows[i];
        into->rows[idx].file += file_base;
        inst_import_check_across(into, a, idx, base);
    }
    memset(from, 0, sizeof *from);
    return inst_import_finish(into, a);
}

