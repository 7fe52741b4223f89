/*
 * iso.h — ISO 9660 images of the media shipped to institutions (SPEC §6): the operator's template
 * folder plus files generated per institution (client certificate, VPN profile, user-ID list),
 * with Joliet (what Windows reads) and Rock Ridge names, written atomically and hashed with
 * SHA-256 while written. Built on libisofs; safe to call from several threads at once.
 */
#ifndef NSDB_ISO_H
#define NSDB_ISO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

#define ISO_VOLUME_ID_MAX 32
#define ISO_SHA256_HEX_LEN 64
/* A single-layer DVD (DVD-5) as sold: 4.7 GB. No image may be larger. */
#define ISO_DVD_CAPACITY_BYTES 4700000000LL
#define ISO_CHECK_PATH_MAX 1024

/* A file given in memory. path is relative, '/'-separated UTF-8 ("vpn/client.p12"); missing
 * folders are made, folders of the template are shared, an existing file is an error. */
typedef struct iso_extra_file {
    const char *path;
    const void *data;
    size_t len;
} iso_extra_file;

/* What a media would hold, found without writing it (iso_check). */
typedef struct iso_content {
    int64_t file_bytes; /* the files' sizes added up (the image adds a little for folders) */
    /* The first two paths ("/VPN", "/vpn") of one folder whose names differ only in letter
       case, empty when none: Windows reads Joliet names without case, so one hides the
       other. Letters: ASCII and full-width Latin (Ａ–Ｚ, ａ–ｚ). */
    char clash_first[ISO_CHECK_PATH_MAX], clash_second[ISO_CHECK_PATH_MAX];
} iso_content;

/* Lays out template_dir and the extra files as iso_build would, without writing an image (file
 * contents are not read: sizes come from the file system, so the check is cheap whatever the
 * template's size). NSDB_ERR_EXISTS with both paths in *out for a pair that differs only in
 * case (and for an extra file that collides with a template file); otherwise as iso_build. */
NSDB_MUST_CHECK nsdb_err iso_check(const char *template_dir, const iso_extra_file *extra,
                                   size_t extra_count, iso_content *out);

/* Builds output_path from the whole template_dir tree (symbolic links are followed only when
 * they stay inside template_dir; sockets, devices and FIFOs are skipped) and the extra files,
 * and writes the image's SHA-256 in lower-case hex. The image is written to a temporary file
 * next to output_path and renamed over it only when complete. volume_id: 1–32 of A–Z 0–9 _.
 * Timestamps are the time of the call. NSDB_ERR_INVALID for a bad volume ID, extra path, or a
 * template name that is not UTF-8; NSDB_ERR_EXISTS when an extra file collides with a template
 * file or two paths differ only in case (see iso_content); NSDB_ERR_TOO_LARGE for an image over
 * ISO_DVD_CAPACITY_BYTES (nothing is written); NSDB_ERR_IO when a file cannot be read or written; details on stderr. */
NSDB_MUST_CHECK nsdb_err iso_build(const char *output_path, const char *volume_id,
                                   const char *template_dir, const iso_extra_file *extra,
                                   size_t extra_count, char sha256_hex_out[ISO_SHA256_HEX_LEN + 1]);

/* Same, with every timestamp in the image (volume, directories, files) set to timestamp and
 * owners and modes normalised: the same inputs and timestamp give the same bytes. */
NSDB_MUST_CHECK nsdb_err iso_build_at(const char *output_path, const char *volume_id,
                                      const char *template_dir, const iso_extra_file *extra,
                                      size_t extra_count, time_t timestamp,
                                      char sha256_hex_out[ISO_SHA256_HEX_LEN + 1]);

#endif
