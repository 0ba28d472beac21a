/* Lifecycle hooks (postStart, preStop): exec, httpGet or sleep, run once
   with a deadline, reported with the kubelet's texts
   (pkg/kubelet/lifecycle/handlers.go), which become the FailedPostStartHook
   and FailedPreStopHook event messages:
     Exec lifecycle hook ([sh -c exit 3]) for Container "c" in Pod
       "web_default(uid)" failed - error: command 'sh -c exit 3' exited
       with 3: <stderr>, message: "<stdout+stderr>"
     HTTP lifecycle hook (/stop) for Container "c" in Pod "..." failed -
       error: Get "http://...": dial tcp ...: connect: connection refused
     Sleep lifecycle hook (5) for Container "c" in Pod "..." failed -
       error: container terminated before sleep hook finished
   An httpGet hook checks the transport only: any HTTP response is a
   success, as the kubelet's handler discards it. */
#include "probe-internal.h"

struct kd_hook
{
  uv_loop_t *loop;
  kd_action_t action;
  uv_timer_t timer;    /* the sleep, or a deferred early failure */
  uv_timer_t deadline; /* the caller's timeout */
  kd_attempt_t *attempt;
  char *early_msg;
  kd_hook_done_cb done;
  void *data;
  int pending;
  bool finished;
};

static void
on_close (uv_handle_t *handle)
{
  kd_hook_t *h = handle->data;
  if (--h->pending > 0)
    return;
  kd_action_clear (&h->action);
  free (h->early_msg);
  free (h);
}

static void
release (kd_hook_t *h)
{
  kd_attempt_cancel (h->attempt);
  h->attempt = NULL;
  uv_close ((uv_handle_t *) &h->timer, on_close);
  uv_close ((uv_handle_t *) &h->deadline, on_close);
}

static void
finish (kd_hook_t *h, bool ok, const char *message)
{
  if (h->finished)
    return;
  h->finished = true;
  uv_timer_stop (&h->timer);
  uv_timer_stop (&h->deadline);
  h->done (h, ok, message, h->data);
  release (h);
}

static char *
fail_message (kd_hook_t *h, const char *error)
{
  const kd_action_t *a = &h->action;
  cleanup_free char *ctr = kd_fe_quote (a->container_name ? a->container_name : "");
  cleanup_free char *pod = kd_fe_quote (a->pod_full_name ? a->pod_full_name : "");

  switch (a->type)
    {
    case KD_ACTION_EXEC:
      {
        cleanup_free char *cmd = kd_exec_join (a, " ");
        return xasprintf (
            "Exec lifecycle hook ([%s]) for Container %s in Pod %s failed - error: %s", cmd, ctr,
            pod, error);
      }
    case KD_ACTION_HTTP:
      return xasprintf ("HTTP lifecycle hook (%s) for Container %s in Pod %s failed - error: %s",
                        a->path ? a->path : "", ctr, pod, error);
    case KD_ACTION_SLEEP:
      return xasprintf ("Sleep lifecycle hook (%" PRId64
                        ") for Container %s in Pod %s failed - error: %s",
                        a->sleep_seconds, ctr, pod, error);
    default:
      return xasprintf ("Cannot run handler: %s", error);
    }
}

static void
fail (kd_hook_t *h, const char *error)
{
  cleanup_free char *msg = fail_message (h, error);
  finish (h, false, msg);
}

static void
on_exec_done (void *data, const kd_exec_result_t *r)
{
  kd_hook_t *h = data;

  h->attempt = NULL;
  if (r->spawn_error)
    {
      cleanup_free char *err = xasprintf ("%s, message: \"\"", r->spawn_error);
      fail (h, err);
      return;
    }
  if (r->exit_code == 0)
    {
      finish (h, true, "");
      return;
    }
  /* The CRI client's CodeExitError, then the handler's message: %q of the
     output. */
  cleanup_free char *cmd = kd_exec_join (&h->action, " ");
  cleanup_free char *out = kd_fe_quote (r->output);
  cleanup_free char *err = xasprintf ("command '%s' exited with %d: %s, message: %s", cmd,
                                      r->exit_code, r->stderr_text, out);
  fail (h, err);
}

static void
on_http_done (void *data, kd_outcome_t o, bool errored, const char *output)
{
  kd_hook_t *h = data;

  h->attempt = NULL;
  if (o == KD_OUTCOME_SUCCESS || o == KD_OUTCOME_WARNING)
    finish (h, true, "");
  else
    fail (h, output);
}

static void
on_timer (uv_timer_t *t)
{
  kd_hook_t *h = t->data;

  if (h->early_msg)
    fail (h, h->early_msg);
  else
    finish (h, true, ""); /* the sleep ended */
}

static void
on_deadline (uv_timer_t *t)
{
  kd_hook_t *h = t->data;

  /* The hook's context ended before the hook: the kubelet stops waiting. */
  if (h->action.type == KD_ACTION_SLEEP)
    fail (h, "container terminated before sleep hook finished");
  else if (h->action.type == KD_ACTION_EXEC)
    fail (h, "context deadline exceeded, message: \"\"");
  else
    fail (h, "context deadline exceeded");
}

kd_hook_t *
kd_hook_run (uv_loop_t *loop, const kd_handler_t *handler, const kd_probe_target_t *target,
             uint64_t timeout_ms, kd_hook_done_cb done, void *data)
{
  kd_hook_t *h = xcalloc (1, sizeof (*h));
  cleanup_free char *err = NULL;

  h->loop = loop;
  h->done = done;
  h->data = data;
  kd_action_init (&h->action, handler, target, false);
  uv_timer_init (loop, &h->timer);
  uv_timer_init (loop, &h->deadline);
  h->timer.data = h->deadline.data = h;
  h->pending = 2;
  if (timeout_ms)
    uv_timer_start (&h->deadline, on_deadline, timeout_ms, 0);

  switch (h->action.type)
    {
    case KD_ACTION_SLEEP:
      uv_timer_start (&h->timer, on_timer,
                      (uint64_t) (h->action.sleep_seconds > 0 ? h->action.sleep_seconds : 0) * 1000,
                      0);
      break;
    case KD_ACTION_EXEC:
      h->attempt = kd_exec_run (loop, &h->action, 0, on_exec_done, h);
      break;
    case KD_ACTION_HTTP:
      /* The deadline above bounds the request; the engine needs none. */
      h->attempt = kd_action_start (loop, &h->action, KD_LIFECYCLE_USER_AGENT, 0, true,
                                    on_http_done, h, &err);
      if (h->attempt == NULL)
        {
          h->early_msg = steal_pointer (&err);
          uv_timer_start (&h->timer, on_timer, 0, 0);
        }
      break;
    default:
      h->early_msg = xstrdup ("invalid handler");
      uv_timer_start (&h->timer, on_timer, 0, 0);
      break;
    }
  return h;
}

void
kd_hook_cancel (kd_hook_t *h)
{
  if (h == NULL || h->finished)
    return;
  h->finished = true;
  release (h);
}
