/* cni: the pod network through Container Network Interface plugins
 * (CNI spec 1.0.0 and 0.4.0), run asynchronously on the libuv loop.
 *
 * Why: the field's standard way to give a pod its IP, routes and published
 * ports is to run the CNI plugins (bridge, host-local, portmap, loopback)
 * rather than to program netlink by hand. Plugins are processes that may be
 * slow or hang, so every call is a uv_spawn with pipes and a timeout timer:
 * the loop never blocks on them.
 *
 * What it owns: reading the network configuration (the first *.conflist,
 * *.conf or *.json of --cni-conf-dir by name; a .conf is a one-plugin
 * network), the built-in default network used when that directory holds
 * none, the plugin processes, the result cache (<root-dir>/cni/results/,
 * libcni's layout and format, so DEL and GC work after a restart and with
 * the netns gone) and garbage collection of stale reservations.
 *
 * How to use:
 *  1. kd_cni_new (loop, &opts) once; opts name the conf dir, the plugin
 *     path, the root dir (cache), the pod CIDR / bridge / IPAM data dir of
 *     the built-in network and the per-plugin timeout (default 30 s).
 *  2. kd_cni_load_network (cni, &net, &err) for the configured network (or
 *     the built-in one); kd_cni_loopback_network () for lo.
 *  3. kd_cni_add (cni, net, &rt, cb, data): ADD runs each plugin in order,
 *     chaining prevResult; cb gets the final result (IPs, gateway,
 *     interfaces) or an error ("plugin bridge failed (code 11): msg:
 *     details"). For a pod: ADD the loopback network with ifname "lo", then
 *     the pod network with "eth0" (kd_cni_attach does both).
 *  4. kd_cni_del: reverse order with the cached prevResult; works without a
 *     cache and when the netns is gone. kd_cni_check, kd_cni_version too.
 *  5. kd_cni_gc (cni, live ids, n, cb): DEL for every cached attachment whose
 *     container is not live, then removal of host-local reservations of the
 *     built-in network that belong to no live container.
 *  6. kd_cni_free () once nothing is in flight (or: in-flight operations
 *     complete with an error "cni: shutting down" first).
 */
#ifndef KUBELETD_CNI_H
#define KUBELETD_CNI_H

#include <jansson.h>
#include <uv.h>

#include "kubeletd/util.h"

#define KD_CNI_DEFAULT_TIMEOUT_MS (30 * 1000)
/* Plugin processes at once; more wait their turn (the timeout starts when
   a plugin starts). */
#define KD_CNI_DEFAULT_MAX_RUNNING 8
#define KD_CNI_DEFAULT_BRIDGE      "kubeletd0"
#define KD_CNI_DEFAULT_NET_NAME    "kubeletd"
#define KD_CNI_LOOPBACK_NET_NAME   "cni-loopback"

/* ---- network configuration (conf.c, default.c) ----------------------- */

typedef struct
{
  char *name;        /* the network's name */
  char *cni_version; /* "1.0.0", "0.4.0", ... */
  char *source;      /* the file it came from, or "built-in" */
  json_t *plugins;   /* array of plugin objects, each with at least "type" */
  char *bytes;       /* the normalized conflist text (cached for DEL/GC) */
  bool kubeletd_nat; /* "kubeletdNat": true — masquerade and hostPorts by
                        kubeletd (nat.c), set by the built-in network */
} kd_cni_net_t;

void kd_cni_net_free (kd_cni_net_t *net);

/* Parses a network config. single_plugin: a .conf file (one plugin object
   with "name" and "cniVersion" at the top) rather than a .conflist. */
int kd_cni_net_parse (const char *text, bool single_plugin, const char *source, kd_cni_net_t **out,
                      kd_error_t *err) KD_WUR;
/* Reads the first of *.conflist, *.conf, *.json in dir (sorted by name; a
   file named *.json is a conflist when it has "plugins", else a single
   plugin). *out is NULL (and 0 is returned) when the dir has no config or
   does not exist. */
int kd_cni_net_find (const char *dir, kd_cni_net_t **out, kd_error_t *err) KD_WUR;

/* The built-in network: bridge (isGateway, hairpinMode) with host-local
   IPAM over cidr keeping its state in data_dir; masquerading and hostPorts
   are kubeletd's own rules ("kubeletdNat", see nat.c). */
kd_cni_net_t *kd_cni_default_network (const char *bridge, const char *cidr, const char *data_dir);
kd_cni_net_t *kd_cni_loopback_network (void);

/* ---- results (result.c) ---------------------------------------------- */

typedef struct
{
  char *name;
  char *mac;
  char *sandbox; /* netns path when the interface is in the container */
} kd_cni_iface_t;

typedef struct
{
  char *address; /* CIDR, "10.88.0.5/16" */
  char *ip;      /* "10.88.0.5" */
  char *gateway; /* may be NULL */
  int family;    /* 4 or 6 */
  int interface; /* index into ifaces, -1 when absent */
} kd_cni_ip_t;

typedef struct
{
  char *cni_version;
  kd_cni_iface_t *ifaces;
  size_t n_ifaces;
  kd_cni_ip_t *ips;
  size_t n_ips;
  json_t *raw; /* the result object as the plugin printed it */
} kd_cni_result_t;

/* Parses a 0.4.0 or 1.0.0 result (0.3.x is read the same way). */
int kd_cni_result_parse (const char *text, size_t len, kd_cni_result_t **out,
                         kd_error_t *err) KD_WUR;
