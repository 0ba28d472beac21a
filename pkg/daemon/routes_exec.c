/* POST /exec/<namespace>/<pod>/<container>?command=A&command=B&stdin=true:
   a command in a running container, its output streamed back as frames
   (include/kubeletd/execstream.h). The kubelet's query form and words
   (pkg/kubelet/server getExec, GetExec):

   1. Root peers only (kd_daemon_require_root): exec runs code as the pod.
   2. Unknown pod: 404 "pod does not exist"; a container its spec does not
      name: 404, one without a running instance: 400, both
      `container not found ("c")`. No command: 400.
   3. `kubeletd-shim exec --pod-dir D --id CID -- CMD...` is spawned in a
      session of its own (so one kill reaches it and what it forked), stdout
      and stderr on pipes, stdin on a pipe fed with the request body when
      stdin=true (the server has already buffered it whole, up to its
      request limit), else /dev/null.
   4. Each read from a pipe becomes one frame; when the process is reaped
      and both pipes are at EOF, the exit frame ends the body.
   5. A client that goes away kills the process group at once; the handles
      close once libuv has reaped the process, so no zombie stays. */
#include <signal.h>

#include "daemon-internal.h"
#include "kubeletd/execstream.h"

typedef struct
{
  uv_loop_t *loop;
  kd_podmgr_t *pods;
} exec_route_t;

/* One per daemon; reachable for the life of the process. */
static exec_route_t exec_route;

typedef struct
{
  kd_http_conn_t *conn; /* NULL once the client went away */
  uv_process_t proc;
  uv_pipe_t in, out, err;
  uv_write_t in_req;
  bool has_in;
  char *in_data; /* the request body, alive until its write completes */
  int handles;   /* initialised and not yet closed */
  pid_t pid;
  int exit_code;
  bool exited, out_eof, err_eof, finished;
  char *desc; /* "ns/pod/container" for the log */
} exec_t;

/* ---- query --------------------------------------------------------------- */

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Go's url.QueryUnescape: "+" is a space, "%XX" a byte; -1 on a bad
   escape. */
static int
query_unescape (const char *s, size_t n, char **out)
{
  kd_buf_t b = { 0 };

  kd_buf_puts (&b, "");
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '+')
        kd_buf_putc (&b, ' ');
      else if (s[i] == '%')
        {
          int hi = i + 2 < n ? hexval (s[i + 1]) : -1, lo = i + 2 < n ? hexval (s[i + 2]) : -1;

          if (hi < 0 || lo < 0)
            {
              kd_buf_free (&b);
              return -1;
            }
          kd_buf_putc (&b, (char) (hi * 16 + lo));
          i += 2;
        }
      else
        kd_buf_putc (&b, s[i]);
    }
  *out = kd_buf_steal (&b);
  return 0;
}

typedef struct
{
  char **v; /* NULL-terminated */
  size_t n;
} argv_t;

