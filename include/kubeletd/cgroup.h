/* cgroup: one cgroup per pod and one per container under --cgroup-root, on
 * cgroup v1, v2 and hybrid hosts.
 *
 * Why: resource limits, QoS, OOM detection and stats all come from the
 * kernel's cgroups; a node may mount them in any of three layouts (this
 * machine: v1 controllers plus a cgroup2 mount holding only hugetlb).
 *
 * What it owns: the layout detection, the directories it creates (and their
 * removal, after killing what is left inside), the limit files, reading OOM
 * kill counts and usage.
 *
 * How to use:
 *  1. kd_cgroup_detect () once: v1, v2 or hybrid, and where each controller is.
 *  2. kd_cgroup_create (layout, "kubepods/pod<uid>", &limits, &cg, &err) for a
 *     pod, then "kubepods/pod<uid>/<container id>" for a container.
 *  3. kd_cgroup_procs_files () gives the files a process writes its pid into
 *     to join (the runtime's child does that before execve).
 *  4. kd_cgroup_oom_kills () after an exit; kd_cgroup_stats () for /stats.
 *  5. kd_cgroup_destroy (): kills what is left, removes the directories.
 *
 * Layouts: v1 uses the cpu, cpuacct (often co-mounted "cpu,cpuacct"),
 * memory and pids hierarchies. Hybrid uses the same v1 controllers for
 * every limit and statistic, and also makes each cgroup in the cgroup2 mount
 * (<root>/unified) to track processes: kd_cgroup_procs_files () lists it
 * too, and destroy kills through its cgroup.kill. v2 enables cpu, memory and
 * pids in every ancestor's cgroup.subtree_control; because of the
 * no-internal-process rule, when a cgroup that holds processes (a pod's
 * cgroup holding its shim) gets a child, those processes are moved into a
 * leaf "<path>/init" first.
 */
#ifndef KUBELETD_CGROUP_H
#define KUBELETD_CGROUP_H

#include <stdint.h>

#include "kubeletd/util.h"

typedef enum
{
  KD_CGROUP_V1,
  KD_CGROUP_V2,
  KD_CGROUP_HYBRID, /* v1 controllers + a cgroup2 mount */
} kd_cgroup_mode_t;

typedef struct kd_cgroup_layout kd_cgroup_layout_t;
typedef struct kd_cgroup kd_cgroup_t;

typedef struct
{
  int64_t memory_limit;  /* bytes, 0 = none */
  int64_t cpu_shares;    /* v1 cpu.shares (2..262144); v2 cpu.weight derived; 0 = default */
  int64_t cpu_quota_us;  /* per cpu_period_us; 0 = none */
  int64_t cpu_period_us; /* default 100000 */
  int64_t pids_limit;    /* 0 = none */
} kd_cgroup_limits_t;

typedef struct
{
  uint64_t cpu_usage_ns;       /* cumulative */
  uint64_t memory_usage;       /* bytes */
  uint64_t memory_working_set; /* usage - inactive_file */
  uint64_t memory_rss;
  uint64_t pids;
} kd_cgroup_stats_t;

/* root: "/sys/fs/cgroup" (tests may pass another mount point). */
int kd_cgroup_detect (const char *root, kd_cgroup_layout_t **out, kd_error_t *err) KD_WUR;
kd_cgroup_mode_t kd_cgroup_mode (const kd_cgroup_layout_t *l);
void kd_cgroup_layout_free (kd_cgroup_layout_t *l);

/* Creates (or adopts an existing) cgroup at the relative path in every
   hierarchy that matters, and writes the limits. */
int kd_cgroup_create (const kd_cgroup_layout_t *l, const char *path, const kd_cgroup_limits_t *lim,
                      kd_cgroup_t **out, kd_error_t *err) KD_WUR;
/* Opens an existing cgroup without changing it (after a restart). */
int kd_cgroup_open (const kd_cgroup_layout_t *l, const char *path, kd_cgroup_t **out,
                    kd_error_t *err) KD_WUR;
int kd_cgroup_update (kd_cgroup_t *cg, const kd_cgroup_limits_t *lim, kd_error_t *err) KD_WUR;
const char *kd_cgroup_path (const kd_cgroup_t *cg);
/* The cgroup.procs files to join; NULL-terminated, owned by cg. */
char *const *kd_cgroup_procs_files (const kd_cgroup_t *cg);
/* The file that counts OOM kills (v1 memory.oom_control, v2 memory.events). */
const char *kd_cgroup_oom_file (const kd_cgroup_t *cg);
/* Parses an OOM file's oom_kill count. */
int kd_cgroup_read_oom_kills (const char *oom_file, uint64_t *kills, kd_error_t *err) KD_WUR;
int kd_cgroup_stats (const kd_cgroup_t *cg, kd_cgroup_stats_t *st, kd_error_t *err) KD_WUR;
/* Kills every process left (SIGKILL, waits until empty, bounded) and
   removes the directories, children first. Frees cg. */
int kd_cgroup_destroy (kd_cgroup_t *cg, kd_error_t *err) KD_WUR;
void kd_cgroup_free (kd_cgroup_t *cg); /* without removing */

/* DESIGN §6: shares = millicores * 1024 / 1000 (min 2); quota = millicores *
   100000 / 1000; v2 weight = 1 + ((shares - 2) * 9999) / 262142. */
int64_t kd_cgroup_shares_from_millis (int64_t millis);
int64_t kd_cgroup_quota_from_millis (int64_t millis, int64_t period_us);
int64_t kd_cgroup_weight_from_shares (int64_t shares);
/* Kubernetes' oom_score_adj for a container: Guaranteed -997, BestEffort
   1000, Burstable 1000 - (1000 * memory request) / node memory, clamped to
   3..999, i.e. above 1000 + (-997) and below BestEffort (kubelet
   pkg/kubelet/qos/policy.go; the "2" of older docs dates from -998). */
int kd_oom_score_adj (const char *qos_class, int64_t memory_request, int64_t node_memory);

/* The kubelet's pod cgroup path: "<root>/pod<uid>" for Guaranteed,
   "<root>/burstable/pod<uid>" and "<root>/besteffort/pod<uid>" for the other
   classes (the QoS parents are made by kd_cgroup_create as plain
   directories without limits of their own; the pod cgroups carry the
   limits). A container's cgroup is "<pod path>/<container id>". */
char *kd_cgroup_pod_path (const char *cgroup_root, const char *qos_class, const char *pod_uid);

#endif
