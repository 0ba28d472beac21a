/* The pod sandbox: what a pod holds besides its containers, set up in an
   order where each step can be undone by the same teardown.

   Up:   1. hostPorts reserved (a conflict refuses the pod before anything
            is made), 2. the pod's directories, 3. the pod cgroup, 4. the
            pod's /dev/shm (a tmpfs under the run dir, unless hostIPC),
            5. volumes (emptyDir, hostPath type checks), 6. the shim in new
            net/IPC/UTS namespaces (unless hostNetwork/hostIPC), 7. CNI ADD
            of lo and eth0 (unless hostNetwork), 8. hosts, hostname and
            resolv.conf with the pod's IPs. Then containers may start.
   Down: the reverse: shim shutdown (kills every container), CNI DEL (even
         when the netns is gone: the plugins' cached state is released),
         cgroups destroyed, shm unmounted, subPath mounts and volumes
         removed, the directories removed, hostPorts released.

   A failed step shows as a FailedCreatePodSandBox event and the pod
   condition; the sandbox is torn down and tried again later. */
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "worker-internal.h"

typedef enum
{
  DOWN_STOP,    /* the pod is gone: everything goes, then kd_w_stopped */
  DOWN_RETRY,   /* setup failed: keep volumes, retry later */
  DOWN_REBUILD, /* the shim died: keep volumes, set up again now */
} down_mode_t;

static void down_start (kd_pod_worker_t *w, down_mode_t mode);

static void
umount_quiet (const char *path)
{
  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    kd_warn ("umount `%s`: %s", path, strerror (errno));
}

/* ---- failures and retries ------------------------------------------------- */

static void
on_retry (uv_timer_t *t)
{
  kd_pod_worker_t *w = t->data;

  if (w->gone || w->state != W_SANDBOX)
    return;
  kd_sandbox_up (w);
}

static void
sandbox_fail (kd_pod_worker_t *w, const char *msg)
{
  kd_err ("pod %s/%s: sandbox: %s", w->ns, w->name, msg);
  kd_w_event (w, NULL, KD_EVENT_WARNING, KD_EV_FAILED_SANDBOX, "Failed to create pod sandbox: %s",
              msg);
  w->rec.sandbox_ready = false;
  kd_w_publish (w);
  down_start (w, w->state == W_SANDBOX ? DOWN_RETRY : DOWN_STOP);
}

static void
arm_retry (kd_pod_worker_t *w)
{
  if (!w->retry_init)
    {
      uv_timer_init (w->m->loop, &w->retry);
      w->retry.data = w;
      w->retry_init = true;
      w->handles++;
    }
  uv_timer_start (&w->retry, on_retry, (uint64_t) w->sandbox_retry_ms, 0);
  w->sandbox_retry_ms *= 2;
  if (w->sandbox_retry_ms > KD_SANDBOX_RETRY_MAX_MS)
    w->sandbox_retry_ms = KD_SANDBOX_RETRY_MAX_MS;
}

/* ---- up ---------------------------------------------------------------------- */

static void
limits_add (kd_cgroup_limits_t *l, const kd_pod_t *pod)
{
  int64_t mem = 0, cpu = 0, req = 0;
  bool all_mem = pod->spec.n_containers > 0, all_cpu = pod->spec.n_containers > 0;

  /* the pod cgroup carries the sum of the containers' limits when every
     container has one (the kubelet's pod-level limits) */
  for (size_t i = 0; i < pod->spec.n_containers; i++)
    {
      const kd_resource_requirements_t *r = &pod->spec.containers[i].resources;
      bool has_mem = false, has_cpu = false;
      for (size_t j = 0; j < r->limits.n; j++)
        {
          kd_quantity_t q;
          if (kd_quantity_parse (r->limits.v[j].value, &q) < 0)
            continue;
          if (kd_str_eq (r->limits.v[j].key, "memory"))
            mem += q.value, has_mem = true;
          else if (kd_str_eq (r->limits.v[j].key, "cpu"))
            cpu += q.milli, has_cpu = true;
        }
      for (size_t j = 0; j < r->requests.n; j++)
        {
          kd_quantity_t q;
          if (kd_str_eq (r->requests.v[j].key, "cpu")
              && kd_quantity_parse (r->requests.v[j].value, &q) == 0)
            req += q.milli;
        }
      all_mem = all_mem && has_mem;
      all_cpu = all_cpu && has_cpu;
    }
  memset (l, 0, sizeof (*l));
  if (all_mem)
    l->memory_limit = mem;
  if (all_cpu)
    {
      l->cpu_period_us = 100000;
      l->cpu_quota_us = kd_cgroup_quota_from_millis (cpu, 100000);
    }
  l->cpu_shares = kd_cgroup_shares_from_millis (req);
}

