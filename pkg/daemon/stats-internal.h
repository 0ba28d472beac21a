/* Private to pkg/daemon: GET /metrics (routes_metrics.c) and GET
   /stats/summary (routes_stats.c), which daemon.c installs.

   The stats sampler keeps the previous CPU reading of every cgroup it
   reports (node, pods, containers) so usageNanoCores is a rate between two
   readings: a timer reads them every KD_STATS_SAMPLE_MS, and each request
   reads them again (a reading at least a second after the previous one
   gives a fresh rate). */
#ifndef KD_STATS_INTERNAL_H
#define KD_STATS_INTERNAL_H

#include <uv.h>

#include "kubeletd/config.h"
#include "kubeletd/pod.h"
#include "kubeletd/server.h"

#define KD_STATS_SAMPLE_MS 10000

/* GET /metrics. Sets kubelet_node_name{node} once; the pod and container
   gauges come from the store at each scrape. store must outlive srv. */
void kd_daemon_metrics_routes_add (kd_server_t *srv, kd_pod_store_t *store, const char *node_name);

typedef struct kd_stats kd_stats_t;

typedef struct
{
  uv_loop_t *loop;          /* NULL: no timer (tests) */
  kd_pod_store_t *store;    /* must outlive the sampler */
  const kd_config_t *cfg;   /* strings copied */
  const char *cgroup_mount; /* NULL: "/sys/fs/cgroup" */
} kd_stats_opts_t;

/* Never fails: without cgroups (or a layout it cannot read) the pods are
   reported without cpu and memory. */
kd_stats_t *kd_stats_new (const kd_stats_opts_t *opts);
/* Stops the timer; st is freed once its handle is closed (at once when
   there is no loop). NULL is fine. */
void kd_stats_close (kd_stats_t *st);
/* The Summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1). */
json_t *kd_stats_summary (kd_stats_t *st);
/* GET /stats/summary; st must outlive srv. */
void kd_daemon_stats_routes_add (kd_server_t *srv, kd_stats_t *st);

#endif
