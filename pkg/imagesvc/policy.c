/* The kubelet's image policy over the service: EnsureImageExists
   (pkg/kubelet/images/image_manager.go) with its reasons and messages,
   in-use counting, rmi and the GC pass. */
#include "imagesvc-internal.h"

kd_image_t *
kd_svc_find_by_manifest (kd_image_service_t *svc, const char *manifest_digest)
{
  cleanup_free kd_image_t **all = NULL;
  size_t n = kd_image_store_list (svc->store, &all);

  for (size_t i = 0; i < n; i++)
    if (strcmp (all[i]->manifest_digest, manifest_digest) == 0)
      return all[i];
  return NULL;
}

/* The kubelet's defaulting (pkg/apis/core/v1/defaults.go): ":latest", or
   no tag and no digest (the parser then says "latest"), pulls Always. */
static const char *
default_policy (const kd_image_ref_t *ref)
{
  return ref->tag != NULL && strcmp (ref->tag, "latest") == 0 ? "Always" : "IfNotPresent";
}

void
kd_image_service_ensure (kd_image_service_t *svc, const char *image, const char *policy,
                         kd_image_done_fn cb, void *data)
{
  kd_image_ref_t ref;
  kd_error_t err = NULL;
  cleanup_free char *key = NULL;
  kd_image_t *img;

  if (svc->closing)
    return;
  if (kd_image_ref_parse (image, &ref, &err) < 0)
    {
      /* applyDefaultImageTag's words around the reference parser's. */
      cleanup_free char *msg = xasprintf (
          "Failed to apply default image tag \"%s\": couldn't parse image name \"%s\": %s", image,
          image, err->msg);
      kd_error_release (&err);
      kd_svc_deliver (svc, NULL, KD_REASON_INVALID_IMAGE_NAME, msg, cb, data);
      return;
    }
  if (policy == NULL || *policy == '\0')
    policy = default_policy (&ref);
  key = kd_image_ref_string (&ref);
  img = kd_image_store_lookup (svc->store, key);

  if (strcmp (policy, "Never") == 0)
    {
      cleanup_free char *msg = NULL;
      kd_image_ref_free (&ref);
      if (img != NULL)
        {
          kd_svc_deliver (svc, img, NULL, NULL, cb, data);
          return;
        }
      msg = xasprintf ("Container image \"%s\" is not present with pull policy of Never", image);
      kd_svc_deliver (svc, NULL, KD_REASON_ERR_IMAGE_NEVER_PULL, msg, cb, data);
      return;
    }
  if (strcmp (policy, "IfNotPresent") == 0 && img != NULL)
    {
      kd_image_ref_free (&ref);
      kd_svc_deliver (svc, img, NULL, NULL, cb, data);
      return;
    }
  if (strcmp (policy, "IfNotPresent") != 0 && strcmp (policy, "Always") != 0)
    {
      /* Validation refuses other values before a pod gets here. */
      cleanup_free char *msg = xasprintf ("unknown pull policy \"%s\"", policy);
      kd_image_ref_free (&ref);
      kd_svc_deliver (svc, NULL, KD_REASON_ERR_IMAGE_PULL, msg, cb, data);
      return;
    }
  kd_svc_pull_ref (svc, &ref, cb, data);
}

void
kd_image_service_pull (kd_image_service_t *svc, const char *image, kd_image_done_fn cb, void *data)
{
  kd_image_service_ensure (svc, image, "Always", cb, data);
}

void
kd_image_service_use (kd_image_service_t *svc, kd_image_t *img, int delta)
{
  img->in_use += delta;
  if (img->in_use < 0)
    {
      kd_warn ("image %s: in-use count went below zero", img->id);
      img->in_use = 0;
    }
  if (delta > 0)
    kd_image_store_touch (svc->store, img);
}

/* ---- rmi ---------------------------------------------------------------------- */

/* An image ID or ID prefix names the image, not a tag: nothing is untagged
   by name. Else the normalized reference is what goes. */
