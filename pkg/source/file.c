/* The static pod file source (see source.h for the rules).

   A scan lists the path, compares each file's stat identity (device, inode,
   size, mtime, ctime) with what was loaded last, and loads only what
   changed, so the 20 s relist costs a few stats and an unchanged file never
   yields a new config.seen. Events from the watch (inotify, read on the
   loop) only arm a timer that runs the same scan: one code path. An event
   that says a file is complete (closed after writing, renamed into place,
   deleted) scans at the next loop turn; one that may be followed by more
   (created, modified, chmod) waits 20 ms, so a burst of writes costs one
   scan. */
#include <dirent.h>
#include <inttypes.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "kubeletd/manifest.h"
#include "kubeletd/source.h"

#define KD_SOURCE_DEFAULT_COALESCE_MS 20

typedef struct
{
  char *path; /* the source key reported to the callback */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtim;
  struct timespec ctim;
  size_t n; /* pods in the last good version (the store keeps them) */
} kd_watched_file_t;

struct kd_source_file
{
  uv_loop_t *loop;
  char *path;
  char *node_name;
  uint64_t relist_ms;
  uint64_t coalesce_ms;
  kd_source_update_cb cb;
  void *cb_data;

  int inotify_fd;
  int wd;
  uv_poll_t watch;
  bool watching;
  dev_t watch_dev;
  ino_t watch_ino;
  uv_timer_t relist;
  uv_timer_t coalesce;
  int open_handles;
  bool missing_logged;

  kd_watched_file_t *files; /* sorted by path */
  size_t n_files;
};

/* A file found by a listing. */
typedef struct
{
  char *path;
  struct stat st;
} kd_listed_t;

static bool
same_identity (const kd_watched_file_t *f, const struct stat *st)
{
  return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size
         && f->mtim.tv_sec == st->st_mtim.tv_sec && f->mtim.tv_nsec == st->st_mtim.tv_nsec
         && f->ctim.tv_sec == st->st_ctim.tv_sec && f->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static void
remember_identity (kd_watched_file_t *f, const struct stat *st)
{
  f->dev = st->st_dev;
  f->ino = st->st_ino;
  f->size = st->st_size;
  f->mtim = st->st_mtim;
  f->ctim = st->st_ctim;
}

static int
listed_cmp (const void *a, const void *b)
{
  return strcmp (((const kd_listed_t *) a)->path, ((const kd_listed_t *) b)->path);
}

static void
listed_free (kd_listed_t *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (l[i].path);
  free (l);
}

/* Lists the regular files of the directory in name order. Returns -1 (and
   logs) when the directory cannot be read, so a transient error removes
   nothing. */
static int
list_dir (const char *dir, kd_listed_t **out, size_t *n_out)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  kd_listed_t *l = NULL;
  size_t n = 0;

  if (d == NULL)
    {
      kd_warn ("pod manifest path: opendir `%s`: %s", dir, strerror (errno));
      return -1;
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      cleanup_free char *path = NULL;

      if (de->d_name[0] == '.')
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      if (stat (path, &st) < 0)
        {
          /* A dangling symlink or a file removed while listing. */
          kd_vlog (4, "static pod file `%s`: stat: %s", path, strerror (errno));
          continue;
        }
      if (S_ISDIR (st.st_mode))
        {
          kd_vlog (4, "not recursing into manifest path `%s`", path);
          continue;
        }
      if (!S_ISREG (st.st_mode))
        {
          kd_vlog (4, "static pod file `%s` is not a regular file, ignored", path);
          continue;
        }
      l = xrealloc (l, (n + 1) * sizeof (*l));
      l[n].path = steal_pointer (&path);
      l[n].st = st;
      n++;
    }
  closedir (d);
  if (n)
    qsort (l, n, sizeof (*l), listed_cmp);
  *out = l;
  *n_out = n;
  return 0;
}

/* What a directory or a single file is watched for. */
#define WATCH_MASK                                                                                 \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB    \
   | IN_DELETE_SELF | IN_MOVE_SELF)

/* Watches the path itself (a directory or the single file); restarted when
   the path now has another inode (deleted and made again). */
static void
ensure_watch (kd_source_file_t *src, const struct stat *st)
{
  int r;

  if (src->watching && src->watch_dev == st->st_dev && src->watch_ino == st->st_ino)
    return;
  if (src->watching)
    inotify_rm_watch (src->inotify_fd, src->wd);
  src->watching = false;
  r = inotify_add_watch (src->inotify_fd, src->path, WATCH_MASK);
  if (r < 0)
    {
      kd_warn ("watch `%s`: %s (changes are seen at the next relist)", src->path, strerror (errno));
      return;
    }
  src->wd = r;
  src->watching = true;
  src->watch_dev = st->st_dev;
  src->watch_ino = st->st_ino;
}

static void
stop_watch (kd_source_file_t *src)
{
  if (src->watching)
    inotify_rm_watch (src->inotify_fd, src->wd);
  src->watching = false;
}

