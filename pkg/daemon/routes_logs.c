/* GET /containerLogs/<namespace>/<pod>/<container>: a container's log as
   the kubelet serves it (pkg/kubelet/server getContainerLogs).

   1. The query is decoded as a v1 PodLogOptions (follow, previous,
      timestamps, tailLines, sinceSeconds, sinceTime, limitBytes; "tail" is
      the old spelling of tailLines, "all" meaning every line): a value that
      does not decode is 400 "Unable to decode query.", options that do not
      validate are 422 "Invalid request.", both in the kubelet's words.
   2. Unknown pod: 404 `pod "x" does not exist`; a container the spec does
      not name: 404 `container "c" not found in pod "x"`.
   3. The instance: restartCount of the container's status (or the latest
      restart file in the directory, when the status lags behind the files),
      restartCount - 1 with previous=true: 400 `previous terminated
      container "c" in pod "x" not found` when it has no file.
   4. The body is plain text (chunked), the content of the lines only;
      follow=true keeps the stream open with pkg/logs' follower until the
      instance is over, the limit is reached, or the client goes away (its
      watch is released at once). */
#include "daemon-internal.h"
#include "kubeletd/logs.h"

typedef struct
{
  uv_loop_t *loop;
  kd_pod_store_t *store;
  char *pod_logs_dir;
} logs_route_t;

/* One per daemon; reachable for the life of the process. */
static logs_route_t logs_route;

/* A follow in progress. */
typedef struct
{
  kd_http_conn_t *conn;
  kd_logs_follower_t *follower;
  kd_pod_store_t *store;
  char *ns;
  char *pod;
  char *uid;
  char *container;
  int restart;
} follow_t;

static void
follow_free (follow_t *fw)
{
  kd_logs_follower_free (fw->follower);
  free (fw->ns);
  free (fw->pod);
  free (fw->uid);
  free (fw->container);
  free (fw);
}

/* ---- query: v1.PodLogOptions ----------------------------------------- */

typedef struct
{
  bool follow, previous, timestamps;
  bool has_tail, has_since_seconds, has_since_time, has_limit;
  int64_t tail, since_seconds, since_time_ns, limit;
} log_query_t;

/* Go's strconv.ParseBool. */
static int
parse_bool (const char *s, bool *v)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };

  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    {
      if (strcmp (s, t[i]) == 0)
        return (*v = true), 0;
      if (strcmp (s, f[i]) == 0)
        return (*v = false), 0;
    }
  return -1;
}

static int
parse_i64 (const char *s, int64_t *v)
{
  char *end;
  long long r;

  errno = 0;
  r = strtoll (s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0 || *s == ' ')
    return -1;
  *v = r;
  return 0;
}

/* 0: absent or empty (the decoder leaves the field unset), 1: set, -1: bad. */
static int
query_bool (const kd_http_request_t *req, const char *key, bool *v)
{
  cleanup_free char *s = kd_http_query_get (req, key);

  if (s == NULL || *s == '\0')
    return 0;
  return parse_bool (s, v) < 0 ? -1 : 1;
}

static int
query_i64 (const kd_http_request_t *req, const char *key, int64_t *v)
{
  cleanup_free char *s = kd_http_query_get (req, key);

  if (s == NULL || *s == '\0')
    return 0;
  return parse_i64 (s, v) < 0 ? -1 : 1;
}

/* Returns 0, or the HTTP status of the refusal (400 decode, 422 invalid). */
static int
parse_query (const kd_http_request_t *req, log_query_t *q)
{
  cleanup_free char *tail = kd_http_query_get (req, "tail");
  cleanup_free char *since_time = kd_http_query_get (req, "sinceTime");
  int r;

  memset (q, 0, sizeof (*q));
  if (query_bool (req, "follow", &q->follow) < 0 || query_bool (req, "previous", &q->previous) < 0
      || query_bool (req, "timestamps", &q->timestamps) < 0)
    return 400;
  if (tail != NULL && *tail != '\0')
    {
      /* The old "tail" wins over tailLines; "all" is the same as none. */
      if (strcmp (tail, "all") != 0)
        {
          if (parse_i64 (tail, &q->tail) < 0)
            return 400;
          q->has_tail = true;
        }
    }
  else if ((r = query_i64 (req, "tailLines", &q->tail)) < 0)
    return 400;
  else
    q->has_tail = r > 0;
  if ((r = query_i64 (req, "sinceSeconds", &q->since_seconds)) < 0)
    return 400;
  q->has_since_seconds = r > 0;
  if ((r = query_i64 (req, "limitBytes", &q->limit)) < 0)
    return 400;
  q->has_limit = r > 0;
  if (since_time != NULL && *since_time != '\0')
    {
      if (kd_parse_time (since_time, &q->since_time_ns) < 0)
        return 400;
      q->has_since_time = true;
    }
  /* ValidatePodLogOptions */
  if ((q->has_tail && q->tail < 0) || (q->has_limit && q->limit < 1)
      || (q->has_since_seconds && q->has_since_time)
      || (q->has_since_seconds && q->since_seconds < 1))
    return 422;
  return 0;
}

