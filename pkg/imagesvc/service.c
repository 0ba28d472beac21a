/* The image service's life and its pool work: pulls and imports run on
   libuv's pool, their results are committed on the loop, and every answer
   reaches its caller on the loop, never inside the call that asked.

   A job's life: 1. created on the loop with its first waiter, 2. the pool
   thread pulls (or imports) and unpacks, publishing progress through
   atomics, 3. back on the loop the image is committed and tagged, 4. every
   waiter gets the image or the error, 5. when no job is left, the removes
   that waited run. */
#include <stddef.h>

#include "imagesvc-internal.h"
#include "kubeletd/metrics.h"

#define container_of(ptr, type, member) ((type *) ((char *) (ptr) -offsetof (type, member)))

static char **
strv_dup (char *const *v, size_t n)
{
  char **r = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  return r;
}

static void
strv_free (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

static void
svc_free (kd_image_service_t *svc)
{
  kd_image_store_free (svc->store);
  strv_free (svc->reg.mirrors, svc->reg.n_mirrors);
  strv_free (svc->reg.insecure, svc->reg.n_insecure);
  free (svc->auth_file);
  free (svc->arch);
  free (svc);
}

/* The service goes once its handles are closed and no pool work can come
   back to it. */
static void
maybe_free (kd_image_service_t *svc)
{
  if (svc->closing && svc->open_handles == 0 && svc->n_jobs == 0)
    svc_free (svc);
}

static void
on_handle_closed (uv_handle_t *h)
{
  kd_image_service_t *svc = h->data;

  svc->open_handles--;
  maybe_free (svc);
}

/* ---- answers without pool work --------------------------------------------- */

static void
ready_free (kd_svc_ready_t *r)
{
  free (r->image_id);
  free (r->reason);
  free (r->message);
  free (r);
}

static void
on_deliver (uv_timer_t *t)
{
  kd_image_service_t *svc = t->data;
  kd_svc_ready_t *list = svc->ready, *r;

  svc->ready = NULL;
  svc->ready_tail = &svc->ready;
  while ((r = list) != NULL)
    {
      list = r->next;
      if (svc->closing)
        r->cb (r->data, NULL, KD_REASON_ERR_IMAGE_PULL, KD_MSG_STOPPING);
      else if (r->image_id == NULL)
        r->cb (r->data, NULL, r->reason, r->message);
      else
        {
          /* Looked up again: an rmi may have run since the answer was made. */
          kd_image_t *img = kd_image_store_lookup (svc->store, r->image_id);
          cleanup_free char *msg = NULL;
          if (img != NULL)
            r->cb (r->data, img, NULL, NULL);
          else
            {
              msg = xasprintf ("image %s was removed", r->image_id);
              r->cb (r->data, NULL, KD_REASON_ERR_IMAGE_PULL, msg);
            }
        }
      ready_free (r);
    }
}

void
kd_svc_deliver (kd_image_service_t *svc, const kd_image_t *img, const char *reason,
                const char *message, kd_image_done_fn cb, void *data)
{
  kd_svc_ready_t *r = xcalloc (1, sizeof (*r));

  r->cb = cb;
  r->data = data;
  if (img != NULL)
    r->image_id = xstrdup (img->id);
  else
    {
      r->reason = xstrdup (reason);
      r->message = xstrdup (message);
    }
  *svc->ready_tail = r;
  svc->ready_tail = &r->next;
  if (!uv_is_active ((uv_handle_t *) &svc->deliver_timer))
    uv_timer_start (&svc->deliver_timer, on_deliver, 0, 0);
}

/* ---- jobs ------------------------------------------------------------------- */

static kd_svc_job_t *
job_new (kd_image_service_t *svc, kd_job_kind_t kind, const char *key)
{
  kd_svc_job_t *j = xcalloc (1, sizeof (*j));

  j->svc = svc;
  j->kind = kind;
  j->key = xstrdup (key);
  j->started_ns = kd_now_ns ();
  j->waiters_tail = &j->waiters;
  atomic_init (&j->done, 0);
  atomic_init (&j->total, 0);
  return j;
}

static void
job_add_waiter (kd_svc_job_t *j, kd_image_done_fn cb, void *data)
{
  kd_svc_waiter_t *w = xcalloc (1, sizeof (*w));

  w->cb = cb;
  w->data = data;
  *j->waiters_tail = w;
  j->waiters_tail = &w->next;
  j->n_waiters++;
}

static void
job_free (kd_svc_job_t *j)
{
  kd_svc_waiter_t *w;

  while ((w = j->waiters) != NULL)
    {
      j->waiters = w->next;
      free (w);
    }
  free (j->key);
  if (j->kind == KD_JOB_PULL)
    kd_image_ref_free (&j->ref);
  free (j->path);
  free (j->tag);
  free (j->manifest_digest);
  free (j->ref_name);
  kd_error_release (&j->err);
  free (j);
}

static void
job_unlink (kd_image_service_t *svc, kd_svc_job_t *j)
{
  for (kd_svc_job_t **p = &svc->jobs; *p; p = &(*p)->next)
    if (*p == j)
      {
        *p = j->next;
        return;
      }
}

/* [pool thread] */
static void
on_progress (void *data, int64_t done, int64_t total)
{
  kd_svc_job_t *j = data;

  atomic_store (&j->total, total);
  atomic_store (&j->done, done);
}

/* [pool thread] Only the store's [any thread] functions and the job's own
   result fields are touched here. */
static void
job_work (uv_work_t *w)
{
  kd_svc_job_t *j = container_of (w, kd_svc_job_t, work);
  const kd_image_service_t *svc = j->svc;
  int r;

  if (j->kind == KD_JOB_PULL)
    r = kd_registry_pull (&svc->reg, svc->store, &j->ref, on_progress, j, &j->manifest_digest,
                          &j->err);
  else
    r = kd_image_import_path (svc->store, j->path, &j->manifest_digest, &j->ref_name, &j->err);
  if (r < 0)
    return;
  if (kd_image_store_prepare (svc->store, j->manifest_digest, &j->err) < 0)
    kd_error_wrap (&j->err, "unpack %s", j->key);
}

/* The name an import is tagged with: --tag, else the input's own name
   when it is a whole reference ("busybox:1.35", "host/x"); a bare
   "latest" or "1.35" (allowed in an OCI layout's ref.name) names nothing. */
static int
import_ref (kd_svc_job_t *j, kd_image_ref_t *ref, bool *has, kd_error_t *err)
{
  const char *name = j->tag ? j->tag : j->ref_name;

  *has = false;
  if (name == NULL || (j->tag == NULL && strpbrk (name, "/:@") == NULL))
    return 0;
  if (kd_image_ref_parse (name, ref, err) < 0)
    return kd_error_wrap (err, "tag `%s`", name);
  *has = true;
  return 0;
}

/* [loop] Records the image; the result for the waiters. *name: the
   normalized name an import was tagged with. */
static kd_image_t *
job_commit (kd_image_service_t *svc, kd_svc_job_t *j, char **name)
{
  kd_image_ref_t ref;
  bool has_ref = false;
  int r;

  if (j->kind == KD_JOB_PULL)
    r = kd_image_store_commit (svc->store, j->manifest_digest, &j->ref, &j->err);
  else
    {
      if (import_ref (j, &ref, &has_ref, &j->err) < 0)
        return NULL;
      r = kd_image_store_commit (svc->store, j->manifest_digest, has_ref ? &ref : NULL, &j->err);
      if (has_ref)
        {
          if (r == 0)
            *name = kd_image_ref_string (&ref);
          kd_image_ref_free (&ref);
        }
    }
  if (r < 0)
    return NULL;
  return kd_svc_find_by_manifest (svc, j->manifest_digest);
}

static void
job_after (uv_work_t *w, int status)
{
  kd_svc_job_t *j = container_of (w, kd_svc_job_t, work);
  kd_image_service_t *svc = j->svc;
  kd_image_t *img = NULL;
  const char *what = j->kind == KD_JOB_PULL ? "pull" : "import";
  cleanup_free char *name = NULL;

  job_unlink (svc, j);
  if (!svc->closing)
    {
      if (status < 0)
        kd_make_error (&j->err, 0, "%s %s: %s", what, j->key, uv_strerror (status));
      else if (j->err == NULL)
        img = job_commit (svc, j, &name);
      if (j->kind == KD_JOB_PULL)
        kd_metrics_counter_add ("kubeletd_image_pull_bytes_total", atomic_load (&j->done));
      if (img != NULL && j->kind == KD_JOB_PULL)
        kd_metrics_observe ("kubelet_image_pull_duration_seconds",
                            (double) (kd_now_ns () - j->started_ns) / 1e9,
                            kd_metrics_image_size_bucket ((uint64_t) atomic_load (&j->total)));
      if (img != NULL)
        kd_info ("%s of %s done: %s (%s)", what, j->key, img->id, j->manifest_digest);
      else
        {
          if (j->err == NULL)
            kd_make_error (&j->err, 0, "%s %s: the stored image was not found", what, j->key);
          kd_warn ("%s of %s failed: %s", what, j->key, j->err->msg);
        }
      for (kd_svc_waiter_t *wt = j->waiters; wt; wt = wt->next)
        {
          /* A waiter may close the service; the rest then hear so. */
          if (svc->closing)
            wt->cb (wt->data, NULL, KD_REASON_ERR_IMAGE_PULL, KD_MSG_STOPPING);
          else if (img != NULL)
            wt->cb (wt->data, img, NULL, name);
          else
            wt->cb (wt->data, NULL, KD_REASON_ERR_IMAGE_PULL, j->err->msg);
        }
    }
  svc->n_jobs--;
  job_free (j);
  if (!svc->closing && svc->n_jobs == 0)
    kd_svc_run_removes (svc);
  maybe_free (svc);
}

static void
job_start (kd_image_service_t *svc, kd_svc_job_t *j)
{
  int r;

  j->next = svc->jobs;
  svc->jobs = j;
  svc->n_jobs++;
  r = uv_queue_work (svc->loop, &j->work, job_work, job_after);
  if (r < 0)
    {
      /* Cannot happen with valid arguments; answer rather than hang. */
      kd_svc_waiter_t *w = j->waiters;
      job_unlink (svc, j);
      svc->n_jobs--;
      for (; w; w = w->next)
        kd_svc_deliver (svc, NULL, KD_REASON_ERR_IMAGE_PULL, uv_strerror (r), w->cb, w->data);
      job_free (j);
    }
}

void
kd_svc_pull_ref (kd_image_service_t *svc, kd_image_ref_t *ref, kd_image_done_fn cb, void *data)
{
  cleanup_free char *key = kd_image_ref_string (ref);
  kd_svc_job_t *j;

  for (j = svc->jobs; j; j = j->next)
    if (j->kind == KD_JOB_PULL && strcmp (j->key, key) == 0)
      {
        kd_vlog (2, "pull of %s in flight: waiting for it (%zu waiters)", key, j->n_waiters + 1);
        job_add_waiter (j, cb, data);
        kd_image_ref_free (ref);
        return;
      }
  j = job_new (svc, KD_JOB_PULL, key);
  j->ref = *ref;
  memset (ref, 0, sizeof (*ref));
  job_add_waiter (j, cb, data);
  kd_info ("pulling image %s", key);
  job_start (svc, j);
}

void
kd_image_service_import (kd_image_service_t *svc, const char *path, const char *tag,
                         kd_image_done_fn cb, void *data)
{
  kd_svc_job_t *j;

  if (svc->closing)
    return;
  j = job_new (svc, KD_JOB_IMPORT, path);
  j->kind = KD_JOB_IMPORT;
  j->path = xstrdup (path);
  j->tag = tag && *tag ? xstrdup (tag) : NULL;
  job_add_waiter (j, cb, data);
  kd_info ("importing image from %s", path);
  job_start (svc, j);
}

/* ---- life --------------------------------------------------------------------- */

static void
on_gc_timer (uv_timer_t *t)
{
  kd_image_service_t *svc = t->data;
  kd_error_t err = NULL;
  size_t removed = 0;

  if (kd_image_service_gc (svc, &removed, &err) < 0)
    {
      kd_error_wrap (&err, "image garbage collection");
      kd_error_log_release (&err);
    }
}

int
kd_image_service_new (uv_loop_t *loop, const kd_image_service_opts_t *opts,
                      kd_image_service_t **out, kd_error_t *err)
{
  kd_image_service_t *svc = xcalloc (1, sizeof (*svc));
  cleanup_free char *dir = xasprintf ("%s/images", opts->root_dir);
  uint64_t period = opts->gc_period_ms ? opts->gc_period_ms : KD_IMAGE_GC_PERIOD_MS;

  if (kd_image_store_open (dir, &svc->store, err) < 0)
    {
      free (svc);
      return kd_error_wrap (err, "image store");
    }
  svc->loop = loop;
  svc->reg = opts->registry;
  svc->reg.mirrors = strv_dup (opts->registry.mirrors, opts->registry.n_mirrors);
  svc->reg.insecure = strv_dup (opts->registry.insecure, opts->registry.n_insecure);
  svc->auth_file = opts->registry.auth_file ? xstrdup (opts->registry.auth_file) : NULL;
  svc->arch = opts->registry.arch ? xstrdup (opts->registry.arch) : NULL;
  svc->reg.auth_file = svc->auth_file;
  svc->reg.arch = svc->arch;
  svc->gc_high = opts->gc_high_pct;
  svc->gc_low = opts->gc_low_pct;
  svc->usage_fn = opts->usage_fn;
  svc->usage_data = opts->usage_data;
  svc->ready_tail = &svc->ready;
  svc->removes_tail = &svc->removes;

  uv_timer_init (loop, &svc->gc_timer);
  uv_timer_init (loop, &svc->deliver_timer);
  svc->gc_timer.data = svc->deliver_timer.data = svc;
  svc->open_handles = 2;
  /* The kubelet's image GC runs every 5 minutes; the first pass after one
     period, not at start, so a restart does not delete what pods are about
     to use again. */
  if (svc->gc_high < 100)
    uv_timer_start (&svc->gc_timer, on_gc_timer, period, period);
  /* GC alone keeps no loop running: the daemon's loop lives for its
     server, and a test's uv_run returns once the pulls are answered. */
  uv_unref ((uv_handle_t *) &svc->gc_timer);
  *out = svc;
  return 0;
}

kd_image_store_t *
kd_image_service_store (kd_image_service_t *svc)
{
  return svc->store;
}

size_t
kd_image_service_busy (kd_image_service_t *svc)
{
  return svc->n_jobs;
}

void
kd_image_service_close (kd_image_service_t *svc)
{
  if (svc == NULL || svc->closing)
    return;
  svc->closing = true;
  uv_close ((uv_handle_t *) &svc->gc_timer, on_handle_closed);
  uv_close ((uv_handle_t *) &svc->deliver_timer, on_handle_closed);

  /* Every pending answer now, so no caller waits for a loop that stops;
     the pool work still running finds `closing` set when it comes back. */
  for (kd_svc_job_t *j = svc->jobs; j; j = j->next)
    {
      kd_svc_waiter_t *w;
      while ((w = j->waiters) != NULL)
        {
          j->waiters = w->next;
          w->cb (w->data, NULL, KD_REASON_ERR_IMAGE_PULL, KD_MSG_STOPPING);
          free (w);
        }
      j->waiters_tail = &j->waiters;
      j->n_waiters = 0;
    }
  while (svc->ready != NULL)
    {
      kd_svc_ready_t *r = svc->ready;
      svc->ready = r->next;
      r->cb (r->data, NULL, KD_REASON_ERR_IMAGE_PULL, KD_MSG_STOPPING);
      ready_free (r);
    }
  svc->ready_tail = &svc->ready;
  kd_svc_fail_removes (svc, KD_MSG_STOPPING);
}

json_t *
kd_image_service_pulls_json (kd_image_service_t *svc)
{
  json_t *a = json_array ();

  for (kd_svc_job_t *j = svc->jobs; j; j = j->next)
    {
      char started[40];
      kd_format_time (j->started_ns, started, sizeof (started));
      json_array_append_new (a, json_pack ("{s:s, s:s, s:I, s:I, s:I, s:s}", "ref", j->key, "kind",
                                           j->kind == KD_JOB_PULL ? "pull" : "import", "bytesDone",
                                           (json_int_t) atomic_load (&j->done), "bytesTotal",
                                           (json_int_t) atomic_load (&j->total), "waiters",
                                           (json_int_t) j->n_waiters, "startedAt", started));
    }
  return a;
}
