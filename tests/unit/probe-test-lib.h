/* Shared by the probe tests: a tiny HTTP/1.1 server on the test's loop
   (status codes, delays and redirects by path; it records what it was sent),
   loop helpers, and one-attempt helpers over the probe engines. */
#ifndef KD_PROBE_TEST_LIB_H
#define KD_PROBE_TEST_LIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "../../pkg/probe/probe-internal.h"
#include "kubeletd/probe.h"

#define KD_TEST_UNUSED __attribute__ ((unused))

/* ---- a tiny HTTP/1.1 server on the test's loop --------------------------- */

typedef struct hconn
{
  uv_tcp_t tcp;
  kd_buf_t in;
  bool answered;
  struct hconn *next;
} hconn_t;

static struct
{
  uv_loop_t *loop;
  uv_tcp_t listener;
  int port;
  int requests;
  char last_head[4096];
  char last_path[256];
  int seq[16];
  int seq_n, seq_i;
  hconn_t *conns;
} srv;

static KD_TEST_UNUSED void
hconn_closed (uv_handle_t *h)
{
  hconn_t *c = h->data;
  hconn_t **pp = &srv.conns;
  while (*pp && *pp != c)
    pp = &(*pp)->next;
  if (*pp)
    *pp = c->next;
  kd_buf_free (&c->in);
  free (c);
}

static KD_TEST_UNUSED void
hconn_close (hconn_t *c)
{
  if (!uv_is_closing ((uv_handle_t *) &c->tcp))
    uv_close ((uv_handle_t *) &c->tcp, hconn_closed);
}

static KD_TEST_UNUSED void
hwrite_done (uv_write_t *w, int status)
{
  hconn_t *c = w->handle->data;
  free (w->data);
  free (w);
  hconn_close (c);
}

static KD_TEST_UNUSED void
hrespond (hconn_t *c, int code, const char *extra, const char *body)
{
  uv_write_t *w = xmalloc (sizeof (*w));
  char *resp = xasprintf ("HTTP/1.1 %d Whatever\r\nContent-Length: %zu\r\nConnection: "
                          "close\r\n%s\r\n%s",
                          code, strlen (body), extra, body);
  uv_buf_t b = uv_buf_init (resp, (unsigned) strlen (resp));
  w->data = resp;
  uv_write (w, (uv_stream_t *) &c->tcp, &b, 1, hwrite_done);
}

static KD_TEST_UNUSED void
hhandle (hconn_t *c)
{
  char path[256] = "";
  sscanf (c->in.s, "GET %255s", path);
  srv.requests++;
  snprintf (srv.last_head, sizeof (srv.last_head), "%s", c->in.s);
  snprintf (srv.last_path, sizeof (srv.last_path), "%s", path);
  c->answered = true;

  if (strcmp (path, "/slow") == 0)
    return; /* never answers */
  if (strcmp (path, "/ok") == 0)
    hrespond (c, 200, "", "ok");
  else if (strcmp (path, "/fail") == 0)
    hrespond (c, 500, "", "boom");
  else if (strcmp (path, "/seq") == 0)
    hrespond (c, srv.seq_i < srv.seq_n ? srv.seq[srv.seq_i++] : 200, "", "");
  else if (strcmp (path, "/redir-same") == 0)
    hrespond (c, 302, "Location: /ok\r\n", "");
  else if (strcmp (path, "/redir-other") == 0)
    {
      cleanup_free char *loc = xasprintf ("Location: http://localhost:%d/ok\r\n", srv.port);
      hrespond (c, 302, loc, "moved");
    }
  else if (strcmp (path, "/loop") == 0)
    hrespond (c, 302, "Location: /loop\r\n", "");
  else if (strcmp (path, "/big") == 0)
    {
      cleanup_free char *big = xmalloc (20001);
      memset (big, 'x', 20000);
      big[20000] = '\0';
      hrespond (c, 200, "", big);
    }
  else
    hrespond (c, 404, "", "not found");
}

static KD_TEST_UNUSED void
halloc (uv_handle_t *h, size_t s, uv_buf_t *b)
{
  b->base = xmalloc (4096);
  b->len = 4096;
}

