/* exec: one `kubeletd-shim exec --pod-dir D --id CID -- CMD...` run, the
   way the kubelet runs a probe or hook command through the CRI's ExecSync.

   The client runs in its own session so that the timeout kills it and
   whatever it started (kill (-pid)). The process handle stays open until
   libuv has reaped the child, even after a timeout or a cancel, so no
   zombie is left behind; the result of a timed out run is reported at the
   deadline, without waiting for that. */
#include <signal.h>

#include "probe-internal.h"

/* pkg/probe/exec maxReadLength */
#define EXEC_MAX_OUTPUT (10 * 1024)

typedef struct
{
  kd_attempt_t base;
  uv_process_t proc;
  uv_pipe_t out, err;
  uv_timer_t timer;
  kd_buf_t out_buf, err_buf;
  kd_exec_cb cb;
  void *data;
  int open_handles;
  int pid;
  int exit_code;
  bool exited, out_eof, err_eof;
  bool reported;     /* cb called or cancelled: no more callbacks */
  char *spawn_error; /* reported from the loop when uv_spawn failed */
} exec_run_t;

char *
kd_exec_join (const kd_action_t *a, const char *sep)
{
  kd_buf_t b = { 0 };

  kd_buf_puts (&b, "");
  for (size_t i = 0; i < a->argc; i++)
    {
      if (i)
        kd_buf_puts (&b, sep);
      kd_buf_puts (&b, a->argv[i]);
    }
  return kd_buf_steal (&b);
}

static void
on_close (uv_handle_t *h)
{
  exec_run_t *r = h->data;
  if (--r->open_handles == 0)
    {
      kd_buf_free (&r->out_buf);
      kd_buf_free (&r->err_buf);
      free (r->spawn_error);
      free (r);
    }
}

static void
close_if (uv_handle_t *h)
{
  if (!uv_is_closing (h))
    uv_close (h, on_close);
}

/* Closes what can be closed now; the process handle only once reaped. */
static void
maybe_close (exec_run_t *r)
{
  if (!r->reported)
    return;
  close_if ((uv_handle_t *) &r->out);
  close_if ((uv_handle_t *) &r->err);
  close_if ((uv_handle_t *) &r->timer);
  if (r->exited || r->pid <= 0)
    close_if ((uv_handle_t *) &r->proc);
}

static void
kill_group (exec_run_t *r)
{
  if (r->pid > 0 && !r->exited)
    {
      kill (-r->pid, SIGKILL);
      kill (r->pid, SIGKILL);
    }
}

static void
report (exec_run_t *r, bool timed_out, const char *spawn_error)
{
  kd_buf_t combined = { 0 };

  if (r->reported)
    return;
  r->reported = true;
  kd_buf_puts (&combined, "");
  if (r->out_buf.len)
    kd_buf_append (&combined, r->out_buf.s, r->out_buf.len);
  if (r->err_buf.len)
    kd_buf_append (&combined, r->err_buf.s, r->err_buf.len);
  if (combined.len > EXEC_MAX_OUTPUT)
    {
      combined.len = EXEC_MAX_OUTPUT;
      combined.s[combined.len] = '\0';
    }
  kd_exec_result_t res = {
    .spawn_error = spawn_error,
    .timed_out = timed_out,
    .exit_code = r->exit_code,
    .stderr_text = r->err_buf.s ? r->err_buf.s : "",
    .output = combined.s,
  };
  r->cb (r->data, &res);
  kd_buf_free (&combined);
  maybe_close (r);
}

static void
check_done (exec_run_t *r)
{
  if (r->exited && r->out_eof && r->err_eof)
    report (r, false, NULL);
}

