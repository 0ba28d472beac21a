/* util: the error contract, cleanup attributes, allocation, string buffers
 * and logging that every other module uses.
 *
 * Why: one way to report a failure (crun's contract) and one way to release
 * resources on every early return keeps the rest of the code short and exact.
 *
 * How to use:
 *  1. A fallible function returns int (0 ok, negative failure) and takes
 *     `kd_error_t *err` last; on failure `return kd_make_error (err, errno,
 *     "open `%s`", path);` sets the error and returns negative.
 *  2. Callers return it, wrap it (`kd_error_wrap (err, "pod %s", name)`), or
 *     log it and release it (`kd_error_log_release (&err)`).
 *  3. Locals that own something use `cleanup_free`, `cleanup_close`, ...;
 *     hand ownership on with `steal_pointer (&p)` / `steal_fd (&fd)`.
 *  4. Allocation failure aborts: xmalloc, xcalloc, xrealloc, xstrdup,
 *     xasprintf never return NULL.
 */
#ifndef KUBELETD_UTIL_H
#define KUBELETD_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KD_PRINTF(a, b)  __attribute__ ((format (printf, a, b)))
#define KD_WUR           __attribute__ ((warn_unused_result))
#define KD_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* ---- errors ---------------------------------------------------------- */

struct kd_error_s
{
  int status; /* an errno value, 0 when none applies */
  char *msg;
};
typedef struct kd_error_s *kd_error_t;

/* Sets *err (if err is not NULL and *err is NULL) and returns -1. When
   status is non-zero, ": strerror(status)" is appended. */
int kd_make_error (kd_error_t *err, int status, const char *fmt, ...) KD_PRINTF (3, 4);
/* Prefixes the message: "context: old message". Returns -1. */
int kd_error_wrap (kd_error_t *err, const char *fmt, ...) KD_PRINTF (2, 3);
void kd_error_release (kd_error_t *err);
/* Logs the error at error level and releases it. */
void kd_error_log_release (kd_error_t *err);

/* ---- allocation ------------------------------------------------------ */

void *xmalloc (size_t size);
void *xcalloc (size_t nmemb, size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) KD_PRINTF (1, 2);
/* Grows *v (of *cap elements of size elem) so that index n fits. */
void kd_grow (void **v, size_t *cap, size_t n, size_t elem);

/* ---- cleanup --------------------------------------------------------- */

void kd_cleanup_freep (void *p);
void kd_cleanup_closep (int *fd);
void kd_cleanup_fclosep (FILE **f);
#define cleanup_free   __attribute__ ((cleanup (kd_cleanup_freep)))
#define cleanup_close  __attribute__ ((cleanup (kd_cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (kd_cleanup_fclosep)))

static inline void *
kd_steal_pointer (void *pp)
{
  void **p = (void **) pp;
  void *r = *p;
  *p = NULL;
  return r;
}
#define steal_pointer(pp) kd_steal_pointer (pp)

static inline int
steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

/* ---- strings --------------------------------------------------------- */

typedef struct
{
  char *s;    /* always NUL-terminated once anything was appended */
  size_t len; /* bytes, without the NUL */
  size_t cap;
} kd_buf_t;

void kd_buf_append (kd_buf_t *b, const char *s, size_t n);
void kd_buf_puts (kd_buf_t *b, const char *s);
void kd_buf_putc (kd_buf_t *b, char c);
void kd_buf_printf (kd_buf_t *b, const char *fmt, ...) KD_PRINTF (2, 3);
/* Returns the string (never NULL) and resets the buffer. */
char *kd_buf_steal (kd_buf_t *b);
void kd_buf_free (kd_buf_t *b);

/* Digests (digest.c, nettle). One-shot or streaming; out holds up to
   KD_DIGEST_MAX bytes; the functions return the digest's length. */
#define KD_DIGEST_MAX 64
typedef enum
{
  KD_MD5,
  KD_SHA256,
  KD_SHA512,
} kd_digest_alg_t;
typedef struct kd_digest kd_digest_t;
kd_digest_t *kd_digest_new (kd_digest_alg_t alg);
void kd_digest_update (kd_digest_t *d, const void *data, size_t len);
size_t kd_digest_final (kd_digest_t *d, unsigned char out[KD_DIGEST_MAX]);
void kd_digest_free (kd_digest_t *d); /* NULL is fine */
size_t kd_digest (kd_digest_alg_t alg, const void *data, size_t len,
                  unsigned char out[KD_DIGEST_MAX]);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void kd_hex (const unsigned char *bytes, size_t n, char *out);
