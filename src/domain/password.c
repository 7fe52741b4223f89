/*
 * password.c — password policy and argon2id hashing (SPEC §3). The policy refuses, in order:
 * passwords over 256 bytes, invalid UTF-8 or control characters, fewer than 12 code points,
 * passwords containing the user ID, entries of the bundled common-password list
 * (data/common-passwords.txt, compiled in), and anything libzxcvbn estimates below 10^8 guesses.
 * The common-password list is turned into an open-addressing hash set on first use
 * (pthread_once); that set is this module's only global state and lives until exit.
 */
#include "domain/password.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zxcvbn.h>

#include "util/embedded.h"
#include "util/str.h"

#define COMMON_PASSWORDS_PATH "data/common-passwords.txt"
enum { USER_DICT_MAX_WORDS = 8 };

/* One list entry: an offset into the embedded file and its length; len 0 marks an empty slot. */
typedef struct {
    uint32_t offset;
    uint32_t len;
} common_slot;

static struct {
    const char *text;
    common_slot *slots;
    size_t mask; /* slot count − 1; the count is a power of two */
} common_set;
static pthread_once_t common_set_once = PTHREAD_ONCE_INIT;

static uint64_t password_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211u;
    }
    return h;
}

static void common_set_insert(uint32_t offset, uint32_t len)
{
    size_t i = password_hash_bytes(common_set.text + offset, len) & common_set.mask;
    for (;; i = (i + 1) & common_set.mask) {
        common_slot *slot = &common_set.slots[i];
        if (slot->len == 0) {
            *slot = (common_slot){offset, len};
            return;
        }
        if (slot->len == len && memcmp(common_set.text + slot->offset, common_set.text + offset,
                                       len) == 0)
            return;
    }
}

static void common_set_build(void)
{
    const struct embedded_file *f = embedded_find(COMMON_PASSWORDS_PATH);
    if (f == NULL || f->size > UINT32_MAX) {
        /* The Makefile always embeds the list: its absence is a broken build. */
        fputs("nsdb: " COMMON_PASSWORDS_PATH " is not embedded\n", stderr);
        abort();
    }
    size_t lines = 1;
    for (size_t i = 0; i < f->size; i++)
        lines += f->data[i] == '\n';
    size_t count = 16;
    while (count < lines * 2) /* load factor ≤ 1/2 keeps probes short */
        count *= 2;
    common_set.text = f->data;
    common_set.mask = count - 1;
    common_set.slots = calloc(count, sizeof *common_set.slots);
    if (common_set.slots == NULL) {
        fputs("nsdb: out of memory\n", stderr);
        abort();
    }
    for (size_t start = 0; start < f->size;) {
        const char *nl = memchr(f->data + start, '\n', f->size - start);
        size_t end = nl ? (size_t)(nl - f->data) : f->size;
        size_t len = end;
        if (len > start && f->data[len - 1] == '\r')
            len--;
        if (len > start)
            common_set_insert((uint32_t)start, (uint32_t)(len - start));
        start = end + 1;
    }
}

/* lowered must already be lower-case: the list is. */
static bool common_set_contains(const char *lowered, size_t n)
{
    pthread_once(&common_set_once, common_set_build);
    size_t i = password_hash_bytes(lowered, n) & common_set.mask;
    for (;; i = (i + 1) & common_set.mask) {
        const common_slot *slot = &common_set.slots[i];
        if (slot->len == 0)
            return false;
        if (slot->len == n && memcmp(common_set.text + slot->offset, lowered, n) == 0)
            return true;
    }
}

static char password_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool password_is_common(const char *password, size_t n)
{
    assert(n <= PASSWORD_MAX_BYTES);
    char lowered[PASSWORD_MAX_BYTES + 1];
    for (size_t i = 0; i < n; i++)
        lowered[i] = password_ascii_lower(password[i]);
    lowered[n] = '\0';
    bool found = common_set_contains(lowered, n);
    sodium_memzero(lowered, sizeof lowered);
    return found;
}

