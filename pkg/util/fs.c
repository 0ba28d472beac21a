/* File helpers: bounded reads, atomic writes, mkdir -p, lock files. */
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "kubeletd/util.h"

int
kd_read_file (const char *path, size_t max, char **out, size_t *len, kd_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  struct stat st;
  size_t n = 0, cap;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", path);
  if (fstat (fd, &st) < 0)
    return kd_make_error (err, errno, "stat `%s`", path);
  if (!S_ISREG (st.st_mode))
    return kd_make_error (err, 0, "`%s` is not a regular file", path);
  if ((uint64_t) st.st_size > max)
    return kd_make_error (err, 0, "`%s` is too large (%lld bytes, limit %zu)", path,
                          (long long) st.st_size, max);
  cap = (size_t) st.st_size + 1;
  buf = xmalloc (cap);
  for (;;)
    {
      ssize_t r;
      if (n + 1 >= cap)
        {
          if (cap > max + 1)
            return kd_make_error (err, 0, "`%s` is too large (limit %zu bytes)", path, max);
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      r = read (fd, buf + n, cap - n - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return kd_make_error (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      n += (size_t) r;
      if (n > max)
        return kd_make_error (err, 0, "`%s` is too large (limit %zu bytes)", path, max);
    }
  buf[n] = '\0';
  *out = steal_pointer (&buf);
  if (len)
    *len = n;
  return 0;
}

int
kd_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, kd_error_t *err)
{
  return kd_write_file_replace (path, data, len, mode, true, err);
}

int
kd_write_file_replace (const char *path, const void *data, size_t len, mode_t mode, bool durable,
                       kd_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", path, (int) getpid ());
  cleanup_close int fd = -1;
  const char *p = data;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", tmp);
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int saved = errno;
          unlink (tmp);
          return kd_make_error (err, saved, "write `%s`", tmp);
        }
      p += w;
      len -= (size_t) w;
    }
  if (durable && fsync (fd) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return kd_make_error (err, saved, "fsync `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return kd_make_error (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

/* mkdir of P, then of its parents only when P's parent is missing: the
   usual caller asks for a folder that exists or lacks one level, which
   costs one mkdir (plus a stat when it exists) instead of one per
   component. P is modified in place and restored. */
static int
mkdir_p_walk (char *p, mode_t mode, kd_error_t *err)
{
  struct stat st;
  char *slash;
  int r;

  if (mkdir (p, mode) == 0)
    return 0;
  if (errno == EEXIST)
    goto exists;
  if (errno != ENOENT)
    return kd_make_error (err, errno, "mkdir `%s`", p);
  slash = strrchr (p, '/');
  while (slash && slash > p && slash[-1] == '/')
    slash--;
  if (slash == NULL || slash == p)
    return kd_make_error (err, ENOENT, "mkdir `%s`", p);
  *slash = '\0';
  r = mkdir_p_walk (p, mode, err);
  *slash = '/';
  if (r < 0)
    return r;
  if (mkdir (p, mode) == 0)
    return 0;
  if (errno != EEXIST)
    return kd_make_error (err, errno, "mkdir `%s`", p);
exists:
  /* made by someone else meanwhile, or a file in the way */
  if (stat (p, &st) < 0)
    return kd_make_error (err, errno, "stat `%s`", p);
  if (!S_ISDIR (st.st_mode))
    return kd_make_error (err, ENOTDIR, "mkdir `%s`", p);
  return 0;
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  if (flag == FTW_DP || flag == FTW_D)
    rmdir (path);
  else
    unlink (path);
  return 0;
}

int
kd_rm_tree (const char *path)
{
  return nftw (path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int
kd_mkdir_p (const char *path, mode_t mode, kd_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);

  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  return mkdir_p_walk (p, mode, err);
}

int
kd_lock_file (const char *path, kd_error_t *err)
{
  cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", path);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        return kd_make_error (err, 0, "another kubeletd holds `%s`", path);
      return kd_make_error (err, errno, "flock `%s`", path);
    }
  return steal_fd (&fd);
}
