/*
 * mail.c — RFC 5322 / MIME composition of the system's Japanese mail. Every value that reaches a
 * header is checked first (addresses are plain dot-atoms, other values hold no control
 * character), so no caller-supplied text can end a header line and start another. Non-ASCII
 * header text becomes RFC 2047 B encoded-words cut on UTF-8 character boundaries, each ≤ 75
 * characters on a line ≤ 76; the body is UTF-8 with CRLF line ends, sent as base64 in 76-column
 * lines, which no mail system rewraps or re-encodes. The message is built in a private buffer and
 * appended to the caller's only when complete, so a refusal leaves the output untouched.
 */
#include "domain/holiday.h"
#include "domain/mail.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

enum {
    MAIL_LINE_LIMIT = 76,           /* RFC 2047 §2: lines with encoded-words stay ≤ 76 */
    MAIL_HEADER_SOFT_LIMIT = 78,    /* RFC 5322 §2.1.1 SHOULD for other lines */
    MAIL_ENCODED_WORD_MAX = 75,     /* RFC 2047 §2 */
    MAIL_ENCODED_WORD_OVERHEAD = 12, /* "=?UTF-8?B?" and "?=" */
    MAIL_ENCODED_WORD_MAX_RAW = 45, /* (75 − 12) / 4 × 3 */
    MAIL_BODY_LINE_BYTES = 57,      /* 57 bytes make one 76-character base64 line */
    MAIL_LOCAL_PART_MAX = 64,
    MAIL_DOMAIN_LABEL_MAX = 63,
    MAIL_MESSAGE_ID_MAX = 250,
    MAIL_MESSAGE_ID_RANDOM_BYTES = 16,
    MAIL_URL_MAX = 2000,
    MAIL_JST_OFFSET_SECONDS = JST_OFFSET_SECONDS,
};
#define MAIL_DATE_MAX 253402300799LL /* 9999-12-31 23:59:59 UTC: four-digit years only */

static bool mail_is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool mail_is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* dot-atom-text: atext runs separated by single dots, no dot at either end. */
static bool mail_dot_atom_valid(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!mail_is_atext(c)) {
            return false;
        }
    }
    return true;
}

