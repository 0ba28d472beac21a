/* The pod's checkpoint, <root-dir>/pods/<uid>/checkpoint.json, written
   atomically (temp file, fsync, rename) after changes of a container's
   run: what a restarted kubeletd needs to adopt the pod (container name ->
   current id, restart count, the last terminated state, the image id,
   whether an init container already succeeded) and to tear it down when it
   is no longer wanted (namespace, name, cgroup path, pod IPs).

   The writes are coalesced: kd_checkpoint_save marks the pod dirty and a
   per-pod timer writes it on a later loop turn, at most once every
   KD_CHECKPOINT_INTERVAL_MS. A mass start used to fsync on the loop for
   every step of every pod. A checkpoint may therefore lag the memory by
   one write. Recovery (manager.c, on_adopt_state) tolerates that: it
   matches the checkpoint's runs to the shim's containers by id and takes
   exits from the shim, whose state.json is fsynced before the exit is
   reported. A run the lagging checkpoint still shows as creating or
   running is adopted if the shim still runs it, or reported with its true
   exit code if it exited; what a lag loses is at most the bookkeeping of
   an exit already handled (it is handled again from state.json) or the pod
   IPs of a sandbox just set up (the network GC after recovery releases
   them). The one write that cannot lag is the new container id before the
   shim is asked to create the container (kd_checkpoint_flush in
   containers.c): a container the checkpoint does not name would be left
   running unseen by the recovery. */
#include "worker-internal.h"

#define KD_CHECKPOINT_INTERVAL_MS 50

static json_t *
state_json (const kd_ctr_state_rec_t *s)
{
  json_t *j = json_object ();

  json_object_set_new (j, "kind", json_integer (s->kind));
  if (s->reason)
    json_object_set_new (j, "reason", json_string (s->reason));
  if (s->message)
    json_object_set_new (j, "message", json_string (s->message));
  json_object_set_new (j, "exitCode", json_integer (s->exit_code));
  json_object_set_new (j, "signal", json_integer (s->signal));
  json_object_set_new (j, "startedAt", json_integer (s->started_at));
  json_object_set_new (j, "finishedAt", json_integer (s->finished_at));
  if (s->container_id)
    json_object_set_new (j, "containerID", json_string (s->container_id));
  return j;
}

static char *
opt_str (const json_t *j, const char *key)
{
  const char *s = json_string_value (json_object_get (j, key));
  return s ? xstrdup (s) : NULL;
}

static void
state_from_json (const json_t *j, kd_ctr_state_rec_t *s)
{
  memset (s, 0, sizeof (*s));
  if (!json_is_object (j))
    return;
  s->kind = (kd_ctr_state_kind_t) json_integer_value (json_object_get (j, "kind"));
  s->reason = opt_str (j, "reason");
  s->message = opt_str (j, "message");
  s->exit_code = (int32_t) json_integer_value (json_object_get (j, "exitCode"));
  s->signal = (int32_t) json_integer_value (json_object_get (j, "signal"));
  s->started_at = json_integer_value (json_object_get (j, "startedAt"));
  s->finished_at = json_integer_value (json_object_get (j, "finishedAt"));
  s->container_id = opt_str (j, "containerID");
}

static const char *const phase_names[]
    = { "idle", "backoff", "pulling", "creating", "running", "done" };

