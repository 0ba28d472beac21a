/* The HTTP server on a real Unix socket: the server runs in the test's loop,
   clients are plain blocking sockets in a thread that send raw bytes and
   read the raw answer. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "../../pkg/server/server-internal.h"
#include "kubeletd/server.h"

typedef struct fixture fixture_t;

typedef struct
{
  fixture_t *f;
  kd_http_conn_t *conn;
  uv_timer_t timer;
  int repeat;
} async_t;

struct fixture
{
  uv_loop_t loop;
  uv_async_t done;
  char dir[64];
  char sock[128];
  kd_server_t *srv;
  /* what the handlers saw */
  bool use_on_close;
  bool answer_in_on_close;
  bool stream_late;
  bool close_server_in_handler;
  int on_close_called;
  int async_fired;
  size_t big_written;
  /* the client thread */
  void (*client) (fixture_t *f);
  char *resp; /* raw bytes the client read */
  size_t resp_len;
  bool client_ok;
  int64_t client_ms;
};

/* ---- handlers ------------------------------------------------------ */

static void
echo_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  json_t *o = json_object ();
  char *q = kd_http_query_get (req, "q");

  json_object_set_new (o, "method", json_string (req->method));
  json_object_set_new (o, "path", json_string (req->path));
  json_object_set_new (o, "query", json_string (req->query));
  json_object_set_new (o, "q", q ? json_string (q) : json_null ());
  json_object_set_new (o, "body", json_stringn_nocheck (req->body, req->body_len));
  json_object_set_new (o, "uid", json_integer ((json_int_t) req->peer_uid));
  free (q);
  kd_http_respond_json (conn, 200, o);
}

static void
async_on_close (void *data)
{
  async_t *a = data;
  a->f->on_close_called++;
  /* Answering from the callback is allowed and does nothing. */
  if (a->f->answer_in_on_close)
    kd_http_respond (a->conn, 200, "text/plain", "late", 4);
  a->conn = NULL;
}

static void
async_timer_closed (uv_handle_t *h)
{
  free (h->data);
}

static void
async_fire (uv_timer_t *t)
{
  async_t *a = t->data;

  a->f->async_fired++;
  /* With on_close registered, conn is NULL once the peer left. Without it,
     answering a closed connection must be a harmless no-op. */
  if (a->conn && a->f->stream_late)
    {
      kd_http_stream_begin (a->conn, 200, "text/plain");
      kd_http_stream_write (a->conn, "late", 4);
      kd_http_stream_end (a->conn);
    }
  else if (a->conn)
    kd_http_respond (a->conn, 200, "text/plain", "async", 5);
  uv_close ((uv_handle_t *) &a->timer, async_timer_closed);
}

static void
async_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  fixture_t *f = data;
  async_t *a = xcalloc (1, sizeof (*a));

  a->f = f;
  a->conn = conn;
  uv_timer_init (&f->loop, &a->timer);
  a->timer.data = a;
  if (f->use_on_close)
    kd_http_on_close (conn, async_on_close, a);
  uv_timer_start (&a->timer, async_fire, 100, 0);
  if (f->close_server_in_handler)
    {
      kd_server_close (f->srv);
      f->srv = NULL;
    }
}

static void
stream_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_stream_begin (conn, 200, "text/plain");
  kd_http_stream_write (conn, "hello ", 6);
  kd_http_stream_write (conn, "", 0);
  kd_http_stream_write (conn, "world", 5);
  kd_http_stream_end (conn);
}

/* Streams 1 MiB every millisecond to a client that never reads. */
static void
big_tick (uv_timer_t *t)
{
  async_t *a = t->data;
  static char chunk[1024 * 1024];

  if (a->conn == NULL || a->f->big_written > 256u * 1024 * 1024)
    {
      if (a->conn)
        kd_http_stream_end (a->conn);
      uv_close ((uv_handle_t *) &a->timer, async_timer_closed);
      return;
    }
  kd_http_stream_write (a->conn, chunk, sizeof (chunk));
  a->f->big_written += sizeof (chunk);
}

