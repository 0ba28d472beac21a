/* GET /metrics: the default registry in the Prometheus text format, with
   the kubelet's pod and container gauges recomputed from the pod store at
   each scrape (the kubelet derives them from its runtime cache the same
   way, so they never drift from what GET /pods says). */
#include "kubeletd/metrics.h"
#include "stats-internal.h"

static bool
state_running (const kd_container_status_t *c)
{
  return c->state.running != NULL;
}

/* The kubelet's container_state values (kubecontainer.State): a container
   exists once it was created; a waiting one that ran before still has its
   exited container. */
static const char *
container_state (const kd_container_status_t *c)
{
  if (c->state.running)
    return "running";
  if (c->state.terminated || c->last_state.terminated)
    return "exited";
  if (c->state.waiting && c->container_id && *c->container_id)
    return "created";
  return NULL;
}

static void
count_pods (kd_pod_store_t *store)
{
  static const char *const states[] = { "created", "exited", "running", "unknown" };
  double by_state[KD_ARRAY_SIZE (states)] = { 0 };
  size_t n;
  const kd_pod_t *const *pods = kd_pod_store_list (store, &n);
  double running_pods = 0;

  for (size_t i = 0; i < n; i++)
    {
      const kd_pod_status_t *st = &pods[i]->status;
      const kd_container_status_t *lists[]
          = { st->init_container_statuses, st->container_statuses };
      const size_t counts[] = { st->n_init_container_statuses, st->n_container_statuses };
      bool any_running = false;

      for (size_t l = 0; l < 2; l++)
        for (size_t k = 0; k < counts[l]; k++)
          {
            const char *s = container_state (&lists[l][k]);
            any_running |= state_running (&lists[l][k]);
            for (size_t j = 0; s && j < KD_ARRAY_SIZE (states); j++)
              if (strcmp (s, states[j]) == 0)
                by_state[j]++;
          }
      /* A pod with a running sandbox: one with a container running, or
         with its network up and not finished. */
      if (any_running
          || (st->pod_ip && *st->pod_ip
              && (kd_str_eq (st->phase, "Pending") || kd_str_eq (st->phase, "Running"))))
        running_pods++;
    }
  kd_metrics_gauge_set ("kubelet_running_pods", running_pods);
  for (size_t j = 0; j < KD_ARRAY_SIZE (states); j++)
    kd_metrics_gauge_set ("kubelet_running_containers", by_state[j], states[j]);
}

static void
handle_metrics (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_buf_t b = { 0 };

  count_pods (data);
  kd_metrics_render (kd_metrics_default (), &b);
  kd_http_respond (conn, 200, KD_METRICS_CONTENT_TYPE, b.s ? b.s : "", b.len);
  kd_buf_free (&b);
}

void
kd_daemon_metrics_routes_add (kd_server_t *srv, kd_pod_store_t *store, const char *node_name)
{
  kd_metrics_gauge_set ("kubelet_node_name", 1, node_name ? node_name : "");
  kd_server_route (srv, "GET", "/metrics", false, handle_metrics, store);
}
