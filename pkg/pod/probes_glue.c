/* Probes and postStart for a running container, as the kubelet's probe
   manager drives them: postStart first (the container counts as started
   only after it; a failure kills it), then the startup probe, which gates
   liveness and readiness. Liveness or startup failure: events Unhealthy
   (every failed attempt) and Killing, a stop with the probe's
   terminationGracePeriodSeconds (else the pod's), and the exit restarts
   per policy. Readiness sets `ready`, hence the Ready conditions.

   A prober may be stopped from its own callback (a liveness failure stops
   every prober of the container); probe.h allows it. */
#include "worker-internal.h"

typedef struct probe_ctx
{
  struct probe_ctx *next;
  kd_ctr_t *c;
  kd_prober_t *p;
  kd_probe_kind_t kind;
  bool dead;
} probe_ctx_t;

static void
stop_ctx (probe_ctx_t *ctx)
{
  if (ctx == NULL)
    return;
  if (ctx->p)
    kd_prober_stop (ctx->p);
  free (ctx);
}

static const kd_probe_t *
probe_of (const kd_container_t *ct, kd_probe_kind_t k)
{
  switch (k)
    {
    case KD_PROBE_LIVENESS:
      return ct->liveness_probe;
    case KD_PROBE_READINESS:
      return ct->readiness_probe;
    case KD_PROBE_STARTUP:
      return ct->startup_probe;
    }
  return NULL;
}

static kd_prober_t **
slot (kd_ctr_t *c, kd_probe_kind_t k)
{
  switch (k)
    {
    case KD_PROBE_LIVENESS:
      return &c->liveness;
    case KD_PROBE_READINESS:
      return &c->readiness;
    case KD_PROBE_STARTUP:
      return &c->startup;
    }
  return NULL;
}

static void start_one (kd_ctr_t *c, kd_probe_kind_t k);

static void
start_live_ready (kd_ctr_t *c)
{
  c->rec->started = true;
  c->rec->ready = c->spec->readiness_probe == NULL;
  if (c->spec->liveness_probe)
    start_one (c, KD_PROBE_LIVENESS);
  if (c->spec->readiness_probe)
    start_one (c, KD_PROBE_READINESS);
}

static void
on_result (kd_prober_t *p, kd_probe_kind_t kind, bool success, void *data)
{
  probe_ctx_t *ctx = data;
  kd_ctr_t *c = ctx->c;
  kd_pod_worker_t *w = c->w;
  const kd_probe_t *pr;
  int64_t grace;

  if (ctx->dead || w->gone || c->phase != C_RUNNING || c->stopping)
    return;
  switch (kind)
    {
    case KD_PROBE_READINESS:
      if (c->rec->ready != success)
        {
          c->rec->ready = success;
          kd_w_publish (w);
        }
      return;
    case KD_PROBE_STARTUP:
      if (success)
        {
          if (c->rec->started)
            return;
          start_live_ready (c);
          kd_w_publish (w);
          kd_w_step (w);
          return;
        }
      break;
    case KD_PROBE_LIVENESS:
      if (success)
        return;
      break;
    }
  /* liveness or startup failed: kill, and the exit restarts per policy */
  pr = probe_of (c->spec, kind);
  grace = pr && pr->termination_grace_period_seconds.set
              ? pr->termination_grace_period_seconds.v * 1000
              : kd_w_pod_grace_ms (w);
  {
    cleanup_free char *msg = xasprintf (KD_EVMSG_PROBE_RESTART, c->spec->name,
                                        kind == KD_PROBE_LIVENESS ? "liveness" : "startup");
    kd_ctr_stop (c, grace, msg);
  }
}

static void
on_attempt_failed (kd_prober_t *p, kd_probe_kind_t kind, const char *message, void *data)
{
  probe_ctx_t *ctx = data;
  kd_ctr_t *c = ctx->c;

  if (ctx->dead || c->w->gone || c->phase != C_RUNNING)
    return;
  /* the message is the whole text of the kubelet's event */
  kd_w_event (c->w, c, KD_EVENT_WARNING, KD_EV_UNHEALTHY, "%s", message ? message : "");
}

