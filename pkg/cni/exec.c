/* Running CNI plugins: one uv_spawn per plugin call with stdin/stdout/stderr
   pipes and a timer that kills the plugin at the timeout, and the ADD, DEL,
   CHECK and VERSION sequences of the spec built on it. */
#include <signal.h>
#include <sys/stat.h>

#include "cni-internal.h"
#include "kubeletd/metrics.h"

extern char **environ;

enum
{
  CMD_ADD,
  CMD_DEL,
  CMD_CHECK,
  CMD_VERSION,
};

static const char *const cmd_names[] = { "ADD", "DEL", "CHECK", "VERSION" };

/* ---- one plugin process ---------------------------------------------- */

typedef struct kd_cni_call call_t;
typedef void (*call_done_fn) (call_t *c);

struct kd_cni_call
{
  kd_cni_t *cni;
  char *type;
  uv_process_t proc;
  uv_pipe_t in, out, errp;
  uv_timer_t timer;
  uv_write_t wreq;
  char *input;
  kd_buf_t out_buf, err_buf;
  bool proc_init, spawned, exited, out_eof, err_eof, timed_out, finishing;
  int64_t exit_status;
  int term_signal;
  int open_handles;
  char *spawn_error;
  call_done_fn done;
  void *op;
  call_t *next;
};

static void
call_unlink (call_t *c)
{
  for (call_t **pp = &c->cni->calls; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        return;
      }
}

static void
call_free (call_t *c)
{
  free (c->type);
  free (c->input);
  free (c->spawn_error);
  kd_buf_free (&c->out_buf);
  kd_buf_free (&c->err_buf);
  free (c);
}

static void pump (kd_cni_t *cni);

static void
on_handle_closed (uv_handle_t *h)
{
  call_t *c = h->data;
  kd_cni_t *cni = c->cni;

  if (--c->open_handles == 0)
    {
      call_unlink (c);
      cni->running--;
      /* the next waiting plugin starts before done, which may free cni */
      pump (cni);
      c->done (c);
    }
}

static void
close_handle (uv_handle_t *h)
{
  if (!uv_is_closing (h))
    uv_close (h, on_handle_closed);
}

static void
call_finish (call_t *c)
{
  if (c->finishing)
    return;
  c->finishing = true;
  close_handle ((uv_handle_t *) &c->timer);
  close_handle ((uv_handle_t *) &c->in);
  close_handle ((uv_handle_t *) &c->out);
  close_handle ((uv_handle_t *) &c->errp);
  if (c->proc_init)
    close_handle ((uv_handle_t *) &c->proc);
}

static void
call_maybe_finish (call_t *c)
{
  if (c->exited && c->out_eof && c->err_eof)
    call_finish (c);
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof slab;
}

static void
on_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  call_t *c = s->data;
  bool is_out = s == (uv_stream_t *) &c->out;
  kd_buf_t *b = is_out ? &c->out_buf : &c->err_buf;

  if (n > 0)
    {
      /* A plugin's answer is small; refuse to buffer a runaway one. */
      if (b->len < 4 * 1024 * 1024)
        kd_buf_append (b, buf->base, (size_t) n);
      return;
    }
  if (n == 0)
    return;
  uv_read_stop (s);
  if (is_out)
    c->out_eof = true;
  else
    c->err_eof = true;
  close_handle ((uv_handle_t *) s);
  call_maybe_finish (c);
}

static void
on_written (uv_write_t *req, int status)
{
  call_t *c = req->data;
  /* Closing stdin is the plugin's end of its configuration. */
  close_handle ((uv_handle_t *) &c->in);
}

static void
on_plugin_exit (uv_process_t *p, int64_t status, int sig)
{
  call_t *c = p->data;
  c->exited = true;
  c->exit_status = status;
  c->term_signal = sig;
  call_maybe_finish (c);
}

static void
on_timeout (uv_timer_t *t)
{
  call_t *c = t->data;
  if (!c->spawned)
    {
      call_finish (c);
      return;
    }
  if (!c->exited)
    {
      c->timed_out = true;
      /* The plugin runs in its own session: kill the whole group, so a
         helper it forked cannot keep the pipes open. */
      kill (-c->proc.pid, SIGKILL);
      uv_process_kill (&c->proc, SIGKILL);
      uv_timer_start (&c->timer, on_timeout, 5000, 0);
      return;
    }
  /* Exited, but something it left behind still holds stdout or stderr. */
  c->out_eof = c->err_eof = true;
  call_finish (c);
}

