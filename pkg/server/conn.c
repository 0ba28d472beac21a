/* conn: one HTTP/1.1 connection on the socket. Reads into a buffer, parses
   one request at a time (the parser is paused on each complete request, so
   pipelined requests wait in the buffer and answers keep their order), hands
   the request to the router, writes the answer, enforces the limits and the
   timeouts, and survives peers that vanish while an answer is pending. */
#include <inttypes.h>
#include <sys/socket.h>
#include <time.h>

#include "kubeletd/metrics.h"
#include "server-internal.h"

/* Answers above this raise the socket's send buffer (fit_send_buffer). */
#define KD_HTTP_SMALL_ANSWER (128u * 1024)
#define KD_HTTP_MAX_SNDBUF   (4u * 1024 * 1024)

/* Unparsed bytes read ahead while a request is being answered. */
#define READ_AHEAD_BYTES (256u * 1024)
#define READ_CHUNK       (64u * 1024)

static size_t live_conns;

size_t
kd_server_live_conns (void)
{
  return live_conns;
}

typedef struct
{
  uv_write_t req;
  kd_shared_t *body; /* sent after data, not copied; NULL for most */
  char data[];
} write_req_t;

static int on_message_begin (http_parser *p);
static int on_url (http_parser *p, const char *at, size_t len);
static int on_header_field (http_parser *p, const char *at, size_t len);
static int on_header_value (http_parser *p, const char *at, size_t len);
static int on_headers_complete (http_parser *p);
static int on_body (http_parser *p, const char *at, size_t len);
static int on_message_complete (http_parser *p);