static void
on_warning (kd_prober_t *p, kd_probe_kind_t kind, const char *message, void *data)
{
  probe_ctx_t *ctx = data;
  kd_ctr_t *c = ctx->c;

  if (ctx->dead || c->w->gone || c->phase != C_RUNNING)
    return;
  kd_w_event (c->w, c, KD_EVENT_WARNING, "ProbeWarning", "%s", message ? message : "");
}

static void
fill_target (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;

  free (c->probe_ip);
  free (c->full_name);
  c->full_name = kd_pod_format (w->pod);
  c->probe_ip = w->rec.n_pod_ips ? xstrdup (w->rec.pod_ips[0]) : NULL;
  memset (&c->target, 0, sizeof (c->target));
  c->target.pod_ip = c->probe_ip;
  c->target.shim_path = w->m->shim_path;
  c->target.pod_dir = w->run_dir;
  c->target.container_id = c->cid;
  c->target.container = c->spec;
  c->target.pod_full_name = c->full_name;
  c->target.started_at_ns = c->rec->state.started_at;
  c->target.pod_name = w->name;
  c->target.pod_namespace = w->ns;
  c->target.pod_uid = w->uid;
}

/* The context of the prober of kind k (c->pctx), replaced by set. */
static probe_ctx_t *
swap_ctx (kd_ctr_t *c, kd_probe_kind_t k, probe_ctx_t *set)
{
  probe_ctx_t *old = c->pctx[k];
  c->pctx[k] = set;
  return old;
}

static void
start_one (kd_ctr_t *c, kd_probe_kind_t k)
{
  kd_prober_callbacks_t cbs = { on_result, on_attempt_failed, NULL, on_warning };
  probe_ctx_t *ctx = xcalloc (1, sizeof (*ctx));
  kd_prober_t **s = slot (c, k);

  ctx->c = c;
  ctx->kind = k;
  cbs.data = ctx;
  stop_ctx (swap_ctx (c, k, ctx));
  ctx->p = kd_prober_start (c->w->m->loop, k, probe_of (c->spec, k), &c->target, &cbs);
  *s = ctx->p;
}

void
kd_probes_on_started (kd_ctr_t *c)
{
  fill_target (c);
  c->poststart_done = true;
  if (c->spec->startup_probe)
    {
      c->rec->started = false;
      c->rec->ready = false;
      start_one (c, KD_PROBE_STARTUP);
      return;
    }
  start_live_ready (c);
}

void
kd_probes_stop (kd_ctr_t *c)
{
  static const kd_probe_kind_t kinds[]
      = { KD_PROBE_STARTUP, KD_PROBE_LIVENESS, KD_PROBE_READINESS };

  for (size_t i = 0; i < KD_ARRAY_SIZE (kinds); i++)
    {
      probe_ctx_t *ctx = swap_ctx (c, kinds[i], NULL);
      *slot (c, kinds[i]) = NULL;
      stop_ctx (ctx);
    }
}

/* ---- postStart ---------------------------------------------------------------- */

typedef struct
{
  kd_ctr_t *c;
  uint64_t gen;
} hook_op_t;

static void
on_poststart (kd_hook_t *h, bool ok, const char *message, void *data)
{
  hook_op_t *o = data;
  kd_ctr_t *c = o->c;
  kd_pod_worker_t *w = c->w;
  bool current = c->hook_op == o;

  if (current)
    {
      c->hook = NULL;
      c->hook_op = NULL;
    }
  free (o);
  if (current && !w->gone && c->phase == C_RUNNING && !c->stopping)
    {
      if (ok)
        {
          kd_probes_on_started (c);
          kd_w_publish (w);
          kd_w_step (w);
        }
      else
        {
          kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED_POSTSTART, "%s",
                      message ? message : "PostStartHook failed");
          kd_ctr_stop (c, kd_w_pod_grace_ms (w), NULL);
        }
    }
  kd_w_unref (w);
}

void
kd_poststart_run (kd_ctr_t *c)
{
  hook_op_t *o = xcalloc (1, sizeof (*o));

  fill_target (c);
  o->c = c;
  o->gen = c->gen;
  kd_w_ref (c->w);
  c->hook_op = o;
  c->hook = kd_hook_run (c->w->m->loop, c->spec->lifecycle->post_start, &c->target,
                         (uint64_t) kd_w_pod_grace_ms (c->w), on_poststart, o);
}
