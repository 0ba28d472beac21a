/* CRI log lines to plain text: the parser, the sink (joining, selection,
   limit) and the one-shot read over the files of one container instance.
   See include/kubeletd/logs.h. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "kubeletd/logs.h"

/* A line still waiting for its F piece is written out once it holds this
   much, so a container printing without newlines cannot grow memory. */
#define KD_LOGS_MAX_PENDING (1024 * 1024)
/* Output is handed to emit in pieces of about this size. */
#define KD_LOGS_OUT_CHUNK  (64 * 1024)
#define KD_LOGS_READ_CHUNK (64 * 1024)

int
kd_cri_parse_line (const char *line, size_t len, kd_cri_line_t *out)
{
  const char *end = line + len, *p = line, *sp;
  char ts[64];
  size_t n;

  /* 1. the time */
  sp = memchr (p, ' ', (size_t) (end - p));
  if (sp == NULL || sp == p || (size_t) (sp - p) >= sizeof (ts))
    return -1;
  n = (size_t) (sp - p);
  memcpy (ts, p, n);
  ts[n] = '\0';
  if (kd_parse_time (ts, &out->ts_ns) < 0)
    return -1;
  /* 2. the stream */
  p = sp + 1;
  sp = memchr (p, ' ', (size_t) (end - p));
  if (sp == NULL)
    return -1;
  n = (size_t) (sp - p);
  if (n == 6 && memcmp (p, "stdout", 6) == 0)
    out->stream = KD_LOG_STDOUT;
  else if (n == 6 && memcmp (p, "stderr", 6) == 0)
    out->stream = KD_LOG_STDERR;
  else
    return -1;
  /* 3. the tags, "P" or "F", possibly followed by ":more" */
  p = sp + 1;
  if (p >= end)
    return -1;
  sp = memchr (p, ' ', (size_t) (end - p));
  n = sp ? (size_t) (sp - p) : (size_t) (end - p);
  if (n == 0 || (p[0] != 'P' && p[0] != 'F') || (n > 1 && p[1] != ':'))
    return -1;
  out->partial = p[0] == 'P';
  /* 4. the content: all that follows the single space (may be empty) */
  out->content = sp ? sp + 1 : end;
  out->len = (size_t) (end - out->content);
  return 0;
}

/* ---- the sink ---------------------------------------------------------- */

typedef struct
{
  kd_buf_t buf;  /* content of the pieces so far */
  int64_t ts_ns; /* time of the first piece: the line's time */
  bool active;   /* a line of this stream is under way */
  bool keep;     /* it passed the filters */
  bool started;  /* its beginning (and prefix) was already written */
} pending_t;

struct kd_logs_sink
{
  kd_logs_opts_t opts;
  int64_t skip;
  int64_t lines;
  int64_t remain; /* bytes still allowed; < 0 = no limit */
  bool done;
  kd_logs_emit_fn emit;
  void *data;
  kd_buf_t partial; /* an unfinished physical line */
  kd_buf_t out;
  pending_t p[2];
};

kd_logs_sink_t *
kd_logs_sink_new (const kd_logs_opts_t *opts, int64_t skip_lines, kd_logs_emit_fn emit, void *data)
{
  kd_logs_sink_t *s = xcalloc (1, sizeof (*s));

  s->opts = *opts;
  s->skip = skip_lines > 0 ? skip_lines : 0;
  s->remain = emit && opts->limit_bytes > 0 ? opts->limit_bytes : -1;
  s->emit = emit;
  s->data = data;
  return s;
}

static void
out_flush (kd_logs_sink_t *s)
{
  if (s->out.len > 0 && s->emit)
    s->emit (s->out.s, s->out.len, s->data);
  s->out.len = 0;
}

/* Appends to the output, cutting at the byte limit as the kubelet does
   (mid-line if need be). */
static void
out_put (kd_logs_sink_t *s, const char *d, size_t n)
{
  if (s->done || s->emit == NULL)
    return;
  if (s->remain >= 0 && (int64_t) n > s->remain)
    n = (size_t) s->remain;
  kd_buf_append (&s->out, d, n);
  if (s->remain >= 0)
    {
      s->remain -= (int64_t) n;
      if (s->remain == 0)
        s->done = true;
    }
  if (s->out.len >= KD_LOGS_OUT_CHUNK)
    out_flush (s);
}

static void
out_line_start (kd_logs_sink_t *s, pending_t *pl)
{
  char ts[48];

  if (pl->started || !s->opts.timestamps)
    return;
  kd_format_time_nano (pl->ts_ns, ts, sizeof (ts) - 1);
  strcat (ts, " ");
  out_put (s, ts, strlen (ts));
}

