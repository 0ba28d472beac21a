/* The built-in families of the default registry, as a table: the
   kubelet's names, labels, help texts (with component-base's "[ALPHA] "
   stability prefix) and buckets where the kubelet has the metric
   (pkg/kubelet/metrics, pkg/kubelet/prober, the network plugin metrics);
   kubeletd_ names for what only kubeletd has. */
#include "metrics-internal.h"

/* client_golang's DefBuckets. */
static const double def_buckets[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };
static const double pod_start_buckets[]
    = { 0.5, 1,   2,   3,   4,   5,   6,   8,   10,   20,   30,   45,  60,
        120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600 };
static const double image_pull_buckets[]
    = { 1, 5, 10, 20, 30, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600 };

#define L(...)                                                                                     \
  (const char *const[])                                                                            \
  {                                                                                                \
    __VA_ARGS__                                                                                    \
  }
#define B(a) a, KD_ARRAY_SIZE (a)

static const struct
{
  kd_metric_type_t type;
  const char *name;
  const char *help;
  const char *const *labels;
  size_t n_labels;
  const double *buckets;
  size_t n_buckets;
} catalog[] = {
  { KD_METRIC_GAUGE, "kubelet_node_name", "[ALPHA] The node's name. The count is always 1.",
    L ("node"), 1, NULL, 0 },
  { KD_METRIC_GAUGE, "kubelet_running_pods",
    "[ALPHA] Number of pods that have a running pod sandbox", NULL, 0, NULL, 0 },
  { KD_METRIC_GAUGE, "kubelet_running_containers", "[ALPHA] Number of containers currently running",
    L ("container_state"), 1, NULL, 0 },
  { KD_METRIC_HISTOGRAM, "kubelet_pod_start_duration_seconds",
    "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod "
    "starting to run",
    NULL, 0, B (pod_start_buckets) },
  { KD_METRIC_HISTOGRAM, "kubelet_pod_worker_duration_seconds",
    "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, "
    "update, or sync",
    L ("operation_type"), 1, B (def_buckets) },
  { KD_METRIC_COUNTER, "kubelet_started_pods_total", "[ALPHA] Cumulative number of pods started",
    NULL, 0, NULL, 0 },
  { KD_METRIC_COUNTER, "kubelet_started_pods_errors_total",
    "[ALPHA] Cumulative number of errors when starting pods", NULL, 0, NULL, 0 },
  { KD_METRIC_COUNTER, "kubelet_started_containers_total",
    "[ALPHA] Cumulative number of containers started", L ("container_type"), 1, NULL, 0 },
  { KD_METRIC_COUNTER, "kubelet_started_containers_errors_total",
    "[ALPHA] Cumulative number of errors when starting containers", L ("code", "container_type"), 2,
    NULL, 0 },
  { KD_METRIC_COUNTER, "kubelet_restarted_pods_total",
    "[ALPHA] Number of pods that have been restarted because they were deleted and recreated "
    "with the same UID while the kubelet was watching them (common for static pods, extremely "
    "uncommon for API pods)",
    L ("static"), 1, NULL, 0 },
  { KD_METRIC_COUNTER, "prober_probe_total",
    "[ALPHA] Cumulative number of a liveness, readiness or startup probe for a container by "
    "result.",
    L ("probe_type", "result", "container", "pod", "namespace", "pod_uid"), 6, NULL, 0 },
  { KD_METRIC_HISTOGRAM, "prober_probe_duration_seconds",
    "[ALPHA] Duration in seconds for a probe response.",
    L ("probe_type", "container", "pod", "namespace"), 4, B (def_buckets) },
  { KD_METRIC_HISTOGRAM, "kubelet_image_pull_duration_seconds",
    "[ALPHA] Duration in seconds to pull an image.", L ("image_size_in_bytes"), 1,
    B (image_pull_buckets) },
  { KD_METRIC_COUNTER, "kubeletd_image_pull_bytes_total",
    "Bytes of image content fetched from registries.", NULL, 0, NULL, 0 },
  { KD_METRIC_HISTOGRAM, "kubelet_network_plugin_operations_duration_seconds",
    "[ALPHA] Latency in seconds of network plugin operations. Broken down by operation type.",
    L ("operation_type"), 1, B (def_buckets) },
  { KD_METRIC_COUNTER, "kubelet_network_plugin_operations_total",
    "[ALPHA] Cumulative number of network plugin operations by operation type.",
    L ("operation_type"), 1, NULL, 0 },
  { KD_METRIC_COUNTER, "kubelet_network_plugin_operations_errors_total",
    "[ALPHA] Cumulative number of network plugin operation errors by operation type.",
    L ("operation_type"), 1, NULL, 0 },
  { KD_METRIC_COUNTER, "kubeletd_http_requests_total",
    "Requests answered on the kubeletd socket, by method, route pattern and status code.",
    L ("method", "path", "code"), 3, NULL, 0 },
  { KD_METRIC_HISTOGRAM, "kubeletd_http_request_duration_seconds",
    "Time from the first byte of a request to its complete answer, by method and route "
    "pattern.",
    L ("method", "path"), 2, B (def_buckets) },
  { KD_METRIC_COUNTER, KD_METRICS_DROPPED,
    "Updates dropped because their metric reached its bound on label sets.", L ("metric"), 1, NULL,
    0 },
};