static void
log_failure (const kd_manifest_t *m, const char *path, size_t kept)
{
  kd_warn ("static pod file `%s` is invalid; keeping the %zu pod(s) it defined before", path, kept);
  if (m->error)
    {
      kd_warn ("%s", m->error);
      return;
    }
  for (size_t i = 0; i < m->n_pods; i++)
    for (size_t j = 0; j < m->pods[i].errs.n; j++)
      {
        cleanup_free char *msg = kd_fe_format (&m->pods[i].errs.v[j], path);
        kd_warn ("%s", msg);
      }
}

static void
log_warnings (const kd_manifest_t *m, const char *path)
{
  for (size_t i = 0; i < m->n_pods; i++)
    for (size_t j = 0; j < m->pods[i].errs.n; j++)
      if (m->pods[i].errs.v[j].type == KD_FE_WARNING)
        {
          cleanup_free char *msg = kd_fe_format (&m->pods[i].errs.v[j], path);
          kd_warn ("%s", msg);
        }
}

/* Loads f->path and hands its pods to the callback (which copies what it
   keeps); an unreadable or invalid file changes nothing. */
static void
load_file (kd_source_file_t *src, kd_watched_file_t *f, const struct stat *st)
{
  kd_manifest_opts_t opts = { .node_name = src->node_name, .make_static = true };
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;
  cleanup_free kd_pod_t **pods = NULL;

  remember_identity (f, st);
  if (kd_manifest_load_file (f->path, &opts, &m, &err) < 0)
    {
      kd_warn ("static pod file `%s` cannot be read; keeping the %zu pod(s) it defined before: %s",
               f->path, f->n, err->msg);
      kd_error_release (&err);
      return;
    }
  if (m->error == NULL && m->n_pods == 0)
    {
      kd_warn ("static pod file `%s` is empty; keeping the %zu pod(s) it defined before", f->path,
               f->n);
      kd_manifest_free (m);
      return;
    }
  if (m->error || !kd_manifest_ok (m))
    {
      log_failure (m, f->path, f->n);
      kd_manifest_free (m);
      return;
    }
  log_warnings (m, f->path);
  pods = xmalloc (m->n_pods * sizeof (*pods));
  for (size_t i = 0; i < m->n_pods; i++)
    pods[i] = m->pods[i].pod;
  f->n = m->n_pods;
  kd_vlog (2, "static pod file `%s`: %zu pod(s)", f->path, f->n);
  src->cb (f->path, pods, f->n, src->cb_data);
  kd_manifest_free (m);
}

static kd_watched_file_t *
find_file (kd_source_file_t *src, const char *path)
{
  for (size_t i = 0; i < src->n_files; i++)
    if (strcmp (src->files[i].path, path) == 0)
      return &src->files[i];
  return NULL;
}

/* Makes the set of known files equal to the listing: removed files are
   reported with n = 0, new and changed ones loaded. */
static void
apply_listing (kd_source_file_t *src, const kd_listed_t *l, size_t n)
{
  for (size_t i = src->n_files; i-- > 0;)
    {
      kd_watched_file_t *f = &src->files[i];
      bool present = false;

      for (size_t j = 0; j < n && !present; j++)
        present = strcmp (l[j].path, f->path) == 0;
      if (present)
        continue;
      kd_vlog (2, "static pod file `%s` removed", f->path);
      src->cb (f->path, NULL, 0, src->cb_data);
      free (f->path);
      memmove (f, f + 1, (src->n_files - i - 1) * sizeof (*f));
      src->n_files--;
    }

  for (size_t j = 0; j < n; j++)
    {
      kd_watched_file_t *f = find_file (src, l[j].path);

      if (f && same_identity (f, &l[j].st))
        continue;
      if (f == NULL)
        {
          src->files = xrealloc (src->files, (src->n_files + 1) * sizeof (*src->files));
          f = &src->files[src->n_files++];
          memset (f, 0, sizeof (*f));
          f->path = xstrdup (l[j].path);
        }
      load_file (src, f, &l[j].st);
    }
}

void
kd_source_file_scan (kd_source_file_t *src)
{
  struct stat st;
  kd_listed_t *l = NULL;
  size_t n = 0;

  if (stat (src->path, &st) < 0)
    {
      if (errno != ENOENT && errno != ENOTDIR)
        {
          kd_warn ("pod manifest path: stat `%s`: %s", src->path, strerror (errno));
          return;
        }
      if (!src->missing_logged)
        kd_vlog (2, "pod manifest path `%s` does not exist; checking again every %" PRIu64 " ms",
                 src->path, src->relist_ms);
      src->missing_logged = true;
      stop_watch (src);
      apply_listing (src, NULL, 0);
      return;
    }
  src->missing_logged = false;
  ensure_watch (src, &st);
  if (S_ISDIR (st.st_mode))
    {
      if (list_dir (src->path, &l, &n) < 0)
        return;
    }
  else if (S_ISREG (st.st_mode))
    {
      l = xmalloc (sizeof (*l));
      l->path = xstrdup (src->path);
      l->st = st;
      n = 1;
    }
  else
    kd_warn ("pod manifest path `%s` is neither a directory nor a regular file", src->path);
  apply_listing (src, l, n);
  listed_free (l, n);
}

