/* GET /stats/summary in the kubelet's Summary API shape
   (k8s.io/kubelet/pkg/apis/stats/v1alpha1), from the cgroups and the file
   systems:
   - node cpu and memory from /proc (the root of every cgroup tree), fs
     from statvfs of --root-dir, runtime.imageFs from <root-dir>/images;
   - per pod: the pod cgroup (kd_cgroup_pod_path) for cpu, memory and
     process_stats; per running container its cgroup "<pod path>/<64 hex>",
     rootfs = du of <root-dir>/pods/<uid>/containers/<id>/upper, logs = du of
     <pod-logs-dir>/<ns>_<name>_<uid>/<container>; emptyDir volumes by du;
     ephemeral-storage = rootfs + logs + disk-backed emptyDirs.
   Field names, omitempty and units are the kubelet's: bytes, nanoseconds of
   CPU, nanocores; every *uint64 left out when unknown. */
#include <inttypes.h>
#include <sys/statvfs.h>

#include "kubeletd/cgroup.h"
#include "kubeletd/metrics.h"
#include "stats-internal.h"

#define KD_DU_MAX_ENTRIES   200000
#define KD_CONTAINER_ID_PFX "kubeletd://"

struct kd_stats
{
  uv_timer_t timer;
  bool has_timer;
  kd_pod_store_t *store;
  char *root_dir;
  char *pod_logs_dir;
  char *cgroup_root;
  char *node_name;
  kd_cgroup_layout_t *layout;
  kd_cpu_rates_t *rates;
  /* du of the image store, refreshed by the timer (it can be large) */
  bool image_valid;
  uint64_t image_bytes, image_inodes;
};

/* ---- readers ------------------------------------------------------- */

static json_t *
time_now_json (void)
{
  char t[64];

  kd_format_time (kd_now_ns (), t, sizeof (t));
  return json_string (t);
}

static void
set_u64 (json_t *o, const char *key, uint64_t v)
{
  json_object_set_new (o, key, json_integer ((json_int_t) v));
}

/* FsStats of the file system holding path; used = -1 takes the file
   system's own use, else the given bytes and inodes (a directory's du). */
static json_t *
fs_json (const char *path, int64_t used, int64_t inodes_used)
{
  json_t *o = json_object ();
  struct statvfs vfs;

  json_object_set_new (o, "time", time_now_json ());
  if (statvfs (path, &vfs) == 0)
    {
      uint64_t bs = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
      set_u64 (o, "availableBytes", (uint64_t) vfs.f_bavail * bs);
      set_u64 (o, "capacityBytes", (uint64_t) vfs.f_blocks * bs);
      set_u64 (o, "usedBytes",
               used >= 0 ? (uint64_t) used : (uint64_t) (vfs.f_blocks - vfs.f_bfree) * bs);
      set_u64 (o, "inodesFree", vfs.f_ffree);
      set_u64 (o, "inodes", vfs.f_files);
      set_u64 (o, "inodesUsed",
               inodes_used >= 0 ? (uint64_t) inodes_used : (uint64_t) (vfs.f_files - vfs.f_ffree));
    }
  else if (used >= 0)
    {
      set_u64 (o, "usedBytes", (uint64_t) used);
      if (inodes_used >= 0)
        set_u64 (o, "inodesUsed", (uint64_t) inodes_used);
    }
  return o;
}

static uint64_t
du_bytes (const char *path, uint64_t *inodes)
{
  kd_error_t err = NULL;
  uint64_t b = 0, i = 0;

  if (kd_du (path, KD_DU_MAX_ENTRIES, &b, &i, &err) < 0)
    {
      kd_vlog (4, "stats: %s", err->msg);
      kd_error_release (&err);
    }
  if (inodes)
    *inodes = i;
  return b;
}