static void
checkpoint_write (kd_pod_worker_t *w)
{
  json_t *j, *ctrs, *ips;
  cleanup_free char *path = NULL;
  char *text;
  kd_error_t err = NULL;

  j = json_object ();
  json_object_set_new (j, "uid", json_string (w->uid));
  json_object_set_new (j, "namespace", json_string (w->ns));
  json_object_set_new (j, "name", json_string (w->name));
  json_object_set_new (j, "cgroup", json_string (w->cg_path));
  json_object_set_new (j, "startTime", json_integer (w->rec.start_time));
  ips = json_array ();
  for (size_t i = 0; i < w->rec.n_pod_ips; i++)
    json_array_append_new (ips, json_string (w->rec.pod_ips[i]));
  json_object_set_new (j, "podIPs", ips);
  ctrs = json_array ();
  for (size_t i = 0; i < w->n_ctrs; i++)
    {
      const kd_ctr_t *c = &w->ctrs[i];
      const kd_ctr_record_t *r = c->rec;
      json_t *cj = json_object ();

      json_object_set_new (cj, "name", json_string (r->name));
      json_object_set_new (cj, "init", json_boolean (c->is_init));
      if (c->cid)
        json_object_set_new (cj, "id", json_string (c->cid));
      json_object_set_new (cj, "phase", json_string (phase_names[c->phase]));
      json_object_set_new (cj, "restartCount", json_integer (r->restart_count));
      json_object_set_new (cj, "everStarted", json_boolean (c->ever_started));
      json_object_set_new (cj, "succeeded", json_boolean (c->succeeded));
      json_object_set_new (cj, "state", state_json (&r->state));
      if (r->has_last)
        json_object_set_new (cj, "lastState", state_json (&r->last_state));
      if (r->container_id)
        json_object_set_new (cj, "containerID", json_string (r->container_id));
      if (r->image)
        json_object_set_new (cj, "image", json_string (r->image));
      if (r->image_id)
        json_object_set_new (cj, "imageID", json_string (r->image_id));
      json_object_set_new (cj, "backoffNs", json_integer (c->backoff.backoff_ns));
      json_object_set_new (cj, "backoffUpdateNs", json_integer (c->backoff.last_update_ns));
      json_object_set_new (cj, "backoffSet", json_boolean (c->backoff.set));
      json_array_append_new (ctrs, cj);
    }
  json_object_set_new (j, "containers", ctrs);
  text = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  path = xasprintf ("%s/checkpoint.json", w->root_dir);
  /* the folder is made with the sandbox: mkdir only when it is missing */
  if (kd_write_file_atomic (path, text, strlen (text), 0600, &err) < 0 && err->status == ENOENT)
    {
      kd_error_release (&err);
      if (kd_mkdir_p (w->root_dir, 0750, &err) == 0)
        (void) kd_write_file_atomic (path, text, strlen (text), 0600, &err);
    }
  if (err)
    kd_error_log_release (&err);
  free (text);
  w->ckpt_dirty = false;
  w->ckpt_written_ms = uv_now (w->m->loop);
}

static void
on_checkpoint_timer (uv_timer_t *t)
{
  kd_pod_worker_t *w = t->data;

  /* a worker that is gone has closed (or is closing) this timer */
  if (w->gone || !w->ckpt_dirty)
    return;
  checkpoint_write (w);
}

void
kd_checkpoint_save (kd_pod_worker_t *w)
{
  uint64_t now, due = 0;

  if (w->gone || w->state == W_WAITING)
    return;
  w->ckpt_dirty = true;
  if (!w->ckpt_timer_init)
    {
      uv_timer_init (w->m->loop, &w->ckpt_timer);
      w->ckpt_timer.data = w;
      w->ckpt_timer_init = true;
      w->handles++;
    }
  else if (uv_is_active ((uv_handle_t *) &w->ckpt_timer))
    return; /* the armed write takes this change too */
  now = uv_now (w->m->loop);
  if (w->ckpt_written_ms && now < w->ckpt_written_ms + KD_CHECKPOINT_INTERVAL_MS)
    due = w->ckpt_written_ms + KD_CHECKPOINT_INTERVAL_MS - now;
  uv_timer_start (&w->ckpt_timer, on_checkpoint_timer, due, 0);
}

void
kd_checkpoint_flush (kd_pod_worker_t *w)
{
  if (w->ckpt_timer_init)
    uv_timer_stop (&w->ckpt_timer);
  if (w->gone || w->state == W_WAITING)
    return;
  checkpoint_write (w);
}

void
kd_checkpoint_discard (kd_pod_worker_t *w)
{
  w->ckpt_dirty = false;
  kd_w_close_timer (w, &w->ckpt_timer, &w->ckpt_timer_init);
}

