/* The pod manager: workers by uid, the store's changes, recovery at start
   and the two ways of stopping.

   Same-name replacement: an edited file arrives as UPDATED (new uid); the
   new worker waits (W_WAITING) until the old one has stopped with its
   grace period and torn its sandbox down, then starts. A pod removed and
   added again while still stopping waits the same way, and so does a pod
   whose predecessor is an orphan being torn down after a restart.

   Recovery (before the store's callback is installed): every
   <run-dir>/pods/<uid> is looked at. A live shim (shim.pid alive) of a
   still desired pod is adopted: reconnected, asked for its containers'
   states, and the checkpoint's runs are matched by id (running: adopted
   with probes restarted; exited meanwhile: reported with the true exit
   code and restarted per policy). A dead shim of a desired pod: its
   running containers are reported lost and the sandbox is rebuilt. A pod
   nobody wants any more is torn down like a stopped one. */
#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>

#include "kubeletd/metrics.h"
#include "worker-internal.h"

const char *
kd_w_pull_policy (const kd_container_t *c)
{
  if (c->image_pull_policy && *c->image_pull_policy)
    return c->image_pull_policy;
  return kd_default_pull_policy (c->image ? c->image : "");
}

static void
maybe_finish (kd_podmgr_t *m)
{
  if (!m->shutting_down)
    return;
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (!w->gone)
      return;
  if (m->cni)
    {
      /* every pod is down: the built-in network's shared NAT chains go
         too, unless pods were left running for the next start */
      if (m->stop_pods && m->net && m->net->kubeletd_nat)
        kd_cni_builtin_teardown (m->cni);
      kd_cni_free (m->cni);
      m->cni = NULL;
    }
}

static kd_pod_worker_t *
find_uid (kd_podmgr_t *m, const char *uid)
{
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (!w->gone && kd_str_eq (w->uid, uid))
      return w;
  return NULL;
}

static kd_pod_worker_t *
find_name (kd_podmgr_t *m, const char *ns, const char *name, const kd_pod_worker_t * not )
{
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    if (w != not &&!w->gone && kd_str_eq (w->ns, ns) && kd_str_eq (w->name, name))
      return w;
  return NULL;
}

void
kd_w_stopped (kd_pod_worker_t *w)
{
  kd_podmgr_t *m = w->m;

  if (w->gone)
    return;
  w->state = W_STOPPED;
  w->gone = true;
  /* the pod is gone: its per-pod series go with it (a replacement with the
     same name starts only now, so nothing of it is lost) */
  if (!w->detached)
    kd_metrics_forget_pod (w->ns, w->name);
  kd_w_close_timer (w, &w->deadline, &w->deadline_init);
  kd_w_close_timer (w, &w->retry, &w->retry_init);
  /* torn down: its folder (and checkpoint) is gone, nothing to write */
  kd_checkpoint_discard (w);
  for (size_t i = 0; i < w->n_ctrs; i++)
    kd_ctr_release (&w->ctrs[i]);
  if (w->shim)
    {
      kd_shim_t *s = w->shim;
      w->shim = NULL;
      kd_shim_free (s);
    }
  for (kd_pod_worker_t *o = m->workers; o; o = o->next)
    if (o->waiting_for == w && o->state == W_WAITING)
      {
        o->waiting_for = NULL;
        if (!m->shutting_down)
          kd_w_start (o);
        else
          {
            o->state = W_STOPPED;
            o->gone = true;
            kd_w_unref (o);
          }
      }
  kd_w_unref (w);
  maybe_finish (m);
}

/* ---- the store's changes -------------------------------------------------------- */

static void
add_pod (kd_podmgr_t *m, const kd_pod_t *pod, kd_pod_worker_t *pred)
{
  kd_pod_worker_t *w = kd_w_new (m, pod);

  if (pred == NULL)
    pred = find_name (m, w->ns, w->name, w);
  if (pred)
    {
      kd_info ("pod %s/%s (uid %s) waits for uid %s to stop", w->ns, w->name, w->uid, pred->uid);
      w->state = W_WAITING;
      w->waiting_for = pred;
      return;
    }
  kd_w_start (w);
}

static void
on_change (kd_pod_op_t op, const kd_pod_t *pod, const kd_pod_t *old, void *data)
{
  kd_podmgr_t *m = data;
  kd_pod_worker_t *w;

  if (m->shutting_down)
    return;
  switch (op)
    {
    case KD_POD_ADDED:
      add_pod (m, pod, NULL);
      return;
    case KD_POD_UPDATED:
      w = old ? find_uid (m, old->metadata.uid) : NULL;
      add_pod (m, pod, w);
      if (w)
        kd_w_stop (w);
      return;
    case KD_POD_REMOVED:
      w = find_uid (m, pod->metadata.uid);
      if (w)
        kd_w_stop (w);
      return;
    }
}

