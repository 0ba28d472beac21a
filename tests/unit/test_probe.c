/* probe: the prober's thresholds and timers, exec attempts and the hooks,
   on a real loop with a local HTTP server and a stand-in shim script. */
#include "probe-test-lib.h"

/* ---- exec ---------------------------------------------------------------- */

static void
test_exec_exit_code_decides_and_output_is_stdout_then_stderr (void **state)
{
  attempt_res_t r;
  kd_handler_t h = exec_handler ("echo fine");

  attempt (*state, &h, 5000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_SUCCESS);
  assert_string_equal (r.output, "fine\n");
  res_free (&r);

  h = exec_handler ("echo err >&2; echo out; exit 3");
  attempt (*state, &h, 5000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_false (r.errored);
  assert_string_equal (r.output, "out\nerr\n");
  res_free (&r);
}

static void
test_exec_is_killed_at_timeout (void **state)
{
  attempt_res_t r;
  kd_handler_t h = exec_handler ("sleep 10");
  uint64_t t0 = uv_now (*state);

  attempt (*state, &h, 1000, &r);
  assert_int_equal (r.outcome, KD_OUTCOME_FAILURE);
  assert_string_equal (r.output, "command \"sh -c sleep 10\" timed out");
  assert_true (r.at - t0 < 1500);
  res_free (&r);
  /* the killed process is reaped through its handle */
  run_for (*state, 100);
}

static void
test_exec_expands_static_env_references (void **state)
{
  attempt_res_t r;
  kd_env_var_t env[] = { { (char *) "WHO", (char *) "world", NULL } };
  kd_handler_t h = exec_handler ("echo $(WHO) $(MISSING) $$(WHO)");
  kd_probe_target_t t = target ();
  kd_action_t a;
  char *err = NULL;

  ctr.env = env;
  ctr.n_env = 1;
  kd_action_init (&a, &h, &t, true);
  assert_string_equal (a.argv[2], "echo world $(MISSING) $(WHO)");
  memset (&r, 0, sizeof (r));
  assert_non_null (
      kd_action_start (*state, &a, KD_PROBE_USER_AGENT, 5000, false, on_attempt, &r, &err));
  kd_action_clear (&a);
  run_until (*state, &r.done, 5000);
  /* the shell sees $(MISSING) as a command substitution: only the
     expansion done before it matters here */
  assert_non_null (strstr (r.output, "world"));
  res_free (&r);
}

/* ---- the prober ---------------------------------------------------------- */

typedef struct
{
  int results;
  bool last;
  int failed;
  int warnings;
  char *last_msg;
  bool stop_on_result;
  bool got_result;
  kd_prober_t *p;
} obs_t;

static void
obs_result (kd_prober_t *p, kd_probe_kind_t kind, bool success, void *data)
{
  obs_t *o = data;
  o->results++;
  o->last = success;
  o->got_result = true;
  if (o->stop_on_result)
    {
      kd_prober_stop (p);
      o->p = NULL;
    }
}

static void
obs_failed (kd_prober_t *p, kd_probe_kind_t kind, const char *msg, void *data)
{
  obs_t *o = data;
  o->failed++;
  free (o->last_msg);
  o->last_msg = xstrdup (msg);
}

static void
obs_warning (kd_prober_t *p, kd_probe_kind_t kind, const char *msg, void *data)
{
  obs_t *o = data;
  o->warnings++;
  free (o->last_msg);
  o->last_msg = xstrdup (msg);
}

static kd_prober_t *
start (uv_loop_t *loop, kd_probe_kind_t kind, kd_probe_t *pr, obs_t *o)
{
  kd_probe_target_t t = target ();
  kd_prober_callbacks_t cbs = {
    .on_result = obs_result,
    .on_attempt_failed = obs_failed,
    .on_warning = obs_warning,
    .data = o,
  };
  o->p = kd_prober_start (loop, kind, pr, &t, &cbs);
  return o->p;
}

static void
test_prober_initial_results_per_kind (void **state)
{
  kd_probe_t pr = { .handler = exec_handler ("exit 0"), .initial_delay_seconds = 100 };
  obs_t o[3] = { 0 };

  kd_prober_t *l = start (*state, KD_PROBE_LIVENESS, &pr, &o[0]);
  kd_prober_t *r = start (*state, KD_PROBE_READINESS, &pr, &o[1]);
  kd_prober_t *s = start (*state, KD_PROBE_STARTUP, &pr, &o[2]);
  assert_true (kd_prober_result (l));
  assert_false (kd_prober_result (r));
  assert_false (kd_prober_result (s));
  run_for (*state, 50);
  assert_int_equal (o[0].results + o[1].results + o[2].results, 0);
  kd_prober_stop (l);
  kd_prober_stop (r);
  kd_prober_stop (s);
}

static void
test_prober_thresholds_flip_readiness_both_ways (void **state)
{
  /* 500, 200, 200 (Success after 2), 500, 500 (Failure after 2) */
  int seq[] = { 500, 200, 200, 500, 500 };
  memcpy (srv.seq, seq, sizeof (seq));
  srv.seq_n = 5;
  kd_probe_t pr = {
    .handler = http_handler ("/seq", srv.port),
    .period_seconds = 1,
    .timeout_seconds = 1,
    .success_threshold = 2,
    .failure_threshold = 2,
  };
  obs_t o = { 0 };

  start (*state, KD_PROBE_READINESS, &pr, &o);
  run_for (*state, 200); /* initialDelay 0: the first attempt is at once */
  assert_int_equal (srv.requests, 1);
  assert_int_equal (o.failed, 1);
  assert_string_equal (o.last_msg,
                       "Readiness probe failed: HTTP probe failed with statuscode: 500");
  assert_int_equal (o.results, 0); /* Failure was already the result */

  run_for (*state, 2000); /* attempts 2 and 3 */
  assert_int_equal (srv.requests, 3);
  assert_int_equal (o.results, 1);
  assert_true (o.last);
  assert_true (kd_prober_result (o.p));

  run_for (*state, 1000); /* attempt 4: one failure is not enough */
  assert_int_equal (o.results, 1);
  assert_true (kd_prober_result (o.p));
  run_for (*state, 1000); /* attempt 5 */
  assert_int_equal (o.results, 2);
  assert_false (o.last);
  assert_int_equal (o.failed, 3);
  kd_prober_stop (o.p);
  free (o.last_msg);
}

static void
test_prober_liveness_failure_reports_once_and_holds (void **state)
{
  kd_probe_t pr = {
    .handler = http_handler ("/fail", srv.port),
    .period_seconds = 1,
    .timeout_seconds = 1,
    .success_threshold = 1,
    .failure_threshold = 1,
  };
  obs_t o = { 0 };

  start (*state, KD_PROBE_LIVENESS, &pr, &o);
  run_until (*state, &o.got_result, 3000);
  assert_false (o.last);
  assert_string_equal (o.last_msg, "Liveness probe failed: HTTP probe failed with statuscode: 500");
  run_for (*state, 1500);
  assert_int_equal (srv.requests, 1); /* on hold: no more attempts */
  kd_prober_stop (o.p);
  free (o.last_msg);
}

static void
test_prober_startup_reports_first_failure (void **state)
{
  kd_probe_t pr = {
    .handler = exec_handler ("exit 1"),
    .period_seconds = 1,
    .timeout_seconds = 1,
    .failure_threshold = 1,
  };
  obs_t o = { .stop_on_result = true };

  start (*state, KD_PROBE_STARTUP, &pr, &o);
  run_until (*state, &o.got_result, 3000);
  assert_false (o.last);
  assert_int_equal (o.results, 1);
  assert_string_equal (o.last_msg, "Startup probe failed: ");
  free (o.last_msg);
}

static void
test_prober_initial_delay_holds_the_first_attempt (void **state)
{
  kd_probe_t pr = {
    .handler = http_handler ("/ok", srv.port),
    .initial_delay_seconds = 1,
    .period_seconds = 10,
    .timeout_seconds = 1,
  };
  obs_t o = { .stop_on_result = true };
  uint64_t t0 = uv_now (*state);

  start (*state, KD_PROBE_READINESS, &pr, &o);
  run_for (*state, 800);
  assert_int_equal (srv.requests, 0);
  run_until (*state, &o.got_result, 3000);
  assert_true (o.last);
  assert_true (uv_now (*state) - t0 >= 1000);
}

static void
test_prober_timeout_fails_liveness (void **state)
{
  kd_probe_t pr = {
    .handler = http_handler ("/slow", srv.port),
    .period_seconds = 10,
    .timeout_seconds = 1,
    .failure_threshold = 1,
  };
  obs_t o = { .stop_on_result = true };
  uint64_t t0 = uv_now (*state);

  start (*state, KD_PROBE_LIVENESS, &pr, &o);
  run_until (*state, &o.got_result, 3000);
  assert_false (o.last);
  assert_true (uv_now (*state) - t0 >= 1000);
  assert_non_null (strstr (o.last_msg, "Liveness probe failed: Get \"http://127.0.0.1:"));
  assert_non_null (strstr (o.last_msg, "(Client.Timeout exceeded while awaiting headers)"));
  free (o.last_msg);
}

static void
test_prober_error_is_reported_but_not_counted (void **state)
{
  kd_probe_t pr = {
    .handler = http_handler ("/ok", 0),
    .period_seconds = 10,
    .timeout_seconds = 1,
    .failure_threshold = 1,
  };
  obs_t o = { 0 };
  http_get.port.is_str = true;
  http_get.port.s = (char *) "nope";

  start (*state, KD_PROBE_LIVENESS, &pr, &o);
  run_for (*state, 100);
  assert_int_equal (o.failed, 1);
  assert_string_equal (o.last_msg, "Liveness probe errored and resulted in unknown state: "
                                   "strconv.Atoi: parsing \"nope\": invalid syntax");
  assert_int_equal (o.results, 0);
  assert_true (kd_prober_result (o.p));
  kd_prober_stop (o.p);
  free (o.last_msg);
}

static void
test_prober_redirect_warning_counts_as_success (void **state)
{
  kd_probe_t pr = {
    .handler = http_handler ("/redir-other", srv.port),
    .period_seconds = 10,
    .timeout_seconds = 1,
  };
  obs_t o = { .stop_on_result = true };

  start (*state, KD_PROBE_READINESS, &pr, &o);
  run_until (*state, &o.got_result, 3000);
  assert_true (o.last);
  assert_int_equal (o.warnings, 1);
  assert_string_equal (o.last_msg,
                       "Readiness probe warning: Probe terminated redirects, Response body: moved");
  free (o.last_msg);
}

static void
test_prober_stop_during_attempt_is_safe (void **state)
{
  kd_probe_t http_pr = {
    .handler = http_handler ("/slow", srv.port),
    .period_seconds = 10,
    .timeout_seconds = 5,
  };
  obs_t o1 = { 0 }, o2 = { 0 }, o3 = { 0 };
  start (*state, KD_PROBE_LIVENESS, &http_pr, &o1);
  kd_probe_t exec_pr = {
    .handler = exec_handler ("sleep 10"),
    .period_seconds = 10,
    .timeout_seconds = 5,
  };
  start (*state, KD_PROBE_LIVENESS, &exec_pr, &o2);
  memset (&grpc_act, 0, sizeof (grpc_act));
  grpc_act.port = closed_port ();
  kd_probe_t grpc_pr = {
    .handler = { .grpc = &grpc_act },
    .period_seconds = 10,
    .timeout_seconds = 5,
  };
  start (*state, KD_PROBE_LIVENESS, &grpc_pr, &o3);
  run_for (*state, 300);
  assert_int_equal (srv.requests, 1);
  kd_prober_stop (o1.p);
  kd_prober_stop (o2.p);
  kd_prober_stop (o3.p);
  run_for (*state, 300);
  assert_int_equal (o1.failed + o2.failed + o3.failed, 0);
  assert_int_equal (o1.results + o2.results + o3.results, 0);
}

/* ---- hooks --------------------------------------------------------------- */

typedef struct
{
  bool done;
  bool ok;
  char *msg;
  uint64_t at;
} hook_res_t;

static void
on_hook (kd_hook_t *h, bool ok, const char *message, void *data)
{
  hook_res_t *r = data;
  assert_false (r->done);
  r->done = true;
  r->ok = ok;
  r->msg = xstrdup (message);
  r->at = uv_now (cur_loop);
}

static void
hook (uv_loop_t *loop, const kd_handler_t *h, uint64_t timeout_ms, hook_res_t *r)
{
  kd_probe_target_t t = target ();
  memset (r, 0, sizeof (*r));
  assert_non_null (kd_hook_run (loop, h, &t, timeout_ms, on_hook, r));
  assert_false (r->done);
  run_until (loop, &r->done, 20000);
}

static void
test_hook_sleep_waits_and_deadline_cuts_it (void **state)
{
  hook_res_t r;
  uint64_t t0 = uv_now (*state);
  sleep_act.seconds = 1;
  kd_handler_t h = { .sleep = &sleep_act };

  hook (*state, &h, 5000, &r);
  assert_true (r.ok);
  assert_true (r.at - t0 >= 1000);
  free (r.msg);

  sleep_act.seconds = 5;
  t0 = uv_now (*state);
  hook (*state, &h, 300, &r);
  assert_false (r.ok);
  assert_true (r.at - t0 < 1000);
  assert_string_equal (r.msg, "Sleep lifecycle hook (5) for Container \"app\" in Pod "
                              "\"web_default(1234)\" failed - error: container terminated before "
                              "sleep hook finished");
  free (r.msg);
}

static void
test_hook_exec_success_failure_and_deadline (void **state)
{
  hook_res_t r;
  kd_handler_t h = exec_handler ("exit 0");

  hook (*state, &h, 5000, &r);
  assert_true (r.ok);
  free (r.msg);

  h = exec_handler ("echo bad >&2; exit 3");
  hook (*state, &h, 5000, &r);
  assert_false (r.ok);
  assert_string_equal (r.msg, "Exec lifecycle hook ([sh -c echo bad >&2; exit 3]) for Container "
                              "\"app\" in Pod \"web_default(1234)\" failed - error: command 'sh "
                              "-c echo bad >&2; exit 3' exited with 3: bad\n, message: \"bad\\n\"");
  free (r.msg);

  h = exec_handler ("sleep 10");
  uint64_t t0 = uv_now (*state);
  hook (*state, &h, 300, &r);
  assert_false (r.ok);
  assert_true (r.at - t0 < 1000);
  assert_non_null (strstr (r.msg, "failed - error: context deadline exceeded"));
  free (r.msg);
  run_for (*state, 100);
}

static void
test_hook_http_any_response_is_success (void **state)
{
  hook_res_t r;
  kd_handler_t h = http_handler ("/fail", srv.port);

  hook (*state, &h, 5000, &r);
  assert_true (r.ok);
  assert_non_null (strstr (srv.last_head, "User-Agent: kube-lifecycle/1.32\r\n"));
  free (r.msg);

  int port = closed_port ();
  h = http_handler ("/stop", port);
  hook (*state, &h, 5000, &r);
  assert_false (r.ok);
  cleanup_free char *want = xasprintf (
      "HTTP lifecycle hook (/stop) for Container \"app\" in Pod \"web_default(1234)\" failed - "
      "error: Get \"http://127.0.0.1:%d/stop\": dial tcp 127.0.0.1:%d: connect: connection "
      "refused",
      port, port);
  assert_string_equal (r.msg, want);
  free (r.msg);
}

static void
test_hook_cancel_calls_nothing (void **state)
{
  hook_res_t r = { 0 };
  kd_probe_target_t t = target ();
  kd_handler_t h = exec_handler ("sleep 10");
  kd_hook_t *k = kd_hook_run (*state, &h, &t, 5000, on_hook, &r);
  kd_handler_t hh = http_handler ("/slow", srv.port);
  kd_hook_t *k2 = kd_hook_run (*state, &hh, &t, 5000, on_hook, &r);
  run_for (*state, 200);
  kd_hook_cancel (k);
  kd_hook_cancel (k2);
  run_for (*state, 200);
  assert_false (r.done);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
    T (test_exec_exit_code_decides_and_output_is_stdout_then_stderr),
    T (test_exec_is_killed_at_timeout),
    T (test_exec_expands_static_env_references),
    T (test_prober_initial_results_per_kind),
    T (test_prober_thresholds_flip_readiness_both_ways),
    T (test_prober_liveness_failure_reports_once_and_holds),
    T (test_prober_startup_reports_first_failure),
    T (test_prober_initial_delay_holds_the_first_attempt),
    T (test_prober_timeout_fails_liveness),
    T (test_prober_error_is_reported_but_not_counted),
    T (test_prober_redirect_warning_counts_as_success),
    T (test_prober_stop_during_attempt_is_safe),
    T (test_hook_sleep_waits_and_deadline_cuts_it),
    T (test_hook_exec_success_failure_and_deadline),
    T (test_hook_http_any_response_is_success),
    T (test_hook_cancel_calls_nothing),
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
