/* The shim's containers: create (kd_runtime_spawn with pipes for stdout and
 * stderr), kill, delete, and the exit path.
 *
 * The exit path, in order: SIGCHLD (signalfd) -> waitpid(-1, WNOHANG) until
 * nothing is left (the shim is a subreaper: orphans of the pod land here
 * too and are simply reaped) -> drain the container's pipes to EOF, so the
 * log holds everything it wrote -> read the OOM kill counter and compare it
 * with the value read before the start -> write state.json (fsync + rename +
 * fsync of the directory) -> only then send the exit event. A pipe that some
 * escaped process keeps open does not hold the exit back for more than
 * DRAIN_TIMEOUT_MS. */
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kubeletd/runtime.h"
#include "kubeletd/shim.h"
#include "shim.h"

#define DRAIN_TIMEOUT_MS 2000
#define MAX_ID_LEN       128

struct shim_ctr
{
  shim_ctr_t *next;
  char *id;
  char *state_path;
  kd_ctr_spec_t spec;
  kd_shim_ctr_state_t st;
  int pidfd;
  shim_src_t pipes[2]; /* fd -1 once at EOF */
  shim_log_t *log;
  uint64_t oom_before;
  bool reaped; /* waitpid done, exit not yet recorded */
  int wstatus;
  int64_t drain_deadline; /* monotonic ns */
};

static shim_ctr_t *ctrs;
static shim_ctr_t *graveyard; /* deleted, freed after the epoll batch */
static char rbuf[32768];

static shim_ctr_t *
find (const char *id)
{
  for (shim_ctr_t *c = ctrs; c; c = c->next)
    if (strcmp (c->id, id) == 0)
      return c;
  return NULL;
}

static void
ctr_free (shim_ctr_t *c)
{
  for (int i = 0; i < 2; i++)
    if (c->pipes[i].fd >= 0)
      {
        shim_server_del_fd (&c->pipes[i]);
        close (c->pipes[i].fd);
      }
  if (c->pidfd >= 0)
    close (c->pidfd);
  shim_log_close (c->log);
  kd_ctr_spec_free (&c->spec);
  kd_shim_state_free (&c->st);
  free (c->state_path);
  free (c->id);
  free (c);
}

/* The "oom_kill N" line of memory.oom_control (v1) or memory.events (v2). */
static uint64_t
read_oom_kills (const char *path)
{
  char buf[1024], *p;
  ssize_t n;
  int fd;

  if (path == NULL || *path == '\0')
    return 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof (buf) - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  for (p = buf; p; p = strchr (p, '\n'))
    {
      if (*p == '\n')
        p++;
      if (strncmp (p, "oom_kill ", 9) == 0)
        return strtoull (p + 9, NULL, 10);
    }
  return 0;
}

static int
fsync_dir_of (const char *path)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  int fd, r;

  if (slash == NULL)
    return 0;
  *slash = '\0';
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  r = fsync (fd);
  close (fd);
  return r;
}

static void
save_state (shim_ctr_t *c)
{
  json_t *j = kd_shim_state_to_json (&c->st);
  cleanup_free char *s = json_dumps (j, JSON_COMPACT);
  kd_error_t err = NULL;

  json_decref (j);
  if (kd_write_file_atomic (c->state_path, s, strlen (s), 0644, &err) < 0)
    {
      kd_error_log_release (&err);
      return;
    }
  /* The rename is durable only once the directory is on disk. */
  if (fsync_dir_of (c->state_path) < 0)
    kd_warn ("fsync the directory of `%s`: %s", c->state_path, strerror (errno));
}

static json_t *
exit_event (const shim_ctr_t *c)
{
  json_t *j = kd_shim_state_to_json (&c->st);
  json_object_set_new (j, "event", json_string ("exit"));
  return j;
}