/* ---- recovery ------------------------------------------------------------------------ */

static bool
shim_alive (const char *pod_dir)
{
  cleanup_free char *path = xasprintf ("%s/shim.pid", pod_dir);
  cleanup_free char *data = NULL;
  size_t len = 0;
  kd_error_t err = NULL;
  long pid;

  if (kd_read_file (path, 64, &data, &len, &err) < 0)
    {
      kd_error_release (&err);
      return false;
    }
  pid = strtol (data, NULL, 10);
  return pid > 0 && (kill ((pid_t) pid, 0) == 0 || errno == EPERM);
}

static void
adopt_failed (kd_pod_worker_t *w, const char *why)
{
  kd_warn ("pod %s/%s: cannot adopt the running sandbox (%s): rebuilding it", w->ns, w->name, why);
  if (w->shim)
    {
      kd_shim_t *s = w->shim;
      w->shim = NULL;
      kd_shim_free (s);
    }
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      if (c->phase == C_RUNNING)
        {
          kd_ctr_adopt (c, NULL);
          kd_ctr_lost (c, 137, KD_REASON_ERROR, "shim died");
        }
    }
  w->sandbox_changed = true;
  kd_sandbox_down (w, true);
}

static void
on_adopt_state (kd_shim_t *shim, const kd_shim_ctr_state_t *states, size_t n, const char *err,
                void *data)
{
  kd_pod_worker_t *w = data;

  if (w->gone || w->shim != shim || w->state != W_SANDBOX)
    {
      kd_w_unref (w);
      return;
    }
  if (err)
    {
      adopt_failed (w, err);
      kd_w_unref (w);
      return;
    }
  w->state = W_RUNNING;
  w->sandbox_op = false;
  w->rec.sandbox_ready = true;
  if (w->m->host_ip)
    {
      w->rec.host_ips = xcalloc (2, sizeof (char *));
      w->rec.host_ips[0] = xstrdup (w->m->host_ip);
      w->rec.n_host_ips = 1;
    }
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      kd_ctr_t *c = &w->ctrs[i];
      const kd_shim_ctr_state_t *st = NULL;

      if (c->phase != C_RUNNING || c->cid == NULL)
        {
          if (c->phase == C_IDLE && c->backoff.set && c->rec->has_last)
            {
              /* it was waiting out a back-off: the timer re-checks it */
              c->phase = C_BACKOFF;
              kd_ctr_set_timer (c, T_RESTART, 0);
            }
          continue;
        }
      for (size_t k = 0; k < n; k++)
        if (kd_str_eq (states[k].id, c->cid))
          st = &states[k];
      kd_ctr_adopt (c, st);
      if (st && !st->running)
        {
          kd_info ("pod %s/%s: container %s exited while kubeletd was away (code %d)", w->ns,
                   w->name, c->spec->name, st->exit_code);
          kd_ctr_on_exit (c, st);
        }
      else if (st == NULL)
        kd_ctr_lost (c, 137, KD_REASON_ERROR, "container state lost");
    }
  kd_info ("pod %s/%s (uid %s): adopted", w->ns, w->name, w->uid);
  kd_checkpoint_save (w);
  kd_w_publish (w);
  kd_w_step (w);
  kd_w_unref (w);
}

static void
on_adopt_ready (kd_shim_t *shim, const char *err, void *data)
{
  kd_pod_worker_t *w = data;

  if (w->gone || w->shim != shim)
    return;
  if (err)
    {
      adopt_failed (w, err);
      return;
    }
  kd_w_ref (w);
  kd_shim_state (shim, on_adopt_state, w);
}

static void
recover_desired (kd_podmgr_t *m, const kd_pod_t *pod, bool alive)
{
  kd_pod_worker_t *w = kd_w_new (m, pod);
  kd_shim_callbacks_t cbs;
  kd_error_t err = NULL;

  if (!kd_checkpoint_load (w))
    {
      /* nothing to match the containers with: start over */
      w->gone = true;
      kd_w_unref (w);
      kd_orphan_teardown (m, pod->metadata.uid, alive);
      add_pod (m, pod, NULL);
      return;
    }
  if (w->rec.start_time == 0)
    w->rec.start_time = kd_now_ns ();
  w->state = W_SANDBOX;
  w->sandbox_op = true;
  kd_w_arm_deadline (w);
  if (kd_sandbox_paths_rebuild (w, &err) < 0)
    kd_error_log_release (&err);
  if (!alive)
    {
      adopt_failed (w, "the shim is gone");
      return;
    }
  kd_sandbox_shim_callbacks (&cbs, w);
  w->shim = kd_shim_connect (m->loop, w->run_dir, &cbs, on_adopt_ready, w);
}

