/* A container's environment, as the kubelet and containerd make it.

   The kubelet (makeEnvironmentVariables) evaluates spec.env in order: a
   value is expanded ($(VAR)) against the variables declared before it; a
   valueFrom reads the pod (fieldRef) or the container's resources
   (resourceFieldRef, limits defaulted to the node's allocatable). The
   kubelet hands them over as a Go map (no order); kubeletd keeps the
   declared order, the last value of a repeated name winning in the first
   one's place. containerd then builds the process env: its default PATH,
   HOSTNAME=<pod host name>, the image's Env, then the kubelet's variables,
   each replacing a variable of the same name in place. */
#include <math.h>

#include "pod-internal.h"

void
kd_env_set (kd_strv_t *env, const char *name, const char *value)
{
  size_t len = strlen (name);
  char *kv = xasprintf ("%s=%s", name, value ? value : "");
  for (size_t i = 0; i < env->n; i++)
    if (strncmp (env->v[i], name, len) == 0 && env->v[i][len] == '=')
      {
        free (env->v[i]);
        env->v[i] = kv;
        return;
      }
  env->v = xrealloc (env->v, (env->n + 2) * sizeof (char *));
  env->v[env->n++] = kv;
  env->v[env->n] = NULL;
}

void
kd_env_set_kv (kd_strv_t *env, const char *kv)
{
  const char *eq = strchr (kv, '=');
  cleanup_free char *name = eq ? xstrndup (kv, eq - kv) : xstrdup (kv);
  kd_env_set (env, name, eq ? eq + 1 : "");
}

static const char *
env_lookup (char *const *env, size_t n, const char *name, size_t len)
{
  const char *found = NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp (env[i], name, len) == 0 && env[i][len] == '=')
      found = env[i] + len + 1;
  return found;
}

/* third_party/forked/golang/expansion: "$$" is a literal "$"; "$(NAME)"
   is replaced when NAME is known and kept as written otherwise; a "$"
   before anything else, and an unclosed "$(", stay as they are. */
char *
kd_expand_vars (const char *in, char *const *env, size_t n_env)
{
  kd_buf_t b = { 0 };
  size_t len = strlen (in);
  kd_buf_append (&b, "", 0);
  for (size_t i = 0; i < len; i++)
    {
      if (in[i] != '$' || i + 1 >= len)
        {
          kd_buf_putc (&b, in[i]);
          continue;
        }
      char next = in[i + 1];
      if (next == '$')
        {
          kd_buf_putc (&b, '$');
          i++;
        }
      else if (next == '(')
        {
          const char *close = strchr (in + i + 2, ')');
          if (close == NULL)
            {
              kd_buf_puts (&b, "$(");
              i++;
              continue;
            }
          size_t nlen = close - (in + i + 2);
          const char *v = env_lookup (env, n_env, in + i + 2, nlen);
          if (v)
            kd_buf_puts (&b, v);
          else
            kd_buf_append (&b, in + i, nlen + 3);
          i = close - in;
        }
      else
        {
          kd_buf_putc (&b, '$');
          kd_buf_putc (&b, next);
          i++;
        }
    }
  return kd_buf_steal (&b);
}

static const char *
map_get (const kd_strmap_t *m, const char *k)
{
  for (size_t i = 0; i < m->n; i++)
    if (kd_str_eq (m->v[i].key, k))
      return m->v[i].value;
  return NULL;
}

static int
cmp_kv (const void *a, const void *b)
{
  const kd_kv_t *x = *(const kd_kv_t *const *) a, *y = *(const kd_kv_t *const *) b;
  return strcmp (x->key, y->key);
}

