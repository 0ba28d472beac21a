/* Private helpers shared by the files of pkg/cni. */
#ifndef KD_CNI_INTERNAL_H
#define KD_CNI_INTERNAL_H

#include "kubeletd/cni.h"

/* Deep copy of a network (the plugins array is copied, not shared). */
kd_cni_net_t *kd_cni_net_copy (const kd_cni_net_t *net);
/* Builds a network from an already-parsed conflist object (stolen). */
int kd_cni_net_from_json (json_t *list, const char *source, kd_cni_net_t **out, kd_error_t *err);
/* Compares CNI versions "a.b.c": <0, 0, >0. */
int kd_cni_version_cmp (const char *a, const char *b);

struct kd_cni
{
  uv_loop_t *loop;
  char *conf_dir;
  char *bin_dir;
  char *root_dir;
  char *pod_cidr;
  char *bridge;
  char *data_dir;
  int64_t timeout_ms;
  size_t n_ops;              /* operations in flight */
  bool closing;              /* kd_cni_free was called: free when n_ops drops to 0 */
  struct kd_cni_call *calls; /* running plugin processes */
  json_t *last_version;
  size_t running;     /* plugin processes started and not yet done */
  size_t max_running; /* more wait in pending, in order */
  struct kd_cni_pending *pending, *pending_tail;
  uv_mutex_t nat_lock; /* nat.c: the shared chains are made once */
  bool nat_ready;
};

/* An attachment's cache entry (libcni's cniCacheV1). */
typedef struct
{
  char *container_id;
  char *if_name;
  char *net_name;
  char *netns;
  kd_cni_net_t *net;       /* from the base64 "config" */
  json_t *result;          /* may be NULL */
  json_t *capability_args; /* {"portMappings":[...]} or NULL */
} kd_cni_cache_t;

void kd_cni_cache_free (kd_cni_cache_t *c);
int kd_cni_cache_write (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt,
                        json_t *result, kd_error_t *err);
/* *out NULL (returns 0) when there is no cache file. */
int kd_cni_cache_read_file (const char *path, kd_cni_cache_t **out, kd_error_t *err);
int kd_cni_cache_read (kd_cni_t *cni, const char *net_name, const char *container_id,
                       const char *ifname, kd_cni_cache_t **out, kd_error_t *err);
void kd_cni_cache_remove (kd_cni_t *cni, const char *net_name, const char *container_id,
                          const char *ifname);
char *kd_cni_results_dir (const kd_cni_t *cni);

/* An owned copy of a kd_cni_runtime_t. */
typedef struct
{
  char *container_id, *netns, *ifname, *pod_namespace, *pod_name, *pod_uid;
  kd_cni_port_mapping_t *pm;
  size_t n_pm;
} rt_copy_t;
void kd_cni_rt_copy (rt_copy_t *d, const kd_cni_runtime_t *s);
void kd_cni_rt_free (rt_copy_t *d);
kd_cni_runtime_t kd_cni_rt_view (const rt_copy_t *d);

/* Operation bookkeeping (exec.c), for the composite operations. */
void kd_cni_op_begin (kd_cni_t *cni);
void kd_cni_op_end (kd_cni_t *cni);

/* Removes the nat chain (and its POSTROUTING jump) that a masquerading
   bridge/ptp plugin of net made for container_id, when the plugin's DEL
   left it (ipmasq.c); runs in the thread pool, then done (data). */
void kd_cni_ipmasq_cleanup (kd_cni_t *cni, const kd_cni_net_t *net, const char *container_id,
                            void (*done) (void *data), void *data);

/* Runs argv (PATH lookup) with input (may be NULL) on its stdin; stdout and
   stderr (up to 1 MiB) go to *out when out is not NULL. Returns the exit
   status, or -1 when it could not run. Blocking: thread pool only. */
int kd_cni_run_cmd (char *const argv[], const char *input, char **out);

/* The built-in network's NAT (nat.c), in the thread pool. attach: the
   shared chains (once), route_localnet on the bridge, the pod's hostPorts;
   detach: the pod's hostPort chain when had_ports (else done at once). */
typedef void (*kd_cni_nat_cb) (const char *err, void *data);
bool kd_cni_net_nat_p (const kd_cni_net_t *net);
void kd_cni_nat_attach (kd_cni_t *cni, const char *container_id, const char *pod_ip,
                        const kd_cni_port_mapping_t *pm, size_t n_pm, kd_cni_nat_cb done,
                        void *data);
void kd_cni_nat_detach (kd_cni_t *cni, const char *container_id, bool had_ports, kd_cni_nat_cb done,
                        void *data);

char *kd_cni_base64_encode (const char *data, size_t len);
/* Returns NULL on invalid input. */
char *kd_cni_base64_decode (const char *s, size_t *len);

#endif
