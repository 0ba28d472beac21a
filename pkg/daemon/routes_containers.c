/* GET /containers and GET /containers/<ref>: the containers of the pods the
   manager runs, for `kubeletctl inspect` and shell completion.

   <ref> is a container id or a unique prefix of one (docker's rule: an
   exact id wins, several matches are refused with 400 "multiple IDs found
   with provided prefix: x"), or <namespace>/<pod>/<container>. Unknown:
   404 "No such container: x".

   The inspect body joins what three owners know: the pod store (the v1
   ContainerStatus and the pod), the pod manager (the current run id, the
   shim, the cgroup) and the bundle on disk (<pod-dir>/containers/<id>:
   config.json for rootfs, mounts, process and log path; state.json for the
   pid and exit). A run that has exited has no bundle any more: its status
   says how it ended, and its log path follows the logs' naming. Files are
   small and local: read in the handler. */
#include <libgen.h>

#include "daemon-internal.h"
#include "kubeletd/logs.h"
#include "kubeletd/runtime.h"
#include "kubeletd/shim.h"

typedef struct
{
  kd_pod_store_t *store;
  kd_podmgr_t *pods;
  char *pod_logs_dir;
} containers_route_t;

/* One per daemon; reachable for the life of the process. */
static containers_route_t containers_route;

/* The v1 ContainerStatus of name in the pod's JSON, or NULL (borrowed). */
static json_t *
status_of (json_t *pod_json, const char *name, bool is_init)
{
  json_t *list = json_object_get (json_object_get (pod_json, "status"),
                                  is_init ? "initContainerStatuses" : "containerStatuses");
  size_t i;
  json_t *cs;

  json_array_foreach (list, i, cs) if (kd_str_eq (json_string_value (json_object_get (cs, "name")),
                                                  name)) return cs;
  return NULL;
}

/* "running", "waiting", "terminated" from a ContainerStatus; "created"
   before the first status. */
static const char *
state_word (json_t *cs)
{
  json_t *state = json_object_get (cs, "state");

  if (json_object_get (state, "running"))
    return "running";
  if (json_object_get (state, "terminated"))
    return "terminated";
  if (json_object_get (state, "waiting"))
    return "waiting";
  return "created";
}

static json_t *
pod_json_of (const kd_podmgr_ctr_t *c)
{
  const kd_pod_t *pod = kd_pod_store_get (containers_route.store, c->ns, c->pod);

  if (pod == NULL || !kd_str_eq (pod->metadata.uid, c->pod_uid))
    return NULL;
  return kd_pod_to_json (pod);
}

static void
handle_list (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_podmgr_ctr_t *all = NULL;
  size_t n = kd_podmgr_containers (containers_route.pods, &all);
  json_t *items = json_array ();

  for (size_t i = 0; i < n; i++)
    {
      json_t *pod = pod_json_of (&all[i]);
      json_t *cs = pod ? status_of (pod, all[i].name, all[i].is_init) : NULL;

      json_array_append_new (items, json_pack ("{s:o, s:s, s:s, s:s, s:s, s:b}", "id",
                                               all[i].id ? json_string (all[i].id) : json_null (),
                                               "namespace", all[i].ns, "pod", all[i].pod, "name",
                                               all[i].name, "state", state_word (cs), "init",
                                               all[i].is_init));
      json_decref (pod);
    }
  kd_podmgr_ctrs_free (all, n);
  kd_http_respond_json (conn, 200, items);
}

/* ---- inspect ------------------------------------------------------------- */