static void
big_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  fixture_t *f = data;
  async_t *a = xcalloc (1, sizeof (*a));

  a->f = f;
  a->conn = conn;
  uv_timer_init (&f->loop, &a->timer);
  a->timer.data = a;
  kd_http_on_close (conn, async_on_close, a);
  kd_http_stream_begin (conn, 200, "application/octet-stream");
  uv_timer_start (&a->timer, big_tick, 1, 1);
}

#define SHARED_LEN (300u * 1024)

/* A body larger than the socket buffer, shared: the handler drops its own
   reference at once (as the pod store does when the list changes), so the
   writes still in flight must hold theirs. */
static void
shared_handler (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  char *s = xmalloc (SHARED_LEN + 1);
  kd_shared_t *body;

  for (size_t i = 0; i < SHARED_LEN; i++)
    s[i] = (char) ('a' + i % 26);
  s[SHARED_LEN] = '\0';
  body = kd_shared_take (s, SHARED_LEN);
  kd_http_respond_shared (conn, 200, "text/plain", body);
  kd_shared_unref (body);
}

/* ---- fixture ------------------------------------------------------- */

static int
setup (void **state)
{
  fixture_t *f = xcalloc (1, sizeof (*f));

  strcpy (f->dir, "/tmp/kd-test-server-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  snprintf (f->sock, sizeof (f->sock), "%s/kubeletd.sock", f->dir);
  assert_int_equal (uv_loop_init (&f->loop), 0);
  *state = f;
  return 0;
}

static void
server_start (fixture_t *f, size_t max_conns, size_t max_req, uint64_t header_ms, uint64_t idle_ms)
{
  kd_server_opts_t opts = {
    .socket_path = f->sock,
    .max_connections = max_conns,
    .max_request_bytes = max_req,
    .header_timeout_ms = header_ms,
    .idle_timeout_ms = idle_ms,
  };
  kd_error_t err = NULL;

  assert_int_equal (kd_server_new (&f->loop, &opts, &f->srv, &err), 0);
  kd_server_route (f->srv, "GET", "/echo", false, echo_handler, f);
  kd_server_route (f->srv, "POST", "/echo", false, echo_handler, f);
  kd_server_route (f->srv, "GET", "/pods/", true, echo_handler, f);
  kd_server_route (f->srv, "GET", "/async", false, async_handler, f);
  kd_server_route (f->srv, "GET", "/stream", false, stream_handler, f);
  kd_server_route (f->srv, "GET", "/big", false, big_handler, f);
  kd_server_route (f->srv, "GET", "/shared", false, shared_handler, f);
}

static int
teardown (void **state)
{
  fixture_t *f = *state;

  if (f->srv)
    kd_server_close (f->srv);
  /* Runs until every handle (connections, handler timers) is gone. */
  uv_run (&f->loop, UV_RUN_DEFAULT);
  assert_int_equal (kd_server_live_conns (), 0);
  assert_int_equal (uv_loop_close (&f->loop), 0);
  /* The socket file goes with the server. */
  assert_int_equal (access (f->sock, F_OK), -1);
  rmdir (f->dir);
  free (f->resp);
  free (f);
  return 0;
}

static void
on_done (uv_async_t *a)
{
  uv_stop (a->loop);
}

static void *
client_main (void *arg)
{
  fixture_t *f = arg;
  int64_t t0 = kd_monotonic_ns ();

  f->client (f);
  f->client_ms = (kd_monotonic_ns () - t0) / 1000000;
  uv_async_send (&f->done);
  return NULL;
}

/* Runs the server loop while f->client runs in a thread. */
static void
run_client (fixture_t *f, void (*client) (fixture_t *f))
{
  pthread_t t;

  f->client = client;
  free (f->resp);
  f->resp = NULL;
  f->resp_len = 0;
  uv_async_init (&f->loop, &f->done, on_done);
  assert_int_equal (pthread_create (&t, NULL, client_main, f), 0);
  uv_run (&f->loop, UV_RUN_DEFAULT);
  pthread_join (t, NULL);
  uv_close ((uv_handle_t *) &f->done, NULL);
  uv_run (&f->loop, UV_RUN_NOWAIT);
}

/* ---- client side (runs in the thread) ------------------------------ */

static int
client_connect (fixture_t *f)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 5 };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  strcpy (addr.sun_path, f->sock);
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      close (fd);
      return -1;
    }
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  return fd;
}

