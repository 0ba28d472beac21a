/* cgroup module internals shared by detect.c, cgroup.c, destroy.c, stats.c
 * and the unit tests. */
#ifndef KUBELETD_CGROUP_INTERNAL_H
#define KUBELETD_CGROUP_INTERNAL_H

#include <stdbool.h>

#include "kubeletd/cgroup.h"

/* Where each controller we use lives. On v1 and hybrid the four v1 fields
   are mount points (cpu and cpuacct are the same string when co-mounted,
   "cpu,cpuacct"); NULL when the controller is not mounted. `unified` is the
   cgroup2 mount: the root itself on v2, <root>/unified on hybrid, NULL on
   v1. */
struct kd_cgroup_layout
{
  kd_cgroup_mode_t mode;
  char *root;
  char *cpu;
  char *cpuacct;
  char *memory;
  char *pids;
  char *unified;
  /* v2 only: controllers listed in <root>/cgroup.controllers. */
  bool v2_cpu, v2_memory, v2_pids;
  /* The hierarchies are plain directories, not cgroup filesystems (a fake
     tree in tests): limit files are created when written, and regular files
     are removed before rmdir. */
  bool plain;
};

/* One cgroup: the same relative path in every hierarchy that matters. */
struct kd_cgroup
{
  kd_cgroup_mode_t mode;
  bool plain;
  char *path;        /* relative, as given */
  char **dirs;       /* absolute directories, NULL-terminated, no duplicates */
  char **procs;      /* dirs[i]/cgroup.procs, NULL-terminated */
  char *cpu_dir;     /* the dirs below point into `dirs` or are NULL */
  char *cpuacct_dir; /* v2: cpu_dir (cpu.stat) */
  char *memory_dir;
  char *pids_dir;
  char *unified_dir; /* v2: the cgroup; hybrid: the tracking cgroup */
  char *oom_file;
};

/* Builds a layout from the text of a mountinfo file, keeping only the
   cgroup and cgroup2 mounts at or below root. Fails with ENOENT when there
   is none. */
int kd_cgroup_layout_from_mountinfo (const char *root, const char *mountinfo,
                                     kd_cgroup_layout_t **out, kd_error_t *err) KD_WUR;
/* Builds a layout by looking at the directories under root (used when root
   is not a mount point of its own, e.g. a test tree). */
int kd_cgroup_layout_from_tree (const char *root, kd_cgroup_layout_t **out, kd_error_t *err) KD_WUR;

/* File helpers: read a small cgroup file (NUL-terminated) and write a value
   (one write(2), as the kernel wants). */
int kd_cgroup_read (const char *dir, const char *file, char **out, kd_error_t *err) KD_WUR;
int kd_cgroup_write (const char *dir, const char *file, const char *value, bool create,
                     kd_error_t *err) KD_WUR;
/* Finds "key value" in a flat-keyed file's text (memory.stat, cpu.stat,
   memory.events, memory.oom_control). Returns false when the key is absent
   or its value is not a number. */
bool kd_cgroup_keyed_value (const char *text, const char *key, uint64_t *value);
/* Parses the first line of a single-value file ("123\n" or "max\n"; max
   gives UINT64_MAX). */
int kd_cgroup_parse_u64 (const char *text, uint64_t *value);

void kd_cgroup_free_strv (char **v);

#endif
