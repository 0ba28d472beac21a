/* pod: the pods this node should run, as the sources describe them.
 *
 * Why: sources (static pod files now; a URL and the API server later) say
 * what each of their files or feeds wants; the rest of the daemon wants one
 * answer to "which pods are there", stable and free of conflicts. The store
 * turns the per-source desired sets into that answer with the kubelet's
 * rules: a namespace/name already admitted from one source file keeps it
 * (first wins, a duplicate from another file is refused and logged), and
 * pods beyond --max-pods are rejected as the kubelet's admission rejects
 * them: logged, and kept with phase Failed, reason OutOfpods and the
 * message "Pod was rejected: Node didn't have enough resource: pods, ..."
 * (kd_pod_store_list_all shows them; no worker ever runs them) until their
 * source drops or changes them.
 *
 * What it owns: a copy of every desired pod per source, and the admitted
 * pods (with defaults, status phase Pending and qosClass), sorted by
 * namespace then name, findable by namespace/name and by uid.
 *
 * How to use:
 *  1. kd_pod_store_new (max_pods).
 *  2. kd_pod_store_on_change (st, cb, data): told of every add, update
 *     (same namespace/name, new uid: the file was edited) and remove.
 *  3. kd_pod_store_set_source (st, source, pods, n): the complete desired set
 *     of one source file (n = 0: the file is gone). Pods are copied.
 *  4. kd_pod_store_list / _get / _get_uid to read; kd_pod_store_free.
 */
#ifndef KUBELETD_POD_H
#define KUBELETD_POD_H

#include "kubeletd/api.h"

typedef struct kd_pod_store kd_pod_store_t;

typedef enum
{
  KD_POD_ADDED,
  KD_POD_UPDATED, /* `pod` is the new one; `old` the one it replaces */
  KD_POD_REMOVED,
} kd_pod_op_t;

/* `pod` and `old` are valid only during the call. */
typedef void (*kd_pod_change_cb) (kd_pod_op_t op, const kd_pod_t *pod, const kd_pod_t *old,
                                  void *data);

/* max_pods < 0: no limit. */
kd_pod_store_t *kd_pod_store_new (int32_t max_pods);
void kd_pod_store_free (kd_pod_store_t *st);
void kd_pod_store_on_change (kd_pod_store_t *st, kd_pod_change_cb cb, void *data);

/* Replaces what `source` (a file path, a URL) wants. Nothing of another
   source changes, except that a pod refused as a duplicate name may now be
   admitted (a pod rejected for --max-pods stays rejected while it is the
   same pod). */
void kd_pod_store_set_source (kd_pod_store_t *st, const char *source, kd_pod_t *const *pods,
                              size_t n);

/* The admitted pods in namespace, then name order. Valid until the next
   set_source. */
const kd_pod_t *const *kd_pod_store_list (const kd_pod_store_t *st, size_t *n);
const kd_pod_t *kd_pod_store_get (const kd_pod_store_t *st, const char *namespace_,
                                  const char *name);
const kd_pod_t *kd_pod_store_get_uid (const kd_pod_store_t *st, const char *uid);
/* Replaces the status of the admitted pod with this uid (copied; nothing
   happens when no admitted pod has it: the pod was removed or replaced).
   GET /pods shows it at once. */
void kd_pod_store_set_status (kd_pod_store_t *st, const char *uid, const kd_pod_status_t *status);

/* The admitted pods and the rejected ones (GET /pods), in namespace, then
   name order; valid until the next set_source. */
const kd_pod_t *const *kd_pod_store_list_all (const kd_pod_store_t *st, size_t *n);
/* The v1 PodList of kd_pod_store_list_all as compact JSON and a newline,
   cached until the next change (each pod's text until that pod changes).
   Borrowed: take a reference to keep it past the next change. */
kd_shared_t *kd_pod_store_list_json (kd_pod_store_t *st);
/* An admitted pod, else a rejected one, by namespace/name. */
const kd_pod_t *kd_pod_store_get_any (const kd_pod_store_t *st, const char *namespace_,
                                      const char *name);

/* The source an admitted pod came from, or NULL. */
const char *kd_pod_store_source_of (const kd_pod_store_t *st, const char *namespace_,
                                    const char *name);

#endif
