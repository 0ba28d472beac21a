/* Content-addressed blobs: blobs/sha256/<hex>.
 *
 * A blob becomes visible only by rename, after its bytes were hashed while
 * written, compared with the expected digest and size, and fsynced. A crash
 * leaves at most a temp file in tmp/, which open clears. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "store-internal.h"

struct kd_blob_writer
{
  char *blobs_dir; /* <dir>/blobs/sha256 */
  char *tmp_path;
  int fd;
  kd_digest_t *md;
  int64_t size;
};

bool
kd_store_digest_ok (const char *d)
{
  if (d == NULL || !kd_str_has_prefix (d, "sha256:") || strlen (d) != 7 + 64)
    return false;
  for (const char *p = d + 7; *p; p++)
    if (!isdigit ((unsigned char) *p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

static void
hex_digest (const unsigned char *md, size_t n, char out[KD_DIGEST_LEN])
{
  static const char hex[] = "0123456789abcdef";
  memcpy (out, "sha256:", 7);
  for (unsigned i = 0; i < n && i < 32; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
  out[7 + 64] = '\0';
}

void
kd_store_sha256 (const void *data, size_t len, char out[KD_DIGEST_LEN])
{
  unsigned char md[KD_DIGEST_MAX];
  size_t n = 0;

  n = kd_digest (KD_SHA256, data, len, md);
  hex_digest (md, n, out);
}

void
kd_store_sync_dir (const char *dir)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    (void) fsync (fd);
}

bool
kd_image_store_has_blob (const kd_image_store_t *s, const char *digest)
{
  cleanup_free char *path = NULL;
  struct stat st;

  if (!kd_store_digest_ok (digest))
    return false;
  path = kd_image_store_blob_path (s, digest);
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

char *
kd_image_store_blob_path (const kd_image_store_t *s, const char *digest)
{
  /* Callers pass validated digests; anything else must not reach a path. */
  if (!kd_store_digest_ok (digest))
    return xasprintf ("%s/blobs/sha256/invalid-digest", s->dir);
  return xasprintf ("%s/blobs/sha256/%s", s->dir, digest + 7);
}

int
kd_blob_writer_new (const kd_image_store_t *s, kd_blob_writer_t **out, kd_error_t *err)
{
  kd_blob_writer_t *w;
  cleanup_free char *tmp = xasprintf ("%s/tmp/blob-XXXXXX", s->dir);
  int fd;

  fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return kd_make_error (err, errno, "create a temp file in `%s/tmp`", s->dir);
  w = xcalloc (1, sizeof (*w));
  w->blobs_dir = xasprintf ("%s/blobs/sha256", s->dir);
  w->tmp_path = steal_pointer (&tmp);
  w->fd = fd;
  w->md = kd_digest_new (KD_SHA256);
  *out = w;
  return 0;
}

int
kd_blob_writer_write (kd_blob_writer_t *w, const void *data, size_t len, kd_error_t *err)
{
  const char *p = data;

  kd_digest_update (w->md, data, len);
  w->size += (int64_t) len;
  while (len > 0)
    {
      ssize_t n = write (w->fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return kd_make_error (err, errno, "write `%s`", w->tmp_path);
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int64_t
kd_blob_writer_size (const kd_blob_writer_t *w)
{
  return w->size;
}

void
kd_blob_writer_abort (kd_blob_writer_t *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close (w->fd);
  if (w->tmp_path)
    unlink (w->tmp_path);
  kd_digest_free (w->md);
  free (w->tmp_path);
  free (w->blobs_dir);
  free (w);
}

static int
writer_finish (kd_blob_writer_t *w, const char *digest, int64_t size, kd_error_t *err)
{
  unsigned char md[KD_DIGEST_MAX];
  size_t n = 0;
  char got[KD_DIGEST_LEN];
  cleanup_free char *dest = NULL;

  if (!kd_store_digest_ok (digest))
    return kd_make_error (err, 0, "unsupported digest `%s`", digest);
  n = kd_digest_final (w->md, md);
  hex_digest (md, n, got);
  if (size >= 0 && w->size != size)
    return kd_make_error (err, 0, "size mismatch for %s: got %lld bytes, expected %lld", digest,
                          (long long) w->size, (long long) size);
  if (strcmp (got, digest) != 0)
    return kd_make_error (err, 0, "digest mismatch for %s: got %s", digest, got);
  if (fsync (w->fd) < 0)
    return kd_make_error (err, errno, "fsync `%s`", w->tmp_path);
  if (fchmod (w->fd, 0644) < 0)
    return kd_make_error (err, errno, "chmod `%s`", w->tmp_path);
  dest = xasprintf ("%s/%s", w->blobs_dir, digest + 7);
  if (rename (w->tmp_path, dest) < 0)
    return kd_make_error (err, errno, "rename `%s` to `%s`", w->tmp_path, dest);
  free (w->tmp_path);
  w->tmp_path = NULL;
  kd_store_sync_dir (w->blobs_dir);
  return 0;
}

int
kd_blob_writer_commit (kd_blob_writer_t *w, const char *digest, int64_t size, kd_error_t *err)
{
  int r = writer_finish (w, digest, size, err);
  /* On failure the temp file still exists and abort removes it. */
  kd_blob_writer_abort (w);
  return r;
}

int
kd_image_store_put_blob (const kd_image_store_t *s, const void *data, size_t len,
                         const char *digest, kd_error_t *err)
{
  kd_blob_writer_t *w = NULL;

  if (kd_blob_writer_new (s, &w, err) < 0)
    return -1;
  if (kd_blob_writer_write (w, data, len, err) < 0)
    {
      kd_blob_writer_abort (w);
      return -1;
    }
  return kd_blob_writer_commit (w, digest, (int64_t) len, err);
}

int
kd_image_store_read_blob (const kd_image_store_t *s, const char *digest, size_t max, char **data,
                          size_t *len, kd_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *buf = NULL;
  char got[KD_DIGEST_LEN];
  size_t n = 0;

  if (!kd_store_digest_ok (digest))
    return kd_make_error (err, 0, "unsupported digest `%s`", digest);
  path = kd_image_store_blob_path (s, digest);
  if (kd_read_file (path, max, &buf, &n, err) < 0)
    return -1;
  /* A blob on disk may have rotted or been edited since it was stored. */
  kd_store_sha256 (buf, n, got);
  if (strcmp (got, digest) != 0)
    return kd_make_error (err, 0, "digest mismatch for %s: got %s", digest, got);
  *data = steal_pointer (&buf);
  if (len)
    *len = n;
  return 0;
}

/* ---- recursive removal ---------------------------------------------------- */

static int
rm_rf_at (int dfd, const char *name, const char *where, kd_error_t *err)
{
  struct stat st;
  cleanup_close int fd = -1;
  DIR *d;
  struct dirent *de;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : kd_make_error (err, errno, "stat `%s/%s`", where, name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dfd, name, 0) < 0 && errno != ENOENT)
        return kd_make_error (err, errno, "unlink `%s/%s`", where, name);
      return 0;
    }
  /* Layers hold read-only directories (0555 is common in images). */
  if ((st.st_mode & 0700) != 0700)
    (void) fchmodat (dfd, name, (st.st_mode & 07777) | 0700, 0);
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return kd_make_error (err, errno, "open `%s/%s`", where, name);
  d = fdopendir (fd);
  if (d == NULL)
    return kd_make_error (err, errno, "opendir `%s/%s`", where, name);
  fd = -1; /* owned by d now */
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (rm_rf_at (dirfd (d), de->d_name, where, err) < 0)
        {
          closedir (d);
          return -1;
        }
    }
  closedir (d);
  if (unlinkat (dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return kd_make_error (err, errno, "rmdir `%s/%s`", where, name);
  return 0;
}

int
kd_store_rm_rf (const char *path, kd_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *slash = strrchr (copy, '/');
  const char *parent = ".", *name = copy;
  cleanup_close int dfd = -1;

  if (slash != NULL)
    {
      *slash = '\0';
      parent = slash == copy ? "/" : copy;
      name = slash + 1;
    }
  dfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT ? 0 : kd_make_error (err, errno, "open `%s`", parent);
  return rm_rf_at (dfd, name, parent, err);
}