/* /proc/stat: the busy jiffies of all CPUs and the boot time. */
static bool
read_proc_stat (uint64_t *busy_ns, int64_t *btime)
{
  cleanup_fclose FILE *f = fopen ("/proc/stat", "re");
  char line[512];
  long hz = sysconf (_SC_CLK_TCK);
  bool ok = false;

  *btime = 0;
  if (f == NULL || hz <= 0)
    return false;
  while (fgets (line, sizeof (line), f))
    {
      unsigned long long u, n, s, idle, io, irq, sirq, steal;
      long long bt;

      if (sscanf (line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq,
                  &sirq, &steal)
          == 8)
        {
          *busy_ns = (uint64_t) ((u + n + s + irq + sirq + steal)
                                 * (1000000000ull / (unsigned long long) hz));
          ok = true;
        }
      else if (sscanf (line, "btime %lld", &bt) == 1)
        *btime = bt;
    }
  return ok;
}

static uint64_t
meminfo_get (const char *text, const char *key)
{
  const char *p = strstr (text, key);

  return p ? strtoull (p + strlen (key), NULL, 10) * 1024 : 0;
}

/* The node's memory as cAdvisor sees the root cgroup: usage = total -
   free, working set = usage - inactive file pages. */
static json_t *
node_memory_json (void)
{
  cleanup_free char *text = NULL;
  kd_error_t err = NULL;
  json_t *o = json_object ();
  uint64_t total, usage, ws, inactive;
  size_t len;

  json_object_set_new (o, "time", time_now_json ());
  if (kd_read_file ("/proc/meminfo", 1 << 20, &text, &len, &err) < 0)
    {
      kd_error_release (&err);
      return o;
    }
  total = meminfo_get (text, "MemTotal:");
  usage = total - meminfo_get (text, "MemFree:");
  inactive = meminfo_get (text, "Inactive(file):");
  ws = usage > inactive ? usage - inactive : 0;
  set_u64 (o, "availableBytes", total - ws);
  set_u64 (o, "usageBytes", usage);
  set_u64 (o, "workingSetBytes", ws);
  set_u64 (o, "rssBytes", meminfo_get (text, "AnonPages:"));
  return o;
}

static json_t *
cpu_json (kd_stats_t *st, const char *key, uint64_t usage_ns, int64_t min_interval_ns)
{
  json_t *o = json_object ();
  uint64_t nanocores;

  json_object_set_new (o, "time", time_now_json ());
  if (kd_cpu_rates_update (st->rates, key, usage_ns, kd_monotonic_ns (), min_interval_ns,
                           &nanocores))
    set_u64 (o, "usageNanoCores", nanocores);
  set_u64 (o, "usageCoreNanoSeconds", usage_ns);
  return o;
}

static bool
read_cgroup (kd_stats_t *st, const char *path, kd_cgroup_stats_t *cs)
{
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;
  int r;

  if (st->layout == NULL)
    return false;
  memset (cs, 0, sizeof (*cs));
  if (kd_cgroup_open (st->layout, path, &cg, &err) < 0)
    {
      kd_vlog (5, "stats: %s", err->msg);
      kd_error_release (&err);
      return false;
    }
  r = kd_cgroup_stats (cg, cs, &err);
  kd_cgroup_free (cg);
  if (r < 0)
    {
      kd_vlog (5, "stats: %s", err->msg);
      kd_error_release (&err);
      return false;
    }
  return true;
}

static json_t *
memory_json (const kd_cgroup_stats_t *cs)
{
  json_t *o = json_object ();

  json_object_set_new (o, "time", time_now_json ());
  set_u64 (o, "usageBytes", cs->memory_usage);
  set_u64 (o, "workingSetBytes", cs->memory_working_set);
  set_u64 (o, "rssBytes", cs->memory_rss);
  return o;
}

/* ---- the summary --------------------------------------------------- */

static char *
pod_cgroup_path (kd_stats_t *st, const kd_pod_t *pod)
{
  const char *qos = pod->status.qos_class ? pod->status.qos_class : "BestEffort";

  return kd_cgroup_pod_path (st->cgroup_root, qos, pod->metadata.uid ? pod->metadata.uid : "");
}

