/*
 * ids.c — user IDs, initial passwords and the check digits of municipality and institution
 * codes (SPEC §3). Everything here is a pure function of its input, except the generators,
 * which draw from libsodium's CSPRNG (unbiased: rejection sampling, no modulo skew).
 *
 * User-ID check symbol. Let v_0..v_11 be the symbol values (0..30) and give position i the
 * weight w_i = i + 2 for i = 0..10 and w_11 = 1 for the check symbol. The check symbol is
 * chosen so that  S = Σ w_i·v_i ≡ 0 (mod 31), i.e. v_11 = (31 − Σ_{i<11} (i+2)·v_i mod 31) mod 31.
 * Because 31 is prime, Z/31 is a field, and the weights 1..12 are distinct and non-zero mod 31:
 *   - substituting v_i by v'_i ≠ v_i changes S by w_i·(v'_i − v_i); both factors are non-zero
 *     mod 31 (|v'_i − v_i| ≤ 30), so their product is non-zero and the ID no longer checks;
 *   - swapping v_i and v_j (v_i ≠ v_j, any i ≠ j, adjacent or not) changes S by
 *     (w_i − w_j)·(v_j − v_i); the weights are distinct so again both factors are non-zero.
 * Hence every single-symbol substitution and every transposition is detected.
 */
#include "domain/ids.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

enum { USER_ID_PAYLOAD_LEN = IDS_USER_ID_LEN - 1 };

_Static_assert(sizeof IDS_ALPHABET - 1 == IDS_ALPHABET_SIZE, "alphabet size");
_Static_assert(IDS_ALPHABET_SIZE == 31, "the check-symbol proof needs a prime modulus above 12");

static void ids_sodium_ready(void)
{
    /* Without a working CSPRNG no identifier can be issued safely. */
    if (sodium_init() < 0)
        abort();
}

/* Value of an alphabet symbol (either case), or -1. */
static int ids_symbol_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == '\0')
        return -1;
    const char *p = strchr(IDS_ALPHABET, c);
    return p == NULL ? -1 : (int)(p - IDS_ALPHABET);
}

/* CSPRNG bytes from a per-thread pool that one system call fills with IDS_RANDOM_POOL bytes:
   an import draws two IDs and a password per row, and a system call for each was a tenth of
   the time it spends outside SQLite. A byte is wiped as it is taken; the pool is refilled in
   a child process after fork (which would else repeat the parent's bytes). */
#define IDS_RANDOM_POOL 1024

static _Thread_local struct {
    unsigned char bytes[IDS_RANDOM_POOL];
    size_t used;
} ids_pool = {.used = IDS_RANDOM_POOL};

static void ids_pool_forked(void)
{
    sodium_memzero(ids_pool.bytes, sizeof ids_pool.bytes);
    ids_pool.used = IDS_RANDOM_POOL;
}

static void ids_pool_watch_fork(void)
{
    if (pthread_atfork(NULL, NULL, ids_pool_forked) != 0)
        abort();
}

static unsigned char ids_random_byte(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (ids_pool.used == IDS_RANDOM_POOL) {
        pthread_once(&once, ids_pool_watch_fork);
        ids_sodium_ready();
        randombytes_buf(ids_pool.bytes, sizeof ids_pool.bytes);
        ids_pool.used = 0;
    }
    unsigned char b = ids_pool.bytes[ids_pool.used];
    ids_pool.bytes[ids_pool.used++] = 0;
    return b;
}

/* Unbiased symbols: a byte is used only below the largest multiple of 31 (248), so every symbol
   is equally likely; a rejected byte is replaced by the next. */
static void ids_random_symbols(char *out, size_t n)
{
    enum { LIMIT = 256 - 256 % IDS_ALPHABET_SIZE };
    for (size_t i = 0; i < n;) {
        unsigned char b = ids_random_byte();
        if (b < LIMIT)
            out[i++] = IDS_ALPHABET[b % IDS_ALPHABET_SIZE];
    }
}

char ids_user_id_check_char(const char *first11)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < USER_ID_PAYLOAD_LEN; i++) {
        int v = ids_symbol_value(first11[i]);
        if (v < 0)
            return '\0';
        sum += (i + 2) * (unsigned)v;
    }
    return IDS_ALPHABET[(IDS_ALPHABET_SIZE - sum % IDS_ALPHABET_SIZE) % IDS_ALPHABET_SIZE];
}

void ids_user_id_generate(char out[IDS_USER_ID_LEN + 1])
{
    ids_random_symbols(out, USER_ID_PAYLOAD_LEN);
    out[USER_ID_PAYLOAD_LEN] = ids_user_id_check_char(out);
    out[IDS_USER_ID_LEN] = '\0';
}

bool ids_user_id_valid(const char *s)
{
    if (s == NULL || strlen(s) != IDS_USER_ID_LEN)
        return false;
    unsigned sum = 0;
    for (unsigned i = 0; i < IDS_USER_ID_LEN; i++) {
        int v = ids_symbol_value(s[i]);
        if (v < 0)
            return false;
        unsigned weight = i < USER_ID_PAYLOAD_LEN ? i + 2 : 1;
        sum += weight * (unsigned)v;
    }
    return sum % IDS_ALPHABET_SIZE == 0;
}

void ids_user_id_normalize(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

void ids_initial_password_generate(char out[IDS_INITIAL_PASSWORD_LEN + 1])
{
    ids_random_symbols(out, IDS_INITIAL_PASSWORD_LEN);
    out[IDS_INITIAL_PASSWORD_LEN] = '\0';
}

static bool ids_all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool ids_digit_string(const char *s, size_t n)
{
    return s != NULL && strlen(s) == n && ids_all_digits(s, n);
}

char ids_municipality_check_digit(const char *first5)
{
    if (first5 == NULL || strnlen(first5, 5) < 5 || !ids_all_digits(first5, 5))
        return '\0';
    static const unsigned weights[5] = {6, 5, 4, 3, 2};
    unsigned sum = 0;
    for (unsigned i = 0; i < 5; i++)
        sum += weights[i] * (unsigned)(first5[i] - '0');
    return (char)('0' + (11 - sum % 11) % 10);
}

bool ids_municipality_code_valid(const char *s)
{
    if (!ids_digit_string(s, IDS_MUNICIPALITY_CODE_LEN))
        return false;
    return ids_municipality_check_digit(s) == s[5];
}

/* Luhn sum of n digits, doubling every second digit counted from the right, starting with the
 * rightmost when double_last is set (the payload) or the one before it (a full number). */
static unsigned ids_luhn_sum(const char *digits, size_t n, bool double_last)
{
    unsigned sum = 0;
    bool doubled = double_last;
    for (size_t i = n; i-- > 0; doubled = !doubled) {
        unsigned d = (unsigned)(digits[i] - '0');
        if (doubled)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum;
}

char ids_luhn_check_digit(const char *first9)
{
    if (first9 == NULL || strnlen(first9, 9) < 9 || !ids_all_digits(first9, 9))
        return '\0';
    return (char)('0' + (10 - ids_luhn_sum(first9, 9, true) % 10) % 10);
}

bool ids_institution_code_valid(const char *s)
{
    if (!ids_digit_string(s, IDS_INSTITUTION_CODE_LEN))
        return false;
    return ids_luhn_sum(s, IDS_INSTITUTION_CODE_LEN, false) % 10 == 0;
}
