/* Kubernetes' defaults for a v1 Pod, the static-pod identity the kubelet
   gives a manifest, the image pull policy default and the QoS class.

   Sources followed:
     - pkg/apis/core/v1/defaults.go and the generated SetObjectDefaults_Pod
       (which defaulters run, and on which fields);
     - k8s.io/api/core/v1 `+default=` markers (port protocol "TCP", gRPC
       probe service "");
     - pkg/util/parsers.ParseImageName over distribution/reference's
       ParseNormalizedNamed for the pull policy;
     - pkg/kubelet/config/common.go applyDefaults and config.go (source and
       first-seen annotations) for static pods;
     - pkg/apis/core/helper/qos ComputePodQOS.

   Not defaulted here, as in Kubernetes: metadata.namespace (the static-pod
   step does it), spec.preemptionPolicy and spec.priority (the Priority
   admission plugin sets them; the kubelet never runs it). */

#include <time.h>

#include "kubeletd/api.h"

static bool
is_empty (const char *s)
{
  return s == NULL || *s == '\0';
}

static void
set_str (char **field, const char *value)
{
  free (*field);
  *field = xstrdup (value);
}

static void
default_str (char **field, const char *value)
{
  if (is_empty (*field))
    set_str (field, value);
}

static kd_kv_t *
strmap_find (kd_strmap_t *m, const char *key)
{
  for (size_t i = 0; i < m->n; i++)
    if (kd_str_eq (m->v[i].key, key))
      return &m->v[i];
  return NULL;
}

static void
strmap_set (kd_strmap_t *m, const char *key, const char *value)
{
  kd_kv_t *kv = strmap_find (m, key);

  if (kv == NULL)
    {
      m->v = xrealloc (m->v, (m->n + 1) * sizeof (*m->v));
      kv = &m->v[m->n++];
      kv->key = xstrdup (key);
      kv->value = NULL;
    }
  set_str (&kv->value, value);
}

/* ---- image references (distribution/reference) -------------------------- */

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum (char c)
{
  return is_lower_alnum (c) || (c >= 'A' && c <= 'Z');
}

static bool
is_hex_lower (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
is_word (char c)
{
  return is_alnum (c) || c == '_';
}

/* pathComponent: [a-z0-9]+ ((?:[._]|__|[-]+)[a-z0-9]+)* */
static bool
valid_path_component (const char *s, size_t n)
{
  size_t i = 0;

  while (true)
    {
      size_t start = i, sep;

      while (i < n && is_lower_alnum (s[i]))
        i++;
      if (i == start)
        return false;
      if (i == n)
        return true;
      sep = i;
      while (i < n && !is_lower_alnum (s[i]))
        i++;
      if (i == n)
        return false;
      if (!((i - sep == 1 && (s[sep] == '.' || s[sep] == '_'))
            || (i - sep == 2 && s[sep] == '_' && s[sep + 1] == '_')))
        {
          for (size_t j = sep; j < i; j++)
            if (s[j] != '-')
              return false;
        }
    }
}

/* domainNameComponent (\. domainNameComponent)*, where a component is
   [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool
valid_domain_name (const char *s, size_t n)
{
  size_t i = 0;

  while (true)
    {
      size_t start = i;
      while (i < n && s[i] != '.')
        {
          if (!is_alnum (s[i]) && s[i] != '-')
            return false;
          i++;
        }
      if (i == start || s[start] == '-' || s[i - 1] == '-')
        return false;
      if (i == n)
        return true;
      i++; /* the dot */
    }
}

