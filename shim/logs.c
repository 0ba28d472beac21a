/* The CRI log writer: "<RFC 3339 nano> <stream> <F|P> <content>\n".
 *
 * Each stream keeps its own pending line so stdout and stderr never mix
 * inside one line. Lines longer than SHIM_LOG_MAX_LINE are cut into P
 * pieces, the last piece F, as containerd does; a line still pending at EOF
 * (no final newline) is written as P, so a reader knows it was not ended.
 *
 * Rotation, as the kubelet's container_log_manager names files: when a write
 * would push the file past max_size, "<path>" is renamed to
 * "<path>.<yyyymmdd-hhmmss>" (local time; the kubelet's timestamp format,
 * never compressed here) and a new file is opened; rotated files beyond
 * max_files - 1 are removed oldest first. Two rotations in one second get
 * a ".NNNN" suffix so that name order stays time order.
 *
 * Writes go straight to the file; a failing write is counted and the bytes
 * dropped, so a full disk never makes the shim stop reading the pipes. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "shim.h"

typedef struct
{
  char *buf; /* allocated on first partial line */
  size_t len;
} pending_t;

struct shim_log
{
  char *path;
  char *dir;
  char *base; /* file name of path */
  int fd;
  int64_t size;
  int64_t max_size;
  int max_files;
  uint64_t errors;
  pending_t pending[2];
};

static const char *const stream_names[] = { "stdout", "stderr" };