static char *
find_plugin (const char *bin_dir, const char *type)
{
  cleanup_free char *dirs = xstrdup (bin_dir ? bin_dir : "");
  char *save = NULL;
  for (char *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, type);
      struct stat st;
      if (stat (p, &st) == 0 && S_ISREG (st.st_mode) && access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static char *
plugin_path_list (const char *bin_dir)
{
  kd_buf_t b = { 0 };
  cleanup_free char *dirs = xstrdup (bin_dir ? bin_dir : "");
  char *save = NULL;
  kd_buf_putc (&b, '[');
  for (char *d = strtok_r (dirs, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      if (b.len > 1)
        kd_buf_putc (&b, ' ');
      kd_buf_puts (&b, d);
    }
  kd_buf_putc (&b, ']');
  return kd_buf_steal (&b);
}

/* Starts `type` with env and input on stdin; done is called exactly once,
   from the loop, after every handle is closed. */
static call_t *
call_start (kd_cni_t *cni, const char *type, char **env, char *input, call_done_fn done, void *op)
{
  call_t *c = xcalloc (1, sizeof *c);
  cleanup_free char *path = NULL;
  uv_process_options_t o = { 0 };
  uv_stdio_container_t stdio[3];
  char *args[2];
  int r;

  c->cni = cni;
  c->type = xstrdup (type);
  c->input = input;
  c->done = done;
  c->op = op;
  c->next = cni->calls;
  cni->calls = c;
  c->open_handles = 4; /* timer and pipes; the process once uv_spawn ran */
  c->proc.data = c->in.data = c->out.data = c->errp.data = c->timer.data = c;
  c->wreq.data = c;
  uv_timer_init (cni->loop, &c->timer);
  uv_pipe_init (cni->loop, &c->in, 0);
  uv_pipe_init (cni->loop, &c->out, 0);
  uv_pipe_init (cni->loop, &c->errp, 0);

  if (cni->closing)
    {
      /* waited in the queue while kd_cni_free was called */
      c->spawn_error = xstrdup ("cni: shutting down");
      uv_timer_start (&c->timer, on_timeout, 0, 0);
      return c;
    }
  path = find_plugin (cni->bin_dir, type);
  if (path == NULL)
    {
      cleanup_free char *dirs = plugin_path_list (cni->bin_dir);
      c->spawn_error = xasprintf ("failed to find plugin \"%s\" in path %s", type, dirs);
      uv_timer_start (&c->timer, on_timeout, 0, 0);
      return c;
    }

  args[0] = path;
  args[1] = NULL;
  stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
  stdio[0].data.stream = (uv_stream_t *) &c->in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *) &c->out;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *) &c->errp;
  o.file = path;
  o.args = args;
  o.env = env;
  o.stdio = stdio;
  o.stdio_count = 3;
  o.exit_cb = on_plugin_exit;
  o.flags = UV_PROCESS_DETACHED; /* own session and process group */
  /* uv_spawn initializes the handle even when it fails: close it then too. */
  c->proc_init = true;
  c->open_handles++;
  r = uv_spawn (cni->loop, &c->proc, &o);
  if (r < 0)
    {
      c->spawn_error = xasprintf ("exec plugin `%s`: %s", path, uv_strerror (r));
      uv_timer_start (&c->timer, on_timeout, 0, 0);
      return c;
    }
  c->spawned = true;
  uv_timer_start (&c->timer, on_timeout, (uint64_t) cni->timeout_ms, 0);
  uv_read_start ((uv_stream_t *) &c->out, on_alloc, on_read);
  uv_read_start ((uv_stream_t *) &c->errp, on_alloc, on_read);
  {
    uv_buf_t b = uv_buf_init (c->input, (unsigned) strlen (c->input));
    if (uv_write (&c->wreq, (uv_stream_t *) &c->in, &b, 1, on_written) < 0)
      close_handle ((uv_handle_t *) &c->in);
  }
  return c;
}

/* The message for a call that did not succeed, or NULL. */
static char *
call_error (const call_t *c, int64_t timeout_ms)
{
  if (c->spawn_error)
    return xstrdup (c->spawn_error);
  if (c->timed_out)
    return xasprintf ("plugin %s timed out after %lldms and was killed", c->type,
                      (long long) timeout_ms);
  if (c->term_signal)
    return xasprintf ("plugin %s killed by signal %d", c->type, c->term_signal);
  if (c->exit_status != 0)
    {
      if (c->out_buf.len > 0)
        return kd_cni_format_plugin_error (c->type, c->out_buf.s, c->out_buf.len,
                                           (int) c->exit_status);
      return kd_cni_format_plugin_error (c->type, c->err_buf.s, c->err_buf.len,
                                         (int) c->exit_status);
    }
  return NULL;
}

/* ---- operations ------------------------------------------------------ */

typedef struct
{
  kd_cni_t *cni;
  int cmd;
  kd_cni_net_t *net;
  rt_copy_t rt;
  kd_cni_cb cb;
  void *data;
  size_t done_plugins;
  json_t *prev;      /* ADD: the previous plugin's result */
  json_t *cached;    /* DEL/CHECK: the cached result */
  json_t *cached_pm; /* DEL: the port mappings given at ADD */
  char *first_err;
  char *version_type;
  int64_t start_ns; /* monotonic, for the operation metrics */
} op_t;

void
kd_cni_rt_copy (rt_copy_t *d, const kd_cni_runtime_t *s)
{
  d->container_id = xstrdup (s->container_id ? s->container_id : "");
  d->netns = xstrdup (s->netns ? s->netns : "");
  d->ifname = xstrdup (s->ifname ? s->ifname : "eth0");
  d->pod_namespace = s->pod_namespace ? xstrdup (s->pod_namespace) : NULL;
  d->pod_name = s->pod_name ? xstrdup (s->pod_name) : NULL;
  d->pod_uid = s->pod_uid ? xstrdup (s->pod_uid) : NULL;
  d->n_pm = s->n_port_mappings;
  d->pm = s->n_port_mappings ? xcalloc (s->n_port_mappings, sizeof *d->pm) : NULL;
  for (size_t i = 0; i < s->n_port_mappings; i++)
    {
      d->pm[i] = s->port_mappings[i];
      d->pm[i].protocol
          = xstrdup (s->port_mappings[i].protocol ? s->port_mappings[i].protocol : "tcp");
      d->pm[i].host_ip = s->port_mappings[i].host_ip ? xstrdup (s->port_mappings[i].host_ip) : NULL;
    }
}

void
kd_cni_rt_free (rt_copy_t *d)
{
  free (d->container_id);
  free (d->netns);
  free (d->ifname);
  free (d->pod_namespace);
  free (d->pod_name);
  free (d->pod_uid);
  for (size_t i = 0; i < d->n_pm; i++)
    {
      free ((char *) d->pm[i].protocol);
      free ((char *) d->pm[i].host_ip);
    }
  free (d->pm);
}

kd_cni_runtime_t
kd_cni_rt_view (const rt_copy_t *d)
{
  kd_cni_runtime_t rt = { d->container_id, d->netns,   d->ifname, d->pod_namespace,
                          d->pod_name,     d->pod_uid, d->pm,     d->n_pm };
  return rt;
}

void
kd_cni_op_begin (kd_cni_t *cni)
{
  cni->n_ops++;
}

static void
cni_destroy (kd_cni_t *cni)
{
  free (cni->conf_dir);
  free (cni->bin_dir);
  free (cni->root_dir);
  free (cni->pod_cidr);
  free (cni->bridge);
  free (cni->data_dir);
  json_decref (cni->last_version);
  uv_mutex_destroy (&cni->nat_lock);
  free (cni);
}

void
kd_cni_op_end (kd_cni_t *cni)
{
  if (--cni->n_ops == 0 && cni->closing)
    cni_destroy (cni);
}

static void
op_free (op_t *op)
{
  kd_cni_net_free (op->net);
  kd_cni_rt_free (&op->rt);
  json_decref (op->prev);
  json_decref (op->cached);
  json_decref (op->cached_pm);
  free (op->first_err);
  free (op->version_type);
  free (op);
}

static void
op_complete (op_t *op, const kd_cni_result_t *result, const char *err)
{
  kd_cni_t *cni = op->cni;
  if (op->cmd != CMD_VERSION)
    kd_metrics_cni_operation (cmd_names[op->cmd],
                              (double) (kd_monotonic_ns () - op->start_ns) / 1e9, err != NULL);
  if (op->cb)
    op->cb (cni, result, err, op->data);
  op_free (op);
  kd_cni_op_end (cni);
}

static char **
plugin_env (const kd_cni_t *cni, int cmd, const rt_copy_t *rt)
{
  size_t n = 0, cap = 0;
  char **env = NULL;

  /* Plugins inherit the daemon's environment (they run iptables through
     PATH), minus any CNI_* variable that is not ours. */
  for (char **e = environ; e && *e; e++)
    {
      if (kd_str_has_prefix (*e, "CNI_"))
        continue;
      kd_grow ((void **) &env, &cap, n + 1, sizeof *env);
      env[n++] = xstrdup (*e);
    }
  kd_grow ((void **) &env, &cap, n + 8, sizeof *env);
  env[n++] = xasprintf ("CNI_COMMAND=%s", cmd_names[cmd]);
  env[n++] = xasprintf ("CNI_PATH=%s", cni->bin_dir ? cni->bin_dir : "");
  if (cmd != CMD_VERSION)
    {
      env[n++] = xasprintf ("CNI_CONTAINERID=%s", rt->container_id);
      env[n++] = xasprintf ("CNI_NETNS=%s", rt->netns);
      env[n++] = xasprintf ("CNI_IFNAME=%s", rt->ifname);
      if (rt->pod_name)
        env[n++] = xasprintf ("CNI_ARGS=K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
                              "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s;IgnoreUnknown=1",
                              rt->pod_namespace ? rt->pod_namespace : "", rt->pod_name,
                              rt->container_id, rt->pod_uid ? rt->pod_uid : "");
      else
        env[n++] = xstrdup ("CNI_ARGS=IgnoreUnknown=1");
    }
  env[n] = NULL;
  return env;
}

static void
env_free (char **env)
{
  for (char **e = env; e && *e; e++)
    free (*e);
  free (env);
}

/* ---- the queue of plugin processes ----------------------------------- */

/* A plugin call waiting for one of the max_running places. */
struct kd_cni_pending
{
  char *type;
  char **env;
  char *input;
  call_done_fn done;
  void *op;
  struct kd_cni_pending *next;
};

/* Starts a plugin now when fewer than max_running run, else queues it (in
   order). With hundreds of pods starting at once, every plugin process at
   the same time only queues them on the xtables and IPAM locks and on two
   CPUs, each spawn blocks the loop a little longer, and the API waits. */
static void
call_submit (kd_cni_t *cni, const char *type, char **env, char *input, call_done_fn done, void *op)
{
  struct kd_cni_pending *p;

  if (cni->running < cni->max_running)
    {
      cni->running++;
      call_start (cni, type, env, input, done, op);
      env_free (env); /* uv_spawn has copied it by now */
      return;
    }
  p = xcalloc (1, sizeof *p);
  p->type = xstrdup (type);
  p->env = env;
  p->input = input;
  p->done = done;
  p->op = op;
  if (cni->pending_tail)
    cni->pending_tail->next = p;
  else
    cni->pending = p;
  cni->pending_tail = p;
}

static void
pump (kd_cni_t *cni)
{
  while (cni->pending && cni->running < cni->max_running)
    {
      struct kd_cni_pending *p = cni->pending;

      cni->pending = p->next;
      if (cni->pending == NULL)
        cni->pending_tail = NULL;
      cni->running++;
      call_start (cni, p->type, p->env, p->input, p->done, p->op);
      env_free (p->env);
      free (p->type);
      free (p);
    }
}

/* The plugin's stdin, as libcni builds it: the plugin object plus the
   network's name and version, prevResult, and runtimeConfig with the
   capabilities this plugin declares. */
static char *
plugin_input (const op_t *op, json_t *plugin, json_t *prev)
{
  json_t *conf = json_deep_copy (plugin);
  json_t *caps = json_object_get (plugin, "capabilities");
  char *s;

  json_object_set_new (conf, "name", json_string (op->net->name));
  json_object_set_new (conf, "cniVersion", json_string (op->net->cni_version));
  if (prev)
    json_object_set (conf, "prevResult", prev);
  if (json_is_true (json_object_get (caps, "portMappings")) && op->rt.n_pm == 0
      && op->cached_pm != NULL)
    {
      /* portmap's DEL does nothing without the mappings: give it those of
         ADD, as libcni does with its cached capability arguments. */
      json_t *rc = json_object_get (conf, "runtimeConfig");
      if (!json_is_object (rc))
        {
          rc = json_object ();
          json_object_set_new (conf, "runtimeConfig", rc);
        }
      json_object_set (rc, "portMappings", op->cached_pm);
    }
  else if (json_is_true (json_object_get (caps, "portMappings")) && op->rt.n_pm > 0)
    {
      json_t *rc = json_object_get (conf, "runtimeConfig");
      json_t *pms = json_array ();
      if (!json_is_object (rc))
        {
          rc = json_object ();
          json_object_set_new (conf, "runtimeConfig", rc);
        }
      for (size_t i = 0; i < op->rt.n_pm; i++)
        {
          const kd_cni_port_mapping_t *pm = &op->rt.pm[i];
          json_t *m = json_pack ("{s:i, s:i, s:s}", "hostPort", pm->host_port, "containerPort",
                                 pm->container_port, "protocol", pm->protocol);
          if (pm->host_ip && *pm->host_ip)
            json_object_set_new (m, "hostIP", json_string (pm->host_ip));
          json_array_append_new (pms, m);
        }
      json_object_set_new (rc, "portMappings", pms);
    }
  s = json_dumps (conf, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (conf);
  if (s == NULL)
    abort ();
  return s;
}

static void op_step (op_t *op);

static void
op_finish (op_t *op)
{
  kd_error_t e = NULL;

  if (op->cmd == CMD_ADD)
    {
      kd_cni_result_t *r;
      kd_cni_runtime_t rt = kd_cni_rt_view (&op->rt);
      if (op->first_err)
        {
          op_complete (op, NULL, op->first_err);
          return;
        }
      if (op->prev == NULL)
        {
          op_complete (op, NULL, "network returned no result");
          return;
        }
      /* Cached before anyone hears of the attachment, so a crash right
         after still lets DEL and GC find it. */
      if (kd_cni_cache_write (op->cni, op->net, &rt, op->prev, &e) < 0)
        {
          kd_warn ("cni: %s", e->msg);
          kd_error_release (&e);
        }
      r = kd_cni_result_from_json (op->prev);
      op_complete (op, r, NULL);
      kd_cni_result_free (r);
      return;
    }
  if (op->cmd == CMD_DEL && op->first_err == NULL)
    kd_cni_cache_remove (op->cni, op->net->name, op->rt.container_id, op->rt.ifname);
  op_complete (op, NULL, op->first_err);
}

static void
on_call_done (call_t *c)
{
  op_t *op = c->op;
  cleanup_free char *msg = NULL;

  msg = call_error (c, op->cni->timeout_ms);
  if (msg && op->cni->closing)
    {
      free (msg);
      msg = xstrdup ("cni: shutting down");
    }
  if (msg == NULL && op->cmd == CMD_ADD)
    {
      json_error_t jerr;
      json_t *j = c->out_buf.len ? json_loadb (c->out_buf.s, c->out_buf.len, 0, &jerr) : NULL;
      if (!json_is_object (j))
        msg = xasprintf ("plugin %s: invalid result: %s", c->type,
                         c->out_buf.len ? (j ? "not an object" : jerr.text) : "empty output");
      else
        {
          json_decref (op->prev);
          op->prev = json_incref (j);
        }
      json_decref (j);
    }
  else if (msg == NULL && op->cmd == CMD_VERSION)
    {
      json_t *j = json_loadb (c->out_buf.s ? c->out_buf.s : "", c->out_buf.len, 0, NULL);
      if (!json_is_object (j))
        msg = xasprintf ("plugin %s: invalid VERSION output", c->type);
      json_decref (op->cni->last_version);
      op->cni->last_version = j;
    }
  call_free (c);

  if (msg && op->first_err == NULL)
    op->first_err = steal_pointer (&msg);
  op->done_plugins++;
  /* ADD and CHECK stop at the first failure; DEL asks every plugin. */
  if (op->first_err && op->cmd != CMD_DEL)
    {
      op_finish (op);
      return;
    }
  op_step (op);
}

static void
op_step (op_t *op)
{
  size_t n = op->cmd == CMD_VERSION ? 1 : json_array_size (op->net->plugins);
  json_t *plugin;
  char **env;
  char *input;
  const char *type;

  if (op->done_plugins >= n)
    {
      op_finish (op);
      return;
    }
  if (op->cni->closing)
    {
      if (op->first_err == NULL)
        op->first_err = xstrdup ("cni: shutting down");
      op_finish (op);
      return;
    }
  if (op->cmd == CMD_VERSION)
    {
      type = op->version_type;
      input = xasprintf ("{\"cniVersion\":\"%s\"}", "1.0.0");
    }
  else
    {
      size_t idx = op->cmd == CMD_DEL ? n - 1 - op->done_plugins : op->done_plugins;
      plugin = json_array_get (op->net->plugins, idx);
      type = json_string_value (json_object_get (plugin, "type"));
      /* prevResult only exists from 0.4.0 on for DEL and CHECK; ADD chains
         it from the second plugin on. */
      if (op->cmd == CMD_ADD)
        input = plugin_input (op, plugin, op->prev);
      else if (kd_cni_version_cmp (op->net->cni_version, "0.4.0") >= 0)
        input = plugin_input (op, plugin, op->cached);
      else
        input = plugin_input (op, plugin, NULL);
    }
  kd_vlog (4, "cni: %s %s %s", cmd_names[op->cmd], type, op->rt.container_id);
  env = plugin_env (op->cni, op->cmd, &op->rt);
  call_submit (op->cni, type, env, input, on_call_done, op);
}

static op_t *
op_new (kd_cni_t *cni, int cmd, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
        void *data)
{
  op_t *op = xcalloc (1, sizeof *op);
  kd_cni_runtime_t empty = { 0 };
  op->cni = cni;
  op->cmd = cmd;
  op->start_ns = kd_monotonic_ns ();
  op->net = net ? kd_cni_net_copy (net) : NULL;
  kd_cni_rt_copy (&op->rt, rt ? rt : &empty);
  op->cb = cb;
  op->data = data;
  kd_cni_op_begin (cni);
  return op;
}

/* Starts an operation on the next loop iteration, so a callback never runs
   inside the call that asked for it. */
static void
on_deferred (uv_timer_t *t)
{
  op_t *op = t->data;
  uv_close ((uv_handle_t *) t, (uv_close_cb) free);
  op_step (op);
}

static void
op_defer (op_t *op)
{
  uv_timer_t *t = xcalloc (1, sizeof *t);
  uv_timer_init (op->cni->loop, t);
  t->data = op;
  uv_timer_start (t, on_deferred, 0, 0);
}

static void
op_fail_deferred (op_t *op, const char *msg)
{
  op->first_err = xstrdup (msg);
  op->done_plugins = SIZE_MAX / 2; /* op_step goes straight to op_finish */
  op_defer (op);
}

void
kd_cni_add (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
            void *data)
{
  op_defer (op_new (cni, CMD_ADD, net, rt, cb, data));
}

void
kd_cni_del (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
            void *data)
{
  op_t *op = op_new (cni, CMD_DEL, net, rt, cb, data);
  kd_cni_cache_t *cache = NULL;
  kd_error_t e = NULL;

  /* DEL works with no cache too (the plugins are idempotent); with one, the
     plugins get the result they returned at ADD as prevResult. */
  if (kd_cni_cache_read (cni, net->name, op->rt.container_id, op->rt.ifname, &cache, &e) < 0)
    {
      kd_warn ("cni: %s", e->msg);
      kd_error_release (&e);
    }
  if (cache && cache->result)
    op->cached = json_incref (cache->result);
  if (cache && cache->capability_args)
    {
      json_t *pm = json_object_get (cache->capability_args, "portMappings");
      if (json_is_array (pm) && json_array_size (pm) > 0)
        op->cached_pm = json_incref (pm);
    }
  kd_cni_cache_free (cache);
  op_defer (op);
}

void
kd_cni_check (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt, kd_cni_cb cb,
              void *data)
{
  op_t *op = op_new (cni, CMD_CHECK, net, rt, cb, data);
  kd_cni_cache_t *cache = NULL;
  kd_error_t e = NULL;

  if (kd_cni_version_cmp (net->cni_version, "0.4.0") < 0)
    {
      cleanup_free char *m = xasprintf ("configuration version \"%s\" does not support the "
                                        "CHECK command",
                                        net->cni_version);
      op_fail_deferred (op, m);
      return;
    }
  if (kd_cni_cache_read (cni, net->name, op->rt.container_id, op->rt.ifname, &cache, &e) < 0)
    {
      op_fail_deferred (op, e->msg);
      kd_error_release (&e);
      return;
    }
  if (cache == NULL || cache->result == NULL)
    {
      cleanup_free char *m = xasprintf ("no cached result for network %s, container %s, "
                                        "interface %s",
                                        net->name, op->rt.container_id, op->rt.ifname);
      kd_cni_cache_free (cache);
      op_fail_deferred (op, m);
      return;
    }
  op->cached = json_incref (cache->result);
  kd_cni_cache_free (cache);
  op_defer (op);
}

void
kd_cni_version (kd_cni_t *cni, const char *plugin_type, kd_cni_cb cb, void *data)
{
  op_t *op = op_new (cni, CMD_VERSION, NULL, NULL, cb, data);
  op->version_type = xstrdup (plugin_type);
  op_defer (op);
}

const json_t *
kd_cni_last_version_json (const kd_cni_t *cni)
{
  return cni->last_version;
}

/* ---- the context ----------------------------------------------------- */

kd_cni_t *
kd_cni_new (uv_loop_t *loop, const kd_cni_opts_t *opts)
{
  kd_cni_t *cni = xcalloc (1, sizeof *cni);
  cni->loop = loop;
  cni->conf_dir = opts->conf_dir ? xstrdup (opts->conf_dir) : NULL;
  cni->bin_dir = xstrdup (opts->bin_dir ? opts->bin_dir : "/usr/lib/cni:/opt/cni/bin");
  cni->root_dir = xstrdup (opts->root_dir ? opts->root_dir : "/var/lib/kubeletd");
  cni->pod_cidr = xstrdup (opts->pod_cidr ? opts->pod_cidr : "10.88.0.0/16");
  cni->bridge = xstrdup (opts->bridge ? opts->bridge : KD_CNI_DEFAULT_BRIDGE);
  cni->data_dir
      = opts->data_dir ? xstrdup (opts->data_dir) : xasprintf ("%s/cni/networks", cni->root_dir);
  cni->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : KD_CNI_DEFAULT_TIMEOUT_MS;
  if (uv_mutex_init (&cni->nat_lock) != 0)
    abort ();
  cni->max_running = opts->max_running > 0 ? opts->max_running : KD_CNI_DEFAULT_MAX_RUNNING;
  return cni;
}

void
kd_cni_free (kd_cni_t *cni)
{
  if (cni == NULL)
    return;
  cni->closing = true;
  for (call_t *c = cni->calls; c; c = c->next)
    if (c->spawned && !c->exited)
      {
        kill (-c->proc.pid, SIGKILL);
        uv_process_kill (&c->proc, SIGKILL);
      }
  if (cni->n_ops == 0)
    cni_destroy (cni);
}

int
kd_cni_load_network (kd_cni_t *cni, kd_cni_net_t **out, kd_error_t *err)
{
  if (cni->conf_dir && kd_cni_net_find (cni->conf_dir, out, err) < 0)
    return -1;
  if (*out == NULL)
    *out = kd_cni_default_network (cni->bridge, cni->pod_cidr, cni->data_dir);
  return 0;
}

const char *
kd_cni_data_dir (const kd_cni_t *cni)
{
  return cni->data_dir;
}
