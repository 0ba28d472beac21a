/* One container's runs: image, spec, cgroup, bundle, create; exits into
   records and restart decisions; stop with preStop, the stop signal and
   SIGKILL at the grace deadline.

   A run: 1. image ensure (ImagePullBackOff while the pull back-off runs),
   2. a fresh 64-hex id, its cgroup with the container's limits, the
   bundle <run-dir>/pods/<uid>/containers/<id> and the overlay's upper
   and work dirs under <root-dir>/pods/<uid>/containers/<id>, 3.
   kd_ctrspec_build + kd_ctr_spec_save, 4. kd_shim_create. The exit
   event (recorded durably by the shim first) ends the run: its state
   becomes the record's terminated state, and kd_should_restart and the
   crash-loop back-off decide what comes next. */
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "kubeletd/metrics.h"
#include "worker-internal.h"

/* kubecontainer.MaxContainerTerminationMessageLength, ...LogLines and
   ...LogLength: the file's last 4096 bytes, else (FallbackToLogsOnError,
   a failed container) the last 2048 bytes of the last 80 log lines. */
#define KD_TERMINATION_MESSAGE_MAX 4096
#define KD_TERMINATION_LOG_LINES   80
#define KD_TERMINATION_LOG_BYTES   2048

op_t *
kd_op_new (kd_ctr_t *c)
{
  op_t *o = xcalloc (1, sizeof (*o));
  o->c = c;
  o->gen = c->gen;
  o->t0 = kd_monotonic_ns ();
  kd_w_ref (c->w);
  return o;
}

/* Frees o; returns c when the operation is still current, else NULL. */
kd_ctr_t *
kd_op_end (op_t *o)
{
  kd_ctr_t *c = o->c;
  kd_pod_worker_t *w = c->w;
  bool current = !w->gone && c->gen == o->gen;

  free (o);
  kd_w_unref (w);
  return current ? c : NULL;
}

static void
state_set (kd_ctr_state_rec_t *s, kd_ctr_state_kind_t kind, const char *reason, const char *message)
{
  free (s->reason);
  free (s->message);
  free (s->container_id);
  memset (s, 0, sizeof (*s));
  s->kind = kind;
  s->reason = reason ? xstrdup (reason) : NULL;
  s->message = message ? xstrdup (message) : NULL;
}

void
kd_ctr_waiting (kd_ctr_t *c, const char *reason, const char *message)
{
  state_set (&c->rec->state, KD_CTR_WAITING, reason, message);
}

bool
kd_ctr_active (const kd_ctr_t *c)
{
  return c->phase == C_PULLING || c->phase == C_CREATING || c->phase == C_RUNNING;
}

/* ---- timers ---------------------------------------------------------------- */

static void on_timer (uv_timer_t *t);

void
kd_ctr_set_timer (kd_ctr_t *c, kd_ctr_timer_t kind, int64_t ms)
{
  kd_pod_worker_t *w = c->w;

  if (!c->timer_init)
    {
      uv_timer_init (w->m->loop, &c->timer);
      c->timer.data = c;
      c->timer_init = true;
      w->handles++;
    }
  c->timer_kind = kind;
  uv_timer_start (&c->timer, on_timer, (uint64_t) (ms > 0 ? ms : 0), 0);
}

static void
cancel_timer (kd_ctr_t *c)
{
  if (c->timer_init)
    uv_timer_stop (&c->timer);
  c->timer_kind = T_NONE;
}

/* ---- releasing a run ----------------------------------------------------------- */

static void
on_deleted (kd_shim_t *shim, const char *err, void *data)
{
  kd_pod_worker_t *w = data;
  kd_w_unref (w);
}

/* After an exit: the run's cgroup, bundle and upper dir go; the log stays
   (kubeletctl logs -p). */