static int
open_log (shim_log_t *l, kd_error_t *err)
{
  struct stat st;

  l->fd = open (l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (l->fd < 0)
    return kd_make_error (err, errno, "open `%s`", l->path);
  l->size = fstat (l->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

int
shim_log_open (const char *path, int64_t max_size, int max_files, shim_log_t **out, kd_error_t *err)
{
  shim_log_t *l = xcalloc (1, sizeof (*l));
  const char *slash = strrchr (path, '/');

  l->path = xstrdup (path);
  l->dir = slash ? xstrndup (path, slash == path ? 1 : (size_t) (slash - path)) : xstrdup (".");
  l->base = xstrdup (slash ? slash + 1 : path);
  l->max_size = max_size;
  l->max_files = max_files < 2 ? 2 : max_files;
  if (open_log (l, err) < 0)
    {
      shim_log_close (l);
      return -1;
    }
  *out = l;
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "<base>." followed by yyyymmdd-hhmmss and an optional ".NNNN". */
static bool
is_rotated_name (const char *name, const char *base)
{
  size_t bl = strlen (base);
  const char *p;

  if (strncmp (name, base, bl) != 0 || name[bl] != '.')
    return false;
  p = name + bl + 1;
  for (int i = 0; i < 15; i++)
    if (i == 8 ? p[i] != '-' : (p[i] < '0' || p[i] > '9'))
      return false;
  return p[15] == '\0' || p[15] == '.';
}

/* Removes the oldest rotated files so that at most max_files - 1 remain. */
static void
prune_rotated (shim_log_t *l)
{
  DIR *d = opendir (l->dir);
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0, keep = (size_t) l->max_files - 1;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (is_rotated_name (de->d_name, l->base))
      {
        kd_grow ((void **) &names, &cap, n, sizeof (*names));
        names[n++] = xstrdup (de->d_name);
      }
  closedir (d);
  if (n > 1)
    qsort (names, n, sizeof (*names), cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      if (i + keep < n)
        {
          cleanup_free char *p = xasprintf ("%s/%s", l->dir, names[i]);
          if (unlink (p) < 0)
            l->errors++;
        }
      free (names[i]);
    }
  free (names);
}

static void
rotate (shim_log_t *l)
{
  char stamp[32];
  time_t now = time (NULL);
  struct tm tm;
  cleanup_free char *dst = NULL;
  kd_error_t err = NULL;

  localtime_r (&now, &tm);
  strftime (stamp, sizeof (stamp), "%Y%m%d-%H%M%S", &tm);
  dst = xasprintf ("%s.%s", l->path, stamp);
  for (int i = 1; access (dst, F_OK) == 0 && i < 10000; i++)
    {
      free (dst);
      dst = xasprintf ("%s.%s.%04d", l->path, stamp, i);
    }
  if (rename (l->path, dst) < 0)
    {
      /* Keep appending to the current file rather than lose lines. */
      l->errors++;
      return;
    }
  close (l->fd);
  l->fd = -1;
  if (open_log (l, &err) < 0)
    {
      l->errors++;
      kd_error_release (&err);
    }
  prune_rotated (l);
}

static void
write_line (shim_log_t *l, shim_stream_t s, char tag, const char *a, size_t an, const char *b,
            size_t bn, int64_t now_ns)
{
  char head[64], ts[48];
  struct iovec iov[4];
  size_t total;
  ssize_t w;

  kd_format_time_nano (now_ns, ts, sizeof (ts));
  snprintf (head, sizeof (head), "%s %s %c ", ts, stream_names[s], tag);
  iov[0] = (struct iovec){ head, strlen (head) };
  iov[1] = (struct iovec){ (void *) a, an };
  iov[2] = (struct iovec){ (void *) b, bn };
  iov[3] = (struct iovec){ "\n", 1 };
  total = iov[0].iov_len + an + bn + 1;

  if (l->max_size > 0 && l->size > 0 && l->size + (int64_t) total > l->max_size)
    rotate (l);
  if (l->fd < 0)
    {
      l->errors++;
      return;
    }
  /* O_APPEND and one writev per line: a reader never sees half a line
     unless the disk is full, and then the line is counted as lost. */
  w = writev (l->fd, iov, 4);
  if (w < 0 || (size_t) w != total)
    l->errors++;
  if (w > 0)
    l->size += w;
}

void
shim_log_feed (shim_log_t *l, shim_stream_t s, const char *data, size_t n, int64_t now_ns)
{
  pending_t *p = &l->pending[s];

  while (n > 0)
    {
      const char *nl;
      size_t seg;

      /* A full pending line: F if the very next byte ends it, else P. */
      if (p->len == SHIM_LOG_MAX_LINE)
        {
          bool ends = data[0] == '\n';
          write_line (l, s, ends ? 'F' : 'P', p->buf, p->len, NULL, 0, now_ns);
          p->len = 0;
          if (ends)
            {
              data++;
              n--;
              continue;
            }
        }
      nl = memchr (data, '\n', n);
      seg = nl ? (size_t) (nl - data) : n;
      if (nl && p->len + seg <= SHIM_LOG_MAX_LINE)
        {
          /* The common case, without copying when nothing is pending. */
          write_line (l, s, 'F', p->buf, p->len, data, seg, now_ns);
          p->len = 0;
          data += seg + 1;
          n -= seg + 1;
          continue;
        }
      if (seg > SHIM_LOG_MAX_LINE - p->len)
        seg = SHIM_LOG_MAX_LINE - p->len;
      if (p->buf == NULL)
        p->buf = xmalloc (SHIM_LOG_MAX_LINE);
      memcpy (p->buf + p->len, data, seg);
      p->len += seg;
      data += seg;
      n -= seg;
    }
}

void
shim_log_eof (shim_log_t *l, shim_stream_t s, int64_t now_ns)
{
  pending_t *p = &l->pending[s];

  if (p->len > 0)
    write_line (l, s, 'P', p->buf, p->len, NULL, 0, now_ns);
  p->len = 0;
  /* The buffer is 16 KiB: give it back, the stream is done. */
  free (p->buf);
  p->buf = NULL;
}

uint64_t
shim_log_errors (const shim_log_t *l)
{
  return l->errors;
}

void
shim_log_close (shim_log_t *l)
{
  if (l == NULL)
    return;
  if (l->fd >= 0)
    close (l->fd);
  free (l->pending[0].buf);
  free (l->pending[1].buf);
  free (l->path);
  free (l->dir);
  free (l->base);
  free (l);
}