static void
set_ips (char ***v, size_t *n, const char *ip)
{
  for (size_t i = 0; i < *n; i++)
    free ((*v)[i]);
  free (*v);
  *v = NULL;
  *n = 0;
  if (ip == NULL)
    return;
  *v = xcalloc (2, sizeof (char *));
  (*v)[0] = xstrdup (ip);
  *n = 1;
}

static void
sandbox_ready (kd_pod_worker_t *w)
{
  kd_error_t err = NULL;

  if (kd_sandbox_write_files (w->pod, w->run_dir, w->rec.pod_ips, w->rec.n_pod_ips, NULL, &err) < 0)
    {
      cleanup_free char *msg = xstrdup (err->msg);
      kd_error_release (&err);
      sandbox_fail (w, msg);
      return;
    }
  set_ips (&w->rec.host_ips, &w->rec.n_host_ips, w->m->host_ip);
  w->rec.sandbox_ready = true;
  w->sandbox_op = false;
  w->state = W_RUNNING;
  w->sandbox_retry_ms = KD_SANDBOX_RETRY_MS;
  if (w->sandbox_changed)
    w->sandbox_changed = false;
  kd_checkpoint_save (w);
  kd_info ("pod %s/%s: sandbox ready (%s)", w->ns, w->name,
           w->rec.n_pod_ips ? w->rec.pod_ips[0] : "no IP");
  kd_w_publish (w);
  kd_w_step (w);
}

static void
on_attached (kd_cni_t *cni, const kd_cni_result_t *result, const char *err, void *data)
{
  kd_pod_worker_t *w = data;

  if (w->gone)
    {
      kd_w_unref (w);
      return;
    }
  w->net_attached = true; /* even a failed ADD may have left state: DEL it */
  if (w->state != W_SANDBOX)
    {
      if (w->state == W_STOPPING)
        kd_w_stop_progress (w);
      kd_w_unref (w);
      return;
    }
  if (err)
    sandbox_fail (w, err);
  else
    {
      set_ips (&w->rec.pod_ips, &w->rec.n_pod_ips, kd_cni_result_pod_ip (result));
      sandbox_ready (w);
    }
  kd_w_unref (w);
}

static void
cni_rt (kd_pod_worker_t *w, kd_cni_runtime_t *rt, char *netns, kd_cni_port_mapping_t *pm,
        size_t n_pm)
{
  memset (rt, 0, sizeof (*rt));
  rt->container_id = w->uid;
  rt->netns = netns;
  rt->ifname = "eth0";
  rt->pod_namespace = w->ns;
  rt->pod_name = w->name;
  rt->pod_uid = w->uid;
  rt->port_mappings = pm;
  rt->n_port_mappings = n_pm;
}