static json_t *
strv_json (char *const *v, size_t n)
{
  json_t *a = json_array ();

  for (size_t i = 0; i < n && v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *
mounts_json (const kd_ctr_spec_t *spec)
{
  json_t *a = json_array ();

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const kd_mount_t *m = &spec->mounts[i];
      json_t *o = json_pack ("{s:s?, s:s?, s:s?, s:b, s:b}", "source", m->source, "destination",
                             m->destination, "type", m->type, "readOnly", m->readonly, "recursive",
                             m->recursive);

      if (m->data)
        json_object_set_new (o, "data", json_string (m->data));
      json_array_append_new (a, o);
    }
  return a;
}

/* The cgroup directories: those of the cgroup.procs files the container
   was put in. */
static json_t *
cgroup_dirs_json (const kd_ctr_spec_t *spec)
{
  json_t *a = json_array ();

  for (size_t i = 0; i < spec->n_cgroup_procs; i++)
    {
      cleanup_free char *p = xstrdup (spec->cgroup_procs[i]);
      json_array_append_new (a, json_string (dirname (p)));
    }
  return a;
}

/* Adds what config.json tells; false when the bundle is gone (a run is
   removed once it has exited, its log kept). */
static bool
add_spec (json_t *o, const char *bundle)
{
  kd_ctr_spec_t spec;
  kd_error_t err = NULL;

  memset (&spec, 0, sizeof (spec));
  if (kd_ctr_spec_load (bundle, &spec, &err) < 0)
    {
      kd_error_release (&err);
      return false;
    }
  json_object_set_new (o, "rootfs",
                       json_pack ("{s:s?, s:s?, s:s?, s:o, s:b}", "path", spec.rootfs, "upperdir",
                                  spec.upperdir, "workdir", spec.workdir, "lowerdirs",
                                  strv_json (spec.lowerdirs, spec.n_lowerdirs), "readOnly",
                                  spec.readonly_rootfs));
  json_object_set_new (o, "mounts", mounts_json (&spec));
  json_object_set_new (o, "process",
                       json_pack ("{s:o, s:s, s:{s:I, s:I}}", "args",
                                  strv_json (spec.argv, spec.argc), "cwd",
                                  spec.cwd ? spec.cwd : "/", "user", "uid", (json_int_t) spec.uid,
                                  "gid", (json_int_t) spec.gid));
  json_object_set_new (o, "cgroupDirs", cgroup_dirs_json (&spec));
  json_object_set_new (o, "logPath", spec.log_path ? json_string (spec.log_path) : json_null ());
  kd_ctr_spec_free (&spec);
  return true;
}

/* The log file of the last run, by the logs' naming (as GET
   /containerLogs finds it), when the bundle that named it is gone. */
static json_t *
last_log_path (const kd_podmgr_ctr_t *c, json_int_t restart_count)
{
  cleanup_free char *dir
      = kd_logs_container_dir (containers_route.pod_logs_dir, c->ns, c->pod, c->pod_uid, c->name);
  int latest = kd_logs_latest_restart (dir);

  if (latest < 0)
    return json_null ();
  if (restart_count > latest)
    latest = (int) restart_count;
  return json_sprintf ("%s/%d.log", dir, latest);
}

/* Adds the shim's record of the run (state.json): pid while running. */
static void
add_state (json_t *o, const char *bundle)
{
  cleanup_free char *path = xasprintf ("%s/state.json", bundle);
  cleanup_free char *data = NULL;
  kd_shim_ctr_state_t st;
  kd_error_t err = NULL;
  json_t *j;

  memset (&st, 0, sizeof (st));
  if (kd_read_file (path, 1 << 20, &data, NULL, &err) < 0)
    {
      kd_error_release (&err);
      return;
    }
  j = json_loads (data, 0, NULL);
  if (j == NULL)
    return;
  if (kd_shim_state_from_json (j, &st, &err) < 0)
    kd_error_release (&err);
  else
    {
      json_object_set_new (o, "pid", json_integer (st.running ? st.pid : 0));
      json_object_set_new (o, "runtimeState", json_incref (j));
      kd_shim_state_free (&st);
    }
  json_decref (j);
}

static json_t *
inspect_json (const kd_podmgr_ctr_t *c)
{
  json_t *pod = pod_json_of (c);
  json_t *cs = pod ? status_of (pod, c->name, c->is_init) : NULL;
  json_t *o;

  o = json_pack ("{s:o, s:s, s:b, s:{s:s, s:s, s:s}, s:O?, s:I, s:I, s:s, s:o}", "id",
                 c->id ? json_string (c->id) : json_null (), "name", c->name, "init", c->is_init,
                 "pod", "namespace", c->ns, "name", c->pod, "uid", c->pod_uid, "status", cs,
                 "restartCount",
                 (json_int_t) json_integer_value (json_object_get (cs, "restartCount")), "shimPid",
                 (json_int_t) c->shim_pid, "podDir", c->pod_dir, "cgroup",
                 c->cgroup ? json_string (c->cgroup) : json_null ());
  json_object_set_new (o, "running", json_boolean (c->running));
  json_object_set_new (o, "pid", json_integer (0));
  json_object_set_new (o, "bundle", json_null ());
  if (c->id)
    {
      cleanup_free char *bundle = xasprintf ("%s/containers/%s", c->pod_dir, c->id);

      if (add_spec (o, bundle))
        {
          json_object_set_new (o, "bundle", json_string (bundle));
          add_state (o, bundle);
        }
    }
  if (json_object_get (o, "logPath") == NULL)
    json_object_set_new (
        o, "logPath", last_log_path (c, json_integer_value (json_object_get (o, "restartCount"))));
  json_decref (pod);
  return o;
}

static void
handle_inspect (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  const char *ref = req->path + strlen ("/containers/");
  kd_podmgr_ctr_t *all = NULL;
  size_t n, found = 0, matches = 0;
  int r;

  if (strchr (ref, '/') != NULL)
    {
      /* namespace/pod/container */
      const char *s1 = strchr (ref, '/'), *s2 = strchr (s1 + 1, '/');
      cleanup_free char *ns = xstrndup (ref, (size_t) (s1 - ref));
      cleanup_free char *pod = s2 ? xstrndup (s1 + 1, (size_t) (s2 - s1 - 1)) : NULL;
      kd_podmgr_ctr_t c;

      r = s2 && s2[1] && !strchr (s2 + 1, '/')
              ? kd_podmgr_container (containers_route.pods, ns, pod, s2 + 1, &c)
              : KD_PODMGR_NO_POD;
      if (r < 0)
        {
          kd_http_respond_status (conn, 404, "NotFound", "No such container: %s", ref);
          return;
        }
      kd_http_respond_json (conn, 200, inspect_json (&c));
      kd_podmgr_ctr_free (&c);
      return;
    }
  n = kd_podmgr_containers (containers_route.pods, &all);
  for (size_t i = 0; i < n && kd_str_hex_p (ref); i++)
    {
      if (all[i].id == NULL || !kd_str_has_prefix (all[i].id, ref))
        continue;
      if (strcmp (all[i].id, ref) == 0)
        {
          found = i;
          matches = 1;
          break;
        }
      found = i;
      matches++;
    }
  if (matches == 0)
    kd_http_respond_status (conn, 404, "NotFound", "No such container: %s", ref);
  else if (matches > 1)
    kd_http_respond_status (conn, 400, "BadRequest", "multiple IDs found with provided prefix: %s",
                            ref);
  else
    kd_http_respond_json (conn, 200, inspect_json (&all[found]));
  kd_podmgr_ctrs_free (all, n);
}

void
kd_daemon_containers_routes_add (kd_server_t *srv, kd_pod_store_t *store, kd_podmgr_t *pods,
                                 const char *pod_logs_dir)
{
  containers_route.store = store;
  containers_route.pods = pods;
  free (containers_route.pod_logs_dir);
  containers_route.pod_logs_dir = xstrdup (pod_logs_dir);
  kd_server_route (srv, "GET", "/containers", false, handle_list, &containers_route);
  kd_server_route (srv, "GET", "/containers/", true, handle_inspect, &containers_route);
}