static void
on_coalesced (uv_timer_t *t)
{
  kd_source_file_scan (t->data);
}

static void
on_relist (uv_timer_t *t)
{
  kd_source_file_scan (t->data);
}

/* Scans after delay_ms, or sooner when a scan is already armed later. */
static void
arm_scan (kd_source_file_t *src, uint64_t delay_ms)
{
  uv_timer_t *t = &src->coalesce;

  /* armed by the first event of a burst and not pushed back by the next
     ones, so a steady stream of writes still gets scanned every 20 ms */
  if (uv_is_active ((uv_handle_t *) t) && uv_timer_get_due_in (t) <= delay_ms)
    return;
  uv_timer_start (t, on_coalesced, delay_ms, 0);
}

static void
on_inotify (uv_poll_t *handle, int status, int events)
{
  kd_source_file_t *src = handle->data;
  char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  bool now = false, later = false;
  ssize_t n;

  (void) events;
  if (status < 0)
    {
      kd_warn ("watch `%s`: %s (changes are seen at the next relist)", src->path,
               uv_strerror (status));
      uv_poll_stop (handle);
      stop_watch (src);
      return;
    }
  while ((n = read (src->inotify_fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + n;)
      {
        const struct inotify_event *ev = (const struct inotify_event *) p;
        p += sizeof *ev + ev->len;
        if (ev->mask & IN_Q_OVERFLOW)
          {
            /* events were lost: the scan finds what they said */
            now = true;
            continue;
          }
        if (!src->watching || ev->wd != src->wd)
          continue;
        kd_vlog (5, "watch `%s`: event 0x%x on `%s`", src->path, ev->mask, ev->len ? ev->name : "");
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
          {
            /* the path is gone or replaced: the scan watches it again */
            if (ev->mask & IN_IGNORED)
              src->watching = false;
            now = true;
          }
        else if (ev->len && ev->name[0] == '.')
          continue; /* ignored files: an editor's or a tool's temp file */
        else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
          now = true;
        else
          later = true;
      }
  if (now)
    arm_scan (src, 0);
  else if (later)
    arm_scan (src, src->coalesce_ms);
}

int
kd_source_file_new (uv_loop_t *loop, const kd_source_file_opts_t *opts, kd_source_update_cb cb,
                    void *data, kd_source_file_t **out, kd_error_t *err)
{
  kd_source_file_t *src = xcalloc (1, sizeof (*src));
  int r;

  src->loop = loop;
  src->path = xstrdup (opts->path);
  /* "dir/" and "dir" are the same source; keep the keys tidy. */
  while (strlen (src->path) > 1 && kd_str_has_suffix (src->path, "/"))
    src->path[strlen (src->path) - 1] = '\0';
  src->node_name = xstrdup (opts->node_name);
  src->relist_ms = opts->relist_ms ? opts->relist_ms : 20000;
  src->coalesce_ms = opts->coalesce_ms ? opts->coalesce_ms : KD_SOURCE_DEFAULT_COALESCE_MS;
  src->cb = cb;
  src->cb_data = data;

  src->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  r = src->inotify_fd < 0 ? -errno : uv_poll_init (loop, &src->watch, src->inotify_fd);
  if (r < 0)
    {
      if (src->inotify_fd >= 0)
        close (src->inotify_fd);
      free (src->path);
      free (src->node_name);
      free (src);
      return kd_make_error (err, -r, "inotify `%s`", opts->path);
    }
  src->watch.data = src;
  uv_poll_start (&src->watch, UV_READABLE, on_inotify);
  uv_timer_init (loop, &src->relist);
  src->relist.data = src;
  uv_timer_init (loop, &src->coalesce);
  src->coalesce.data = src;
  src->open_handles = 3;

  kd_source_file_scan (src);
  uv_timer_start (&src->relist, on_relist, src->relist_ms, src->relist_ms);
  *out = src;
  return 0;
}

static void
on_handle_closed (uv_handle_t *h)
{
  kd_source_file_t *src = h->data;

  if (--src->open_handles > 0)
    return;
  for (size_t i = 0; i < src->n_files; i++)
    {
      free (src->files[i].path);
    }
  free (src->files);
  close (src->inotify_fd);
  free (src->path);
  free (src->node_name);
  free (src);
}

void
kd_source_file_close (kd_source_file_t *src)
{
  if (src == NULL)
    return;
  stop_watch (src);
  uv_close ((uv_handle_t *) &src->watch, on_handle_closed);
  uv_close ((uv_handle_t *) &src->relist, on_handle_closed);
  uv_close ((uv_handle_t *) &src->coalesce, on_handle_closed);
}