/* The 64 hex of "kubeletd://<id>", or NULL. */
static const char *
container_hex (const kd_container_status_t *c)
{
  if (c->container_id == NULL || !kd_str_has_prefix (c->container_id, KD_CONTAINER_ID_PFX))
    return NULL;
  return c->container_id + strlen (KD_CONTAINER_ID_PFX);
}

static bool
safe_segment (const char *s)
{
  return s && *s && strchr (s, '/') == NULL && strcmp (s, ".") != 0 && strcmp (s, "..") != 0;
}

static json_t *
container_json (kd_stats_t *st, const kd_pod_t *pod, const char *pod_cg,
                const kd_container_status_t *c, int64_t min_ns, uint64_t *ephemeral,
                uint64_t *eph_inodes)
{
  const char *hex = container_hex (c);
  const char *uid = pod->metadata.uid;
  json_t *o = json_object ();
  kd_cgroup_stats_t cs;
  char t[64];

  json_object_set_new (o, "name", json_string (c->name ? c->name : ""));
  if (c->state.running && c->state.running->started_at)
    {
      kd_format_time (c->state.running->started_at, t, sizeof (t));
      json_object_set_new (o, "startTime", json_string (t));
    }
  if (hex && safe_segment (hex))
    {
      cleanup_free char *cg = xasprintf ("%s/%s", pod_cg, hex);
      cleanup_free char *upper
          = xasprintf ("%s/pods/%s/containers/%s/upper", st->root_dir, uid, hex);
      uint64_t inodes, used;

      if (read_cgroup (st, cg, &cs))
        {
          json_object_set_new (o, "cpu", cpu_json (st, cg, cs.cpu_usage_ns, min_ns));
          json_object_set_new (o, "memory", memory_json (&cs));
        }
      used = du_bytes (upper, &inodes);
      *ephemeral += used;
      *eph_inodes += inodes;
      json_object_set_new (o, "rootfs", fs_json (st->root_dir, (int64_t) used, (int64_t) inodes));
    }
  if (c->name && safe_segment (c->name))
    {
      cleanup_free char *dir
          = xasprintf ("%s/%s_%s_%s/%s", st->pod_logs_dir, pod->metadata.namespace_,
                       pod->metadata.name, uid, c->name);
      uint64_t inodes, used = du_bytes (dir, &inodes);

      *ephemeral += used;
      *eph_inodes += inodes;
      json_object_set_new (o, "logs", fs_json (st->pod_logs_dir, (int64_t) used, (int64_t) inodes));
    }
  return o;
}

static json_t *
pod_json (kd_stats_t *st, const kd_pod_t *pod, int64_t min_ns)
{
  const kd_pod_status_t *ps = &pod->status;
  cleanup_free char *pod_cg = pod_cgroup_path (st, pod);
  json_t *o = json_object (), *ctrs = json_array (), *vols = json_array ();
  uint64_t eph = 0, eph_inodes = 0;
  kd_cgroup_stats_t cs;
  char t[64];

  json_object_set_new (o, "podRef",
                       json_pack ("{s:s?, s:s?, s:s?}", "name", pod->metadata.name, "namespace",
                                  pod->metadata.namespace_, "uid", pod->metadata.uid));
  if (ps->start_time)
    {
      kd_format_time (ps->start_time, t, sizeof (t));
      json_object_set_new (o, "startTime", json_string (t));
    }
  /* Containers that exist now, as cAdvisor lists them: running ones. */
  for (size_t l = 0; l < 2; l++)
    {
      const kd_container_status_t *v = l ? ps->container_statuses : ps->init_container_statuses;
      size_t n = l ? ps->n_container_statuses : ps->n_init_container_statuses;

      for (size_t i = 0; i < n; i++)
        if (v[i].state.running)
          json_array_append_new (
              ctrs, container_json (st, pod, pod_cg, &v[i], min_ns, &eph, &eph_inodes));
    }
  json_object_set_new (o, "containers", ctrs);
  if (read_cgroup (st, pod_cg, &cs))
    {
      json_object_set_new (o, "cpu", cpu_json (st, pod_cg, cs.cpu_usage_ns, min_ns));
      json_object_set_new (o, "memory", memory_json (&cs));
      json_object_set_new (o, "process_stats",
                           json_pack ("{s:I}", "process_count", (json_int_t) cs.pids));
    }
  for (size_t i = 0; i < pod->spec.n_volumes; i++)
    {
      const kd_volume_t *v = &pod->spec.volumes[i];
      cleanup_free char *dir = NULL;
      uint64_t inodes, used;
      json_t *fs;

      if (v->empty_dir == NULL || !safe_segment (v->name))
        continue;
      dir = xasprintf ("%s/pods/%s/volumes/kubernetes.io~empty-dir/%s", st->root_dir,
                       pod->metadata.uid, v->name);
      used = du_bytes (dir, &inodes);
      if (!kd_str_eq (v->empty_dir->medium, "Memory"))
        {
          eph += used;
          eph_inodes += inodes;
        }
      fs = fs_json (dir, (int64_t) used, (int64_t) inodes);
      json_object_set_new (fs, "name", json_string (v->name));
      json_array_append_new (vols, fs);
    }
  if (json_array_size (vols))
    json_object_set_new (o, "volume", vols);
  else
    json_decref (vols);
  json_object_set_new (o, "ephemeral-storage",
                       fs_json (st->root_dir, (int64_t) eph, (int64_t) eph_inodes));
  return o;
}