/* ---- the pod and the container --------------------------------------- */

static bool
spec_has_container (const kd_pod_t *pod, const char *name)
{
  for (size_t i = 0; i < pod->spec.n_containers; i++)
    if (kd_str_eq (pod->spec.containers[i].name, name))
      return true;
  for (size_t i = 0; i < pod->spec.n_init_containers; i++)
    if (kd_str_eq (pod->spec.init_containers[i].name, name))
      return true;
  return false;
}

static const kd_container_status_t *
find_status (const kd_pod_t *pod, const char *name)
{
  const kd_pod_status_t *st = &pod->status;

  for (size_t i = 0; i < st->n_container_statuses; i++)
    if (kd_str_eq (st->container_statuses[i].name, name))
      return &st->container_statuses[i];
  for (size_t i = 0; i < st->n_init_container_statuses; i++)
    if (kd_str_eq (st->init_container_statuses[i].name, name))
      return &st->init_container_statuses[i];
  return NULL;
}

/* The kubelet's validateContainerLogStatus words for a current instance
   that has nothing to read. */
static void
respond_no_logs (kd_http_conn_t *conn, const kd_pod_t *pod, const char *c,
                 const kd_container_status_t *cs)
{
  const char *name = pod->metadata.name;

  if (cs == NULL)
    kd_http_respond_status (conn, 400, "BadRequest",
                            "container \"%s\" in pod \"%s\" is not available", c, name);
  else if (cs->state.running != NULL)
    kd_http_respond (conn, 200, "text/plain", "", 0);
  else if (cs->state.terminated != NULL || cs->last_state.terminated != NULL)
    kd_http_respond_status (conn, 400, "BadRequest", "container \"%s\" in pod \"%s\" is terminated",
                            c, name);
  else if (cs->state.waiting != NULL && kd_str_eq (cs->state.waiting->reason, "ErrImagePull"))
    kd_http_respond_status (conn, 400, "BadRequest",
                            "container \"%s\" in pod \"%s\" is waiting to start: image can't be "
                            "pulled",
                            c, name);
  else if (cs->state.waiting != NULL && kd_str_eq (cs->state.waiting->reason, "ImagePullBackOff"))
    kd_http_respond_status (conn, 400, "BadRequest",
                            "container \"%s\" in pod \"%s\" is waiting to start: trying and "
                            "failing to pull image",
                            c, name);
  else if (cs->state.waiting != NULL)
    kd_http_respond_status (conn, 400, "BadRequest",
                            "container \"%s\" in pod \"%s\" is waiting to start: %s", c, name,
                            cs->state.waiting->reason ? cs->state.waiting->reason : "");
  else
    kd_http_respond_status (conn, 400, "BadRequest",
                            "container \"%s\" in pod \"%s\" is waiting to start - no logs yet", c,
                            name);
}

/* ---- streaming --------------------------------------------------------- */

static void
emit_to_conn (const char *data, size_t len, void *user)
{
  follow_t *fw = user;

  kd_http_stream_write (fw->conn, data, len);
}

static void
on_follow_done (void *user)
{
  follow_t *fw = user;

  kd_http_stream_end (fw->conn);
  follow_free (fw);
}

static void
on_client_gone (void *user)
{
  follow_t *fw = user;

  kd_vlog (4, "logs: client of %s/%s/%s went away, watch released", fw->ns, fw->pod, fw->container);
  /* conn is the server's again: only the watch and our memory remain. */
  follow_free (fw);
}

/* Whether the followed instance is over, as far as the status tells. */
static bool
instance_ended (void *user)
{
  follow_t *fw = user;
  const kd_pod_t *pod = kd_pod_store_get (fw->store, fw->ns, fw->pod);
  const kd_container_status_t *cs;

  if (pod == NULL || !kd_str_eq (pod->metadata.uid, fw->uid))
    return true;
  cs = find_status (pod, fw->container);
  if (cs == NULL)
    return false;
  if (cs->restart_count > fw->restart || cs->state.terminated != NULL)
    return true;
  /* Waiting to restart after this instance exited (CrashLoopBackOff). */
  return cs->state.waiting != NULL && cs->last_state.terminated != NULL
         && cs->restart_count == fw->restart;
}

