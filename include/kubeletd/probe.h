/* probe: liveness, readiness and startup probes, and lifecycle hooks.
 *
 * Why: the kubelet's prober decides when a container is started, ready or
 * must be restarted. Every probe runs on the libuv loop (timers, a TCP
 * connect, an HTTP request through libcurl's multi interface on the loop,
 * gRPC health over HTTP/2 with nghttp2); only exec probes and hooks run a
 * process (`kubeletd-shim exec`), as the kubelet runs one through the CRI.
 *
 * What it owns: one kd_prober_t per (container, probe kind) with its timers,
 * its in-flight attempt, and the kubelet's threshold logic: the result
 * starts at Success for liveness, Failure for readiness and startup, and
 * flips after successThreshold / failureThreshold consecutive outcomes.
 *
 * How to use:
 *  1. The pod worker calls kd_prober_start () for each probe of a running
 *     container (readiness and liveness only after startup succeeded; the
 *     worker handles that gating).
 *  2. on_result is called when the thresholded result changes (the startup
 *     probe starts Unknown, so its first thresholded Failure is reported
 *     too); on_attempt_failed for every failed or errored attempt with the
 *     whole text of the kubelet's `Unhealthy` event ("Liveness probe failed:
 *     HTTP probe failed with statuscode: 500", "Readiness probe errored and
 *     resulted in unknown state: strconv.Atoi: parsing \"http\": invalid
 *     syntax"); on_warning (optional) for the kubelet's `ProbeWarning` event
 *     ("Readiness probe warning: Probe terminated redirects, Response
 *     body: ...").
 *  3. kd_prober_stop () when the container stops (cancels the attempt; no
 *     callback after it returns).
 *  4. kd_hook_run () for postStart/preStop (exec, httpGet, sleep), once,
 *     with a deadline; kd_hook_cancel () to abandon it. done is called
 *     exactly once unless the hook is cancelled first; the hook frees itself
 *     after done returns (do not cancel it from or after done).
 *
 * Callbacks may call kd_prober_stop () on their own prober. Stopped probers
 * and finished or cancelled hooks release their handles through the loop:
 * run it once more before uv_loop_close ().
 */
#ifndef KUBELETD_PROBE_H
#define KUBELETD_PROBE_H

#include <uv.h>

#include "kubeletd/api.h"

typedef enum
{
  KD_PROBE_LIVENESS,
  KD_PROBE_READINESS,
  KD_PROBE_STARTUP,
} kd_probe_kind_t;

/* How a probe or hook reaches the container. */
typedef struct
{
  const char *pod_ip;              /* default host for httpGet/tcpSocket/grpc */
  const char *shim_path;           /* kubeletd-shim, for exec */
  const char *pod_dir;             /* <run-dir>/pods/<uid>, for exec */
  const char *container_id;        /* 64 hex, for exec */
  const kd_container_t *container; /* named ports; copied where needed */
  /* Hook messages name the pod as the kubelet's format.Pod does:
     "<name>_<namespace>(<uid>)". NULL reads as "". */
  const char *pod_full_name;
  /* When the container started (CLOCK_REALTIME ns, as kd_now_ns ());
     initialDelaySeconds counts from it. 0 = when the prober starts. */
  int64_t started_at_ns;
  /* The pod, for the prober_probe_total and prober_probe_duration_seconds
     labels. NULL reads as "". */
  const char *pod_name;
  const char *pod_namespace;
  const char *pod_uid;
} kd_probe_target_t;

typedef struct kd_prober kd_prober_t;

typedef struct
{
  /* The thresholded result changed (success = Success). */
  void (*on_result) (kd_prober_t *p, kd_probe_kind_t kind, bool success, void *data);
  /* One attempt failed (message as the kubelet words it). */
  void (*on_attempt_failed) (kd_prober_t *p, kd_probe_kind_t kind, const char *message, void *data);
  void *data;
  /* Optional: an attempt succeeded with a warning (event `ProbeWarning`). */
  void (*on_warning) (kd_prober_t *p, kd_probe_kind_t kind, const char *message, void *data);
} kd_prober_callbacks_t;

/* Copies what it needs from probe and target. */
kd_prober_t *kd_prober_start (uv_loop_t *loop, kd_probe_kind_t kind, const kd_probe_t *probe,
                              const kd_probe_target_t *target, const kd_prober_callbacks_t *cbs);
void kd_prober_stop (kd_prober_t *p);
bool kd_prober_result (const kd_prober_t *p);

typedef struct kd_hook kd_hook_t;
/* ok = false with a message like the kubelet's FailedPostStartHook text. */
typedef void (*kd_hook_done_cb) (kd_hook_t *h, bool ok, const char *message, void *data);
kd_hook_t *kd_hook_run (uv_loop_t *loop, const kd_handler_t *handler,
                        const kd_probe_target_t *target, uint64_t timeout_ms, kd_hook_done_cb done,
                        void *data);
void kd_hook_cancel (kd_hook_t *h);

/* "kube-probe/1.32" */
#define KD_PROBE_USER_AGENT "kube-probe/1.32"
/* httpGet lifecycle hooks identify themselves as the kubelet does. */
#define KD_LIFECYCLE_USER_AGENT "kube-lifecycle/1.32"

/* "Liveness", "Readiness", "Startup" (the kubelet's probeType.String ()). */
const char *kd_probe_kind_name (kd_probe_kind_t kind);

#endif
