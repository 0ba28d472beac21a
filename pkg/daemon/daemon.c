/* The daemon's life: start in an order where each step can be undone by
   the same teardown, run the loop, stop on SIGTERM/SIGINT.

   Start: 1. directories (root 0750, run 0700), 2. the locks (before
   anything touches the socket or the pods of another daemon), 3. the loop,
   4. the pod store, 5. the file source (its first scan fills the store, so
   the first GET /pods already lists the static pods), 6. the server and its
   routes, 7. the signal handlers.
   Stop: server first (no request can see a half-freed store), then the
   source and the signal handles; the loop runs until every close callback
   has run, and only then the store, the locks and the loop go. */
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>

#include "daemon-internal.h"
#include "kubeletd/podmgr.h"
#include "kubeletd/source.h"
#include "stats-internal.h"

#define KD_LOCK_NAME "kubeletd.lock"

struct kd_daemon
{
  uv_loop_t loop;
  bool loop_ready;
  uv_signal_t sigterm;
  uv_signal_t sigint;
  bool signals_ready;
  bool stopping;
  kd_pod_store_t *store;
  kd_source_file_t *source;
  kd_source_http_t *http_source;
  kd_server_t *server;
  kd_stats_t *stats; /* GET /stats/summary sampler */
  kd_image_service_t *images;
  kd_podmgr_t *pods;
  bool stop_pods; /* --stop-pods-on-exit */
  int lock_fds[2];
  gid_t socket_gid; /* --socket-group, resolved before anything is made */
};

static void
on_source_update (const char *source, kd_pod_t *const *pods, size_t n, void *data)
{
  kd_pod_store_set_source (data, source, pods, n);
}

static int
take_locks (kd_daemon_t *d, const kd_config_t *cfg, kd_error_t *err)
{
  cleanup_free char *root_lock = xasprintf ("%s/%s", cfg->root_dir, KD_LOCK_NAME);
  cleanup_free char *run_lock = xasprintf ("%s/%s", cfg->run_dir, KD_LOCK_NAME);
  struct stat a, b;

  d->lock_fds[0] = kd_lock_file (root_lock, err);
  if (d->lock_fds[0] < 0)
    return -1;
  /* --root-dir and --run-dir may be one directory: a second flock on the
     same file from this process would refuse ourselves. */
  if (stat (root_lock, &a) == 0 && stat (run_lock, &b) == 0 && a.st_dev == b.st_dev
      && a.st_ino == b.st_ino)
    return 0;
  d->lock_fds[1] = kd_lock_file (run_lock, err);
  return d->lock_fds[1] < 0 ? -1 : 0;
}

static int
resolve_group (const char *name, gid_t *gid, kd_error_t *err)
{
  struct group *gr;
  char *end;
  unsigned long v;

  errno = 0;
  gr = getgrnam (name);
  if (gr)
    {
      *gid = gr->gr_gid;
      return 0;
    }
  errno = 0;
  v = strtoul (name, &end, 10);
  if (*name && *end == '\0' && errno == 0)
    {
      *gid = (gid_t) v;
      return 0;
    }
  return kd_make_error (err, 0, "--socket-group: unknown group `%s`", name);
}

static int
start_server (kd_daemon_t *d, const kd_config_t *cfg, kd_error_t *err)
{
  kd_server_opts_t opts = { .socket_path = cfg->socket_path, .socket_mode = 0660 };
  cleanup_free char *dir = xstrdup (cfg->socket_path);
  char *slash = strrchr (dir, '/');
  gid_t gid = d->socket_gid;

  if (slash && slash != dir)
    {
      *slash = '\0';
      if (kd_mkdir_p (dir, 0700, err) < 0)
        return kd_error_wrap (err, "--socket");
    }
  if (kd_server_new (&d->loop, &opts, &d->server, err) < 0)
    return -1;
  kd_daemon_routes_add (d->server, d->store);
  kd_daemon_metrics_routes_add (d->server, d->store, cfg->node_name);
  d->stats = kd_stats_new (&(kd_stats_opts_t){ .loop = &d->loop, .store = d->store, .cfg = cfg });
  kd_daemon_stats_routes_add (d->server, d->stats);
  kd_daemon_image_routes_add (d->server, d->images);
  kd_daemon_logs_routes_add (d->server, &d->loop, d->store, cfg->pod_logs_dir);
  /* The run directory holding the socket is 0700, or 0750 root:<group>
     with --socket-group (README "A safe socket"), whatever mode an older
     directory had. A directory given with --socket that is not ours is
     left as it is. */
  if (cfg->socket_group == NULL)
    {
      if (slash && slash != dir && kd_str_eq (dir, cfg->run_dir) && chmod (dir, 0700) < 0)
        return kd_make_error (err, errno, "chmod `%s`", dir);
      return 0;
    }
  if (chown (cfg->socket_path, (uid_t) -1, gid) < 0)
    return kd_make_error (err, errno, "chown `%s` to group `%s`", cfg->socket_path,
                          cfg->socket_group);
  if (slash && slash != dir && kd_str_eq (dir, cfg->run_dir)
      && (chown (dir, (uid_t) -1, gid) < 0 || chmod (dir, 0750) < 0))
    return kd_make_error (err, errno, "let group `%s` into `%s`", cfg->socket_group, dir);
  return 0;
}