/* Base64 (RFC 4648, padded). decode: NULL on invalid input; the result is
   NUL-terminated, *len (may be NULL) its length. Caller frees. */
char *kd_base64_encode (const void *data, size_t len);
char *kd_base64_decode (const char *s, size_t *len);

/* An immutable byte string with a reference count, for one body sent to
   many peers without a copy each (the loop's thread only). */
typedef struct
{
  size_t refs;
  size_t len;
  char *data;
} kd_shared_t;

/* Takes data (malloc'd, len bytes); one reference. */
kd_shared_t *kd_shared_take (char *data, size_t len);
kd_shared_t *kd_shared_ref (kd_shared_t *s);
void kd_shared_unref (kd_shared_t *s); /* NULL is fine */

/* Non-empty and only lower-case hex digits (ids and digests). */
bool kd_str_hex_p (const char *s);
bool kd_str_has_prefix (const char *s, const char *prefix);
bool kd_str_has_suffix (const char *s, const char *suffix);
bool kd_str_eq (const char *a, const char *b); /* NULL-safe */

/* Go duration syntax ("500ms", "10s", "1m30s", "0"). Returns 0 or -1. */
int kd_parse_duration_ms (const char *s, int64_t *ms);
/* Kubernetes quantity-like byte sizes for flags ("10Mi", "1G", "512"). */
int kd_parse_bytes (const char *s, int64_t *bytes);

/* RFC 3339 in UTC: "2026-11-30T04:15:10Z" (seconds) into buf (>= 32). */
void kd_format_time (int64_t unix_ns, char *buf, size_t size);
/* "2026-11-30T04:15:10.123456789Z" into buf (>= 40). */
void kd_format_time_nano (int64_t unix_ns, char *buf, size_t size);
int kd_parse_time (const char *s, int64_t *unix_ns);
/* Go's time.Duration.String(): "0s", "1.5s", "2m0s", "1h0m0s", "300ms". */
void kd_go_duration (int64_t ns, char *buf, size_t size);
int64_t kd_now_ns (void);       /* CLOCK_REALTIME */
int64_t kd_monotonic_ns (void); /* CLOCK_MONOTONIC */

/* The machine's architecture as Go spells it ("amd64", "arm64", ...). */
const char *kd_go_arch (void);

/* ---- files ----------------------------------------------------------- */

/* Reads a whole file, refusing files larger than max bytes. */
int kd_read_file (const char *path, size_t max, char **out, size_t *len, kd_error_t *err);
/* Writes through a temp file + fsync + rename. */
int kd_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode,
                          kd_error_t *err);
/* The same, with the fsync only when durable: a reader never sees a half
   file either way; without it a crash of the machine may lose the file. */
int kd_write_file_replace (const char *path, const void *data, size_t len, mode_t mode,
                           bool durable, kd_error_t *err);
/* rm -r that stays on path's file system: links are not followed and a
   mount below is not entered (what is mounted stays, and so do the
   folders above it). Entries that cannot go are skipped. Returns nftw's
   result: -1 with errno when the walk could not run (ENOENT: no path). */
int kd_rm_tree (const char *path);
/* mkdir -p with the given mode for created directories. */
int kd_mkdir_p (const char *path, mode_t mode, kd_error_t *err);
/* Takes an exclusive non-blocking flock on path (created 0600). Returns the
   fd, kept open for the life of the process. */
int kd_lock_file (const char *path, kd_error_t *err);

/* ---- logging (klog text format or JSON) ------------------------------ */

typedef enum
{
  KD_LOG_INFO,
  KD_LOG_WARNING,
  KD_LOG_ERROR,
} kd_log_level_t;

void kd_log_setup (int verbosity, bool json);
int kd_log_verbosity (void);
void kd_log_write (kd_log_level_t lvl, int v, const char *file, int line, const char *fmt, ...)
    KD_PRINTF (5, 6);

#define kd_info(...) kd_log_write (KD_LOG_INFO, 0, __FILE__, __LINE__, __VA_ARGS__)
#define kd_warn(...) kd_log_write (KD_LOG_WARNING, 0, __FILE__, __LINE__, __VA_ARGS__)
#define kd_err(...)  kd_log_write (KD_LOG_ERROR, 0, __FILE__, __LINE__, __VA_ARGS__)
/* Verbose info, printed when -v >= level. */
#define kd_vlog(level, ...)                                                                        \
  do                                                                                               \
    {                                                                                              \
      if (kd_log_verbosity () >= (level))                                                          \
        kd_log_write (KD_LOG_INFO, (level), __FILE__, __LINE__, __VA_ARGS__);                      \
    }                                                                                              \
  while (0)

#endif
