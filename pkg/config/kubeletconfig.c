/* --config FILE: a KubeletConfiguration (kubelet.config.k8s.io/v1beta1)
   with the kubelet's field names for the settings kubeletd has. Fields the
   kubelet knows but kubeletd does not are warnings (a kubelet's file keeps
   working), a bad value is an error at file:line:col, and a setting whose
   flag was given is left alone (flags win, as in the kubelet). */
#include <libgen.h>

#include "config-internal.h"
#include "kubeletd/manifest.h"

#define KD_CONFIG_API_VERSION "kubelet.config.k8s.io/v1beta1"
#define KD_CONFIG_KIND        "KubeletConfiguration"
#define KD_CONFIG_MAX_BYTES   (1024 * 1024)

typedef struct
{
  const char *key;
  kd_setting_t id;
  kd_node_kind_t kind;
} kd_config_field_t;

static const kd_config_field_t top_fields[] = {
  { "staticPodPath", KD_SET_POD_MANIFEST_PATH, KD_NODE_STRING },
  { "staticPodURL", KD_SET_MANIFEST_URL, KD_NODE_STRING },
  { "fileCheckFrequency", KD_SET_FILE_CHECK_FREQUENCY, KD_NODE_STRING },
  { "httpCheckFrequency", KD_SET_HTTP_CHECK_FREQUENCY, KD_NODE_STRING },
  { "podCIDR", KD_SET_POD_CIDR, KD_NODE_STRING },
  { "maxPods", KD_SET_MAX_PODS, KD_NODE_INT },
  { "podPidsLimit", KD_SET_POD_PIDS_LIMIT, KD_NODE_INT },
  { "imageGCHighThresholdPercent", KD_SET_IMAGE_GC_HIGH_THRESHOLD, KD_NODE_INT },
  { "imageGCLowThresholdPercent", KD_SET_IMAGE_GC_LOW_THRESHOLD, KD_NODE_INT },
  { "containerLogMaxSize", KD_SET_CONTAINER_LOG_MAX_SIZE, KD_NODE_STRING },
  { "containerLogMaxFiles", KD_SET_CONTAINER_LOG_MAX_FILES, KD_NODE_INT },
  { "cgroupRoot", KD_SET_CGROUP_ROOT, KD_NODE_STRING },
  { "seccompDefault", KD_SET_SECCOMP_DEFAULT, KD_NODE_BOOL },
};

static const kd_config_field_t logging_fields[] = {
  { "format", KD_SET_LOGGING_FORMAT, KD_NODE_STRING },
  { "verbosity", KD_SET_VERBOSITY, KD_NODE_INT },
};

static const kd_config_field_t crashloop_fields[] = {
  { "maxContainerRestartPeriod", KD_SET_CRASHLOOP_BACKOFF_MAX, KD_NODE_STRING },
};

static const struct
{
  const char *key;
  const kd_config_field_t *fields;
  size_t n;
} sections[] = {
  { "logging", logging_fields, KD_ARRAY_SIZE (logging_fields) },
  { "crashLoopBackOff", crashloop_fields, KD_ARRAY_SIZE (crashloop_fields) },
};

static const char *
kind_name (kd_node_kind_t kind)
{
  switch (kind)
    {
    case KD_NODE_STRING:
      return "a string";
    case KD_NODE_INT:
      return "an integer";
    case KD_NODE_BOOL:
      return "a boolean";
    case KD_NODE_MAP:
      return "a mapping";
    default:
      return "a value of another type";
    }
}

static void add_warning (kd_config_t *cfg, const char *path, const kd_node_t *at, const char *fmt,
                         ...) KD_PRINTF (4, 5);

static void
add_warning (kd_config_t *cfg, const char *path, const kd_node_t *at, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  cfg->warnings.v = xrealloc (cfg->warnings.v, (cfg->warnings.n + 1) * sizeof (char *));
  cfg->warnings.v[cfg->warnings.n++] = xasprintf ("%s:%d:%d: %s", path, at->line, at->col, msg);
}

/* staticPodPath relative to the file's directory, as the kubelet resolves
   the paths of its config file. */
static char *
resolve_relative (const char *file, const char *value)
{
  cleanup_free char *copy = xstrdup (file);

  if (*value == '\0' || *value == '/')
    return xstrdup (value);
  return xasprintf ("%s/%s", dirname (copy), value);
}

static int
apply_field (kd_config_t *cfg, const char *path, const kd_config_field_t *f, const char *name,
             const kd_node_t *val, const bool *flags_set, kd_error_t *err)
{
  cleanup_free char *text = NULL;

  if (val->kind == KD_NODE_NULL)
    return 0; /* null leaves the default, as in Go */
  if (val->kind != f->kind)
    return kd_make_error (err, 0, "%s:%d:%d: %s: expected %s, got %s", path, val->line, val->col,
                          name, kind_name (f->kind), kind_name (val->kind));
  if (f->kind == KD_NODE_INT)
    text = xasprintf ("%lld", (long long) val->i);
  else if (f->kind == KD_NODE_BOOL)
    text = xstrdup (val->b ? "true" : "false");
  else if (f->id == KD_SET_POD_MANIFEST_PATH)
    text = resolve_relative (path, val->text);
  else
    text = xstrdup (val->text);

  if (flags_set && flags_set[f->id])
    return 0;
  if (kd_config_set_value (cfg, f->id, text, err) < 0)
    return kd_error_wrap (err, "%s:%d:%d: %s", path, val->line, val->col, name);
  return 0;
}

