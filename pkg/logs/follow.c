/* Following a container's log as it is written (kubectl logs -f).

   Every wait is an event: an inotify watch (uv_fs_event) on the container's
   log directory wakes the follower on each append, create and rename; there
   is no polling of the file. On each wake-up:
     1. read the open file to its end (if it was renamed by a rotation, the
        descriptor still reads it);
     2. if "<n>.log" is now another file (rotated away, or created at last),
        read the rotated files that came after the last one read (the open
        one among them, recognised by its inode: its unfinished last line is
        now whole), then open the new "<n>.log" and read it;
     3. the follow ends when a file of a later restart appears (this
        instance is over: kubectl logs -f stops when the container exits),
        when the directory goes away (the pod was removed), or at the byte
        limit.
   A low-rate timer asks the owner whether the instance has ended (the
   kubelet checks the container state the same way while the file is
   quiet), since an exited container writes nothing that would wake us.
   Pieces of a line still waiting for their end are written when the
   follow ends. */
#include <fcntl.h>
#include <sys/stat.h>

#include "kubeletd/logs.h"

struct kd_logs_follower
{
  kd_logs_follow_opts_t o;
  char *dir;
  char *live_path;
  char *last_rotated; /* name (full path) of the last rotated file read, or NULL */
  uv_fs_event_t watch;
  uv_timer_t timer;
  int open_handles;
  int fd; /* the file being read, -1 none */
  dev_t dev;
  ino_t ino;
  kd_logs_sink_t *sink;
  bool finished;
  bool freed;
  bool running; /* kd_logs_follower_run was called */
};

static void
on_handle_closed (uv_handle_t *h)
{
  kd_logs_follower_t *f = h->data;

  if (--f->open_handles > 0)
    return;
  if (f->fd >= 0)
    close (f->fd);
  kd_logs_sink_free (f->sink);
  free (f->dir);
  free (f->live_path);
  free (f->last_rotated);
  free (f);
}

void
kd_logs_follower_free (kd_logs_follower_t *f)
{
  if (f == NULL || f->freed)
    return;
  f->freed = true;
  f->finished = true;
  uv_close ((uv_handle_t *) &f->watch, on_handle_closed);
  uv_close ((uv_handle_t *) &f->timer, on_handle_closed);
}

/* Ends the follow: what is pending is written, then the owner is told.
   Nothing of f is used after done (the owner may free it there). */
static void
finish (kd_logs_follower_t *f)
{
  if (f->finished)
    return;
  f->finished = true;
  uv_fs_event_stop (&f->watch);
  uv_timer_stop (&f->timer);
  if (f->fd >= 0)
    kd_logs_sink_end_file (f->sink);
  kd_logs_sink_flush (f->sink);
  if (f->o.done)
    f->o.done (f->o.data);
}

static bool
read_fd_to_end (kd_logs_follower_t *f)
{
  char buf[16384];

  while (f->fd >= 0)
    {
      ssize_t r = read (f->fd, buf, sizeof (buf));

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          kd_warn ("logs: read in `%s`: %s", f->dir, strerror (errno));
          return false;
        }
      if (r == 0)
        return false;
      if (kd_logs_sink_feed (f->sink, buf, (size_t) r))
        return true;
    }
  return false;
}

