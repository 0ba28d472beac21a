/* probe engines on the network: httpGet (curl multi on the loop), tcpSocket
   and grpc health against local servers on 127.0.0.1. */
#include <nghttp2/nghttp2.h>

#include "probe-test-lib.h"

/* ---- httpGet ------------------------------------------------------------- */

static void
test_http_200_succeeds_with_kube_probe_headers (void **state)
{
  attempt_res_t r;
  kd_http_header_t hdr[] = { { (char *) "X-Custom", (char *) "yes" } };
  kd_handler_t h = http_handler ("/ok", srv.port);
  http_get.http_headers = hdr;
  http_get.n_http_headers = 1;

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_string_equal (r.output, "ok");
  assert_non_null (strstr (srv.last_head, "User-Agent: kube-probe/1.32\r\n"));
  assert_non_null (strstr (srv.last_head, "Accept: */*\r\n"));
  assert_non_null (strstr (srv.last_head, "X-Custom: yes\r\n"));
  cleanup_free char *host = xasprintf ("Host: 127.0.0.1:%d\r\n", srv.port);
  assert_non_null (strstr (srv.last_head, host));
  res_free (&r);
}

static void
test_http_host_and_user_agent_headers_override (void **state)
{
  attempt_res_t r;
  kd_http_header_t hdr[] = { { (char *) "Host", (char *) "example.com" },
                             { (char *) "user-agent", (char *) "mine/1" },
                             { (char *) "Accept", (char *) "" } };
  kd_handler_t h = http_handler ("/ok", srv.port);
  http_get.http_headers = hdr;
  http_get.n_http_headers = 3;

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_non_null (strstr (srv.last_head, "Host: example.com\r\n"));
  assert_non_null (strstr (srv.last_head, "user-agent: mine/1\r\n"));
  assert_null (strstr (srv.last_head, "kube-probe"));
  assert_null (strstr (srv.last_head, "Accept:"));
  res_free (&r);
}

static void
test_http_500_fails_with_statuscode_message (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/fail", srv.port);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_false (r.errored);
  assert_string_equal (r.output, "HTTP probe failed with statuscode: 500");
  res_free (&r);
}

static void
test_http_named_port_resolves_to_container_port (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/ok", 0);
  http_get.port.is_str = true;
  http_get.port.s = (char *) "web";

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_string_equal (srv.last_path, "/ok");
  res_free (&r);
}

static void
test_http_unknown_named_port_is_an_error_like_strconv (void **state)
{
  kd_probe_target_t t = target ();
  kd_handler_t h = http_handler ("/ok", 0);
  kd_action_t a;
  char *err = NULL;
  attempt_res_t r = { 0 };

  http_get.port.is_str = true;
  http_get.port.s = (char *) "nope";
  kd_action_init (&a, &h, &t, true);
  assert_null (
      kd_action_start (*state, &a, KD_PROBE_USER_AGENT, 1000, false, on_attempt, &r, &err));
  assert_string_equal (err, "strconv.Atoi: parsing \"nope\": invalid syntax");
  free (err);
  kd_action_clear (&a);
  http_get.port.s = (char *) "70000";
  kd_action_init (&a, &h, &t, true);
  assert_null (
      kd_action_start (*state, &a, KD_PROBE_USER_AGENT, 1000, false, on_attempt, &r, &err));
  assert_string_equal (err, "invalid port number: 70000");
  free (err);
  kd_action_clear (&a);
}

static void
test_http_connection_refused_message (void **state)
{
  attempt_res_t r;
  int port = closed_port ();
  kd_handler_t h = http_handler ("/ok", port);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  cleanup_free char *want = xasprintf (
      "Get \"http://127.0.0.1:%d/ok\": dial tcp 127.0.0.1:%d: connect: connection refused", port,
      port);
  assert_string_equal (r.output, want);
  res_free (&r);
}

static void
test_http_server_that_never_answers_fails_at_timeout (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/slow", srv.port);
  uint64_t t0 = uv_now (*state);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_true (r.at - t0 >= 990 && r.at - t0 < 1500);
  cleanup_free char *want = xasprintf ("Get \"http://127.0.0.1:%d/slow\": context deadline "
                                       "exceeded (Client.Timeout exceeded while awaiting headers)",
                                       srv.port);
  assert_string_equal (r.output, want);
  res_free (&r);
}

static void
test_http_same_host_redirect_is_followed (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/redir-same", srv.port);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_int_equal (srv.requests, 2);
  assert_string_equal (srv.last_path, "/ok");
  res_free (&r);
}

static void
test_http_redirect_to_other_host_is_a_warning (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/redir-other", srv.port);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_WARNING);
  assert_string_equal (r.output, "Probe terminated redirects, Response body: moved");
  assert_int_equal (srv.requests, 1);
  res_free (&r);
}

