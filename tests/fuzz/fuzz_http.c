/* libFuzzer target for the request path of the HTTP server: every input is
   the whole byte stream of one client connection (a socketpair handed to
   the server), then a half-close; the loop runs until the connection is
   gone. Crashes, leaks, stalls and sanitizer reports are findings. */
#include <fcntl.h>
#include <sys/socket.h>

#include "../../pkg/server/server-internal.h"
#include "kubeletd/server.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uv_loop_t loop;
static kd_server_t *srv;
static size_t pending_async;

typedef struct
{
  kd_http_conn_t *conn;
  uv_timer_t timer;
} async_t;

static void
healthz (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond (conn, 200, "text/plain", "ok", 2);
}

static void
pods (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  char *v = kd_http_query_get (req, "q");
  char *follow = kd_http_query_get (req, "follow");

  if (strcmp (req->path, "/pods/") == 0)
    kd_http_respond_json (conn, 200, json_pack ("{s:s,s:s?}", "kind", "PodList", "q", v));
  else
    kd_http_respond_status (conn, 404, "NotFound", "pods \"%s\" not found", req->path + 6);
  free (v);
  free (follow);
}

static void
echo (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond (conn, 200, "application/octet-stream", req->body, req->body_len);
}

static void
stream (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_stream_begin (conn, 200, "text/plain");
  kd_http_stream_write (conn, req->path, strlen (req->path));
  kd_http_stream_write (conn, req->query, strlen (req->query));
  kd_http_stream_end (conn);
}

static void
async_closed (uv_handle_t *h)
{
  free (h->data);
  pending_async--;
}

static void
async_fire (uv_timer_t *t)
{
  async_t *a = t->data;

  kd_http_respond (a->conn, 200, "text/plain", "later", 5);
  uv_close ((uv_handle_t *) &a->timer, async_closed);
}

static void
async_gone (void *data)
{
  async_t *a = data;

  uv_timer_stop (&a->timer);
  uv_close ((uv_handle_t *) &a->timer, async_closed);
}

static void
async_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  async_t *a = xcalloc (1, sizeof (*a));

  a->conn = conn;
  a->timer.data = a;
  uv_timer_init (&loop, &a->timer);
  uv_timer_start (&a->timer, async_fire, 0, 0);
  kd_http_on_close (conn, async_gone, a);
  pending_async++;
}

static char dir[] = "/tmp/kd-fuzz-http-XXXXXX";

/* Leaves /tmp as it was: the server removes its socket, then the folder. */
static void
cleanup_at_exit (void)
{
  kd_server_close (srv);
  uv_run (&loop, UV_RUN_NOWAIT);
  rmdir (dir);
}

static void
init_once (void)
{
  char path[128];
  kd_server_opts_t opts = {
    .max_request_bytes = 64 * 1024,
    .header_timeout_ms = 2000,
    .idle_timeout_ms = 2000,
  };
  kd_error_t err = NULL;

  if (srv)
    return;
  if (mkdtemp (dir) == NULL)
    abort ();
  snprintf (path, sizeof (path), "%s/kubeletd.sock", dir);
  opts.socket_path = path;
  uv_loop_init (&loop);
  if (kd_server_new (&loop, &opts, &srv, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      abort ();
    }
  atexit (cleanup_at_exit);
  kd_server_route (srv, "GET", "/healthz", false, healthz, NULL);
  kd_server_route (srv, "GET", "/pods/", true, pods, NULL);
  kd_server_route (srv, "POST", "/echo", false, echo, NULL);
  kd_server_route (srv, "PUT", "/echo", false, echo, NULL);
  kd_server_route (srv, "GET", "/stream", false, stream, NULL);
  kd_server_route (srv, "GET", "/async", false, async_handler, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int sv[2];
  size_t off = 0;
  bool shut = false;
  kd_error_t err = NULL;
  long rounds = 0;
  char buf[65536];

  init_once ();
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort ();
  fcntl (sv[1], F_SETFL, O_NONBLOCK);
  if (kd_server_adopt_fd (srv, sv[0], &err) < 0)
    abort ();

  while (kd_server_live_conns () > 0 || pending_async > 0)
    {
      if (off < size)
        {
          ssize_t n = send (sv[1], data + off, size - off, MSG_NOSIGNAL);
          if (n > 0)
            off += (size_t) n;
          else if (errno != EAGAIN)
            off = size;
        }
      if (off >= size && !shut)
        {
          shutdown (sv[1], SHUT_WR);
          shut = true;
        }
      while (recv (sv[1], buf, sizeof (buf), MSG_DONTWAIT) > 0)
        ;
      uv_run (&loop, UV_RUN_NOWAIT);
      /* Everything here is immediate (a 0 ms timer at most): spinning this
         long means the server stalled on a connection. */
      if (++rounds > 1000000)
        {
          fprintf (stderr, "connection never closed\n");
          abort ();
        }
    }
  close (sv[1]);
  return 0;
}