static void
close_pipe (shim_ctr_t *c, int i)
{
  shim_src_t *src = &c->pipes[i];

  if (src->fd < 0)
    return;
  if (c->log)
    shim_log_eof (c->log, src->stream, kd_now_ns ());
  shim_server_del_fd (src);
  close (src->fd);
  src->fd = -1;
}

/* Reads what is there; returns true at EOF (or a read error). limit bounds
   the bytes taken in one go so one noisy container cannot starve others. */
static bool
read_pipe (shim_ctr_t *c, int i, size_t limit)
{
  shim_src_t *src = &c->pipes[i];
  size_t total = 0;

  while (total < limit)
    {
      ssize_t n = read (src->fd, rbuf, sizeof (rbuf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return false;
      if (n <= 0)
        return true;
      if (c->log)
        shim_log_feed (c->log, src->stream, rbuf, (size_t) n, kd_now_ns ());
      total += (size_t) n;
    }
  return false;
}

/* Records the exit: only after the log is complete, and durably before the
   event leaves. */
static void
finish_exit (shim_ctr_t *c)
{
  int status = c->wstatus;

  close_pipe (c, 0);
  close_pipe (c, 1);
  c->reaped = false;
  c->st.running = false;
  if (WIFSIGNALED (status))
    {
      c->st.signal = WTERMSIG (status);
      c->st.exit_code = 128 + c->st.signal;
    }
  else
    c->st.exit_code = WEXITSTATUS (status);
  c->st.oom_killed = read_oom_kills (c->spec.memory_oom_control) > c->oom_before;
  if (c->log && shim_log_errors (c->log) > 0)
    kd_warn ("container %s: %llu log write errors", c->id,
             (unsigned long long) shim_log_errors (c->log));
  shim_log_close (c->log);
  c->log = NULL;
  save_state (c);
  shim_server_send_event (exit_event (c));
  /* The shim lives as long as the pod: hand freed memory back. */
  malloc_trim (0);
}

void
shim_ctr_on_pipe (shim_src_t *src)
{
  shim_ctr_t *c = src->ctr;
  int i = src == &c->pipes[0] ? 0 : 1;

  if (src->fd < 0)
    return; /* closed earlier in this epoll batch */
  if (!read_pipe (c, i, 4 * sizeof (rbuf)))
    return;
  close_pipe (c, i);
  if (c->reaped && c->pipes[0].fd < 0 && c->pipes[1].fd < 0)
    finish_exit (c);
}

void
shim_ctr_reap (void)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      shim_ctr_t *c;

      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        return;
      for (c = ctrs; c; c = c->next)
        if (c->st.running && !c->reaped && c->st.pid == pid)
          break;
      if (c == NULL)
        continue; /* an orphan of the pod, or a helper */
      c->reaped = true;
      c->wstatus = status;
      c->st.finished_ns = kd_now_ns ();
      if (c->pidfd >= 0)
        close (c->pidfd);
      c->pidfd = -1;
      for (int i = 0; i < 2; i++)
        if (c->pipes[i].fd >= 0 && read_pipe (c, i, 1 << 20))
          close_pipe (c, i);
      if (c->pipes[0].fd < 0 && c->pipes[1].fd < 0)
        finish_exit (c);
      else
        c->drain_deadline = kd_monotonic_ns () + (int64_t) DRAIN_TIMEOUT_MS * 1000000;
    }
}

int
shim_ctr_timeouts (void)
{
  int64_t now = kd_monotonic_ns (), next = -1;

  for (shim_ctr_t *c = ctrs; c; c = c->next)
    {
      if (!c->reaped)
        continue;
      if (c->drain_deadline <= now)
        {
          kd_warn ("container %s: output still open %d ms after the exit", c->id, DRAIN_TIMEOUT_MS);
          finish_exit (c);
          continue;
        }
      if (next < 0 || c->drain_deadline - now < next)
        next = c->drain_deadline - now;
    }
  return next < 0 ? -1 : (int) (next / 1000000 + 1);
}