static void
refresh_image_usage (kd_stats_t *st)
{
  cleanup_free char *dir = xasprintf ("%s/images", st->root_dir);

  st->image_bytes = du_bytes (dir, &st->image_inodes);
  st->image_valid = true;
}

static json_t *
node_json (kd_stats_t *st, int64_t min_ns)
{
  cleanup_free char *images = xasprintf ("%s/images", st->root_dir);
  json_t *o = json_object (), *fs;
  uint64_t busy;
  int64_t btime;
  char t[64];

  json_object_set_new (o, "nodeName", json_string (st->node_name));
  if (read_proc_stat (&busy, &btime))
    {
      if (btime > 0)
        {
          kd_format_time (btime * 1000000000LL, t, sizeof (t));
          json_object_set_new (o, "startTime", json_string (t));
        }
      json_object_set_new (o, "cpu", cpu_json (st, "/", busy, min_ns));
    }
  json_object_set_new (o, "memory", node_memory_json ());
  json_object_set_new (o, "fs", fs_json (st->root_dir, -1, -1));
  if (!st->image_valid)
    refresh_image_usage (st);
  fs = fs_json (access (images, F_OK) == 0 ? images : st->root_dir, (int64_t) st->image_bytes,
                (int64_t) st->image_inodes);
  json_object_set_new (o, "runtime", json_pack ("{s:o}", "imageFs", fs));
  return o;
}

json_t *
kd_stats_summary (kd_stats_t *st)
{
  /* A request reading a cgroup a second or more after the last reading
     makes a fresh rate; closer readings reuse the last rate. */
  const int64_t min_ns = 1000LL * 1000 * 1000;
  json_t *pods = json_array ();
  size_t n;
  const kd_pod_t *const *v = kd_pod_store_list (st->store, &n);

  for (size_t i = 0; i < n; i++)
    json_array_append_new (pods, pod_json (st, v[i], min_ns));
  return json_pack ("{s:o, s:o}", "node", node_json (st, min_ns), "pods", pods);
}

/* The timer: one reading of every cgroup reported, so the first request
   after it already has a rate, and the image store's usage. */