static char *
untag_name (const char *ref, const kd_image_t *img)
{
  const char *hex = kd_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  kd_image_ref_t r;
  kd_error_t err = NULL;
  char *s;

  if (kd_str_hex_p (hex) && strlen (hex) >= 12 && strncmp (img->id + 7, hex, strlen (hex)) == 0)
    return NULL;
  if (kd_image_ref_parse (ref, &r, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  s = kd_image_ref_string (&r);
  kd_image_ref_free (&r);
  return s;
}

static void
do_remove (kd_image_service_t *svc, const char *ref, kd_image_removed_fn cb, void *data)
{
  kd_image_t *img = kd_image_store_lookup (svc->store, ref);
  cleanup_free char *id = NULL, *untagged = NULL;
  kd_error_t err = NULL;
  int status;

  if (img == NULL)
    {
      cleanup_free char *msg = xasprintf ("No such image: %s", ref);
      cb (data, -ENOENT, msg, NULL, NULL);
      return;
    }
  id = xstrdup (img->id);
  untagged = untag_name (ref, img);
  if (kd_image_store_remove (svc->store, ref, &err) < 0)
    {
      status = err->status == EBUSY || err->status == ENOENT ? -err->status : -EIO;
      cb (data, status, err->msg, NULL, NULL);
      kd_error_release (&err);
      return;
    }
  kd_info ("image %s removed (%s)", ref,
           kd_image_store_lookup (svc->store, id) ? "untagged" : "deleted");
  cb (data, 0, NULL, untagged, kd_image_store_lookup (svc->store, id) == NULL ? id : NULL);
}

void
kd_image_service_remove (kd_image_service_t *svc, const char *ref, kd_image_removed_fn cb,
                         void *data)
{
  kd_svc_remove_t *r;

  if (svc->closing)
    return;
  if (svc->n_jobs == 0)
    {
      do_remove (svc, ref, cb, data);
      return;
    }
  /* A pull in flight may be reusing the blobs and layers this would delete. */
  kd_vlog (2, "rmi %s waits for %zu pulls or imports", ref, svc->n_jobs);
  r = xcalloc (1, sizeof (*r));
  r->ref = xstrdup (ref);
  r->cb = cb;
  r->data = data;
  *svc->removes_tail = r;
  svc->removes_tail = &r->next;
}

void
kd_svc_run_removes (kd_image_service_t *svc)
{
  kd_svc_remove_t *list = svc->removes, *r;

  svc->removes = NULL;
  svc->removes_tail = &svc->removes;
  while ((r = list) != NULL)
    {
      list = r->next;
      if (svc->closing)
        r->cb (r->data, -ECANCELED, KD_MSG_STOPPING, NULL, NULL);
      else
        do_remove (svc, r->ref, r->cb, r->data);
      free (r->ref);
      free (r);
    }
}

void
kd_svc_fail_removes (kd_image_service_t *svc, const char *message)
{
  kd_svc_remove_t *list = svc->removes, *r;

  svc->removes = NULL;
  svc->removes_tail = &svc->removes;
  while ((r = list) != NULL)
    {
      list = r->next;
      r->cb (r->data, -ECANCELED, message, NULL, NULL);
      free (r->ref);
      free (r);
    }
}

/* ---- GC --------------------------------------------------------------------------- */

int
kd_image_service_gc (kd_image_service_t *svc, size_t *removed, kd_error_t *err)
{
  *removed = 0;
  if (svc->gc_high >= 100)
    return 0;
  if (svc->n_jobs > 0)
    {
      kd_vlog (2, "image GC skipped: %zu pulls or imports in flight", svc->n_jobs);
      return 0;
    }
  if (kd_image_store_gc (svc->store, svc->gc_high, svc->gc_low, svc->usage_fn, svc->usage_data,
                         removed, err)
      < 0)
    return -1;
  if (*removed > 0)
    kd_info ("image GC removed %zu images", *removed);
  return 0;
}