static KD_TEST_UNUSED void
hread (uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
  hconn_t *c = s->data;
  if (n > 0)
    {
      kd_buf_append (&c->in, b->base, (size_t) n);
      if (!c->answered && strstr (c->in.s, "\r\n\r\n"))
        hhandle (c);
    }
  else if (n < 0)
    hconn_close (c);
  free (b->base);
}

static KD_TEST_UNUSED void
haccept (uv_stream_t *l, int status)
{
  hconn_t *c = xcalloc (1, sizeof (*c));
  uv_tcp_init (srv.loop, &c->tcp);
  c->tcp.data = c;
  c->next = srv.conns;
  srv.conns = c;
  if (uv_accept (l, (uv_stream_t *) &c->tcp) == 0)
    uv_read_start ((uv_stream_t *) &c->tcp, halloc, hread);
  else
    hconn_close (c);
}

static KD_TEST_UNUSED int
listen_on (uv_loop_t *loop, uv_tcp_t *t, uv_connection_cb cb)
{
  struct sockaddr_in a;
  struct sockaddr_storage got;
  int len = sizeof (got);

  uv_ip4_addr ("127.0.0.1", 0, &a);
  uv_tcp_init (loop, t);
  assert_int_equal (uv_tcp_bind (t, (struct sockaddr *) &a, 0), 0);
  assert_int_equal (uv_listen ((uv_stream_t *) t, 16, cb), 0);
  uv_tcp_getsockname (t, (struct sockaddr *) &got, &len);
  return ntohs (((struct sockaddr_in *) &got)->sin_port);
}

static KD_TEST_UNUSED void
srv_start (uv_loop_t *loop)
{
  memset (&srv, 0, sizeof (srv));
  srv.loop = loop;
  srv.port = listen_on (loop, &srv.listener, haccept);
}

static KD_TEST_UNUSED void
srv_stop (void)
{
  for (hconn_t *c = srv.conns; c; c = c->next)
    hconn_close (c);
  uv_close ((uv_handle_t *) &srv.listener, NULL);
}

/* A port nobody listens on. */
static KD_TEST_UNUSED int
closed_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof (a);
  assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof (a)), 0);
  getsockname (fd, (struct sockaddr *) &a, &len);
  close (fd);
  return ntohs (a.sin_port);
}

/* ---- loop helpers -------------------------------------------------------- */

static KD_TEST_UNUSED void
on_guard (uv_timer_t *t)
{
  fail_msg ("the loop ran too long");
}

/* Runs the loop until *flag or timeout_ms. */
static KD_TEST_UNUSED void
run_until (uv_loop_t *loop, bool *flag, uint64_t timeout_ms)
{
  uv_timer_t guard;
  uv_timer_init (loop, &guard);
  uv_timer_start (&guard, on_guard, timeout_ms, 0);
  while (!*flag)
    uv_run (loop, UV_RUN_ONCE);
  uv_close ((uv_handle_t *) &guard, NULL);
  uv_run (loop, UV_RUN_NOWAIT);
}

static KD_TEST_UNUSED void
on_sleep_done (uv_timer_t *t)
{
  *(bool *) t->data = true;
}

/* Runs the loop for ms milliseconds. */
static KD_TEST_UNUSED void
run_for (uv_loop_t *loop, uint64_t ms)
{
  bool done = false;
  uv_timer_t t;
  uv_timer_init (loop, &t);
  t.data = &done;
  uv_timer_start (&t, on_sleep_done, ms, 0);
  while (!done)
    uv_run (loop, UV_RUN_ONCE);
  uv_close ((uv_handle_t *) &t, NULL);
  uv_run (loop, UV_RUN_NOWAIT);
}

static KD_TEST_UNUSED void
loop_finish (uv_loop_t *loop)
{
  /* Let close callbacks run, then everything must be gone. */
  for (int i = 0; i < 10; i++)
    uv_run (loop, UV_RUN_NOWAIT);
  int r = uv_loop_close (loop);
  if (r != 0)
    uv_print_all_handles (loop, stderr);
  assert_int_equal (r, 0);
}

