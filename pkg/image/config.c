/* Image config: the parts of an OCI / Docker image configuration that a
 * container is built from, and Kubernetes' rule for combining the image's
 * Entrypoint and Cmd with a pod's command and args. */
#include <ctype.h>

#include "kubeletd/image.h"

static bool
sha256_digest_p (const char *s)
{
  if (!kd_str_has_prefix (s, "sha256:") || strlen (s) != 7 + 64)
    return false;
  for (const char *p = s + 7; *p; p++)
    if (!isdigit ((unsigned char) *p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

/* An optional string field; JSON null and absence both give NULL. */
static int
get_string (json_t *obj, const char *key, const char *where, char **out, kd_error_t *err)
{
  json_t *v = json_object_get (obj, key);

  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return kd_make_error (err, 0, "image config: %s%s must be a string", where, key);
  *out = xstrdup (json_string_value (v));
  return 0;
}

/* An optional array of strings; null and absence give an empty list. */
static int
get_strings (json_t *obj, const char *key, const char *where, char ***out, size_t *n,
             kd_error_t *err)
{
  json_t *v = json_object_get (obj, key), *e;
  size_t i;

  *out = NULL;
  *n = 0;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_array (v))
    return kd_make_error (err, 0, "image config: %s%s must be an array of strings", where, key);
  *out = xcalloc (json_array_size (v) + 1, sizeof (char *));
  json_array_foreach (v, i, e)
  {
    if (!json_is_string (e))
      return kd_make_error (err, 0, "image config: %s%s[%zu] must be a string", where, key, i);
    (*out)[(*n)++] = xstrdup (json_string_value (e));
  }
  return 0;
}

static void
free_strings (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

static int
parse_history (json_t *root, kd_image_config_t *cfg, kd_error_t *err)
{
  json_t *h = json_object_get (root, "history"), *e;
  size_t i;

  if (h == NULL || json_is_null (h))
    return 0;
  if (!json_is_array (h))
    return kd_make_error (err, 0, "image config: history must be an array");
  cfg->history = xcalloc (json_array_size (h) + 1, sizeof (kd_image_history_t));
  json_array_foreach (h, i, e)
  {
    kd_image_history_t *r = &cfg->history[cfg->n_history++];
    json_t *empty;
    if (!json_is_object (e))
      return kd_make_error (err, 0, "image config: history[%zu] must be an object", i);
    if (get_string (e, "created_by", "history[].", &r->created_by, err) < 0
        || get_string (e, "created", "history[].", &r->created, err) < 0
        || get_string (e, "comment", "history[].", &r->comment, err) < 0)
      return -1;
    empty = json_object_get (e, "empty_layer");
    if (empty != NULL && !json_is_boolean (empty) && !json_is_null (empty))
      return kd_make_error (err, 0, "image config: history[%zu].empty_layer must be a boolean", i);
    r->empty_layer = json_is_true (empty);
  }
  return 0;
}

static int
parse_root (json_t *root, kd_image_config_t *cfg, kd_error_t *err)
{
  json_t *c, *rootfs;
  cleanup_free char *created = NULL;

  if (!json_is_object (root))
    return kd_make_error (err, 0, "image config: not a JSON object");

  c = json_object_get (root, "config");
  if (c != NULL && !json_is_null (c))
    {
      if (!json_is_object (c))
        return kd_make_error (err, 0, "image config: config must be an object");
      if (get_strings (c, "Entrypoint", "config.", &cfg->entrypoint, &cfg->n_entrypoint, err) < 0
          || get_strings (c, "Cmd", "config.", &cfg->cmd, &cfg->n_cmd, err) < 0
          || get_strings (c, "Env", "config.", &cfg->env, &cfg->n_env, err) < 0
          || get_string (c, "WorkingDir", "config.", &cfg->working_dir, err) < 0
          || get_string (c, "User", "config.", &cfg->user, err) < 0
          || get_string (c, "StopSignal", "config.", &cfg->stop_signal, err) < 0)
        return -1;
    }
  if (get_string (root, "architecture", "", &cfg->architecture, err) < 0
      || get_string (root, "os", "", &cfg->os, err) < 0
      || get_string (root, "created", "", &created, err) < 0)
    return -1;
  if (created != NULL && kd_parse_time (created, &cfg->created_ns) < 0)
    return kd_make_error (err, 0, "image config: created `%s` is not an RFC 3339 time", created);

  rootfs = json_object_get (root, "rootfs");
  if (rootfs == NULL || !json_is_object (rootfs))
    return kd_make_error (err, 0, "image config: rootfs is missing");
  if (get_strings (rootfs, "diff_ids", "rootfs.", &cfg->diff_ids, &cfg->n_diff_ids, err) < 0)
    return -1;
  /* diff_ids name directories on disk (through the chain IDs): only
     well-formed sha256 digests are accepted. */
  for (size_t i = 0; i < cfg->n_diff_ids; i++)
    if (!sha256_digest_p (cfg->diff_ids[i]))
      return kd_make_error (err, 0,
                            "image config: rootfs.diff_ids[%zu] `%s` is not a sha256 digest", i,
                            cfg->diff_ids[i]);
  return parse_history (root, cfg, err);
}

int
kd_image_config_parse (const char *json, size_t len, kd_image_config_t *cfg, kd_error_t *err)
{
  json_error_t jerr;
  json_t *root;
  int r;

  memset (cfg, 0, sizeof (*cfg));
  root = json_loadb (json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    return kd_make_error (err, 0, "image config: %s at line %d column %d", jerr.text, jerr.line,
                          jerr.column);
  r = parse_root (root, cfg, err);
  json_decref (root);
  if (r < 0)
    kd_image_config_free (cfg);
  return r;
}

void
kd_image_config_free (kd_image_config_t *cfg)
{
  if (cfg == NULL)
    return;
  free_strings (cfg->entrypoint, cfg->n_entrypoint);
  free_strings (cfg->cmd, cfg->n_cmd);
  free_strings (cfg->env, cfg->n_env);
  free (cfg->working_dir);
  free (cfg->user);
  free (cfg->stop_signal);
  free (cfg->architecture);
  free (cfg->os);
  free_strings (cfg->diff_ids, cfg->n_diff_ids);
  for (size_t i = 0; i < cfg->n_history; i++)
    {
      free (cfg->history[i].created_by);
      free (cfg->history[i].created);
      free (cfg->history[i].comment);
    }
  free (cfg->history);
  memset (cfg, 0, sizeof (*cfg));
}

static void
append_all (char **argv, size_t *n, char *const *v, size_t nv)
{
  for (size_t i = 0; i < nv; i++)
    argv[(*n)++] = xstrdup (v[i]);
}

/* The kubelet hands command and args to the runtime, which (containerd's
   CRI, after Docker's commit rule) fills in from the image: no command
   means the image's Entrypoint, and no command and no args also takes the
   image's Cmd. An Entrypoint of [""] is an explicit "no entrypoint". */
char **
kd_image_container_argv (const kd_image_config_t *cfg, char *const *command, size_t n_command,
                         char *const *args, size_t n_args)
{
  char *const *ep = NULL, *const *tail = args;
  size_t n_ep = 0, n_tail = n_args, n = 0;
  char **argv;

  if (n_command > 0)
    {
      ep = command;
      n_ep = n_command;
    }
  else if (cfg != NULL)
    {
      if (!(cfg->n_entrypoint == 1 && cfg->entrypoint[0][0] == '\0'))
        {
          ep = cfg->entrypoint;
          n_ep = cfg->n_entrypoint;
        }
      if (n_args == 0)
        {
          tail = cfg->cmd;
          n_tail = cfg->n_cmd;
        }
    }
  argv = xcalloc (n_ep + n_tail + 1, sizeof (char *));
  append_all (argv, &n, ep, n_ep);
  append_all (argv, &n, tail, n_tail);
  argv[n] = NULL;
  return argv;
}