static void
on_sample (uv_timer_t *t)
{
  kd_stats_t *st = t->data;
  const int64_t min_ns = (int64_t) KD_STATS_SAMPLE_MS * 1000 * 1000 / 2;
  size_t n;
  const kd_pod_t *const *v = kd_pod_store_list (st->store, &n);
  kd_cgroup_stats_t cs;
  uint64_t busy, nc;
  int64_t btime;

  if (read_proc_stat (&busy, &btime))
    kd_cpu_rates_update (st->rates, "/", busy, kd_monotonic_ns (), min_ns, &nc);
  for (size_t i = 0; i < n; i++)
    {
      const kd_pod_status_t *ps = &v[i]->status;
      cleanup_free char *pod_cg = pod_cgroup_path (st, v[i]);

      if (read_cgroup (st, pod_cg, &cs))
        kd_cpu_rates_update (st->rates, pod_cg, cs.cpu_usage_ns, kd_monotonic_ns (), min_ns, &nc);
      for (size_t k = 0; k < ps->n_container_statuses + ps->n_init_container_statuses; k++)
        {
          const kd_container_status_t *c
              = k < ps->n_container_statuses
                    ? &ps->container_statuses[k]
                    : &ps->init_container_statuses[k - ps->n_container_statuses];
          const char *hex = container_hex (c);
          cleanup_free char *cg = NULL;

          if (!c->state.running || hex == NULL || !safe_segment (hex))
            continue;
          cg = xasprintf ("%s/%s", pod_cg, hex);
          if (read_cgroup (st, cg, &cs))
            kd_cpu_rates_update (st->rates, cg, cs.cpu_usage_ns, kd_monotonic_ns (), min_ns, &nc);
        }
    }
  kd_cpu_rates_prune (st->rates, kd_monotonic_ns () - 3LL * KD_STATS_SAMPLE_MS * 1000 * 1000);
  refresh_image_usage (st);
}

kd_stats_t *
kd_stats_new (const kd_stats_opts_t *opts)
{
  kd_stats_t *st = xcalloc (1, sizeof (*st));
  const kd_config_t *cfg = opts->cfg;
  kd_error_t err = NULL;

  st->store = opts->store;
  st->root_dir = xstrdup (cfg->root_dir ? cfg->root_dir : KD_DEFAULT_ROOT_DIR);
  st->pod_logs_dir = xstrdup (cfg->pod_logs_dir ? cfg->pod_logs_dir : KD_DEFAULT_POD_LOGS_DIR);
  st->cgroup_root = xstrdup (cfg->cgroup_root ? cfg->cgroup_root : KD_DEFAULT_CGROUP_ROOT);
  st->node_name = xstrdup (cfg->node_name ? cfg->node_name : "");
  st->rates = kd_cpu_rates_new ();
  if (kd_cgroup_detect (opts->cgroup_mount ? opts->cgroup_mount : "/sys/fs/cgroup", &st->layout,
                        &err)
      < 0)
    {
      kd_warn ("stats: no cgroup statistics: %s", err->msg);
      kd_error_release (&err);
      st->layout = NULL;
    }
  if (opts->loop)
    {
      uv_timer_init (opts->loop, &st->timer);
      st->timer.data = st;
      st->has_timer = true;
      uv_timer_start (&st->timer, on_sample, KD_STATS_SAMPLE_MS, KD_STATS_SAMPLE_MS);
      /* Sampling must not keep the loop alive at shutdown. */
      uv_unref ((uv_handle_t *) &st->timer);
    }
  return st;
}

static void
stats_free (kd_stats_t *st)
{
  kd_cgroup_layout_free (st->layout);
  kd_cpu_rates_free (st->rates);
  free (st->root_dir);
  free (st->pod_logs_dir);
  free (st->cgroup_root);
  free (st->node_name);
  free (st);
}

static void
on_timer_closed (uv_handle_t *h)
{
  stats_free (h->data);
}

void
kd_stats_close (kd_stats_t *st)
{
  if (st == NULL)
    return;
  if (!st->has_timer)
    {
      stats_free (st);
      return;
    }
  uv_close ((uv_handle_t *) &st->timer, on_timer_closed);
}

static void
handle_summary (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond_json (conn, 200, kd_stats_summary (data));
}

void
kd_daemon_stats_routes_add (kd_server_t *srv, kd_stats_t *st)
{
  kd_server_route (srv, "GET", "/stats/summary", false, handle_summary, st);
}
