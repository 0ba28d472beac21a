/* The pod worker: one state machine per pod on the loop.

   States: WAITING (a predecessor of the same name is still stopping) ->
   SANDBOX (sandbox_up.c) -> RUNNING (containers, step () below) ->
   STOPPING (app containers, then sidecars in reverse) -> TEARDOWN
   (sandbox_down) -> STOPPED.

   step () is the kubelet's computePodActions for one pod: every event
   (an exit, a create reply, a timer, a probe result) changes a record and
   calls step (), which starts whatever may start now, in the kubelet's
   order: init containers one at a time, each to success (a sidecar only
   to started), then every app container. Status is computed and published
   after every change (kd_w_publish), so the socket shows an exit within
   the same loop iteration as the shim's event. */
#include <signal.h>

#include "kubeletd/metrics.h"
#include "worker-internal.h"

static void w_stop_progress (kd_pod_worker_t *w);

int64_t
kd_w_pod_grace_ms (const kd_pod_worker_t *w)
{
  const kd_opt_i64_t *g = &w->pod->spec.termination_grace_period_seconds;
  int64_t s = g->set ? g->v : 30;

  if (s < KD_MIN_GRACE_S)
    s = KD_MIN_GRACE_S;
  return s * 1000;
}

void
kd_w_event (kd_pod_worker_t *w, kd_ctr_t *c, const char *type, const char *reason, const char *fmt,
            ...)
{
  va_list ap;
  char *msg = NULL;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  kd_vlog (2, "pod %s/%s: event %s %s: %s", w->ns, w->name, type, reason, msg);
  kd_events_record (w->m->events, w->pod, c ? c->spec->name : NULL, type, reason, kd_now_ns (),
                    "%s", msg);
  free (msg);
}

static void
on_timer_closed (uv_handle_t *h)
{
  kd_pod_worker_t *w = h->data;

  w->handles--;
  kd_w_unref (w);
}

void
kd_w_close_timer (kd_pod_worker_t *w, uv_timer_t *t, bool *init)
{
  if (!*init)
    return;
  *init = false;
  t->data = w;
  kd_w_ref (w);
  uv_close ((uv_handle_t *) t, on_timer_closed);
}

static void
rec_init (kd_ctr_record_t *r, const kd_container_t *c)
{
  memset (r, 0, sizeof (*r));
  r->name = xstrdup (c->name ? c->name : "");
}

kd_pod_worker_t *
kd_w_new (kd_podmgr_t *m, const kd_pod_t *pod)
{
  kd_pod_worker_t *w = xcalloc (1, sizeof (*w));
  const kd_pod_spec_t *s;

  w->m = m;
  w->pod = kd_pod_copy (pod);
  s = &w->pod->spec;
  w->uid = xstrdup (pod->metadata.uid ? pod->metadata.uid : "");
  w->ns = xstrdup (pod->metadata.namespace_ ? pod->metadata.namespace_ : "default");
  w->name = xstrdup (pod->metadata.name ? pod->metadata.name : "");
  w->refs = 1; /* the manager's list */
  w->run_dir = xasprintf ("%s/pods/%s", m->cfg->run_dir, w->uid);
  w->root_dir = xasprintf ("%s/pods/%s", m->cfg->root_dir, w->uid);
  w->cg_path = kd_cgroup_pod_path (m->cfg->cgroup_root, kd_pod_qos_class (w->pod), w->uid);
  w->sandbox_retry_ms = KD_SANDBOX_RETRY_MS;
  w->first_seen_hr = uv_hrtime ();

  w->rec.n_init = s->n_init_containers;
  w->rec.init = xcalloc (s->n_init_containers + 1, sizeof (kd_ctr_record_t));
  w->rec.n_app = s->n_containers;
  w->rec.app = xcalloc (s->n_containers + 1, sizeof (kd_ctr_record_t));
  w->n_init = s->n_init_containers;
  w->n_ctrs = s->n_init_containers + s->n_containers;
  w->ctrs = xcalloc (w->n_ctrs + 1, sizeof (kd_ctr_t));
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      c->w = w;
      c->is_init = i < w->n_init;
      c->index = c->is_init ? i : i - w->n_init;
      c->spec = c->is_init ? &s->init_containers[i] : &s->containers[c->index];
      c->is_sidecar = c->is_init && kd_container_is_sidecar (c->spec);
      c->rec = c->is_init ? &w->rec.init[c->index] : &w->rec.app[c->index];
      rec_init (c->rec, c->spec);
    }
  w->next = m->workers;
  m->workers = w;
  return w;
}

