/* A minimal grpc.health.v1.Health/Check server over HTTP/2 (nghttp2) on a
   libuv loop. Shared by the probe unit tests and the e2e tool
   tests/tools/kd-grpc-health.c, so both speak to the prober through the
   same wire code. The answer for each request comes from the policy the
   includer sets in grpc_health_policy. Needs kubeletd/util.h (xmalloc,
   kd_buf) and libuv included first. */
#ifndef KD_GRPC_HEALTH_SERVER_H
#define KD_GRPC_HEALTH_SERVER_H

#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <string.h>

#define KD_GRPC_UNUSED __attribute__ ((unused))

/* grpc.health.v1.HealthCheckResponse.ServingStatus values. */
#define GRPC_HEALTH_SERVING     1
#define GRPC_HEALTH_NOT_SERVING 2

/* Decides the answer for SERVICE: returns the grpc-status code (0 = OK,
   then *serving is sent as the response's status field; otherwise the
   call fails with that code and *message, percent-encoded). */
typedef int (*grpc_health_policy_t) (const char *service, int *serving, const char **message);

static grpc_health_policy_t grpc_health_policy;
static char grpc_seen_service[64];
static char grpc_seen_ua[64];

typedef struct
{
  uv_tcp_t tcp;
  nghttp2_session *s;
  kd_buf_t body;
  uint8_t out[64];
  size_t out_len, out_off;
  char status_text[8];
  char message[64];
} gconn_t;

static void
gwrite_done (uv_write_t *w, int status)
{
  free (w->data);
  free (w);
}

static ssize_t
gsend (nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
  gconn_t *c = ud;
  uv_write_t *w = xmalloc (sizeof (*w));
  char *copy = xmalloc (len);
  memcpy (copy, data, len);
  w->data = copy;
  uv_buf_t b = uv_buf_init (copy, (unsigned) len);
  uv_write (w, (uv_stream_t *) &c->tcp, &b, 1, gwrite_done);
  return (ssize_t) len;
}

static ssize_t
gread_body (nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
            nghttp2_data_source *src, void *ud)
{
  gconn_t *c = ud;
  size_t n = c->out_len - c->out_off;
  memcpy (buf, c->out + c->out_off, n);
  c->out_off += n;
  /* The status travels in trailers, so the data frame must not end the stream. */
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  nghttp2_nv trailers[] = {
    { (uint8_t *) "grpc-status", (uint8_t *) c->status_text, 11, strlen (c->status_text), 0 },
    { (uint8_t *) "grpc-message", (uint8_t *) c->message, 12, strlen (c->message), 0 },
  };
  nghttp2_submit_trailer (s, id, trailers, strcmp (c->status_text, "0") ? 2 : 1);
  return (ssize_t) n;
}

static int
gheader (nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
         const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
  if (nl == 10 && memcmp (name, "user-agent", 10) == 0)
    snprintf (grpc_seen_ua, sizeof (grpc_seen_ua), "%.*s", (int) vl, value);
  return 0;
}

static int
gdata (nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
  gconn_t *c = ud;
  kd_buf_append (&c->body, (const char *) data, len);
  return 0;
}

/* Percent-encodes like grpc-go does for grpc-message (space and
   non-printable bytes). */
static void
gencode_message (char *out, size_t size, const char *msg)
{
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *) msg; *p && o + 4 < size; p++)
    {
      if (*p <= ' ' || *p > '~' || *p == '%')
        o += (size_t) snprintf (out + o, size - o, "%%%02X", *p);
      else
        out[o++] = (char) *p;
    }
  out[o] = '\0';
}

static int
gframe (nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
  gconn_t *c = ud;
  if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) || f->hd.stream_id == 0)
    return 0;
  /* 5-byte gRPC prefix, then field 1 (service): tag 0x0a, length, bytes. */
  const char *svc = "";
  size_t svc_len = 0;
  if (c->body.len > 7)
    {
      svc = c->body.s + 7;
      svc_len = (size_t) (unsigned char) c->body.s[6];
    }
  snprintf (grpc_seen_service, sizeof (grpc_seen_service), "%.*s", (int) svc_len, svc);
  kd_buf_free (&c->body);

  int serving = GRPC_HEALTH_SERVING;
  const char *message = "";
  int code = grpc_health_policy (grpc_seen_service, &serving, &message);
  snprintf (c->status_text, sizeof (c->status_text), "%d", code);
  gencode_message (c->message, sizeof (c->message), message);
  uint8_t msg[] = { 0, 0, 0, 0, 2, 0x08, (uint8_t) serving };
  memcpy (c->out, msg, sizeof (msg));
  c->out_len = sizeof (msg);
  c->out_off = 0;
  nghttp2_nv hdrs[] = {
    { (uint8_t *) ":status", (uint8_t *) "200", 7, 3, 0 },
    { (uint8_t *) "content-type", (uint8_t *) "application/grpc", 12, 16, 0 },
  };
  nghttp2_data_provider dp = { .read_callback = gread_body };
  nghttp2_submit_response (s, f->hd.stream_id, hdrs, 2, &dp);
  return 0;
}

static void
gconn_closed (uv_handle_t *h)
{
  gconn_t *c = h->data;
  nghttp2_session_del (c->s);
  kd_buf_free (&c->body);
  free (c);
}

static void
galloc (uv_handle_t *h, size_t s, uv_buf_t *b)
{
  b->base = xmalloc (4096);
  b->len = 4096;
}

static void
gread (uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
  gconn_t *c = st->data;
  if (n < 0)
    {
      if (!uv_is_closing ((uv_handle_t *) st))
        uv_close ((uv_handle_t *) st, gconn_closed);
    }
  else if (n > 0)
    {
      nghttp2_session_mem_recv (c->s, (uint8_t *) b->base, (size_t) n);
      nghttp2_session_send (c->s);
    }
  free (b->base);
}

/* The connection callback for a listener: one nghttp2 server session per
   accepted connection, freed when the peer goes away. */
static KD_GRPC_UNUSED void
gaccept (uv_stream_t *l, int status)
{
  gconn_t *c = xcalloc (1, sizeof (*c));
  nghttp2_session_callbacks *cbs;

  uv_tcp_init (l->loop, &c->tcp);
  c->tcp.data = c;
  uv_accept (l, (uv_stream_t *) &c->tcp);
  nghttp2_session_callbacks_new (&cbs);
  nghttp2_session_callbacks_set_send_callback (cbs, gsend);
  nghttp2_session_callbacks_set_on_frame_recv_callback (cbs, gframe);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs, gdata);
  nghttp2_session_callbacks_set_on_header_callback (cbs, gheader);
  nghttp2_session_server_new (&c->s, cbs, c);
  nghttp2_session_callbacks_del (cbs);
  nghttp2_submit_settings (c->s, NGHTTP2_FLAG_NONE, NULL, 0);
  nghttp2_session_send (c->s);
  uv_read_start ((uv_stream_t *) &c->tcp, galloc, gread);
}

#endif
