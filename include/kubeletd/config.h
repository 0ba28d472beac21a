/* config: the daemon's settings from the command line and a
 * KubeletConfiguration file.
 *
 * Why: users come with kubelet habits; every flag keeps the kubelet's name
 * and default (DESIGN §4), the file keeps the KubeletConfiguration field
 * names, and a bad value is refused at start with one message that names
 * the flag (or file:line:col) and the value, never halfway through a run.
 *
 * What it owns: kd_config_t and every string in it.
 *
 * How to use:
 *  1. kd_config_init (&cfg) sets the built-in defaults.
 *  2. kd_config_parse_args (&cfg, argc, argv, &err) reads the flags, then the
 *     --config file (for the settings no flag gave: flags win), then fills
 *     the derived defaults (socket under --run-dir, node name from the host
 *     name). On failure err reads like pflag's messages, e.g.
 *     `invalid argument "x" for "--max-pods" flag: ...`.
 *  3. cfg.warnings holds what the file had that kubeletd ignores (unknown
 *     fields); log them once logging is set up.
 *  4. cfg.show_help / cfg.show_version: print kd_config_usage or the version
 *     and exit 0.
 *  5. kd_config_free (&cfg).
 */
#ifndef KUBELETD_CONFIG_H
#define KUBELETD_CONFIG_H

#include "kubeletd/api.h"
#include "kubeletd/util.h"

#define KD_DEFAULT_POD_MANIFEST_PATH   "/etc/kubernetes/manifests"
#define KD_DEFAULT_ROOT_DIR            "/var/lib/kubeletd"
#define KD_DEFAULT_RUN_DIR             "/run/kubeletd"
#define KD_DEFAULT_POD_LOGS_DIR        "/var/log/pods"
#define KD_DEFAULT_CNI_CONF_DIR        "/etc/cni/net.d"
#define KD_DEFAULT_CNI_BIN_DIR         "/usr/lib/cni:/opt/cni/bin"
#define KD_DEFAULT_POD_CIDR            "10.88.0.0/16"
#define KD_DEFAULT_CGROUP_ROOT         "kubepods"
#define KD_DEFAULT_FILE_CHECK_MS       (20 * 1000)
#define KD_DEFAULT_HTTP_CHECK_MS       (20 * 1000)
#define KD_DEFAULT_BACKOFF_INITIAL_MS  (10 * 1000)
#define KD_DEFAULT_BACKOFF_MAX_MS      (300 * 1000)
#define KD_DEFAULT_MAX_PODS            110
#define KD_DEFAULT_POD_PIDS_LIMIT      (-1)
#define KD_DEFAULT_CONTAINER_LOG_MAX   (10 * 1024 * 1024)
#define KD_DEFAULT_CONTAINER_LOG_FILES 5
#define KD_DEFAULT_IMAGE_GC_HIGH       85
#define KD_DEFAULT_IMAGE_GC_LOW        80
#define KD_SOCKET_NAME                 "kubeletd.sock"

typedef struct
{
  char *host; /* "docker.io", "127.0.0.1:5000" */
  char *url;  /* "https://mirror.example" */
} kd_registry_mirror_t;

typedef struct
{
  /* sources */
  char *pod_manifest_path; /* "" = no file source */
  char *manifest_url;      /* NULL = none */
  int64_t file_check_frequency_ms;
  int64_t http_check_frequency_ms; /* --http-check-frequency: the --manifest-url poll */

  /* directories and the socket */
  char *root_dir;
  char *run_dir;
  char *pod_logs_dir;
  char *socket_path;  /* default <run_dir>/kubeletd.sock */
  char *socket_group; /* group name or gid allowed to use the socket; NULL = none */

  /* node */
  char *node_name; /* --hostname-override, lowercased; default the host name */

  /* network */
  char *cni_conf_dir;
  char *cni_bin_dir; /* colon-separated */
  char *pod_cidr;

  /* images */
  kd_registry_mirror_t *registry_mirrors;
  size_t n_registry_mirrors;
  kd_strv_t insecure_registries;   /* HOST or HOST:PORT */
  int32_t image_gc_high_threshold; /* percent of disk use that starts image GC */
  int32_t image_gc_low_threshold;  /* percent it collects down to */

  /* containers */
  int64_t crashloop_backoff_initial_ms;
  int64_t crashloop_backoff_max_ms;
  int32_t max_pods;
  int64_t pod_pids_limit;         /* --pod-max-pids: pids.max of each pod cgroup; <= 0 = none */
  int64_t container_log_max_size; /* bytes */
  int32_t container_log_max_files;
  char *cgroup_root;
  bool seccomp_default;

  /* kubeletd-specific (no kubelet flag) */
  char *network_bridge;   /* --network-bridge: the built-in network's bridge (default kubeletd0) */
  char *shim_path;        /* --shim-path (hidden): the kubeletd-shim executable */
  bool stop_pods_on_exit; /* --stop-pods-on-exit: tear every pod down on SIGTERM */

  /* control plane */
  char *config_file;
  char *kubeconfig;

  /* logging */
  int verbosity;
  bool log_json;

  /* actions */
  bool show_help;
  bool show_version;

  /* messages about the config file that are not errors */
  kd_strv_t warnings;
} kd_config_t;

void kd_config_init (kd_config_t *cfg);
/* argv[0] is the program name and is skipped. */
int kd_config_parse_args (kd_config_t *cfg, int argc, char **argv, kd_error_t *err) KD_WUR;
void kd_config_usage (FILE *out);
void kd_config_free (kd_config_t *cfg);

/* The Kubernetes version kubeletd speaks (GET /version, kubeletctl version). */
#define KD_KUBE_MAJOR       "1"
#define KD_KUBE_MINOR       "32"
#define KD_KUBE_GIT_VERSION "v1.32.0-kubeletd-" KD_VERSION

#endif