static void
state_rec_free (kd_ctr_state_rec_t *s)
{
  free (s->reason);
  free (s->message);
  free (s->container_id);
  memset (s, 0, sizeof (*s));
}

static void
w_free (kd_pod_worker_t *w)
{
  kd_podmgr_t *m = w->m;

  for (kd_pod_worker_t **p = &m->workers; *p; p = &(*p)->next)
    if (*p == w)
      {
        *p = w->next;
        break;
      }
  for (kd_pod_worker_t *o = m->workers; o; o = o->next)
    if (o->waiting_for == w)
      o->waiting_for = NULL;
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      free (w->ctrs[i].cid);
      free (w->ctrs[i].probe_ip);
      free (w->ctrs[i].full_name);
    }
  for (size_t i = 0; i < w->rec.n_init + w->rec.n_app; i++)
    {
      kd_ctr_record_t *r = i < w->rec.n_init ? &w->rec.init[i] : &w->rec.app[i - w->rec.n_init];
      free (r->name);
      free (r->container_id);
      free (r->image);
      free (r->image_id);
      state_rec_free (&r->state);
      state_rec_free (&r->last_state);
    }
  free (w->rec.init);
  free (w->rec.app);
  for (size_t i = 0; i < w->rec.n_pod_ips; i++)
    free (w->rec.pod_ips[i]);
  free (w->rec.pod_ips);
  for (size_t i = 0; i < w->rec.n_host_ips; i++)
    free (w->rec.host_ips[i]);
  free (w->rec.host_ips);
  if (w->has_status)
    kd_type_free (&kd_type_pod_status, &w->status);
  kd_sandbox_volumes_free (w->vols, w->n_vols);
  free (w->ctrs);
  free (w->uid);
  free (w->ns);
  free (w->name);
  free (w->run_dir);
  free (w->root_dir);
  free (w->cg_path);
  kd_pod_free (w->pod);
  free (w);
}

void
kd_w_ref (kd_pod_worker_t *w)
{
  w->refs++;
}

void
kd_w_unref (kd_pod_worker_t *w)
{
  /* every close in flight holds a reference: 0 means nothing is due */
  if (--w->refs > 0)
    return;
  w_free (w);
}

kd_ctr_t *
kd_w_find_cid (kd_pod_worker_t *w, const char *cid)
{
  for (size_t i = 0; i < w->n_ctrs; i++)
    if (w->ctrs[i].cid && kd_str_eq (w->ctrs[i].cid, cid))
      return &w->ctrs[i];
  return NULL;
}

/* ---- deadline ------------------------------------------------------------ */

static void
kill_all (kd_pod_worker_t *w)
{
  int64_t grace = kd_w_pod_grace_ms (w);

  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      c->no_restart = true;
      kd_ctr_stop (c, grace, NULL);
    }
}

static void
on_deadline (uv_timer_t *t)
{
  kd_pod_worker_t *w = t->data;

  if (w->gone || w->terminal || (w->state != W_RUNNING && w->state != W_SANDBOX))
    return;
  kd_info ("pod %s/%s: active deadline exceeded", w->ns, w->name);
  w->rec.deadline_exceeded = true;
  kd_w_event (w, NULL, KD_EVENT_NORMAL, KD_EV_DEADLINE_EXCEEDED, "%s", KD_MSG_DEADLINE_EXCEEDED);
  w->terminal = true;
  kill_all (w);
  kd_w_publish (w);
}

void
kd_w_arm_deadline (kd_pod_worker_t *w)
{
  const kd_opt_i64_t *ads = &w->pod->spec.active_deadline_seconds;
  int64_t due_ms;

  if (!ads->set || w->deadline_init)
    return;
  due_ms = (w->rec.start_time + ads->v * 1000000000LL - kd_now_ns ()) / 1000000;
  uv_timer_init (w->m->loop, &w->deadline);
  w->deadline.data = w;
  w->deadline_init = true;
  w->handles++;
  uv_timer_start (&w->deadline, on_deadline, (uint64_t) (due_ms > 0 ? due_ms : 0), 0);
}

/* ---- start, step, publish ---------------------------------------------------- */