/* fieldpath.FormatMap: sorted `key="value"` lines (Go %q quoting). */
static char *
format_map (const kd_strmap_t *m)
{
  kd_buf_t b = { 0 };
  const kd_kv_t **v = xcalloc (m->n + 1, sizeof (*v));
  kd_buf_append (&b, "", 0);
  for (size_t i = 0; i < m->n; i++)
    v[i] = &m->v[i];
  qsort (v, m->n, sizeof (*v), cmp_kv);
  for (size_t i = 0; i < m->n; i++)
    {
      if (i)
        kd_buf_putc (&b, '\n');
      kd_buf_printf (&b, "%s=\"", v[i]->key);
      for (const char *p = v[i]->value ? v[i]->value : ""; *p; p++)
        {
          if (*p == '"' || *p == '\\')
            kd_buf_putc (&b, '\\');
          if (*p == '\n')
            kd_buf_puts (&b, "\\n");
          else if (*p == '\t')
            kd_buf_puts (&b, "\\t");
          else
            kd_buf_putc (&b, *p);
        }
      kd_buf_putc (&b, '"');
    }
  free (v);
  return kd_buf_steal (&b);
}

/* "metadata.labels['app']" -> key "app" */
static char *
subscript (const char *path, const char *prefix)
{
  size_t pl = strlen (prefix), len = strlen (path);
  if (strncmp (path, prefix, pl) != 0 || len < pl + 4 || path[pl] != '[' || path[pl + 1] != '\''
      || path[len - 1] != ']' || path[len - 2] != '\'')
    return NULL;
  return xstrndup (path + pl + 2, len - pl - 4);
}

static char *
join_ips (char *const *ips, size_t n)
{
  kd_buf_t b = { 0 };
  kd_buf_append (&b, "", 0);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        kd_buf_putc (&b, ',');
      kd_buf_puts (&b, ips[i]);
    }
  return kd_buf_steal (&b);
}

static int
field_ref_value (const kd_ctrspec_input_t *in, const char *path, char **out, kd_error_t *err)
{
  const kd_pod_t *pod = in->pod;
  cleanup_free char *key = NULL;
  const char *v = NULL;

  if (strcmp (path, "metadata.name") == 0)
    v = pod->metadata.name;
  else if (strcmp (path, "metadata.namespace") == 0)
    v = pod->metadata.namespace_ ? pod->metadata.namespace_ : "default";
  else if (strcmp (path, "metadata.uid") == 0)
    v = pod->metadata.uid;
  else if (strcmp (path, "spec.nodeName") == 0)
    v = pod->spec.node_name;
  else if (strcmp (path, "spec.serviceAccountName") == 0)
    v = pod->spec.service_account_name;
  else if (strcmp (path, "status.hostIP") == 0)
    v = in->n_host_ips ? in->host_ips[0] : "";
  else if (strcmp (path, "status.podIP") == 0)
    v = in->n_pod_ips ? in->pod_ips[0] : "";
  else if (strcmp (path, "status.hostIPs") == 0)
    return *out = join_ips (in->host_ips, in->n_host_ips), 0;
  else if (strcmp (path, "status.podIPs") == 0)
    return *out = join_ips (in->pod_ips, in->n_pod_ips), 0;
  else if (strcmp (path, "metadata.labels") == 0)
    return *out = format_map (&pod->metadata.labels), 0;
  else if (strcmp (path, "metadata.annotations") == 0)
    return *out = format_map (&pod->metadata.annotations), 0;
  else if ((key = subscript (path, "metadata.labels")))
    v = map_get (&pod->metadata.labels, key);
  else if ((key = subscript (path, "metadata.annotations")))
    v = map_get (&pod->metadata.annotations, key);
  else
    return kd_make_error (err, 0, "unsupported fieldPath: %s", path);
  *out = xstrdup (v ? v : "");
  return 0;
}

static const kd_container_t *
find_container (const kd_pod_t *pod, const char *name)
{
  for (size_t i = 0; i < pod->spec.n_containers; i++)
    if (kd_str_eq (pod->spec.containers[i].name, name))
      return &pod->spec.containers[i];
  for (size_t i = 0; i < pod->spec.n_init_containers; i++)
    if (kd_str_eq (pod->spec.init_containers[i].name, name))
      return &pod->spec.init_containers[i];
  return NULL;
}