static void
handle_container_logs (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  logs_route_t *rt = data;
  const char *rest = req->path + strlen ("/containerLogs/");
  const char *s1 = strchr (rest, '/'), *s2 = s1 ? strchr (s1 + 1, '/') : NULL;
  cleanup_free char *ns = NULL, *pod_name = NULL, *dir = NULL;
  const char *container;
  const kd_pod_t *pod;
  const kd_container_status_t *cs;
  log_query_t q;
  kd_logs_opts_t opts = { .tail_lines = -1 };
  char **files = NULL;
  size_t n_files = 0;
  int restart, latest, bad;
  kd_error_t err = NULL;

  if (s1 == NULL || s1 == rest || s2 == NULL || s2 == s1 + 1 || s2[1] == '\0'
      || strchr (s2 + 1, '/') != NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound",
                              "the server could not find the requested resource");
      return;
    }
  ns = xstrndup (rest, (size_t) (s1 - rest));
  pod_name = xstrndup (s1 + 1, (size_t) (s2 - s1 - 1));
  container = s2 + 1;

  bad = parse_query (req, &q);
  if (bad == 400)
    {
      kd_http_respond_status (conn, 400, "BadRequest", "Unable to decode query.");
      return;
    }
  if (bad == 422)
    {
      kd_http_respond_status (conn, 422, "Invalid", "Invalid request.");
      return;
    }

  pod = kd_pod_store_get (rt->store, ns, pod_name);
  if (pod == NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound", "pod \"%s\" does not exist", pod_name);
      return;
    }
  if (!spec_has_container (pod, container))
    {
      kd_http_respond_status (conn, 404, "NotFound", "container \"%s\" not found in pod \"%s\"",
                              container, pod_name);
      return;
    }

  dir = kd_logs_container_dir (rt->pod_logs_dir, ns, pod_name, pod->metadata.uid, container);
  cs = find_status (pod, container);
  restart = cs ? cs->restart_count : 0;
  latest = kd_logs_latest_restart (dir);
  if (latest > restart)
    restart = latest;
  if (q.previous)
    restart--;
  if (restart >= 0 && kd_logs_instance_files (dir, restart, &files, &n_files, &err) < 0)
    {
      kd_http_respond_status (conn, 500, "InternalError", "Internal error occurred: %s", err->msg);
      kd_error_release (&err);
      return;
    }
  if (n_files == 0)
    {
      if (q.previous)
        kd_http_respond_status (conn, 400, "BadRequest",
                                "previous terminated container \"%s\" in pod \"%s\" not found",
                                container, pod_name);
      else
        respond_no_logs (conn, pod, container, cs);
      return;
    }

  if (q.has_tail)
    opts.tail_lines = q.tail;
  if (q.has_limit)
    opts.limit_bytes = q.limit;
  opts.timestamps = q.timestamps;
  if (q.has_since_seconds)
    opts.since_ns = kd_now_ns () - q.since_seconds * 1000000000LL;
  else if (q.has_since_time)
    opts.since_ns = q.since_time_ns;

  /* A previous instance is over: following it is a plain read, as for the
     kubelet. */
  if (q.follow && !q.previous)
    {
      follow_t *fw = xcalloc (1, sizeof (*fw));
      kd_logs_follow_opts_t fo = {
        .loop = rt->loop,
        .dir = dir,
        .restart = restart,
        .opts = opts,
        .emit = emit_to_conn,
        .done = on_follow_done,
        .ended = instance_ended,
        .data = fw,
      };

      kd_logs_files_free (files, n_files);
      fw->conn = conn;
      fw->store = rt->store;
      fw->ns = xstrdup (ns);
      fw->pod = xstrdup (pod_name);
      fw->uid = xstrdup (pod->metadata.uid);
      fw->container = xstrdup (container);
      fw->restart = restart;
      if (kd_logs_follower_new (&fo, &fw->follower, &err) < 0)
        {
          kd_http_respond_status (conn, 500, "InternalError", "Internal error occurred: %s",
                                  err->msg);
          kd_error_release (&err);
          follow_free (fw);
          return;
        }
      kd_http_stream_begin (conn, 200, "text/plain");
      kd_http_on_close (conn, on_client_gone, fw);
      kd_logs_follower_run (fw->follower);
      return;
    }

  {
    follow_t one = { .conn = conn };

    kd_http_stream_begin (conn, 200, "text/plain");
    if (kd_logs_read (files, n_files, &opts, emit_to_conn, &one, NULL, NULL, &err) < 0)
      kd_error_log_release (&err);
    kd_http_stream_end (conn);
  }
  kd_logs_files_free (files, n_files);
}

void
kd_daemon_logs_routes_add (kd_server_t *srv, uv_loop_t *loop, kd_pod_store_t *store,
                           const char *pod_logs_dir)
{
  logs_route.loop = loop;
  logs_route.store = store;
  free (logs_route.pod_logs_dir);
  logs_route.pod_logs_dir = xstrdup (pod_logs_dir);
  kd_server_route (srv, "GET", "/containerLogs/", true, handle_container_logs, &logs_route);
}
