/* kubeletctl get pods [NAME...]: GET /pods or /pods/<ns>/<name> and print
   them as kubectl get does. */
#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char get_usage[]
    = "Display one or many pods.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl get pods [NAME...] [-o wide|json|yaml] [-l SELECTOR] [-n NAMESPACE | -A]\n"
      "\n"
      "Examples:\n"
      "  kubeletctl get pods\n"
      "  kubeletctl get pods -o wide -l app=web\n"
      "  kubeletctl get pod web-node1 -o yaml\n"
      "\n"
      "Options:\n"
      "  -A, --all-namespaces     list the pods of every namespace\n"
      "  -l, --selector=''        label selector (key=value, key!=value, key in (a,b), key, !key)\n"
      "  -n, --namespace=default  the namespace of the pods\n"
      "      --no-headers         leave out the header line of the table\n"
      "  -o, --output=''          json, yaml or wide\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

typedef struct
{
  const char *output;
  const char *selector;
  const char *ns;
  bool all_ns;
  bool no_headers;
  bool help;
} get_opts_t;

static const char *
pod_str (const json_t *pod, const char *key)
{
  const char *s = json_string_value (json_object_get (json_object_get (pod, "metadata"), key));
  return s ? s : "";
}

/* The API server lists by key: namespace, then name. */
static int
cmp_pods (const void *a, const void *b)
{
  const json_t *pa = *(const json_t *const *) a, *pb = *(const json_t *const *) b;
  int r = strcmp (pod_str (pa, "namespace"), pod_str (pb, "namespace"));
  return r ? r : strcmp (pod_str (pa, "name"), pod_str (pb, "name"));
}

static json_t *
sort_pods (json_t *items)
{
  size_t i, n = json_array_size (items);
  cleanup_free json_t **v = xcalloc (n + 1, sizeof (json_t *));
  json_t *r = json_array ();

  for (i = 0; i < n; i++)
    v[i] = json_array_get (items, i);
  qsort (v, n, sizeof (*v), cmp_pods);
  for (i = 0; i < n; i++)
    json_array_append (r, v[i]);
  return r;
}

/* GET /pods, keeping the pods of ns (NULL = all) that match sel. */
static int
list_pods (kd_cli_t *cli, const char *ns, const kd_selector_t *sel, json_t **out, kd_error_t *err)
{
  json_t *list = NULL, *items, *pod, *kept, *sorted;
  size_t i;

  if (kd_client_get_json (kd_client_socket_path (cli->socket), "/pods", &list, NULL, err) < 0)
    return -1;
  items = json_object_get (list, "items");
  if (!json_is_array (items) && !json_is_null (items) && items != NULL)
    {
      json_decref (list);
      return kd_make_error (err, 0, "GET /pods: the answer has no \"items\" list");
    }
  kept = json_array ();
  json_array_foreach (items, i, pod)
  {
    if (ns != NULL && strcmp (pod_str (pod, "namespace"), ns) != 0)
      continue;
    if (!kd_selector_matches (sel, json_object_get (json_object_get (pod, "metadata"), "labels")))
      continue;
    json_array_append (kept, pod);
  }
  json_decref (list);
  sorted = sort_pods (kept);
  json_decref (kept);
  *out = sorted;
  return 0;
}

int
kd_cli_get_pod (kd_cli_t *cli, const char *ns, const char *name, json_t **out, kd_error_t *err)
{
  cleanup_free char *ens = kd_client_escape (ns);
  cleanup_free char *ename = kd_client_escape (name);
  cleanup_free char *path = xasprintf ("/pods/%s/%s", ens, ename);
  long code = 0;

  if (kd_client_get_json (kd_client_socket_path (cli->socket), path, out, &code, err) == 0)
    return 0;
  /* A 404 without a Status body still reads as the API server's words. */
  if (code == 404 && kd_str_has_prefix ((*err)->msg, "the server returned HTTP"))
    {
      kd_error_release (err);
      return kd_make_error (err, 0, "pods \"%s\" not found", name);
    }
  return -1;
}

static bool
is_pod_resource (const char *s)
{
  return strcmp (s, "pods") == 0 || strcmp (s, "pod") == 0 || strcmp (s, "po") == 0;
}

