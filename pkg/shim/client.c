/* kubeletd's side of the shim: spawning it, its socket, and noticing its
 * death, all on the libuv loop (see include/kubeletd/shim.h).
 *
 * Start, matching the steps in shim/main.c:
 *  1. uv_spawn `kubeletd-shim start ... --ready-fd 3` with a pipe as fd 3;
 *  2. read "ok\n" or "error: ...\n" from the pipe (until EOF) and wait for
 *     the spawned process to exit (it double-forks, the shim stays);
 *  3. read DIR/shim.pid, open a pidfd for it, connect to DIR/shim.sock;
 *  4. ready (NULL), then send the requests queued meanwhile.
 * Requests carry a sequence number; replies are matched by it, events go to
 * on_exit. EOF on the socket is not yet a death (the shim may have taken a
 * newer connection): the pidfd is polled, and on_lost fires when it becomes
 * readable, i.e. the shim is really gone. */
#include <fcntl.h>
#include <sys/syscall.h>

#include "kubeletd/shim.h"

#define MAX_REPLY (64 * 1024 * 1024)

typedef enum
{
  REQ_CREATE,
  REQ_DONE,
  REQ_STATE,
  REQ_SHUTDOWN,
} req_kind_t;

typedef struct req
{
  struct req *next;
  int64_t seq;
  req_kind_t kind;
  void *cb;
  void *data;
  char *line; /* not yet written (before the connection is up) */
} req_t;

typedef struct
{
  uv_write_t w;
  char *buf;
} write_req_t;

struct kd_shim
{
  uv_loop_t *loop;
  char *pod_dir;
  kd_shim_callbacks_t cbs;
  kd_shim_ready_cb ready;
  void *ready_data;
  bool ready_done;

  uv_process_t proc; /* the spawned intermediate process */
  uv_pipe_t ready_pipe;
  kd_buf_t ready_msg;
  bool ready_eof;
  bool proc_exited;
  int64_t proc_status;

  uv_timer_t defer; /* reports a failure after kd_shim_start returned */
  char *defer_err;

  uv_pipe_t conn;
  uv_connect_t connect_req;
  bool connected;
  kd_buf_t in;

  pid_t pid;
  int pidfd;
  uv_poll_t poll;
  bool shut_down; /* a shutdown succeeded: its death is not a loss */
  bool lost;

  req_t *reqs; /* pending, in order */
  int64_t next_seq;

  /* Handles initialised, and how many close callbacks are outstanding. */
  bool has_proc, has_ready_pipe, has_defer, has_conn, has_poll;
  int closing;
  bool freeing;
};

static void fail_all (kd_shim_t *s, const char *msg);

pid_t
kd_shim_pid (const kd_shim_t *s)
{
  return s->pid;
}

const char *
kd_shim_pod_dir (const kd_shim_t *s)
{
  return s->pod_dir;
}

static void
call_ready (kd_shim_t *s, const char *err)
{
  if (s->ready_done)
    return;
  s->ready_done = true;
  if (s->ready)
    s->ready (s, err, s->ready_data);
}

static void
req_fail (kd_shim_t *s, req_t *r, const char *msg)
{
  switch (r->kind)
    {
    case REQ_CREATE:
      ((kd_shim_create_cb) r->cb) (s, 0, 0, msg, r->data);
      break;
    case REQ_STATE:
      ((kd_shim_state_cb) r->cb) (s, NULL, 0, msg, r->data);
      break;
    case REQ_DONE:
    case REQ_SHUTDOWN:
      ((kd_shim_done_cb) r->cb) (s, msg, r->data);
      break;
    }
}

static void
req_free (req_t *r)
{
  free (r->line);
  free (r);
}

/* Fails every pending request; callbacks may queue new ones, which fail
   too (the connection is gone). */
static void
fail_all (kd_shim_t *s, const char *msg)
{
  while (s->reqs)
    {
      req_t *r = s->reqs;
      s->reqs = r->next;
      if (r->cb)
        req_fail (s, r, msg);
      req_free (r);
    }
}

static void
on_write (uv_write_t *w, int status)
{
  write_req_t *wr = (write_req_t *) w;
  free (wr->buf);
  free (wr);
}

static void
send_line (kd_shim_t *s, char *line)
{
  write_req_t *wr = xcalloc (1, sizeof (*wr));
  uv_buf_t b;

  wr->buf = line;
  b = uv_buf_init (line, (unsigned) strlen (line));
  if (uv_write (&wr->w, (uv_stream_t *) &s->conn, &b, 1, on_write) < 0)
    {
      /* The read side sees the broken connection and fails the request. */
      free (wr->buf);
      free (wr);
    }
}

