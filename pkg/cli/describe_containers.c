/* The containers of `describe pod`, as kubectl's describeContainers lays
   them out (staging/src/k8s.io/kubectl/pkg/describe/describe.go): basic
   info, command, state and last state, resources, probes, environment and
   mounts, each line through the tab writer. */
#include <inttypes.h>
#include <time.h>

#include "describe-internal.h"
#include "kubeletd/api.h"

/* ---- small shared helpers --------------------------------------------------- */

const char *
kd_desc_str (const json_t *obj, const char *key)
{
  const char *s = json_string_value (json_object_get (obj, key));
  return s ? s : "";
}

char *
kd_desc_time (const char *rfc3339)
{
  int64_t ns;
  time_t t;
  struct tm tm;
  char buf[64];

  if (rfc3339 == NULL || *rfc3339 == '\0' || kd_parse_time (rfc3339, &ns) < 0)
    return xstrdup ("Mon, 01 Jan 0001 00:00:00 +0000");
  /* Floor division: a time before 1970 keeps its second. */
  t = (time_t) (ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000));
  localtime_r (&t, &tm);
  strftime (buf, sizeof (buf), "%a, %d %b %Y %H:%M:%S %z", &tm);
  return xstrdup (buf);
}

static int64_t
int_or (const json_t *obj, const char *key, int64_t dflt)
{
  const json_t *v = json_object_get (obj, key);
  return json_is_integer (v) ? json_integer_value (v) : dflt;
}

/* intstr.IntOrString.String (). */
static char *
int_or_string (const json_t *v)
{
  if (json_is_integer (v))
    return xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (v));
  return xstrdup (json_is_string (v) ? json_string_value (v) : "");
}

/* ---- probes ------------------------------------------------------------------- */

/* url.URL.EscapedPath for a plain path: '?' and everything outside the
   unreserved set and "$&+,/:;=@" is percent-encoded. */
static void
append_url_path (kd_buf_t *b, const char *path)
{
  for (const unsigned char *p = (const unsigned char *) path; *p; p++)
    {
      if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || strchr ("-_.~$&+,/:;=@", *p) != NULL)
        kd_buf_putc (b, (char) *p);
      else
        kd_buf_printf (b, "%%%02X", *p);
    }
}

static char *
join_words (const json_t *arr, const char *sep)
{
  kd_buf_t b = { 0 };
  const json_t *v;
  size_t i;

  kd_buf_puts (&b, "");
  json_array_foreach (arr, i, v)
  {
    if (i > 0)
      kd_buf_puts (&b, sep);
    kd_buf_puts (&b, json_is_string (v) ? json_string_value (v) : "");
  }
  return kd_buf_steal (&b);
}

