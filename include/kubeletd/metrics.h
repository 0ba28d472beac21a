/* metrics: a small Prometheus registry (counters, gauges, histograms with
 * label sets) kept in memory and rendered in the text exposition format
 * 0.0.4 for GET /metrics, plus the helpers GET /stats/summary needs
 * (CPU rates from two samples, directory usage).
 *
 * Why: the node's operators scrape kubeletd with the tools they already
 * point at kubelets; the metric names, label names, help texts and buckets
 * are the kubelet's wherever the kubelet has the metric (a dashboard built
 * for kubelet_pod_start_duration_seconds works unchanged).
 *
 * What it owns: the families of the built-in catalog (below) in a global
 * default registry, their series, and the bound on label cardinality: a
 * family keeps at most KD_METRICS_MAX_SERIES series; a new label set beyond
 * that is dropped and counted in kubeletd_metrics_series_dropped_total
 * {metric}, and label values are cut at KD_METRICS_MAX_LABEL_VALUE bytes.
 * kd_metrics_forget_pod () drops the per-pod series of a pod that is gone.
 *
 * How to use:
 *  1. Call the one-line hooks below from the module that sees the event;
 *     label values come in the family's label order, as strings:
 *       kd_metrics_counter_inc ("kubelet_started_containers_total", "container");
 *       kd_metrics_observe ("kubelet_pod_start_duration_seconds", secs);
 *     A wrong name or label count is logged at -v 2 and ignored: metrics
 *     never fail the caller. Calls come from the loop thread (a mutex makes
 *     calls from libuv's pool safe too).
 *  2. kd_metrics_render (kd_metrics_default (), &buf) gives the exposition.
 *  3. Tests make their own registry: kd_metrics_registry_new,
 *     kd_metrics_register, kd_metrics_reg_* and kd_metrics_registry_free.
 *
 * Hooks (the point in each module where the call belongs):
 *  - pod worker, when every container of a pod is running for the first
 *    time (seconds since the worker first saw the pod):
 *      kd_metrics_observe ("kubelet_pod_start_duration_seconds", secs);
 *  - pod worker, around one sync step (operation "create" for a new pod,
 *    "sync" otherwise, "kill" when stopping):
 *      kd_metrics_observe ("kubelet_pod_worker_duration_seconds", secs, op);
 *  - container start reply from the shim (container_type "container",
 *    "init_container"); on failure code is the waiting reason
 *    ("CreateContainerError", "StartError", ...):
 *      kd_metrics_counter_inc ("kubelet_started_containers_total", type);
 *      kd_metrics_counter_inc ("kubelet_started_containers_errors_total", code, type);
 *  - pod sandbox started / failed:
 *      kd_metrics_counter_inc ("kubelet_started_pods_total");
 *      kd_metrics_counter_inc ("kubelet_started_pods_errors_total");
 *  - a static pod replaced by an edit of its file:
 *      kd_metrics_counter_inc ("kubelet_restarted_pods_total", "true");
 *  - pod teardown finished:  kd_metrics_forget_pod (namespace, name);
 *  - prober, after each probe (probe_type "Liveness" | "Readiness" |
 *    "Startup"; result "successful" | "failed" | "unknown"):
 *      kd_metrics_counter_inc ("prober_probe_total", type, result, container, pod, ns, uid);
 *      kd_metrics_observe ("prober_probe_duration_seconds", secs, type, container, pod, ns);
 *  - image service, after a pull that fetched something:
 *      kd_metrics_observe ("kubelet_image_pull_duration_seconds", secs,
 *                          kd_metrics_image_size_bucket (size));
 *      kd_metrics_counter_add ("kubeletd_image_pull_bytes_total", bytes);
 *  - CNI, when an ADD / DEL / CHECK completes (done in pkg/cni/exec.c):
 *      kd_metrics_cni_operation ("ADD", secs, failed);
 *  - HTTP server, when an answer completes (done in pkg/server/conn.c):
 *      kd_metrics_http_request (method, route, status, secs);
 *  The gauges kubelet_running_pods, kubelet_running_containers and
 *  kubelet_node_name are computed from the pod store at each scrape.
 */
#ifndef KUBELETD_METRICS_H
#define KUBELETD_METRICS_H

#include <stdint.h>

#include "kubeletd/util.h"

#define KD_METRICS_MAX_SERIES      5000
#define KD_METRICS_MAX_LABEL_VALUE 256
#define KD_METRICS_MAX_LABELS      8
#define KD_METRICS_MAX_BUCKETS     32

/* The media type of the text format, for the Content-Type header. */
#define KD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum
{
  KD_METRIC_COUNTER,
  KD_METRIC_GAUGE,
  KD_METRIC_HISTOGRAM,
} kd_metric_type_t;

typedef struct kd_metrics_registry kd_metrics_registry_t;

/* ---- the default registry and its hooks ------------------------------ */

/* The process-wide registry, made with the built-in catalog on first use. */
kd_metrics_registry_t *kd_metrics_default (void);
/* Frees the default registry (at exit, for a clean leak check). */
void kd_metrics_default_free (void);

/* Sentinel-terminated label values; use the macros below. */
void kd_metrics_counter_addv (const char *name, double v, ...) __attribute__ ((sentinel));
void kd_metrics_gauge_setv (const char *name, double v, ...) __attribute__ ((sentinel));
void kd_metrics_gauge_addv (const char *name, double v, ...) __attribute__ ((sentinel));
void kd_metrics_observev (const char *name, double v, ...) __attribute__ ((sentinel));