static void
on_closed (uv_handle_t *h)
{
  kd_shim_t *s = h->data;

  if (--s->closing > 0 || !s->freeing)
    return;
  if (s->pidfd >= 0)
    close (s->pidfd);
  kd_buf_free (&s->ready_msg);
  kd_buf_free (&s->in);
  free (s->defer_err);
  free (s->pod_dir);
  free (s);
}

static void
close_handle (kd_shim_t *s, uv_handle_t *h, bool *has)
{
  if (!*has)
    return;
  *has = false;
  s->closing++;
  uv_close (h, on_closed);
}

/* ---- death of the shim ------------------------------------------------ */

static void
report_lost (kd_shim_t *s)
{
  if (s->lost || s->freeing)
    return;
  s->lost = true;
  if (!s->shut_down && s->cbs.on_lost)
    s->cbs.on_lost (s, s->cbs.data);
}

static void
on_pidfd (uv_poll_t *p, int status, int events)
{
  kd_shim_t *s = p->data;

  uv_poll_stop (p);
  report_lost (s);
}

static void
connection_gone (kd_shim_t *s)
{
  close_handle (s, (uv_handle_t *) &s->conn, &s->has_conn);
  s->connected = false;
  fail_all (s, "shim connection closed");
  if (s->freeing)
    return;
  if (s->pidfd < 0)
    {
      report_lost (s);
      return;
    }
  /* EOF alone may mean a newer client took over: wait for the process. */
  if (!s->has_poll)
    {
      if (uv_poll_init (s->loop, &s->poll, s->pidfd) < 0)
        {
          report_lost (s);
          return;
        }
      s->poll.data = s;
      s->has_poll = true;
    }
  uv_poll_start (&s->poll, UV_READABLE, on_pidfd);
}

/* ---- replies and events ------------------------------------------------- */

static void
dispatch_reply (kd_shim_t *s, req_t *r, json_t *j)
{
  const char *err = NULL;

  if (!json_is_true (json_object_get (j, "ok")))
    {
      err = json_string_value (json_object_get (j, "error"));
      if (err == NULL)
        err = "shim request failed";
    }
  switch (r->kind)
    {
    case REQ_CREATE:
      {
        json_int_t pid = json_integer_value (json_object_get (j, "pid"));
        json_int_t started = json_integer_value (json_object_get (j, "startedAt"));
        ((kd_shim_create_cb) r->cb) (s, err ? 0 : (pid_t) pid, err ? 0 : started, err, r->data);
        break;
      }
    case REQ_SHUTDOWN:
      if (err == NULL)
        s->shut_down = true;
      ((kd_shim_done_cb) r->cb) (s, err, r->data);
      break;
    case REQ_DONE:
      ((kd_shim_done_cb) r->cb) (s, err, r->data);
      break;
    case REQ_STATE:
      {
        json_t *a = json_object_get (j, "containers");
        kd_shim_ctr_state_t *st = NULL;
        size_t n = 0;
        kd_error_t perr = NULL;

        if (err == NULL && !json_is_array (a))
          err = "shim state reply without `containers`";
        if (err == NULL)
          {
            st = xcalloc (json_array_size (a) + 1, sizeof (*st));
            for (; n < json_array_size (a); n++)
              if (kd_shim_state_from_json (json_array_get (a, n), &st[n], &perr) < 0)
                break;
          }
        ((kd_shim_state_cb) r->cb) (s, perr ? NULL : st, perr ? 0 : n, perr ? perr->msg : err,
                                    r->data);
        kd_error_release (&perr);
        for (size_t i = 0; st && i < n; i++)
          kd_shim_state_free (&st[i]);
        free (st);
        break;
      }
    }
}