void
kd_w_start (kd_pod_worker_t *w)
{
  if (w->rec.start_time == 0)
    w->rec.start_time = kd_now_ns ();
  w->state = W_SANDBOX;
  w->waiting_for = NULL;
  kd_w_arm_deadline (w);
  kd_w_publish (w);
  kd_sandbox_up (w);
}

/* Whether a container that is not running will run again. */
static bool
will_run (const kd_ctr_t *c)
{
  return c->phase != C_DONE;
}

/* Sidecars stop once every app container is done for good (the kubelet
   terminates the sidecars of a pod whose regular containers completed). */
static void
maybe_stop_sidecars (kd_pod_worker_t *w)
{
  bool apps_done = w->n_ctrs > w->n_init;

  for (size_t i = w->n_init; i < w->n_ctrs; i++)
    if (will_run (&w->ctrs[i]))
      apps_done = false;
  if (!apps_done)
    return;
  for (size_t i = w->n_init; i-- > 0;)
    {
      kd_ctr_t *c = &w->ctrs[i];
      if (!c->is_sidecar || c->phase == C_DONE)
        continue;
      c->no_restart = true;
      kd_ctr_stop (c, kd_w_pod_grace_ms (w), NULL);
      return; /* one at a time, in reverse order */
    }
}

void
kd_w_step (kd_pod_worker_t *w)
{
  uint64_t t0;

  if (w->gone || w->state != W_RUNNING || w->in_step)
    return;
  if (w->terminal)
    return;
  w->in_step = true;
  t0 = uv_hrtime ();
  for (size_t i = 0; i < w->n_init; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];

      if (c->is_sidecar)
        {
          if (c->phase == C_IDLE)
            {
              kd_ctr_start (c);
              goto out;
            }
          if (!c->ever_started || (c->phase == C_RUNNING && !c->rec->started))
            goto out;
          continue;
        }
      if (c->succeeded)
        continue;
      if (c->phase == C_IDLE)
        kd_ctr_start (c);
      goto out;
    }
  for (size_t i = w->n_init; i < w->n_ctrs; i++)
    if (w->ctrs[i].phase == C_IDLE)
      kd_ctr_start (&w->ctrs[i]);
  maybe_stop_sidecars (w);
out:
  w->in_step = false;
  kd_metrics_observe ("kubelet_pod_worker_duration_seconds", (double) (uv_hrtime () - t0) / 1e9,
                      w->synced ? "sync" : "create");
  w->synced = true;
}

/* kubelet_pod_start_duration_seconds: once per pod, when every app
   container is running for the first time, from when the pod was seen. */
static void
observe_start (kd_pod_worker_t *w, const kd_pod_status_t *st)
{
  if (w->start_observed || st->n_container_statuses == 0 || !kd_str_eq (st->phase, "Running"))
    return;
  for (size_t i = 0; i < st->n_container_statuses; i++)
    if (st->container_statuses[i].state.running == NULL)
      return;
  w->start_observed = true;
  kd_metrics_observe ("kubelet_pod_start_duration_seconds",
                      (double) (uv_hrtime () - w->first_seen_hr) / 1e9);
}

void
kd_w_publish (kd_pod_worker_t *w)
{
  kd_pod_status_t out;
  const char *phase;

  if (w->gone || w->detached || w->state == W_WAITING)
    return;
  kd_pod_compute_status (w->pod, &w->rec, w->has_status ? &w->status : NULL, kd_now_ns (), &out);
  kd_pod_store_set_status (w->m->store, w->uid, &out);
  if (w->has_status)
    kd_type_free (&kd_type_pod_status, &w->status);
  w->status = out;
  w->has_status = true;
  observe_start (w, &w->status);
  phase = out.phase;
  if (!w->terminal && w->state == W_RUNNING
      && (kd_str_eq (phase, "Succeeded") || kd_str_eq (phase, "Failed")))
    {
      kd_info ("pod %s/%s: %s", w->ns, w->name, phase);
      w->terminal = true;
      kill_all (w);
    }
}

/* ---- stop ------------------------------------------------------------------ */

static bool
any_active (kd_pod_worker_t *w, size_t from, size_t to, bool sidecars)
{
  for (size_t i = from; i < to; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      if ((sidecars || !c->is_sidecar) && kd_ctr_active (c))
        return true;
    }
  return false;
}

