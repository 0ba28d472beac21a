/* kubeletctl logs [-f] [-p] [--tail N] [--timestamps] [--since 5m]
   [--since-time T] [--limit-bytes N] POD [-c CONTAINER]: GET
   /containerLogs/<ns>/<pod>/<container>, printing the body as it arrives.

   As kubectl does: the pod is read first (`pods "x" not found`), the
   container defaults to the kubectl.kubernetes.io/default-container
   annotation or to the only container, and with several the user is told
   to choose; the options are checked here with kubectl's words before the
   request. */
#include <inttypes.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char logs_usage[]
    = "Print the logs for a container in a pod.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl logs [-f] [-p] POD [-c CONTAINER] [options]\n"
      "\n"
      "Examples:\n"
      "  kubeletctl logs web-node1\n"
      "  kubeletctl logs -f --tail 10 web-node1 -c httpd\n"
      "  kubeletctl logs -p --timestamps crash-node1\n"
      "\n"
      "Options:\n"
      "  -c, --container=''       the container (the only one when omitted)\n"
      "  -f, --follow             stream the logs as they are written\n"
      "      --limit-bytes=0      the most bytes to print (0: no limit)\n"
      "  -n, --namespace=default  the namespace of the pod\n"
      "  -p, --previous           the logs of the previous instance of the container\n"
      "      --since=0s           only lines newer than a relative duration like 5s, 2m or 3h\n"
      "      --since-time=''      only lines after a date (RFC3339)\n"
      "      --tail=-1            the number of lines to show from the end (-1: all)\n"
      "      --timestamps         include the timestamp of each line\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

#define DEFAULT_CONTAINER_ANNOTATION "kubectl.kubernetes.io/default-container"

typedef struct
{
  bool follow, previous, timestamps, help;
  const char *tail, *since, *since_time, *limit_bytes, *container, *ns;
} logs_opts_t;

static int
parse_int_flag (const char *flag, const char *s, int64_t *v, kd_error_t *err)
{
  char *end;
  long long r;

  errno = 0;
  r = strtoll (s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0)
    return kd_make_error (err, 0,
                          "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseInt: "
                          "parsing \"%s\": %s",
                          s, flag, s, errno == ERANGE ? "value out of range" : "invalid syntax");
  *v = r;
  return 0;
}

/* Names of a container list as kubectl prints them: "[a b]". */
static char *
container_names (const json_t *list)
{
  kd_buf_t b = { 0 };
  size_t i;
  json_t *c;

  kd_buf_putc (&b, '[');
  json_array_foreach (list, i, c)
  {
    const char *name = json_string_value (json_object_get (c, "name"));
    if (i > 0)
      kd_buf_putc (&b, ' ');
    kd_buf_puts (&b, name ? name : "");
  }
  kd_buf_putc (&b, ']');
  return kd_buf_steal (&b);
}

static bool
has_container (const json_t *list, const char *name)
{
  size_t i;
  json_t *c;

  json_array_foreach (list, i, c)
  {
    if (kd_str_eq (json_string_value (json_object_get (c, "name")), name))
      return true;
  }
  return false;
}

/* The container to read: -c, else the default-container annotation, else
   the only one. */
static int
pick_container (const json_t *pod, const char *pod_name, const char *wanted, const char **out,
                kd_error_t *err)
{
  json_t *spec = json_object_get (pod, "spec");
  json_t *ctrs = json_object_get (spec, "containers");
  json_t *inits = json_object_get (spec, "initContainers");
  const char *def = json_string_value (
      json_object_get (json_object_get (json_object_get (pod, "metadata"), "annotations"),
                       DEFAULT_CONTAINER_ANNOTATION));

  if (wanted != NULL)
    {
      if (!has_container (ctrs, wanted) && !has_container (inits, wanted))
        return kd_make_error (err, 0, "container %s is not valid for pod %s", wanted, pod_name);
      *out = wanted;
      return 0;
    }
  if (def != NULL && (has_container (ctrs, def) || has_container (inits, def)))
    {
      *out = def;
      return 0;
    }
  if (json_array_size (ctrs) == 1)
    {
      *out = json_string_value (json_object_get (json_array_get (ctrs, 0), "name"));
      return *out ? 0 : kd_make_error (err, 0, "pod %s has a container without a name", pod_name);
    }
  {
    cleanup_free char *names = container_names (ctrs);
    cleanup_free char *init_names = json_array_size (inits) ? container_names (inits) : NULL;

    if (init_names)
      return kd_make_error (err, 0,
                            "a container name must be specified for pod %s, choose one of: %s or "
                            "one of the init containers: %s",
                            pod_name, names, init_names);
    return kd_make_error (err, 0,
                          "a container name must be specified for pod %s, choose one of: %s",
                          pod_name, names);
  }
}

static bool
write_out (const char *data, size_t len, void *user)
{
  kd_cli_t *cli = user;

  /* Shown as it arrives: a follower is read by people and by pipes. */
  if (fwrite (data, 1, len, cli->out) != len)
    return false;
  return fflush (cli->out) == 0;
}