static void
run_cleanup (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;
  kd_error_t err = NULL;

  if (c->cg)
    {
      if (kd_cgroup_destroy (c->cg, &err) < 0)
        kd_error_log_release (&err);
      c->cg = NULL;
    }
  if (c->img && w->m->images)
    kd_image_service_use (w->m->images, c->img, -1);
  c->img = NULL;
  if (c->cid)
    {
      cleanup_free char *bundle = xasprintf ("%s/containers/%s", w->run_dir, c->cid);
      cleanup_free char *upper = xasprintf ("%s/containers/%s", w->root_dir, c->cid);
      if (w->shim)
        {
          kd_w_ref (w);
          kd_shim_delete (w->shim, c->cid, on_deleted, w);
        }
      kd_rm_tree (bundle);
      kd_rm_tree (upper);
    }
}

/* An abandoned hook calls nothing back: its operation goes here. */
void
kd_ctr_hook_cancel (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;

  if (c->hook == NULL)
    return;
  kd_hook_cancel (c->hook);
  c->hook = NULL;
  free (c->hook_op);
  c->hook_op = NULL;
  kd_w_unref (w);
}

void
kd_ctr_release (kd_ctr_t *c)
{
  kd_probes_stop (c);
  kd_ctr_hook_cancel (c);
  kd_w_close_timer (c->w, &c->timer, &c->timer_init);
  if (c->img && c->w->m->images)
    kd_image_service_use (c->w->m->images, c->img, -1);
  c->img = NULL;
  if (c->cg)
    kd_cgroup_free (c->cg);
  c->cg = NULL;
}

/* ---- the termination message -------------------------------------------------- */

