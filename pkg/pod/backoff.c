/* Back-off and the restart decision, as the kubelet computes them.

   The kubelet keeps one client-go flowcontrol.Backoff entry per container
   (key: pod, container name, spec hash) for CrashLoopBackOff and one per
   pod+image for pulls. Its doBackOff, on every sync of a container that
   exited and should restart:
     1. takes the finish time of the latest exited run as eventTime;
     2. if the entry exists, is not stale (eventTime - lastUpdate <= 600 s,
        the kubelet's HasExpiredFunc) and now - eventTime < backoff: waits,
        showing CrashLoopBackOff "back-off <backoff> restarting failed ...";
     3. otherwise calls Next (a new or stale entry starts at the initial
        delay, else the delay doubles up to max; lastUpdate = now) and
        restarts at once.
   Hence the first restart is immediate, the second waits 10 s after the
   exit, then 20 s, 40 s ... 300 s; a run that lasts more than 10 minutes
   after its restart (finish - lastUpdate > 600 s) starts over at 10 s.
   No jitter: the kubelet builds the Backoff with NewBackOff (jitter 0). */
#include "kubeletd/podlogic.h"

kd_backoff_cfg_t
kd_backoff_crashloop_cfg (int64_t initial_ns, int64_t max_ns)
{
  kd_backoff_cfg_t c = {
    .initial_ns = initial_ns > 0 ? initial_ns : KD_CRASHLOOP_INITIAL_NS,
    .max_ns = max_ns > 0 ? max_ns : KD_CRASHLOOP_MAX_NS,
    .reset_ns = KD_CRASHLOOP_RESET_NS,
  };
  if (c.initial_ns > c.max_ns)
    c.initial_ns = c.max_ns;
  return c;
}

kd_backoff_cfg_t
kd_backoff_image_cfg (void)
{
  kd_backoff_cfg_t c = {
    .initial_ns = KD_IMAGE_BACKOFF_INITIAL_NS,
    .max_ns = KD_IMAGE_BACKOFF_MAX_NS,
    .reset_ns = 2 * KD_IMAGE_BACKOFF_MAX_NS,
  };
  return c;
}

static bool
expired (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b, int64_t event_ns)
{
  return event_ns - b->last_update_ns > cfg->reset_ns;
}

void
kd_backoff_next (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t event_ns, int64_t now_ns)
{
  if (!b->set || expired (cfg, b, event_ns))
    {
      b->set = true;
      b->backoff_ns = cfg->initial_ns;
    }
  else
    {
      int64_t d = b->backoff_ns > cfg->max_ns / 2 ? cfg->max_ns : b->backoff_ns * 2;
      b->backoff_ns = d < cfg->max_ns ? d : cfg->max_ns;
    }
  b->last_update_ns = now_ns;
}

bool
kd_backoff_in_backoff_since (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b, int64_t event_ns,
                             int64_t now_ns)
{
  if (!b->set || expired (cfg, b, event_ns))
    return false;
  return now_ns - event_ns < b->backoff_ns;
}

bool
kd_backoff_in_backoff_since_update (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b,
                                    int64_t event_ns)
{
  if (!b->set || expired (cfg, b, event_ns))
    return false;
  return event_ns - b->last_update_ns < b->backoff_ns;
}

bool
kd_backoff_gc (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t now_ns)
{
  if (!b->set || now_ns - b->last_update_ns <= cfg->reset_ns)
    return false;
  memset (b, 0, sizeof (*b));
  return true;
}

bool
kd_crashloop_check (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t finished_ns,
                    int64_t now_ns, int64_t *wait_ns, int64_t *shown_ns)
{
  if (kd_backoff_in_backoff_since (cfg, b, finished_ns, now_ns))
    {
      if (wait_ns)
        *wait_ns = finished_ns + b->backoff_ns - now_ns;
      if (shown_ns)
        *shown_ns = b->backoff_ns;
      return true;
    }
  kd_backoff_next (cfg, b, finished_ns, now_ns);
  if (wait_ns)
    *wait_ns = 0;
  if (shown_ns)
    *shown_ns = 0;
  return false;
}

bool
kd_image_backoff_check (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b, int64_t now_ns,
                        int64_t *wait_ns)
{
  bool in = kd_backoff_in_backoff_since_update (cfg, b, now_ns);
  if (wait_ns)
    *wait_ns = in ? b->last_update_ns + b->backoff_ns - now_ns : 0;
  return in;
}

char *
kd_crashloop_message (int64_t backoff_ns, const char *container, const kd_pod_t *pod)
{
  char d[32];
  cleanup_free char *p = kd_pod_format (pod);
  kd_go_duration (backoff_ns, d, sizeof (d));
  return xasprintf ("back-off %s restarting failed container=%s pod=%s", d, container, p);
}

bool
kd_container_is_sidecar (const kd_container_t *c)
{
  return c->restart_policy && strcmp (c->restart_policy, "Always") == 0;
}

bool
kd_should_restart (const char *pod_policy, int32_t exit_code, bool is_init, bool is_sidecar)
{
  if (is_init && is_sidecar)
    return true;
  if (is_init && exit_code == 0)
    return false;
  if (pod_policy == NULL || strcmp (pod_policy, "Always") == 0)
    return true;
  if (strcmp (pod_policy, "OnFailure") == 0)
    return exit_code != 0;
  return false;
}