static void
client_send (int fd, const char *s)
{
  size_t len = strlen (s), off = 0;

  while (off < len)
    {
      ssize_t n = send (fd, s + off, len - off, MSG_NOSIGNAL);
      if (n <= 0)
        return;
      off += (size_t) n;
    }
}

/* Reads until EOF (or a reset after the answer), appending to f->resp.
   Returns false on a receive timeout. */
static bool
client_read_all (fixture_t *f, int fd)
{
  char buf[4096];

  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof (buf), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        return true;
      if (n < 0)
        return false;
      f->resp = xrealloc (f->resp, f->resp_len + (size_t) n + 1);
      memcpy (f->resp + f->resp_len, buf, (size_t) n);
      f->resp_len += (size_t) n;
      f->resp[f->resp_len] = '\0';
    }
}

/* Reads exactly one answer with a Content-Length, appending it to f->resp. */
static bool
client_read_one (fixture_t *f, int fd)
{
  size_t start = f->resp_len;

  for (;;)
    {
      char buf[1];
      const char *head, *end, *cl;

      head = f->resp ? f->resp + start : NULL;
      end = head ? strstr (head, "\r\n\r\n") : NULL;
      if (end && (cl = strcasestr (head, "Content-Length: ")) && cl < end)
        {
          size_t want = (size_t) (end + 4 - head) + strtoul (cl + 16, NULL, 10);
          if (f->resp_len - start >= want)
            return true;
        }
      if (recv (fd, buf, 1, 0) != 1)
        return false;
      f->resp = xrealloc (f->resp, f->resp_len + 2);
      f->resp[f->resp_len++] = buf[0];
      f->resp[f->resp_len] = '\0';
    }
}

static void
one_shot (fixture_t *f, const char *request)
{
  int fd = client_connect (f);

  if (fd < 0)
    return;
  client_send (fd, request);
  f->client_ok = client_read_all (f, fd);
  close (fd);
}

#define CLIENT(name, request)                                                                      \
  static void name (fixture_t *f)                                                                  \
  {                                                                                                \
    one_shot (f, request);                                                                         \
  }

static const char *
body_of (fixture_t *f)
{
  const char *b = f->resp ? strstr (f->resp, "\r\n\r\n") : NULL;
  return b ? b + 4 : "";
}

static int
count (const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; p && (p = strstr (p, needle)); p++)
    n++;
  return n;
}

/* ---- tests --------------------------------------------------------- */

CLIENT (get_with_query,
        "GET /echo?q=a%20b&x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")

static void
test_routed_get_passes_raw_query_and_decoded_param (void **state)
{
  fixture_t *f = *state;
  char len[64];

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_with_query);
  assert_true (f->client_ok);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null (strstr (f->resp, "\r\nContent-Type: application/json\r\n"));
  assert_non_null (strstr (f->resp, "\r\nConnection: close\r\n"));
  snprintf (len, sizeof (len), "\r\nContent-Length: %zu\r\n", strlen (body_of (f)));
  assert_non_null (strstr (f->resp, len));
  assert_non_null (strstr (body_of (f), "\"path\":\"/echo\""));
  assert_non_null (strstr (body_of (f), "\"query\":\"q=a%20b&x=1\""));
  assert_non_null (strstr (body_of (f), "\"q\":\"a b\""));
  assert_true (kd_str_has_suffix (body_of (f), "}\n"));
}