static void
on_shim_ready (kd_shim_t *shim, const char *err, void *data)
{
  kd_pod_worker_t *w = data;
  cleanup_free char *netns = NULL;
  cleanup_free kd_cni_port_mapping_t *pm = NULL;
  size_t n_pm = 0;
  kd_cni_runtime_t rt;

  if (w->gone || w->shim != shim)
    return;
  if (w->state != W_SANDBOX)
    {
      if (w->state == W_STOPPING)
        kd_w_stop_progress (w);
      return;
    }
  if (err)
    {
      sandbox_fail (w, err);
      return;
    }
  if (w->pod->spec.host_network)
    {
      set_ips (&w->rec.pod_ips, &w->rec.n_pod_ips, w->m->host_ip);
      sandbox_ready (w);
      return;
    }
  netns = xasprintf ("%s/ns/net", w->run_dir);
  kd_sandbox_port_mappings (w->pod, &pm, &n_pm);
  cni_rt (w, &rt, netns, pm, n_pm);
  kd_w_ref (w);
  kd_cni_attach (w->m->cni, w->m->net, &rt, on_attached, w);
}

static void
on_shim_exit (kd_shim_t *shim, const kd_shim_ctr_state_t *st, void *data)
{
  kd_pod_worker_t *w = data;
  kd_ctr_t *c;

  if (w->gone || w->shim != shim)
    return;
  c = kd_w_find_cid (w, st->id);
  if (c == NULL)
    {
      kd_vlog (2, "pod %s/%s: exit of unknown container %s", w->ns, w->name, st->id);
      return;
    }
  kd_ctr_on_exit (c, st);
}

static void
on_shim_lost (kd_shim_t *shim, void *data)
{
  kd_pod_worker_t *w = data;

  if (w->gone || w->shim != shim)
    return;
  kd_w_shim_lost (w);
}

void
kd_sandbox_shim_callbacks (kd_shim_callbacks_t *cbs, kd_pod_worker_t *w)
{
  cbs->on_exit = on_shim_exit;
  cbs->on_lost = on_shim_lost;
  cbs->data = w;
}

void
kd_sandbox_up (kd_pod_worker_t *w)
{
  kd_podmgr_t *m = w->m;
  const kd_pod_spec_t *s = &w->pod->spec;
  kd_error_t err = NULL;
  kd_cgroup_limits_t lim;
  kd_shim_callbacks_t cbs;
  cleanup_free char *ctrs = xasprintf ("%s/containers", w->run_dir);
  cleanup_free char *shm = xasprintf ("%s/shm", w->run_dir);
  cleanup_free char *hostname = kd_sandbox_hostname (w->pod);
  kd_shim_opts_t o;

  if (w->gone || w->state != W_SANDBOX)
    return;
  w->sandbox_op = true;
  /* 1. hostPorts */
  if (!w->ports_reserved)
    {
      if (kd_sandbox_ports_reserve (m->ports, w->pod, &err) < 0)
        goto fail;
      w->ports_reserved = true;
    }
  /* 2. directories */
  if (kd_mkdir_p (ctrs, 0711, &err) < 0 || kd_mkdir_p (w->root_dir, 0750, &err) < 0)
    goto fail;
  /* 3. the pod cgroup */
  if (w->pod_cg == NULL)
    {
      limits_add (&lim, w->pod);
      /* --pod-max-pids: the kubelet puts it on the pod cgroup, so a fork
         bomb stops there whatever the containers' own cgroups say */
      if (m->cfg->pod_pids_limit > 0)
        lim.pids_limit = m->cfg->pod_pids_limit;
      if (kd_cgroup_create (m->cgl, w->cg_path, &lim, &w->pod_cg, &err) < 0)
        goto fail;
    }
  /* 4. /dev/shm */
  if (!s->host_ipc && !w->shm_mounted)
    {
      if (kd_mkdir_p (shm, 0755, &err) < 0)
        goto fail;
      if (mount ("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")
          < 0)
        {
          kd_make_error (&err, errno, "mount tmpfs on `%s`", shm);
          goto fail;
        }
      w->shm_mounted = true;
    }
  /* 5. volumes */
  if (w->vols == NULL && s->n_volumes > 0)
    {
      if (kd_sandbox_volumes_setup (w->pod, m->cfg->root_dir, &w->vols, &w->n_vols, &err) < 0)
        {
          kd_w_event (w, NULL, KD_EVENT_WARNING, KD_EV_FAILED_MOUNT, "%s", err->msg);
          goto fail;
        }
    }
  /* 6. the shim */
  memset (&o, 0, sizeof (o));
  o.shim_path = m->shim_path;
  o.pod_dir = w->run_dir;
  o.hostname = hostname;
  o.new_net = !s->host_network;
  o.new_uts = !s->host_network;
  o.new_ipc = !s->host_ipc;
  o.cgroup_procs = kd_cgroup_procs_files (w->pod_cg);
  kd_sandbox_shim_callbacks (&cbs, w);
  w->shim_gen++;
  w->shim = kd_shim_start (m->loop, &o, &cbs, on_shim_ready, w);
  return;

fail:
  {
    cleanup_free char *msg = xstrdup (err->msg);
    kd_error_release (&err);
    sandbox_fail (w, msg);
  }
}