static void
w_stop_progress (kd_pod_worker_t *w)
{
  int64_t grace = kd_w_pod_grace_ms (w);

  if (w->state != W_STOPPING)
    return;
  /* 1. app containers and running regular init containers, together */
  if (any_active (w, 0, w->n_ctrs, false))
    {
      for (size_t i = 0; i < w->n_ctrs; i++)
        if (!w->ctrs[i].is_sidecar)
          kd_ctr_stop (&w->ctrs[i], grace, NULL);
      return;
    }
  /* 2. sidecars, in reverse order, one at a time */
  for (size_t i = w->n_init; i-- > 0;)
    if (w->ctrs[i].is_sidecar && kd_ctr_active (&w->ctrs[i]))
      {
        kd_ctr_stop (&w->ctrs[i], grace, NULL);
        return;
      }
  /* 3. the sandbox */
  w->state = W_TEARDOWN;
  kd_sandbox_down (w, false);
}

/* Called after any exit or finished creation while stopping. */
void
kd_w_stop_progress (kd_pod_worker_t *w)
{
  w_stop_progress (w);
}

static void
w_stop (kd_pod_worker_t *w)
{
  if (w->state == W_WAITING)
    {
      w->state = W_STOPPED;
      kd_w_stopped (w);
      return;
    }
  if (w->state == W_STOPPING || w->state == W_TEARDOWN || w->state == W_STOPPED)
    return;
  kd_info ("pod %s/%s (uid %s): stopping", w->ns, w->name, w->uid);
  kd_w_close_timer (w, &w->deadline, &w->deadline_init);
  kd_w_close_timer (w, &w->retry, &w->retry_init);
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      c->no_restart = true;
      if (c->phase == C_IDLE || c->phase == C_BACKOFF)
        kd_ctr_stop (c, 0, NULL);
    }
  if (w->state == W_SANDBOX)
    {
      /* sandbox_up's callbacks see W_STOPPING and tear down */
      w->state = W_STOPPING;
      /* waiting for a retry: nothing will call back, tear down now */
      if (!w->sandbox_op)
        {
          w->state = W_TEARDOWN;
          kd_sandbox_down (w, false);
        }
      return;
    }
  w->state = W_STOPPING;
  w_stop_progress (w);
}

/* The kill step is timed like a sync step (operation "kill"). */
void
kd_w_stop (kd_pod_worker_t *w)
{
  uint64_t t0 = uv_hrtime ();

  w_stop (w);
  kd_metrics_observe ("kubelet_pod_worker_duration_seconds", (double) (uv_hrtime () - t0) / 1e9,
                      "kill");
}

/* kubeletd stops and leaves the pod running: close what belongs to this
   process only. */
void
kd_w_detach (kd_pod_worker_t *w)
{
  if (w->gone)
    return;
  w->detached = true;
  /* the next kubeletd adopts the pod from it: written now */
  kd_checkpoint_flush (w);
  kd_checkpoint_discard (w);
  kd_w_close_timer (w, &w->deadline, &w->deadline_init);
  kd_w_close_timer (w, &w->retry, &w->retry_init);
  for (size_t i = 0; i < w->n_ctrs; i++)
    kd_ctr_release (&w->ctrs[i]);
  if (w->shim)
    {
      kd_shim_t *s = w->shim;
      w->shim = NULL;
      kd_shim_free (s);
    }
  if (w->pod_cg)
    kd_cgroup_free (w->pod_cg);
  w->pod_cg = NULL;
  w->state = W_STOPPED;
  w->gone = true;
  kd_w_unref (w);
}

void
kd_w_shim_lost (kd_pod_worker_t *w)
{
  kd_shim_t *s = w->shim;

  if (w->gone)
    return;
  kd_warn ("pod %s/%s: the shim died", w->ns, w->name);
  w->shim = NULL;
  w->shim_gen++;
  if (s)
    kd_shim_free (s);
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      if (c->phase == C_RUNNING || c->phase == C_CREATING)
        kd_ctr_lost (c, 137, KD_REASON_ERROR, "shim died");
    }
  w->rec.sandbox_ready = false;
  if (w->state == W_STOPPING)
    {
      w_stop_progress (w);
      return;
    }
  if (w->state != W_RUNNING)
    return;
  w->state = W_SANDBOX;
  w->sandbox_changed = true;
  kd_w_publish (w);
  kd_sandbox_down (w, true);
}