CLIENT (get_prefix_escaped, "GET /pods/default/web%2Dnode1 HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_prefix_route_gets_percent_decoded_path (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_prefix_escaped);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null (strstr (body_of (f), "\"path\":\"/pods/default/web-node1\""));
  assert_non_null (strstr (body_of (f), "\"query\":\"\""));
}

static void
client_uid (fixture_t *f)
{
  one_shot (f, "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n");
}

static void
test_peer_uid_is_reported (void **state)
{
  fixture_t *f = *state;
  char want[64];

  server_start (f, 0, 0, 0, 0);
  run_client (f, client_uid);
  snprintf (want, sizeof (want), "\"uid\":%u", (unsigned) getuid ());
  assert_non_null (strstr (body_of (f), want));
}

CLIENT (get_logged, "GET /echo?q=x%20y HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_request_is_logged_at_v4_with_peer_uid (void **state)
{
  fixture_t *f = *state;
  char path[128], want[64];
  cleanup_free char *log = NULL;
  size_t len;
  int saved, fd;

  snprintf (path, sizeof (path), "%s/log", f->dir);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  saved = dup (2);
  dup2 (fd, 2);
  kd_log_setup (4, false);
  server_start (f, 0, 0, 0, 0);
  run_client (f, get_logged);
  kd_log_setup (0, false);
  dup2 (saved, 2);
  close (saved);
  close (fd);
  assert_int_equal (kd_read_file (path, 1 << 20, &log, &len, NULL), 0);
  unlink (path);
  assert_non_null (strstr (log, "HTTP verb=\"GET\" URI=\"/echo?q=x%20y\" latency=\""));
  snprintf (want, sizeof (want), "µs\" peerUID=%u resp=200", (unsigned) getuid ());
  assert_non_null (strstr (log, want));
}

CLIENT (get_unknown, "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_unknown_path_is_404_status (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_unknown);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 404 Not Found\r\n"));
  assert_string_equal (body_of (f),
                       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                       "\"Failure\",\"message\":\"the server could not find the requested "
                       "resource\",\"reason\":\"NotFound\",\"code\":404}\n");
}

CLIENT (delete_echo, "DELETE /echo HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_wrong_method_is_405_with_allow (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, delete_echo);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 405 Method Not Allowed\r\n"));
  assert_non_null (strstr (f->resp, "\r\nAllow: GET, HEAD, POST\r\n"));
  assert_string_equal (body_of (f),
                       "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                       "\"Failure\",\"message\":\"the server does not allow this method on the "
                       "requested resource\",\"reason\":\"MethodNotAllowed\",\"code\":405}\n");
}

CLIENT (head_echo, "HEAD /echo HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_head_on_get_route_has_no_body (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, head_echo);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_null (strstr (f->resp, "Content-Length: 0\r\n"));
  assert_string_equal (body_of (f), "");
}

static void
client_keep_alive (fixture_t *f)
{
  int fd = client_connect (f);

  client_send (fd, "GET /echo?q=first HTTP/1.1\r\n\r\n");
  f->client_ok = client_read_one (f, fd);
  /* Same connection, after the first answer arrived. */
  client_send (fd, "GET /echo?q=second HTTP/1.1\r\nConnection: close\r\n\r\n");
  f->client_ok = f->client_ok && client_read_all (f, fd);
  close (fd);
}

static void
test_keep_alive_serves_two_requests (void **state)
{
  fixture_t *f = *state;
  const char *first, *second;

  server_start (f, 0, 0, 0, 0);
  run_client (f, client_keep_alive);
  assert_true (f->client_ok);
  assert_int_equal (count (f->resp, "HTTP/1.1 200 OK\r\n"), 2);
  assert_int_equal (count (f->resp, "Connection: close"), 1);
  first = strstr (f->resp, "\"q\":\"first\"");
  second = strstr (f->resp, "\"q\":\"second\"");
  assert_non_null (first);
  assert_non_null (second);
  assert_true (first < second);
}

