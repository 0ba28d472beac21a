/* pod backoff: CrashLoopBackOff and image pull back-off, the restart rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/podlogic.h"

#define S(x) ((int64_t) (x) *1000000000LL)

static void
test_backoff_first_restart_immediate_then_doubles_to_cap (void **state)
{
  kd_backoff_cfg_t cfg = kd_backoff_crashloop_cfg (0, 0);
  kd_backoff_t b = { 0 };
  int64_t now = S (1000), wait = -1, shown = -1;
  static const int64_t expect[] = { 10, 20, 40, 80, 160, 300, 300 };

  /* exit 1: restart at once */
  assert_false (kd_crashloop_check (&cfg, &b, now, now, &wait, &shown));
  assert_int_equal (wait, 0);
  for (size_t i = 0; i < KD_ARRAY_SIZE (expect); i++)
    {
      int64_t finished = now + S (1); /* each run lasts 1 s */
      now = finished;
      assert_true (kd_crashloop_check (&cfg, &b, finished, now, &wait, &shown));
      assert_int_equal (shown, S (expect[i]));
      assert_int_equal (wait, S (expect[i]));
      /* one nanosecond before the end it still waits */
      assert_true (
          kd_crashloop_check (&cfg, &b, finished, finished + S (expect[i]) - 1, &wait, NULL));
      assert_int_equal (wait, 1);
      now = finished + S (expect[i]);
      assert_false (kd_crashloop_check (&cfg, &b, finished, now, &wait, NULL));
    }
}

static void
test_backoff_resets_after_ten_minutes_of_running (void **state)
{
  kd_backoff_cfg_t cfg = kd_backoff_crashloop_cfg (0, 0);
  kd_backoff_t b = { 0 };
  int64_t t = S (5000), shown;

  assert_false (kd_crashloop_check (&cfg, &b, t, t, NULL, NULL));                  /* 10 s */
  assert_false (kd_crashloop_check (&cfg, &b, t + S (1), t + S (11), NULL, NULL)); /* 20 s */
  int64_t restarted = t + S (11);
  /* ran exactly 600 s: not stale yet, back-off continues at 20 s */
  assert_true (
      kd_crashloop_check (&cfg, &b, restarted + S (600), restarted + S (600), NULL, &shown));
  assert_int_equal (shown, S (20));
  /* ran 600 s and 1 ns: stale, restart at once, next at 10 s */
  kd_backoff_t c = b;
  assert_false (
      kd_crashloop_check (&cfg, &c, restarted + S (600) + 1, restarted + S (600) + 1, NULL, NULL));
  assert_int_equal (c.backoff_ns, S (10));
}

static void
test_backoff_configurable_initial_and_max (void **state)
{
  kd_backoff_cfg_t cfg = kd_backoff_crashloop_cfg (1000000000LL / 2, S (2));
  kd_backoff_t b = { 0 };
  kd_backoff_next (&cfg, &b, 0, 0);
  assert_int_equal (b.backoff_ns, S (1) / 2);
  kd_backoff_next (&cfg, &b, 1, 1);
  assert_int_equal (b.backoff_ns, S (1));
  kd_backoff_next (&cfg, &b, 2, 2);
  kd_backoff_next (&cfg, &b, 3, 3);
  assert_int_equal (b.backoff_ns, S (2));
  /* the reset stays at 10 minutes whatever max is */
  assert_int_equal (cfg.reset_ns, S (600));
}

static void
test_image_backoff_since_last_failed_pull (void **state)
{
  kd_backoff_cfg_t cfg = kd_backoff_image_cfg ();
  kd_backoff_t b = { 0 };
  int64_t wait;
  assert_false (kd_image_backoff_check (&cfg, &b, S (100), &wait));
  kd_backoff_next (&cfg, &b, S (100), S (100)); /* pull failed */
  assert_true (kd_image_backoff_check (&cfg, &b, S (105), &wait));
  assert_int_equal (wait, S (5));
  assert_false (kd_image_backoff_check (&cfg, &b, S (110), &wait));
  kd_backoff_next (&cfg, &b, S (110), S (110));
  assert_int_equal (b.backoff_ns, S (20));
  /* stale after 2 * max (600 s): GC forgets it */
  assert_false (kd_backoff_gc (&cfg, &b, S (710)));
  assert_true (kd_backoff_gc (&cfg, &b, S (711)));
  assert_false (b.set);
}

static void
test_go_duration_spelling (void **state)
{
  char buf[32];
  static const struct
  {
    int64_t ns;
    const char *s;
  } cases[] = {
    { 0, "0s" },
    { S (10), "10s" },
    { S (80), "1m20s" },
    { S (300), "5m0s" },
    { S (3600), "1h0m0s" },
    { 1200000000LL, "1.2s" },
    { 350000000LL, "350ms" },
    { 1500, "1.5µs" },
    { 999, "999ns" },
  };
  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_go_duration (cases[i].ns, buf, sizeof (buf));
      assert_string_equal (buf, cases[i].s);
    }
}

static void
test_crashloop_message_names_container_and_pod (void **state)
{
  kd_pod_t pod = { 0 };
  pod.metadata.name = "web-node1";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "0123abcd";
  char *m = kd_crashloop_message (S (20), "web", &pod);
  assert_string_equal (
      m, "back-off 20s restarting failed container=web pod=web-node1_default(0123abcd)");
  free (m);
}

static void
test_should_restart_by_policy (void **state)
{
  assert_true (kd_should_restart ("Always", 0, false, false));
  assert_true (kd_should_restart (NULL, 1, false, false));
  assert_false (kd_should_restart ("OnFailure", 0, false, false));
  assert_true (kd_should_restart ("OnFailure", 2, false, false));
  assert_false (kd_should_restart ("Never", 1, false, false));
  /* init containers: rerun only after a failure, never under Never */
  assert_false (kd_should_restart ("Always", 0, true, false));
  assert_true (kd_should_restart ("Always", 1, true, false));
  assert_true (kd_should_restart ("OnFailure", 1, true, false));
  assert_false (kd_should_restart ("Never", 1, true, false));
  /* sidecars always */
  assert_true (kd_should_restart ("Never", 0, true, true));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_backoff_first_restart_immediate_then_doubles_to_cap),
    cmocka_unit_test (test_backoff_resets_after_ten_minutes_of_running),
    cmocka_unit_test (test_backoff_configurable_initial_and_max),
    cmocka_unit_test (test_image_backoff_since_last_failed_pull),
    cmocka_unit_test (test_go_duration_spelling),
    cmocka_unit_test (test_crashloop_message_names_container_and_pod),
    cmocka_unit_test (test_should_restart_by_policy),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