/* resource.ExtractContainerResourceValue on the pod the kubelet defaults
   for the downward API (limits missing -> the node's allocatable):
   ceil(value / divisor), cpu in millicores. */
static int
resource_ref_value (const kd_ctrspec_input_t *in, const kd_resource_field_selector_t *rf,
                    char **out, kd_error_t *err)
{
  const kd_container_t *c = in->ctr;
  kd_quantity_t div, q;
  const char *res = rf->resource ? rf->resource : "";
  const kd_strmap_t *list;
  const char *name;
  bool is_limit;

  if (rf->container_name && *rf->container_name)
    {
      c = find_container (in->pod, rf->container_name);
      if (c == NULL)
        return kd_make_error (err, 0, "container %s not found", rf->container_name);
    }
  if (rf->divisor == NULL || kd_quantity_parse (rf->divisor, &div) < 0 || div.milli == 0)
    kd_quantity_parse ("1", &div);

  if (kd_str_has_prefix (res, "limits."))
    is_limit = true;
  else if (kd_str_has_prefix (res, "requests."))
    is_limit = false;
  else
    return kd_make_error (err, 0, "unsupported container resource : %s", res);
  name = strchr (res, '.') + 1;
  list = is_limit ? &c->resources.limits : &c->resources.requests;
  if (strcmp (name, "cpu") != 0 && strcmp (name, "memory") != 0
      && strcmp (name, "ephemeral-storage") != 0)
    return kd_make_error (err, 0, "unsupported container resource : %s", res);

  const char *text = map_get (list, name);
  bool cpu = strcmp (name, "cpu") == 0;
  double value;
  if (text && kd_quantity_parse (text, &q) == 0)
    value = cpu ? (double) q.milli : (double) q.value;
  else if (!is_limit)
    value = 0;
  else if (cpu)
    value = (double) in->node_cpu_millis;
  else if (strcmp (name, "memory") == 0)
    value = (double) in->node_memory;
  else
    value = (double) in->node_ephemeral_storage;
  double d = cpu ? (double) div.milli : (double) div.value;
  *out = xasprintf ("%lld", (long long) ceil (value / (d > 0 ? d : 1)));
  return 0;
}

int
kd_ctrspec_kubelet_env (const kd_ctrspec_input_t *in, kd_strv_t *kenv, kd_error_t *err)
{
  const kd_container_t *c = in->ctr;
  for (size_t i = 0; i < c->n_env; i++)
    {
      const kd_env_var_t *e = &c->env[i];
      cleanup_free char *val = NULL;
      if (e->value && *e->value)
        val = kd_expand_vars (e->value, kenv->v, kenv->n);
      else if (e->value_from && e->value_from->field_ref)
        {
          const char *path = e->value_from->field_ref->field_path;
          if (field_ref_value (in, path ? path : "", &val, err) < 0)
            return -1;
        }
      else if (e->value_from && e->value_from->resource_field_ref)
        {
          if (resource_ref_value (in, e->value_from->resource_field_ref, &val, err) < 0)
            return -1;
        }
      else if (e->value_from
               && (e->value_from->config_map_key_ref || e->value_from->secret_key_ref))
        return kd_make_error (err, 0, "couldn't get %s for env %s, no kubeClient defined",
                              e->value_from->secret_key_ref ? "secret" : "configMap",
                              e->name ? e->name : "");
      kd_env_set (kenv, e->name ? e->name : "", val ? val : "");
    }
  return 0;
}

void
kd_ctrspec_process_env (const kd_ctrspec_input_t *in, const kd_strv_t *kenv, kd_strv_t *env)
{
  kd_env_set (env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (in->hostname)
    kd_env_set (env, "HOSTNAME", in->hostname);
  for (size_t i = 0; in->image && i < in->image->n_env; i++)
    kd_env_set_kv (env, in->image->env[i]);
  for (size_t i = 0; i < kenv->n; i++)
    kd_env_set_kv (env, kenv->v[i]);
}