static void
test_http_redirect_loop_stops_after_10 (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/loop", srv.port);

  attempt (*state, &h, 5000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_int_equal (srv.requests, 11);
  cleanup_free char *want
      = xasprintf ("Get \"http://127.0.0.1:%d/loop\": stopped after 10 redirects", srv.port);
  assert_string_equal (r.output, want);
  res_free (&r);
}

static void
test_http_body_is_read_up_to_10k (void **state)
{
  attempt_res_t r;
  kd_handler_t h = http_handler ("/big", srv.port);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_int_equal (strlen (r.output), 10240);
  res_free (&r);
}

/* ---- tcpSocket ----------------------------------------------------------- */

static void
test_tcp_open_port_succeeds_closed_port_fails (void **state)
{
  attempt_res_t r;
  int port = closed_port ();

  memset (&tcp_sock, 0, sizeof (tcp_sock));
  tcp_sock.port.set = true;
  tcp_sock.port.is_str = true;
  tcp_sock.port.s = (char *) "web";
  kd_handler_t h = { .tcp_socket = &tcp_sock };
  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  res_free (&r);

  tcp_sock.port.is_str = false;
  tcp_sock.port.s = NULL;
  tcp_sock.port.i = port;
  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  cleanup_free char *want = xasprintf ("dial tcp 127.0.0.1:%d: connect: connection refused", port);
  assert_string_equal (r.output, want);
  res_free (&r);
}

/* ---- grpc ---------------------------------------------------------------- */

/* A gRPC health server: SERVING for "", NOT_SERVING for "sick", NotFound
   for anything else, Unimplemented when grpc_unimplemented. */
typedef struct
{
  uv_tcp_t tcp;
  nghttp2_session *s;
  kd_buf_t body;
  uint8_t out[64];
  size_t out_len, out_off;
  char status_text[8];
} gconn_t;

static uv_tcp_t grpc_listener;
static int grpc_port;
static char grpc_seen_service[64];
static char grpc_seen_ua[64];

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
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  nghttp2_nv trailers[] = {
    { (uint8_t *) "grpc-status", (uint8_t *) c->status_text, 11, strlen (c->status_text), 0 },
    { (uint8_t *) "grpc-message", (uint8_t *) "unknown%20service", 12, 17, 0 },
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

static int
gframe (nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
  gconn_t *c = ud;
  if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) || f->hd.stream_id == 0)
    return 0;
  /* 5-byte prefix, then field 1 */
  const char *svc = "";
  size_t svc_len = 0;
  if (c->body.len > 7)
    {
      svc = c->body.s + 7;
      svc_len = (size_t) (unsigned char) c->body.s[6];
    }
  snprintf (grpc_seen_service, sizeof (grpc_seen_service), "%.*s", (int) svc_len, svc);
  int status = 1;
  strcpy (c->status_text, "0");
  if (strcmp (grpc_seen_service, "sick") == 0)
    status = 2;
  else if (strcmp (grpc_seen_service, "unimpl") == 0)
    strcpy (c->status_text, "12");
  else if (grpc_seen_service[0])
    strcpy (c->status_text, "5");
  uint8_t msg[] = { 0, 0, 0, 0, 2, 0x08, (uint8_t) status };
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

static void
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
  uv_read_start ((uv_stream_t *) &c->tcp, halloc, gread);
}

static void
grpc_attempt (uv_loop_t *loop, const char *service, int port, attempt_res_t *r)
{
  memset (&grpc_act, 0, sizeof (grpc_act));
  grpc_act.port = port;
  grpc_act.service = (char *) service;
  kd_handler_t h = { .grpc = &grpc_act };
  attempt (loop, &h, 1000, r);
}

static void
test_grpc_health_check_statuses (void **state)
{
  attempt_res_t r;

  grpc_port = listen_on (*state, &grpc_listener, gaccept);
  grpc_attempt (*state, "", grpc_port, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_string_equal (grpc_seen_ua, "kube-probe/1.32");
  res_free (&r);

  grpc_attempt (*state, "sick", grpc_port, &r);
  assert_string_equal (grpc_seen_service, "sick");
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_string_equal (r.output, "service unhealthy (responded with \"NOT_SERVING\")");
  res_free (&r);

  grpc_attempt (*state, "other", grpc_port, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_string_equal (r.output,
                       "error: health rpc probe failed: rpc error: code = NotFound desc = unknown "
                       "service");
  res_free (&r);

  grpc_attempt (*state, "unimpl", grpc_port, &r);
  assert_string_equal (r.output, "error: this server does not implement the grpc health "
                                 "protocol (grpc.health.v1.Health): unknown service");
  res_free (&r);

  uv_close ((uv_handle_t *) &grpc_listener, NULL);
  run_for (*state, 50);
}

static void
test_grpc_closed_port_times_out_like_grpc_go (void **state)
{
  attempt_res_t r;
  int port = closed_port ();
  uint64_t t0 = uv_now (*state);

  grpc_attempt (*state, "", port, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_true (r.at - t0 >= 990);
  cleanup_free char *want = xasprintf (
      "timeout: failed to connect service \"127.0.0.1:%d\" within 1s: context deadline exceeded",
      port);
  assert_string_equal (r.output, want);
  res_free (&r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
    T (test_http_200_succeeds_with_kube_probe_headers),
    T (test_http_host_and_user_agent_headers_override),
    T (test_http_500_fails_with_statuscode_message),
    T (test_http_named_port_resolves_to_container_port),
    T (test_http_unknown_named_port_is_an_error_like_strconv),
    T (test_http_connection_refused_message),
    T (test_http_server_that_never_answers_fails_at_timeout),
    T (test_http_same_host_redirect_is_followed),
    T (test_http_redirect_to_other_host_is_a_warning),
    T (test_http_redirect_loop_stops_after_10),
    T (test_http_body_is_read_up_to_10k),
    T (test_tcp_open_port_succeeds_closed_port_fails),
    T (test_grpc_health_check_statuses),
    T (test_grpc_closed_port_times_out_like_grpc_go),
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