static void
handle_line (kd_shim_t *s, const char *line, size_t len)
{
  json_error_t jerr;
  json_t *j = json_loadb (line, len, 0, &jerr);
  json_t *seq;

  if (!json_is_object (j))
    {
      kd_warn ("shim %s: unparsable line from the shim", s->pod_dir);
      json_decref (j);
      return;
    }
  if (kd_str_eq (json_string_value (json_object_get (j, "event")), "exit"))
    {
      kd_shim_ctr_state_t st;
      kd_error_t err = NULL;
      if (kd_shim_state_from_json (j, &st, &err) < 0)
        kd_error_log_release (&err);
      else
        {
          if (s->cbs.on_exit)
            s->cbs.on_exit (s, &st, s->cbs.data);
          kd_shim_state_free (&st);
        }
    }
  else if ((seq = json_object_get (j, "seq")) != NULL && json_is_integer (seq))
    {
      req_t **pp;
      for (pp = &s->reqs; *pp; pp = &(*pp)->next)
        if ((*pp)->seq == json_integer_value (seq))
          break;
      if (*pp)
        {
          req_t *r = *pp;
          *pp = r->next;
          dispatch_reply (s, r, j);
          req_free (r);
        }
    }
  else
    kd_warn ("shim %s: %s", s->pod_dir,
             json_string_value (json_object_get (j, "error")) ?: "unexpected line");
  json_decref (j);
}

static void
alloc_cb (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = xmalloc (suggested);
  buf->len = suggested;
}

static void
on_conn_read (uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
  kd_shim_t *s = st->data;
  size_t start = 0;

  if (n < 0)
    {
      free (buf->base);
      connection_gone (s);
      return;
    }
  kd_buf_append (&s->in, buf->base, (size_t) n);
  free (buf->base);
  while (s->in.len > start && s->connected)
    {
      char *nl = memchr (s->in.s + start, '\n', s->in.len - start);
      if (nl == NULL)
        break;
      handle_line (s, s->in.s + start, (size_t) (nl - (s->in.s + start)));
      start = (size_t) (nl - s->in.s) + 1;
      if (s->freeing)
        return;
    }
  if (!s->connected)
    return;
  if (s->in.len - start > MAX_REPLY)
    {
      kd_warn ("shim %s: reply over %d bytes", s->pod_dir, MAX_REPLY);
      connection_gone (s);
      return;
    }
  if (s->in.len > 0)
    {
      memmove (s->in.s, s->in.s + start, s->in.len - start);
      s->in.len -= start;
      s->in.s[s->in.len] = '\0';
    }
}

/* ---- connecting ------------------------------------------------------- */

static void
on_connect (uv_connect_t *c, int status)
{
  kd_shim_t *s = c->data;

  if (s->freeing)
    return;
  if (status < 0)
    {
      cleanup_free char *msg
          = xasprintf ("connect to the shim of `%s`: %s", s->pod_dir, uv_strerror (status));
      close_handle (s, (uv_handle_t *) &s->conn, &s->has_conn);
      fail_all (s, msg);
      call_ready (s, msg);
      return;
    }
  s->connected = true;
  uv_read_start ((uv_stream_t *) &s->conn, alloc_cb, on_conn_read);
  /* 4. */
  call_ready (s, NULL);
  for (req_t *r = s->reqs; r && s->connected; r = r->next)
    if (r->line)
      send_line (s, steal_pointer (&r->line));
}

static void
on_defer (uv_timer_t *t)
{
  kd_shim_t *s = t->data;
  cleanup_free char *msg = steal_pointer (&s->defer_err);

  fail_all (s, msg);
  call_ready (s, msg);
}

static void
fail_later (kd_shim_t *s, const char *msg)
{
  free (s->defer_err);
  s->defer_err = xstrdup (msg);
  if (!s->has_defer)
    {
      uv_timer_init (s->loop, &s->defer);
      s->defer.data = s;
      s->has_defer = true;
    }
  uv_timer_start (&s->defer, on_defer, 0, 0);
}

/* 3. Returns an error message (to free) or NULL when connecting. */
static char *
connect_shim (kd_shim_t *s)
{
  cleanup_free char *pidfile = xasprintf ("%s/shim.pid", s->pod_dir);
  cleanup_free char *sock = xasprintf ("%s/shim.sock", s->pod_dir);
  cleanup_free char *data = NULL;
  kd_error_t err = NULL;
  char *msg;
  int r;

  if (kd_read_file (pidfile, 64, &data, NULL, &err) < 0)
    {
      msg = xasprintf ("shim of `%s` is not running: %s", s->pod_dir, err->msg);
      kd_error_release (&err);
      return msg;
    }
  s->pid = (pid_t) atoi (data);
  if (s->pid <= 0)
    return xasprintf ("shim of `%s`: bad pid file", s->pod_dir);
  s->pidfd = (int) syscall (SYS_pidfd_open, s->pid, 0);
  if (s->pidfd < 0)
    return xasprintf ("shim of `%s` (pid %d) is not running: %s", s->pod_dir, (int) s->pid,
                      strerror (errno));
  fcntl (s->pidfd, F_SETFD, FD_CLOEXEC);

  r = uv_pipe_init (s->loop, &s->conn, 0);
  if (r < 0)
    return xasprintf ("shim of `%s`: %s", s->pod_dir, uv_strerror (r));
  s->conn.data = s;
  s->has_conn = true;
  s->connect_req.data = s;
  uv_pipe_connect (&s->connect_req, &s->conn, sock, on_connect);
  return NULL;
}