char *
kd_desc_probe (const json_t *probe)
{
  const json_t *h;
  cleanup_free char *attrs = NULL;

  /* The API answers with defaults applied; a missing field still reads as
     the Kubernetes default rather than Go's zero. */
  attrs = xasprintf ("delay=%" PRId64 "s timeout=%" PRId64 "s period=%" PRId64 "s #success=%" PRId64
                     " #failure=%" PRId64,
                     int_or (probe, "initialDelaySeconds", 0), int_or (probe, "timeoutSeconds", 1),
                     int_or (probe, "periodSeconds", 10), int_or (probe, "successThreshold", 1),
                     int_or (probe, "failureThreshold", 3));
  if ((h = json_object_get (probe, "exec")) != NULL)
    {
      cleanup_free char *cmd = join_words (json_object_get (h, "command"), " ");
      return xasprintf ("exec [%s] %s", cmd, attrs);
    }
  if ((h = json_object_get (probe, "httpGet")) != NULL)
    {
      const char *scheme = *kd_desc_str (h, "scheme") ? kd_desc_str (h, "scheme") : "HTTP";
      const char *host = kd_desc_str (h, "host");
      cleanup_free char *port = int_or_string (json_object_get (h, "port"));
      kd_buf_t b = { 0 };

      kd_buf_puts (&b, "http-get ");
      for (const char *p = scheme; *p; p++)
        kd_buf_putc (&b, (char) ((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p));
      kd_buf_puts (&b, "://");
      /* net.JoinHostPort brackets a host with a colon (IPv6). */
      if (*port != '\0')
        kd_buf_printf (&b, strchr (host, ':') ? "[%s]:%s" : "%s:%s", host, port);
      else
        kd_buf_puts (&b, host);
      if (*kd_desc_str (h, "path") != '\0' && kd_desc_str (h, "path")[0] != '/'
          && (*host != '\0' || *port != '\0'))
        kd_buf_putc (&b, '/');
      append_url_path (&b, kd_desc_str (h, "path"));
      kd_buf_printf (&b, " %s", attrs);
      return kd_buf_steal (&b);
    }
  if ((h = json_object_get (probe, "tcpSocket")) != NULL)
    {
      cleanup_free char *port = int_or_string (json_object_get (h, "port"));
      return xasprintf ("tcp-socket %s:%s %s", kd_desc_str (h, "host"), port, attrs);
    }
  if ((h = json_object_get (probe, "grpc")) != NULL)
    return xasprintf ("grpc <pod>:%" PRId64 " %s %s", int_or (h, "port", 0),
                      kd_desc_str (h, "service"), attrs);
  return xasprintf ("unknown %s", attrs);
}

/* ---- state -------------------------------------------------------------------- */

static void
describe_status (kd_tabw_t *w, const char *name, const json_t *state)
{
  const json_t *s;

  if ((s = json_object_get (state, "running")) != NULL)
    {
      cleanup_free char *t = kd_desc_time (kd_desc_str (s, "startedAt"));
      kd_tabw_printf (w, 2, "%s:\tRunning\n", name);
      kd_tabw_printf (w, 3, "Started:\t%s\n", t);
    }
  else if ((s = json_object_get (state, "waiting")) != NULL)
    {
      kd_tabw_printf (w, 2, "%s:\tWaiting\n", name);
      if (*kd_desc_str (s, "reason") != '\0')
        kd_tabw_printf (w, 3, "Reason:\t%s\n", kd_desc_str (s, "reason"));
    }
  else if ((s = json_object_get (state, "terminated")) != NULL)
    {
      cleanup_free char *started = kd_desc_time (kd_desc_str (s, "startedAt"));
      cleanup_free char *finished = kd_desc_time (kd_desc_str (s, "finishedAt"));

      kd_tabw_printf (w, 2, "%s:\tTerminated\n", name);
      if (*kd_desc_str (s, "reason") != '\0')
        kd_tabw_printf (w, 3, "Reason:\t%s\n", kd_desc_str (s, "reason"));
      if (*kd_desc_str (s, "message") != '\0')
        kd_tabw_printf (w, 3, "Message:\t%s\n", kd_desc_str (s, "message"));
      kd_tabw_printf (w, 3, "Exit Code:\t%" PRId64 "\n", int_or (s, "exitCode", 0));
      if (int_or (s, "signal", 0) > 0)
        kd_tabw_printf (w, 3, "Signal:\t%" PRId64 "\n", int_or (s, "signal", 0));
      kd_tabw_printf (w, 3, "Started:\t%s\n", started);
      kd_tabw_printf (w, 3, "Finished:\t%s\n", finished);
    }
  else
    kd_tabw_printf (w, 2, "%s:\tWaiting\n", name);
}

/* ---- ports, command, resources ---------------------------------------------------- */

static char *
ports_string (const json_t *ports, bool host)
{
  kd_buf_t b = { 0 };
  const json_t *p;
  size_t i;

  kd_buf_puts (&b, "");
  json_array_foreach (ports, i, p)
  {
    const char *proto = *kd_desc_str (p, "protocol") ? kd_desc_str (p, "protocol") : "TCP";

    if (i > 0)
      kd_buf_puts (&b, ", ");
    kd_buf_printf (&b, "%" PRId64 "/%s", int_or (p, host ? "hostPort" : "containerPort", 0), proto);
    if (*kd_desc_str (p, "name") != '\0')
      kd_buf_printf (&b, " (%s)", kd_desc_str (p, "name"));
  }
  return kd_buf_steal (&b);
}

static void
describe_lines (kd_tabw_t *w, const char *title, const json_t *arr)
{
  const json_t *v;
  size_t i;

  if (json_array_size (arr) == 0)
    return;
  kd_tabw_printf (w, 2, "%s:\n", title);
  json_array_foreach (arr, i, v)
  {
    const char *s = json_is_string (v) ? json_string_value (v) : "";
    /* A multi-line argument keeps its lines, each indented. */
    for (;;)
      {
        const char *nl = strchr (s, '\n');
        kd_tabw_printf (w, 3, "%.*s\n", (int) (nl ? nl - s : (ptrdiff_t) strlen (s)), s);
        if (nl == NULL)
          break;
        s = nl + 1;
      }
  }
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

const char **
kd_desc_sorted_keys (const json_t *obj, size_t *n)
{
  const char **keys = xcalloc (json_object_size (obj) + 1, sizeof (char *));
  const char *k;
  json_t *v;
  size_t i = 0;

  json_object_foreach ((json_t *) obj, k, v) keys[i++] = k;
  qsort (keys, i, sizeof (char *), cmp_keys);
  *n = i;
  return keys;
}

static char *
quantity_string (const json_t *v)
{
  kd_quantity_t q;
  const char *s = json_is_string (v) ? json_string_value (v) : "";

  if (json_is_integer (v))
    return xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (v));
  if (kd_quantity_parse (s, &q) == 0)
    return kd_quantity_canonical (&q);
  return xstrdup (s);
}

static void
describe_resource_list (kd_tabw_t *w, const char *title, const json_t *list)
{
  cleanup_free const char **keys = NULL;
  size_t n, i;

  if (json_object_size (list) == 0)
    return;
  kd_tabw_printf (w, 2, "%s:\n", title);
  keys = kd_desc_sorted_keys (list, &n);
  for (i = 0; i < n; i++)
    {
      cleanup_free char *q = quantity_string (json_object_get (list, keys[i]));
      kd_tabw_printf (w, 3, "%s:\t%s\n", keys[i], q);
    }
}

/* ---- environment ----------------------------------------------------------------- */

/* fieldpath.ExtractFieldPathAsString for the fields a pod env may name. */
static char *
resolve_field (const json_t *pod, const char *path)
{
  const json_t *meta = json_object_get (pod, "metadata");
  const json_t *spec = json_object_get (pod, "spec");
  const json_t *status = json_object_get (pod, "status");
  static const struct
  {
    const char *path, *part, *key;
  } simple[] = {
    { "metadata.name", "metadata", "name" },
    { "metadata.namespace", "metadata", "namespace" },
    { "metadata.uid", "metadata", "uid" },
    { "spec.nodeName", "spec", "nodeName" },
    { "spec.serviceAccountName", "spec", "serviceAccountName" },
    { "status.podIP", "status", "podIP" },
    { "status.hostIP", "status", "hostIP" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (simple); i++)
    if (strcmp (path, simple[i].path) == 0)
      {
        const json_t *part = strcmp (simple[i].part, "metadata") == 0 ? meta
                             : strcmp (simple[i].part, "spec") == 0   ? spec
                                                                      : status;
        return xstrdup (kd_desc_str (part, simple[i].key));
      }
  if (strcmp (path, "status.podIPs") == 0 || strcmp (path, "status.hostIPs") == 0)
    {
      const json_t *ips = json_object_get (status, path + strlen ("status."));
      kd_buf_t b = { 0 };
      const json_t *ip;
      size_t i;

      kd_buf_puts (&b, "");
      json_array_foreach (ips, i, ip)
      {
        if (i > 0)
          kd_buf_putc (&b, ',');
        kd_buf_puts (&b, kd_desc_str (ip, "ip"));
      }
      return kd_buf_steal (&b);
    }
  /* metadata.labels['key'] and metadata.annotations['key']. */
  for (int k = 0; k < 2; k++)
    {
      const char *prefix = k == 0 ? "metadata.labels['" : "metadata.annotations['";
      if (kd_str_has_prefix (path, prefix) && kd_str_has_suffix (path, "']"))
        {
          cleanup_free char *key
              = xstrndup (path + strlen (prefix), strlen (path) - strlen (prefix) - 2);
          return xstrdup (
              kd_desc_str (json_object_get (meta, k == 0 ? "labels" : "annotations"), key));
        }
    }
  return xstrdup ("");
}

/* ExtractContainerResourceValue: the value rounded up in divisor units;
   an unset limit reads "node allocatable" as kubectl words it. */
static char *
resolve_resource (const json_t *container, const json_t *ref)
{
  const char *resource = kd_desc_str (ref, "resource");
  const json_t *res = json_object_get (container, "resources");
  const char *dot = strchr (resource, '.');
  const json_t *list, *v;
  kd_quantity_t q, d;
  cleanup_free char *div = NULL;
  int64_t r;

  if (dot == NULL)
    return xstrdup ("");
  {
    cleanup_free char *kind = xstrndup (resource, (size_t) (dot - resource));
    list = json_object_get (res, kind);
  }
  div = quantity_string (json_object_get (ref, "divisor"));
  if (*div == '\0' || strcmp (div, "0") == 0)
    {
      free (div);
      div = xstrdup ("1");
    }
  v = json_object_get (list, dot + 1);
  if (v == NULL || kd_quantity_parse (json_string_value (v) ? json_string_value (v) : "0", &q) < 0
      || kd_quantity_parse (div, &d) < 0)
    return xstrdup (kd_str_has_prefix (resource, "limits.")
                            && (strcmp (dot + 1, "cpu") == 0 || strcmp (dot + 1, "memory") == 0)
                        ? "node allocatable"
                        : "0");
  if (strcmp (dot + 1, "cpu") == 0)
    r = d.milli > 0 ? (q.milli + d.milli - 1) / d.milli : 0;
  else
    r = d.value > 0 ? (q.value + d.value - 1) / d.value : 0;
  if (r == 0 && kd_str_has_prefix (resource, "limits.")
      && (strcmp (dot + 1, "cpu") == 0 || strcmp (dot + 1, "memory") == 0))
    return xstrdup ("node allocatable");
  return xasprintf ("%" PRId64, r);
}

static void
describe_env (kd_tabw_t *w, const json_t *pod, const json_t *c)
{
  const json_t *env = json_object_get (c, "env");
  const json_t *from = json_object_get (c, "envFrom");
  const json_t *e;
  size_t i;

  if (json_array_size (from) > 0)
    {
      kd_tabw_printf (w, 2, "Environment Variables from:\n");
      json_array_foreach (from, i, e)
      {
        const json_t *ref = json_object_get (e, "configMapRef");
        const char *kind = "ConfigMap";
        const char *prefix = kd_desc_str (e, "prefix");

        if (ref == NULL)
          {
            ref = json_object_get (e, "secretRef");
            kind = "Secret";
          }
        if (*prefix == '\0')
          kd_tabw_printf (w, 3, "%s\t%s\tOptional: %s\n", kd_desc_str (ref, "name"), kind,
                          json_is_true (json_object_get (ref, "optional")) ? "true" : "false");
        else
          kd_tabw_printf (w, 3, "%s\t%s with prefix '%s'\tOptional: %s\n",
                          kd_desc_str (ref, "name"), kind, prefix,
                          json_is_true (json_object_get (ref, "optional")) ? "true" : "false");
      }
    }
  kd_tabw_printf (w, 2, "Environment:%s\n", json_array_size (env) == 0 ? "\t<none>" : "");
  json_array_foreach (env, i, e)
  {
    const json_t *vf = json_object_get (e, "valueFrom");
    const char *name = kd_desc_str (e, "name");
    const json_t *r;

    if (vf == NULL)
      {
        const char *s = kd_desc_str (e, "value");
        bool first = true;
        for (;;)
          {
            const char *nl = strchr (s, '\n');
            int len = (int) (nl ? nl - s : (ptrdiff_t) strlen (s));
            if (first)
              kd_tabw_printf (w, 3, "%s:\t%.*s\n", name, len, s);
            else
              kd_tabw_printf (w, 3, "\t%.*s\n", len, s);
            first = false;
            if (nl == NULL)
              break;
            s = nl + 1;
          }
        continue;
      }
    if ((r = json_object_get (vf, "fieldRef")) != NULL)
      {
        cleanup_free char *v = resolve_field (pod, kd_desc_str (r, "fieldPath"));
        kd_tabw_printf (w, 3, "%s:\t%s (%s:%s)\n", name, v, kd_desc_str (r, "apiVersion"),
                        kd_desc_str (r, "fieldPath"));
      }
    else if ((r = json_object_get (vf, "resourceFieldRef")) != NULL)
      {
        cleanup_free char *v = resolve_resource (c, r);
        kd_tabw_printf (w, 3, "%s:\t%s (%s)\n", name, v, kd_desc_str (r, "resource"));
      }
    else if ((r = json_object_get (vf, "secretKeyRef")) != NULL)
      kd_tabw_printf (w, 3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %s\n", name,
                      kd_desc_str (r, "key"), kd_desc_str (r, "name"),
                      json_is_true (json_object_get (r, "optional")) ? "true" : "false");
    else if ((r = json_object_get (vf, "configMapKeyRef")) != NULL)
      kd_tabw_printf (w, 3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %s\n", name,
                      kd_desc_str (r, "key"), kd_desc_str (r, "name"),
                      json_is_true (json_object_get (r, "optional")) ? "true" : "false");
  }
}

/* ---- mounts ------------------------------------------------------------------------ */

static int
cmp_mounts (const void *a, const void *b)
{
  return strcmp (kd_desc_str (*(const json_t *const *) a, "mountPath"),
                 kd_desc_str (*(const json_t *const *) b, "mountPath"));
}

static void
describe_mounts (kd_tabw_t *w, const json_t *c)
{
  const json_t *mounts = json_object_get (c, "volumeMounts");
  const json_t *devices = json_object_get (c, "volumeDevices");
  size_t n = json_array_size (mounts), i;
  cleanup_free const json_t **v = xcalloc (n + 1, sizeof (json_t *));
  const char *none = n == 0 ? "\t<none>" : "";

  kd_tabw_printf (w, 2, "Mounts:%s\n", none);
  for (i = 0; i < n; i++)
    v[i] = json_array_get (mounts, i);
  qsort (v, n, sizeof (*v), cmp_mounts);
  for (i = 0; i < n; i++)
    {
      const char *sub = kd_desc_str (v[i], "subPath");
      cleanup_free char *flags = NULL;

      if (*sub != '\0')
        {
          cleanup_free char *q = kd_fe_quote (sub);
          flags = xasprintf ("%s,path=%s",
                             json_is_true (json_object_get (v[i], "readOnly")) ? "ro" : "rw", q);
        }
      else
        flags = xstrdup (json_is_true (json_object_get (v[i], "readOnly")) ? "ro" : "rw");
      kd_tabw_printf (w, 3, "%s from %s (%s)\n", kd_desc_str (v[i], "mountPath"),
                      kd_desc_str (v[i], "name"), flags);
    }
  if (json_array_size (devices) > 0)
    {
      const json_t *d;
      kd_tabw_printf (w, 2, "Devices:%s\n", none);
      json_array_foreach (devices, i, d) kd_tabw_printf (
          w, 3, "%s from %s\n", kd_desc_str (d, "devicePath"), kd_desc_str (d, "name"));
    }
}

/* ---- one block ---------------------------------------------------------------------- */

static const json_t *
find_status (const json_t *statuses, const char *name)
{
  const json_t *s;
  size_t i;

  json_array_foreach (statuses, i, s) if (strcmp (kd_desc_str (s, "name"), name) == 0) return s;
  return NULL;
}

void
kd_desc_containers (kd_tabw_t *w, const char *label, const json_t *pod, const json_t *containers,
                    const json_t *statuses)
{
  const json_t *c;
  size_t i;

  kd_tabw_printf (w, 0, "%s:%s\n", label, json_array_size (containers) == 0 ? " <none>" : "");
  json_array_foreach (containers, i, c)
  {
    const json_t *st = find_status (statuses, kd_desc_str (c, "name"));
    const json_t *ports = json_object_get (c, "ports");
    cleanup_free char *cports = ports_string (ports, false);
    cleanup_free char *hports = ports_string (ports, true);
    const json_t *seccomp
        = json_object_get (json_object_get (c, "securityContext"), "seccompProfile");
    const json_t *res = json_object_get (c, "resources");
    static const char *const probes[][2] = {
      { "livenessProbe", "Liveness" },
      { "readinessProbe", "Readiness" },
      { "startupProbe", "Startup" },
    };

    kd_tabw_printf (w, 1, "%s:\n", kd_desc_str (c, "name"));
    if (st != NULL)
      kd_tabw_printf (w, 2, "Container ID:\t%s\n", kd_desc_str (st, "containerID"));
    kd_tabw_printf (w, 2, "Image:\t%s\n", kd_desc_str (c, "image"));
    if (st != NULL)
      kd_tabw_printf (w, 2, "Image ID:\t%s\n", kd_desc_str (st, "imageID"));
    if (strchr (cports, ',') != NULL)
      kd_tabw_printf (w, 2, "Ports:\t%s\n", cports);
    else
      kd_tabw_printf (w, 2, "Port:\t%s\n", *cports ? cports : "<none>");
    if (strchr (hports, ',') != NULL)
      kd_tabw_printf (w, 2, "Host Ports:\t%s\n", hports);
    else
      kd_tabw_printf (w, 2, "Host Port:\t%s\n", *hports ? hports : "<none>");
    if (seccomp != NULL)
      {
        kd_tabw_printf (w, 2, "SeccompProfile:\t%s\n", kd_desc_str (seccomp, "type"));
        if (strcmp (kd_desc_str (seccomp, "type"), "Localhost") == 0)
          kd_tabw_printf (w, 3, "LocalhostProfile:\t%s\n",
                          kd_desc_str (seccomp, "localhostProfile"));
      }
    describe_lines (w, "Command", json_object_get (c, "command"));
    describe_lines (w, "Args", json_object_get (c, "args"));
    if (st != NULL)
      {
        const json_t *last = json_object_get (st, "lastState");
        describe_status (w, "State", json_object_get (st, "state"));
        if (json_object_get (last, "terminated") != NULL)
          describe_status (w, "Last State", last);
        kd_tabw_printf (w, 2, "Ready:\t%s\n",
                        json_is_true (json_object_get (st, "ready")) ? "True" : "False");
        kd_tabw_printf (w, 2, "Restart Count:\t%" PRId64 "\n", int_or (st, "restartCount", 0));
      }
    describe_resource_list (w, "Limits", json_object_get (res, "limits"));
    describe_resource_list (w, "Requests", json_object_get (res, "requests"));
    for (size_t p = 0; p < KD_ARRAY_SIZE (probes); p++)
      {
        const json_t *probe = json_object_get (c, probes[p][0]);
        if (probe != NULL && !json_is_null (probe))
          {
            cleanup_free char *d = kd_desc_probe (probe);
            kd_tabw_printf (w, 2, "%s:\t%s\n", probes[p][1], d);
          }
      }
    describe_env (w, pod, c);
    describe_mounts (w, c);
  }
}
