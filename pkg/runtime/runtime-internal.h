/* runtime-internal: what the files of pkg/runtime share.
 *
 * The container's init is set up in the child of kd_runtime_spawn, in this
 * order (DESIGN §8): join cgroups, new cgroup namespace, mounts (mounts.c,
 * devices.c, sysctls), pivot_root, then the process finalisation shared with
 * exec (kd_rt_finalize: user.c, caps.c, seccomp.c) and execve. Every step
 * fails with a kd_error_t whose message names the step, the call and its
 * argument ("chdir `/nope`"); the child sends it to the parent over the sync
 * socket.
 */
#ifndef KD_RUNTIME_INTERNAL_H
#define KD_RUNTIME_INTERNAL_H

#include <linux/capability.h>
#include <seccomp.h>

#include "kubeletd/runtime.h"

#define KD_CAPBIT(c) (UINT64_C (1) << (c))

/* ---- seccomp --------------------------------------------------------- */

typedef enum
{
  KD_SC_ALLOW,
  KD_SC_ERRNO,
} kd_sc_action_t;

typedef enum
{
  KD_SC_NE,
  KD_SC_LT,
  KD_SC_LE,
  KD_SC_EQ,
  KD_SC_GE,
  KD_SC_GT,
  KD_SC_MASKED_EQ,
} kd_sc_op_t;

typedef struct
{
  unsigned index;
  uint64_t value;
  uint64_t value_two;
  kd_sc_op_t op;
} kd_sc_arg_t;

/* One entry of Docker's default profile (seccomp_table.c). */
typedef struct
{
  const char *const *names; /* NULL-terminated */
  kd_sc_action_t action;
  int errno_ret;
  size_t n_args;
  kd_sc_arg_t args[2];
  uint64_t caps_required;  /* all of them in the bounding set */
  uint64_t caps_excluding; /* none of them in the bounding set */
  const char *arches;      /* Go arch names, comma-separated: only there */
  const char *not_arches;  /* ... never there */
  const char *min_kernel;  /* "4.8" */
} kd_seccomp_rule_t;

extern const kd_seccomp_rule_t kd_seccomp_default_rules[];
extern const size_t kd_seccomp_default_n_rules;

/* Compiles the spec's profile (NULL *out for Unconfined). Done in the parent
   so that a bad Localhost profile is reported before anything is created. */
int kd_rt_seccomp_build (const kd_ctr_spec_t *spec, scmp_filter_ctx *out, kd_error_t *err) KD_WUR;
/* Loads it; with no_new_privs false the caller must hold CAP_SYS_ADMIN. */
int kd_rt_seccomp_load (scmp_filter_ctx ctx, bool no_new_privs, kd_error_t *err) KD_WUR;

/* ---- capabilities and user ------------------------------------------- */

/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int kd_rt_cap_last (void);
/* Drops every capability not in `bounding` from the bounding set. */
int kd_rt_caps_drop_bounding (uint64_t bounding, kd_error_t *err) KD_WUR;
/* Sets effective/permitted/inheritable with capset, then the ambient set. */
int kd_rt_caps_set (const kd_ctr_spec_t *spec, kd_error_t *err) KD_WUR;
/* setgroups, setresgid, setresuid, keeping the permitted set. */
int kd_rt_user_switch (const kd_ctr_spec_t *spec, kd_error_t *err) KD_WUR;

/* The end of both spawn and exec: bounding set, user, no_new_privs,
   seccomp, final capability sets, chdir, and the PATH lookup of argv[0]
   (into *path, allocated). The caller then execve()s. */
int kd_rt_finalize (const kd_ctr_spec_t *spec, scmp_filter_ctx seccomp, char *const argv[],
                    char *const env[], char **path, kd_error_t *err) KD_WUR;

/* ---- mounts, devices, sysctls (in the child, cwd = anywhere) --------- */

/* Everything from "make / private" to pivot_root and the read-only remount
   of /. On return the process is in the container's root. */
int kd_rt_setup_rootfs (const kd_ctr_spec_t *spec, kd_error_t *err) KD_WUR;
/* Under /dev (a tmpfs at rootfd-relative "dev"): the device nodes and the
   links. privileged adds every character and block device of the host. */
int kd_rt_create_devices (int devfd, bool privileged, kd_error_t *err) KD_WUR;
/* Writes spec->sysctls under procdir (the container's /proc/sys), refusing
   the ones that are not namespaced. */
int kd_rt_apply_sysctls (const kd_ctr_spec_t *spec, int proc_sys_fd, kd_error_t *err) KD_WUR;
/* True for the sysctls a container may set (namespaced). */
bool kd_rt_sysctl_is_namespaced (const char *name);

/* Writes "0" (the writer) into every spec->cgroup_procs file. */
int kd_rt_join_cgroups (const kd_ctr_spec_t *spec, kd_error_t *err) KD_WUR;

#endif
