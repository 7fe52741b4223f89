/*
 * vpn_profile.h — the OpenVPN client profile on each media (証明書/nsdb-vpn.ovpn, SPEC §6). The
 * profile is a configuration file read line by line, where a line break in a value would start
 * a directive of its own: the institution's name, the only text from users in it, goes into a
 * comment, double-quoted with \ and " escaped and every character text_chars.h forbids (line
 * breaks included) written as <U+000A>; the server address from the configuration is refused
 * unless it is "host [port [proto]]" in plain ASCII. The result always has the same lines.
 */
#ifndef NSDB_VPN_PROFILE_H
#define NSDB_VPN_PROFILE_H

#include <stdbool.h>

#include "util/err.h"
#include "util/str.h"

/* True when remote is 1 to 3 words of ASCII letters, digits and . : _ - separated by single
 * spaces (host, port, proto), at most 255 bytes. */
bool vpn_remote_valid(const char *remote);

/* Appends the profile of the institution (code: ASCII letters, digits, - and _) to out.
 * NSDB_ERR_INVALID, out unchanged, for a bad code or remote (vpn_remote_valid). */
NSDB_MUST_CHECK nsdb_err vpn_profile_render(const char *institution_code,
                                            const char *institution_name, const char *remote,
                                            strbuf *out);

#endif