/* At least two letter-digit-hyphen labels of 1..63, no hyphen at a label's ends. */
static bool mail_domain_valid(const char *d)
{
    size_t labels = 0;
    const char *p = d;
    for (;;) {
        const char *start = p;
        while (mail_is_ldh((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0 || len > MAIL_DOMAIN_LABEL_MAX || start[0] == '-' || p[-1] == '-')
            return false;
        labels++;
        if (*p == '\0')
            return labels >= 2;
        if (*p != '.')
            return false;
        p++;
    }
}

bool mail_address_valid(const char *address)
{
    if (address == NULL)
        return false;
    size_t n = strlen(address);
    if (n == 0 || n > MAIL_ADDRESS_MAX)
        return false;
    const char *at = strchr(address, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    size_t local_len = (size_t)(at - address);
    if (local_len > MAIL_LOCAL_PART_MAX || !mail_dot_atom_valid(address, local_len))
        return false;
    return mail_domain_valid(at + 1);
}

/* A header value: valid UTF-8 without any control character — CR and LF above all. */
static bool mail_header_value_clean(const char *s)
{
    size_t n = strlen(s);
    if (!str_is_clean_utf8(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* id-left "@" id-right, both dot-atom-text (RFC 5322 §3.6.4), without the angle brackets. */
static bool mail_message_id_valid(const char *id)
{
    size_t n = strlen(id);
    const char *at = strchr(id, '@');
    if (n > MAIL_MESSAGE_ID_MAX || at == NULL)
        return false;
    size_t left = (size_t)(at - id);
    return mail_dot_atom_valid(id, left) && mail_dot_atom_valid(at + 1, n - left - 1);
}

static bool mail_is_printable_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Byte length of the UTF-8 character led by c (the text was validated beforehand). */
static size_t mail_utf8_char_length(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xe0)
        return 2;
    if (c < 0xf0)
        return 3;
    return 4;
}

/* Appends text as B encoded-words; the first continues the line at *column, the others go on
 * folded lines. Each word holds whole characters, so each decodes on its own. */
static void mail_append_encoded_words(strbuf *sb, const char *text, size_t *column)
{
    size_t n = strlen(text);
    size_t pos = 0;
    assert(*column + MAIL_ENCODED_WORD_OVERHEAD + 8 <= MAIL_LINE_LIMIT);
    while (pos < n) {
        if (pos > 0) {
            strbuf_append(sb, "\r\n ", 3);
            *column = 1;
        }
        size_t width = MAIL_LINE_LIMIT - *column;
        if (width > MAIL_ENCODED_WORD_MAX)
            width = MAIL_ENCODED_WORD_MAX;
        size_t max_raw = (width - MAIL_ENCODED_WORD_OVERHEAD) / 4 * 3;
        size_t take = 0;
        while (pos + take < n) {
            size_t char_len = mail_utf8_char_length((unsigned char)text[pos + take]);
            if (take + char_len > max_raw)
                break;
            take += char_len;
        }
        assert(take > 0 && take <= MAIL_ENCODED_WORD_MAX_RAW);
        char b64[sodium_base64_ENCODED_LEN(MAIL_ENCODED_WORD_MAX_RAW,
                                           sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)text + pos, take,
                          sodium_base64_VARIANT_ORIGINAL);
        strbuf_printf(sb, "=?UTF-8?B?%s?=", b64);
        *column += MAIL_ENCODED_WORD_OVERHEAD + strlen(b64);
        pos += take;
    }
}

/* "=?" in plain text could be read back as an encoded-word, so such text is encoded. */
static bool mail_fits_plain(const char *s, size_t column)
{
    return mail_is_printable_ascii(s) && strstr(s, "=?") == NULL &&
           column + strlen(s) <= MAIL_HEADER_SOFT_LIMIT;
}

static void mail_append_subject(strbuf *sb, const char *subject)
{
    size_t column = sizeof "Subject: " - 1;
    strbuf_puts(sb, "Subject: ");
    if (mail_fits_plain(subject, column))
        strbuf_puts(sb, subject);
    else
        mail_append_encoded_words(sb, subject, &column);
    strbuf_append(sb, "\r\n", 2);
}

/* True when name can be an RFC 5322 phrase of atoms as it stands. */
static bool mail_name_is_atoms(const char *name)
{
    if (name[0] == ' ')
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == ' ' && (p[1] == ' ' || p[1] == '\0'))
            return false;
        if (*p != ' ' && !mail_is_atext((unsigned char)*p))
            return false;
    }
    return true;
}

/* "Header: name <address>" (or the bare address), the name as atoms, a quoted-string or
 * encoded-words, whichever is the plainest that is exact. */
static void mail_append_mailbox(strbuf *sb, const char *header, const char *name,
                                const char *address)
{
    strbuf_printf(sb, "%s: ", header);
    size_t column = strlen(header) + 2;
    if (name == NULL || name[0] == '\0') {
        strbuf_puts(sb, address);
        strbuf_append(sb, "\r\n", 2);
        return;
    }
    size_t escapes = 0;
    for (const char *p = name; *p != '\0'; p++)
        escapes += *p == '"' || *p == '\\';
    if (mail_name_is_atoms(name) && mail_fits_plain(name, column)) {
        strbuf_puts(sb, name);
        column += strlen(name);
    } else if (mail_fits_plain(name, column + 2 + escapes)) {
        strbuf_putc(sb, '"');
        for (const char *p = name; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_putc(sb, '\\');
            strbuf_putc(sb, *p);
        }
        strbuf_putc(sb, '"');
        column += strlen(name) + 2 + escapes;
    } else {
        mail_append_encoded_words(sb, name, &column);
    }
    if (column + strlen(address) + 3 > MAIL_HEADER_SOFT_LIMIT)
        strbuf_append(sb, "\r\n", 2);
    strbuf_printf(sb, " <%s>\r\n", address);
}

/* RFC 5322 §3.3 date-time in Japan time; English names whatever the locale. */
static bool mail_append_date(strbuf *sb, long long date)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (date < 0 || date > MAIL_DATE_MAX - MAIL_JST_OFFSET_SECONDS)
        return false;
    time_t t = (time_t)(date + MAIL_JST_OFFSET_SECONDS);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    strbuf_printf(sb, "Date: %s, %02d %s %04d %02d:%02d:%02d +0900\r\n", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return true;
}

static void mail_append_message_id(strbuf *sb, const char *message_id, const char *from_address)
{
    if (message_id != NULL) {
        strbuf_printf(sb, "Message-ID: <%s>\r\n", message_id);
        return;
    }
    /* A random left part cannot collide in practice and says nothing about the recipient. */
    if (sodium_init() < 0)
        abort();
    unsigned char random[MAIL_MESSAGE_ID_RANDOM_BYTES];
    char hex[MAIL_MESSAGE_ID_RANDOM_BYTES * 2 + 1];
    randombytes_buf(random, sizeof random);
    sodium_bin2hex(hex, sizeof hex, random, sizeof random);
    strbuf_printf(sb, "Message-ID: <%s@%s>\r\n", hex, strchr(from_address, '@') + 1);
}

static void mail_buffer_wipe(strbuf *sb)
{
    if (sb->data != NULL)
        sodium_memzero(sb->data, sb->cap);
    strbuf_free(sb);
}

/* The body with every line end made CRLF (canonical text, RFC 2045 §6.8), then base64. */
static void mail_append_body(strbuf *sb, const char *body)
{
    strbuf text = STRBUF_INIT;
    for (const char *p = body; *p != '\0'; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\r' || *p == '\n')
            strbuf_append(&text, "\r\n", 2);
        else
            strbuf_putc(&text, *p);
    }
    if (text.len > 0 && text.data[text.len - 1] != '\n')
        strbuf_append(&text, "\r\n", 2);
    char line[sodium_base64_ENCODED_LEN(MAIL_BODY_LINE_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    for (size_t off = 0; off < text.len; off += MAIL_BODY_LINE_BYTES) {
        size_t n = text.len - off < MAIL_BODY_LINE_BYTES ? text.len - off : MAIL_BODY_LINE_BYTES;
        sodium_bin2base64(line, sizeof line, (const unsigned char *)text.data + off, n,
                          sodium_base64_VARIANT_ORIGINAL);
        strbuf_puts(sb, line);
        strbuf_append(sb, "\r\n", 2);
    }
    sodium_memzero(line, sizeof line);
    mail_buffer_wipe(&text); /* the account mail's body holds an initial password */
}

static bool mail_message_valid(const mail_message *m)
{
    if (!mail_address_valid(m->from_address) || !mail_address_valid(m->to_address))
        return false;
    if (m->subject == NULL || !mail_header_value_clean(m->subject))
        return false;
    if (m->from_name != NULL && !mail_header_value_clean(m->from_name))
        return false;
    if (m->to_name != NULL && !mail_header_value_clean(m->to_name))
        return false;
    if (m->message_id != NULL && !mail_message_id_valid(m->message_id))
        return false;
    return m->body == NULL || str_is_clean_utf8(m->body, strlen(m->body));
}

nsdb_err mail_compose(const mail_message *m, strbuf *out)
{
    if (m == NULL || out == NULL || !mail_message_valid(m))
        return NSDB_ERR_INVALID;
    strbuf msg = STRBUF_INIT;
    if (!mail_append_date(&msg, m->date)) {
        strbuf_free(&msg);
        return NSDB_ERR_INVALID;
    }
    mail_append_mailbox(&msg, "From", m->from_name, m->from_address);
    mail_append_mailbox(&msg, "To", m->to_name, m->to_address);
    mail_append_subject(&msg, m->subject);
    mail_append_message_id(&msg, m->message_id, m->from_address);
    strbuf_puts(&msg, "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=UTF-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n"
                      /* RFC 3834: keeps vacation responders from answering a no-reply sender */
                      "Auto-Submitted: auto-generated\r\n"
                      "\r\n");
    mail_append_body(&msg, m->body != NULL ? m->body : "");
    strbuf_append(out, msg.data, msg.len);
    mail_buffer_wipe(&msg);
    return NSDB_OK;
}

/* A one-line value for the body: printable ASCII, no spaces (user IDs, passwords, URLs). */
static bool mail_token_valid(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > max)
        return false;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static bool mail_login_url_valid(const char *url)
{
    return mail_token_valid(url, MAIL_URL_MAX) &&
           (str_starts_with(url, "https://") || str_starts_with(url, "http://"));
}

static void mail_append_account_issued_body(strbuf *b, const char *to_name,
                                            const char *municipality_name, const char *user_id,
                                            const char *initial_password, const char *login_url,
                                            const char *helpdesk)
{
    if (municipality_name != NULL && municipality_name[0] != '\0')
        strbuf_printf(b, "%s\n", municipality_name);
    if (to_name != NULL && to_name[0] != '\0')
        strbuf_printf(b, "%s 様\n", to_name);
    else
        strbuf_puts(b, "自治体管理者 様\n");
    strbuf_puts(b, "\n"
                   "いつもお世話になっております。\n"
                   "難病・小慢DBの自治体管理者ユーザを発行いたしましたので、\n"
                   "ユーザIDと初期パスワードをお知らせいたします。\n"
                   "\n");
    strbuf_printf(b, "■ユーザID\n%s\n\n", user_id);
    strbuf_printf(b, "■初期パスワード\n%s\n\n", initial_password);
    strbuf_printf(b, "■ログインURL\n%s\n\n", login_url);
    strbuf_puts(b, "初回ログイン時にパスワードの変更が必要です。\n"
                   "上記のユーザIDと初期パスワードでログインし、画面の案内に従って\n"
                   "新しいパスワードを設定してください。\n"
                   "\n"
                   "ユーザIDとパスワードは第三者に知られることのないよう、厳重に管理してください。\n"
                   "パスワードの変更後は、このメールを削除していただきますようお願いいたします。\n"
                   "\n"
                   "※このメールは送信専用のアドレスから自動送信しています。\n"
                   "　このメールにご返信いただいてもお答えできませんので、ご了承ください。\n"
                   "※このメールにお心当たりのない場合は、お手数ですが破棄してください。\n"
                   "\n"
                   "──────────────────────────────\n"
                   "難病・小慢DB\n");
    if (helpdesk != NULL && helpdesk[0] != '\0')
        strbuf_printf(b, "＜難病・小慢データベース利用者お問い合わせ窓口（ヘルプデスク）＞\n%s\n",
                      helpdesk);
    strbuf_puts(b, "──────────────────────────────\n");
}

nsdb_err mail_compose_account_issued_message(const mail_account_issued *in, strbuf *out)
{
    if (!mail_token_valid(in->user_id, MAIL_ADDRESS_MAX) ||
        !mail_token_valid(in->initial_password, MAIL_ADDRESS_MAX) ||
        !mail_login_url_valid(in->login_url))
        return NSDB_ERR_INVALID;
    if (in->municipality_name != NULL && !mail_header_value_clean(in->municipality_name))
        return NSDB_ERR_INVALID;
    if (in->to_name != NULL && !mail_header_value_clean(in->to_name))
        return NSDB_ERR_INVALID;
    if (in->helpdesk != NULL && !mail_header_value_clean(in->helpdesk))
        return NSDB_ERR_INVALID;
    strbuf body = STRBUF_INIT;
    mail_append_account_issued_body(&body, in->to_name, in->municipality_name, in->user_id,
                                    in->initial_password, in->login_url, in->helpdesk);
    const mail_message m = {
        .from_address = in->from_address != NULL ? in->from_address : MAIL_DEFAULT_FROM_ADDRESS,
        .from_name = MAIL_SENDER_NAME,
        .to_address = in->to_address,
        .to_name = in->to_name,
        .subject = MAIL_ACCOUNT_ISSUED_SUBJECT,
        .body = body.data,
        .message_id = NULL,
        .date = in->date,
    };
    nsdb_err rc = mail_compose(&m, out);
    mail_buffer_wipe(&body);
    return rc;
}

nsdb_err mail_compose_account_issued_from(const char *from_address, const char *to_address,
                                          const char *to_name, const char *municipality_name,
                                          const char *user_id, const char *initial_password,
                                          const char *login_url, long long date, strbuf *out)
{
    const mail_account_issued in = {from_address, to_address,       to_name,   municipality_name,
                                    user_id,      initial_password, login_url, NULL,
                                    date};
    return mail_compose_account_issued_message(&in, out);
}

nsdb_err mail_compose_account_issued(const char *to_address, const char *to_name,
                                     const char *municipality_name, const char *user_id,
                                     const char *initial_password, const char *login_url,
                                     long long date, strbuf *out)
{
    return mail_compose_account_issued_from(NULL, to_address, to_name, municipality_name,
                                            user_id, initial_password, login_url, date, out);
}