static const kd_config_field_t *
find_field (const kd_config_field_t *fields, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (fields[i].key, key) == 0)
      return &fields[i];
  return NULL;
}

static int
apply_section (kd_config_t *cfg, const char *path, const char *prefix,
               const kd_config_field_t *fields, size_t n_fields, const kd_node_t *map,
               const bool *flags_set, kd_error_t *err)
{
  if (map->kind == KD_NODE_NULL)
    return 0;
  if (map->kind != KD_NODE_MAP)
    return kd_make_error (err, 0, "%s:%d:%d: %s: expected a mapping, got %s", path, map->line,
                          map->col, prefix, kind_name (map->kind));
  for (size_t i = 0; i < map->n; i++)
    {
      const kd_node_t *key = map->keys[i];
      const kd_config_field_t *f = find_field (fields, n_fields, key->text);
      cleanup_free char *name = xasprintf ("%s.%s", prefix, key->text);

      if (f == NULL)
        {
          add_warning (cfg, path, key, "unknown field \"%s\" (ignored)", name);
          continue;
        }
      if (apply_field (cfg, path, f, name, map->items[i], flags_set, err) < 0)
        return -1;
    }
  return 0;
}

/* kind and apiVersion first: a file of another kind is refused before any
   of its fields is looked at. */
static int
check_type (const char *path, const kd_node_t *root, kd_error_t *err)
{
  const kd_node_t *kind = kd_node_get (root, "kind");
  const kd_node_t *api = kd_node_get (root, "apiVersion");

  if (kind == NULL || kind->kind != KD_NODE_STRING || *kind->text == '\0')
    return kd_make_error (err, 0, "%s: Object 'Kind' is missing (want kind: " KD_CONFIG_KIND ")",
                          path);
  if (api == NULL || api->kind != KD_NODE_STRING || *api->text == '\0')
    return kd_make_error (
        err, 0, "%s: Object 'apiVersion' is missing (want apiVersion: " KD_CONFIG_API_VERSION ")",
        path);
  if (strcmp (api->text, KD_CONFIG_API_VERSION) != 0)
    return kd_make_error (err, 0,
                          "%s:%d:%d: no kind \"%s\" is registered for version \"%s\" (want "
                          "apiVersion: " KD_CONFIG_API_VERSION ")",
                          path, api->line, api->col, kind->text, api->text);
  if (strcmp (kind->text, KD_CONFIG_KIND) != 0)
    return kd_make_error (err, 0,
                          "%s:%d:%d: no kind \"%s\" is registered for version \"%s\" (want "
                          "kind: " KD_CONFIG_KIND ")",
                          path, kind->line, kind->col, kind->text, api->text);
  return 0;
}

static void
free_docs (kd_doc_t **docs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    kd_doc_free (docs[i]);
  free (docs);
}

int
kd_config_apply_file (kd_config_t *cfg, const char *path, const bool *flags_set, kd_error_t *err)
{
  cleanup_free char *buf = NULL;
  kd_doc_t **docs = NULL;
  size_t len = 0, n_docs = 0;
  const kd_node_t *root;
  int ret = -1;

  if (kd_read_file (path, KD_CONFIG_MAX_BYTES, &buf, &len, err) < 0)
    return kd_error_wrap (err, "--config");
  if (kd_yaml_parse (path, buf, len, &docs, &n_docs, err) < 0)
    return -1;
  if (n_docs != 1 || (root = kd_doc_root (docs[0])) == NULL || root->kind != KD_NODE_MAP)
    {
      kd_make_error (err, 0, "%s: want one YAML document with a mapping (a " KD_CONFIG_KIND ")",
                     path);
      goto out;
    }
  if (check_type (path, root, err) < 0)
    goto out;

  for (size_t i = 0; i < root->n; i++)
    {
      const kd_node_t *key = root->keys[i];
      const kd_node_t *val = root->items[i];
      const kd_config_field_t *f;
      bool done = false;

      if (strcmp (key->text, "kind") == 0 || strcmp (key->text, "apiVersion") == 0)
        continue;
      for (size_t s = 0; s < KD_ARRAY_SIZE (sections); s++)
        if (strcmp (key->text, sections[s].key) == 0)
          {
            if (apply_section (cfg, path, sections[s].key, sections[s].fields, sections[s].n, val,
                               flags_set, err)
                < 0)
              goto out;
            done = true;
          }
      if (done)
        continue;
      f = find_field (top_fields, KD_ARRAY_SIZE (top_fields), key->text);
      if (f == NULL)
        {
          add_warning (cfg, path, key, "unknown field \"%s\" (ignored)", key->text);
          continue;
        }
      if (apply_field (cfg, path, f, key->text, val, flags_set, err) < 0)
        goto out;
    }
  ret = 0;
out:
  free_docs (docs, n_docs);
  return ret;
}