static char *
log_tail (const char *path, size_t max_lines, size_t max_bytes)
{
  cleanup_free char *data = NULL;
  kd_error_t err = NULL;
  size_t len = 0, lines = 0;
  kd_buf_t out = { 0 };
  char *start;

  if (kd_read_file (path, 16 * 1024 * 1024, &data, &len, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  /* the last max_lines CRI lines, their content only */
  start = data + len;
  while (start > data && lines <= max_lines)
    {
      start--;
      if (*start == '\n' && start != data + len - 1)
        lines++;
    }
  if (lines > max_lines)
    start++;
  for (char *l = start; l < data + len;)
    {
      char *nl = memchr (l, '\n', (size_t) (data + len - l));
      char *end = nl ? nl : data + len;
      char *p = l;
      int fields = 0;
      while (p < end && fields < 3)
        {
          char *sp = memchr (p, ' ', (size_t) (end - p));
          if (sp == NULL)
            break;
          p = sp + 1;
          fields++;
        }
      if (fields == 3)
        {
          kd_buf_append (&out, p, (size_t) (end - p));
          /* "F" lines end a line; "P" lines continue */
          if (strstr (l, " F ") && strstr (l, " F ") < p)
            kd_buf_putc (&out, '\n');
        }
      l = nl ? nl + 1 : end;
    }
  if (out.len > max_bytes)
    {
      char *r = xstrdup (out.s + out.len - max_bytes);
      kd_buf_free (&out);
      return r;
    }
  return out.s ? kd_buf_steal (&out) : NULL;
}

/* tail.ReadAtMost: the last max bytes of the file (the kubelet keeps the
   end of a long message, where the reason for the exit usually is). A
   missing file reads as empty. */
static char *
read_tail (const char *path, size_t max, size_t *len, kd_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  char *buf;
  off_t from;
  ssize_t r;
  size_t got = 0;

  *len = 0;
  if (fd < 0)
    {
      if (errno == ENOENT)
        return xstrdup ("");
      kd_make_error (err, errno, "open `%s`", path);
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      kd_make_error (err, 0, "`%s` is not a regular file", path);
      return NULL;
    }
  from = st.st_size > (off_t) max ? st.st_size - (off_t) max : 0;
  buf = xmalloc (max + 1);
  while (got < max && (r = pread (fd, buf + got, max - got, from + (off_t) got)) != 0)
    {
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          kd_make_error (err, errno, "read `%s`", path);
          free (buf);
          return NULL;
        }
      got += (size_t) r;
    }
  buf[got] = '\0';
  *len = got;
  return buf;
}

static char *
termination_message (kd_ctr_t *c, int exit_code)
{
  kd_pod_worker_t *w = c->w;
  cleanup_free char *path = NULL;
  char *data = NULL;
  size_t len = 0;
  kd_error_t err = NULL;

  if (c->cid == NULL)
    return NULL;
  path = xasprintf ("%s/containers/%s/termination-log", w->root_dir, c->cid);
  data = read_tail (path, KD_TERMINATION_MESSAGE_MAX, &len, &err);
  if (data == NULL)
    {
      kd_vlog (2, "pod %s/%s: container %s: termination message: %s", w->ns, w->name, c->spec->name,
               err->msg);
      kd_error_release (&err);
    }
  else if (len > 0)
    return data;
  free (data);
  if (exit_code != 0 && kd_str_eq (c->spec->termination_message_policy, "FallbackToLogsOnError"))
    {
      cleanup_free char *log = xasprintf ("%s/%s_%s_%s/%s/%d.log", w->m->cfg->pod_logs_dir, w->ns,
                                          w->name, w->uid, c->spec->name, c->rec->restart_count);
      return log_tail (log, KD_TERMINATION_LOG_LINES, KD_TERMINATION_LOG_BYTES);
    }
  return NULL;
}

/* ---- exits ----------------------------------------------------------------------- */

static void
exit_common (kd_ctr_t *c, const kd_shim_ctr_state_t *st, const char *reason, const char *message)
{
  kd_pod_worker_t *w = c->w;
  kd_ctr_record_t *r = c->rec;
  kd_ctr_state_rec_t *s;
  cleanup_free char *msg = NULL;
  int64_t now = kd_now_ns ();
  const char *policy = w->pod->spec.restart_policy;

  if (c->phase != C_RUNNING && c->phase != C_CREATING)
    return;
  kd_probes_stop (c);
  kd_ctr_hook_cancel (c);
  cancel_timer (c);
  msg = message ? xstrdup (message) : termination_message (c, st->exit_code);
  state_set (&r->state, KD_CTR_TERMINATED,
             reason ? reason
                    : kd_terminated_reason (st->exit_code, st->oom_killed, st->error != NULL),
             msg);
  s = &r->state;
  s->exit_code = st->exit_code;
  s->signal = st->signal;
  s->started_at = st->started_ns ? st->started_ns : r->state.started_at;
  s->finished_at = st->finished_ns ? st->finished_ns : now;
  s->container_id = c->cid ? xasprintf ("kubeletd://%s", c->cid) : NULL;
  r->ready = false;
  r->started = false;
  c->stopping = false;
  c->poststart_done = false;
  kd_info ("pod %s/%s: container %s exited (code %d%s)", w->ns, w->name, c->spec->name,
           st->exit_code, st->oom_killed ? ", OOM killed" : "");
  run_cleanup (c);

  if (c->no_restart || w->terminal || (w->state != W_RUNNING && w->state != W_SANDBOX))
    c->phase = C_DONE;
  else if (c->is_init && !c->is_sidecar && st->exit_code == 0)
    {
      c->succeeded = true;
      c->phase = C_DONE;
    }
  else if (kd_should_restart (policy, st->exit_code, c->is_init, c->is_sidecar))
    {
      int64_t wait_ns = 0, shown_ns = 0;
      int64_t finished = s->finished_at;

      /* the run just ended is the previous run from now on */
      state_set (&r->last_state, KD_CTR_WAITING, NULL, NULL);
      r->last_state = r->state;
      r->has_last = true;
      memset (&r->state, 0, sizeof (r->state));
      r->state.kind = KD_CTR_WAITING;
      if (kd_crashloop_check (&w->m->crash_cfg, &c->backoff, finished, now, &wait_ns, &shown_ns))
        {
          cleanup_free char *cl = kd_crashloop_message (shown_ns, c->spec->name, w->pod);
          cleanup_free char *pf = kd_pod_format (w->pod);
          kd_ctr_waiting (c, KD_REASON_CRASH_LOOP_BACK_OFF, cl);
          kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_BACKOFF, KD_EVMSG_CRASH_BACKOFF, c->spec->name,
                      pf);
          c->phase = C_BACKOFF;
          kd_ctr_set_timer (c, T_RESTART, wait_ns / 1000000 + 1);
        }
      else
        c->phase = C_IDLE;
    }
  else
    c->phase = C_DONE;

  kd_checkpoint_save (w);
  kd_w_publish (w);
  if (w->state == W_STOPPING)
    kd_w_stop_progress (w);
  else
    kd_w_step (w);
}

