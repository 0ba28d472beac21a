/* sandbox: what a pod shares besides its namespaces — its name files
 * (/etc/hosts, /etc/hostname, /etc/resolv.conf), its volumes (emptyDir,
 * hostPath, subPath) and the node's hostPorts.
 *
 * Why: every container of a pod must see the same names, the same volume
 * contents and the same published ports, computed exactly as the kubelet
 * computes them; and a subPath must never let a container reach outside its
 * volume, whatever symlinks a container (or anyone) plants inside it.
 *
 * What it owns: the contents of the three name files (files.c), the volume
 * directories under <root-dir>/pods/<uid>/volumes and their tmpfs mounts,
 * hostPath type checks, the subPath bind mounts under
 * <run-dir>/pods/<uid>/subpaths (volumes.c, subpath.c), and the node's
 * table of reserved hostPorts (ports.c).
 *
 * How to use (a pod worker):
 *  1. kd_sandbox_ports_reserve (ports, pod, &err) before the network is set
 *     up; refused with "port 8080/TCP on 0.0.0.0 is already used by pod
 *     default/web-node1". kd_sandbox_port_mappings () gives the CNI
 *     runtimeConfig. kd_sandbox_ports_release () at teardown.
 *  2. After CNI ADD: kd_sandbox_write_files (pod, pod_dir, ips, ...) writes
 *     <pod_dir>/etc/{hosts,hostname,resolv.conf}; the container spec
 *     bind-mounts them (kd_sandbox_files_mounts).
 *  3. kd_sandbox_volumes_setup (pod, root_dir, &vols, &err) creates the
 *     emptyDirs (tmpfs for medium Memory) and checks the hostPaths.
 *  4. For each container, kd_sandbox_container_mounts (...) turns its
 *     volumeMounts into kd_mount_t entries for kd_ctr_spec_t.mounts. A
 *     volumeMount with subPath is resolved here without following any
 *     symlink out of the volume (openat2 RESOLVE_BENEATH|
 *     RESOLVE_NO_MAGICLINKS), and the resolved object is bind-mounted
 *     through its /proc/self/fd/N path at
 *     <run-dir>/pods/<uid>/subpaths/<container>/<index> in the host mount
 *     namespace; the returned kd_mount_t's source is that stable mount, so
 *     the runtime simply bind-mounts it like any other volume. Because the
 *     bind mount pins the object that was checked, replacing a path
 *     component by a symlink afterwards changes nothing.
 *  5. Teardown, after the containers are gone: kd_sandbox_subpaths_cleanup
 *     (run_dir, uid), kd_sandbox_volumes_teardown (root_dir, uid).
 */
#ifndef KUBELETD_SANDBOX_H
#define KUBELETD_SANDBOX_H

#include "kubeletd/api.h"
#include "kubeletd/cni.h"
#include "kubeletd/runtime.h"
#include "kubeletd/util.h"

/* ---- names (files.c) ------------------------------------------------- */

/* The pod's hostname: spec.hostname or the pod name, cut to 63 characters
   with trailing '-' and '.' removed (kubelet GeneratePodHostNameAndDomain). */
char *kd_sandbox_hostname (const kd_pod_t *pod);
/* "<subdomain>.<namespace>.svc.<cluster domain>", or NULL without a
   subdomain or a cluster domain. */
char *kd_sandbox_host_domain (const kd_pod_t *pod, const char *cluster_domain);

/* /etc/hosts. Pod network: Kubernetes' managed file with the pod IPs and
   hostAliases. hostNetwork: the node's file (host_hosts_path, default
   /etc/hosts) under the host-network header, plus hostAliases. */
int kd_sandbox_hosts_content (const kd_pod_t *pod, char *const *pod_ips, size_t n_ips,
                              const char *cluster_domain, const char *host_hosts_path, char **out,
                              kd_error_t *err) KD_WUR;

/* /etc/resolv.conf from dnsPolicy and dnsConfig. Without cluster DNS,
   ClusterFirst and ClusterFirstWithHostNet fall back to the node's file
   (host_resolv_path, default /etc/resolv.conf), as the kubelet does;
   None uses dnsConfig only. Written as containerd writes it: search,
   nameserver lines, options. */
int kd_sandbox_resolv_content (const kd_pod_t *pod, const char *host_resolv_path, char **out,
                               kd_error_t *err) KD_WUR;

/* Writes <pod_dir>/etc/hosts, hostname (the hostname and a newline) and
   resolv.conf (0644, atomically). */
int kd_sandbox_write_files (const kd_pod_t *pod, const char *pod_dir, char *const *pod_ips,
                            size_t n_ips, const char *cluster_domain, kd_error_t *err) KD_WUR;
/* The three bind mounts for a container (destinations /etc/hosts,
   /etc/hostname, /etc/resolv.conf), appended to *mounts. */