kd_cni_result_t *kd_cni_result_from_json (json_t *raw); /* takes a reference */
void kd_cni_result_free (kd_cni_result_t *r);
/* The first IPv4 address (else the first), without the prefix; NULL if none. */
const char *kd_cni_result_pod_ip (const kd_cni_result_t *r);

/* "plugin bridge failed (code 11): msg: details" from a plugin's error JSON
   (or its raw output when that is no JSON). Caller frees. */
char *kd_cni_format_plugin_error (const char *type, const char *out, size_t len, int exit_status);

/* ---- running plugins (exec.c) ---------------------------------------- */

typedef struct
{
  int host_port;
  int container_port;
  const char *protocol; /* "tcp", "udp", "sctp" (lower case, as portmap wants) */
  const char *host_ip;  /* may be NULL or "" */
} kd_cni_port_mapping_t;

/* One attachment: a container's network namespace on one interface. */
typedef struct
{
  const char *container_id;
  const char *netns;  /* path, "/run/kubeletd/pods/<uid>/ns/net"; may be gone for DEL */
  const char *ifname; /* "eth0" or "lo" */
  const char *pod_namespace;
  const char *pod_name;
  const char *pod_uid;
  const kd_cni_port_mapping_t *port_mappings;
  size_t n_port_mappings;
} kd_cni_runtime_t;

typedef struct
{
  const char *conf_dir; /* --cni-conf-dir */
  const char *bin_dir;  /* --cni-bin-dir, colon-separated */
  const char *root_dir; /* --root-dir: cache in <root>/cni/results */
  const char *pod_cidr; /* built-in network */
  const char *bridge;   /* built-in network; NULL = "kubeletd0" */
  const char *data_dir; /* built-in IPAM state; NULL = <root>/cni/networks */
  int64_t timeout_ms;   /* per plugin call; 0 = 30 s */
  size_t max_running;   /* plugin processes at once; 0 = 8 */
} kd_cni_opts_t;

typedef struct kd_cni kd_cni_t;

/* result is NULL for DEL, CHECK and on failure; for VERSION it is NULL and
   version_json holds the plugin's answer. err (NULL on success) and result
   belong to the callee: do not free them. */
typedef void (*kd_cni_cb) (kd_cni_t *cni, const kd_cni_result_t *result, const char *err,
                           void *data);

kd_cni_t *kd_cni_new (uv_loop_t *loop, const kd_cni_opts_t *opts);
/* Waits for nothing: operations still running are killed and their
   callbacks called with "cni: shutting down" before the memory goes once the
   loop has closed their handles. */
void kd_cni_free (kd_cni_t *cni);

/* The network to use: the conf dir's first config, else the built-in. */
int kd_cni_load_network (kd_cni_t *cni, kd_cni_net_t **out, kd_error_t *err) KD_WUR;

void kd_cni_add (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
                 void *data);
/* Every plugin is asked even when an earlier one failed (so a broken
   portmap does not keep the bridge from releasing the IP); the first error
   is reported. The cache entry goes once every plugin succeeded. */
void kd_cni_del (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
                 void *data);
/* CHECK needs a cached result and cniVersion >= 0.4.0. */
void kd_cni_check (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
                   void *data);
/* VERSION of one plugin type; the callback's err is NULL and the supported
   versions are in kd_cni_last_version_json (cni) during the callback. */
void kd_cni_version (kd_cni_t *cni, const char *plugin_type, kd_cni_cb cb, void *data);
const json_t *kd_cni_last_version_json (const kd_cni_t *cni);

/* A pod: loopback ADD on "lo" and the network's ADD on "eth0" side by side,
   then, for the built-in network, its NAT rules and the pod's hostPorts;
   the result is eth0's. */
void kd_cni_attach (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt,
                    kd_cni_cb cb, void *data);
/* The reverse: the pod's hostPorts, eth0 DEL (cached config when there is
   one), then lo DEL. */
void kd_cni_detach (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt,
                    kd_cni_cb cb, void *data);

/* Garbage collection: DEL (with the cached config) for every cache entry
   whose container id is not in live, then removes reservations under the
   built-in network's data dir held by no live container. */
void kd_cni_gc (kd_cni_t *cni, char *const *live, size_t n_live, kd_cni_cb cb, void *data);

/* The nat chain a masquerading bridge/ptp plugin names for an attachment:
   "CNI-" and the first 24 hex digits of sha512(net_name + container_id)
   (the plugins' utils.FormatChainName). kd_cni_detach and kd_cni_gc remove
   it, and its POSTROUTING jump, when the plugin's DEL left them (Debian's
   bridge does when the netns is already gone). Caller frees. */
char *kd_cni_ipmasq_chain (const char *net_name, const char *container_id);

/* Removes what the built-in network made on the node (blocking): the
   shared NAT chains and their jumps, and the bridge once no interface is
   left on it (a bridge left behind keeps its route to the pod CIDR, which
   shadows another network using the same CIDR). When kubeletd exits after
   stopping every pod. */
void kd_cni_builtin_teardown (kd_cni_t *cni);

/* Paths, for tests and tools. */
char *kd_cni_cache_path (const kd_cni_t *cni, const char *net_name, const char *container_id,
                         const char *ifname);
const char *kd_cni_data_dir (const kd_cni_t *cni);

#endif