static void
recover (kd_podmgr_t *m)
{
  cleanup_free char *dir = xasprintf ("%s/pods", m->cfg->run_dir);
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t n;
  const kd_pod_t *const *pods;

  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *pod_dir = NULL;
      const kd_pod_t *pod;
      bool alive;

      if (de->d_name[0] == '.')
        continue;
      pod_dir = xasprintf ("%s/%s", dir, de->d_name);
      alive = shim_alive (pod_dir);
      pod = kd_pod_store_get_uid (m->store, de->d_name);
      kd_info ("recovery: pod %s: shim %s, %s", de->d_name, alive ? "alive" : "gone",
               pod ? "still desired" : "no longer desired");
      if (pod)
        recover_desired (m, pod, alive);
      else
        kd_orphan_teardown (m, de->d_name, alive);
    }
  if (d)
    closedir (d);
  /* the desired pods without a sandbox */
  pods = kd_pod_store_list (m->store, &n);
  for (size_t i = 0; i < n; i++)
    if (find_uid (m, pods[i]->metadata.uid) == NULL)
      add_pod (m, pods[i], NULL);
}

/* A pod nobody wants: a worker without containers tears its sandbox down. */
static void
on_orphan_ready (kd_shim_t *shim, const char *err, void *data)
{
  kd_pod_worker_t *w = data;

  if (err && !w->gone)
    kd_warn ("pod %s/%s: connect to the shim: %s", w->ns, w->name, err);
}

void
kd_orphan_teardown (kd_podmgr_t *m, const char *uid, bool alive)
{
  kd_checkpoint_info_t info;
  kd_pod_t *pod = xcalloc (1, sizeof (*pod));
  kd_pod_worker_t *w;
  kd_error_t err = NULL;

  if (kd_checkpoint_read_info (m->cfg->root_dir, uid, &info) < 0)
    memset (&info, 0, sizeof (info));
  pod->metadata.uid = xstrdup (uid);
  pod->metadata.namespace_ = xstrdup (info.ns ? info.ns : "default");
  pod->metadata.name = xstrdup (info.name ? info.name : uid);
  w = kd_w_new (m, pod);
  kd_pod_free (pod);
  if (info.cg_path)
    {
      free (w->cg_path);
      w->cg_path = xstrdup (info.cg_path);
    }
  for (size_t i = 0; i < info.cids.n; i++)
    {
      kd_cgroup_t *cg = NULL;
      cleanup_free char *p = xasprintf ("%s/%s", w->cg_path, info.cids.v[i]);
      if (kd_cgroup_open (m->cgl, p, &cg, &err) < 0)
        kd_error_release (&err);
      else if (kd_cgroup_destroy (cg, &err) < 0)
        kd_error_log_release (&err);
    }
  kd_checkpoint_info_free (&info);
  if (alive)
    {
      kd_shim_callbacks_t cbs;
      kd_sandbox_shim_callbacks (&cbs, w);
      w->shim = kd_shim_connect (m->loop, w->run_dir, &cbs, on_orphan_ready, w);
    }
  kd_info ("pod %s/%s (uid %s): no longer desired, tearing down", w->ns, w->name, w->uid);
  w->state = W_TEARDOWN;
  w->shm_mounted = true;
  w->net_attached = true;
  kd_sandbox_down (w, false);
}

/* ---- the manager ---------------------------------------------------------------------- */

static char *
default_route_ip (void)
{
  FILE *f = fopen ("/proc/net/route", "re");
  char line[512], ifname[64] = "";
  struct ifaddrs *ifa = NULL;
  char *ip = NULL;

  while (f && fgets (line, sizeof (line), f))
    {
      unsigned long dst;
      if (sscanf (line, "%63s %lx", ifname, &dst) == 2 && dst == 0)
        break;
      ifname[0] = '\0';
    }
  if (f)
    fclose (f);
  if (getifaddrs (&ifa) < 0)
    return NULL;
  for (int pass = 0; pass < 2 && ip == NULL; pass++)
    for (struct ifaddrs *a = ifa; a; a = a->ifa_next)
      {
        char buf[INET_ADDRSTRLEN];
        if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET
            || (a->ifa_flags & IFF_LOOPBACK))
          continue;
        if (pass == 0 && strcmp (a->ifa_name, ifname) != 0)
          continue;
        inet_ntop (AF_INET, &((struct sockaddr_in *) a->ifa_addr)->sin_addr, buf, sizeof (buf));
        ip = xstrdup (buf);
        break;
      }
  freeifaddrs (ifa);
  return ip;
}