void
kd_ctr_on_exit (kd_ctr_t *c, const kd_shim_ctr_state_t *st)
{
  exit_common (c, st, NULL, st->error);
}

void
kd_ctr_lost (kd_ctr_t *c, int exit_code, const char *reason, const char *message)
{
  kd_shim_ctr_state_t st = { 0 };

  st.exit_code = exit_code;
  st.started_ns = c->rec->state.started_at;
  st.finished_ns = kd_now_ns ();
  exit_common (c, &st, reason, message);
}

/* ---- create ------------------------------------------------------------------------ */

static void restart_later (kd_ctr_t *c);

static void
on_created (kd_shim_t *shim, pid_t pid, int64_t started_ns, const char *err, void *data)
{
  op_t *o = data;
  kd_ctr_t *c = kd_op_end (o);
  kd_pod_worker_t *w;

  if (c == NULL || c->phase != C_CREATING)
    return;
  w = c->w;
  kd_metrics_counter_inc ("kubelet_started_containers_total",
                          c->is_init ? "init_container" : "container");
  if (err)
    {
      kd_shim_ctr_state_t st = { 0 };
      kd_metrics_counter_inc ("kubelet_started_containers_errors_total", KD_REASON_START_ERROR,
                              c->is_init ? "init_container" : "container");
      kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED, KD_EVMSG_ERROR, err);
      st.exit_code = 128;
      st.started_ns = 0;
      st.finished_ns = kd_now_ns ();
      st.error = (char *) err;
      exit_common (c, &st, KD_REASON_START_ERROR, err);
      return;
    }
  c->phase = C_RUNNING;
  c->ever_started = true;
  state_set (&c->rec->state, KD_CTR_RUNNING, NULL, NULL);
  c->rec->state.started_at = started_ns ? started_ns : kd_now_ns ();
  c->rec->ready = false;
  c->rec->started = false;
  kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_STARTED, KD_EVMSG_STARTED, c->spec->name);
  kd_checkpoint_save (w);
  if (c->no_restart)
    {
      kd_ctr_stop (c, 0, NULL);
      return;
    }
  if (c->spec->lifecycle && c->spec->lifecycle->post_start)
    kd_poststart_run (c);
  else
    kd_probes_on_started (c);
  kd_w_publish (w);
  kd_w_step (w);
}

static void
random_id (char out[65])
{
  unsigned char b[32];
  size_t got = 0;

  while (got < sizeof (b))
    {
      ssize_t n = getrandom (b + got, sizeof (b) - got, 0);
      if (n > 0)
        got += (size_t) n;
    }
  for (size_t i = 0; i < sizeof (b); i++)
    sprintf (out + 2 * i, "%02x", b[i]);
}

static void
ctr_limits (const kd_container_t *ct, kd_cgroup_limits_t *l)
{
  const kd_resource_requirements_t *r = &ct->resources;

  memset (l, 0, sizeof (*l));
  l->cpu_shares = 2;
  for (size_t j = 0; j < r->limits.n; j++)
    {
      kd_quantity_t q;
      if (kd_quantity_parse (r->limits.v[j].value, &q) < 0)
        continue;
      if (kd_str_eq (r->limits.v[j].key, "memory"))
        l->memory_limit = q.value;
      else if (kd_str_eq (r->limits.v[j].key, "cpu"))
        {
          l->cpu_period_us = 100000;
          l->cpu_quota_us = kd_cgroup_quota_from_millis (q.milli, 100000);
        }
    }
  for (size_t j = 0; j < r->requests.n; j++)
    {
      kd_quantity_t q;
      if (kd_str_eq (r->requests.v[j].key, "cpu")
          && kd_quantity_parse (r->requests.v[j].value, &q) == 0)
        l->cpu_shares = kd_cgroup_shares_from_millis (q.milli);
    }
}

/* subPaths go through the sandbox's safe resolution: the spec's joined
   path is replaced by the pinned bind mount. */