static bool password_contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return false;
    for (; *haystack; haystack++) {
        size_t k = 0;
        while (k < n && haystack[k] &&
               password_ascii_lower(haystack[k]) == password_ascii_lower(needle[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

static bool password_is_name_separator(const char *s, size_t *width)
{
    if (*s == ' ' || *s == '\t') {
        *width = 1;
        return true;
    }
    if (strncmp(s, "\xe3\x80\x80", 3) == 0) { /* U+3000 ideographic space */
        *width = 3;
        return true;
    }
    return false;
}

/* Splits name (copied into buf) into words at spaces, so that zxcvbn sees 山田 and 太郎 of
 * "山田　太郎" separately. Returns the number of words written to words. */
static size_t password_name_words(const char *name, char buf[PASSWORD_MAX_BYTES + 1],
                                  const char **words, size_t max_words)
{
    size_t len = strnlen(name, PASSWORD_MAX_BYTES);
    memcpy(buf, name, len);
    buf[len] = '\0';
    size_t count = 0;
    char *word = buf;
    for (char *p = buf;; p++) {
        size_t width = 0;
        bool at_end = *p == '\0';
        if (!at_end && !password_is_name_separator(p, &width))
            continue;
        if (p > word && count < max_words)
            words[count++] = word;
        if (at_end)
            return count;
        memset(p, '\0', width);
        p += width - 1;
        word = p + 1;
    }
}

static double password_entropy_bits(const char *password, const char *user_id,
                                     const char *user_name)
{
    const char *words[USER_DICT_MAX_WORDS + 2];
    size_t count = 0;
    if (user_id != NULL && *user_id)
        words[count++] = user_id;
    char name_buf[PASSWORD_MAX_BYTES + 1];
    count += password_name_words(user_name ? user_name : "", name_buf, words + count,
                                 USER_DICT_MAX_WORDS);
    words[count] = NULL;
    return ZxcvbnMatch(password, words, NULL);
}

/* Decodes the code points of valid UTF-8 into out (at most cap); returns their number. */
static size_t code_points(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < cap;) {
        uint32_t c = *p;
        size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        c = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < len; k++)
            c = (c << 6) | (p[k] & 0x3f);
        out[n++] = c;
        p += len;
    }
    return n;
}

/*
 * zxcvbn knows English words and keyboard runs but treats every non-ASCII character as random, so
 * 「あいうえおかきくけこさし」 would pass as 200+ bits. A password written mostly in non-ASCII
 * characters is refused when most neighbouring characters are repeats or steps through the kana
 * table (あいう…, アイウ…, ああああ…): a guesser walks those first.
 */
static bool password_is_non_ascii_run(const char *password)
{
    uint32_t cp[PASSWORD_MAX_BYTES];
    size_t n = code_points(password, cp, sizeof cp / sizeof cp[0]);
    size_t non_ascii = 0, runs = 0;
    for (size_t i = 0; i < n; i++) {
        non_ascii += cp[i] >= 0x80;
        if (i > 0) {
            int64_t step = (int64_t)cp[i] - (int64_t)cp[i - 1];
            runs += step >= -2 && step <= 2;
        }
    }
    return n > 1 && non_ascii * 2 >= n && runs * 2 > n - 1;
}

password_verdict password_check(const char *password, const char *user_id, const char *user_name)
{
    assert(password != NULL);
    size_t n = strlen(password);
    if (n > PASSWORD_MAX_BYTES)
        return PASSWORD_TOO_LONG;
    if (!str_is_clean_utf8(password, n))
        return PASSWORD_BAD_CHARS;
    if (str_utf8_length(password) < PASSWORD_MIN_CHARS)
        return PASSWORD_TOO_SHORT;
    if (user_id != NULL && password_contains_nocase(password, user_id))
        return PASSWORD_IS_USER_ID;
    if (password_is_common(password, n))
        return PASSWORD_COMMON;
    if (password_entropy_bits(password, user_id, user_name) < PASSWORD_MIN_ENTROPY_BITS ||
        password_is_non_ascii_run(password))
        return PASSWORD_GUESSABLE;
    return PASSWORD_OK;
}

const char *password_verdict_message(password_verdict v)
{
    switch (v) {
    case PASSWORD_OK:
        return "パスワードは条件を満たしています。";
    case PASSWORD_TOO_SHORT:
        return "パスワードは12文字以上で入力してください。";
    case PASSWORD_TOO_LONG:
        return "パスワードが長すぎます。256バイト以内（半角256文字、全角85文字程度まで）で入力して"
               "ください。";
    case PASSWORD_BAD_CHARS:
        return "パスワードに使用できない文字（制御文字など）が含まれています。入力し直してください。";
    case PASSWORD_IS_USER_ID:
        return "パスワードにユーザIDを含めることはできません。別のパスワードにしてください。";
    case PASSWORD_COMMON:
        return "よく使われているパスワードのため使用できません。他人に推測されにくいパスワードにして"
               "ください。";
    case PASSWORD_GUESSABLE:
        return "推測されやすいパスワードです。氏名や単語、キーボードや数字の並びを避け、長めの文に"
               "してください。";
    }
    return "パスワードを確認してください。";
}

password_cost password_cost_default(void)
{
    return (password_cost){.opslimit = 2, .memlimit = (size_t)19 * 1024 * 1024};
}

nsdb_err password_hash(const char *password, password_cost cost, char out[crypto_pwhash_STRBYTES])
{
    if (sodium_init() < 0)
        return NSDB_ERR_CRYPTO;
    if (crypto_pwhash_str_alg(out, password, strlen(password), cost.opslimit, cost.memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return NSDB_ERR_CRYPTO;
    return NSDB_OK;
}

bool password_verify(const char *hash, const char *password)
{
    if (hash == NULL || password == NULL || sodium_init() < 0)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool password_needs_rehash(const char *hash, password_cost cost)
{
    if (hash == NULL || !str_starts_with(hash, crypto_pwhash_argon2id_STRPREFIX))
        return true;
    return crypto_pwhash_str_needs_rehash(hash, cost.opslimit, cost.memlimit) != 0;
}
