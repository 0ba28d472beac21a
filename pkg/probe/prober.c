/* The prober: the kubelet's probe worker (pkg/kubelet/prober/worker.go) on
   the loop.

   1. The first attempt runs when initialDelaySeconds have passed since the
      container started, then one every periodSeconds. A tick that comes
      while an attempt still runs is kept (one, like Go's ticker) and runs
      when the attempt ends.
   2. An attempt that errors (the Go prober's err != nil: a port that does
      not resolve, a command that cannot run) is retried at once, up to 3
      tries (maxProbeRetries); if it still errors the result is thrown away
      and only the event is reported.
   3. Outcomes count in runs: the result flips after successThreshold
      successes or failureThreshold failures in a row. A warning counts as
      a success, an unknown outcome as a failure.
   4. A liveness or startup probe that reached Failure stops probing (the
      kubelet holds it until a new container; here the pod worker starts a
      new prober for it). A startup probe that reached Success stops too.
   Initial results: liveness Success, readiness Failure, startup Unknown. */
#include "kubeletd/metrics.h"
#include "probe-internal.h"

#define MAX_PROBE_RETRIES 3

typedef enum
{
  RESULT_UNKNOWN,
  RESULT_SUCCESS,
  RESULT_FAILURE,
} result_t;

struct kd_prober
{
  uv_loop_t *loop;
  kd_probe_kind_t kind;
  kd_action_t action;
  uint64_t period_ms;
  uint64_t timeout_ms;
  int32_t success_threshold;
  int32_t failure_threshold;
  kd_prober_callbacks_t cbs;
  uv_timer_t timer;
  kd_attempt_t *attempt;
  int tries;
  result_t result;
  result_t last;
  int run;
  bool tick_pending;
  bool on_hold;
  bool stopped;
  /* metrics: labels, and when the current probe (retries included) began */
  char *pod_name;
  char *pod_namespace;
  char *pod_uid;
  uint64_t t0;
};

/* The kubelet's worker counts each probe by its result and times the
   successful ones; an errored probe (a prober error) counts nowhere. */
static void
count_probe (kd_prober_t *p, const char *result)
{
  const char *kind = kd_probe_kind_name (p->kind);
  const char *ctr = p->action.container_name ? p->action.container_name : "";

  kd_metrics_counter_inc ("prober_probe_total", kind, result, ctr, p->pod_name, p->pod_namespace,
                          p->pod_uid);
  if (kd_str_eq (result, "successful"))
    kd_metrics_observe ("prober_probe_duration_seconds", (double) (uv_hrtime () - p->t0) / 1e9,
                        kind, ctr, p->pod_name, p->pod_namespace);
}

static void run_attempt (kd_prober_t *p);

static void
attempt_failed (kd_prober_t *p, const char *fmt_kind, const char *detail, const char *state)
{
  if (p->cbs.on_attempt_failed == NULL)
    return;
  cleanup_free char *msg
      = state ? xasprintf ("%s probe errored and resulted in %s state: %s",
                           kd_probe_kind_name (p->kind), state, detail)
              : xasprintf ("%s probe %s: %s", kd_probe_kind_name (p->kind), fmt_kind, detail);
  p->cbs.on_attempt_failed (p, p->kind, msg, p->cbs.data);
}

/* After an attempt and its callbacks: run the tick that came meanwhile. */
static void
next_tick (kd_prober_t *p)
{
  if (p->stopped || p->on_hold || !p->tick_pending)
    return;
  p->tick_pending = false;
  p->tries = 0;
  p->t0 = uv_hrtime ();
  run_attempt (p);
}

static void
record (kd_prober_t *p, result_t r)
{
  if (r == p->last)
    p->run++;
  else
    {
      p->last = r;
      p->run = 1;
    }
  if ((r == RESULT_FAILURE && p->run < p->failure_threshold)
      || (r == RESULT_SUCCESS && p->run < p->success_threshold))
    return;

  bool changed = r != p->result;
  p->result = r;
  if ((p->kind == KD_PROBE_LIVENESS || p->kind == KD_PROBE_STARTUP) && r == RESULT_FAILURE)
    {
      p->on_hold = true;
      p->run = 0;
    }
  if (p->kind == KD_PROBE_STARTUP && r == RESULT_SUCCESS)
    p->on_hold = true;
  if (p->on_hold)
    uv_timer_stop (&p->timer);
  if (changed && p->cbs.on_result)
    p->cbs.on_result (p, p->kind, r == RESULT_SUCCESS, p->cbs.data);
}

