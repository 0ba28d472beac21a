/* The action: a private copy of one handler with what it needs from the
   target, the kubelet's port resolution and URL building, the dispatch to
   the engines, and Go's spelling of values in messages (the kubelet's texts
   are Go's %q, %v and error strings). */
#include <ctype.h>
#include <limits.h>

#include "probe-internal.h"

const char *
kd_outcome_name (kd_outcome_t o)
{
  switch (o)
    {
    case KD_OUTCOME_SUCCESS:
      return "success";
    case KD_OUTCOME_WARNING:
      return "warning";
    case KD_OUTCOME_FAILURE:
      return "failure";
    default:
      return "unknown";
    }
}

const char *
kd_probe_kind_name (kd_probe_kind_t kind)
{
  switch (kind)
    {
    case KD_PROBE_LIVENESS:
      return "Liveness";
    case KD_PROBE_READINESS:
      return "Readiness";
    default:
      return "Startup";
    }
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

/* third_party/forked/golang/expansion: $(VAR) from the map, $$ is a '$',
   unknown references stay as written. */
static char *
expand_var_refs (const char *in, const kd_container_t *c)
{
  kd_buf_t b = { 0 };
  size_t n = strlen (in);

  kd_buf_puts (&b, "");
  for (size_t i = 0; i < n; i++)
    {
      if (in[i] != '$' || i + 1 >= n)
        {
          kd_buf_putc (&b, in[i]);
          continue;
        }
      const char *rest = in + i + 1;
      if (rest[0] == '$')
        {
          kd_buf_putc (&b, '$');
          i += 1;
        }
      else if (rest[0] == '(')
        {
          const char *close = strchr (rest, ')');
          if (close == NULL)
            {
              kd_buf_puts (&b, "$(");
              i += 1;
              continue;
            }
          size_t len = (size_t) (close - rest - 1);
          const char *value = NULL;
          /* Go builds a map: the last entry with a name wins; an env var
             from valueFrom has Value "". */
          for (size_t e = 0; c && e < c->n_env; e++)
            if (c->env[e].name && strlen (c->env[e].name) == len
                && memcmp (c->env[e].name, rest + 1, len) == 0)
              value = c->env[e].value ? c->env[e].value : "";
          if (value)
            kd_buf_puts (&b, value);
          else
            kd_buf_append (&b, in + i, len + 3);
          i += len + 2;
        }
      else
        {
          kd_buf_putc (&b, '$');
          kd_buf_putc (&b, rest[0]);
          i += 1;
        }
    }
  return kd_buf_steal (&b);
}

void
kd_action_init (kd_action_t *a, const kd_handler_t *h, const kd_probe_target_t *t, bool expand_env)
{
  const kd_container_t *c = t ? t->container : NULL;

  memset (a, 0, sizeof (*a));
  if (h == NULL)
    ;
  else if (h->exec)
    {
      a->type = KD_ACTION_EXEC;
      a->argc = h->exec->command.n;
      a->argv = xcalloc (a->argc + 1, sizeof (char *));
      for (size_t i = 0; i < a->argc; i++)
        a->argv[i] = expand_env ? expand_var_refs (h->exec->command.v[i], c)
                                : xstrdup (h->exec->command.v[i]);
    }
  else if (h->http_get)
    {
      const kd_http_get_action_t *g = h->http_get;
      a->type = KD_ACTION_HTTP;
      a->scheme = xstrdup (g->scheme && *g->scheme ? g->scheme : "http");
      for (char *p = a->scheme; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      a->host = dup_or_null (g->host && *g->host ? g->host : NULL);
      a->path = xstrdup (g->path ? g->path : "");
      a->port = g->port;
      a->port.s = dup_or_null (g->port.s);
      a->n_headers = g->n_http_headers;
      a->headers = xcalloc (a->n_headers + 1, sizeof (kd_http_header_t));
      for (size_t i = 0; i < a->n_headers; i++)
        {
          a->headers[i].name = xstrdup (g->http_headers[i].name ? g->http_headers[i].name : "");
          a->headers[i].value = xstrdup (g->http_headers[i].value ? g->http_headers[i].value : "");
        }
    }
  else if (h->tcp_socket)
    {
      a->type = KD_ACTION_TCP;
      a->host
          = dup_or_null (h->tcp_socket->host && *h->tcp_socket->host ? h->tcp_socket->host : NULL);
      a->port = h->tcp_socket->port;
      a->port.s = dup_or_null (h->tcp_socket->port.s);
    }
  else if (h->grpc)
    {
      a->type = KD_ACTION_GRPC;
      a->grpc_port = h->grpc->port;
      a->grpc_service = xstrdup (h->grpc->service ? h->grpc->service : "");
    }
  else if (h->sleep)
    {
      a->type = KD_ACTION_SLEEP;
      a->sleep_seconds = h->sleep->seconds;
    }

  if (t)
    {
      a->pod_ip = dup_or_null (t->pod_ip);
      a->shim_path = dup_or_null (t->shim_path);
      a->pod_dir = dup_or_null (t->pod_dir);
      a->container_id = dup_or_null (t->container_id);
      a->pod_full_name = dup_or_null (t->pod_full_name);
    }
  if (c)
    {
      a->container_name = dup_or_null (c->name);
      a->n_ports = c->n_ports;
      a->ports = xcalloc (a->n_ports + 1, sizeof (kd_named_port_t));
      for (size_t i = 0; i < c->n_ports; i++)
        {
          a->ports[i].name = dup_or_null (c->ports[i].name);
          a->ports[i].port = c->ports[i].container_port;
        }
    }
}

void
kd_action_clear (kd_action_t *a)
{
  for (size_t i = 0; i < a->argc; i++)
    free (a->argv[i]);
  free (a->argv);
  free (a->scheme);
  free (a->host);
  free (a->path);
  free (a->port.s);
  for (size_t i = 0; i < a->n_headers; i++)
    {
      free (a->headers[i].name);
      free (a->headers[i].value);
    }
  free (a->headers);
  free (a->grpc_service);
  free (a->pod_ip);
  free (a->shim_path);
  free (a->pod_dir);
  free (a->container_id);
  free (a->container_name);
  free (a->pod_full_name);
  for (size_t i = 0; i < a->n_ports; i++)
    free (a->ports[i].name);
  free (a->ports);
  memset (a, 0, sizeof (*a));
}

/* strconv.Atoi, with its error texts. */
static int
go_atoi (const char *s, long *out, char **msg)
{
  const char *p = s;
  long v = 0;
  bool neg = false, range = false;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (*p == '\0')
    goto syntax;
  for (; *p; p++)
    {
      if (!isdigit ((unsigned char) *p))
        goto syntax;
      if (v > (LONG_MAX - (*p - '0')) / 10)
        range = true;
      else
        v = v * 10 + (*p - '0');
    }
  if (range)
    {
      cleanup_free char *q = kd_fe_quote (s);
      *msg = xasprintf ("strconv.Atoi: parsing %s: value out of range", q);
      return -1;
    }
  *out = neg ? -v : v;
  return 0;

syntax:
  {
    cleanup_free char *q = kd_fe_quote (s);
    *msg = xasprintf ("strconv.Atoi: parsing %s: invalid syntax", q);
  }
  return -1;
}

int
kd_action_resolve_port (const kd_action_t *a, const kd_intstr_t *port, char **msg)
{
  long v = -1;
  bool found = false;

  *msg = NULL;
  if (!port->is_str)
    v = port->i;
  else
    {
      const char *name = port->s ? port->s : "";
      for (size_t i = 0; i < a->n_ports; i++)
        if (a->ports[i].name && strcmp (a->ports[i].name, name) == 0)
          {
            v = a->ports[i].port;
            found = true;
            break;
          }
      /* "Last ditch effort - maybe it was an int stored as string?" */
      if (!found && go_atoi (name, &v, msg) < 0)
        return -1;
    }
  if (v > 0 && v < 65536)
    return (int) v;
  *msg = xasprintf ("invalid port number: %ld", v);
  return -1;
}

void
kd_go_errno (int errnum, char *buf, size_t size)
{
  snprintf (buf, size, "%s", strerror (errnum));
  if (buf[0])
    buf[0] = (char) tolower ((unsigned char) buf[0]);
}

char *
kd_join_host_port (const char *host, int port)
{
  if (host && strchr (host, ':'))
    return xasprintf ("[%s]:%d", host, port);
  return xasprintf ("%s:%d", host ? host : "", port);
}

/* ---- dispatch ---------------------------------------------------------- */

/* The exec engine reports a process; a probe wants an outcome. */
typedef struct
{
  kd_attempt_t base;
  kd_attempt_t *inner;
  char *command; /* for "command %q timed out" */
  kd_attempt_cb cb;
  void *data;
} exec_probe_t;

static void
exec_probe_cancel (kd_attempt_t *base)
{
  exec_probe_t *e = (exec_probe_t *) base;
  kd_attempt_cancel (e->inner);
  free (e->command);
  free (e);
}

/* pkg/probe/exec: exit 0 is Success with the output, another exit is
   Failure with the output, a timeout is Failure "command %q timed out"
   (ExecProbeTimeout), anything else an error. */
static void
exec_probe_done (void *data, const kd_exec_result_t *r)
{
  exec_probe_t *e = data;
  kd_attempt_cb cb = e->cb;
  void *cb_data = e->data;

  if (r->spawn_error)
    {
      cleanup_free char *msg = xstrdup (r->spawn_error);
      free (e->command);
      free (e);
      cb (cb_data, KD_OUTCOME_UNKNOWN, true, msg);
      return;
    }
  cleanup_free char *q = kd_fe_quote (e->command);
  cleanup_free char *msg
      = r->timed_out ? xasprintf ("command %s timed out", q) : xstrdup (r->output ? r->output : "");
  kd_outcome_t o = r->timed_out || r->exit_code != 0 ? KD_OUTCOME_FAILURE : KD_OUTCOME_SUCCESS;
  free (e->command);
  free (e);
  cb (cb_data, o, false, msg);
}

/* pkg/probe/http/request.go formatURL: the path parsed as a URL with the
   scheme and host:port put in. */
static char *
format_url (const char *scheme, const char *hostport, const char *path)
{
  const char *sep
      = (path[0] == '\0' || path[0] == '/' || path[0] == '?' || path[0] == '#') ? "" : "/";
  return xasprintf ("%s://%s%s%s", scheme, hostport, sep, path);
}

kd_attempt_t *
kd_action_start (uv_loop_t *loop, const kd_action_t *a, const char *user_agent, uint64_t timeout_ms,
                 bool http_any_status, kd_attempt_cb cb, void *data, char **errmsg)
{
  const char *host = a->host ? a->host : (a->pod_ip ? a->pod_ip : "");
  int port;

  *errmsg = NULL;
  switch (a->type)
    {
    case KD_ACTION_EXEC:
      {
        exec_probe_t *e = xcalloc (1, sizeof (*e));
        e->base.cancel = exec_probe_cancel;
        e->command = kd_exec_join (a, " ");
        e->cb = cb;
        e->data = data;
        e->inner = kd_exec_run (loop, a, timeout_ms, exec_probe_done, e);
        return &e->base;
      }
    case KD_ACTION_HTTP:
      {
        port = kd_action_resolve_port (a, &a->port, errmsg);
        if (port < 0)
          return NULL;
        cleanup_free char *hp = kd_join_host_port (host, port);
        cleanup_free char *url = format_url (a->scheme, hp, a->path);
        const char *host_header = NULL;
        /* req.Host = headers.Get ("Host"): the first value, if not empty */
        for (size_t i = 0; i < a->n_headers; i++)
          if (strcasecmp (a->headers[i].name, "Host") == 0)
            {
              host_header = a->headers[i].value[0] ? a->headers[i].value : NULL;
              break;
            }
        kd_http_req_t req = {
          .url = url,
          .host_header = host_header,
          .headers = a->headers,
          .n_headers = a->n_headers,
          .user_agent = user_agent,
          .any_status = http_any_status,
        };
        return kd_http_start (loop, &req, timeout_ms, cb, data);
      }
    case KD_ACTION_TCP:
      port = kd_action_resolve_port (a, &a->port, errmsg);
      if (port < 0)
        return NULL;
      return kd_tcp_start (loop, host, port, timeout_ms, cb, data);
    case KD_ACTION_GRPC:
      /* The gRPC action has no host: always the pod IP. */
      return kd_grpc_start (loop, a->pod_ip ? a->pod_ip : "", a->grpc_port, a->grpc_service,
                            user_agent, timeout_ms, cb, data);
    default:
      *errmsg
          = xasprintf ("missing probe handler for %s:%s", a->pod_full_name ? a->pod_full_name : "",
                       a->container_name ? a->container_name : "");
      return NULL;
    }
}