static kd_shim_t *
shim_new (uv_loop_t *loop, const char *pod_dir, const kd_shim_callbacks_t *cbs,
          kd_shim_ready_cb ready, void *data)
{
  kd_shim_t *s = xcalloc (1, sizeof (*s));

  s->loop = loop;
  s->pod_dir = xstrdup (pod_dir);
  if (cbs)
    s->cbs = *cbs;
  s->ready = ready;
  s->ready_data = data;
  s->pidfd = -1;
  s->next_seq = 1;
  return s;
}

kd_shim_t *
kd_shim_connect (uv_loop_t *loop, const char *pod_dir, const kd_shim_callbacks_t *cbs,
                 kd_shim_ready_cb ready, void *data)
{
  kd_shim_t *s = shim_new (loop, pod_dir, cbs, ready, data);
  cleanup_free char *msg = connect_shim (s);

  if (msg)
    fail_later (s, msg);
  return s;
}

/* ---- starting ----------------------------------------------------------- */

/* 2. Both the message (or EOF) and the exit of the spawned process. */
static void
start_step (kd_shim_t *s)
{
  cleanup_free char *msg = NULL;
  const char *m = s->ready_msg.s ? s->ready_msg.s : "";

  if (s->freeing || s->ready_done || !s->proc_exited || !s->ready_eof)
    return;
  if (strncmp (m, "ok", 2) == 0)
    msg = connect_shim (s);
  else if (strncmp (m, "error: ", 7) == 0)
    msg = xstrndup (m + 7, strcspn (m + 7, "\n"));
  else
    msg = xasprintf ("shim exited with status %lld without reporting readiness",
                     (long long) s->proc_status);
  if (msg)
    {
      fail_all (s, msg);
      call_ready (s, msg);
    }
}

static void
on_ready_read (uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
  kd_shim_t *s = st->data;

  if (n > 0 && s->ready_msg.len < 4096)
    kd_buf_append (&s->ready_msg, buf->base, (size_t) n);
  free (buf->base);
  if (n >= 0 && !(s->ready_msg.s && strchr (s->ready_msg.s, '\n')))
    return;
  /* A full line or EOF: the pipe has nothing more to say. */
  s->ready_eof = true;
  close_handle (s, (uv_handle_t *) &s->ready_pipe, &s->has_ready_pipe);
  start_step (s);
}

static void
on_proc_exit (uv_process_t *p, int64_t status, int sig)
{
  kd_shim_t *s = p->data;

  s->proc_exited = true;
  s->proc_status = sig ? 128 + sig : status;
  close_handle (s, (uv_handle_t *) &s->proc, &s->has_proc);
  start_step (s);
}

kd_shim_t *
kd_shim_start (uv_loop_t *loop, const kd_shim_opts_t *opts, const kd_shim_callbacks_t *cbs,
               kd_shim_ready_cb ready, void *data)
{
  kd_shim_t *s = shim_new (loop, opts->pod_dir, cbs, ready, data);
  uv_process_options_t po = { 0 };
  uv_stdio_container_t stdio[4];
  char **args = NULL;
  size_t n = 0, cap = 0;
  int r;

#define ARG(x)                                                                                     \
  do                                                                                               \
    {                                                                                              \
      kd_grow ((void **) &args, &cap, n + 1, sizeof (*args));                                      \
      args[n++] = (char *) (x);                                                                    \
    }                                                                                              \
  while (0)
  ARG (opts->shim_path);
  ARG ("start");
  ARG ("--pod-dir");
  ARG (opts->pod_dir);
  if (opts->hostname)
    {
      ARG ("--hostname");
      ARG (opts->hostname);
    }
  if (opts->new_net)
    ARG ("--new-net");
  if (opts->new_ipc)
    ARG ("--new-ipc");
  if (opts->new_uts)
    ARG ("--new-uts");
  for (size_t i = 0; opts->cgroup_procs && opts->cgroup_procs[i]; i++)
    {
      ARG ("--cgroup-procs");
      ARG (opts->cgroup_procs[i]);
    }
  ARG ("--ready-fd");
  ARG ("3");
  args[n] = NULL;
#undef ARG

  /* 1. */
  uv_pipe_init (loop, &s->ready_pipe, 0);
  s->ready_pipe.data = s;
  s->has_ready_pipe = true;
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  stdio[3].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[3].data.stream = (uv_stream_t *) &s->ready_pipe;
  po.file = opts->shim_path;
  po.args = args;
  po.stdio = stdio;
  po.stdio_count = 4;
  po.exit_cb = on_proc_exit;
  s->proc.data = s;
  r = uv_spawn (loop, &s->proc, &po);
  free (args);
  if (r < 0)
    {
      cleanup_free char *msg = xasprintf ("spawn `%s`: %s", opts->shim_path, uv_strerror (r));
      /* uv_spawn initialised the handle even on failure: it must be closed. */
      s->has_proc = true;
      close_handle (s, (uv_handle_t *) &s->proc, &s->has_proc);
      close_handle (s, (uv_handle_t *) &s->ready_pipe, &s->has_ready_pipe);
      fail_later (s, msg);
      return s;
    }
  s->has_proc = true;
  uv_read_start ((uv_stream_t *) &s->ready_pipe, alloc_cb, on_ready_read);
  return s;
}