static void
handle_outcome (kd_prober_t *p, kd_outcome_t o, bool errored, const char *output)
{
  if (errored)
    {
      if (++p->tries < MAX_PROBE_RETRIES)
        {
          kd_vlog (4, "%s probe errored, trying again: %s", kd_probe_kind_name (p->kind), output);
          run_attempt (p);
          return;
        }
      attempt_failed (p, NULL, output, kd_outcome_name (o));
      next_tick (p);
      return;
    }

  switch (o)
    {
    case KD_OUTCOME_SUCCESS:
      count_probe (p, "successful");
      record (p, RESULT_SUCCESS);
      break;
    case KD_OUTCOME_WARNING:
      count_probe (p, "successful");
      if (p->cbs.on_warning)
        {
          cleanup_free char *msg
              = xasprintf ("%s probe warning: %s", kd_probe_kind_name (p->kind), output);
          p->cbs.on_warning (p, p->kind, msg, p->cbs.data);
          if (p->stopped)
            return;
        }
      record (p, RESULT_SUCCESS);
      break;
    case KD_OUTCOME_FAILURE:
      count_probe (p, "failed");
      attempt_failed (p, "failed", output, NULL);
      if (p->stopped)
        return;
      record (p, RESULT_FAILURE);
      break;
    default:
      count_probe (p, "failed");
      record (p, RESULT_FAILURE);
      break;
    }
  next_tick (p);
}

static void
on_attempt_done (void *data, kd_outcome_t o, bool errored, const char *output)
{
  kd_prober_t *p = data;
  p->attempt = NULL;
  if (p->stopped)
    return;
  handle_outcome (p, o, errored, output);
}

static void
run_attempt (kd_prober_t *p)
{
  cleanup_free char *err = NULL;

  p->attempt = kd_action_start (p->loop, &p->action, KD_PROBE_USER_AGENT, p->timeout_ms, false,
                                on_attempt_done, p, &err);
  if (p->attempt == NULL)
    handle_outcome (p, KD_OUTCOME_UNKNOWN, true, err ? err : "");
}

static void
on_tick (uv_timer_t *t)
{
  kd_prober_t *p = t->data;

  if (p->stopped || p->on_hold)
    return;
  if (p->attempt)
    {
      p->tick_pending = true;
      return;
    }
  p->tries = 0;
  p->t0 = uv_hrtime ();
  run_attempt (p);
}

kd_prober_t *
kd_prober_start (uv_loop_t *loop, kd_probe_kind_t kind, const kd_probe_t *probe,
                 const kd_probe_target_t *target, const kd_prober_callbacks_t *cbs)
{
  kd_prober_t *p = xcalloc (1, sizeof (*p));
  int64_t delay_ms, since_ms = 0;

  p->loop = loop;
  p->kind = kind;
  kd_action_init (&p->action, &probe->handler, target, true);
  p->pod_name = xstrdup (target && target->pod_name ? target->pod_name : "");
  p->pod_namespace = xstrdup (target && target->pod_namespace ? target->pod_namespace : "");
  p->pod_uid = xstrdup (target && target->pod_uid ? target->pod_uid : "");
  p->period_ms = (uint64_t) (probe->period_seconds > 0 ? probe->period_seconds : 10) * 1000;
  p->timeout_ms = (uint64_t) (probe->timeout_seconds > 0 ? probe->timeout_seconds : 1) * 1000;
  p->success_threshold = probe->success_threshold > 0 ? probe->success_threshold : 1;
  p->failure_threshold = probe->failure_threshold > 0 ? probe->failure_threshold : 3;
  if (cbs)
    p->cbs = *cbs;
  p->result = kind == KD_PROBE_LIVENESS    ? RESULT_SUCCESS
              : kind == KD_PROBE_READINESS ? RESULT_FAILURE
                                           : RESULT_UNKNOWN;
  p->last = RESULT_UNKNOWN;

  if (target && target->started_at_ns > 0)
    since_ms = (kd_now_ns () - target->started_at_ns) / 1000000;
  if (since_ms < 0)
    since_ms = 0;
  delay_ms = (int64_t) probe->initial_delay_seconds * 1000 - since_ms;
  if (delay_ms < 0)
    delay_ms = 0;

  uv_timer_init (loop, &p->timer);
  p->timer.data = p;
  uv_timer_start (&p->timer, on_tick, (uint64_t) delay_ms, p->period_ms);
  return p;
}

static void
on_timer_closed (uv_handle_t *h)
{
  kd_prober_t *p = h->data;
  kd_action_clear (&p->action);
  free (p->pod_name);
  free (p->pod_namespace);
  free (p->pod_uid);
  free (p);
}

void
kd_prober_stop (kd_prober_t *p)
{
  if (p == NULL || p->stopped)
    return;
  p->stopped = true;
  kd_attempt_cancel (p->attempt);
  p->attempt = NULL;
  uv_close ((uv_handle_t *) &p->timer, on_timer_closed);
}

bool
kd_prober_result (const kd_prober_t *p)
{
  return p->result == RESULT_SUCCESS;
}