static const http_parser_settings parser_settings = {
  .on_message_begin = on_message_begin,
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

static void conn_process (kd_http_conn_t *conn);
static void conn_finish (kd_http_conn_t *conn);

/* ---- life ---------------------------------------------------------- */

static void
conn_unref (kd_http_conn_t *conn)
{
  if (--conn->refs > 0)
    return;
  kd_buf_free (&conn->url);
  kd_buf_free (&conn->body);
  free (conn->rbuf);
  free (conn->parse_message);
  free (conn->req_path);
  free (conn->req_query);
  free (conn);
  live_conns--;
}

static void release_handler (kd_http_conn_t *conn);

static void
on_handle_closed (uv_handle_t *h)
{
  kd_http_conn_t *conn = h->data;

  /* The handler hears of the close here, from the loop, and never from
     inside one of its own calls (an answer that overflows the queue). */
  if (h == (uv_handle_t *) &conn->pipe)
    release_handler (conn);
  conn_unref (conn);
}

kd_http_conn_t *
kd_conn_new (kd_server_t *srv)
{
  kd_http_conn_t *conn = xcalloc (1, sizeof (*conn));

  conn->srv = srv;
  conn->loop = srv->loop;
  conn->max_request_bytes = srv->opts.max_request_bytes;
  conn->header_timeout_ms = srv->opts.header_timeout_ms;
  conn->idle_timeout_ms = srv->opts.idle_timeout_ms;
  conn->peer_uid = (uid_t) -1;
  conn->peer_gid = (gid_t) -1;
  conn->peer_pid = -1;
  uv_pipe_init (srv->loop, &conn->pipe, 0);
  conn->pipe.data = conn;
  uv_timer_init (srv->loop, &conn->timer);
  conn->timer.data = conn;
  conn->shutdown_req.data = conn;
  conn->refs = 2; /* the two handles */
  http_parser_init (&conn->parser, HTTP_REQUEST);
  conn->parser.data = conn;

  conn->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = conn;
  srv->conns = conn;
  srv->n_conns++;
  live_conns++;
  return conn;
}

/* Tells the handler that owns the pending answer, once, that the peer is
   gone; after its callback the handler no longer holds the connection. */
static void
release_handler (kd_http_conn_t *conn)
{
  void (*cb) (void *) = conn->on_close;
  void *data = conn->on_close_data;

  if (!conn->handler_active)
    return;
  /* A handler without a callback keeps its hold: its later answer is a
     no-op that releases it, so the memory stays valid until then. */
  if (cb == NULL)
    return;
  conn->on_close = NULL;
  conn->on_close_data = NULL;
  cb (data);
  if (!conn->handler_active)
    return; /* the callback answered, which released it */
  conn->handler_active = false;
  conn_unref (conn);
}

void
kd_conn_close (kd_http_conn_t *conn)
{
  if (conn->closed)
    return;
  conn->closed = true;
  if (conn->srv)
    kd_server_unlink_conn (conn->srv, conn);
  conn->srv = NULL;
  uv_close ((uv_handle_t *) &conn->pipe, on_handle_closed);
  uv_close ((uv_handle_t *) &conn->timer, on_handle_closed);
}

static void on_timer (uv_timer_t *t);

static void
arm_timer (kd_http_conn_t *conn, uint64_t ms)
{
  if (conn->closed)
    return;
  uv_timer_start (&conn->timer, on_timer, ms, 0);
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  kd_http_conn_t *conn = h->data;

  if (conn->roff > 0)
    {
      memmove (conn->rbuf, conn->rbuf + conn->roff, conn->rlen - conn->roff);
      conn->rlen -= conn->roff;
      conn->roff = 0;
    }
  if (conn->rcap - conn->rlen < READ_CHUNK / 4)
    {
      conn->rcap = conn->rlen + READ_CHUNK;
      conn->rbuf = xrealloc (conn->rbuf, conn->rcap);
    }
  *buf = uv_buf_init (conn->rbuf + conn->rlen, conn->rcap - conn->rlen);
}

static void on_read (uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Reads while there is room: a peer that pipelines faster than it is
   answered waits in its socket buffer, not in our memory. */
static void
update_reading (kd_http_conn_t *conn)
{
  bool want = !conn->closed && !conn->peer_eof && conn->state != KD_CONN_FINISHING
              && conn->rlen - conn->roff < READ_AHEAD_BYTES;

  if (want && !conn->reading)
    {
      if (uv_read_start ((uv_stream_t *) &conn->pipe, on_alloc, on_read) < 0)
        {
          kd_conn_close (conn);
          return;
        }
      conn->reading = true;
    }
  else if (!want && conn->reading)
    {
      if (!conn->closed)
        uv_read_stop ((uv_stream_t *) &conn->pipe);
      conn->reading = false;
    }
}

void
kd_conn_start (kd_http_conn_t *conn)
{
  struct ucred cred;
  socklen_t len = sizeof (cred);
  uv_os_fd_t fd;

  if (uv_fileno ((uv_handle_t *) &conn->pipe, &fd) == 0
      && getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
    {
      conn->peer_uid = cred.uid;
      conn->peer_gid = cred.gid;
      conn->peer_pid = cred.pid;
    }
  conn->state = KD_CONN_IDLE;
  arm_timer (conn, conn->idle_timeout_ms);
  update_reading (conn);
}

/* ---- writing ------------------------------------------------------- */

static void
on_write (uv_write_t *req, int status)
{
  kd_http_conn_t *conn = req->data;

  kd_shared_unref (((write_req_t *) req)->body);
  free (req);
  if (conn->closed)
    return;
  if (status < 0)
    {
      kd_vlog (5, "write to peer uid %d: %s", (int) conn->peer_uid, uv_strerror (status));
      kd_conn_close (conn);
      return;
    }
  /* Requests held back while the queue was full may go on now. */
  if ((conn->state == KD_CONN_IDLE || conn->state == KD_CONN_READING) && conn->roff < conn->rlen)
    conn_process (conn);
}

/* A large answer (GET /pods with hundreds of pods is a megabyte) fits the
   socket's send buffer whole, raised up to 4 MiB for it: the kernel takes
   it in one writev and the loop is done with it, instead of writing it in
   200 KiB pieces interleaved with every other client's. The kernel holds
   that memory only while the peer has not read it. */
static void
fit_send_buffer (kd_http_conn_t *conn, size_t total)
{
  uv_os_fd_t fd;
  int want;

  if (total <= conn->sndbuf || conn->sndbuf >= KD_HTTP_MAX_SNDBUF
      || uv_fileno ((uv_handle_t *) &conn->pipe, &fd) < 0)
    return;
  want = (int) (total < KD_HTTP_MAX_SNDBUF ? total : KD_HTTP_MAX_SNDBUF);
  /* root may go past net.core.wmem_max; others get what the limit allows */
  if (setsockopt (fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0)
    setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  conn->sndbuf = (size_t) want;
}

/* Queues the concatenation of the parts, then body (shared, may be NULL),
   as one write. */
static void
queue_write_shared (kd_http_conn_t *conn, const uv_buf_t *parts, size_t n, kd_shared_t *body)
{
  size_t total = 0, off = 0, copied, queued;
  write_req_t *w;
  uv_buf_t buf[2];
  int r;

  if (conn->closed)
    return;
  for (size_t i = 0; i < n; i++)
    total += parts[i].len;
  copied = total;
  if (body)
    total += body->len;
  if (total == 0)
    return;
  queued = uv_stream_get_write_queue_size ((uv_stream_t *) &conn->pipe);
  /* One large answer to a reading client is fine; piling more on top of
     what the client has not read is not. */
  if (queued > 0 && queued + total > KD_HTTP_MAX_QUEUED_WRITE)
    {
      kd_warn ("closing the connection of peer uid %d: %zu bytes of answers are not read",
               (int) conn->peer_uid, queued);
      kd_conn_close (conn);
      return;
    }
  if (total > KD_HTTP_SMALL_ANSWER)
    fit_send_buffer (conn, total);
  w = xmalloc (sizeof (*w) + copied);
  for (size_t i = 0; i < n; i++)
    {
      memcpy (w->data + off, parts[i].base, parts[i].len);
      off += parts[i].len;
    }
  w->req.data = conn;
  w->body = body && body->len ? kd_shared_ref (body) : NULL;
  buf[0] = uv_buf_init (w->data, copied);
  if (w->body)
    buf[1] = uv_buf_init (w->body->data, w->body->len);
  r = uv_write (&w->req, (uv_stream_t *) &conn->pipe, buf, w->body ? 2 : 1, on_write);
  if (r < 0)
    {
      kd_shared_unref (w->body);
      free (w);
      kd_conn_close (conn);
    }
}

static void
queue_write (kd_http_conn_t *conn, const uv_buf_t *parts, size_t n)
{
  queue_write_shared (conn, parts, n, NULL);
}

static void
queue_string (kd_http_conn_t *conn, const char *s, size_t len)
{
  uv_buf_t part = uv_buf_init ((char *) s, len);
  queue_write (conn, &part, 1);
}

static void
on_shutdown (uv_shutdown_t *req, int status)
{
  kd_http_conn_t *conn = req->data;

  if (status == UV_ECANCELED)
    return;
  kd_conn_close (conn);
}

/* The last answer is queued: tell a waiting handler, stop reading, let the
   writes drain, then close. A peer that never reads is cut off by the
   timer. */
static void
conn_finish (kd_http_conn_t *conn)
{
  if (conn->closed || conn->state == KD_CONN_FINISHING)
    return;
  /* Finishing first: an answer from the callback is then a no-op. */
  conn->state = KD_CONN_FINISHING;
  release_handler (conn);
  if (conn->closed)
    return;
  update_reading (conn);
  if (uv_shutdown (&conn->shutdown_req, (uv_stream_t *) &conn->pipe, on_shutdown) < 0)
    {
      kd_conn_close (conn);
      return;
    }
  arm_timer (conn, conn->header_timeout_ms);
}

/* ---- answers ------------------------------------------------------- */

static void
log_request (kd_http_conn_t *conn)
{
  kd_buf_t uri = { 0 };
  int64_t us;

  if (kd_log_verbosity () < 4)
    return;
  /* The raw target, bounded and with anything unprintable escaped, so a
     client cannot forge log lines. */
  for (size_t i = 0; i < conn->url.len && i < 512; i++)
    {
      unsigned char c = (unsigned char) conn->url.s[i];
      if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
        kd_buf_printf (&uri, "%%%02X", c);
      else
        kd_buf_putc (&uri, (char) c);
    }
  us = (kd_monotonic_ns () - conn->start_ns) / 1000;
  kd_vlog (4, "HTTP verb=\"%s\" URI=\"%s\" latency=\"%" PRId64 "µs\" peerUID=%d resp=%d",
           conn->req.method ? conn->req.method : "", uri.s ? uri.s : "", us, (int) conn->peer_uid,
           conn->status);
  kd_buf_free (&uri);
}

/* The answer is queued: the next pipelined request may go. */
static void
response_done (kd_http_conn_t *conn)
{
  log_request (conn);
  kd_metrics_http_request (conn->req.method, conn->route, conn->status,
                           (double) (kd_monotonic_ns () - conn->start_ns) / 1e9);
  conn->handler_active = false;
  conn->on_close = NULL;
  conn->on_close_data = NULL;
  if (conn->closed)
    {
      conn_unref (conn);
      return;
    }
  conn_unref (conn); /* the handler's hold; the handles still hold conn */
  if (!conn->keep_alive || conn->peer_eof)
    {
      conn_finish (conn);
      return;
    }
  conn->state = KD_CONN_IDLE;
  arm_timer (conn, conn->idle_timeout_ms);
  conn_process (conn);
}

/* Whether the handler may still answer. On a closed connection an answer
   is a no-op, and the final call (an answer, or a stream's end) releases
   the handler's hold: until then conn stays valid for its calls. */
static bool
may_answer (kd_http_conn_t *conn, kd_conn_state_t want, const char *what, bool final)
{
  if (!conn->handler_active)
    {
      if (!conn->closed)
        kd_warn ("HTTP %s without a pending request ignored", what);
      return false;
    }
  if (conn->closed || conn->state == KD_CONN_FINISHING)
    {
      if (!final)
        return false;
      conn->handler_active = false;
      conn->on_close = NULL;
      conn_unref (conn);
      return false;
    }
  if (conn->state != want)
    {
      kd_warn ("HTTP %s in the wrong state ignored", what);
      return false;
    }
  return true;
}

static void
append_head (kd_http_conn_t *conn, kd_buf_t *b, int status, const char *content_type,
             const char *headers)
{
  char date[64];
  struct tm tm;
  time_t now = time (NULL);

  gmtime_r (&now, &tm);
  strftime (date, sizeof (date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  kd_buf_printf (b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                 http_status_str ((enum http_status) status), date);
  if (content_type)
    kd_buf_printf (b, "Content-Type: %s\r\n", content_type);
  if (headers)
    kd_buf_puts (b, headers);
  if (!conn->keep_alive)
    kd_buf_puts (b, "Connection: close\r\n");
  else if (conn->parser.http_major == 1 && conn->parser.http_minor == 0)
    kd_buf_puts (b, "Connection: keep-alive\r\n");
}

void
kd_conn_respond_headers (kd_http_conn_t *conn, int status, const char *content_type,
                         const char *headers, const char *body, size_t len)
{
  kd_buf_t head = { 0 };
  uv_buf_t parts[2];

  if (!may_answer (conn, KD_CONN_HANDLING, "answer", true))
    return;
  append_head (conn, &head, status, content_type, headers);
  kd_buf_printf (&head, "Content-Length: %zu\r\n\r\n", len);
  parts[0] = uv_buf_init (head.s, head.len);
  parts[1] = uv_buf_init ((char *) body, conn->head ? 0 : len);
  conn->status = status;
  queue_write (conn, parts, 2);
  kd_buf_free (&head);
  response_done (conn);
}

void
kd_http_respond_shared (kd_http_conn_t *conn, int status, const char *content_type,
                        kd_shared_t *body)
{
  kd_buf_t head = { 0 };

  if (!may_answer (conn, KD_CONN_HANDLING, "answer", true))
    return;
  append_head (conn, &head, status, content_type, NULL);
  kd_buf_printf (&head, "Content-Length: %zu\r\n\r\n", body->len);
  conn->status = status;
  queue_write_shared (conn, &(uv_buf_t){ .base = head.s, .len = head.len }, 1,
                      conn->head ? NULL : body);
  kd_buf_free (&head);
  response_done (conn);
}

void
kd_http_respond (kd_http_conn_t *conn, int status, const char *content_type, const char *body,
                 size_t len)
{
  kd_conn_respond_headers (conn, status, content_type, NULL, body, len);
}

void
kd_http_respond_json (kd_http_conn_t *conn, int status, json_t *json)
{
  cleanup_free char *s = json ? json_dumps (json, JSON_COMPACT) : NULL;
  kd_buf_t b = { 0 };

  json_decref (json);
  if (s == NULL)
    {
      kd_http_respond_status (conn, 500, "InternalError",
                              "Internal error occurred: cannot encode the answer");
      return;
    }
  /* Like the kubelet's encoder: one object, then a newline. */
  kd_buf_puts (&b, s);
  kd_buf_putc (&b, '\n');
  kd_conn_respond_headers (conn, status, "application/json", NULL, b.s, b.len);
  kd_buf_free (&b);
}

void
kd_http_stream_begin (kd_http_conn_t *conn, int status, const char *content_type)
{
  kd_buf_t head = { 0 };

  if (!may_answer (conn, KD_CONN_HANDLING, "stream begin", false))
    return;
  /* HTTP/1.0 has no chunked coding: the end of the body is the close. */
  conn->chunked = !(conn->parser.http_major == 1 && conn->parser.http_minor == 0);
  if (!conn->chunked)
    conn->keep_alive = false;
  append_head (conn, &head, status, content_type,
               conn->chunked ? "Transfer-Encoding: chunked\r\n" : NULL);
  kd_buf_puts (&head, "\r\n");
  conn->status = status;
  conn->state = KD_CONN_STREAMING;
  queue_string (conn, head.s, head.len);
  kd_buf_free (&head);
}

void
kd_http_stream_write (kd_http_conn_t *conn, const char *data, size_t len)
{
  char size[32];
  uv_buf_t parts[3];

  if (!conn->handler_active || conn->closed || conn->state != KD_CONN_STREAMING)
    return;
  if (len == 0 || conn->head)
    return;
  if (!conn->chunked)
    {
      queue_string (conn, data, len);
      return;
    }
  parts[0] = uv_buf_init (size, (unsigned) snprintf (size, sizeof (size), "%zx\r\n", len));
  parts[1] = uv_buf_init ((char *) data, len);
  parts[2] = uv_buf_init ((char *) "\r\n", 2);
  queue_write (conn, parts, 3);
}

void
kd_http_stream_end (kd_http_conn_t *conn)
{
  if (!may_answer (conn, KD_CONN_STREAMING, "stream end", true))
    return;
  if (conn->chunked && !conn->head)
    queue_string (conn, "0\r\n\r\n", 5);
  response_done (conn);
}

void
kd_http_on_close (kd_http_conn_t *conn, void (*cb) (void *data), void *data)
{
  /* Already closed: the callback will not come, and answers are no-ops. */
  if (conn->closed || !conn->handler_active)
    return;
  conn->on_close = cb;
  conn->on_close_data = data;
}

/* ---- requests ------------------------------------------------------ */

/* Makes the server itself the handler of the current request, to answer
   an error that ends the connection. */
static void
fail_request (kd_http_conn_t *conn, int status, const char *reason, const char *message)
{
  if (conn->closed)
    return;
  conn->keep_alive = false;
  conn->head = false;
  if (conn->req.method == NULL)
    conn->req.method = "";
  conn->state = KD_CONN_HANDLING;
  conn->handler_active = true;
  conn->refs++;
  kd_conn_respond_status_headers (conn, status, reason, NULL, message);
}

static void
start_request (kd_http_conn_t *conn)
{
  struct http_parser_url u;
  const char *url = conn->url.s ? conn->url.s : "";
  bool is_connect = conn->parser.method == HTTP_CONNECT;

  uv_timer_stop (&conn->timer);
  free (conn->req_path);
  free (conn->req_query);
  conn->req_path = conn->req_query = NULL;
  conn->req.method = http_method_str ((enum http_method) conn->parser.method);
  conn->head = conn->parser.method == HTTP_HEAD;

  http_parser_url_init (&u);
  if (conn->url.len == 0 || is_connect || http_parser_parse_url (url, conn->url.len, 0, &u) != 0
      || !(u.field_set & (1 << UF_PATH)))
    {
      fail_request (conn, 400, "BadRequest", "malformed HTTP request: invalid request target");
      return;
    }
  conn->req_path
      = kd_http_unescape (url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len, false);
  if (conn->req_path == NULL)
    {
      fail_request (conn, 400, "BadRequest", "malformed HTTP request: invalid URL escape");
      return;
    }
  if (u.field_set & (1 << UF_QUERY))
    conn->req_query = xstrndup (url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
  else
    conn->req_query = xstrdup ("");

  conn->req.path = conn->req_path;
  conn->req.query = conn->req_query;
  conn->req.body = conn->body.s ? conn->body.s : "";
  conn->req.body_len = conn->body.len;
  conn->req.peer_uid = conn->peer_uid;
  conn->req.peer_gid = conn->peer_gid;
  conn->req.peer_pid = conn->peer_pid;

  conn->state = KD_CONN_HANDLING;
  conn->handler_active = true;
  conn->refs++;
  kd_server_dispatch (conn->srv, conn);
}

static void
fail_parse (kd_http_conn_t *conn, enum http_errno e)
{
  cleanup_free char *message = NULL;

  if (conn->parse_status)
    {
      fail_request (conn, conn->parse_status, conn->parse_reason, conn->parse_message);
      return;
    }
  if (e == HPE_HEADER_OVERFLOW)
    {
      fail_request (conn, 431, "RequestEntityTooLarge",
                    "Request entity too large: request header fields too large");
      return;
    }
  message = xasprintf ("malformed HTTP request: %s", http_errno_description (e));
  fail_request (conn, 400, "BadRequest", message);
}

/* Parses what is buffered, one request at a time, until a handler holds an
   answer, the buffer is empty, or the peer must read first. */
static void
conn_process (kd_http_conn_t *conn)
{
  /* Re-entered from an answer given inside a handler: the loop below
     continues with the next request once the handler returns. */
  if (conn->in_process)
    return;
  conn->in_process = true;
  while (!conn->closed && (conn->state == KD_CONN_IDLE || conn->state == KD_CONN_READING)
         && conn->roff < conn->rlen
         && uv_stream_get_write_queue_size ((uv_stream_t *) &conn->pipe)
                < KD_HTTP_PAUSE_QUEUED_WRITE)
    {
      size_t n;
      enum http_errno e;

      http_parser_pause (&conn->parser, 0);
      n = http_parser_execute (&conn->parser, &parser_settings, conn->rbuf + conn->roff,
                               conn->rlen - conn->roff);
      conn->roff += n <= conn->rlen - conn->roff ? n : conn->rlen - conn->roff;
      e = HTTP_PARSER_ERRNO (&conn->parser);
      if (conn->closed)
        break;
      if (conn->message_done)
        {
          conn->message_done = false;
          if (e == HPE_PAUSED)
            http_parser_pause (&conn->parser, 0);
          start_request (conn);
          continue;
        }
      if (e != HPE_OK)
        fail_parse (conn, e);
      break;
    }
  conn->in_process = false;
  if (conn->closed)
    return;
  update_reading (conn);
  /* The peer has nothing more to say and everything it said is answered
     (bytes still buffered wait for the peer to read what is queued). */
  if (conn->peer_eof && (conn->state == KD_CONN_IDLE || conn->state == KD_CONN_READING)
      && conn->roff == conn->rlen)
    conn_finish (conn);
}

static void
on_read (uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  kd_http_conn_t *conn = s->data;

  if (nread == 0 || conn->closed)
    return;
  if (nread < 0)
    {
      if (nread != UV_EOF)
        {
          kd_conn_close (conn);
          return;
        }
      /* A half-close still gets the answers to what was sent; a handler
         that is waiting (or streaming) is told the peer is gone. */
      conn->peer_eof = true;
      update_reading (conn);
      if (conn->state == KD_CONN_HANDLING || conn->state == KD_CONN_STREAMING)
        conn_finish (conn);
      else
        conn_process (conn);
      return;
    }
  conn->rlen += (size_t) nread;
  conn_process (conn);
}

static void
on_timer (uv_timer_t *t)
{
  kd_http_conn_t *conn = t->data;
  cleanup_free char *message = NULL;

  switch (conn->state)
    {
    case KD_CONN_IDLE:
      kd_vlog (5, "closing idle connection of peer uid %d", (int) conn->peer_uid);
      kd_conn_close (conn);
      break;
    case KD_CONN_READING:
      message = xasprintf ("Timeout: the request did not arrive within %" PRIu64 "ms",
                           conn->header_timeout_ms);
      fail_request (conn, 408, "Timeout", message);
      break;
    case KD_CONN_FINISHING:
      kd_conn_close (conn);
      break;
    case KD_CONN_HANDLING:
    case KD_CONN_STREAMING:
      break;
    }
}

/* ---- parser callbacks --------------------------------------------- */

static int
reject (kd_http_conn_t *conn, int status, const char *reason, char *message)
{
  conn->parse_status = status;
  conn->parse_reason = reason;
  free (conn->parse_message);
  conn->parse_message = message;
  return -1;
}

static int
count_header_bytes (kd_http_conn_t *conn, size_t len)
{
  size_t limit = conn->max_request_bytes < KD_HTTP_MAX_HEADER_BYTES ? conn->max_request_bytes
                                                                    : KD_HTTP_MAX_HEADER_BYTES;
  conn->header_bytes += len;
  if (conn->header_bytes > limit)
    return reject (
        conn, 431, "RequestEntityTooLarge",
        xasprintf ("Request entity too large: request header fields exceed %zu bytes", limit));
  return 0;
}

static int
on_message_begin (http_parser *p)
{
  kd_http_conn_t *conn = p->data;

  conn->url.len = 0;
  conn->body.len = 0;
  if (conn->body.s)
    conn->body.s[0] = '\0';
  conn->header_bytes = 0;
  conn->hname_len = 0;
  conn->hname_too_long = false;
  conn->in_value = false;
  conn->expect_continue = false;
  conn->parse_status = 0;
  conn->req.method = NULL;
  conn->status = 0;
  conn->route = NULL;
  conn->start_ns = kd_monotonic_ns ();
  conn->state = KD_CONN_READING;
  /* From the first byte, not reset by later ones: a client that trickles
     a request cannot hold the connection past this. */
  arm_timer (conn, conn->header_timeout_ms);
  return 0;
}

static int
on_url (http_parser *p, const char *at, size_t len)
{
  kd_http_conn_t *conn = p->data;

  if (count_header_bytes (conn, len) < 0)
    return -1;
  kd_buf_append (&conn->url, at, len);
  return 0;
}

/* Only Expect matters here; the parser itself follows Content-Length,
   Transfer-Encoding and Connection. */
static void
header_end (kd_http_conn_t *conn)
{
  if (conn->in_value && !conn->hname_too_long && conn->hname_len == 6
      && strncasecmp (conn->hname, "expect", 6) == 0)
    conn->expect_continue = true;
  conn->hname_len = 0;
  conn->hname_too_long = false;
  conn->in_value = false;
}

static int
on_header_field (http_parser *p, const char *at, size_t len)
{
  kd_http_conn_t *conn = p->data;

  if (count_header_bytes (conn, len) < 0)
    return -1;
  if (conn->in_value)
    header_end (conn);
  if (conn->hname_len + len < sizeof (conn->hname))
    {
      memcpy (conn->hname + conn->hname_len, at, len);
      conn->hname_len += len;
    }
  else
    conn->hname_too_long = true;
  return 0;
}

static int
on_header_value (http_parser *p, const char *at, size_t len)
{
  kd_http_conn_t *conn = p->data;

  if (count_header_bytes (conn, len) < 0)
    return -1;
  conn->in_value = true;
  return 0;
}

static int
on_headers_complete (http_parser *p)
{
  kd_http_conn_t *conn = p->data;
  size_t room = conn->max_request_bytes - conn->header_bytes;
  bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length);

  header_end (conn);
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > room)
    {
      reject (conn, 413, "RequestEntityTooLarge",
              xasprintf ("Request entity too large: limit is %zu", conn->max_request_bytes));
      return -1; /* not 1 or 2: those mean "skip the body" to http_parser */
    }
  /* curl waits a second for this before it sends a large body. */
  if (conn->expect_continue && has_body && p->http_major == 1 && p->http_minor >= 1)
    queue_string (conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  return 0;
}

static int
on_body (http_parser *p, const char *at, size_t len)
{
  kd_http_conn_t *conn = p->data;

  if (conn->body.len + len > conn->max_request_bytes - conn->header_bytes)
    return reject (conn, 413, "RequestEntityTooLarge",
                   xasprintf ("Request entity too large: limit is %zu", conn->max_request_bytes));
  kd_buf_append (&conn->body, at, len);
  return 0;
}

static int
on_message_complete (http_parser *p)
{
  kd_http_conn_t *conn = p->data;

  conn->message_done = true;
  /* After an Upgrade or CONNECT the bytes that follow are not HTTP. */
  conn->keep_alive = http_should_keep_alive (p) && !p->upgrade;
  /* One request at a time: the rest stays in the buffer until answered. */
  http_parser_pause (p, 1);
  return 0;
}
