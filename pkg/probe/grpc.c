/* grpc: grpc.health.v1.Health/Check over HTTP/2 (nghttp2) on the loop, as
   the kubelet's gRPC prober (pkg/probe/grpc) does with grpc-go:
   1. connect, retrying like grpc-go's WithBlock dial (1 s back-off) until
      the deadline: "timeout: failed to connect service \"H:P\" within 1s:
      context deadline exceeded";
   2. once the server's SETTINGS arrived the channel is ready; the request
      is the gRPC framing of HealthCheckRequest{service} (field 1, string);
   3. the answer: grpc-status 0 and HealthCheckResponse.status (field 1)
      SERVING (1) is a success; another status is "service unhealthy
      (responded with \"NOT_SERVING\")"; a non-zero grpc-status is an rpc
      error; no answer by the deadline is "timeout: health rpc did not
      complete within 1s".
   Any problem is a Failure, never an error, as the kubelet's prober says. */
#include <nghttp2/nghttp2.h>

#include "probe-internal.h"

#define GRPC_RETRY_MS 1000

typedef struct grpc_probe grpc_probe_t;

typedef struct
{
  uv_tcp_t tcp;
  uv_connect_t connect;
  grpc_probe_t *owner;
} conn_t;

struct grpc_probe
{
  kd_attempt_t base;
  uv_loop_t *loop;
  uv_timer_t deadline;
  uv_timer_t retry;
  conn_t *conn;
  nghttp2_session *session;
  struct sockaddr_storage addr;
  bool addr_ok;
  char *hostport;
  char *user_agent;
  uint8_t *req;
  size_t req_len, req_off;
  uint64_t timeout_ms;
  uint64_t started_ms;
  int32_t stream_id;
  kd_buf_t resp;
  int http_status;
  int grpc_status; /* -1: none */
  char *grpc_message;
  bool ready;       /* the server's SETTINGS arrived */
  bool stream_done; /* set from nghttp2 callbacks, acted on after them */
  bool reported;
  int pending;
  kd_attempt_cb cb;
  void *data;
};

static const char *const grpc_codes[] = {
  "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
  "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
  "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
  "DataLoss", "Unauthenticated",
};

static const char *const serving_status[]
    = { "UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" };

static void
release (grpc_probe_t *g)
{
  if (--g->pending > 0)
    return;
  free (g->hostport);
  free (g->user_agent);
  free (g->req);
  free (g->grpc_message);
  kd_buf_free (&g->resp);
  free (g);
}

static void
on_handle_close (uv_handle_t *h)
{
  release (h->data);
}

static void
on_conn_close (uv_handle_t *h)
{
  conn_t *c = h->data;
  grpc_probe_t *g = c->owner;
  free (c);
  release (g);
}

static void
drop_conn (grpc_probe_t *g)
{
  if (g->session)
    {
      nghttp2_session_del (g->session);
      g->session = NULL;
    }
  if (g->conn)
    {
      uv_close ((uv_handle_t *) &g->conn->tcp, on_conn_close);
      g->conn = NULL;
    }
  g->ready = false;
  g->stream_done = false;
}

static void
teardown (grpc_probe_t *g)
{
  drop_conn (g);
  uv_close ((uv_handle_t *) &g->deadline, on_handle_close);
  uv_close ((uv_handle_t *) &g->retry, on_handle_close);
}

static void
report (grpc_probe_t *g, kd_outcome_t o, const char *msg)
{
  if (g->reported)
    return;
  g->reported = true;
  teardown (g);
  g->cb (g->data, o, false, msg);
}

static void
report_rpc_error (grpc_probe_t *g, int code, const char *desc)
{
  char dur[32];
  cleanup_free char *msg = NULL;

  kd_go_duration ((int64_t) g->timeout_ms * 1000000, dur, sizeof (dur));
  if (code == 12)
    msg = xasprintf ("error: this server does not implement the grpc health protocol "
                     "(grpc.health.v1.Health): %s",
                     desc);
  else if (code == 4)
    msg = xasprintf ("timeout: health rpc did not complete within %s", dur);
  else if (code >= 0 && code < (int) KD_ARRAY_SIZE (grpc_codes))
    msg = xasprintf ("error: health rpc probe failed: rpc error: code = %s desc = %s",
                     grpc_codes[code], desc);
  else
    msg = xasprintf ("error: health rpc probe failed: rpc error: code = Code(%d) desc = %s", code,
                     desc);
  report (g, KD_OUTCOME_FAILURE, msg);
}