static void
argv_push (argv_t *a, char *s)
{
  a->v = xrealloc (a->v, (a->n + 2) * sizeof (char *));
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

static void
argv_free (argv_t *a)
{
  for (size_t i = 0; i < a->n; i++)
    free (a->v[i]);
  free (a->v);
  memset (a, 0, sizeof (*a));
}

/* Every value of key, in order. */
static int
query_all (const char *query, const char *key, argv_t *out)
{
  size_t klen = strlen (key);
  const char *p = query;

  while (p && *p)
    {
      const char *amp = strchr (p, '&');
      size_t len = amp ? (size_t) (amp - p) : strlen (p);
      const char *eq = memchr (p, '=', len);
      size_t name_len = eq ? (size_t) (eq - p) : len;
      cleanup_free char *name = NULL;

      if (query_unescape (p, name_len, &name) < 0)
        return -1;
      if (strlen (name) == klen && memcmp (name, key, klen) == 0)
        {
          char *v = NULL;

          if (query_unescape (eq ? eq + 1 : p + len, eq ? len - name_len - 1 : 0, &v) < 0)
            return -1;
          argv_push (out, v);
        }
      p = amp ? amp + 1 : NULL;
    }
  return 0;
}

/* ---- the run ------------------------------------------------------------- */

static void
on_handle_closed (uv_handle_t *h)
{
  exec_t *x = h->data;

  if (--x->handles > 0)
    return;
  free (x->in_data);
  free (x->desc);
  free (x);
}

static void
close_handle (exec_t *x, uv_handle_t *h)
{
  if (!uv_is_closing (h))
    uv_close (h, on_handle_closed);
  (void) x;
}

/* Closes what may be closed: the pipes at once, the process handle only
   once libuv has reaped the child. */
static void
release (exec_t *x)
{
  if (x->has_in)
    close_handle (x, (uv_handle_t *) &x->in);
  close_handle (x, (uv_handle_t *) &x->out);
  close_handle (x, (uv_handle_t *) &x->err);
  if (x->exited || x->pid <= 0)
    close_handle (x, (uv_handle_t *) &x->proc);
}

static void
kill_group (exec_t *x)
{
  if (x->pid <= 0 || x->exited)
    return;
  /* The shim's exec runs in its own session: its pid is its group's. */
  kill (-x->pid, SIGKILL);
  kill (x->pid, SIGKILL);
}

static void
send_frame (exec_t *x, kd_exec_stream_t stream, const char *data, size_t len)
{
  kd_buf_t b = { 0 };

  if (x->conn == NULL)
    return;
  kd_exec_frame_encode (&b, stream, data, len);
  kd_http_stream_write (x->conn, b.s, b.len);
  kd_buf_free (&b);
}

static void
maybe_finish (exec_t *x)
{
  kd_buf_t b = { 0 };

  if (x->finished || !x->exited || !x->out_eof || !x->err_eof)
    return;
  x->finished = true;
  kd_vlog (2, "exec in %s: pid %d exited with %d", x->desc, (int) x->pid, x->exit_code);
  if (x->conn != NULL)
    {
      kd_exec_frame_encode_exit (&b, x->exit_code);
      kd_http_stream_write (x->conn, b.s, b.len);
      kd_buf_free (&b);
      kd_http_stream_end (x->conn);
      x->conn = NULL;
    }
  release (x);
}

static void
on_exit_cb (uv_process_t *p, int64_t status, int term_signal)
{
  exec_t *x = p->data;

  x->exited = true;
  x->exit_code = term_signal ? 128 + term_signal : (int) status;
  if (x->conn == NULL)
    {
      /* The client is gone: everything else is closed already. */
      close_handle (x, (uv_handle_t *) &x->proc);
      return;
    }
  maybe_finish (x);
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  static char scratch[65536];

  /* Each read is framed and copied out before the next one. */
  buf->base = scratch;
  buf->len = sizeof (scratch);
}

static void
on_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  exec_t *x = s->data;
  bool is_out = s == (uv_stream_t *) &x->out;

  if (n > 0)
    {
      send_frame (x, is_out ? KD_EXEC_STDOUT : KD_EXEC_STDERR, buf->base, (size_t) n);
      return;
    }
  if (n == 0)
    return;
  uv_read_stop (s);
  if (is_out)
    x->out_eof = true;
  else
    x->err_eof = true;
  maybe_finish (x);
}

static void
on_stdin_written (uv_write_t *req, int status)
{
  exec_t *x = req->data;

  /* EPIPE when the command never read its input: nothing to tell. Closing
     the pipe is the command's EOF. */
  free (x->in_data);
  x->in_data = NULL;
  close_handle (x, (uv_handle_t *) &x->in);
}

static void
on_client_gone (void *data)
{
  exec_t *x = data;

  kd_info ("exec in %s: the client went away, killing pid %d", x->desc, (int) x->pid);
  x->conn = NULL;
  kill_group (x);
  release (x);
}

static int
spawn (exec_t *x, const kd_podmgr_ctr_t *c, char *const *cmd, size_t n_cmd, bool with_stdin,
       kd_error_t *err)
{
  const char *shim = kd_podmgr_shim_path (exec_route.pods);
  cleanup_free char **args = xcalloc (n_cmd + 8, sizeof (char *));
  size_t n = 0;
  uv_stdio_container_t stdio[3] = {
    { .flags = UV_IGNORE },
    { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *) &x->out },
    { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *) &x->err },
  };
  uv_process_options_t opts = {
    .exit_cb = on_exit_cb,
    .file = shim,
    .flags = UV_PROCESS_DETACHED, /* setsid: one group to kill */
    .stdio_count = 3,
    .stdio = stdio,
  };
  int r;

  args[n++] = (char *) shim;
  args[n++] = (char *) "exec";
  args[n++] = (char *) "--pod-dir";
  args[n++] = c->pod_dir;
  args[n++] = (char *) "--id";
  args[n++] = c->id;
  args[n++] = (char *) "--";
  for (size_t i = 0; i < n_cmd; i++)
    args[n++] = cmd[i];
  args[n] = NULL;
  opts.args = args;

  x->proc.data = x->out.data = x->err.data = x->in.data = x;
  uv_pipe_init (exec_route.loop, &x->out, 0);
  uv_pipe_init (exec_route.loop, &x->err, 0);
  x->handles = 2;
  if (with_stdin)
    {
      uv_pipe_init (exec_route.loop, &x->in, 0);
      x->handles++;
      x->has_in = true;
      stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
      stdio[0].data.stream = (uv_stream_t *) &x->in;
    }
  r = uv_spawn (exec_route.loop, &x->proc, &opts);
  /* The process handle needs closing whether or not the spawn worked. */
  x->handles++;
  if (r < 0)
    return kd_make_error (err, -r, "exec `%s`: %s", shim, uv_strerror (r));
  x->pid = x->proc.pid;
  uv_read_start ((uv_stream_t *) &x->out, on_alloc, on_read);
  uv_read_start ((uv_stream_t *) &x->err, on_alloc, on_read);
  return 0;
}