static int
start_images (kd_daemon_t *d, const kd_config_t *cfg, kd_error_t *err)
{
  kd_image_service_opts_t opts = {
    .root_dir = cfg->root_dir,
    .gc_high_pct = cfg->image_gc_high_threshold,
    .gc_low_pct = cfg->image_gc_low_threshold,
    .registry = { .insecure = cfg->insecure_registries.v,
                  .n_insecure = cfg->insecure_registries.n,
                  .n_mirrors = cfg->n_registry_mirrors },
  };
  char **mirrors = xcalloc (cfg->n_registry_mirrors + 1, sizeof (char *));
  int r;

  for (size_t i = 0; i < cfg->n_registry_mirrors; i++)
    mirrors[i] = xasprintf ("%s=%s", cfg->registry_mirrors[i].host, cfg->registry_mirrors[i].url);
  opts.registry.mirrors = mirrors;
  r = kd_image_service_new (&d->loop, &opts, &d->images, err);
  for (size_t i = 0; i < cfg->n_registry_mirrors; i++)
    free (mirrors[i]);
  free (mirrors);
  return r;
}

/* After the first scan filled the store: the manager recovers the pods of
   the run directory and starts the others. */
static int
start_pods (kd_daemon_t *d, const kd_config_t *cfg, kd_error_t *err)
{
  kd_podmgr_opts_t opts = { .loop = &d->loop,
                            .store = d->store,
                            .images = d->images,
                            .cfg = cfg,
                            .shim_path = cfg->shim_path,
                            .network_bridge = cfg->network_bridge };

  d->stop_pods = cfg->stop_pods_on_exit;
  if (kd_podmgr_new (&opts, &d->pods, err) < 0)
    return -1;
  kd_podmgr_routes_add (d->server, d->pods);
  kd_daemon_exec_routes_add (d->server, &d->loop, d->pods);
  kd_daemon_containers_routes_add (d->server, d->store, d->pods, cfg->pod_logs_dir);
  return 0;
}

static void
on_signal (uv_signal_t *h, int signum)
{
  kd_daemon_t *d = h->data;

  kd_info ("received %s, shutting down", strsignal (signum));
  kd_daemon_notify ("STOPPING=1");
  kd_daemon_stop (d);
}

static void
start_signals (kd_daemon_t *d)
{
  uv_signal_init (&d->loop, &d->sigterm);
  uv_signal_init (&d->loop, &d->sigint);
  d->sigterm.data = d;
  d->sigint.data = d;
  d->signals_ready = true;
  uv_signal_start (&d->sigterm, on_signal, SIGTERM);
  uv_signal_start (&d->sigint, on_signal, SIGINT);
}

