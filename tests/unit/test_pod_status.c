/* pod status: runtime records to the v1 PodStatus, the kubelet's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/podlogic.h"

#define S(x) ((int64_t) (x) *1000000000LL)

typedef struct
{
  kd_pod_t pod;
  kd_container_t init[2];
  kd_container_t app[2];
  kd_ctr_record_t ri[2];
  kd_ctr_record_t ra[2];
  kd_pod_record_t rec;
  kd_pod_status_t st;
} fx_t;

static char *host_ips[] = { "192.168.1.10" };
static char *pod_ips[] = { "10.88.0.5" };

static void
fx_init (fx_t *f, const char *policy, size_t n_init, size_t n_app)
{
  static const char *init_names[] = { "init1", "init2" };
  static const char *app_names[] = { "web", "api" };
  memset (f, 0, sizeof (*f));
  f->pod.metadata.name = "web-node1";
  f->pod.metadata.namespace_ = "default";
  f->pod.metadata.uid = "u1";
  f->pod.spec.restart_policy = (char *) policy;
  for (size_t i = 0; i < n_init; i++)
    {
      f->init[i].name = (char *) init_names[i];
      f->init[i].image = "busybox";
      f->ri[i].name = (char *) init_names[i];
    }
  for (size_t i = 0; i < n_app; i++)
    {
      f->app[i].name = (char *) app_names[i];
      f->app[i].image = "busybox";
      f->ra[i].name = (char *) app_names[i];
    }
  f->pod.spec.init_containers = n_init ? f->init : NULL;
  f->pod.spec.n_init_containers = n_init;
  f->pod.spec.containers = f->app;
  f->pod.spec.n_containers = n_app;
  f->rec.host_ips = host_ips;
  f->rec.n_host_ips = 1;
  f->rec.start_time = S (1000);
}

static void
set_running (kd_ctr_record_t *r, bool ready)
{
  r->state.kind = KD_CTR_RUNNING;
  r->state.started_at = S (1001);
  r->container_id = "kubeletd://aaaa";
  r->ready = ready;
  r->started = true;
}

static void
set_exited (kd_ctr_record_t *r, int code)
{
  r->state.kind = KD_CTR_TERMINATED;
  r->state.exit_code = code;
  r->state.started_at = S (1001);
  r->state.finished_at = S (1002);
  r->container_id = "kubeletd://bbbb";
  r->state.container_id = "kubeletd://bbbb";
}

static const kd_pod_condition_t *
cond (const kd_pod_status_t *st, size_t i, const char *type)
{
  assert_true (i < st->n_conditions);
  assert_string_equal (st->conditions[i].type, type);
  return &st->conditions[i];
}

static void
compute (fx_t *f, const kd_pod_status_t *prev, int64_t now)
{
  kd_type_free (&kd_type_pod_status, &f->st);
  f->rec.init = f->ri;
  f->rec.n_init = f->pod.spec.n_init_containers;
  f->rec.app = f->ra;
  f->rec.n_app = f->pod.spec.n_containers;
  kd_pod_compute_status (&f->pod, &f->rec, prev, now, &f->st);
}

static void
test_status_pending_with_init_containers (void **state)
{
  fx_t f;
  fx_init (&f, "Always", 1, 1);
  f.rec.n_init = 0;
  kd_pod_compute_status (&f.pod, &(kd_pod_record_t){ .host_ips = host_ips, .n_host_ips = 1 }, NULL,
                         S (5), &f.st);
  assert_string_equal (f.st.phase, "Pending");
  assert_string_equal (f.st.init_container_statuses[0].state.waiting->reason, "PodInitializing");
  assert_string_equal (f.st.container_statuses[0].state.waiting->reason, "PodInitializing");
  assert_int_equal (f.st.n_conditions, 5);
  assert_string_equal (cond (&f.st, 0, "PodReadyToStartContainers")->status, "False");
  const kd_pod_condition_t *c = cond (&f.st, 1, "Initialized");
  assert_string_equal (c->status, "False");
  assert_string_equal (c->reason, "ContainersNotInitialized");
  assert_string_equal (c->message, "containers with incomplete status: [init1]");
  c = cond (&f.st, 2, "Ready");
  assert_string_equal (c->reason, "ContainersNotReady");
  assert_string_equal (c->message, "containers with unready status: [web]");
  c = cond (&f.st, 3, "ContainersReady");
  assert_string_equal (c->message, "containers with unready status: [web]");
  assert_string_equal (cond (&f.st, 4, "PodScheduled")->status, "True");
  assert_int_equal (f.st.conditions[4].last_transition_time, S (5));
  assert_string_equal (f.st.host_ip, "192.168.1.10");
  assert_string_equal (f.st.qos_class, "BestEffort");
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_container_creating_without_init (void **state)
{
  fx_t f;
  fx_init (&f, "Always", 0, 1);
  f.pod.spec.n_containers = 1;
  compute (&f, NULL, S (5));
  f.rec.n_app = 0;
  compute (&f, NULL, S (5));
  assert_string_equal (f.st.container_statuses[0].state.waiting->reason, "ContainerCreating");
  assert_string_equal (f.st.container_statuses[0].image, "busybox");
  assert_string_equal (f.st.container_statuses[0].image_id, "");
  assert_true (f.st.container_statuses[0].started.set);
  assert_false (f.st.container_statuses[0].started.v);
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_running_ready_sorted_by_name (void **state)
{
  fx_t f;
  fx_init (&f, "Always", 1, 2);
  set_exited (&f.ri[0], 0);
  set_running (&f.ra[0], true);
  set_running (&f.ra[1], true);
  f.rec.sandbox_ready = true;
  f.rec.pod_ips = pod_ips;
  f.rec.n_pod_ips = 1;
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");
  assert_string_equal (f.st.container_statuses[0].name, "api");
  assert_string_equal (f.st.container_statuses[1].name, "web");
  assert_true (f.st.container_statuses[1].ready);
  assert_true (f.st.init_container_statuses[0].ready);
  assert_string_equal (f.st.init_container_statuses[0].state.terminated->reason, "Completed");
  for (size_t i = 0; i < 5; i++)
    assert_string_equal (f.st.conditions[i].status, "True");
  assert_null (f.st.conditions[1].reason);
  assert_string_equal (f.st.pod_ip, "10.88.0.5");
  assert_int_equal (f.st.start_time, S (1000));

  /* a readiness failure flips Ready and ContainersReady; the others keep
     their transition time */
  kd_pod_status_t prev = { 0 };
  kd_type_copy (&kd_type_pod_status, &prev, &f.st);
  f.ra[0].ready = false;
  compute (&f, &prev, S (20));
  const kd_pod_condition_t *c = cond (&f.st, 2, "Ready");
  assert_string_equal (c->status, "False");
  assert_string_equal (c->message, "containers with unready status: [web]");
  assert_int_equal (c->last_transition_time, S (20));
  assert_int_equal (cond (&f.st, 1, "Initialized")->last_transition_time, S (10));
  assert_int_equal (cond (&f.st, 4, "PodScheduled")->last_transition_time, S (10));
  kd_type_free (&kd_type_pod_status, &prev);
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_crashloop_under_always_is_running (void **state)
{
  fx_t f;
  fx_init (&f, "Always", 0, 1);
  kd_ctr_record_t *r = &f.ra[0];
  r->state.kind = KD_CTR_WAITING;
  r->state.reason = KD_REASON_CRASH_LOOP_BACK_OFF;
  r->state.message = "back-off 10s restarting failed container=web pod=web-node1_default(u1)";
  r->has_last = true;
  r->last_state.kind = KD_CTR_TERMINATED;
  r->last_state.exit_code = 1;
  r->last_state.container_id = "kubeletd://cccc";
  r->restart_count = 2;
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");
  const kd_container_status_t *cs = &f.st.container_statuses[0];
  assert_string_equal (cs->state.waiting->reason, "CrashLoopBackOff");
  assert_string_equal (cs->last_state.terminated->reason, "Error");
  assert_int_equal (cs->last_state.terminated->exit_code, 1);
  assert_int_equal (cs->restart_count, 2);
  assert_false (cs->ready);
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_policies_reach_terminal_phases (void **state)
{
  fx_t f;
  fx_init (&f, "Never", 0, 1);
  set_exited (&f.ra[0], 1);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Failed");
  assert_string_equal (cond (&f.st, 3, "ContainersReady")->reason, "PodFailed");
  assert_string_equal (cond (&f.st, 2, "Ready")->reason, "PodFailed");

  kd_type_free (&kd_type_pod_status, &f.st);
  fx_init (&f, "OnFailure", 0, 2);
  set_exited (&f.ra[0], 0);
  set_exited (&f.ra[1], 0);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Succeeded");
  assert_string_equal (cond (&f.st, 1, "Initialized")->reason, "PodCompleted");
  assert_string_equal (cond (&f.st, 3, "ContainersReady")->reason, "PodCompleted");

  /* OnFailure with a failure: restarting, Running */
  set_exited (&f.ra[1], 3);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");

  /* Always never becomes Succeeded */
  kd_type_free (&kd_type_pod_status, &f.st);
  fx_init (&f, "Always", 0, 1);
  set_exited (&f.ra[0], 0);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_failed_init_under_never_fails_pod (void **state)
{
  fx_t f;
  fx_init (&f, "Never", 2, 1);
  set_exited (&f.ri[0], 2);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Failed");
  /* under OnFailure it is retried: Pending */
  f.pod.spec.restart_policy = "OnFailure";
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Pending");
  assert_string_equal (cond (&f.st, 1, "Initialized")->message,
                       "containers with incomplete status: [init1 init2]");
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_terminal_phase_is_kept (void **state)
{
  fx_t f;
  fx_init (&f, "Never", 0, 1);
  set_exited (&f.ra[0], 0);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Succeeded");
  kd_pod_status_t prev = { 0 };
  kd_type_copy (&kd_type_pod_status, &prev, &f.st);
  f.rec.n_app = 0;
  memset (&f.ra[0], 0, sizeof (f.ra[0]));
  compute (&f, &prev, S (20));
  assert_string_equal (f.st.phase, "Succeeded");
  kd_type_free (&kd_type_pod_status, &prev);
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_sidecar_phase_and_readiness (void **state)
{
  fx_t f;
  fx_init (&f, "Never", 1, 1);
  f.init[0].restart_policy = "Always";
  set_running (&f.ri[0], false);
  f.ri[0].started = false;
  compute (&f, NULL, S (10));
  /* a sidecar that has not started holds the pod in Pending */
  assert_string_equal (f.st.phase, "Pending");
  assert_string_equal (cond (&f.st, 1, "Initialized")->message,
                       "containers with incomplete status: [init1]");
  f.ri[0].started = true;
  set_running (&f.ra[0], true);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");
  assert_string_equal (cond (&f.st, 1, "Initialized")->status, "True");
  /* an unready sidecar makes the pod unready */
  assert_string_equal (cond (&f.st, 3, "ContainersReady")->message,
                       "containers with unready status: [init1]");
  /* app exited 0 under Never while the sidecar runs: Running; once the
     sidecar is stopped it does not count and the pod succeeded */
  set_exited (&f.ra[0], 0);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Running");
  set_exited (&f.ri[0], 137);
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Succeeded");
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_status_deadline_and_host_network (void **state)
{
  fx_t f;
  fx_init (&f, "Always", 0, 1);
  set_running (&f.ra[0], true);
  f.rec.deadline_exceeded = true;
  f.pod.spec.host_network = true;
  compute (&f, NULL, S (10));
  assert_string_equal (f.st.phase, "Failed");
  assert_string_equal (f.st.reason, "DeadlineExceeded");
  assert_string_equal (f.st.message, KD_MSG_DEADLINE_EXCEEDED);
  assert_string_equal (f.st.pod_ip, "192.168.1.10");
  assert_int_equal (f.st.n_host_ips, 1);
  json_t *j = kd_encode (&kd_type_pod_status, &f.st);
  assert_string_equal (json_string_value (json_object_get (j, "phase")), "Failed");
  json_decref (j);
  kd_type_free (&kd_type_pod_status, &f.st);
}

static void
test_terminated_reasons (void **state)
{
  assert_string_equal (kd_terminated_reason (0, false, false), "Completed");
  assert_string_equal (kd_terminated_reason (1, false, false), "Error");
  assert_string_equal (kd_terminated_reason (137, true, false), "OOMKilled");
  assert_string_equal (kd_terminated_reason (128, false, true), "StartError");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_status_pending_with_init_containers),
    cmocka_unit_test (test_status_container_creating_without_init),
    cmocka_unit_test (test_status_running_ready_sorted_by_name),
    cmocka_unit_test (test_status_crashloop_under_always_is_running),
    cmocka_unit_test (test_status_policies_reach_terminal_phases),
    cmocka_unit_test (test_status_failed_init_under_never_fails_pod),
    cmocka_unit_test (test_status_terminal_phase_is_kept),
    cmocka_unit_test (test_status_sidecar_phase_and_readiness),
    cmocka_unit_test (test_status_deadline_and_host_network),
    cmocka_unit_test (test_terminated_reasons),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
