/*
 * secret.c — the server's secret key file and the primitives built on it. Subkeys are derived
 * from the master key with crypto_kdf (BLAKE2b), one context per use ("nsdbseal" for sealing,
 * "nsdb_mac" for MACs), so that no two uses ever share a key. Sealing is XSalsa20-Poly1305
 * (crypto_secretbox) with a random 24-byte nonce, which is safe to pick at random.
 */
#include "domain/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/fd.h"

#define SECRET_SEAL_CONTEXT "nsdbseal"
#define SECRET_MAC_CONTEXT "nsdb_mac"
enum { SECRET_SUBKEY_ID = 1, SECRET_SEAL_OVERHEAD = crypto_secretbox_NONCEBYTES +
                                                    crypto_secretbox_MACBYTES };

_Static_assert(sizeof SECRET_SEAL_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES, "kdf context size");
_Static_assert(sizeof SECRET_MAC_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES, "kdf context size");
_Static_assert(SECRET_KEY_BYTES == crypto_kdf_KEYBYTES, "master key is a kdf key");

static void secret_sodium_ready(void)
{
    if (sodium_init() < 0)
        abort(); /* no crypto without libsodium: not a recoverable state */
}

/* Checks an open key file before a byte of it is trusted. */
static NSDB_MUST_CHECK nsdb_err secret_key_file_check(int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "nsdb: secret key %s: %s\n", path, strerror(errno));
        return NSDB_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "nsdb: secret key %s is not a regular file\n", path);
        return NSDB_ERR_CRYPTO;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        fprintf(stderr, "nsdb: secret key %s has mode %04o; group and others must have no access "
                        "(chmod 600 %s)\n", path, (unsigned)(st.st_mode & 0777), path);
        return NSDB_ERR_CRYPTO;
    }
    if (st.st_size != SECRET_KEY_BYTES) {
        fprintf(stderr, "nsdb: secret key %s is %lld bytes, not %d\n", path,
                (long long)st.st_size, SECRET_KEY_BYTES);
        return NSDB_ERR_CRYPTO;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err secret_key_load(int fd, const char *path, secret_key *out)
{
    nsdb_err err = secret_key_file_check(fd, path);
    if (err == NSDB_OK)
        err = fd_read_exact(fd, out->master, sizeof out->master);
    if (err == NSDB_ERR_IO)
        fprintf(stderr, "nsdb: cannot read secret key %s\n", path);
    return err;
}

/* Creates the key file; a partly written file is removed so the next start tries again. */
static NSDB_MUST_CHECK nsdb_err secret_key_create(int fd, const char *path, secret_key *out)
{
    randombytes_buf(out->master, sizeof out->master);
    nsdb_err err = NSDB_OK;
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 ||
        fd_write_all(fd, out->master, sizeof out->master) != NSDB_OK || fsync(fd) != 0)
        err = NSDB_ERR_IO;
    if (err != NSDB_OK) {
        fprintf(stderr, "nsdb: cannot write secret key %s: %s\n", path, strerror(errno));
        unlink(path);
    }
    return err;
}

static NSDB_MUST_CHECK nsdb_err secret_key_open(const char *path, secret_key *out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            nsdb_err err = secret_key_load(fd, path, out);
            close(fd);
            return err;
        }
        if (errno != ENOENT)
            break;
        /* O_EXCL also refuses a symbolic link planted at path. */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
        if (fd >= 0) {
            nsdb_err err = secret_key_create(fd, path, out);
            close(fd);
            return err;
        }
        if (errno != EEXIST) /* EEXIST: another process created it meanwhile; read that one */
            break;
    }
    fprintf(stderr, "nsdb: cannot open secret key %s: %s\n", path, strerror(errno));
    return NSDB_ERR_IO;
}

nsdb_err secret_key_load_or_create(const char *path, secret_key *out)
{
    secret_sodium_ready();
    sodium_mlock(out->master, sizeof out->master); /* best effort: RLIMIT_MEMLOCK may forbid */
    nsdb_err err = secret_key_open(path, out);
    if (err != NSDB_OK)
        secret_key_wipe(out);
    return err;
}