CLIENT (pipelined, "GET /echo?q=one HTTP/1.1\r\n\r\n"
                   "GET /async HTTP/1.1\r\n\r\n"
                   "POST /echo?q=three HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
                   "body")

static void
test_pipelined_requests_answer_in_order (void **state)
{
  fixture_t *f = *state;
  const char *one, *two, *three;

  server_start (f, 0, 0, 0, 0);
  run_client (f, pipelined);
  assert_true (f->client_ok);
  assert_int_equal (count (f->resp, "HTTP/1.1 200 OK\r\n"), 3);
  one = strstr (f->resp, "\"q\":\"one\"");
  two = strstr (f->resp, "\r\n\r\nasync");
  three = strstr (f->resp, "\"q\":\"three\"");
  assert_non_null (one);
  assert_non_null (two);
  assert_non_null (three);
  /* The slow middle answer holds back the third. */
  assert_true (one < two && two < three);
  assert_non_null (strstr (three, "\"body\":\"body\""));
}

CLIENT (shared_pipelined, "GET /shared HTTP/1.1\r\n\r\n"
                          "HEAD /shared HTTP/1.1\r\n\r\n"
                          "GET /shared HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_shared_body_is_sent_whole_after_its_owner_let_go (void **state)
{
  fixture_t *f = *state;
  char len[64];
  const char *p;

  server_start (f, 0, 0, 0, 0);
  run_client (f, shared_pipelined);
  assert_true (f->client_ok);
  snprintf (len, sizeof len, "Content-Length: %u\r\n", SHARED_LEN);
  assert_int_equal (count (f->resp, "HTTP/1.1 200 OK\r\n"), 3);
  assert_int_equal (count (f->resp, len), 3);
  /* two bodies (none for HEAD), every byte as written */
  p = body_of (f);
  for (size_t i = 0; i < SHARED_LEN; i++)
    if (p[i] != (char) ('a' + i % 26))
      fail_msg ("first body differs at byte %zu", i);
  p = strstr (p + SHARED_LEN, "\r\n\r\n"); /* the HEAD answer */
  assert_non_null (p);
  p = strstr (p + 4, "\r\n\r\n");
  assert_non_null (p);
  p += 4;
  assert_int_equal (strlen (p), SHARED_LEN);
  assert_int_equal (p[SHARED_LEN - 1], (char) ('a' + (SHARED_LEN - 1) % 26));
}

CLIENT (get_async, "GET /async HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_async_handler_answers_from_timer (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_async);
  assert_int_equal (f->async_fired, 1);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null (strstr (f->resp, "Content-Type: text/plain\r\nConnection: close\r\n"
                                    "Content-Length: 5\r\n\r\n"));
  assert_string_equal (body_of (f), "async");
}

CLIENT (get_stream, "GET /stream HTTP/1.1\r\nConnection: close\r\n\r\n")

static void
test_stream_is_chunked (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_stream);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null (strstr (f->resp, "\r\nTransfer-Encoding: chunked\r\n"));
  assert_null (strstr (f->resp, "Content-Length"));
  assert_string_equal (body_of (f), "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
}

CLIENT (get_stream_http10, "GET /stream HTTP/1.0\r\n\r\n")

static void
test_stream_to_http10_ends_with_close (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, get_stream_http10);
  assert_null (strstr (f->resp, "chunked"));
  assert_non_null (strstr (f->resp, "\r\nConnection: close\r\n"));
  assert_string_equal (body_of (f), "hello world");
}

CLIENT (http10, "GET /echo HTTP/1.0\r\n\r\n")

static void
test_http10_defaults_to_close (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, http10);
  assert_true (f->client_ok); /* EOF came without asking for close */
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null (strstr (f->resp, "\r\nConnection: close\r\n"));
}