static char *
shim_path (const char *given)
{
  const char *env = getenv ("KUBELETD_SHIM");
  char exe[4096];
  ssize_t n;
  char *slash;

  if (given && *given)
    return xstrdup (given);
  if (env && *env)
    return xstrdup (env);
  n = readlink ("/proc/self/exe", exe, sizeof (exe) - 1);
  if (n <= 0)
    return xstrdup ("kubeletd-shim");
  exe[n] = '\0';
  slash = strrchr (exe, '/');
  if (slash)
    *slash = '\0';
  return xasprintf ("%s/kubeletd-shim", exe);
}

int
kd_podmgr_new (const kd_podmgr_opts_t *opts, kd_podmgr_t **out, kd_error_t *err)
{
  kd_podmgr_t *m = xcalloc (1, sizeof (*m));
  const kd_config_t *cfg = opts->cfg;
  kd_cni_opts_t co = { 0 };

  m->loop = opts->loop;
  m->store = opts->store;
  m->images = opts->images;
  m->cfg = cfg;
  m->shim_path = shim_path (opts->shim_path);
  m->bridge = xstrdup (opts->network_bridge ? opts->network_bridge : KD_CNI_DEFAULT_BRIDGE);
  m->host_ip = default_route_ip ();
  m->events = kd_events_new (cfg->node_name, 0);
  m->ports = kd_sandbox_ports_new ();
  m->crash_cfg = kd_backoff_crashloop_cfg (cfg->crashloop_backoff_initial_ms * 1000000LL,
                                           cfg->crashloop_backoff_max_ms * 1000000LL);
  m->image_cfg = kd_backoff_image_cfg ();
  if (kd_cgroup_detect (opts->cgroup_mount ? opts->cgroup_mount : "/sys/fs/cgroup", &m->cgl, err)
      < 0)
    goto fail;
  co.conf_dir = cfg->cni_conf_dir;
  co.bin_dir = cfg->cni_bin_dir;
  co.root_dir = cfg->root_dir;
  co.pod_cidr = cfg->pod_cidr;
  co.bridge = m->bridge;
  co.timeout_ms = kd_sandbox_cni_timeout_env ();
  m->cni = kd_cni_new (m->loop, &co);
  if (kd_cni_load_network (m->cni, &m->net, err) < 0)
    goto fail;
  if (kd_mkdir_p (cfg->pod_logs_dir, 0755, err) < 0)
    goto fail;
  kd_info ("pod manager: shim `%s`, network `%s` (%s), node IP %s", m->shim_path, m->net->name,
           m->net->source, m->host_ip ? m->host_ip : "unknown");
  recover (m);
  kd_sandbox_gc (m);
  kd_pod_store_on_change (m->store, on_change, m);
  *out = m;
  return 0;

fail:
  m->shutting_down = true;
  maybe_finish (m);
  kd_podmgr_free (m);
  return -1;
}

kd_events_t *
kd_podmgr_events (kd_podmgr_t *m)
{
  return m->events;
}

void
kd_podmgr_shutdown (kd_podmgr_t *m, bool stop_pods)
{
  kd_pod_worker_t **all;
  size_t n = 0, i = 0;

  if (m == NULL || m->shutting_down)
    return;
  m->shutting_down = true;
  m->stop_pods = stop_pods;
  /* the image service closes right after: in-use counts die with it */
  m->images = NULL;
  kd_pod_store_on_change (m->store, NULL, NULL);
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    n++;
  all = xcalloc (n + 1, sizeof (*all));
  for (kd_pod_worker_t *w = m->workers; w; w = w->next)
    {
      all[i++] = w;
      kd_w_ref (w);
    }
  kd_info ("pod manager: %s %zu pods", stop_pods ? "stopping" : "leaving running", n);
  for (i = 0; i < n; i++)
    {
      if (!all[i]->gone)
        {
          if (stop_pods)
            kd_w_stop (all[i]);
          else
            kd_w_detach (all[i]);
        }
    }
  for (i = 0; i < n; i++)
    kd_w_unref (all[i]);
  free (all);
  maybe_finish (m);
}

void
kd_podmgr_free (kd_podmgr_t *m)
{
  if (m == NULL)
    return;
  if (m->cni)
    kd_cni_free (m->cni);
  kd_cni_net_free (m->net);
  kd_events_free (m->events);
  kd_sandbox_ports_free (m->ports);
  kd_cgroup_layout_free (m->cgl);
  free (m->shim_path);
  free (m->bridge);
  free (m->host_ip);
  free (m);
}
