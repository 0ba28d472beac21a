/* Pod-level operations made of several plugin sequences: attach (lo, then
   eth0), detach (eth0, then lo) and garbage collection. */
#include <dirent.h>
#include <sys/stat.h>

#include "cni-internal.h"

typedef struct
{
  kd_cni_t *cni;
  kd_cni_net_t *net;
  kd_cni_net_t *lo;
  rt_copy_t rt;
  kd_cni_cb cb;
  void *data;
  char *first_err;
  int pending;             /* attach: ADDs still running */
  kd_cni_result_t *result; /* attach: eth0's */
} pod_op_t;

static pod_op_t *
pod_op_new (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
            void *data)
{
  pod_op_t *p = xcalloc (1, sizeof *p);
  p->cni = cni;
  p->net = kd_cni_net_copy (net);
  p->lo = kd_cni_loopback_network ();
  kd_cni_rt_copy (&p->rt, rt);
  p->cb = cb;
  p->data = data;
  kd_cni_op_begin (cni);
  return p;
}

static void
pod_op_complete (pod_op_t *p, const kd_cni_result_t *r, const char *err)
{
  kd_cni_t *cni = p->cni;
  if (p->cb)
    p->cb (cni, r, err, p->data);
  kd_cni_net_free (p->net);
  kd_cni_net_free (p->lo);
  kd_cni_rt_free (&p->rt);
  kd_cni_result_free (p->result);
  free (p->first_err);
  free (p);
  kd_cni_op_end (cni);
}

static void
note_err (pod_op_t *p, const char *err)
{
  if (err && p->first_err == NULL)
    p->first_err = xstrdup (err);
}

static void
on_attach_nat (const char *err, void *data)
{
  pod_op_t *p = data;

  note_err (p, err);
  pod_op_complete (p, p->first_err ? NULL : p->result, p->first_err);
}

/* Both ADDs are done: the NAT of the built-in network last, since the
   hostPorts need the pod's IP. A failure is reported once both finished;
   the caller's DEL then removes whatever was made. */
static void
attach_step (pod_op_t *p)
{
  const char *ip;

  if (--p->pending > 0)
    return;
  if (p->first_err || !kd_cni_net_nat_p (p->net))
    {
      pod_op_complete (p, p->first_err ? NULL : p->result, p->first_err);
      return;
    }
  ip = p->result ? kd_cni_result_pod_ip (p->result) : NULL;
  kd_cni_nat_attach (p->cni, p->rt.container_id, ip, p->rt.pm, p->rt.n_pm, on_attach_nat, p);
}

static void
on_attach_eth0 (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  pod_op_t *p = data;

  (void) cni;
  note_err (p, err);
  if (r && r->raw)
    p->result = kd_cni_result_from_json (r->raw);
  attach_step (p);
}

static void
on_attach_lo (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  (void) cni;
  (void) r;
  note_err (data, err);
  attach_step (data);
}

void
kd_cni_attach (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
               void *data)
{
  pod_op_t *p = pod_op_new (cni, net, rt, cb, data);
  kd_cni_runtime_t lo = kd_cni_rt_view (&p->rt);
  kd_cni_runtime_t eth0 = kd_cni_rt_view (&p->rt);

  /* lo and eth0 are independent: both plugins run at once */
  lo.ifname = "lo";
  lo.port_mappings = NULL;
  lo.n_port_mappings = 0;
  p->pending = 2;
  kd_cni_add (cni, p->lo, &lo, on_attach_lo, p);
  kd_cni_add (cni, p->net, &eth0, on_attach_eth0, p);
}

static void
on_detach_lo (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  pod_op_t *p = data;
  (void) cni;
  (void) r;
  note_err (p, err);
  pod_op_complete (p, NULL, p->first_err);
}

static void
detach_lo (void *data)
{
  pod_op_t *p = data;
  kd_cni_runtime_t lo = kd_cni_rt_view (&p->rt);

  lo.ifname = "lo";
  lo.port_mappings = NULL;
  lo.n_port_mappings = 0;
  kd_cni_del (p->cni, p->lo, &lo, on_detach_lo, p);
}

static void
on_detach_eth0 (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  pod_op_t *p = data;

  (void) r;
  note_err (p, err);
  /* what the bridge's DEL leaves when the netns was gone */
  kd_cni_ipmasq_cleanup (cni, p->net, p->rt.container_id, detach_lo, p);
}