/* ---- requests --------------------------------------------------------- */

static void
submit (kd_shim_t *s, req_kind_t kind, json_t *req, void *cb, void *data)
{
  req_t *r = xcalloc (1, sizeof (*r)), **tail;
  char *body;

  r->seq = s->next_seq++;
  r->kind = kind;
  r->cb = cb;
  r->data = data;
  json_object_set_new (req, "seq", json_integer (r->seq));
  body = json_dumps (req, JSON_COMPACT);
  json_decref (req);
  r->line = xasprintf ("%s\n", body);
  free (body);

  if (s->freeing || s->lost || (s->ready_done && !s->connected))
    {
      req_fail (s, r, "shim connection closed");
      req_free (r);
      return;
    }
  for (tail = &s->reqs; *tail; tail = &(*tail)->next)
    ;
  *tail = r;
  if (s->connected)
    send_line (s, steal_pointer (&r->line));
}

void
kd_shim_create (kd_shim_t *s, const char *cid, kd_shim_create_cb cb, void *data)
{
  submit (s, REQ_CREATE, json_pack ("{s:s,s:s}", "op", "create", "id", cid), cb, data);
}

void
kd_shim_kill (kd_shim_t *s, const char *cid, int sig, kd_shim_done_cb cb, void *data)
{
  submit (s, REQ_DONE, json_pack ("{s:s,s:s,s:i}", "op", "kill", "id", cid, "signal", sig), cb,
          data);
}

void
kd_shim_state (kd_shim_t *s, kd_shim_state_cb cb, void *data)
{
  submit (s, REQ_STATE, json_pack ("{s:s}", "op", "state"), cb, data);
}

void
kd_shim_delete (kd_shim_t *s, const char *cid, kd_shim_done_cb cb, void *data)
{
  submit (s, REQ_DONE, json_pack ("{s:s,s:s}", "op", "delete", "id", cid), cb, data);
}

void
kd_shim_shutdown (kd_shim_t *s, kd_shim_done_cb cb, void *data)
{
  submit (s, REQ_SHUTDOWN, json_pack ("{s:s}", "op", "shutdown"), cb, data);
}

void
kd_shim_free (kd_shim_t *s)
{
  if (s == NULL || s->freeing)
    return;
  /* Callbacks first, while the handle is still whole; then no more. */
  fail_all (s, "shim connection closed");
  call_ready (s, "shim connection closed");
  s->freeing = true;
  fail_all (s, "shim connection closed");
  s->connected = false;
  /* Counts as one pending close so that on_closed frees only at the end. */
  s->closing++;
  close_handle (s, (uv_handle_t *) &s->proc, &s->has_proc);
  close_handle (s, (uv_handle_t *) &s->ready_pipe, &s->has_ready_pipe);
  close_handle (s, (uv_handle_t *) &s->defer, &s->has_defer);
  close_handle (s, (uv_handle_t *) &s->conn, &s->has_conn);
  close_handle (s, (uv_handle_t *) &s->poll, &s->has_poll);
  s->proc.data = s->ready_pipe.data = s->defer.data = s->conn.data = s->poll.data = s;
  if (--s->closing == 0)
    {
      /* Nothing was open. */
      s->closing = 1;
      on_closed ((uv_handle_t *) &s->proc);
    }
}