int
kd_daemon_new (const kd_config_t *cfg, kd_daemon_t **out, kd_error_t *err)
{
  kd_daemon_t *d = xcalloc (1, sizeof (*d));
  kd_error_t ignored = NULL;
  int r;

  d->lock_fds[0] = d->lock_fds[1] = -1;
  /* A write to a client that went away must be an EPIPE, not our death. */
  signal (SIGPIPE, SIG_IGN);

  if (cfg->socket_group && resolve_group (cfg->socket_group, &d->socket_gid, err) < 0)
    goto fail;
  if (kd_mkdir_p (cfg->root_dir, 0750, err) < 0 || kd_mkdir_p (cfg->run_dir, 0700, err) < 0
      || take_locks (d, cfg, err) < 0)
    goto fail;
  r = uv_loop_init (&d->loop);
  if (r < 0)
    {
      kd_make_error (err, 0, "uv_loop_init: %s", uv_strerror (r));
      goto fail;
    }
  d->loop_ready = true;
  d->store = kd_pod_store_new (cfg->max_pods);

  if (cfg->pod_manifest_path && *cfg->pod_manifest_path)
    {
      kd_source_file_opts_t sopts = {
        .path = cfg->pod_manifest_path,
        .node_name = cfg->node_name,
        .relist_ms = (uint64_t) cfg->file_check_frequency_ms,
      };
      if (kd_source_file_new (&d->loop, &sopts, on_source_update, d->store, &d->source, err) < 0)
        goto fail;
    }
  if (cfg->manifest_url)
    {
      kd_source_http_opts_t hopts = {
        .url = cfg->manifest_url,
        .node_name = cfg->node_name,
        .period_ms = (uint64_t) cfg->http_check_frequency_ms,
      };
      if (kd_source_http_new (&d->loop, &hopts, on_source_update, d->store, &d->http_source, err)
          < 0)
        goto fail;
    }
  if (start_images (d, cfg, err) < 0 || start_server (d, cfg, err) < 0)
    goto fail;
  if (start_pods (d, cfg, err) < 0)
    goto fail;
  start_signals (d);

  kd_info ("kubeletd %s started: node `%s`, socket `%s`, pod manifests `%s`, %d pods at most",
           KD_VERSION, cfg->node_name, cfg->socket_path,
           cfg->pod_manifest_path ? cfg->pod_manifest_path : "", cfg->max_pods);
  kd_daemon_notify ("READY=1");
  *out = d;
  return 0;

fail:
  if (kd_daemon_free (d, &ignored) < 0)
    kd_error_release (&ignored);
  return -1;
}

uv_loop_t *
kd_daemon_loop (kd_daemon_t *d)
{
  return &d->loop;
}

kd_pod_store_t *
kd_daemon_store (kd_daemon_t *d)
{
  return d->store;
}

void
kd_daemon_stop (kd_daemon_t *d)
{
  if (d->stopping)
    return;
  d->stopping = true;
  if (d->server)
    kd_server_close (d->server);
  d->server = NULL;
  kd_stats_close (d->stats);
  d->stats = NULL;
  /* Before the image service: pods stop (or are left running) first. */
  kd_podmgr_shutdown (d->pods, d->stop_pods);
  /* After the server: answers to its connections are then no-ops. */
  kd_image_service_close (d->images);
  d->images = NULL;
  kd_source_file_close (d->source);
  d->source = NULL;
  kd_source_http_close (d->http_source);
  d->http_source = NULL;
  if (d->signals_ready)
    {
      uv_close ((uv_handle_t *) &d->sigterm, NULL);
      uv_close ((uv_handle_t *) &d->sigint, NULL);
    }
  d->signals_ready = false;
}

static void
report_open_handle (uv_handle_t *h, void *arg)
{
  kd_err ("handle of type %s still open at exit", uv_handle_type_name (uv_handle_get_type (h)));
}

int
kd_daemon_free (kd_daemon_t *d, kd_error_t *err)
{
  int ret = 0;

  if (d == NULL)
    return 0;
  kd_daemon_stop (d);
  if (d->loop_ready)
    {
      uv_run (&d->loop, UV_RUN_DEFAULT);
      if (uv_loop_close (&d->loop) == UV_EBUSY)
        {
          uv_walk (&d->loop, report_open_handle, NULL);
          ret = kd_make_error (err, 0, "the loop still has open handles at exit");
        }
    }
  kd_podmgr_free (d->pods);
  kd_pod_store_free (d->store);
  for (size_t i = 0; i < KD_ARRAY_SIZE (d->lock_fds); i++)
    if (d->lock_fds[i] >= 0)
      close (d->lock_fds[i]);
  free (d);
  return ret;
}

int
kd_daemon_run (const kd_config_t *cfg, kd_error_t *err)
{
  kd_daemon_t *d = NULL;

  if (kd_daemon_new (cfg, &d, err) < 0)
    return -1;
  uv_run (&d->loop, UV_RUN_DEFAULT);
  kd_info ("kubeletd stopped");
  return kd_daemon_free (d, err);
}