static void
on_detach_nat (const char *err, void *data)
{
  pod_op_t *p = data;
  kd_cni_runtime_t eth0 = kd_cni_rt_view (&p->rt);

  note_err (p, err);
  kd_cni_del (p->cni, p->net, &eth0, on_detach_eth0, p);
}

/* The attachment was made with port mappings (libcni's capabilityArgs). */
static bool
cached_ports_p (const kd_cni_cache_t *c)
{
  return json_array_size (json_object_get (c->capability_args, "portMappings")) > 0;
}

void
kd_cni_detach (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
               void *data)
{
  pod_op_t *p = pod_op_new (cni, net, rt, cb, data);
  kd_cni_cache_t *cache = NULL;
  kd_error_t e = NULL;
  bool had_ports = p->rt.n_pm > 0;

  /* Tear down with the configuration the attachment was made with, as
     libcni's cached-config DEL does: the conf dir may have changed since. */
  if (kd_cni_cache_read (cni, net->name, rt->container_id, rt->ifname, &cache, &e) < 0)
    kd_error_release (&e);
  if (cache && cache->net)
    {
      kd_cni_net_free (p->net);
      p->net = steal_pointer (&cache->net);
    }
  had_ports = had_ports || (cache && cached_ports_p (cache));
  kd_cni_cache_free (cache);
  /* the hostPorts go before the address is released */
  if (kd_cni_net_nat_p (p->net))
    kd_cni_nat_detach (cni, p->rt.container_id, had_ports, on_detach_nat, p);
  else
    on_detach_nat (NULL, p);
}

/* ---- garbage collection ---------------------------------------------- */

typedef struct
{
  kd_cni_t *cni;
  char **live;
  size_t n_live;
  kd_cni_cache_t **stale;
  size_t n_stale, next;
  kd_cni_cb cb;
  void *data;
  char *first_err;
  struct timespec started; /* reservations made since belong to new pods */
} gc_t;

static bool
live_p (const gc_t *g, const char *id)
{
  for (size_t i = 0; i < g->n_live; i++)
    if (strcmp (g->live[i], id) == 0)
      return true;
  return false;
}

/* host-local keeps one file per reserved address, named for the address
   and holding "<container id>\r\n<ifname>" (older versions: the id only);
   "lock" and "last_reserved_ip.N" are its own bookkeeping. */
static void
gc_host_local (gc_t *g)
{
  DIR *nets = opendir (g->cni->data_dir);
  struct dirent *n;

  if (nets == NULL)
    return;
  while ((n = readdir (nets)) != NULL)
    {
      cleanup_free char *netdir = NULL;
      DIR *d;
      struct dirent *f;

      if (n->d_name[0] == '.')
        continue;
      netdir = xasprintf ("%s/%s", g->cni->data_dir, n->d_name);
      d = opendir (netdir);
      if (d == NULL)
        continue;
      while ((f = readdir (d)) != NULL)
        {
          cleanup_free char *path = NULL;
          cleanup_free char *text = NULL;
          kd_error_t e = NULL;
          struct stat st;

          if (f->d_name[0] == '.' || strcmp (f->d_name, "lock") == 0
              || kd_str_has_prefix (f->d_name, "last_reserved_ip"))
            continue;
          path = xasprintf ("%s/%s", netdir, f->d_name);
          /* A pod admitted while the collection ran is not in live: its
             fresh reservation must stay. */
          if (stat (path, &st) < 0 || st.st_mtim.tv_sec > g->started.tv_sec
              || (st.st_mtim.tv_sec == g->started.tv_sec
                  && st.st_mtim.tv_nsec >= g->started.tv_nsec))
            continue;
          if (kd_read_file (path, 4096, &text, NULL, &e) < 0)
            {
              kd_error_release (&e);
              continue;
            }
          text[strcspn (text, "\r\n")] = '\0';
          if (*text && !live_p (g, text))
            {
              kd_info ("cni: releasing stale address %s of %s in %s", f->d_name, text, n->d_name);
              if (unlink (path) < 0)
                kd_warn ("cni: remove `%s`: %s", path, strerror (errno));
            }
        }
      closedir (d);
    }
  closedir (nets);
}