static void
on_proc_exit (uv_process_t *p, int64_t status, int term_signal)
{
  exec_run_t *r = p->data;
  r->exited = true;
  r->exit_code = term_signal ? 128 + term_signal : (int) status;
  if (r->reported)
    {
      maybe_close (r);
      return;
    }
  check_done (r);
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  static char scratch[16384];
  (void) h;
  (void) suggested;
  /* Reads are copied out at once; libuv reads on the one loop thread. */
  buf->base = scratch;
  buf->len = sizeof (scratch);
}

static void
on_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  exec_run_t *r = s->data;
  bool is_out = s == (uv_stream_t *) &r->out;
  kd_buf_t *b = is_out ? &r->out_buf : &r->err_buf;

  if (n > 0)
    {
      size_t room = b->len < EXEC_MAX_OUTPUT ? EXEC_MAX_OUTPUT - b->len : 0;
      size_t take = (size_t) n < room ? (size_t) n : room;
      if (take)
        kd_buf_append (b, buf->base, take);
      return;
    }
  if (n == 0)
    return;
  /* EOF or an error: this stream is done. */
  uv_read_stop (s);
  if (is_out)
    r->out_eof = true;
  else
    r->err_eof = true;
  if (!r->reported)
    check_done (r);
}

static void
on_timeout (uv_timer_t *t)
{
  exec_run_t *r = t->data;
  if (r->spawn_error)
    {
      report (r, false, r->spawn_error);
      return;
    }
  kill_group (r);
  report (r, true, NULL);
}

static void
exec_cancel (kd_attempt_t *base)
{
  exec_run_t *r = (exec_run_t *) base;
  kill_group (r);
  r->reported = true;
  maybe_close (r);
}

kd_attempt_t *
kd_exec_run (uv_loop_t *loop, const kd_action_t *a, uint64_t timeout_ms, kd_exec_cb cb, void *data)
{
  exec_run_t *r = xcalloc (1, sizeof (*r));
  size_t n = 0;
  cleanup_free char **args = xcalloc (a->argc + 8, sizeof (char *));
  const char *shim = a->shim_path ? a->shim_path : "kubeletd-shim";
  int ret;

  r->base.cancel = exec_cancel;
  r->cb = cb;
  r->data = data;
  r->proc.data = r->out.data = r->err.data = r->timer.data = r;
  uv_pipe_init (loop, &r->out, 0);
  uv_pipe_init (loop, &r->err, 0);
  uv_timer_init (loop, &r->timer);
  r->open_handles = 4;

  args[n++] = (char *) shim;
  args[n++] = (char *) "exec";
  args[n++] = (char *) "--pod-dir";
  args[n++] = a->pod_dir ? a->pod_dir : (char *) "";
  args[n++] = (char *) "--id";
  args[n++] = a->container_id ? a->container_id : (char *) "";
  args[n++] = (char *) "--";
  for (size_t i = 0; i < a->argc; i++)
    args[n++] = a->argv[i];
  args[n] = NULL;

  uv_stdio_container_t stdio[3] = {
    { .flags = UV_IGNORE },
    { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *) &r->out },
    { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *) &r->err },
  };
  uv_process_options_t opts = {
    .exit_cb = on_proc_exit,
    .file = shim,
    .args = args,
    .flags = UV_PROCESS_DETACHED,
    .stdio_count = 3,
    .stdio = stdio,
  };
  ret = uv_spawn (loop, &r->proc, &opts);
  if (ret < 0)
    {
      /* Reported from the loop, never from inside the start call. */
      r->pid = -1;
      r->exit_code = -1;
      r->spawn_error = xasprintf ("exec `%s`: %s", shim, uv_strerror (ret));
      uv_timer_start (&r->timer, on_timeout, 0, 0);
      return &r->base;
    }
  r->pid = r->proc.pid;
  uv_read_start ((uv_stream_t *) &r->out, on_alloc, on_read);
  uv_read_start ((uv_stream_t *) &r->err, on_alloc, on_read);
  if (timeout_ms > 0)
    uv_timer_start (&r->timer, on_timeout, timeout_ms, 0);
  return &r->base;
}