void secret_key_wipe(secret_key *k)
{
    sodium_munlock(k->master, sizeof k->master); /* zeroes first, even if it was not locked */
}

static void secret_subkey(const secret_key *k, const char *context,
                          unsigned char subkey[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(subkey, crypto_secretbox_KEYBYTES, SECRET_SUBKEY_ID, context,
                               k->master);
}

nsdb_err secret_seal(const secret_key *k, const char *plain, size_t n, unsigned char **out,
                     size_t *out_len)
{
    secret_sodium_ready();
    *out = NULL;
    *out_len = 0;
    if (n > SIZE_MAX - SECRET_SEAL_OVERHEAD)
        return NSDB_ERR_TOO_LARGE;
    unsigned char *sealed = malloc(n + SECRET_SEAL_OVERHEAD);
    if (sealed == NULL)
        return NSDB_ERR_NOMEM;
    unsigned char subkey[crypto_secretbox_KEYBYTES];
    secret_subkey(k, SECRET_SEAL_CONTEXT, subkey);
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n,
                          sealed, subkey);
    sodium_memzero(subkey, sizeof subkey);
    *out = sealed;
    *out_len = n + SECRET_SEAL_OVERHEAD;
    return NSDB_OK;
}

nsdb_err secret_unseal(const secret_key *k, const unsigned char *sealed, size_t n,
                       char **plain_out)
{
    secret_sodium_ready();
    *plain_out = NULL;
    if (sealed == NULL || n < SECRET_SEAL_OVERHEAD)
        return NSDB_ERR_CRYPTO;
    size_t plain_len = n - SECRET_SEAL_OVERHEAD;
    unsigned char *plain = malloc(plain_len + 1);
    if (plain == NULL)
        return NSDB_ERR_NOMEM;
    unsigned char subkey[crypto_secretbox_KEYBYTES];
    secret_subkey(k, SECRET_SEAL_CONTEXT, subkey);
    int rc = crypto_secretbox_open_easy(plain, sealed + crypto_secretbox_NONCEBYTES,
                                        n - crypto_secretbox_NONCEBYTES, sealed, subkey);
    sodium_memzero(subkey, sizeof subkey);
    if (rc != 0) {
        free(plain);
        return NSDB_ERR_CRYPTO;
    }
    plain[plain_len] = '\0';
    *plain_out = (char *)plain;
    return NSDB_OK;
}

void secret_mac(const secret_key *k, const char *purpose, const void *msg, size_t n,
                unsigned char out[SECRET_MAC_BYTES])
{
    secret_sodium_ready();
    unsigned char subkey[crypto_generichash_KEYBYTES];
    crypto_kdf_derive_from_key(subkey, sizeof subkey, SECRET_SUBKEY_ID, SECRET_MAC_CONTEXT,
                               k->master);
    /* purpose and its NUL, then msg: a purpose cannot contain NUL, so the encoding is
     * unambiguous ("ab" + "c" ≠ "a" + "bc"). */
    crypto_generichash_state st;
    crypto_generichash_init(&st, subkey, sizeof subkey, SECRET_MAC_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)purpose, strlen(purpose) + 1);
    crypto_generichash_update(&st, msg, n);
    crypto_generichash_final(&st, out, SECRET_MAC_BYTES);
    sodium_memzero(subkey, sizeof subkey);
    sodium_memzero(&st, sizeof st);
}

void secret_token_hash(const unsigned char *token, size_t n,
                       char out_hex[SECRET_TOKEN_HASH_HEX_LEN + 1])
{
    secret_sodium_ready();
    unsigned char digest[SECRET_TOKEN_HASH_HEX_LEN / 2];
    crypto_generichash(digest, sizeof digest, token, n, NULL, 0);
    sodium_bin2hex(out_hex, SECRET_TOKEN_HASH_HEX_LEN + 1, digest, sizeof digest);
}
