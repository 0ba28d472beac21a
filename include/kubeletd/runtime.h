/* runtime: creating a container process with all of its isolation, and
 * entering a running container for exec.
 *
 * Why: this is what crun does, in-process. The per-pod shim (which lives in
 * the pod's network, IPC and UTS namespaces) calls kd_runtime_spawn for every
 * container, so the container is the shim's child and outlives kubeletd.
 *
 * What it owns: the container spec (kd_ctr_spec_t, stored as JSON in the
 * container's bundle directory so the shim can read it after kubeletd is
 * gone), the clone and the setup sequence of DESIGN §8 in the child, the
 * capability sets, Docker's default seccomp profile as a C table, and the
 * sync socket over which the child reports the exact failing step.
 *
 * How to use:
 *  1. kubeletd fills a kd_ctr_spec_t and writes it with kd_ctr_spec_save.
 *  2. The shim loads it (kd_ctr_spec_load) and calls kd_runtime_spawn with
 *     the fds for the container's stdio; on success it gets the pid and a
 *     pidfd; on failure err holds the child's message ("exec `nope`: No such
 *     file or directory") for StartError.
 *  3. For exec, `kubeletd-shim exec` calls kd_runtime_exec_enter in a fresh
 *     process: it joins the container's namespaces and cgroup and applies the
 *     same user, capabilities, no_new_privs and seccomp, then execs.
 */
#ifndef KUBELETD_RUNTIME_H
#define KUBELETD_RUNTIME_H

#include <stdint.h>
#include <sys/types.h>

#include "kubeletd/util.h"

typedef struct
{
  char *source;      /* host path, or the fs type's source ("tmpfs", "proc") */
  char *destination; /* absolute path inside the container */
  char *type;        /* "bind", "tmpfs", ... */
  char *data;        /* mount data ("size=64m,mode=1777"), may be NULL */
  bool readonly;
  bool recursive; /* rbind */
} kd_mount_t;

typedef enum
{
  KD_SECCOMP_UNCONFINED = 0,
  KD_SECCOMP_RUNTIME_DEFAULT = 1, /* Docker's default profile */
  KD_SECCOMP_LOCALHOST = 2,       /* an OCI/Docker JSON profile file */
} kd_seccomp_mode_t;

typedef struct
{
  char *id;      /* 64 hex digits */
  char *name;    /* the container's name in the pod, for messages */
  char *pod_uid; /* for messages */

  /* process */
  char **argv; /* NULL-terminated, argv[0] resolved against PATH in the rootfs */
  size_t argc;
  char **env; /* "K=V", NULL-terminated */
  size_t n_env;
  char *cwd; /* "/" when NULL; created if missing, as Docker does */
  uint32_t uid;
  uint32_t gid;
  uint32_t *groups; /* supplementary groups */
  size_t n_groups;
  bool tty;
  int oom_score_adj;

  /* root file system: overlay of lowerdirs (top first) + upperdir/workdir
     mounted at rootfs; or, when n_lowerdirs == 0, rootfs used as is. */
  char **lowerdirs;
  size_t n_lowerdirs;
  char *upperdir;
  char *workdir;
  char *rootfs;
  bool readonly_rootfs;

  /* volumes, /etc/hosts, /etc/hostname, /etc/resolv.conf,
     /dev/termination-log, /dev/shm: mounted in this order after /dev. */
  kd_mount_t *mounts;
  size_t n_mounts;

  /* namespaces: the container always gets a new mount and cgroup namespace;
     a new PID namespace unless host_pid. Network, IPC and UTS are the
     spawning process's (the shim's: the pod's). */
  bool host_pid;

  /* security */
  uint64_t cap_bounding; /* bit n = capability n */
  uint64_t cap_effective;
  uint64_t cap_permitted;
  uint64_t cap_inheritable;
  uint64_t cap_ambient;
  bool no_new_privs;
  bool privileged; /* no masked/read-only paths, writable /sys, all devices */
  kd_seccomp_mode_t seccomp;
  char *seccomp_profile; /* KD_SECCOMP_LOCALHOST: path of the JSON profile */
  char **sysctls;        /* "net.core.somaxconn=1024" (namespaced only) */
  size_t n_sysctls;

  /* cgroups: files the child writes its pid into before it execs (v1: one
     cgroup.procs per hierarchy; v2: one). */
  char **cgroup_procs;
  size_t n_cgroup_procs;

  /* for the shim */
  char *log_path;           /* CRI log file */
  int64_t log_max_size;     /* rotate at, bytes (0 = never) */
  int log_max_files;        /* files kept, >= 2 */
  int stop_signal;          /* SIGTERM unless the image says otherwise */
  char *termination_log;    /* host path bind-mounted at terminationMessagePath */
  char *memory_oom_control; /* v1: memory.oom_control; v2: memory.events (OOM kills) */
} kd_ctr_spec_t;

void kd_ctr_spec_free (kd_ctr_spec_t *spec);
/* JSON in the bundle directory (<dir>/config.json, written atomically). */
int kd_ctr_spec_save (const kd_ctr_spec_t *spec, const char *bundle_dir, kd_error_t *err) KD_WUR;
int kd_ctr_spec_load (const char *bundle_dir, kd_ctr_spec_t *spec, kd_error_t *err) KD_WUR;

/* Creates the container process (clone3 with CLONE_PIDFD into new PID,
   mount and cgroup namespaces), waits on the sync socket until the child
   has finished its setup and is about to execve (or failed), and returns.
   stdio[i] < 0 means /dev/null. The caller owns *pidfd and reaps the pid. */
int kd_runtime_spawn (const kd_ctr_spec_t *spec, const int stdio[3], pid_t *pid, int *pidfd,
                      kd_error_t *err) KD_WUR;

/* In the calling process (which must be single-threaded and disposable):
   joins the namespaces and cgroup of the container whose init is `pid`,
   applies spec's user, capabilities, no_new_privs and seccomp, chdirs to
   spec->cwd and execs argv with env (NULL: spec->env). Returns only on
   failure. */
int kd_runtime_exec_enter (pid_t pid, const kd_ctr_spec_t *spec, char *const argv[],
                           char *const env[], kd_error_t *err) KD_WUR;

/* Capabilities: Docker's default 14 (DESIGN §8). Names are "CAP_CHOWN" or
   "CHOWN" (Kubernetes' spelling); "ALL" is every capability. */
uint64_t kd_caps_default (void);
int kd_caps_from_name (const char *name, int *cap); /* -1 when unknown */
uint64_t kd_caps_all (void);

#endif
