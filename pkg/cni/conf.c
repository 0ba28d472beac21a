/* Finding and parsing the CNI network configuration. */
#include <dirent.h>
#include <sys/stat.h>

#include "cni-internal.h"

#define CONF_MAX_BYTES (1024 * 1024)

void
kd_cni_net_free (kd_cni_net_t *net)
{
  if (net == NULL)
    return;
  free (net->name);
  free (net->cni_version);
  free (net->source);
  free (net->bytes);
  json_decref (net->plugins);
  free (net);
}

kd_cni_net_t *
kd_cni_net_copy (const kd_cni_net_t *net)
{
  kd_cni_net_t *c = xcalloc (1, sizeof *c);
  c->name = xstrdup (net->name);
  c->cni_version = xstrdup (net->cni_version);
  c->source = xstrdup (net->source);
  c->bytes = xstrdup (net->bytes);
  c->plugins = json_deep_copy (net->plugins);
  c->kubeletd_nat = net->kubeletd_nat;
  return c;
}

int
kd_cni_version_cmp (const char *a, const char *b)
{
  for (int i = 0; i < 3; i++)
    {
      long x = a ? strtol (a, (char **) &a, 10) : 0;
      long y = b ? strtol (b, (char **) &b, 10) : 0;
      if (x != y)
        return x < y ? -1 : 1;
      if (a && *a == '.')
        a++;
      if (b && *b == '.')
        b++;
    }
  return 0;
}

int
kd_cni_net_from_json (json_t *list, const char *source, kd_cni_net_t **out, kd_error_t *err)
{
  json_t *name = json_object_get (list, "name");
  json_t *version = json_object_get (list, "cniVersion");
  json_t *plugins = json_object_get (list, "plugins");
  kd_cni_net_t *net;
  size_t i;
  json_t *p;

  if (!json_is_string (name) || json_string_length (name) == 0)
    {
      json_decref (list);
      return kd_make_error (err, 0, "%s: no name", source);
    }
  if (version != NULL && !json_is_string (version))
    {
      json_decref (list);
      return kd_make_error (err, 0, "%s: `cniVersion` must be a string", source);
    }
  if (!json_is_array (plugins) || json_array_size (plugins) == 0)
    {
      json_decref (list);
      return kd_make_error (err, 0, "%s: no plugins in list", source);
    }
  json_array_foreach (plugins, i, p)
  {
    json_t *type = json_object_get (p, "type");
    if (!json_is_object (p) || !json_is_string (type) || json_string_length (type) == 0)
      {
        json_decref (list);
        return kd_make_error (err, 0, "%s: plugins[%zu]: missing `type`", source, i);
      }
    /* A type is a file name in CNI_PATH: no directories. */
    if (strchr (json_string_value (type), '/') != NULL)
      {
        json_decref (list);
        return kd_make_error (err, 0, "%s: plugins[%zu]: invalid type `%s`", source, i,
                              json_string_value (type));
      }
  }

  net = xcalloc (1, sizeof *net);
  net->name = xstrdup (json_string_value (name));
  /* The spec's version for a config that names none. */
  net->cni_version = xstrdup (version ? json_string_value (version) : "0.1.0");
  net->source = xstrdup (source);
  net->plugins = json_incref (plugins);
  net->kubeletd_nat = json_is_true (json_object_get (list, "kubeletdNat"));
  net->bytes = json_dumps (list, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (net->bytes == NULL)
    abort ();
  json_decref (list);
  *out = net;
  return 0;
}

int
kd_cni_net_parse (const char *text, bool single_plugin, const char *source, kd_cni_net_t **out,
                  kd_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loads (text, JSON_REJECT_DUPLICATES, &jerr);

  if (j == NULL)
    return kd_make_error (err, 0, "%s: invalid JSON at line %d, column %d: %s", source, jerr.line,
                          jerr.column, jerr.text);
  if (!json_is_object (j))
    {
      json_decref (j);
      return kd_make_error (err, 0, "%s: not a JSON object", source);
    }
  if (single_plugin)
    {
      /* libcni's ConfListFromConf: the list takes the plugin's name and
         version, and the plugin is the whole object. */
      json_t *list = json_object ();
      json_t *name = json_object_get (j, "name");
      json_t *version = json_object_get (j, "cniVersion");
      if (version)
        json_object_set (list, "cniVersion", version);
      if (name)
        json_object_set (list, "name", name);
      json_object_set_new (list, "plugins", json_pack ("[o]", j));
      return kd_cni_net_from_json (list, source, out, err);
    }
  return kd_cni_net_from_json (j, source, out, err);
}

static int
conf_ext_p (const char *name)
{
  return kd_str_has_suffix (name, ".conflist") || kd_str_has_suffix (name, ".conf")
         || kd_str_has_suffix (name, ".json");
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
kd_cni_net_find (const char *dir, kd_cni_net_t **out, kd_error_t *err)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int ret = 0;

  *out = NULL;
  if (d == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return kd_make_error (err, errno, "open `%s`", dir);
    }
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || !conf_ext_p (de->d_name))
        continue;
      kd_grow ((void **) &names, &cap, n, sizeof *names);
      names[n++] = xstrdup (de->d_name);
    }
  closedir (d);
  if (n > 0)
    qsort (names, n, sizeof *names, cmp_names);

  for (size_t i = 0; i < n && *out == NULL; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s", dir, names[i]);
      cleanup_free char *text = NULL;
      kd_error_t e = NULL;
      struct stat st;
      bool single;

      if (stat (path, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (kd_read_file (path, CONF_MAX_BYTES, &text, NULL, &e) < 0)
        {
          kd_error_log_release (&e);
          continue;
        }
      if (kd_str_has_suffix (names[i], ".conflist"))
        single = false;
      else if (kd_str_has_suffix (names[i], ".conf"))
        single = true;
      else
        single = strstr (text, "\"plugins\"") == NULL;
      /* Like ocicni and the kubelet's old CNI code: a file that does not
         parse is logged and skipped, so one bad file does not take the node
         off the network. */
      if (kd_cni_net_parse (text, single, path, out, &e) < 0)
        {
          kd_warn ("cni: skipping invalid network config: %s", e->msg);
          kd_error_release (&e);
          *out = NULL;
        }
      else if ((*out)->kubeletd_nat)
        {
          /* the built-in network's own key: a network of the node's is run
             as written, with its own plugins for NAT */
          kd_warn ("cni: `%s`: ignoring \"kubeletdNat\", which only the built-in network uses",
                   path);
          (*out)->kubeletd_nat = false;
        }
    }
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  free (names);
  return ret;
}
