/* Private to pkg/imagesvc: the service's state, shared by service.c (jobs
   on the pool, deliveries, close), policy.c (ensure, use, remove, GC) and
   json.c. */
#ifndef KUBELETD_IMAGESVC_INTERNAL_H
#define KUBELETD_IMAGESVC_INTERNAL_H

#include <stdatomic.h>

#include "kubeletd/imagesvc.h"

typedef struct kd_svc_waiter
{
  kd_image_done_fn cb;
  void *data;
  struct kd_svc_waiter *next;
} kd_svc_waiter_t;

typedef enum
{
  KD_JOB_PULL,
  KD_JOB_IMPORT,
} kd_job_kind_t;

/* One pull (shared by every request for the same normalized reference) or
   one import, from the loop to the pool and back. */
typedef struct kd_svc_job
{
  kd_image_service_t *svc;
  uv_work_t work;
  kd_job_kind_t kind;
  char *key;          /* the normalized reference (pull) or the path (import) */
  kd_image_ref_t ref; /* pull */
  char *path;         /* import */
  char *tag;          /* import: --tag, or NULL */
  int64_t started_ns;
  /* Written by the pool thread while the loop reads them. */
  _Atomic int64_t done;
  _Atomic int64_t total;
  /* Written by the pool thread, read on the loop after the work is done. */
  char *manifest_digest;
  char *ref_name;
  kd_error_t err;
  kd_svc_waiter_t *waiters;
  kd_svc_waiter_t **waiters_tail;
  size_t n_waiters;
  struct kd_svc_job *next;
} kd_svc_job_t;

/* An answer that needs no pool work, delivered on the next loop turn. */
typedef struct kd_svc_ready
{
  kd_image_done_fn cb;
  void *data;
  char *image_id; /* looked up at delivery; NULL on failure */
  char *reason;
  char *message;
  struct kd_svc_ready *next;
} kd_svc_ready_t;

typedef struct kd_svc_remove
{
  char *ref;
  kd_image_removed_fn cb;
  void *data;
  struct kd_svc_remove *next;
} kd_svc_remove_t;

struct kd_image_service
{
  uv_loop_t *loop;
  kd_image_store_t *store;
  kd_registry_opts_t reg; /* owns its strings: read by pool threads, never changed */
  char *auth_file;
  char *arch;
  int gc_high;
  int gc_low;
  kd_disk_usage_fn usage_fn;
  void *usage_data;
  uv_timer_t gc_timer;
  uv_timer_t deliver_timer;
  int open_handles;
  kd_svc_job_t *jobs;
  size_t n_jobs;
  kd_svc_ready_t *ready;
  kd_svc_ready_t **ready_tail;
  kd_svc_remove_t *removes;
  kd_svc_remove_t **removes_tail;
  bool closing;
};

/* service.c */
/* Joins the pull of ref's normalized name, or starts it. Takes ref. */
void kd_svc_pull_ref (kd_image_service_t *svc, kd_image_ref_t *ref, kd_image_done_fn cb,
                      void *data);
/* Queues an answer for the next loop turn (img NULL: reason and message). */
void kd_svc_deliver (kd_image_service_t *svc, const kd_image_t *img, const char *reason,
                     const char *message, kd_image_done_fn cb, void *data);

/* policy.c */
/* Runs the removes queued while pool work was in flight. */
void kd_svc_run_removes (kd_image_service_t *svc);
void kd_svc_fail_removes (kd_image_service_t *svc, const char *message);

/* The image whose manifest is manifest_digest, or NULL. */
kd_image_t *kd_svc_find_by_manifest (kd_image_service_t *svc, const char *manifest_digest);

#define KD_MSG_STOPPING "kubeletd is stopping"

#endif