void kd_sandbox_files_mounts (const char *pod_dir, kd_mount_t **mounts, size_t *n);

/* ---- volumes (volumes.c, subpath.c) ---------------------------------- */

typedef struct
{
  char *name;
  char *path; /* the host directory or file the volume is */
  bool tmpfs; /* emptyDir medium Memory: a tmpfs mounted at path */
} kd_sandbox_volume_t;

/* <root_dir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>. */
char *kd_sandbox_empty_dir_path (const char *root_dir, const char *pod_uid, const char *name);

/* Kubernetes' hostPath type check (pkg/volume/hostpath): DirectoryOrCreate
   creates a missing directory (0755, parents too), FileOrCreate a missing
   file (0644; its parent must exist); the others only check; "" checks
   nothing. Errors read like the kubelet's: "hostPath type check failed:
   /x is not a directory". */
int kd_sandbox_hostpath_check (const char *path, const char *type, kd_error_t *err) KD_WUR;

/* The kubelet's SetVolumeOwnership (fsgroup.c): group fs_group and g+rw on
   everything under path, g+x and setgid on directories, symlinks skipped;
   with change_policy "OnRootMismatch", nothing when the root is already
   right. */
int kd_sandbox_volume_ownership (const char *path, int64_t fs_group, const char *change_policy,
                                 kd_error_t *err) KD_WUR;

/* Sets up every volume of the pod (emptyDirs owned by the pod's fsGroup
   when it sets one); on failure nothing is left mounted. */
int kd_sandbox_volumes_setup (const kd_pod_t *pod, const char *root_dir, kd_sandbox_volume_t **out,
                              size_t *n_out, kd_error_t *err) KD_WUR;
void kd_sandbox_volumes_free (kd_sandbox_volume_t *v, size_t n);
/* Unmounts the tmpfs emptyDirs and removes <root_dir>/pods/<uid>/volumes. */
int kd_sandbox_volumes_teardown (const char *root_dir, const char *pod_uid, kd_error_t *err) KD_WUR;

/* Opens subpath inside the volume root without leaving it: refuses "..",
   absolute paths, absolute symlinks and symlinks that lead outside
   (`subpath "x" not within volume path "/v"`). Missing components are
   created as directories (as the kubelet's SafeMakeDir does) with the
   volume root's mode when create is true. Returns an O_PATH fd. */
int kd_sandbox_subpath_open (const char *volume_root, const char *subpath, bool create,
                             kd_error_t *err) KD_WUR;
/* Resolves and bind-mounts the subpath at target (created as a file or a
   directory to match), private propagation. */
int kd_sandbox_subpath_mount (const char *volume_root, const char *subpath, const char *target,
                              kd_error_t *err) KD_WUR;
/* <run_dir>/pods/<uid>/subpaths/<container>/<index>. */
char *kd_sandbox_subpath_target (const char *run_dir, const char *pod_uid, const char *container,
                                 size_t index);
/* Unmounts and removes <run_dir>/pods/<uid>/subpaths. */
int kd_sandbox_subpaths_cleanup (const char *run_dir, const char *pod_uid, kd_error_t *err) KD_WUR;

/* The container's volumeMounts as mounts (rbind, readOnly honoured), in
   the container's order; subPaths are prepared as described above. */
int kd_sandbox_container_mounts (const kd_pod_t *pod, const kd_container_t *c,
                                 const kd_sandbox_volume_t *vols, size_t n_vols,
                                 const char *run_dir, kd_mount_t **mounts, size_t *n_mounts,
                                 kd_error_t *err) KD_WUR;
void kd_sandbox_mounts_free (kd_mount_t *m, size_t n);

/* ---- hostPorts (ports.c) --------------------------------------------- */

typedef struct kd_sandbox_ports kd_sandbox_ports_t;

kd_sandbox_ports_t *kd_sandbox_ports_new (void);
void kd_sandbox_ports_free (kd_sandbox_ports_t *p);
/* Reserves every hostPort of the pod's containers and init containers (all
   or nothing). Two reservations conflict when port and protocol are equal
   and the host IPs are equal or either is 0.0.0.0 (or empty). Reserving
   again for the same pod key replaces its earlier reservation. */
int kd_sandbox_ports_reserve (kd_sandbox_ports_t *p, const kd_pod_t *pod, kd_error_t *err) KD_WUR;
void kd_sandbox_ports_release (kd_sandbox_ports_t *p, const char *pod_namespace,
                               const char *pod_name);
/* The pod's hostPorts as CNI port mappings (protocol lower case); the
   strings point into pod. Free *out with free (). */
void kd_sandbox_port_mappings (const kd_pod_t *pod, kd_cni_port_mapping_t **out, size_t *n);

#endif
