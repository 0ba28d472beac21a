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

#endif
