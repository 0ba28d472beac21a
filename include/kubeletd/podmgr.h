/* podmgr: the pod manager and the pod workers — desired pods from the store
 * become running pods, and what they do becomes their status.
 *
 * Why: this is the kubelet's heart. One worker per pod runs a state machine
 * on the loop (sandbox, image pulls, init containers one by one, sidecars,
 * app containers; probes, hooks, restarts with CrashLoopBackOff; stop in
 * reverse with the grace period honoured; teardown of everything the pod
 * held). Pods outlive kubeletd in their shims: at start the manager finds
 * them again, adopts the ones still desired (with the exits that happened
 * meanwhile) and tears down the others.
 *
 * What it owns: the workers (by uid), the CNI runtime, the cgroup layout,
 * the hostPort table, the event list, and per pod the checkpoint
 * <root-dir>/pods/<uid>/checkpoint.json (container name → current id,
 * restart count, last terminated state, image id), written atomically on
 * every change.
 *
 * How to use:
 *  1. kd_podmgr_new (&opts, &m, &err) after the store was filled by the
 *     first scan of the sources: it recovers the pods of the run directory,
 *     starts a worker for every admitted pod and listens to the store.
 *  2. kd_podmgr_routes_add (srv, m): GET /events.
 *  3. kd_podmgr_shutdown (m, stop_pods): stop_pods false leaves every pod
 *     running (their shims keep them); true stops them all (grace honoured)
 *     and tears them down. Either way the manager's handles close and the
 *     loop runs out of work once it is done.
 *  4. kd_podmgr_free (m) after the loop has drained.
 */
#ifndef KUBELETD_PODMGR_H
#define KUBELETD_PODMGR_H

#include <uv.h>

#include "kubeletd/config.h"
#include "kubeletd/imagesvc.h"
#include "kubeletd/pod.h"
#include "kubeletd/podlogic.h"
#include "kubeletd/server.h"

typedef struct kd_podmgr kd_podmgr_t;

typedef struct
{
  uv_loop_t *loop;
  kd_pod_store_t *store;
  kd_image_service_t *images;
  const kd_config_t *cfg;
  const char *shim_path;      /* NULL: $KUBELETD_SHIM, else next to /proc/self/exe */
  const char *network_bridge; /* NULL: "kubeletd0" */
  const char *cgroup_mount;   /* NULL: "/sys/fs/cgroup" */
} kd_podmgr_opts_t;

int kd_podmgr_new (const kd_podmgr_opts_t *opts, kd_podmgr_t **out, kd_error_t *err) KD_WUR;
void kd_podmgr_shutdown (kd_podmgr_t *m, bool stop_pods);
void kd_podmgr_free (kd_podmgr_t *m);
kd_events_t *kd_podmgr_events (kd_podmgr_t *m);
/* GET /events (a v1 EventList; ?namespace= filters). */
void kd_podmgr_routes_add (kd_server_t *srv, kd_podmgr_t *m);

/* ---- containers, for exec and inspect (lookup.c) ---------------------- */

/* One container of a pod the manager runs, as copied at the call. */
typedef struct
{
  char *ns;
  char *pod;
  char *pod_uid;
  char *name;
  char *pod_dir;  /* <run-dir>/pods/<uid>: `kubeletd-shim exec --pod-dir` */
  char *id;       /* the current (or last) run's 64 hex; NULL before the first */
  char *cgroup;   /* the run's cgroup path (relative), NULL when none */
  pid_t shim_pid; /* 0 when no shim is connected */
  bool running;   /* the run exists and has not exited: exec may enter it */
  bool is_init;
} kd_podmgr_ctr_t;

enum
{
  KD_PODMGR_NO_POD = -1,
  KD_PODMGR_NO_CONTAINER = -2,
};

/* Fills *out for ns/pod/name: 0, KD_PODMGR_NO_POD when no worker runs
   the pod, KD_PODMGR_NO_CONTAINER when its spec has no such container. */
int kd_podmgr_container (kd_podmgr_t *m, const char *ns, const char *pod, const char *name,
                         kd_podmgr_ctr_t *out);
/* Every container of every pod (init containers first in each pod);
   returns the count, *out freed with kd_podmgr_ctrs_free. */
size_t kd_podmgr_containers (kd_podmgr_t *m, kd_podmgr_ctr_t **out);
void kd_podmgr_ctr_free (kd_podmgr_ctr_t *c);
void kd_podmgr_ctrs_free (kd_podmgr_ctr_t *v, size_t n);
/* The kubeletd-shim executable the pods run with. */
const char *kd_podmgr_shim_path (const kd_podmgr_t *m);

#endif