static int
safe_subpaths (kd_ctr_t *c, kd_ctr_spec_t *spec, kd_error_t *err)
{
  kd_pod_worker_t *w = c->w;
  kd_mount_t *mm = NULL;
  size_t n = 0;
  bool any = false;

  for (size_t i = 0; i < c->spec->n_volume_mounts; i++)
    if ((c->spec->volume_mounts[i].sub_path && *c->spec->volume_mounts[i].sub_path)
        || (c->spec->volume_mounts[i].sub_path_expr && *c->spec->volume_mounts[i].sub_path_expr))
      any = true;
  if (!any)
    return 0;
  if (kd_sandbox_container_mounts (w->pod, c->spec, w->vols, w->n_vols, w->m->cfg->run_dir, &mm, &n,
                                   err)
      < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < spec->n_mounts; j++)
      if (kd_str_eq (spec->mounts[j].destination, mm[i].destination))
        {
          free (spec->mounts[j].source);
          spec->mounts[j].source = xstrdup (mm[i].source);
        }
  kd_sandbox_mounts_free (mm, n);
  return 0;
}

static void
create_fail (kd_ctr_t *c, const char *reason, const char *msg)
{
  kd_pod_worker_t *w = c->w;

  kd_warn ("pod %s/%s: container %s: %s: %s", w->ns, w->name, c->spec->name, reason, msg);
  kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED, KD_EVMSG_ERROR, msg);
  kd_ctr_waiting (c, reason, msg);
  run_cleanup (c);
  free (c->cid);
  c->cid = NULL;
  restart_later (c);
}

