/* Garbage collection of sandboxes whose pods no longer exist, once at
   start, after recovery.

   Recovery already tears down every pod run directory it finds whose pod
   is no longer desired (its shim, namespace handles, cgroups, CNI DEL). What
   is left is state without a run directory: a CNI cache entry or a
   host-local reservation of a pod whose teardown was interrupted (kubeletd
   killed between the shim's exit and DEL, a node reboot wiping /run), the
   masquerade chain its bridge left, and the pod's directory under the root
   dir (emptyDir contents). The live set is every worker: pods being
   recovered, started and torn down all hold their own state and release it
   themselves. */
#include <dirent.h>
#include <sys/mount.h>

#include "worker-internal.h"

int64_t
kd_sandbox_cni_timeout_env (void)
{
  const char *v = getenv ("KUBELETD_CNI_TIMEOUT");
  int64_t ms = 0;
  char *end;

  if (v == NULL || *v == '\0')
    return 0;
  ms = strtoll (v, &end, 10);
  if (*end == '\0' && ms > 0)
    return ms;
  if (kd_parse_duration_ms (v, &ms) == 0 && ms > 0)
    return ms;
  kd_warn ("KUBELETD_CNI_TIMEOUT `%s` is not a duration: using the default", v);
  return 0;
}

static void
on_gc_done (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  /* data is unused: the manager may be gone when a shutdown cuts this short */
  if (err)
    kd_warn ("cni: garbage collection: %s", err);
  else
    kd_vlog (2, "cni: garbage collection done");
}

static bool
live_uid (kd_podmgr_t *m, const char *uid)
{
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (kd_str_eq (w->uid, uid))
      return true;
  return false;
}

/* <root-dir>/pods/<uid> of pods nobody runs: their volumes (tmpfs
   emptyDirs unmounted first) and the directory. */
static void
gc_pod_dirs (kd_podmgr_t *m)
{
  cleanup_free char *dir = xasprintf ("%s/pods", m->cfg->root_dir);
  DIR *d = opendir (dir);
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *pod_dir = NULL;
      kd_error_t err = NULL;

      if (de->d_name[0] == '.' || live_uid (m, de->d_name))
        continue;
      pod_dir = xasprintf ("%s/%s", dir, de->d_name);
      kd_info ("gc: removing the directory of pod %s, which no longer exists", de->d_name);
      if (kd_sandbox_volumes_teardown (m->cfg->root_dir, de->d_name, &err) < 0)
        {
          /* a mount that will not go: keep the directory rather than
             descend into what is still mounted */
          kd_error_log_release (&err);
          continue;
        }
      kd_rm_tree (pod_dir);
    }
  if (d)
    closedir (d);
}

void
kd_sandbox_gc (kd_podmgr_t *m)
{
  size_t n = 0, i = 0;
  char **live;

  if (m->cni == NULL)
    return;
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    n++;
  live = xcalloc (n + 1, sizeof (char *));
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    live[i++] = w->uid;
  kd_cni_gc (m->cni, live, n, on_gc_done, NULL);
  free (live);
  gc_pod_dirs (m);
}
