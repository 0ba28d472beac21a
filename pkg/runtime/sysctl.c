/* Namespaced sysctls (written under the container's /proc/sys before it is
 * made read-only) and joining the container's cgroups. */
#include <fcntl.h>

#include "runtime-internal.h"

/* The sysctls Kubernetes considers namespaced (kubelet's sysctl allowlist
   groups): they only change the container's (or pod's) namespaces. */
static const char *const ns_prefixes[] = { "kernel.shm", "kernel.msg", "fs.mqueue.", "net." };

bool
kd_rt_sysctl_is_namespaced (const char *name)
{
  if (strcmp (name, "kernel.sem") == 0)
    return true;
  for (size_t i = 0; i < KD_ARRAY_SIZE (ns_prefixes); i++)
    if (kd_str_has_prefix (name, ns_prefixes[i]))
      return true;
  return false;
}

static int
write_all_fd (int fd, const char *s, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, s, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      s += w;
      n -= (size_t) w;
    }
  return 0;
}

int
kd_rt_apply_sysctls (const kd_ctr_spec_t *spec, int proc_sys_fd, kd_error_t *err)
{
  for (size_t i = 0; i < spec->n_sysctls; i++)
    {
      const char *kv = spec->sysctls[i];
      const char *eq = strchr (kv, '=');
      cleanup_free char *key = NULL;
      cleanup_close int fd = -1;

      if (eq == NULL || eq == kv)
        return kd_make_error (err, EINVAL, "sysctl `%s`", kv);
      key = xstrndup (kv, (size_t) (eq - kv));
      if (!kd_rt_sysctl_is_namespaced (key) || strstr (key, "..") != NULL
          || strchr (key, '/') != NULL)
        return kd_make_error (err, EPERM, "sysctl `%s`: not a namespaced sysctl", key);
      for (char *p = key; *p; p++)
        if (*p == '.')
          *p = '/';
      fd = openat (proc_sys_fd, key, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        return kd_make_error (err, errno, "sysctl: open `%.*s`", (int) (eq - kv), kv);
      if (write_all_fd (fd, eq + 1, strlen (eq + 1)) < 0)
        return kd_make_error (err, errno, "sysctl: write `%s`", kv);
    }
  return 0;
}

int
kd_rt_join_cgroups (const kd_ctr_spec_t *spec, kd_error_t *err)
{
  for (size_t i = 0; i < spec->n_cgroup_procs; i++)
    {
      cleanup_close int fd = open (spec->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return kd_make_error (err, errno, "cgroup: open `%s`", spec->cgroup_procs[i]);
      /* "0" is the writing process, in any PID namespace. */
      if (write_all_fd (fd, "0", 1) < 0)
        return kd_make_error (err, errno, "cgroup: write `%s`", spec->cgroup_procs[i]);
    }
  return 0;
}