CLIENT (post_too_large, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n")

static void
test_too_large_body_is_413 (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 1024, 0, 0);
  run_client (f, post_too_large);
  assert_true (f->client_ok);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 413 Payload Too Large\r\n"));
  assert_non_null (strstr (f->resp, "\r\nConnection: close\r\n"));
  assert_non_null (strstr (body_of (f), "\"reason\":\"RequestEntityTooLarge\",\"code\":413}"));
  assert_non_null (strstr (body_of (f), "Request entity too large: limit is 1024"));
}

static void
client_chunked_too_large (fixture_t *f)
{
  int fd = client_connect (f);
  char chunk[600];

  memset (chunk, 'x', sizeof (chunk) - 1);
  chunk[sizeof (chunk) - 1] = '\0';
  client_send (fd, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 3; i++)
    {
      client_send (fd, "257\r\n");
      client_send (fd, chunk);
      client_send (fd, "\r\n");
    }
  client_send (fd, "0\r\n\r\n");
  f->client_ok = client_read_all (f, fd);
  close (fd);
}

static void
test_too_large_chunked_body_is_413 (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 1024, 0, 0);
  run_client (f, client_chunked_too_large);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 413 "));
  assert_int_equal (count (f->resp, "HTTP/1.1"), 1);
}

static void
client_huge_headers (fixture_t *f)
{
  int fd = client_connect (f);
  char line[1100];

  memset (line, 'a', sizeof (line));
  memcpy (line, "X-Big: ", 7);
  memcpy (line + sizeof (line) - 3, "\r\n", 3);
  client_send (fd, "GET /echo HTTP/1.1\r\n");
  client_send (fd, line);
  client_send (fd, "\r\n");
  f->client_ok = client_read_all (f, fd);
  close (fd);
}

static void
test_too_large_headers_are_431 (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 1024, 0, 0);
  run_client (f, client_huge_headers);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  assert_non_null (strstr (body_of (f), "\"code\":431}"));
}

CLIENT (garbage, "\x01\x02 this is not HTTP\r\n\r\nGET /echo HTTP/1.1\r\n\r\n")

static void
test_garbage_is_400_and_closed (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, garbage);
  assert_true (f->client_ok); /* closed by the server */
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null (strstr (body_of (f), "\"reason\":\"BadRequest\",\"code\":400}"));
  /* The request after the garbage is not served. */
  assert_int_equal (count (f->resp, "HTTP/1.1"), 1);
}

CLIENT (bad_escape, "GET /echo%zz HTTP/1.1\r\n\r\n")
CLIENT (nul_escape, "GET /pods/a%00b HTTP/1.1\r\n\r\n")

static void
test_bad_percent_escapes_are_400 (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, bad_escape);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null (strstr (body_of (f), "invalid URL escape"));
  run_client (f, nul_escape);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 400 Bad Request\r\n"));
}

static void
client_slowloris (fixture_t *f)
{
  int fd = client_connect (f);

  client_send (fd, "GET /echo HTTP/1.1\r\n");
  /* A header line every 50 ms, forever, unless the server gives up. */
  for (int i = 0; i < 100; i++)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      if (poll (&p, 1, 50) > 0)
        break;
      client_send (fd, "X-Slow: 1\r\n");
    }
  f->client_ok = client_read_all (f, fd);
  close (fd);
}

static void
test_slow_request_hits_header_timeout (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 300, 0);
  run_client (f, client_slowloris);
  assert_true (f->client_ok);
  assert_true (kd_str_has_prefix (f->resp, "HTTP/1.1 408 Request Timeout\r\n"));
  assert_non_null (strstr (body_of (f), "\"reason\":\"Timeout\",\"code\":408}"));
  assert_true (f->client_ms < 2000);
}

static void
client_idle (fixture_t *f)
{
  int fd = client_connect (f);

  f->client_ok = client_read_all (f, fd);
  close (fd);
}

static void
test_idle_connection_is_closed (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 200);
  run_client (f, client_idle);
  assert_true (f->client_ok);
  assert_int_equal (f->resp_len, 0);
  assert_true (f->client_ms >= 150 && f->client_ms < 2000);
}