/* The query of the request, from checked options. */
static int
build_query (const logs_opts_t *o, kd_buf_t *q, kd_error_t *err)
{
  int64_t tail = -1, limit = 0, since_ms = 0, since_time;

  if (o->tail && parse_int_flag ("tail", o->tail, &tail, err) < 0)
    return -1;
  if (o->limit_bytes && parse_int_flag ("limit-bytes", o->limit_bytes, &limit, err) < 0)
    return -1;
  if (o->since && kd_parse_duration_ms (o->since, &since_ms) < 0)
    return kd_make_error (err, 0,
                          "invalid argument \"%s\" for \"--since\" flag: time: invalid "
                          "duration \"%s\"",
                          o->since, o->since);
  /* LogsOptions.Validate, in its order and words */
  if (o->since_time && *o->since_time && since_ms != 0)
    return kd_make_error (err, 0, "at most one of `sinceTime` or `sinceSeconds` may be specified");
  if (limit < 0)
    return kd_make_error (err, 0, "--limit-bytes must be greater than 0");
  if (since_ms < 0)
    return kd_make_error (err, 0, "--since must be greater than 0");
  if (tail < -1)
    return kd_make_error (err, 0, "--tail must be greater than or equal to -1");

  kd_buf_puts (q, "?");
  if (o->follow)
    kd_buf_puts (q, "follow=true&");
  if (o->previous)
    kd_buf_puts (q, "previous=true&");
  if (o->timestamps)
    kd_buf_puts (q, "timestamps=true&");
  if (tail != -1)
    kd_buf_printf (q, "tailLines=%" PRId64 "&", tail);
  if (limit != 0)
    kd_buf_printf (q, "limitBytes=%" PRId64 "&", limit);
  if (since_ms != 0)
    /* time.Duration.Round (time.Second): halves away from zero. */
    kd_buf_printf (q, "sinceSeconds=%" PRId64 "&", (since_ms + 500) / 1000);
  if (o->since_time && *o->since_time)
    {
      char ts[48];
      cleanup_free char *esc = NULL;

      if (kd_parse_time (o->since_time, &since_time) < 0)
        return kd_make_error (err, 0,
                              "parsing time \"%s\" as \"2006-01-02T15:04:05Z07:00\": cannot parse "
                              "\"%s\" as an RFC3339 time",
                              o->since_time, o->since_time);
      kd_format_time_nano (since_time, ts, sizeof (ts));
      esc = kd_client_escape (ts);
      kd_buf_printf (q, "sinceTime=%s&", esc);
    }
  q->s[--q->len] = '\0'; /* the last '&' or the lone '?' */
  return 0;
}

int
kd_cli_logs (kd_cli_t *cli, int argc, char **argv)
{
  logs_opts_t o = { 0 };
  const kd_cli_opt_t opts[] = {
    { "follow", 'f', KD_OPT_FLAG, &o.follow },
    { "previous", 'p', KD_OPT_FLAG, &o.previous },
    { "timestamps", 0, KD_OPT_FLAG, &o.timestamps },
    { "tail", 0, KD_OPT_STRING, &o.tail },
    { "since", 0, KD_OPT_STRING, &o.since },
    { "since-time", 0, KD_OPT_STRING, &o.since_time },
    { "limit-bytes", 0, KD_OPT_STRING, &o.limit_bytes },
    { "container", 'c', KD_OPT_STRING, &o.container },
    { "namespace", 'n', KD_OPT_STRING, &o.ns },
    { "help", 'h', KD_OPT_FLAG, &o.help },
  };
  kd_error_t err = NULL;
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  const char *ns, *pod_name, *container = NULL, *wanted;
  json_t *pod = NULL;
  kd_buf_t query = { 0 };
  kd_client_response_t resp;
  cleanup_free char *ens = NULL, *epod = NULL, *ectr = NULL, *path = NULL;
  int rc;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (o.help)
    {
      fputs (logs_usage, cli->out);
      return 0;
    }
  if (n_pos == 0)
    {
      kd_make_error (&err, 0,
                     "expected 'logs [-f] [-p] POD [-c CONTAINER]'.\n"
                     "POD is a required argument for the logs command\n"
                     "See 'kubeletctl logs -h' for help and examples");
      return kd_cli_fail (cli, &err);
    }
  if (n_pos > 2)
    {
      kd_make_error (&err, 0,
                     "expected 'logs [-f] [-p] POD [-c CONTAINER]'.\n"
                     "See 'kubeletctl logs -h' for help and examples");
      return kd_cli_fail (cli, &err);
    }
  if (n_pos == 2 && o.container != NULL)
    {
      kd_make_error (&err, 0, "only one of -c or an inline [CONTAINER] arg is allowed");
      return kd_cli_fail (cli, &err);
    }
  pod_name = pos[0];
  if (kd_str_has_prefix (pod_name, "pod/") || kd_str_has_prefix (pod_name, "pods/"))
    pod_name = strchr (pod_name, '/') + 1;
  wanted = n_pos == 2 ? pos[1] : o.container;
  ns = o.ns && *o.ns ? o.ns : "default";
  if (build_query (&o, &query, &err) < 0)
    {
      kd_buf_free (&query);
      return kd_cli_fail (cli, &err);
    }

  if (kd_cli_get_pod (cli, ns, pod_name, &pod, &err) < 0
      || pick_container (pod, pod_name, wanted, &container, &err) < 0)
    {
      json_decref (pod);
      kd_buf_free (&query);
      return kd_cli_fail (cli, &err);
    }
  ens = kd_client_escape (ns);
  epod = kd_client_escape (pod_name);
  ectr = kd_client_escape (container);
  path = xasprintf ("/containerLogs/%s/%s/%s%s", ens, epod, ectr, query.s);
  json_decref (pod);
  kd_buf_free (&query);

  rc = kd_client_get_stream (kd_client_socket_path (cli->socket), path, write_out, cli, &resp,
                             &err);
  if (rc < 0)
    return kd_cli_fail (cli, &err);
  if (resp.code < 200 || resp.code > 299)
    {
      cleanup_free char *msg = kd_client_status_message (resp.code, resp.body, resp.len);
      kd_client_response_free (&resp);
      kd_make_error (&err, 0, "%s", msg);
      return kd_cli_fail (cli, &err);
    }
  kd_client_response_free (&resp);
  return 0;
}
