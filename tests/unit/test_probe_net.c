/* probe engines on the network: httpGet (curl multi on the loop), tcpSocket
   and grpc health against local servers on 127.0.0.1. */
#include "probe-test-lib.h"

#include "grpc-health-server.h"

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

/* The health server's answers here: SERVING for "", NOT_SERVING for
   "sick", Unimplemented for "unimpl", NotFound for anything else. */
static int
unit_policy (const char *service, int *serving, const char **message)
{
  *message = "unknown service";
  if (strcmp (service, "sick") == 0)
    *serving = GRPC_HEALTH_NOT_SERVING;
  else if (strcmp (service, "unimpl") == 0)
    return 12;
  else if (service[0])
    return 5;
  return 0;
}

static uv_tcp_t grpc_listener;
static int grpc_port;

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

  grpc_health_policy = unit_policy;
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