static void
feed_stdin (exec_t *x, const char *body, size_t len)
{
  uv_buf_t buf;

  if (!x->has_in)
    return;
  if (len == 0)
    {
      close_handle (x, (uv_handle_t *) &x->in);
      return;
    }
  x->in_data = xmalloc (len);
  memcpy (x->in_data, body, len);
  buf = uv_buf_init (x->in_data, (unsigned) len);
  x->in_req.data = x;
  if (uv_write (&x->in_req, (uv_stream_t *) &x->in, &buf, 1, on_stdin_written) < 0)
    close_handle (x, (uv_handle_t *) &x->in);
}

/* ---- the handler --------------------------------------------------------- */

/* Go's strconv.ParseBool; absent or empty is false. */
static int
query_bool (const kd_http_request_t *req, const char *key, bool *v)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "", "0", "f", "F", "FALSE", "false", "False" };
  cleanup_free char *s = kd_http_query_get (req, key);

  *v = false;
  if (s == NULL)
    return 0;
  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    if (strcmp (s, t[i]) == 0)
      return (*v = true), 0;
  for (size_t i = 0; i < KD_ARRAY_SIZE (f); i++)
    if (strcmp (s, f[i]) == 0)
      return 0;
  return -1;
}

static void
handle_exec (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  const char *rest = req->path + strlen ("/exec/");
  const char *s1 = strchr (rest, '/'), *s2 = s1 ? strchr (s1 + 1, '/') : NULL;
  cleanup_free char *ns = NULL, *pod = NULL;
  const char *container;
  argv_t cmd = { 0 };
  kd_podmgr_ctr_t c;
  bool with_stdin, tty;
  kd_error_t err = NULL;
  exec_t *x;
  int r;

  if (s1 == NULL || s1 == rest || s2 == NULL || s2 == s1 + 1 || s2[1] == '\0'
      || strchr (s2 + 1, '/') != NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound",
                              "the server could not find the requested resource");
      return;
    }
  if (!kd_daemon_require_root (conn, req, "exec requires root"))
    return;
  ns = xstrndup (rest, (size_t) (s1 - rest));
  pod = xstrndup (s1 + 1, (size_t) (s2 - s1 - 1));
  container = s2 + 1;

  if (query_bool (req, "stdin", &with_stdin) < 0 || query_bool (req, "tty", &tty) < 0
      || query_all (req->query, "command", &cmd) < 0)
    {
      argv_free (&cmd);
      kd_http_respond_status (conn, 400, "BadRequest", "Unable to decode query.");
      return;
    }
  if (tty)
    {
      argv_free (&cmd);
      kd_http_respond_status (conn, 400, "BadRequest", "tty is not supported");
      return;
    }
  if (cmd.n == 0)
    {
      argv_free (&cmd);
      kd_http_respond_status (conn, 400, "BadRequest",
                              "you must specify at least one command for the container");
      return;
    }

  r = kd_podmgr_container (exec_route.pods, ns, pod, container, &c);
  if (r == KD_PODMGR_NO_POD)
    kd_http_respond_status (conn, 404, "NotFound", "pod does not exist");
  else if (r == KD_PODMGR_NO_CONTAINER)
    kd_http_respond_status (conn, 404, "NotFound", "container not found (\"%s\")", container);
  else if (!c.running)
    kd_http_respond_status (conn, 400, "BadRequest", "container not found (\"%s\")", container);
  if (r < 0 || !c.running)
    {
      kd_podmgr_ctr_free (&c);
      argv_free (&cmd);
      return;
    }

  x = xcalloc (1, sizeof (*x));
  x->desc = xasprintf ("%s/%s/%s", ns, pod, container);
  kd_info ("exec in %s (container %.12s) by peer uid %d (pid %d): %s%s", x->desc, c.id,
           (int) req->peer_uid, (int) req->peer_pid, cmd.v[0], cmd.n > 1 ? " ..." : "");
  if (spawn (x, &c, cmd.v, cmd.n, with_stdin, &err) < 0)
    {
      kd_http_respond_status (conn, 500, "InternalError", "Internal error occurred: %s", err->msg);
      kd_error_release (&err);
      x->pid = -1;
      release (x);
    }
  else
    {
      x->conn = conn;
      kd_http_stream_begin (conn, 200, KD_EXEC_STREAM_CONTENT_TYPE);
      kd_http_on_close (conn, on_client_gone, x);
      feed_stdin (x, req->body, req->body_len);
    }
  kd_podmgr_ctr_free (&c);
  argv_free (&cmd);
}

void
kd_daemon_exec_routes_add (kd_server_t *srv, uv_loop_t *loop, kd_podmgr_t *pods)
{
  exec_route.loop = loop;
  exec_route.pods = pods;
  kd_server_route (srv, "POST", "/exec/", true, handle_exec, &exec_route);
}