static void
client_limit (fixture_t *f)
{
  int a = client_connect (f), b = client_connect (f), c, d;
  char buf[16];

  client_send (a, "GET /echo?q=a HTTP/1.1\r\n\r\n");
  client_send (b, "GET /echo?q=b HTTP/1.1\r\n\r\n");
  f->client_ok = client_read_one (f, a) && client_read_one (f, b);
  /* The third is accepted and closed at once, without an answer. */
  c = client_connect (f);
  client_send (c, "GET /echo?q=c HTTP/1.1\r\n\r\n");
  if (c < 0 || recv (c, buf, sizeof (buf), 0) > 0)
    f->client_ok = false;
  close (c);
  /* A slot freed is a slot available again. */
  close (a);
  usleep (100 * 1000);
  d = client_connect (f);
  client_send (d, "GET /echo?q=d HTTP/1.1\r\nConnection: close\r\n\r\n");
  f->client_ok = f->client_ok && client_read_all (f, d);
  close (d);
  close (b);
}

static void
test_connection_limit_refuses_extra_connections (void **state)
{
  fixture_t *f = *state;

  server_start (f, 2, 0, 0, 0);
  run_client (f, client_limit);
  assert_true (f->client_ok);
  assert_non_null (strstr (f->resp, "\"q\":\"a\""));
  assert_non_null (strstr (f->resp, "\"q\":\"b\""));
  assert_null (strstr (f->resp, "\"q\":\"c\""));
  assert_non_null (strstr (f->resp, "\"q\":\"d\""));
}

static void
client_leaves_early (fixture_t *f)
{
  int fd = client_connect (f);

  client_send (fd, "GET /async HTTP/1.1\r\n\r\n");
  usleep (20 * 1000);
  close (fd);
}