/* After a restart: the pieces of a sandbox that is still there. */
int
kd_sandbox_paths_rebuild (kd_pod_worker_t *w, kd_error_t *err)
{
  const kd_pod_spec_t *s = &w->pod->spec;
  kd_error_t e = NULL;

  if (kd_cgroup_open (w->m->cgl, w->cg_path, &w->pod_cg, &e) < 0)
    {
      kd_vlog (2, "pod %s/%s: reopen cgroup: %s", w->ns, w->name, e->msg);
      kd_error_release (&e);
      w->pod_cg = NULL;
    }
  if (kd_sandbox_ports_reserve (w->m->ports, w->pod, &e) < 0)
    kd_error_log_release (&e);
  else
    w->ports_reserved = true;
  w->shm_mounted = !s->host_ipc;
  w->net_attached = !s->host_network;
  if (s->n_volumes > 0)
    {
      w->vols = xcalloc (s->n_volumes, sizeof (kd_sandbox_volume_t));
      w->n_vols = s->n_volumes;
      for (size_t i = 0; i < s->n_volumes; i++)
        {
          const kd_volume_t *v = &s->volumes[i];
          w->vols[i].name = xstrdup (v->name ? v->name : "");
          if (v->host_path)
            w->vols[i].path = xstrdup (v->host_path->path ? v->host_path->path : "");
          else
            {
              w->vols[i].path = kd_sandbox_empty_dir_path (w->m->cfg->root_dir, w->uid, v->name);
              w->vols[i].tmpfs = v->empty_dir && kd_str_eq (v->empty_dir->medium, "Memory");
            }
        }
    }
  return 0;
}

/* ---- down ---------------------------------------------------------------------- */

typedef struct
{
  kd_pod_worker_t *w;
  down_mode_t mode;
} down_t;