static void
gc_free (gc_t *g)
{
  kd_cni_t *cni = g->cni;
  for (size_t i = 0; i < g->n_live; i++)
    free (g->live[i]);
  free (g->live);
  for (size_t i = 0; i < g->n_stale; i++)
    kd_cni_cache_free (g->stale[i]);
  free (g->stale);
  free (g->first_err);
  free (g);
  kd_cni_op_end (cni);
}

static void gc_next (gc_t *g);

static void
gc_next_cb (void *data)
{
  gc_next (data);
}

static void
on_gc_del (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  gc_t *g = data;
  kd_cni_cache_t *c = g->stale[g->next - 1];

  if (err)
    {
      kd_warn ("cni: gc: %s", err);
      if (g->first_err == NULL)
        g->first_err = xstrdup (err);
    }
  kd_cni_ipmasq_cleanup (cni, c->net, c->container_id, gc_next_cb, g);
}

static void
on_gc_nat (const char *err, void *data)
{
  gc_t *g = data;
  kd_cni_cache_t *c = g->stale[g->next - 1];
  kd_cni_runtime_t rt = { 0 };

  if (err)
    kd_warn ("cni: gc: %s", err);
  rt.container_id = c->container_id;
  rt.netns = c->netns;
  rt.ifname = c->if_name;
  kd_cni_del (g->cni, c->net, &rt, on_gc_del, g);
}

static void
gc_next (gc_t *g)
{
  while (g->next < g->n_stale)
    {
      kd_cni_cache_t *c = g->stale[g->next++];
      kd_cni_runtime_t rt = { 0 };
      if (c->net == NULL)
        continue;
      rt.container_id = c->container_id;
      rt.netns = c->netns;
      rt.ifname = c->if_name;
      kd_info ("cni: gc: deleting %s of container %s from network %s", c->if_name, c->container_id,
               c->net->name);
      if (kd_cni_net_nat_p (c->net) && kd_str_eq (c->if_name, "eth0"))
        {
          kd_cni_nat_detach (g->cni, c->container_id, cached_ports_p (c), on_gc_nat, g);
          return;
        }
      kd_cni_del (g->cni, c->net, &rt, on_gc_del, g);
      return;
    }
  gc_host_local (g);
  if (g->cb)
    g->cb (g->cni, NULL, g->first_err, g->data);
  gc_free (g);
}

static void
on_gc_start (uv_timer_t *t)
{
  gc_t *g = t->data;
  uv_close ((uv_handle_t *) t, (uv_close_cb) free);
  gc_next (g);
}

void
kd_cni_gc (kd_cni_t *cni, char *const *live, size_t n_live, kd_cni_cb cb, void *data)
{
  gc_t *g = xcalloc (1, sizeof *g);
  cleanup_free char *dir = kd_cni_results_dir (cni);
  size_t cap = 0;
  uv_timer_t *t;
  DIR *d;
  struct dirent *de;

  g->cni = cni;
  g->cb = cb;
  g->data = data;
  clock_gettime (CLOCK_REALTIME_COARSE, &g->started); /* the clock of file times */
  g->n_live = n_live;
  g->live = xcalloc (n_live + 1, sizeof *g->live);
  for (size_t i = 0; i < n_live; i++)
    g->live[i] = xstrdup (live[i]);
  kd_cni_op_begin (cni);

  d = opendir (dir);
  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL;
      kd_cni_cache_t *c = NULL;
      kd_error_t e = NULL;

      if (de->d_name[0] == '.' || strstr (de->d_name, ".tmp.") != NULL)
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      if (kd_cni_cache_read_file (path, &c, &e) < 0)
        {
          kd_warn ("cni: gc: %s", e->msg);
          kd_error_release (&e);
          continue;
        }
      if (c == NULL || live_p (g, c->container_id))
        {
          kd_cni_cache_free (c);
          continue;
        }
      if (c->net == NULL)
        {
          /* Nothing to run DEL with: the entry is useless. */
          kd_warn ("cni: gc: `%s` has no usable config; removing it", path);
          unlink (path);
          kd_cni_cache_free (c);
          continue;
        }
      kd_grow ((void **) &g->stale, &cap, g->n_stale, sizeof *g->stale);
      g->stale[g->n_stale++] = c;
    }
  if (d)
    closedir (d);

  t = xcalloc (1, sizeof *t);
  uv_timer_init (cni->loop, t);
  t->data = g;
  uv_timer_start (t, on_gc_start, 0, 0);
}