static void
test_peer_leaving_before_async_answer_calls_on_close (void **state)
{
  fixture_t *f = *state;

  f->use_on_close = true;
  server_start (f, 0, 0, 0, 0);
  run_client (f, client_leaves_early);
  /* Let the server see the close, then the handler's timer. */
  while (f->async_fired == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  assert_int_equal (f->on_close_called, 1);
}

static void
test_stream_after_peer_left_is_harmless (void **state)
{
  fixture_t *f = *state;

  f->stream_late = true;
  server_start (f, 0, 0, 0, 0);
  run_client (f, client_leaves_early);
  while (f->async_fired == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  assert_int_equal (f->on_close_called, 0);
}

static void
test_answer_from_on_close_callback_is_harmless (void **state)
{
  fixture_t *f = *state;

  f->use_on_close = true;
  f->answer_in_on_close = true;
  server_start (f, 0, 0, 0, 0);
  run_client (f, client_leaves_early);
  while (f->async_fired == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  assert_int_equal (f->on_close_called, 1);
}

static void
client_waits_for_async (fixture_t *f)
{
  one_shot (f, "GET /async HTTP/1.1\r\n\r\n");
}

static void
test_server_close_tells_pending_handlers (void **state)
{
  fixture_t *f = *state;

  f->use_on_close = true;
  f->close_server_in_handler = true;
  server_start (f, 0, 0, 0, 0);
  run_client (f, client_waits_for_async);
  assert_true (f->client_ok);
  assert_int_equal (f->resp_len, 0);
  while (f->async_fired == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  assert_int_equal (f->on_close_called, 1);
}

static void
test_answer_after_peer_left_is_harmless (void **state)
{
  fixture_t *f = *state;

  f->use_on_close = false;
  server_start (f, 0, 0, 0, 0);
  run_client (f, client_leaves_early);
  while (f->async_fired == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  assert_int_equal (f->on_close_called, 0);
  /* teardown proves the connection was freed (no leak, ASan clean) */
}

static void
client_never_reads (fixture_t *f)
{
  int fd = client_connect (f);

  client_send (fd, "GET /big HTTP/1.1\r\n\r\n");
  usleep (1500 * 1000);
  close (fd);
}

static void
test_client_not_reading_is_cut_off (void **state)
{
  fixture_t *f = *state;

  server_start (f, 0, 0, 0, 0);
  run_client (f, client_never_reads);
  while (f->on_close_called == 0)
    uv_run (&f->loop, UV_RUN_ONCE);
  /* Cut off near the cap, long before the handler's 256 MiB. */
  assert_true (f->big_written < 32u * 1024 * 1024);
}

static void
test_live_socket_is_not_stolen_and_stale_one_is_replaced (void **state)
{
  fixture_t *f = *state;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  kd_server_opts_t opts = { .socket_path = f->sock };
  kd_server_t *other = NULL;
  kd_error_t err = NULL;
  struct stat st;
  int fd;

  /* A socket file nobody listens on, as a crashed daemon leaves it. */
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  strcpy (addr.sun_path, f->sock);
  assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof (addr)), 0);
  close (fd);

  server_start (f, 0, 0, 0, 0);
  assert_int_equal (stat (f->sock, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0660);

  assert_true (kd_server_new (&f->loop, &opts, &other, &err) < 0);
  assert_non_null (strstr (err->msg, "in use by another process"));
  kd_error_release (&err);
  /* The live daemon's socket is still there. */
  assert_int_equal (access (f->sock, F_OK), 0);
}

static void
test_query_get_decodes_and_skips_bad_pairs (void **state)
{
  kd_http_request_t req = { .query = "a=1&b=x%20y+z&flag&bad=%zz&bad=ok&a=2" };
  char *v;

  v = kd_http_query_get (&req, "a");
  assert_string_equal (v, "1");
  free (v);
  v = kd_http_query_get (&req, "b");
  assert_string_equal (v, "x y z");
  free (v);
  v = kd_http_query_get (&req, "flag");
  assert_string_equal (v, "");
  free (v);
  v = kd_http_query_get (&req, "bad");
  assert_string_equal (v, "ok");
  free (v);
  assert_null (kd_http_query_get (&req, "missing"));
  assert_null (kd_http_unescape ("a%00", 4, false));
  assert_null (kd_http_unescape ("a%4", 3, false));
  v = kd_http_unescape ("a+%2F", 5, false);
  assert_string_equal (v, "a+/");
  free (v);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
    T (test_routed_get_passes_raw_query_and_decoded_param),
    T (test_prefix_route_gets_percent_decoded_path),
    T (test_peer_uid_is_reported),
    T (test_request_is_logged_at_v4_with_peer_uid),
    T (test_unknown_path_is_404_status),
    T (test_wrong_method_is_405_with_allow),
    T (test_head_on_get_route_has_no_body),
    T (test_keep_alive_serves_two_requests),
    T (test_pipelined_requests_answer_in_order),
    T (test_shared_body_is_sent_whole_after_its_owner_let_go),
    T (test_async_handler_answers_from_timer),
    T (test_stream_is_chunked),
    T (test_stream_to_http10_ends_with_close),
    T (test_http10_defaults_to_close),
    T (test_too_large_body_is_413),
    T (test_too_large_chunked_body_is_413),
    T (test_too_large_headers_are_431),
    T (test_garbage_is_400_and_closed),
    T (test_bad_percent_escapes_are_400),
    T (test_slow_request_hits_header_timeout),
    T (test_idle_connection_is_closed),
    T (test_connection_limit_refuses_extra_connections),
    T (test_peer_leaving_before_async_answer_calls_on_close),
    T (test_answer_after_peer_left_is_harmless),
    T (test_answer_from_on_close_callback_is_harmless),
    T (test_stream_after_peer_left_is_harmless),
    T (test_server_close_tells_pending_handlers),
    T (test_client_not_reading_is_cut_off),
    T (test_live_socket_is_not_stolen_and_stale_one_is_replaced),
    cmocka_unit_test (test_query_get_decodes_and_skips_bad_pairs),
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