static void
down_finish (down_t *d)
{
  kd_pod_worker_t *w = d->w;
  kd_podmgr_t *m = w->m;
  kd_error_t err = NULL;
  cleanup_free char *shm = xasprintf ("%s/shm", w->run_dir);
  static const char *const ns[] = { "net", "ipc", "uts" };

  w->sandbox_op = false;

  /* 3. cgroups: the containers' first, then the pod's */
  for (size_t i = 0; i < w->n_ctrs; i++)
    if (w->ctrs[i].cg)
      {
        if (kd_cgroup_destroy (w->ctrs[i].cg, &err) < 0)
          kd_error_log_release (&err);
        w->ctrs[i].cg = NULL;
      }
  if (w->pod_cg == NULL)
    {
      if (kd_cgroup_open (m->cgl, w->cg_path, &w->pod_cg, &err) < 0)
        kd_error_release (&err);
    }
  if (w->pod_cg)
    {
      if (kd_cgroup_destroy (w->pod_cg, &err) < 0)
        kd_error_log_release (&err);
      w->pod_cg = NULL;
    }
  /* the namespace handles of a shim that died without unmounting them */
  for (size_t i = 0; i < KD_ARRAY_SIZE (ns); i++)
    {
      cleanup_free char *p = xasprintf ("%s/ns/%s", w->run_dir, ns[i]);
      umount_quiet (p);
    }
  /* 4. shm and subPaths */
  umount_quiet (shm);
  w->shm_mounted = false;
  if (kd_sandbox_subpaths_cleanup (m->cfg->run_dir, w->uid, &err) < 0)
    kd_error_log_release (&err);
  kd_rm_tree (w->run_dir);
  if (d->mode == DOWN_STOP)
    {
      /* 5. volumes, the pod's directories, hostPorts */
      if (kd_sandbox_volumes_teardown (m->cfg->root_dir, w->uid, &err) < 0)
        kd_error_log_release (&err);
      kd_sandbox_volumes_free (w->vols, w->n_vols);
      w->vols = NULL;
      w->n_vols = 0;
      kd_rm_tree (w->root_dir);
      if (w->ports_reserved)
        kd_sandbox_ports_release (m->ports, w->ns, w->name);
      w->ports_reserved = false;
      w->state = W_STOPPED;
      kd_info ("pod %s/%s (uid %s): stopped and torn down", w->ns, w->name, w->uid);
      kd_w_stopped (w);
    }
  else if (!w->gone && w->state == W_SANDBOX)
    {
      if (d->mode == DOWN_RETRY)
        arm_retry (w);
      else
        {
          kd_w_event (w, NULL, KD_EVENT_NORMAL, KD_EV_SANDBOX_CHANGED, "%s",
                      KD_EVMSG_SANDBOX_CHANGED);
          kd_sandbox_up (w);
        }
    }
  else if (!w->gone && w->state == W_STOPPING)
    {
      d->mode = DOWN_STOP;
      down_finish (d);
      return;
    }
  kd_w_unref (w);
  free (d);
}

static void
on_detached (kd_cni_t *cni, const kd_cni_result_t *result, const char *err, void *data)
{
  down_t *d = data;

  if (err)
    kd_warn ("pod %s/%s: CNI DEL: %s", d->w->ns, d->w->name, err);
  d->w->net_attached = false;
  down_finish (d);
}

static void
down_net (down_t *d)
{
  kd_pod_worker_t *w = d->w;
  cleanup_free char *netns = xasprintf ("%s/ns/net", w->run_dir);
  cleanup_free kd_cni_port_mapping_t *pm = NULL;
  size_t n_pm = 0;
  kd_cni_runtime_t rt;

  /* 2. the network: always for a pod network, whatever state ADD left */
  if (w->pod->spec.host_network || w->m->cni == NULL)
    {
      down_finish (d);
      return;
    }
  kd_sandbox_port_mappings (w->pod, &pm, &n_pm);
  cni_rt (w, &rt, netns, pm, n_pm);
  kd_cni_detach (w->m->cni, w->m->net, &rt, on_detached, d);
}

static void
on_shutdown (kd_shim_t *shim, const char *err, void *data)
{
  down_t *d = data;
  kd_pod_worker_t *w = d->w;

  if (err)
    kd_warn ("pod %s/%s: shim shutdown: %s", w->ns, w->name, err);
  if (w->shim == shim)
    {
      w->shim = NULL;
      w->shim_gen++;
      kd_shim_free (shim);
    }
  down_net (d);
}

static void
down_start (kd_pod_worker_t *w, down_mode_t mode)
{
  down_t *d = xcalloc (1, sizeof (*d));

  d->w = w;
  d->mode = mode;
  kd_w_ref (w);
  w->rec.sandbox_ready = false;
  /* 1. the shim: SIGKILL to whatever still runs, then it exits */
  if (w->shim)
    {
      kd_shim_shutdown (w->shim, on_shutdown, d);
      return;
    }
  down_net (d);
}

void
kd_sandbox_down (kd_pod_worker_t *w, bool then_up)
{
  down_start (w, then_up ? DOWN_REBUILD : DOWN_STOP);
}
