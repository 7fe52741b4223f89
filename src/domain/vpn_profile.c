/*
 * vpn_profile.c — see vpn_profile.h. The directives are fixed text; the three values are each
 * made safe for their place before they are written, and the line count is checked after, so a
 * value can never add a directive.
 */
#include "domain/vpn_profile.h"

#include <stdlib.h>
#include <string.h>

#include "domain/text_chars.h"
#include "util/arena.h"

/* Lines of the profile: three comment lines and the directives below. */
#define VPN_PROFILE_LINES 15

static bool word_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
           c == ':' || c == '_' || c == '-';
}

bool vpn_remote_valid(const char *remote)
{
    if (remote == NULL || *remote == '\0' || strlen(remote) > 255)
        return false;
    int words = 0;
    for (const char *p = remote; *p;) {
        size_t n = 0;
        while (word_char(p[n]))
            n++;
        if (n == 0 || ++words > 3)
            return false;
        p += n;
        if (*p == ' ' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            return false;
    }
    return true;
}

static bool code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!word_char(code[i]) || code[i] == '.' || code[i] == ':')
            return false;
    return true;
}

/* name as one double-quoted string: \ and " escaped, forbidden characters made visible. */
static void put_quoted(strbuf *out, arena *a, const char *name)
{
    const char *visible = text_chars_visible(a, name);
    strbuf_putc(out, '"');
    for (const char *p = visible; *p; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_putc(out, '\\');
        strbuf_putc(out, *p);
    }
    strbuf_putc(out, '"');
}

nsdb_err vpn_profile_render(const char *institution_code, const char *institution_name,
                            const char *remote, strbuf *out)
{
    if (!code_valid(institution_code) || !vpn_remote_valid(remote))
        return NSDB_ERR_INVALID;
    size_t start = out->len;
    arena *a = arena_new();
    strbuf_printf(out, "# 難病・小慢DB VPN 接続設定（医療機関 %s ", institution_code);
    put_quoted(out, a, institution_name);
    strbuf_puts(out, "）\n"
                     "# VPN クライアントソフトウェアに 証明書/client.p12 を読み込み、\n"
                     "# 自治体から届く「証明書のパスフレーズ」を入力してください。\n"
                     "client\ndev tun\nproto udp\n");
    strbuf_printf(out, "remote %s\n", remote);
    strbuf_puts(out, "resolv-retry infinite\nnobind\npersist-key\npersist-tun\npkcs12 client.p12\n"
                     "remote-cert-tls server\ncipher AES-256-GCM\nverb 3\n");
    arena_free(a);
    size_t lines = 0;
    for (size_t i = start; i < out->len; i++)
        lines += out->data[i] == '\n' || out->data[i] == '\r';
    if (lines != VPN_PROFILE_LINES) /* never: every value was made one line above */
        abort();
    return NSDB_OK;
}