void
kd_ctr_create (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;
  kd_podmgr_t *m = w->m;
  kd_ctr_record_t *r = c->rec;
  char id[65];
  kd_error_t err = NULL;
  kd_cgroup_limits_t lim;
  kd_ctrspec_input_t in;
  kd_ctr_spec_t spec;
  const char *reason = KD_REASON_CREATE_ERROR;
  cleanup_free char *cgp = NULL, *bundle = NULL, *rootfs = NULL, *upper = NULL, *work = NULL;
  cleanup_free char *logdir = NULL, *logpath = NULL, *tlog = NULL, *hostname = NULL;
  cleanup_free char *hosts = NULL, *hostname_f = NULL, *resolv = NULL, *shm = NULL;
  cleanup_free char *seccomp_dir = NULL;
  cleanup_free kd_volume_path_t *vp = NULL;
  char **lower = NULL;
  size_t n_lower = 0;
  int32_t next_count = c->ever_started || r->container_id ? r->restart_count + 1 : r->restart_count;
  int fd;

  memset (&spec, 0, sizeof (spec));
  random_id (id);
  free (c->cid);
  c->cid = xstrdup (id);

  /* 1. cgroup */
  ctr_limits (c->spec, &lim);
  cgp = xasprintf ("%s/%s", w->cg_path, id);
  if (kd_cgroup_create (m->cgl, cgp, &lim, &c->cg, &err) < 0)
    goto fail;
  /* 2. directories */
  bundle = xasprintf ("%s/containers/%s", w->run_dir, id);
  rootfs = xasprintf ("%s/rootfs", bundle);
  upper = xasprintf ("%s/containers/%s/upper", w->root_dir, id);
  work = xasprintf ("%s/containers/%s/work", w->root_dir, id);
  tlog = xasprintf ("%s/containers/%s/termination-log", w->root_dir, id);
  logdir
      = xasprintf ("%s/%s_%s_%s/%s", m->cfg->pod_logs_dir, w->ns, w->name, w->uid, c->spec->name);
  logpath = xasprintf ("%s/%d.log", logdir, next_count);
  if (kd_mkdir_p (rootfs, 0755, &err) < 0 || kd_mkdir_p (upper, 0755, &err) < 0
      || kd_mkdir_p (work, 0755, &err) < 0 || kd_mkdir_p (logdir, 0755, &err) < 0)
    goto fail;
  fd = open (tlog, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      kd_make_error (&err, errno, "create `%s`", tlog);
      goto fail;
    }
  fchmod (fd, 0666);
  close (fd);
  if (kd_image_store_lowerdirs (kd_image_service_store (m->images), c->img, &lower, &n_lower, &err)
      < 0)
    goto fail;

  /* 3. the spec */
  hostname = kd_sandbox_hostname (w->pod);
  hosts = xasprintf ("%s/etc/hosts", w->run_dir);
  hostname_f = xasprintf ("%s/etc/hostname", w->run_dir);
  resolv = xasprintf ("%s/etc/resolv.conf", w->run_dir);
  shm = xasprintf ("%s/shm", w->run_dir);
  seccomp_dir = xasprintf ("%s/seccomp", m->cfg->root_dir);
  vp = xcalloc (w->n_vols + 1, sizeof (*vp));
  for (size_t i = 0; i < w->n_vols; i++)
    {
      vp[i].name = w->vols[i].name;
      vp[i].host_path = w->vols[i].path;
      vp[i].is_tmpfs = w->vols[i].tmpfs;
    }
  memset (&in, 0, sizeof (in));
  in.pod = w->pod;
  in.ctr = c->spec;
  in.is_init = c->is_init;
  in.id = id;
  in.image = &c->img->config;
  in.lowerdirs = lower;
  in.n_lowerdirs = n_lower;
  in.rootfs = rootfs;
  in.upperdir = upper;
  in.workdir = work;
  in.log_path = logpath;
  in.log_max_size = m->cfg->container_log_max_size;
  in.log_max_files = m->cfg->container_log_max_files;
  in.hostname = hostname;
  in.hosts_file = hosts;
  in.hostname_file = hostname_f;
  in.resolv_file = resolv;
  in.shm_dir = w->pod->spec.host_ipc ? NULL : shm;
  in.termination_log = tlog;
  in.volumes = vp;
  in.n_volumes = w->n_vols;
  in.cgroup_procs = kd_cgroup_procs_files (c->cg);
  while (in.cgroup_procs && in.cgroup_procs[in.n_cgroup_procs])
    in.n_cgroup_procs++;
  in.oom_file = kd_cgroup_oom_file (c->cg);
  in.node_name = m->cfg->node_name;
  in.pod_ips = w->rec.pod_ips;
  in.n_pod_ips = w->rec.n_pod_ips;
  in.host_ips = w->rec.host_ips;
  in.n_host_ips = w->rec.n_host_ips;
  in.node_cpu_millis = sysconf (_SC_NPROCESSORS_ONLN) * 1000;
  in.node_memory = (int64_t) sysconf (_SC_PHYS_PAGES) * sysconf (_SC_PAGESIZE);
  in.seccomp_default = m->cfg->seccomp_default;
  in.seccomp_dir = seccomp_dir;
  if (kd_ctrspec_build (&in, &spec, &reason, &err) < 0)
    goto fail;
  reason = KD_REASON_CREATE_CONFIG_ERROR;
  if (safe_subpaths (c, &spec, &err) < 0)
    goto fail;
  reason = KD_REASON_CREATE_ERROR;
  if (kd_ctr_spec_save (&spec, bundle, &err) < 0)
    goto fail;
  kd_ctr_spec_free (&spec);
  for (size_t i = 0; i < n_lower; i++)
    free (lower[i]);
  free (lower);

  /* 4. the new run replaces the previous one in the record */
  if (r->state.kind == KD_CTR_TERMINATED)
    {
      state_set (&r->last_state, KD_CTR_WAITING, NULL, NULL);
      r->last_state = r->state;
      r->has_last = true;
      memset (&r->state, 0, sizeof (r->state));
    }
  r->restart_count = next_count;
  free (r->container_id);
  r->container_id = xasprintf ("kubeletd://%s", id);
  kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_CREATED, KD_EVMSG_CREATED, c->spec->name);
  c->phase = C_CREATING;
  /* on disk before the shim makes it: the recovery must know the id */
  kd_checkpoint_flush (w);
  kd_shim_create (w->shim, id, on_created, kd_op_new (c));
  return;

fail:
  kd_ctr_spec_free (&spec);
  for (size_t i = 0; i < n_lower; i++)
    free (lower[i]);
  free (lower);
  {
    cleanup_free char *msg = xstrdup (err ? err->msg : "unknown error");
    kd_error_release (&err);
    create_fail (c, reason, msg);
  }
}

