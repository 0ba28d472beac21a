/* A container's image: the kubelet's pull policy and back-off, the
   Pulling/Pulled/Failed/BackOff events, then the run is created
   (containers.c). The image stays in use (+1) while a run exists. */
#include "worker-internal.h"

/* ---- image ------------------------------------------------------------------------- */

char *
kd_ctr_image_name (const char *image)
{
  kd_image_ref_t ref;
  kd_error_t err = NULL;
  char *s;

  if (kd_image_ref_parse (image, &ref, &err) < 0)
    {
      kd_error_release (&err);
      return xstrdup (image);
    }
  s = kd_image_ref_string (&ref);
  kd_image_ref_free (&ref);
  return s;
}

static char *
image_id (const kd_image_t *img, const char *image)
{
  kd_image_ref_t ref;
  kd_error_t err = NULL;
  char *repo, *s;

  if (img->n_repo_digests > 0)
    return xstrdup (img->repo_digests[0]);
  if (kd_image_ref_parse (image, &ref, &err) < 0)
    {
      kd_error_release (&err);
      return xstrdup (img->manifest_digest ? img->manifest_digest : img->id);
    }
  repo = kd_image_ref_repository (&ref);
  s = xasprintf ("%s@%s", repo, img->manifest_digest ? img->manifest_digest : img->id);
  free (repo);
  kd_image_ref_free (&ref);
  return s;
}

static void
on_image (void *data, const kd_image_t *img, const char *reason, const char *message)
{
  op_t *o = data;
  bool pulling = o->pulling;
  int64_t dt = kd_monotonic_ns () - o->t0;
  kd_ctr_t *c = kd_op_end (o);
  kd_pod_worker_t *w;
  const char *image;

  if (c == NULL || c->phase != C_PULLING)
    return;
  w = c->w;
  image = c->spec->image ? c->spec->image : "";
  if (c->no_restart || w->state != W_RUNNING)
    {
      c->phase = w->state == W_RUNNING ? C_DONE : C_IDLE;
      if (c->no_restart)
        c->phase = C_DONE;
      if (w->state == W_STOPPING)
        kd_w_stop_progress (w);
      return;
    }
  if (img == NULL)
    {
      int64_t now = kd_now_ns ();
      if (kd_str_eq (reason, KD_REASON_ERR_IMAGE_PULL))
        kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED, KD_EVMSG_PULL_FAILED, image, message);
      else if (kd_str_eq (reason, KD_REASON_ERR_IMAGE_NEVER_PULL))
        kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_ERR_IMAGE_NEVER, KD_EVMSG_NEVER_PULL, image);
      kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED, KD_EVMSG_ERROR, reason);
      kd_ctr_waiting (c, reason, message);
      kd_backoff_next (&w->m->image_cfg, &c->img_backoff, now, now);
      c->phase = C_BACKOFF;
      if (kd_str_eq (reason, KD_REASON_ERR_IMAGE_PULL))
        kd_ctr_set_timer (c, T_PULL_RETRY, 1000);
      else
        kd_ctr_set_timer (c, T_RESTART, c->img_backoff.backoff_ns / 1000000);
      kd_w_publish (w);
      return;
    }
  kd_backoff_gc (&w->m->image_cfg, &c->img_backoff, kd_now_ns ());
  if (pulling)
    {
      cleanup_free char *pm = kd_event_pulled_message (image, dt, dt, img->size);
      kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_PULLED, "%s", pm);
    }
  else
    kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_PULLED, KD_EVMSG_ALREADY_PRESENT, image);
  c->img = (kd_image_t *) img;
  kd_image_service_use (w->m->images, c->img, +1);
  free (c->rec->image);
  c->rec->image = kd_ctr_image_name (image);
  free (c->rec->image_id);
  c->rec->image_id = image_id (img, image);
  kd_ctr_create (c);
}

void
kd_ctr_start (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;
  const char *image = c->spec->image ? c->spec->image : "";
  const char *policy = kd_w_pull_policy (c->spec);
  int64_t wait_ns = 0;
  op_t *o;
  kd_image_t *have;
  cleanup_free char *norm = NULL;

  if (w->state != W_RUNNING || c->no_restart || w->m->images == NULL)
    return;
  c->gen++;
  if (kd_image_backoff_check (&w->m->image_cfg, &c->img_backoff, kd_now_ns (), &wait_ns))
    {
      cleanup_free char *msg = xasprintf (KD_EVMSG_PULL_BACKOFF, image);
      kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_BACKOFF, "%s", msg);
      kd_ctr_waiting (c, KD_REASON_IMAGE_PULL_BACK_OFF, msg);
      c->phase = C_BACKOFF;
      kd_ctr_set_timer (c, T_RESTART, wait_ns / 1000000 + 1);
      kd_w_publish (w);
      return;
    }
  c->phase = C_PULLING;
  o = kd_op_new (c);
  norm = kd_ctr_image_name (image);
  have = kd_image_store_lookup (kd_image_service_store (w->m->images), norm);
  o->pulling = kd_str_eq (policy, "Always") || (have == NULL && !kd_str_eq (policy, "Never"));
  if (o->pulling)
    kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_PULLING, KD_EVMSG_PULLING, image);
  kd_image_service_ensure (w->m->images, image, policy, on_image, o);
}
