/* imagesvc: the image service on the libuv loop — pulls, imports, the pull
 * policy, in-use counts, rmi and image garbage collection over the image
 * store (include/kubeletd/image.h).
 *
 * Why: a pull blocks for seconds to minutes and the loop must never wait,
 * so the blocking parts (registry, import, unpack) run on libuv's pool and
 * only the index changes (commit, remove, GC) run on the loop. Two pods
 * asking for the same image at once must cause one pull, and a pod worker
 * needs the kubelet's answer in the kubelet's words (ErrImagePull,
 * ErrImageNeverPull, InvalidImageName).
 *
 * What it owns: the kd_image_store_t of <root-dir>/images, the in-flight
 * pulls and imports (each with its waiters and its progress), the removes
 * that wait for in-flight work to finish, and the GC timer.
 *
 * Concurrency rule: a remove or a GC run deletes blobs and layer
 * directories that a pool thread may be reusing, so both wait until no
 * pull or import is in flight (removes are queued, a GC tick is skipped).
 *
 * How to use:
 *  1. kd_image_service_new (loop, &opts, &svc, &err) opens the store and
 *     starts the GC timer.
 *  2. kd_image_service_ensure (svc, image, policy, cb, data): cb runs later,
 *     on the loop, never before ensure returns, with the image (valid for
 *     the callback only: take kd_image_service_use (svc, img, +1) to keep
 *     it) or NULL with a reason and a message.
 *  3. kd_image_service_use (svc, img, -1) when the container is gone.
 *  4. kd_image_service_pull / _import / _remove for the API routes;
 *     kd_image_service_pulls_json for GET /images/pulls.
 *  5. kd_image_service_close (svc): every pending callback runs at once with
 *     a failure ("kubeletd is stopping"), none runs after; the service frees
 *     itself once the pool work in flight has come back (run the loop).
 */
#ifndef KUBELETD_IMAGESVC_H
#define KUBELETD_IMAGESVC_H

#include <jansson.h>
#include <uv.h>

#include "kubeletd/image.h"

/* The kubelet's waiting reasons (pkg/kubelet/images/types.go). */
#define KD_REASON_ERR_IMAGE_PULL       "ErrImagePull"
#define KD_REASON_ERR_IMAGE_NEVER_PULL "ErrImageNeverPull"
#define KD_REASON_INVALID_IMAGE_NAME   "InvalidImageName"
#define KD_IMAGE_GC_PERIOD_MS          (5 * 60 * 1000)

typedef struct kd_image_service kd_image_service_t;

typedef struct
{
  const char *root_dir;        /* the store is <root_dir>/images */
  kd_registry_opts_t registry; /* the strings are copied */
  int gc_high_pct;             /* --image-gc-high-threshold; 100 disables GC */
  int gc_low_pct;              /* --image-gc-low-threshold */
  uint64_t gc_period_ms;       /* 0 = KD_IMAGE_GC_PERIOD_MS */
  kd_disk_usage_fn usage_fn;   /* NULL = statvfs (tests simulate usage) */
  void *usage_data;
} kd_image_service_opts_t;

/* img is NULL on failure; then reason is one of the KD_REASON_* and message
   the text for the container's waiting state. */
typedef void (*kd_image_done_fn) (void *data, const kd_image_t *img, const char *reason,
                                  const char *message);

/* [loop] */
int kd_image_service_new (uv_loop_t *loop, const kd_image_service_opts_t *opts,
                          kd_image_service_t **out, kd_error_t *err) KD_WUR;
void kd_image_service_close (kd_image_service_t *svc);
kd_image_store_t *kd_image_service_store (kd_image_service_t *svc);

/* The kubelet's pull policy: "Always", "IfNotPresent", "Never", or "" / NULL
   for the default by tag (no tag or :latest -> Always, else IfNotPresent). */
void kd_image_service_ensure (kd_image_service_t *svc, const char *image, const char *policy,
                              kd_image_done_fn cb, void *data);
/* Pulls whatever is in the store (policy Always). */
void kd_image_service_pull (kd_image_service_t *svc, const char *image, kd_image_done_fn cb,
                            void *data);
/* Imports an OCI layout directory, an OCI archive or a docker save tar on
   this node; tags it with `tag` when not NULL, else with the name the
   input gives (a bare tag such as "latest" is not enough to name it). */
void kd_image_service_import (kd_image_service_t *svc, const char *path, const char *tag,
                              kd_image_done_fn cb, void *data);
/* Containers using img: +1 when one is created from it (also marks it
   used now, for GC's order), -1 when it is removed. */
void kd_image_service_use (kd_image_service_t *svc, kd_image_t *img, int delta);

/* rmi. status: 0, or -ENOENT (unknown), -EBUSY (in use), -EIO (store);
   untagged/deleted: what went (NULL when nothing). Runs at once unless a
   pull or import is in flight. */
typedef void (*kd_image_removed_fn) (void *data, int status, const char *message,
                                     const char *untagged, const char *deleted);
void kd_image_service_remove (kd_image_service_t *svc, const char *ref, kd_image_removed_fn cb,
                              void *data);

/* [loop] Runs one GC pass now (the timer's work). Skipped (0, nothing
   removed) while pulls or imports are in flight. */
int kd_image_service_gc (kd_image_service_t *svc, size_t *removed, kd_error_t *err) KD_WUR;

/* [loop] The in-flight pulls and imports:
   [{"ref","kind":"pull"|"import","bytesDone","bytesTotal","waiters","startedAt"}]. */
json_t *kd_image_service_pulls_json (kd_image_service_t *svc);
/* Number of pulls and imports in flight. */
size_t kd_image_service_busy (kd_image_service_t *svc);

/* The image as the API shows it: {"id","repoTags","repoDigests","size",
   "created"}; with full, also manifestDigest, layers, chainIDs, lastUsed,
   inUse and config (the parts of the image config kubeletd applies, and
   the history). */
json_t *kd_image_json (const kd_image_t *img, bool full);
/* [{"created","createdBy","comment","size","emptyLayer","id"}], newest
   first as docker history prints; size: the stored layer blob's bytes
   (compressed as pulled) for a row that made a layer, 0 otherwise. */
json_t *kd_image_history_json (kd_image_service_t *svc, const kd_image_t *img);

#endif