/* ---- one attempt --------------------------------------------------------- */

typedef struct
{
  bool done;
  kd_outcome_t outcome;
  bool errored;
  char *output;
  uint64_t at;
} attempt_res_t;

static uv_loop_t *cur_loop;

static KD_TEST_UNUSED void
on_attempt (void *data, kd_outcome_t o, bool errored, const char *output)
{
  attempt_res_t *r = data;
  assert_false (r->done);
  r->done = true;
  r->outcome = o;
  r->errored = errored;
  r->output = xstrdup (output);
  r->at = uv_now (cur_loop);
}

static KD_TEST_UNUSED kd_http_get_action_t http_get;
static KD_TEST_UNUSED kd_tcp_socket_action_t tcp_sock;
static KD_TEST_UNUSED kd_exec_action_t exec_act;
static KD_TEST_UNUSED kd_grpc_action_t grpc_act;
static KD_TEST_UNUSED kd_sleep_action_t sleep_act;
static kd_container_port_t ctr_ports[1];
static kd_container_t ctr;
static char shim_script[64];

static KD_TEST_UNUSED kd_handler_t
http_handler (const char *path, int port)
{
  memset (&http_get, 0, sizeof (http_get));
  http_get.path = (char *) path;
  http_get.port.set = true;
  http_get.port.i = port;
  http_get.scheme = (char *) "HTTP";
  return (kd_handler_t){ .http_get = &http_get };
}

static KD_TEST_UNUSED kd_handler_t
exec_handler (const char *script)
{
  static char *argv[4];
  argv[0] = (char *) "sh";
  argv[1] = (char *) "-c";
  argv[2] = (char *) script;
  exec_act.command.v = argv;
  exec_act.command.n = 3;
  return (kd_handler_t){ .exec = &exec_act };
}

static KD_TEST_UNUSED kd_probe_target_t
target (void)
{
  memset (&ctr, 0, sizeof (ctr));
  ctr.name = (char *) "app";
  ctr_ports[0].name = (char *) "web";
  ctr_ports[0].container_port = srv.port;
  ctr.ports = ctr_ports;
  ctr.n_ports = 1;
  return (kd_probe_target_t){
    .pod_ip = "127.0.0.1",
    .shim_path = shim_script,
    .pod_dir = "/nonexistent",
    .container_id = "0123",
    .container = &ctr,
    .pod_full_name = "web_default(1234)",
  };
}

static KD_TEST_UNUSED void
attempt (uv_loop_t *loop, const kd_handler_t *h, uint64_t timeout_ms, attempt_res_t *r)
{
  kd_probe_target_t t = target ();
  kd_action_t a;
  char *err = NULL;

  memset (r, 0, sizeof (*r));
  kd_action_init (&a, h, &t, true);
  kd_attempt_t *at
      = kd_action_start (loop, &a, KD_PROBE_USER_AGENT, timeout_ms, false, on_attempt, r, &err);
  kd_action_clear (&a);
  assert_non_null (at);
  assert_null (err);
  assert_false (r->done); /* never from inside the start call */
  run_until (loop, &r->done, 20000);
}

static KD_TEST_UNUSED int
setup (void **state)
{
  cur_loop = xcalloc (1, sizeof (uv_loop_t));
  uv_loop_init (cur_loop);
  srv_start (cur_loop);
  snprintf (shim_script, sizeof (shim_script), "/tmp/kd-probe-shim-%d.sh", (int) getpid ());
  FILE *f = fopen (shim_script, "w");
  /* kubeletd-shim exec --pod-dir D --id CID -- CMD...: runs CMD. */
  fputs ("#!/bin/sh\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift\nexec \"$@\"\n", f);
  fclose (f);
  chmod (shim_script, 0755);
  *state = cur_loop;
  return 0;
}

static KD_TEST_UNUSED int
teardown (void **state)
{
  srv_stop ();
  loop_finish (cur_loop);
  free (cur_loop);
  unlink (shim_script);
  return 0;
}

static KD_TEST_UNUSED void
res_free (attempt_res_t *r)
{
  free (r->output);
}

#endif