/* HealthCheckResponse: field 1 (status), a varint. */
static int
parse_status (const uint8_t *p, size_t n)
{
  size_t i = 0;
  int status = 0;

  while (i < n)
    {
      uint64_t key = 0, v = 0;
      for (int s = 0; i < n; s += 7)
        {
          key |= (uint64_t) (p[i] & 0x7f) << s;
          if (!(p[i++] & 0x80))
            break;
        }
      switch (key & 7)
        {
        case 0:
          for (int s = 0; i < n; s += 7)
            {
              v |= (uint64_t) (p[i] & 0x7f) << s;
              if (!(p[i++] & 0x80))
                break;
            }
          if ((key >> 3) == 1)
            status = (int) v;
          break;
        case 2:
          for (int s = 0; i < n; s += 7)
            {
              v |= (uint64_t) (p[i] & 0x7f) << s;
              if (!(p[i++] & 0x80))
                break;
            }
          i += v;
          break;
        case 1:
          i += 8;
          break;
        case 5:
          i += 4;
          break;
        default:
          return status;
        }
    }
  return status;
}

static void
rpc_finished (grpc_probe_t *g)
{
  if (g->grpc_status < 0)
    {
      cleanup_free char *desc
          = xasprintf ("unexpected HTTP status code received from server: %d", g->http_status);
      report_rpc_error (g, g->http_status == 404 ? 12 : 2, desc);
      return;
    }
  if (g->grpc_status != 0)
    {
      report_rpc_error (g, g->grpc_status, g->grpc_message ? g->grpc_message : "");
      return;
    }
  int status = 0;
  if (g->resp.len >= 5)
    status = parse_status ((const uint8_t *) g->resp.s + 5, g->resp.len - 5);
  if (status == 1)
    {
      report (g, KD_OUTCOME_SUCCESS, "service healthy");
      return;
    }
  char num[16];
  snprintf (num, sizeof (num), "%d", status);
  cleanup_free char *q = kd_fe_quote (status >= 0 && status < 4 ? serving_status[status] : num);
  cleanup_free char *msg = xasprintf ("service unhealthy (responded with %s)", q);
  report (g, KD_OUTCOME_FAILURE, msg);
}

/* ---- nghttp2 callbacks: record only, act after them ---------------------- */

static void
on_write_done (uv_write_t *w, int status)
{
  free (w->data);
  free (w);
}

static ssize_t
send_cb (nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user_data)
{
  grpc_probe_t *g = user_data;
  uv_write_t *w = xmalloc (sizeof (*w));
  char *copy = xmalloc (len);
  uv_buf_t buf = uv_buf_init (copy, (unsigned) len);

  memcpy (copy, data, len);
  w->data = copy;
  if (uv_write (w, (uv_stream_t *) &g->conn->tcp, &buf, 1, on_write_done) < 0)
    {
      free (copy);
      free (w);
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  return (ssize_t) len;
}

static int
on_frame_recv (nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
  grpc_probe_t *g = user_data;
  if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
    g->ready = true;
  return 0;
}

static int
on_header (nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
           const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  grpc_probe_t *g = user_data;
  cleanup_free char *v = xstrndup ((const char *) value, valuelen);

  if (frame->hd.stream_id != g->stream_id)
    return 0;
  if (namelen == 7 && memcmp (name, ":status", 7) == 0)
    g->http_status = atoi (v);
  else if (namelen == 11 && memcmp (name, "grpc-status", 11) == 0)
    g->grpc_status = atoi (v);
  else if (namelen == 12 && memcmp (name, "grpc-message", 12) == 0)
    {
      /* percent-decoded, as grpc-go shows it */
      char *o = v;
      for (const char *p = v; *p; p++)
        {
          unsigned x;
          if (p[0] == '%' && p[1] && p[2] && sscanf (p + 1, "%2x", &x) == 1)
            {
              *o++ = (char) x;
              p += 2;
            }
          else
            *o++ = *p;
        }
      *o = '\0';
      free (g->grpc_message);
      g->grpc_message = steal_pointer (&v);
    }
  return 0;
}

static int
on_data_chunk (nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
               size_t len, void *user_data)
{
  grpc_probe_t *g = user_data;
  if (stream_id == g->stream_id && g->resp.len < 64 * 1024)
    kd_buf_append (&g->resp, (const char *) data, len);
  return 0;
}

static int
on_stream_close (nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user_data)
{
  grpc_probe_t *g = user_data;
  if (stream_id == g->stream_id)
    g->stream_done = true;
  return 0;
}

static ssize_t
read_body (nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *data_flags,
           nghttp2_data_source *source, void *user_data)
{
  grpc_probe_t *g = user_data;
  size_t n = g->req_len - g->req_off;

  if (n > length)
    n = length;
  memcpy (buf, g->req + g->req_off, n);
  g->req_off += n;
  if (g->req_off == g->req_len)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t) n;
}