static void
pending_reset (pending_t *pl)
{
  pl->buf.len = 0;
  if (pl->buf.s)
    pl->buf.s[0] = '\0';
  pl->active = pl->keep = pl->started = false;
}

static void
handle_line (kd_logs_sink_t *s, const char *line, size_t len)
{
  kd_cri_line_t l;
  pending_t *pl;

  if (len == 0)
    return;
  if (kd_cri_parse_line (line, len, &l) < 0)
    {
      kd_vlog (4, "logs: skipping a line that is not in CRI format: %.*s",
               (int) (len > 80 ? 80 : len), line);
      return;
    }
  pl = &s->p[l.stream];
  if (!pl->active)
    {
      pl->active = true;
      pl->ts_ns = l.ts_ns;
      pl->keep = s->opts.since_ns == 0 || l.ts_ns >= s->opts.since_ns;
      if (pl->keep)
        {
          s->lines++;
          if (s->skip > 0)
            {
              s->skip--;
              pl->keep = false;
            }
        }
    }
  if (pl->keep && s->emit)
    kd_buf_append (&pl->buf, l.content, l.len);
  if (!l.partial)
    {
      if (pl->keep)
        {
          out_line_start (s, pl);
          out_put (s, pl->buf.s ? pl->buf.s : "", pl->buf.len);
          out_put (s, "\n", 1);
        }
      pending_reset (pl);
    }
  else if (pl->buf.len >= KD_LOGS_MAX_PENDING)
    {
      out_line_start (s, pl);
      out_put (s, pl->buf.s, pl->buf.len);
      pl->started = true;
      pl->buf.len = 0;
    }
}

bool
kd_logs_sink_feed (kd_logs_sink_t *s, const char *data, size_t len)
{
  const char *end = data + len, *nl;

  while (data < end && !s->done)
    {
      nl = memchr (data, '\n', (size_t) (end - data));
      if (nl == NULL)
        {
          kd_buf_append (&s->partial, data, (size_t) (end - data));
          break;
        }
      if (s->partial.len > 0)
        {
          kd_buf_append (&s->partial, data, (size_t) (nl - data));
          handle_line (s, s->partial.s, s->partial.len);
          s->partial.len = 0;
        }
      else
        handle_line (s, data, (size_t) (nl - data));
      data = nl + 1;
    }
  out_flush (s);
  return s->done;
}

bool
kd_logs_sink_end_file (kd_logs_sink_t *s)
{
  if (s->partial.len > 0 && !s->done)
    handle_line (s, s->partial.s, s->partial.len);
  s->partial.len = 0;
  out_flush (s);
  return s->done;
}

void
kd_logs_sink_flush (kd_logs_sink_t *s)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (s->p); i++)
    {
      pending_t *pl = &s->p[i];

      if (pl->active && pl->keep)
        {
          out_line_start (s, pl);
          out_put (s, pl->buf.s ? pl->buf.s : "", pl->buf.len);
        }
      pending_reset (pl);
    }
  out_flush (s);
}

bool
kd_logs_sink_done (const kd_logs_sink_t *s)
{
  return s->done;
}

int64_t
kd_logs_sink_lines (const kd_logs_sink_t *s)
{
  return s->lines;
}

void
kd_logs_sink_free (kd_logs_sink_t *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < KD_ARRAY_SIZE (s->p); i++)
    kd_buf_free (&s->p[i].buf);
  kd_buf_free (&s->partial);
  kd_buf_free (&s->out);
  free (s);
}

/* ---- files ----------------------------------------------------------- */

char *
kd_logs_container_dir (const char *pod_logs_dir, const char *namespace_, const char *pod,
                       const char *uid, const char *container)
{
  return xasprintf ("%s/%s_%s_%s/%s", pod_logs_dir, namespace_, pod, uid, container);
}

/* The restart count of "<n>.log" or "<n>.log.<suffix>", or -1. *rotated
   tells which. Compressed and temporary files are not ours to read. */
static int
parse_name (const char *name, bool *rotated)
{
  const char *p = name;
  long v = 0;

  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      v = v * 10 + (*p - '0');
      if (v > 1000000000L)
        return -1;
    }
  if (strncmp (p, ".log", 4) != 0)
    return -1;
  p += 4;
  if (*p == '\0')
    {
      *rotated = false;
      return (int) v;
    }
  if (*p != '.' || p[1] < '0' || p[1] > '9' || kd_str_has_suffix (p, ".gz")
      || kd_str_has_suffix (p, ".tmp"))
    return -1;
  *rotated = true;
  return (int) v;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
