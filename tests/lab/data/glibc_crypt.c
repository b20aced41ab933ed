/* The crypt(3) of glibc 2.27 (Ubuntu 18.04) and 2.28 (Debian 10), for a lab server: no bcrypt.
 *
 * Those releases have glibc's own crypt, which knows DES, MD5 ($1$), SHA-256 ($5$) and SHA-512 ($6$).
 * A "$2b$" (bcrypt) salt is none of them, and as a DES salt its '$' is outside the salt alphabet, so
 * glibc returns NULL with errno EINVAL. This library, preloaded through /etc/ld.so.preload, answers
 * exactly that for bcrypt salts and hands every other salt to the real crypt (libxcrypt here), so
 * Squid's basic_ncsa_auth behaves as on those releases: bcrypt never matches, SHA-512-crypt does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

static int is_bcrypt(const char *salt) {
    return salt && salt[0] == '$' && salt[1] == '2' && salt[2] && salt[3] == '$';
}

char *crypt(const char *key, const char *salt) {
    static char *(*real)(const char *, const char *);
    if (is_bcrypt(salt)) {
        errno = EINVAL;
        return NULL;
    }
    if (!real)
        real = (char *(*)(const char *, const char *))dlsym(RTLD_NEXT, "crypt");
    return real ? real(key, salt) : NULL;
}

char *crypt_r(const char *key, const char *salt, void *data) {
    static char *(*real)(const char *, const char *, void *);
    if (is_bcrypt(salt)) {
        errno = EINVAL;
        return NULL;
    }
    if (!real)
        real = (char *(*)(const char *, const char *, void *))dlsym(RTLD_NEXT, "crypt_r");
    return real ? real(key, salt, data) : NULL;
}
