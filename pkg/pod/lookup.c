/* Containers by name or in bulk, for the exec and inspect routes: a copy of
   what the worker knows of each (pod directory, current run id, running or
   not), so that the caller holds nothing of the worker, whose memory may
   go on the next turn of the loop. */
#include "worker-internal.h"

static void
fill (const kd_pod_worker_t *w, const kd_ctr_t *c, kd_podmgr_ctr_t *out)
{
  memset (out, 0, sizeof (*out));
  out->ns = xstrdup (w->ns);
  out->pod = xstrdup (w->name);
  out->pod_uid = xstrdup (w->uid);
  out->name = xstrdup (c->spec->name ? c->spec->name : "");
  out->pod_dir = xstrdup (w->run_dir);
  out->id = c->cid ? xstrdup (c->cid) : NULL;
  out->cgroup = c->cg && kd_cgroup_path (c->cg) ? xstrdup (kd_cgroup_path (c->cg)) : NULL;
  out->shim_pid = w->shim ? kd_shim_pid (w->shim) : 0;
  /* C_RUNNING from the create's success to the exit's report: the process
     exists (a stop in progress still lets one look inside, as the CRI
     does until the container has exited). */
  out->running = c->phase == C_RUNNING && c->cid != NULL && w->shim != NULL;
  out->is_init = c->is_init;
}

int
kd_podmgr_container (kd_podmgr_t *m, const char *ns, const char *pod, const char *name,
                     kd_podmgr_ctr_t *out)
{
  const kd_pod_worker_t *found = NULL;

  memset (out, 0, sizeof (*out));
  /* A pod being replaced has two workers under one name: the newest one
     (the head of the list) is the pod the store shows. */
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (!w->gone && kd_str_eq (w->ns, ns) && kd_str_eq (w->name, pod))
      {
        found = w;
        break;
      }
  if (found == NULL)
    return KD_PODMGR_NO_POD;
  for (size_t i = 0; i < found->n_ctrs; i++)
    if (kd_str_eq (found->ctrs[i].spec->name, name))
      {
        fill (found, &found->ctrs[i], out);
        return 0;
      }
  return KD_PODMGR_NO_CONTAINER;
}

size_t
kd_podmgr_containers (kd_podmgr_t *m, kd_podmgr_ctr_t **out)
{
  size_t n = 0, k = 0;
  kd_podmgr_ctr_t *v;

  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (!w->gone)
      n += w->n_ctrs;
  v = xcalloc (n + 1, sizeof (*v));
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (!w->gone)
      for (size_t i = 0; i < w->n_ctrs; i++)
        fill (w, &w->ctrs[i], &v[k++]);
  *out = v;
  return k;
}

void
kd_podmgr_ctr_free (kd_podmgr_ctr_t *c)
{
  free (c->ns);
  free (c->pod);
  free (c->pod_uid);
  free (c->name);
  free (c->pod_dir);
  free (c->id);
  free (c->cgroup);
  memset (c, 0, sizeof (*c));
}

void
kd_podmgr_ctrs_free (kd_podmgr_ctr_t *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    kd_podmgr_ctr_free (&v[i]);
  free (v);
}

const char *
kd_podmgr_shim_path (const kd_podmgr_t *m)
{
  return m->shim_path;
}