static bool
valid_id (const char *id)
{
  size_t n = strlen (id);

  if (n == 0 || n > MAX_ID_LEN || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return false;
  return strchr (id, '/') == NULL;
}

static int
open_log_for (shim_ctr_t *c, kd_error_t *err)
{
  const char *path = c->spec.log_path;
  cleanup_free char *dir = NULL;
  char *slash;

  if (path == NULL || *path == '\0')
    return 0; /* output discarded */
  dir = xstrdup (path);
  slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      if (kd_mkdir_p (dir, 0755, err) < 0)
        return -1;
    }
  return shim_log_open (path, c->spec.log_max_size, c->spec.log_max_files, &c->log, err);
}

static int
spawn (shim_ctr_t *c, kd_error_t *err)
{
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  int stdio[3];
  sigset_t chld, old;
  int r;

  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    {
      r = kd_make_error (err, errno, "pipe");
      goto out;
    }
  for (int i = 0; i < 2; i++)
    {
      int fd = i == 0 ? out[0] : errp[0];
      fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
      c->pipes[i] = (shim_src_t){ SHIM_SRC_PIPE, fd, c, i == 0 ? SHIM_STDOUT : SHIM_STDERR };
    }
  out[0] = errp[0] = -1;
  stdio[0] = -1;
  stdio[1] = out[1];
  stdio[2] = errp[1];
  c->oom_before = read_oom_kills (c->spec.memory_oom_control);

  /* The child inherits the signal mask: SIGCHLD, blocked for the signalfd,
     must not stay blocked in the container. A SIGCHLD lost while it is
     unblocked costs nothing: the caller reaps right after. */
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_UNBLOCK, &chld, &old);
  r = kd_runtime_spawn (&c->spec, stdio, &c->st.pid, &c->pidfd, err);
  sigprocmask (SIG_SETMASK, &old, NULL);
  /* Building the seccomp filter is the largest allocation the shim sees. */
  malloc_trim (0);
  c->st.started_ns = kd_now_ns ();

out:
  for (int i = 0; i < 2; i++)
    {
      if (out[i] >= 0)
        close (out[i]);
      if (errp[i] >= 0)
        close (errp[i]);
    }
  return r;
}

int
shim_ctr_create (const char *pod_dir, const char *id, json_t **reply, kd_error_t *err)
{
  cleanup_free char *bundle = NULL;
  shim_ctr_t *c;
  int r;

  if (!valid_id (id))
    return kd_make_error (err, 0, "invalid container id `%s`", id);
  if (find (id))
    return kd_make_error (err, 0, "container `%s` already exists", id);

  c = xcalloc (1, sizeof (*c));
  c->id = xstrdup (id);
  c->pidfd = -1;
  c->pipes[0].fd = c->pipes[1].fd = -1;
  bundle = xasprintf ("%s/containers/%s", pod_dir, id);
  c->state_path = xasprintf ("%s/state.json", bundle);
  if (kd_ctr_spec_load (bundle, &c->spec, err) < 0 || open_log_for (c, err) < 0)
    {
      ctr_free (c);
      return kd_error_wrap (err, "container %s", id);
    }
  c->st.id = xstrdup (id);

  r = spawn (c, err);
  if (r < 0)
    {
      /* A start failure is kept (exited, code 128, with the message) so
         that a kubeletd that missed the reply still learns about it. */
      for (int i = 0; i < 2; i++)
        if (c->pipes[i].fd >= 0)
          {
            read_pipe (c, i, 1 << 20);
            close_pipe (c, i);
          }
      shim_log_close (c->log);
      c->log = NULL;
      c->st.pid = 0;
      c->st.running = false;
      c->st.exit_code = 128;
      c->st.finished_ns = c->st.started_ns;
      c->st.error = xstrdup ((*err)->msg);
      c->next = ctrs;
      ctrs = c;
      save_state (c);
      return -1;
    }

  c->st.running = true;
  for (int i = 0; i < 2; i++)
    if (shim_server_add_fd (&c->pipes[i]) < 0)
      kd_warn ("container %s: epoll add: %s", id, strerror (errno));
  c->next = ctrs;
  ctrs = c;
  save_state (c);

  /* The container may already be gone, its SIGCHLD lost while SIGCHLD
     was unblocked: the server reaps after sending this reply, so the reply
     comes before the exit event. */
  *reply = json_pack ("{s:b,s:i,s:I}", "ok", 1, "pid", (int) c->st.pid, "startedAt",
                      (json_int_t) c->st.started_ns);
  return 0;
}