#define kd_metrics_counter_inc(name, ...)                                                          \
  kd_metrics_counter_addv ((name), 1.0, ##__VA_ARGS__, (const char *) NULL)
#define kd_metrics_counter_add(name, v, ...)                                                       \
  kd_metrics_counter_addv ((name), (double) (v), ##__VA_ARGS__, (const char *) NULL)
#define kd_metrics_gauge_set(name, v, ...)                                                         \
  kd_metrics_gauge_setv ((name), (double) (v), ##__VA_ARGS__, (const char *) NULL)
#define kd_metrics_gauge_add(name, v, ...)                                                         \
  kd_metrics_gauge_addv ((name), (double) (v), ##__VA_ARGS__, (const char *) NULL)
#define kd_metrics_observe(name, v, ...)                                                           \
  kd_metrics_observev ((name), (double) (v), ##__VA_ARGS__, (const char *) NULL)

/* The socket API's request metrics: kubeletd_http_requests_total{method,
   path,code} and kubeletd_http_request_duration_seconds{method,path}.
   route is the route pattern that matched ("/pods/"), NULL when none did
   (recorded as "other"), so raw URLs never become label values. */
void kd_metrics_http_request (const char *method, const char *route, int status, double seconds);

/* kubelet_network_plugin_operations_{duration_seconds,total,errors_total}
   with the kubelet's operation_type for a CNI command: ADD "set_up_pod",
   DEL "tear_down_pod", CHECK "get_pod_network_status". */
void kd_metrics_cni_operation (const char *cni_command, double seconds, bool failed);

/* Removes every series whose "namespace" and "pod" labels match. */
void kd_metrics_forget_pod (const char *namespace_, const char *pod);

/* The kubelet's image_size_in_bytes label value: "N/A" for 0, then
   "0-10MB", "10MB-100MB", ... "GT100GB". */
const char *kd_metrics_image_size_bucket (uint64_t bytes);

/* ---- registries ------------------------------------------------------ */

kd_metrics_registry_t *kd_metrics_registry_new (size_t max_series_per_family);
void kd_metrics_registry_free (kd_metrics_registry_t *r);

/* Declares a family. Names follow [a-zA-Z_:][a-zA-Z0-9_:]*, label names
   [a-zA-Z_][a-zA-Z0-9_]* without a "__" prefix ("le" is refused on
   histograms); buckets strictly increasing, +Inf implied. A family without
   labels has its one series from the start (0). */
int kd_metrics_register (kd_metrics_registry_t *r, kd_metric_type_t type, const char *name,
                         const char *help, const char *const *label_names, size_t n_labels,
                         const double *buckets, size_t n_buckets, kd_error_t *err) KD_WUR;

/* Updates with label values in the family's label order. Counters refuse
   negative increments; gauges and counters refuse observe; histograms
   refuse add/set. Beyond the series bound: -1 with an error that says so. */
int kd_metrics_reg_add (kd_metrics_registry_t *r, const char *name, double v,
                        const char *const *values, size_t n_values, kd_error_t *err);
int kd_metrics_reg_set (kd_metrics_registry_t *r, const char *name, double v,
                        const char *const *values, size_t n_values, kd_error_t *err);
int kd_metrics_reg_observe (kd_metrics_registry_t *r, const char *name, double v,
                            const char *const *values, size_t n_values, kd_error_t *err);
/* Drops every series of a family (for gauges recomputed at each scrape). */
void kd_metrics_reg_reset (kd_metrics_registry_t *r, const char *name);
/* Drops the series that carry every given label=value pair (n pairs);
   families lacking one of those labels are untouched. Returns how many
   series went. */
size_t kd_metrics_reg_forget (kd_metrics_registry_t *r, const char *const *label_names,
                              const char *const *values, size_t n);
/* The value of a counter or gauge series, or a histogram's count; NAN
   when the series does not exist. */
double kd_metrics_reg_value (kd_metrics_registry_t *r, const char *name, const char *const *values,
                             size_t n_values);
size_t kd_metrics_reg_series_count (kd_metrics_registry_t *r, const char *name);

/* Appends the exposition: families by name, series by label values, label
   pairs by label name, values as Go's strconv 'g' -1 writes them. */
void kd_metrics_render (kd_metrics_registry_t *r, kd_buf_t *out);
/* One sample value as the text format writes it ("0.005", "1e+06",
   "+Inf", "NaN") into buf (>= 32 bytes). */
void kd_metrics_format_value (double v, char *buf, size_t size);

/* ---- helpers for /stats/summary -------------------------------------- */

/* Previous CPU samples by key (a cgroup path), for usageNanoCores: the
   rate between two cumulative readings, as cAdvisor computes it. */
typedef struct kd_cpu_rates kd_cpu_rates_t;

kd_cpu_rates_t *kd_cpu_rates_new (void);
void kd_cpu_rates_free (kd_cpu_rates_t *t);
/* Records a reading (cumulative CPU ns at monotonic time now_ns) and
   returns the rate in nanocores since the previous reading of that key
   when it is at least min_interval_ns older; otherwise the last rate
   computed (the reading is not stored, so a burst of calls does not shrink
   the window). Returns false when no rate is known yet. A counter that
   went backwards (a new cgroup under the same path) restarts the key. */
bool kd_cpu_rates_update (kd_cpu_rates_t *t, const char *key, uint64_t usage_ns, int64_t now_ns,
                          int64_t min_interval_ns, uint64_t *nanocores);
/* Forgets keys not updated since before_ns (gone cgroups). */
void kd_cpu_rates_prune (kd_cpu_rates_t *t, int64_t before_ns);
size_t kd_cpu_rates_size (const kd_cpu_rates_t *t);

/* du: bytes used by the files under path (st_blocks * 512, each inode
   once, not crossing into other file systems, at most max_entries
   entries), and the inodes counted. A missing path is 0 and ok. */
int kd_du (const char *path, size_t max_entries, uint64_t *bytes, uint64_t *inodes,
           kd_error_t *err) KD_WUR;

#endif