/* "pods NAME..." or "pods/NAME..." into the list of names. */
static int
collect_names (char **pos, size_t n_pos, const char ***names, size_t *n_names, kd_error_t *err)
{
  const char **v = xcalloc (n_pos + 1, sizeof (char *));
  size_t i, n = 0;

  for (i = 0; i < n_pos; i++)
    {
      const char *slash = strchr (pos[i], '/');

      if (slash != NULL)
        {
          cleanup_free char *type = xstrndup (pos[i], (size_t) (slash - pos[i]));
          if (!is_pod_resource (type))
            {
              free (v);
              return kd_make_error (err, 0, "the server doesn't have a resource type \"%s\"", type);
            }
          if (slash[1] == '\0')
            {
              free (v);
              return kd_make_error (err, 0,
                                    "arguments in resource/name form must have a single "
                                    "resource and name");
            }
          v[n++] = slash + 1;
        }
      else if (i == 0)
        {
          if (!is_pod_resource (pos[i]))
            {
              free (v);
              return kd_make_error (err, 0, "the server doesn't have a resource type \"%s\"",
                                    pos[i]);
            }
        }
      else if (strchr (pos[0], '/') != NULL)
        {
          free (v);
          return kd_make_error (err, 0,
                                "there is no need to specify a resource type as a "
                                "separate argument when passing arguments in "
                                "resource/name form (e.g. 'kubeletctl get "
                                "resource/<resource_name>' instead of 'kubeletctl get "
                                "resource resource/<resource_name>'");
        }
      else
        v[n++] = pos[i];
    }
  *names = v;
  *n_names = n;
  return 0;
}

static int
print_result (kd_cli_t *cli, json_t *pods, bool single, kd_output_t fmt, const get_opts_t *o,
              const char *ns, bool any_error, kd_error_t *err)
{
  if (fmt == KD_OUTPUT_JSON || fmt == KD_OUTPUT_YAML)
    {
      json_t *doc;
      int r;

      if (single && json_array_size (pods) == 0)
        return 0;
      doc = single ? json_incref (json_array_get (pods, 0)) : kd_cli_list (json_incref (pods));
      r = kd_cli_print_json (doc, fmt, 4, cli->out, err);
      json_decref (doc);
      return r;
    }
  if (json_array_size (pods) == 0)
    {
      /* kubectl says so on stderr, and only when nothing else was said. */
      if (!any_error)
        {
          if (o->all_ns)
            fprintf (cli->err, "No resources found\n");
          else
            fprintf (cli->err, "No resources found in %s namespace.\n", ns);
        }
      return 0;
    }
  kd_cli_print_pods (pods, fmt == KD_OUTPUT_WIDE, o->all_ns, o->no_headers, kd_now_ns (), cli->out);
  return 0;
}

int
kd_cli_get (kd_cli_t *cli, int argc, char **argv)
{
  get_opts_t o = { 0 };
  const kd_cli_opt_t opts[] = {
    { "output", 'o', KD_OPT_STRING, &o.output },
    { "selector", 'l', KD_OPT_STRING, &o.selector },
    { "namespace", 'n', KD_OPT_STRING, &o.ns },
    { "all-namespaces", 'A', KD_OPT_FLAG, &o.all_ns },
    { "no-headers", 0, KD_OPT_FLAG, &o.no_headers },
    { "help", 'h', KD_OPT_FLAG, &o.help },
  };
  kd_error_t err = NULL;
  cleanup_free char **pos = NULL;
  cleanup_free const char **names = NULL;
  size_t n_pos = 0, n_names = 0, i;
  kd_selector_t *sel = NULL;
  kd_output_t fmt;
  json_t *pods = NULL;
  const char *ns;
  bool any_error = false;
  int rc;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (o.help)
    {
      fputs (get_usage, cli->out);
      return 0;
    }
  if (kd_cli_parse_output (o.output, KD_ALLOW_WIDE, &fmt, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (n_pos == 0)
    {
      kd_make_error (&err, 0, "you must specify the type of resource to get: pods");
      return kd_cli_fail (cli, &err);
    }
  if (collect_names (pos, n_pos, &names, &n_names, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (n_names > 0 && o.selector != NULL)
    {
      kd_make_error (&err, 0, "name cannot be provided when a selector is specified");
      return kd_cli_fail (cli, &err);
    }
  if (n_names > 0 && o.all_ns)
    {
      kd_make_error (&err, 0, "a resource cannot be retrieved by name across all namespaces");
      return kd_cli_fail (cli, &err);
    }
  ns = o.ns && *o.ns ? o.ns : "default";
  if (kd_selector_parse (o.selector, &sel, &err) < 0)
    return kd_cli_fail (cli, &err);

  if (n_names == 0)
    {
      rc = list_pods (cli, o.all_ns ? NULL : ns, sel, &pods, &err);
      kd_selector_free (sel);
      if (rc < 0)
        return kd_cli_fail (cli, &err);
    }
  else
    {
      kd_selector_free (sel);
      pods = json_array ();
      for (i = 0; i < n_names; i++)
        {
          json_t *pod = NULL;

          if (kd_cli_get_pod (cli, ns, names[i], &pod, &err) < 0)
            {
              /* A missing pod does not hide the others: report it after. */
              if (n_names == 1)
                {
                  json_decref (pods);
                  return kd_cli_fail (cli, &err);
                }
              fprintf (cli->err, "error: %s\n", err->msg);
              kd_error_release (&err);
              any_error = true;
              continue;
            }
          json_array_append_new (pods, pod);
        }
    }

  rc = print_result (cli, pods, n_names == 1, fmt, &o, ns, any_error, &err);
  json_decref (pods);
  if (rc < 0)
    return kd_cli_fail (cli, &err);
  return any_error ? 1 : 0;
}