/* Reads one rotated file whole (unless it is the open one, already read). */
static bool
read_rotated (kd_logs_follower_t *f, const char *path)
{
  struct stat st;
  cleanup_close int fd = -1;
  int saved;
  bool done;

  if (f->fd >= 0 && stat (path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
    {
      close (f->fd);
      f->fd = -1;
      return kd_logs_sink_end_file (f->sink);
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false; /* pruned meanwhile */
  saved = f->fd;
  f->fd = fd;
  done = read_fd_to_end (f);
  f->fd = saved;
  return done || kd_logs_sink_end_file (f->sink);
}

/* "<n>.log" is another file than the one open: catch up with the rotated
   files in between, then switch to it. */
static bool
switch_live (kd_logs_follower_t *f)
{
  char **files = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  bool done = false;
  struct stat st;

  if (kd_logs_instance_files (f->dir, f->o.restart, &files, &n, &err) < 0)
    {
      kd_error_log_release (&err);
      return false;
    }
  for (size_t i = 0; i < n && !done; i++)
    {
      if (strcmp (files[i], f->live_path) == 0)
        continue;
      if (f->last_rotated && strcmp (files[i], f->last_rotated) <= 0)
        continue;
      done = read_rotated (f, files[i]);
      free (f->last_rotated);
      f->last_rotated = xstrdup (files[i]);
    }
  kd_logs_files_free (files, n);
  if (done)
    return true;
  /* The open file was not among them (pruned at once): it is over too. */
  if (f->fd >= 0)
    {
      close (f->fd);
      f->fd = -1;
      if (kd_logs_sink_end_file (f->sink))
        return true;
    }
  f->fd = open (f->live_path, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0)
    return false;
  if (fstat (f->fd, &st) == 0)
    {
      f->dev = st.st_dev;
      f->ino = st.st_ino;
    }
  return read_fd_to_end (f);
}

/* full: also look for a later instance and a removed directory (a
   readdir; needless when the event is a write to the live file). */
static void
catch_up (kd_logs_follower_t *f, bool full)
{
  struct stat st;

  if (f->finished || !f->running)
    return;
  /* 1. what was appended */
  if (read_fd_to_end (f))
    {
      finish (f);
      return;
    }
  /* 2. a rotation, or the live file created at last */
  if (stat (f->live_path, &st) == 0 && (f->fd < 0 || st.st_dev != f->dev || st.st_ino != f->ino))
    {
      if (switch_live (f))
        {
          finish (f);
          return;
        }
    }
  /* 3. a later instance, or the pod's directory removed */
  if (full
      && (kd_logs_latest_restart (f->dir) > f->o.restart
          || (stat (f->dir, &st) < 0 && errno == ENOENT)))
    {
      read_fd_to_end (f);
      finish (f);
    }
}

static void
on_watch (uv_fs_event_t *h, const char *filename, int events, int status)
{
  kd_logs_follower_t *f = h->data;

  if (status < 0)
    {
      kd_warn ("logs: watch on `%s`: %s", f->dir, uv_strerror (status));
      finish (f);
      return;
    }
  catch_up (f, !(events == UV_CHANGE && filename != NULL
                 && strcmp (filename, f->live_path + strlen (f->dir) + 1) == 0));
}

static void
on_timer (uv_timer_t *t)
{
  kd_logs_follower_t *f = t->data;

  if (f->finished)
    return;
  catch_up (f, true);
  if (!f->finished && f->o.ended && f->o.ended (f->o.data))
    {
      catch_up (f, true);
      finish (f);
    }
}

int
kd_logs_follower_new (const kd_logs_follow_opts_t *opts, kd_logs_follower_t **out, kd_error_t *err)
{
  kd_logs_follower_t *f = xcalloc (1, sizeof (*f));
  int r;

  f->o = *opts;
  f->dir = xstrdup (opts->dir);
  f->o.dir = f->dir;
  f->live_path = xasprintf ("%s/%d.log", f->dir, opts->restart);
  f->fd = -1;
  uv_fs_event_init (opts->loop, &f->watch);
  uv_timer_init (opts->loop, &f->timer);
  f->watch.data = f->timer.data = f;
  f->open_handles = 2;
  r = uv_fs_event_start (&f->watch, on_watch, f->dir, 0);
  if (r < 0)
    {
      kd_logs_follower_free (f);
      return kd_make_error (err, 0, "watch `%s`: %s", opts->dir, uv_strerror (r));
    }
  *out = f;
  return 0;
}

void
kd_logs_follower_run (kd_logs_follower_t *f)
{
  char **files = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  struct stat st;

  if (f->running || f->finished)
    return;
  f->running = true;
  /* The watch is already on: anything written from here on wakes us, so
     no line falls between this read and the first event. */
  if (kd_logs_instance_files (f->dir, f->o.restart, &files, &n, &err) < 0
      || kd_logs_read (files, n, &f->o.opts, f->o.emit, f->o.data, &f->sink, &f->fd, &err) < 0)
    {
      kd_error_log_release (&err);
      kd_logs_files_free (files, n);
      if (f->sink == NULL)
        f->sink = kd_logs_sink_new (&f->o.opts, 0, f->o.emit, f->o.data);
      finish (f);
      return;
    }
  for (size_t i = 0; i < n; i++)
    if (strcmp (files[i], f->live_path) != 0)
      {
        free (f->last_rotated);
        f->last_rotated = xstrdup (files[i]);
      }
  kd_logs_files_free (files, n);
  if (f->fd >= 0 && fstat (f->fd, &st) == 0)
    {
      f->dev = st.st_dev;
      f->ino = st.st_ino;
    }
  if (kd_logs_sink_done (f->sink))
    {
      finish (f);
      return;
    }
  uv_timer_start (&f->timer, on_timer, KD_LOGS_STATE_CHECK_MS, KD_LOGS_STATE_CHECK_MS);
  /* The instance may be over already (a later restart exists, or the
     owner says so): then this is a plain read. */
  if (f->o.ended && f->o.ended (f->o.data))
    {
      catch_up (f, true);
      finish (f);
      return;
    }
  catch_up (f, true);
}