/* host (":" [0-9]+)? with host a domain name or a bracketed IPv6 address */
static bool
valid_domain_and_port (const char *s, size_t n)
{
  size_t host_end;

  if (n > 0 && s[0] == '[')
    {
      const char *close = memchr (s, ']', n);
      if (close == NULL || close == s + 1)
        return false;
      for (const char *p = s + 1; p < close; p++)
        if (!(is_hex_lower (*p) || (*p >= 'A' && *p <= 'F') || *p == ':'))
          return false;
      host_end = (size_t) (close - s) + 1;
    }
  else
    {
      const char *colon = memchr (s, ':', n);
      host_end = colon ? (size_t) (colon - s) : n;
      if (!valid_domain_name (s, host_end))
        return false;
    }
  if (host_end == n)
    return true;
  if (s[host_end] != ':' || host_end + 1 == n)
    return false;
  for (size_t i = host_end + 1; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* namePat = (domainAndPort "/")? pathComponent ("/" pathComponent)* */
static bool
valid_name (const char *s, size_t n)
{
  const char *slash = memchr (s, '/', n);
  bool all_path = true, with_domain = slash != NULL;
  size_t i = 0;

  /* every component a path component */
  while (all_path)
    {
      const char *next = memchr (s + i, '/', n - i);
      size_t end = next ? (size_t) (next - s) : n;
      all_path = valid_path_component (s + i, end - i);
      if (next == NULL)
        break;
      i = end + 1;
    }
  if (all_path)
    return true;
  if (!with_domain || !valid_domain_and_port (s, (size_t) (slash - s)))
    return false;
  i = (size_t) (slash - s) + 1;
  while (true)
    {
      const char *next = memchr (s + i, '/', n - i);
      size_t end = next ? (size_t) (next - s) : n;
      if (!valid_path_component (s + i, end - i))
        return false;
      if (next == NULL)
        return true;
      i = end + 1;
    }
}

/* tag: [\w][\w.-]{0,127} */
static bool
valid_tag (const char *s, size_t n)
{
  if (n == 0 || n > 128 || !is_word (s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word (s[i]) && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

/* The digest grammar, then go-digest's Validate: only sha256, sha384 and
   sha512 are available, with lowercase hex of their exact length. */
static bool
valid_digest (const char *s)
{
  static const struct
  {
    const char *alg;
    size_t len;
  } algs[] = { { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 } };
  const char *colon = strchr (s, ':');
  size_t hex_len;

  if (colon == NULL)
    return false;
  hex_len = strlen (colon + 1);
  for (size_t i = 0; i < KD_ARRAY_SIZE (algs); i++)
    if ((size_t) (colon - s) == strlen (algs[i].alg)
        && strncmp (s, algs[i].alg, strlen (algs[i].alg)) == 0)
      {
        if (hex_len != algs[i].len)
          return false;
        for (const char *p = colon + 1; *p; p++)
          if (!is_hex_lower (*p))
            return false;
        return true;
      }
  return false;
}

/* splitDockerDomain: the remainder after the registry host. */
static char *
split_docker_domain (const char *name, char **remainder)
{
  const char *slash = strchr (name, '/');
  char *domain, *rest;

  if (slash == NULL)
    {
      *remainder = xasprintf ("library/%s", name);
      return xstrdup ("docker.io");
    }
  domain = xstrndup (name, (size_t) (slash - name));
  rest = xstrdup (slash + 1);
  if (strcmp (domain, "localhost") == 0 || strpbrk (domain, ".:") != NULL)
    ;
  else
    {
      bool upper = false;
      for (const char *p = domain; *p; p++)
        upper |= *p >= 'A' && *p <= 'Z';
      if (!upper)
        {
          free (rest);
          rest = xstrdup (name);
          set_str (&domain, "docker.io");
        }
    }
  if (strcmp (domain, "index.docker.io") == 0)
    set_str (&domain, "docker.io");
  if (strcmp (domain, "docker.io") == 0 && strchr (rest, '/') == NULL)
    {
      char *lib = xasprintf ("library/%s", rest);
      free (rest);
      rest = lib;
    }
  *remainder = rest;
  return domain;
}

/* ParseImageName: 0 and the tag (NULL when none) and whether a digest was
   given, or -1 when the reference does not parse. */
static int
parse_image_tag (const char *image, char **tag, bool *has_digest)
{
  cleanup_free char *remainder = NULL;
  cleanup_free char *domain = NULL;
  cleanup_free char *full = NULL;
  char *at, *last_slash, *colon;
  size_t n;

  *tag = NULL;
  *has_digest = false;
  if (image == NULL)
    return -1;
  n = strlen (image);
  if (n == 64)
    {
      bool hex = true;
      for (size_t i = 0; i < n; i++)
        hex &= is_hex_lower (image[i]);
      if (hex)
        return -1; /* "cannot specify 64-byte hexadecimal strings" */
    }
  domain = split_docker_domain (image, &remainder);
  {
    size_t remote_len = strcspn (remainder, ":");
    for (size_t i = 0; i < remote_len; i++)
      if (remainder[i] >= 'A' && remainder[i] <= 'Z')
        return -1; /* "repository name must be lowercase" */
  }

  full = xasprintf ("%s/%s", domain, remainder);
  at = strchr (full, '@');
  if (at)
    {
      *at = '\0';
      if (!valid_digest (at + 1))
        return -1;
      *has_digest = true;
    }
  last_slash = strrchr (full, '/');
  colon = strrchr (full, ':');
  if (colon && (last_slash == NULL || colon > last_slash))
    {
      *colon = '\0';
      if (!valid_tag (colon + 1, strlen (colon + 1)))
        return -1;
    }
  else
    colon = NULL;
  if (!valid_name (full, strlen (full)) || strlen (full) > 255)
    return -1;
  if (colon)
    *tag = xstrdup (colon + 1);
  return 0;
}

const char *
kd_default_pull_policy (const char *image)
{
  cleanup_free char *tag = NULL;
  bool has_digest;

  /* SetDefaults_Container ignores a parse error and says IfNotPresent */
  if (parse_image_tag (image, &tag, &has_digest) < 0)
    return "IfNotPresent";
  if (tag == NULL && !has_digest)
    return "Always"; /* ParseImageName defaults the tag to "latest" */
  return kd_str_eq (tag, "latest") ? "Always" : "IfNotPresent";
}

/* ---- SetObjectDefaults_Pod ----------------------------------------------- */

static void
default_http_get (kd_http_get_action_t *h)
{
  if (h == NULL)
    return;
  default_str (&h->path, "/");
  default_str (&h->scheme, "HTTP");
}

static void
default_probe (kd_probe_t *p)
{
  if (p == NULL)
    return;
  if (p->timeout_seconds == 0)
    p->timeout_seconds = 1;
  if (p->period_seconds == 0)
    p->period_seconds = 10;
  if (p->success_threshold == 0)
    p->success_threshold = 1;
  if (p->failure_threshold == 0)
    p->failure_threshold = 3;
  default_http_get (p->handler.http_get);
  if (p->handler.grpc && !p->handler.grpc->service_set)
    {
      set_str (&p->handler.grpc->service, "");
      p->handler.grpc->service_set = true;
    }
}

/* SetDefaults_ResourceList: every quantity rounded up to milli, and stored
   as Kubernetes prints it. Text that is not a quantity is left for
   validation to report. */
static void
default_resource_list (kd_strmap_t *m)
{
  for (size_t i = 0; i < m->n; i++)
    {
      kd_quantity_t q;

      if (m->v[i].value == NULL || kd_quantity_parse (m->v[i].value, &q) < 0)
        continue;
      kd_quantity_round_up_milli (&q);
      free (m->v[i].value);
      m->v[i].value = kd_quantity_canonical (&q);
    }
}

/* SetDefaults_Pod: requests default to limits, for each resource that has
   a limit and no request. */
static void
default_requests_from_limits (kd_resource_requirements_t *r)
{
  for (size_t i = 0; i < r->limits.n; i++)
    if (strmap_find (&r->requests, r->limits.v[i].key) == NULL)
      strmap_set (&r->requests, r->limits.v[i].key,
                  r->limits.v[i].value ? r->limits.v[i].value : "");
}

static void
default_container (kd_container_t *c, bool host_network)
{
  default_requests_from_limits (&c->resources);
  if (is_empty (c->image_pull_policy))
    set_str (&c->image_pull_policy, kd_default_pull_policy (c->image));
  default_str (&c->termination_message_path, "/dev/termination-log");
  default_str (&c->termination_message_policy, "File");
  for (size_t i = 0; i < c->n_ports; i++)
    {
      default_str (&c->ports[i].protocol, "TCP");
      if (host_network && c->ports[i].host_port == 0)
        c->ports[i].host_port = c->ports[i].container_port;
    }
  for (size_t i = 0; i < c->n_env; i++)
    if (c->env[i].value_from && c->env[i].value_from->field_ref)
      default_str (&c->env[i].value_from->field_ref->api_version, "v1");
  default_resource_list (&c->resources.limits);
  default_resource_list (&c->resources.requests);
  default_probe (c->liveness_probe);
  default_probe (c->readiness_probe);
  default_probe (c->startup_probe);
  if (c->lifecycle)
    {
      if (c->lifecycle->post_start)
        default_http_get (c->lifecycle->post_start->http_get);
      if (c->lifecycle->pre_stop)
        default_http_get (c->lifecycle->pre_stop->http_get);
    }
}

static void
default_volume (kd_volume_t *v)
{
  /* SetDefaults_Volume: a volume with no source is an emptyDir */
  if (v->host_path == NULL && v->empty_dir == NULL && !v->config_map && !v->secret
      && !v->persistent_volume_claim && !v->projected && !v->other_source)
    v->empty_dir = xcalloc (1, sizeof (*v->empty_dir));
  if (v->host_path && !v->host_path->type_set)
    {
      set_str (&v->host_path->type, ""); /* HostPathUnset */
      v->host_path->type_set = true;
    }
}

void
kd_pod_set_defaults (kd_pod_t *pod)
{
  kd_pod_spec_t *spec = &pod->spec;

  default_str (&pod->api_version, "v1");
  default_str (&pod->kind, "Pod");

  /* SetDefaults_PodSpec */
  default_str (&spec->dns_policy, "ClusterFirst");
  default_str (&spec->restart_policy, "Always");
  if (spec->security_context == NULL)
    spec->security_context = xcalloc (1, sizeof (*spec->security_context));
  if (!spec->termination_grace_period_seconds.set)
    {
      spec->termination_grace_period_seconds.set = true;
      spec->termination_grace_period_seconds.v = 30;
    }
  default_str (&spec->scheduler_name, "default-scheduler");

  /* SetDefaults_Pod */
  if (!spec->enable_service_links.set)
    {
      spec->enable_service_links.set = true;
      spec->enable_service_links.v = true;
    }

  for (size_t i = 0; i < spec->n_volumes; i++)
    default_volume (&spec->volumes[i]);
  for (size_t i = 0; i < spec->n_init_containers; i++)
    default_container (&spec->init_containers[i], spec->host_network);
  for (size_t i = 0; i < spec->n_containers; i++)
    default_container (&spec->containers[i], spec->host_network);
}

/* ---- static pods ------------------------------------------------------- */

/* Go's time.Format with the kubelet's RFC3339NanoFixed layout
   ("2006-01-02T15:04:05.000000000Z07:00") in local time, as
   kubetypes.NewTimestamp().GetString() writes config.seen. */
static char *
format_seen (int64_t ns)
{
  time_t sec = (time_t) (ns / 1000000000);
  long frac = (long) (ns % 1000000000);
  struct tm tm;
  char date[40], zone[48];

  if (frac < 0)
    {
      frac += 1000000000;
      sec--;
    }
  localtime_r (&sec, &tm);
  strftime (date, sizeof (date), "%Y-%m-%dT%H:%M:%S", &tm);
  if (tm.tm_gmtoff == 0)
    snprintf (zone, sizeof (zone), "Z");
  else
    {
      long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
      snprintf (zone, sizeof (zone), "%c%02d:%02d", tm.tm_gmtoff < 0 ? '-' : '+',
                (int) (off / 3600 % 100), (int) (off % 3600 / 60));
    }
  return xasprintf ("%s.%09ld%s", date, frac, zone);
}

/* The UID of a file pod: a hash of its content, then of the node and the
   file, so an edit, another node or another path gives another UID. The
   kubelet hashes Go's object dump; here the canonical JSON stands in. */
static char *
static_pod_uid (const kd_pod_t *pod, const char *node_name, const char *source_path)
{
  json_t *json = kd_pod_to_json (pod);
  cleanup_free char *content = json_dumps (json, JSON_COMPACT | JSON_SORT_KEYS);
  cleanup_free char *host = xasprintf ("host:%s", node_name ? node_name : "");
  cleanup_free char *file = xasprintf ("file:%s", source_path ? source_path : "");
  unsigned char md[KD_DIGEST_MAX];
  kd_digest_t *ctx = kd_digest_new (KD_MD5);
  char hex[2 * KD_DIGEST_MAX + 1];

  json_decref (json);
  kd_digest_update (ctx, content ? content : "", content ? strlen (content) : 0);
  kd_digest_update (ctx, host, strlen (host));
  kd_digest_update (ctx, file, strlen (file));
  kd_hex (md, kd_digest_final (ctx, md), hex);
  kd_digest_free (ctx);
  return xstrdup (hex);
}

/* helper.AddOrUpdateTolerationInPod: a toleration matching on key, effect,
   operator and value is replaced unless it is already equal. */
static void
add_or_update_toleration (kd_pod_spec_t *spec, const char *op, const char *effect)
{
  for (size_t i = 0; i < spec->n_tolerations; i++)
    {
      kd_toleration_t *t = &spec->tolerations[i];
      if (is_empty (t->key) && kd_str_eq (t->operator_ ? t->operator_ : "", op)
          && kd_str_eq (t->effect ? t->effect : "", effect) && is_empty (t->value))
        {
          /* an equal one has no tolerationSeconds; otherwise replace it */
          t->toleration_seconds.set = false;
          t->toleration_seconds.v = 0;
          return;
        }
    }
  spec->tolerations
      = xrealloc (spec->tolerations, (spec->n_tolerations + 1) * sizeof (*spec->tolerations));
  memset (&spec->tolerations[spec->n_tolerations], 0, sizeof (*spec->tolerations));
  spec->tolerations[spec->n_tolerations].operator_ = xstrdup (op);
  spec->tolerations[spec->n_tolerations].effect = xstrdup (effect);
  spec->n_tolerations++;
}

void
kd_pod_make_static (kd_pod_t *pod, const char *node_name, const char *source_path, int64_t seen_ns)
{
  const char *node = node_name ? node_name : "";
  cleanup_free char *lower = xstrdup (node);
  cleanup_free char *seen = NULL;
  char *name;

  if (seen_ns == 0)
    seen_ns = kd_now_ns ();
  seen = format_seen (seen_ns);

  /* applyDefaults: the UID is hashed from the pod as decoded and
     defaulted, before the identity below changes it; a UID in the
     manifest is kept. */
  if (is_empty (pod->metadata.uid))
    {
      free (pod->metadata.uid);
      pod->metadata.uid = static_pod_uid (pod, node, source_path);
    }
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char) (*p - 'A' + 'a');
  name = xasprintf ("%s-%s", pod->metadata.name ? pod->metadata.name : "", lower);
  free (pod->metadata.name);
  pod->metadata.name = name;
  default_str (&pod->metadata.namespace_, "default");
  set_str (&pod->spec.node_name, node);
  strmap_set (&pod->metadata.annotations, "kubernetes.io/config.hash", pod->metadata.uid);
  add_or_update_toleration (&pod->spec, "Exists", "NoExecute");
  set_str (&pod->status.phase, "Pending");

  /* config.go: the source annotation, then the first-seen time */
  strmap_set (&pod->metadata.annotations, "kubernetes.io/config.source", "file");
  strmap_set (&pod->metadata.annotations, "kubernetes.io/config.seen", seen);
  /* In a cluster the API server stamps the mirror pod; on its own the node
     is the only clock, so the first-seen time is the creation time (what
     AGE columns show). */
  if (pod->metadata.creation_timestamp == 0)
    pod->metadata.creation_timestamp = seen_ns;
}

/* ---- QoS (pkg/apis/core/helper/qos) -------------------------------------- */

typedef struct
{
  unsigned __int128 cpu_nano, mem_nano; /* sums in units of 1e-9 */
  bool cpu, mem;                        /* seen with a positive amount */
} qos_sum_t;

/* A parsed quantity in nano units (every parsed quantity is a whole number
   of nanos); saturates on absurd values. */
static unsigned __int128
to_nano (const kd_quantity_t *q)
{
  unsigned __int128 v = q->mantissa;
  int64_t e = q->exponent + 9;

  if (e < 0)
    {
      for (; e < 0 && v != 0; e++)
        v = v / 10 + (v % 10 != 0);
      return v;
    }
  for (; e > 0; e--)
    if (__builtin_mul_overflow (v, (unsigned __int128) 10, &v))
      return ~(unsigned __int128) 0;
  return v;
}

static void
qos_add (qos_sum_t *sum, const kd_strmap_t *list, bool *cpu_seen, bool *mem_seen)
{
  for (size_t i = 0; i < list->n; i++)
    {
      kd_quantity_t q;
      unsigned __int128 nano;
      bool is_cpu = kd_str_eq (list->v[i].key, "cpu");

      if (!is_cpu && !kd_str_eq (list->v[i].key, "memory"))
        continue; /* only cpu and memory count for QoS */
      if (list->v[i].value == NULL || kd_quantity_parse (list->v[i].value, &q) < 0 || q.negative
          || q.mantissa == 0)
        continue;
      nano = to_nano (&q);
      if (is_cpu)
        {
          sum->cpu = true;
          if (__builtin_add_overflow (sum->cpu_nano, nano, &sum->cpu_nano))
            sum->cpu_nano = ~(unsigned __int128) 0;
          if (cpu_seen)
            *cpu_seen = true;
        }
      else
        {
          sum->mem = true;
          if (__builtin_add_overflow (sum->mem_nano, nano, &sum->mem_nano))
            sum->mem_nano = ~(unsigned __int128) 0;
          if (mem_seen)
            *mem_seen = true;
        }
    }
}

static void
qos_container (const kd_container_t *c, qos_sum_t *req, qos_sum_t *lim, bool *guaranteed)
{
  bool cpu_limit = false, mem_limit = false;

  qos_add (req, &c->resources.requests, NULL, NULL);
  qos_add (lim, &c->resources.limits, &cpu_limit, &mem_limit);
  if (!cpu_limit || !mem_limit)
    *guaranteed = false;
}

const char *
kd_pod_qos_class (const kd_pod_t *pod)
{
  qos_sum_t req = { 0 }, lim = { 0 };
  bool guaranteed = true;

  for (size_t i = 0; i < pod->spec.n_containers; i++)
    qos_container (&pod->spec.containers[i], &req, &lim, &guaranteed);
  for (size_t i = 0; i < pod->spec.n_init_containers; i++)
    qos_container (&pod->spec.init_containers[i], &req, &lim, &guaranteed);

  if (!req.cpu && !req.mem && !lim.cpu && !lim.mem)
    return "BestEffort";
  /* every summed request must equal the summed limit, and the two lists
     must name the same resources */
  if (guaranteed
      && (req.cpu != lim.cpu || req.mem != lim.mem || req.cpu_nano != lim.cpu_nano
          || req.mem_nano != lim.mem_nano))
    guaranteed = false;
  return guaranteed ? "Guaranteed" : "Burstable";
}