/* A create that failed is tried again after the crash-loop back-off. */
static void
restart_later (kd_ctr_t *c)
{
  kd_pod_worker_t *w = c->w;
  int64_t now = kd_now_ns ();

  kd_backoff_next (&w->m->crash_cfg, &c->backoff, now, now);
  c->phase = C_BACKOFF;
  kd_ctr_set_timer (c, T_RESTART, c->backoff.backoff_ns / 1000000);
  kd_w_publish (w);
}

/* ---- stop ---------------------------------------------------------------------------- */

static void
on_killed (kd_shim_t *shim, const char *err, void *data)
{
  op_t *o = data;
  kd_ctr_t *c = kd_op_end (o);

  if (c && err)
    kd_warn ("pod %s/%s: kill container %s: %s", c->w->ns, c->w->name, c->spec->name, err);
}

static void
send_signal (kd_ctr_t *c, int sig)
{
  if (c->w->shim == NULL || c->cid == NULL)
    return;
  kd_shim_kill (c->w->shim, c->cid, sig, on_killed, kd_op_new (c));
}

static int
stop_signal (kd_ctr_t *c)
{
  kd_ctr_spec_t spec;
  kd_error_t err = NULL;
  cleanup_free char *bundle = xasprintf ("%s/containers/%s", c->w->run_dir, c->cid);
  int sig = SIGTERM;

  if (kd_ctr_spec_load (bundle, &spec, &err) < 0)
    {
      kd_error_release (&err);
      return SIGTERM;
    }
  if (spec.stop_signal > 0)
    sig = spec.stop_signal;
  kd_ctr_spec_free (&spec);
  return sig;
}

static void
signal_then_deadline (kd_ctr_t *c)
{
  int64_t left = c->grace_ms;

  send_signal (c, stop_signal (c));
  kd_ctr_set_timer (c, T_KILL, left);
}

static void
on_prestop (kd_hook_t *h, bool ok, const char *message, void *data)
{
  op_t *o = data;
  kd_ctr_t *c = o->c;
  kd_pod_worker_t *w = c->w;
  int64_t spent_ms = (kd_monotonic_ns () - o->t0) / 1000000;

  if (c->hook_op == o)
    {
      c->hook = NULL;
      c->hook_op = NULL;
    }
  free (o);
  if (!w->gone && c->phase == C_RUNNING && c->stopping)
    {
      if (!ok)
        kd_w_event (w, c, KD_EVENT_WARNING, KD_EV_FAILED_PRESTOP, "%s",
                    message ? message : "PreStopHook failed");
      /* whatever is left of the grace period, at least 2 s */
      c->grace_ms -= spent_ms;
      if (c->grace_ms < KD_MIN_GRACE_S * 1000)
        c->grace_ms = KD_MIN_GRACE_S * 1000;
      signal_then_deadline (c);
    }
  kd_w_unref (w);
}

void
kd_ctr_stop (kd_ctr_t *c, int64_t grace_ms, const char *reason_msg)
{
  kd_pod_worker_t *w = c->w;

  switch (c->phase)
    {
    case C_IDLE:
    case C_BACKOFF:
      cancel_timer (c);
      c->phase = C_DONE;
      return;
    case C_PULLING:
    case C_CREATING:
      c->no_restart = true; /* the reply stops it */
      return;
    case C_DONE:
      return;
    case C_RUNNING:
      break;
    }
  if (c->stopping)
    return;
  c->stopping = true;
  if (grace_ms < KD_MIN_GRACE_S * 1000)
    grace_ms = KD_MIN_GRACE_S * 1000;
  c->grace_ms = grace_ms;
  kd_probes_stop (c);
  kd_ctr_hook_cancel (c);
  if (reason_msg)
    kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_KILLING, "%s", reason_msg);
  else
    kd_w_event (w, c, KD_EVENT_NORMAL, KD_EV_KILLING, KD_EVMSG_STOPPING, c->spec->name);
  if (c->spec->lifecycle && c->spec->lifecycle->pre_stop && w->shim)
    {
      op_t *o = xcalloc (1, sizeof (*o));
      o->c = c;
      o->gen = ++c->hook_gen;
      o->t0 = kd_monotonic_ns ();
      kd_w_ref (w);
      /* the hook uses the grace period; whatever is left goes to the stop
         signal (at least 2 s) */
      kd_ctr_set_timer (c, T_KILL, grace_ms);
      c->hook_op = o;
      c->hook = kd_hook_run (w->m->loop, c->spec->lifecycle->pre_stop, &c->target,
                             (uint64_t) grace_ms, on_prestop, o);
      return;
    }
  signal_then_deadline (c);
}