void
kd_metrics_catalog_register (kd_metrics_registry_t *r)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (catalog); i++)
    {
      kd_error_t err = NULL;

      /* The table is ours: a refusal is a broken invariant. */
      if (kd_metrics_register (r, catalog[i].type, catalog[i].name, catalog[i].help,
                               catalog[i].labels, catalog[i].n_labels, catalog[i].buckets,
                               catalog[i].n_buckets, &err)
          < 0)
        {
          kd_err ("%s", err->msg);
          abort ();
        }
    }
}

/* ---- helpers for the hooks ------------------------------------------ */

void
kd_metrics_http_request (const char *method, const char *route, int status, double seconds)
{
  char code[16];
  const char *path = route ? route : "other";

  /* Methods are bounded by the parser (http_parser knows ~30); status
     codes by HTTP. */
  snprintf (code, sizeof (code), "%d", status);
  kd_metrics_counter_inc ("kubeletd_http_requests_total", method ? method : "", path, code);
  kd_metrics_observe ("kubeletd_http_request_duration_seconds", seconds, method ? method : "",
                      path);
}

void
kd_metrics_cni_operation (const char *cni_command, double seconds, bool failed)
{
  const char *op = kd_str_eq (cni_command, "ADD")   ? "set_up_pod"
                   : kd_str_eq (cni_command, "DEL") ? "tear_down_pod"
                                                    : "get_pod_network_status";

  kd_metrics_observe ("kubelet_network_plugin_operations_duration_seconds", seconds, op);
  kd_metrics_counter_inc ("kubelet_network_plugin_operations_total", op);
  if (failed)
    kd_metrics_counter_inc ("kubelet_network_plugin_operations_errors_total", op);
}

const char *
kd_metrics_image_size_bucket (uint64_t bytes)
{
  static const struct
  {
    uint64_t lower;
    const char *label;
  } buckets[] = {
    { 0, "0-10MB" },
    { 10ull << 20, "10MB-100MB" },
    { 100ull << 20, "100MB-500MB" },
    { 500ull << 20, "500MB-1GB" },
    { 1ull << 30, "1GB-5GB" },
    { 5ull << 30, "5GB-10GB" },
    { 10ull << 30, "10GB-20GB" },
    { 20ull << 30, "20GB-30GB" },
    { 30ull << 30, "30GB-40GB" },
    { 40ull << 30, "40GB-60GB" },
    { 60ull << 30, "60GB-100GB" },
    { 100ull << 30, "GT100GB" },
  };

  if (bytes == 0)
    return "N/A";
  /* The kubelet's rule: the last bucket whose lower bound is below. */
  for (size_t i = KD_ARRAY_SIZE (buckets); i-- > 0;)
    if (bytes > buckets[i].lower)
      return buckets[i].label;
  return "";
}