/* ---- the connection ------------------------------------------------------ */

static void start_connect (grpc_probe_t *g);

static void
on_retry (uv_timer_t *t)
{
  grpc_probe_t *g = t->data;
  if (!g->reported)
    start_connect (g);
}

/* Not ready yet: grpc-go keeps dialing until the deadline. */
static void
connect_failed (grpc_probe_t *g)
{
  drop_conn (g);
  uv_timer_start (&g->retry, on_retry, GRPC_RETRY_MS, 0);
}

static void
after_io (grpc_probe_t *g)
{
  if (g->stream_done)
    {
      rpc_finished (g);
      return;
    }
  if (g->session && nghttp2_session_send (g->session) != 0)
    {
      if (g->ready)
        report_rpc_error (g, 14, "connection error");
      else
        connect_failed (g);
    }
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  static char scratch[16384];
  buf->base = scratch;
  buf->len = sizeof (scratch);
}

static void
on_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  conn_t *c = s->data;
  grpc_probe_t *g = c->owner;

  if (g->reported || g->conn != c || n == 0)
    return;
  if (n < 0)
    {
      if (g->ready)
        report_rpc_error (g, 14, "error reading from server: EOF");
      else
        connect_failed (g);
      return;
    }
  if (nghttp2_session_mem_recv (g->session, (const uint8_t *) buf->base, (size_t) n) < 0)
    {
      if (g->ready)
        report_rpc_error (g, 13, "connection error: PROTOCOL_ERROR");
      else
        connect_failed (g);
      return;
    }
  after_io (g);
}