kd_logs_instance_files (const char *dir, int restart, char ***files, size_t *n, kd_error_t *err)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  char **v = NULL;
  size_t cnt = 0, cap = 0;
  bool live = false, rotated;

  *files = NULL;
  *n = 0;
  if (d == NULL)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return kd_make_error (err, errno, "opendir `%s`", dir);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (parse_name (de->d_name, &rotated) != restart)
        continue;
      if (!rotated)
        {
          live = true;
          continue;
        }
      kd_grow ((void **) &v, &cap, cnt + 1, sizeof (*v));
      v[cnt++] = xasprintf ("%s/%s", dir, de->d_name);
    }
  closedir (d);
  /* "<n>.log.20261130-041510" < "<n>.log.20261130-041510.0001": name
     order is the shim's rotation order. */
  if (cnt > 1)
    qsort (v, cnt, sizeof (*v), cmp_names);
  if (live)
    {
      kd_grow ((void **) &v, &cap, cnt + 1, sizeof (*v));
      v[cnt++] = xasprintf ("%s/%d.log", dir, restart);
    }
  *files = v;
  *n = cnt;
  return 0;
}

void
kd_logs_files_free (char **files, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (files[i]);
  free (files);
}

int
kd_logs_latest_restart (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int best = -1, r;
  bool rotated;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if ((r = parse_name (de->d_name, &rotated)) > best)
      best = r;
  closedir (d);
  return best;
}

/* ---- the one-shot read ------------------------------------------------- */

/* Feeds what fd holds from its position to its end. */
static int
feed_fd (kd_logs_sink_t *s, int fd, const char *path, kd_error_t *err)
{
  cleanup_free char *buf = xmalloc (KD_LOGS_READ_CHUNK);

  for (;;)
    {
      ssize_t r = read (fd, buf, KD_LOGS_READ_CHUNK);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return kd_make_error (err, errno, "read `%s`", path);
      if (r == 0 || kd_logs_sink_feed (s, buf, (size_t) r))
        return 0;
    }
}

/* One pass over the files. The last one stays open in *live_fd when asked. */
static int
read_pass (char *const *files, size_t n, kd_logs_sink_t *s, int *live_fd, kd_error_t *err)
{
  for (size_t i = 0; i < n && !kd_logs_sink_done (s); i++)
    {
      bool last_live = live_fd != NULL && i == n - 1;
      cleanup_close int fd = open (files[i], O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        {
          /* Pruned by the shim's rotation since the listing: gone for us too. */
          if (errno == ENOENT)
            continue;
          return kd_make_error (err, errno, "open `%s`", files[i]);
        }
      if (feed_fd (s, fd, files[i], err) < 0)
        return -1;
      if (last_live)
        *live_fd = steal_fd (&fd);
      else
        kd_logs_sink_end_file (s);
    }
  return 0;
}

int
kd_logs_read (char *const *files, size_t n, const kd_logs_opts_t *opts, kd_logs_emit_fn emit,
              void *data, kd_logs_sink_t **sink_out, int *live_fd, kd_error_t *err)
{
  int64_t skip = 0;
  kd_logs_sink_t *s;
  int fd = -1;
  const char *base = n > 0 ? strrchr (files[n - 1], '/') : NULL;
  bool rotated = true;
  /* Only "<n>.log" grows: when the listing ends with a rotated file (the
     live one is being replaced right now), every file is whole. */
  bool keep_live = live_fd != NULL && sink_out != NULL && n > 0
                   && parse_name (base ? base + 1 : files[n - 1], &rotated) >= 0 && !rotated;

  if (live_fd)
    *live_fd = -1;
  if (sink_out)
    *sink_out = NULL;
  /* tailLines: count the lines first, then skip all but the last ones.
     Two passes keep memory flat whatever the size of the files. */
  if (opts->tail_lines >= 0)
    {
      kd_logs_sink_t *count = kd_logs_sink_new (opts, 0, NULL, NULL);
      int r = read_pass (files, n, count, keep_live ? &fd : NULL, err);

      if (fd >= 0)
        close (fd);
      fd = -1;
      if (r < 0)
        {
          kd_logs_sink_free (count);
          return -1;
        }
      /* A line still waiting for its last piece counts: it is one of
         the lines the reader sees (now, or when it is finished). */
      skip = kd_logs_sink_lines (count) - opts->tail_lines;
      kd_logs_sink_free (count);
    }
  s = kd_logs_sink_new (opts, skip, emit, data);
  if (read_pass (files, n, s, keep_live ? &fd : NULL, err) < 0)
    {
      if (fd >= 0)
        close (fd);
      kd_logs_sink_free (s);
      return -1;
    }
  if (sink_out == NULL)
    {
      kd_logs_sink_flush (s);
      kd_logs_sink_free (s);
      return 0;
    }
  if (live_fd)
    *live_fd = fd;
  else if (fd >= 0)
    close (fd);
  *sink_out = s;
  return 0;
}