static json_t *
read_checkpoint (const char *root_dir, const char *uid)
{
  cleanup_free char *path = xasprintf ("%s/pods/%s/checkpoint.json", root_dir, uid);
  cleanup_free char *data = NULL;
  size_t len = 0;
  kd_error_t err = NULL;

  if (kd_read_file (path, 4 * 1024 * 1024, &data, &len, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  return json_loadb (data, len, 0, NULL);
}

bool
kd_checkpoint_load (kd_pod_worker_t *w)
{
  json_t *j = read_checkpoint (w->m->cfg->root_dir, w->uid), *ctrs, *cj, *ips, *ip;
  size_t i, k;

  if (j == NULL)
    return false;
  w->rec.start_time = json_integer_value (json_object_get (j, "startTime"));
  ips = json_object_get (j, "podIPs");
  json_array_foreach (ips, k, ip)
  {
    if (!json_is_string (ip))
      continue;
    w->rec.pod_ips = xrealloc (w->rec.pod_ips, (w->rec.n_pod_ips + 2) * sizeof (char *));
    w->rec.pod_ips[w->rec.n_pod_ips++] = xstrdup (json_string_value (ip));
  }
  ctrs = json_object_get (j, "containers");
  json_array_foreach (ctrs, i, cj)
  {
    const char *name = json_string_value (json_object_get (cj, "name"));
    bool init = json_is_true (json_object_get (cj, "init"));
    const char *phase = json_string_value (json_object_get (cj, "phase"));

    for (k = 0; k < w->n_ctrs; k++)
      {
        kd_ctr_t *c = &w->ctrs[k];
        kd_ctr_record_t *r = c->rec;

        if (c->is_init != init || !kd_str_eq (r->name, name))
          continue;
        free (c->cid);
        c->cid = opt_str (cj, "id");
        r->restart_count = (int32_t) json_integer_value (json_object_get (cj, "restartCount"));
        c->ever_started = json_is_true (json_object_get (cj, "everStarted"));
        c->succeeded = json_is_true (json_object_get (cj, "succeeded"));
        free (r->state.reason);
        free (r->state.message);
        free (r->state.container_id);
        state_from_json (json_object_get (cj, "state"), &r->state);
        if (json_object_get (cj, "lastState"))
          {
            state_from_json (json_object_get (cj, "lastState"), &r->last_state);
            r->has_last = true;
          }
        r->container_id = opt_str (cj, "containerID");
        r->image = opt_str (cj, "image");
        r->image_id = opt_str (cj, "imageID");
        c->backoff.backoff_ns = json_integer_value (json_object_get (cj, "backoffNs"));
        c->backoff.last_update_ns = json_integer_value (json_object_get (cj, "backoffUpdateNs"));
        c->backoff.set = json_is_true (json_object_get (cj, "backoffSet"));
        /* the phase as it was; the recovery turns running/creating into
           adoption or a lost run */
        c->phase = C_IDLE;
        if (kd_str_eq (phase, "running") || kd_str_eq (phase, "creating"))
          c->phase = C_RUNNING;
        else if (kd_str_eq (phase, "done"))
          c->phase = C_DONE;
        break;
      }
  }
  json_decref (j);
  return true;
}

int
kd_checkpoint_read_info (const char *root_dir, const char *uid, kd_checkpoint_info_t *info)
{
  json_t *j = read_checkpoint (root_dir, uid), *ctrs, *cj;
  size_t i;

  memset (info, 0, sizeof (*info));
  if (j == NULL)
    return -1;
  info->uid = xstrdup (uid);
  info->ns = opt_str (j, "namespace");
  info->name = opt_str (j, "name");
  info->cg_path = opt_str (j, "cgroup");
  ctrs = json_object_get (j, "containers");
  json_array_foreach (ctrs, i, cj)
  {
    const char *id = json_string_value (json_object_get (cj, "id"));
    if (id == NULL)
      continue;
    info->cids.v = xrealloc (info->cids.v, (info->cids.n + 1) * sizeof (char *));
    info->cids.v[info->cids.n++] = xstrdup (id);
  }
  json_decref (j);
  return 0;
}

void
kd_checkpoint_info_free (kd_checkpoint_info_t *info)
{
  free (info->uid);
  free (info->ns);
  free (info->name);
  free (info->cg_path);
  for (size_t i = 0; i < info->cids.n; i++)
    free (info->cids.v[i]);
  free (info->cids.v);
  memset (info, 0, sizeof (*info));
}