static void
on_timer (uv_timer_t *t)
{
  kd_ctr_t *c = t->data;
  kd_pod_worker_t *w = c->w;
  kd_ctr_timer_t kind = c->timer_kind;

  c->timer_kind = T_NONE;
  if (w->gone)
    return;
  switch (kind)
    {
    case T_NONE:
      return;
    case T_PULL_RETRY:
    case T_RESTART:
      if (c->phase != C_BACKOFF)
        return;
      if (c->no_restart)
        {
          c->phase = C_DONE;
          return;
        }
      if (kind == T_RESTART && c->rec->state.kind == KD_CTR_WAITING
          && kd_str_eq (c->rec->state.reason, KD_REASON_CRASH_LOOP_BACK_OFF))
        {
          int64_t wait_ns = 0, shown_ns = 0;
          if (kd_crashloop_check (&w->m->crash_cfg, &c->backoff, c->rec->last_state.finished_at,
                                  kd_now_ns (), &wait_ns, &shown_ns))
            {
              kd_ctr_set_timer (c, T_RESTART, wait_ns / 1000000 + 1);
              return;
            }
        }
      c->phase = C_IDLE;
      if (w->state == W_RUNNING)
        {
          /* start it now if its turn has come (step keeps the order) */
          kd_w_step (w);
        }
      return;
    case T_KILL:
      if (c->phase != C_RUNNING)
        return;
      if (c->hook && c->stopping)
        {
          /* preStop used up the grace period: the stop signal, then
             SIGKILL after the 2 s minimum */
          kd_ctr_hook_cancel (c);
          c->grace_ms = KD_MIN_GRACE_S * 1000;
          signal_then_deadline (c);
          return;
        }
      if (c->stopping)
        {
          kd_vlog (2, "pod %s/%s: container %s: grace period over, SIGKILL", w->ns, w->name,
                   c->spec->name);
          send_signal (c, SIGKILL);
          kd_ctr_set_timer (c, T_KILL_SAFETY, KD_STOP_SAFETY_MS);
        }
      return;
    case T_KILL_SAFETY:
      if (c->phase == C_RUNNING)
        kd_ctr_lost (c, 137, KD_REASON_ERROR, "container did not report its exit after SIGKILL");
      return;
    }
}

/* ---- adoption after a restart ----------------------------------------------------------- */

void
kd_ctr_adopt (kd_ctr_t *c, const kd_shim_ctr_state_t *st)
{
  kd_pod_worker_t *w = c->w;
  kd_error_t err = NULL;
  cleanup_free char *cgp = xasprintf ("%s/%s", w->cg_path, c->cid);

  c->gen++;
  c->phase = C_RUNNING;
  c->ever_started = true;
  if (kd_cgroup_open (w->m->cgl, cgp, &c->cg, &err) < 0)
    {
      kd_error_release (&err);
      c->cg = NULL;
    }
  if (c->rec->image_id && w->m->images)
    {
      kd_image_t *img
          = kd_image_store_lookup (kd_image_service_store (w->m->images), c->rec->image_id);
      if (img == NULL && c->spec->image)
        {
          cleanup_free char *n = kd_ctr_image_name (c->spec->image);
          img = kd_image_store_lookup (kd_image_service_store (w->m->images), n);
        }
      if (img)
        {
          c->img = img;
          kd_image_service_use (w->m->images, img, +1);
        }
    }
  if (st && st->running)
    {
      state_set (&c->rec->state, KD_CTR_RUNNING, NULL, NULL);
      c->rec->state.started_at = st->started_ns;
      c->poststart_done = true;
      kd_probes_on_started (c);
    }
}