int
shim_ctr_kill (const char *id, int sig, kd_error_t *err)
{
  shim_ctr_t *c = find (id);

  if (c == NULL)
    return kd_make_error (err, 0, "container `%s` not found", id);
  if (sig <= 0 || sig >= 65)
    return kd_make_error (err, 0, "invalid signal %d", sig);
  /* Killing an exited container is not an error: stop is idempotent. */
  if (!c->st.running || c->reaped || c->pidfd < 0)
    return 0;
  if (syscall (SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
    return kd_make_error (err, errno, "kill container `%s`", id);
  return 0;
}

int
shim_ctr_delete (const char *id, kd_error_t *err)
{
  shim_ctr_t **pp, *c;

  for (pp = &ctrs; *pp; pp = &(*pp)->next)
    if (strcmp ((*pp)->id, id) == 0)
      break;
  c = *pp;
  if (c == NULL)
    return kd_make_error (err, 0, "container `%s` not found", id);
  if (c->st.running)
    return kd_make_error (err, 0, "container `%s` is running", id);
  *pp = c->next;
  if (unlink (c->state_path) < 0 && errno != ENOENT)
    kd_warn ("unlink `%s`: %s", c->state_path, strerror (errno));
  /* An event of this epoll batch may still point at its pipes. */
  c->next = graveyard;
  graveyard = c;
  return 0;
}

void
shim_ctr_collect (void)
{
  while (graveyard)
    {
      shim_ctr_t *c = graveyard;
      graveyard = c->next;
      ctr_free (c);
    }
}

json_t *
shim_ctr_list (void)
{
  json_t *a = json_array ();

  for (shim_ctr_t *c = ctrs; c; c = c->next)
    json_array_append_new (a, kd_shim_state_to_json (&c->st));
  return a;
}

void
shim_ctr_foreach_exited (void (*fn) (json_t *event))
{
  for (shim_ctr_t *c = ctrs; c; c = c->next)
    if (!c->st.running)
      fn (exit_event (c));
}

static bool
any_running (void)
{
  for (shim_ctr_t *c = ctrs; c; c = c->next)
    if (c->st.running)
      return true;
  return false;
}

void
shim_ctr_kill_all (void)
{
  int64_t deadline = kd_monotonic_ns () + 5 * (int64_t) 1000000000;
  struct timespec tick = { 0, 10 * 1000000 };

  for (shim_ctr_t *c = ctrs; c; c = c->next)
    if (c->st.running && !c->reaped && c->pidfd >= 0)
      syscall (SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
  /* Bounded: a process stuck in D state must not keep the shim forever. */
  while (kd_monotonic_ns () < deadline)
    {
      shim_ctr_reap ();
      for (shim_ctr_t *c = ctrs; c; c = c->next)
        if (c->reaped)
          {
            for (int i = 0; i < 2; i++)
              if (c->pipes[i].fd >= 0 && read_pipe (c, i, 1 << 20))
                close_pipe (c, i);
            if (c->pipes[0].fd < 0 && c->pipes[1].fd < 0)
              finish_exit (c);
          }
      if (!any_running () && waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD)
        break;
      nanosleep (&tick, NULL);
    }
  for (shim_ctr_t *c = ctrs; c; c = c->next)
    if (c->reaped)
      finish_exit (c);
}