static void
on_connect (uv_connect_t *req, int status)
{
  conn_t *c = req->data;
  grpc_probe_t *g = c->owner;
  nghttp2_session_callbacks *cbs;

  if (g->reported || g->conn != c)
    return;
  if (status < 0)
    {
      connect_failed (g);
      return;
    }

  nghttp2_session_callbacks_new (&cbs);
  nghttp2_session_callbacks_set_send_callback (cbs, send_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_header_callback (cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback (cbs, on_stream_close);
  nghttp2_session_client_new (&g->session, cbs, g);
  nghttp2_session_callbacks_del (cbs);
  nghttp2_submit_settings (g->session, NGHTTP2_FLAG_NONE, NULL, 0);

  int64_t left = (int64_t) g->timeout_ms - (int64_t) (uv_now (g->loop) - g->started_ms);
  char timeout[32];
  snprintf (timeout, sizeof (timeout), "%" PRId64 "m", left > 0 ? left : 1);
#define NV(n, v)                                                                                   \
  {                                                                                                \
    (uint8_t *) (n), (uint8_t *) (v), sizeof (n) - 1, strlen (v), NGHTTP2_NV_FLAG_NONE             \
  }
  const nghttp2_nv hdrs[] = {
    NV (":method", "POST"),
    NV (":scheme", "http"),
    NV (":path", "/grpc.health.v1.Health/Check"),
    NV (":authority", g->hostport),
    NV ("content-type", "application/grpc"),
    NV ("user-agent", g->user_agent),
    NV ("te", "trailers"),
    NV ("grpc-timeout", timeout),
  };
#undef NV
  nghttp2_data_provider body = { .read_callback = read_body };
  g->req_off = 0;
  g->resp.len = 0;
  g->grpc_status = -1;
  g->http_status = 0;
  g->stream_id = nghttp2_submit_request (g->session, NULL, hdrs, KD_ARRAY_SIZE (hdrs), &body, g);
  uv_read_start ((uv_stream_t *) &c->tcp, on_alloc, on_read);
  after_io (g);
}

static void
start_connect (grpc_probe_t *g)
{
  conn_t *c = xcalloc (1, sizeof (*c));

  c->owner = g;
  uv_tcp_init (g->loop, &c->tcp);
  c->tcp.data = c;
  c->connect.data = c;
  g->conn = c;
  g->pending++;
  if (!g->addr_ok
      || uv_tcp_connect (&c->connect, &c->tcp, (const struct sockaddr *) &g->addr, on_connect) < 0)
    connect_failed (g);
}

static void
on_deadline (uv_timer_t *t)
{
  grpc_probe_t *g = t->data;
  char dur[32];

  kd_go_duration ((int64_t) g->timeout_ms * 1000000, dur, sizeof (dur));
  if (g->ready)
    {
      report_rpc_error (g, 4, "context deadline exceeded");
      return;
    }
  cleanup_free char *q = kd_fe_quote (g->hostport);
  cleanup_free char *msg = xasprintf (
      "timeout: failed to connect service %s within %s: context deadline exceeded", q, dur);
  report (g, KD_OUTCOME_FAILURE, msg);
}

static void
grpc_cancel (kd_attempt_t *base)
{
  grpc_probe_t *g = (grpc_probe_t *) base;
  if (g->reported)
    return;
  g->reported = true;
  teardown (g);
}

kd_attempt_t *
kd_grpc_start (uv_loop_t *loop, const char *host, int port, const char *service,
               const char *user_agent, uint64_t timeout_ms, kd_attempt_cb cb, void *data)
{
  grpc_probe_t *g = xcalloc (1, sizeof (*g));
  size_t slen = service ? strlen (service) : 0;
  size_t msg_len = 0;
  uint8_t msg[16 + 4096];

  g->base.cancel = grpc_cancel;
  g->loop = loop;
  g->cb = cb;
  g->data = data;
  g->timeout_ms = timeout_ms ? timeout_ms : 1000;
  g->started_ms = uv_now (loop);
  g->hostport = kd_join_host_port (host, port);
  g->user_agent = xstrdup (user_agent ? user_agent : KD_PROBE_USER_AGENT);
  g->grpc_status = -1;
  g->addr_ok = uv_ip4_addr (host, port, (struct sockaddr_in *) &g->addr) == 0
               || uv_ip6_addr (host, port, (struct sockaddr_in6 *) &g->addr) == 0;

  /* HealthCheckRequest{service}: tag 0x0a, varint length, bytes; an empty
     service is the empty message. */
  if (slen > 4096)
    slen = 4096;
  if (slen)
    {
      msg[msg_len++] = 0x0a;
      size_t v = slen;
      do
        {
          msg[msg_len++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
          v >>= 7;
        }
      while (v);
      memcpy (msg + msg_len, service, slen);
      msg_len += slen;
    }
  /* gRPC framing: uncompressed flag, 4-byte big-endian length. */
  g->req_len = 5 + msg_len;
  g->req = xmalloc (g->req_len);
  g->req[0] = 0;
  g->req[1] = (uint8_t) (msg_len >> 24);
  g->req[2] = (uint8_t) (msg_len >> 16);
  g->req[3] = (uint8_t) (msg_len >> 8);
  g->req[4] = (uint8_t) msg_len;
  memcpy (g->req + 5, msg, msg_len);

  uv_timer_init (loop, &g->deadline);
  uv_timer_init (loop, &g->retry);
  g->deadline.data = g->retry.data = g;
  g->pending = 2;
  uv_timer_start (&g->deadline, on_deadline, g->timeout_ms, 0);
  start_connect (g);
  return &g->base;
}
