/* The manifest pipeline: a file's bytes to validated pods, each message with
   its line and column.

   For every document: the root must be a mapping; `kind: Pod` is one pod,
   `kind: List` (or `PodList`) a pod per item; `apiVersion` must be v1. For
   each pod, in this order, as the kubelet's file source does:
     1. kd_pod_decode (type errors, unknown-field warnings, with positions);
     2. kd_pod_set_defaults;
     3. kd_pod_make_static (when asked: name-node, uid, annotations) - before
        validation, because the name validated is the static pod's name;
     4. kd_pod_validate (only when decoding found no error, as the kubelet
        validates only what decoded), then kd_fe_locate against the pod's
        own node.
   A problem with the file itself (syntax, kind, apiVersion, no documents)
   goes to m->error, one message per line. */

#include "kubeletd/manifest.h"

typedef struct
{
  kd_manifest_t *m;
  const kd_manifest_opts_t *opts;
  kd_buf_t file_errors; /* lines for m->error */
  int64_t seen_ns;
} loader_t;

/* A file-level error in the field-error spelling, at node's position. */
static void
file_error (loader_t *l, const kd_node_t *node, kd_fe_type_t type, const char *field,
            const char *value, const char *detail)
{
  kd_field_errors_t errs = { 0 };
  kd_field_error_t *e = kd_fe_add (&errs, type, field, value, detail ? "%s" : NULL, detail);
  cleanup_free char *line = NULL;

  if (node)
    {
      e->line = node->line;
      e->col = node->col;
    }
  line = kd_fe_format (e, l->m->path);
  if (l->file_errors.len)
    kd_buf_putc (&l->file_errors, '\n');
  kd_buf_puts (&l->file_errors, line);
  kd_fe_free (&errs);
}

/* The value as a message shows it: strings quoted, other scalars as written. */
static char *
render_value (const kd_node_t *n)
{
  if (n->kind == KD_NODE_STRING)
    return kd_fe_quote (n->text);
  if (n->kind == KD_NODE_MAP)
    return xstrdup ("{...}");
  if (n->kind == KD_NODE_SEQ)
    return xstrdup ("[...]");
  return xstrdup (n->text ? n->text : "null");
}

static bool
is_string (const kd_node_t *n, const char *s)
{
  return n && n->kind == KD_NODE_STRING && n->text_len == strlen (s) && strcmp (n->text, s) == 0;
}

/* apiVersion must be "v1"; `required` is false for PodList items. */
static bool
check_api_version (loader_t *l, const kd_node_t *obj, const char *prefix, bool required)
{
  const kd_node_t *av = kd_node_get (obj, "apiVersion");
  cleanup_free char *field = xasprintf ("%sapiVersion", prefix);
  cleanup_free char *value = NULL;

  if (av == NULL || av->kind == KD_NODE_NULL)
    {
      if (required)
        file_error (l, obj, KD_FE_REQUIRED, field, NULL, "must be \"v1\"");
      return !required;
    }
  if (is_string (av, "v1"))
    return true;
  value = render_value (av);
  file_error (l, av, KD_FE_UNSUPPORTED, field, value, "supported values: \"v1\"");
  return false;
}

static void
add_pod (loader_t *l, const kd_node_t *node)
{
  kd_manifest_t *m = l->m;
  kd_manifest_pod_t *p;
  const kd_manifest_opts_t *opts = l->opts;

  /* Capacity doubles at each power of two (kd_manifest_t keeps no cap). */
  if ((m->n_pods & (m->n_pods - 1)) == 0)
    m->pods = xrealloc (m->pods, (m->n_pods ? m->n_pods * 2 : 1) * sizeof (kd_manifest_pod_t));
  p = &m->pods[m->n_pods++];
  memset (p, 0, sizeof (*p));
  p->line = node->line;
  p->col = node->col;
  p->pod = xcalloc (1, sizeof (kd_pod_t));

  kd_pod_decode (node, p->pod, &p->errs);
  /* PodList items may leave out their type. */
  if (p->pod->kind == NULL)
    p->pod->kind = xstrdup ("Pod");
  if (p->pod->api_version == NULL)
    p->pod->api_version = xstrdup ("v1");
  kd_pod_set_defaults (p->pod);
  if (opts && opts->make_static)
    kd_pod_make_static (p->pod, opts->node_name ? opts->node_name : "localhost", m->path,
                        l->seen_ns);
  /* The kubelet stops at a decoding error and never validates, so one
     defect gives one message (a field left unset by a type error would
     otherwise read "Required value" too). */
  if (kd_fe_count_errors (&p->errs) == 0)
    kd_pod_validate (p->pod, &p->errs);
  kd_fe_locate (&p->errs, node);
}

static void
load_list (loader_t *l, const kd_node_t *root, bool pod_list)
{
  const kd_node_t *items = kd_node_get (root, "items");
  size_t i;

  if (items == NULL || items->kind == KD_NODE_NULL)
    return;
  if (items->kind != KD_NODE_SEQ)
    {
      file_error (l, items, KD_FE_INVALID, "items", NULL, "must be a list of Pods");
      return;
    }
  for (i = 0; i < items->n; i++)
    {
      const kd_node_t *item = items->items[i];
      const kd_node_t *kind;
      cleanup_free char *prefix = xasprintf ("items[%zu].", i);
      cleanup_free char *field = xasprintf ("items[%zu].kind", i);

      if (item->kind != KD_NODE_MAP)
        {
          cleanup_free char *at = xasprintf ("items[%zu]", i);

          file_error (l, item, KD_FE_INVALID, at, NULL, "must be a Pod");
          continue;
        }
      kind = kd_node_get (item, "kind");
      if (kind == NULL || kind->kind == KD_NODE_NULL)
        {
          /* A PodList's items are Pods by definition; a List says so. */
          if (!pod_list)
            {
              file_error (l, item, KD_FE_REQUIRED, field, NULL, "must be \"Pod\"");
              continue;
            }
        }
      else if (!is_string (kind, "Pod"))
        {
          cleanup_free char *value = render_value (kind);

          file_error (l, kind, KD_FE_UNSUPPORTED, field, value, "supported values: \"Pod\"");
          continue;
        }
      if (!check_api_version (l, item, prefix, false))
        continue;
      add_pod (l, item);
    }
}

static void
load_document (loader_t *l, const kd_node_t *root)
{
  static const char *const kinds = "supported values: \"Pod\", \"List\"";
  const kd_node_t *kind;

  if (root->kind != KD_NODE_MAP)
    {
      cleanup_free char *line = NULL;

      line = xasprintf ("%s:%d:%d: a manifest must be a mapping (a Pod or a List), not a %s",
                        l->m->path, root->line, root->col,
                        root->kind == KD_NODE_SEQ ? "sequence" : "scalar");
      if (l->file_errors.len)
        kd_buf_putc (&l->file_errors, '\n');
      kd_buf_puts (&l->file_errors, line);
      return;
    }
  kind = kd_node_get (root, "kind");
  if (kind == NULL || kind->kind == KD_NODE_NULL)
    {
      file_error (l, root, KD_FE_REQUIRED, "kind", NULL, "must be \"Pod\" or \"List\"");
      return;
    }
  if (is_string (kind, "Pod"))
    {
      if (check_api_version (l, root, "", true))
        add_pod (l, root);
      return;
    }
  if (is_string (kind, "List") || is_string (kind, "PodList"))
    {
      if (check_api_version (l, root, "", true))
        load_list (l, root, is_string (kind, "PodList"));
      return;
    }
  {
    cleanup_free char *value = render_value (kind);

    file_error (l, kind, KD_FE_UNSUPPORTED, "kind", value, kinds);
  }
}

int
kd_manifest_load_buffer (const char *name, const char *buf, size_t len,
                         const kd_manifest_opts_t *opts, kd_manifest_t **out, kd_error_t *err)
{
  loader_t l = { 0 };
  kd_doc_t **docs = NULL;
  size_t n_docs = 0, i;
  kd_error_t perr = NULL;

  if (name == NULL)
    name = "<input>";
  if (len > KD_MANIFEST_MAX_BYTES)
    return kd_make_error (err, 0, "`%s` is too large (%zu bytes, limit %d)", name, len,
                          KD_MANIFEST_MAX_BYTES);
  l.m = xcalloc (1, sizeof (kd_manifest_t));
  l.m->path = xstrdup (name);
  l.opts = opts;
  l.seen_ns = opts && opts->seen_ns ? opts->seen_ns : kd_now_ns ();

  if (kd_yaml_parse (name, buf, len, &docs, &n_docs, &perr) < 0)
    {
      l.m->error = steal_pointer (&perr->msg);
      kd_error_release (&perr);
      *out = l.m;
      return 0;
    }
  for (i = 0; i < n_docs; i++)
    load_document (&l, kd_doc_root (docs[i]));
  /* The pods own copies of everything they took from the documents. */
  for (i = 0; i < n_docs; i++)
    kd_doc_free (docs[i]);
  free (docs);

  if (n_docs == 0)
    kd_buf_printf (&l.file_errors, "%s: no pods: the file has no YAML or JSON document", name);
  if (l.file_errors.len)
    l.m->error = kd_buf_steal (&l.file_errors);
  kd_buf_free (&l.file_errors);
  *out = l.m;
  return 0;
}

int
kd_manifest_load_file (const char *path, const kd_manifest_opts_t *opts, kd_manifest_t **out,
                       kd_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;

  /* kd_read_file refuses directories, FIFOs and devices (it opens without
     blocking and checks for a regular file) and anything over the limit. */
  if (kd_read_file (path, KD_MANIFEST_MAX_BYTES, &buf, &len, err) < 0)
    return -1;
  return kd_manifest_load_buffer (path, buf, len, opts, out, err);
}

bool
kd_manifest_ok (const kd_manifest_t *m)
{
  size_t i;

  if (m == NULL || m->error)
    return false;
  for (i = 0; i < m->n_pods; i++)
    if (kd_fe_count_errors (&m->pods[i].errs) > 0)
      return false;
  return true;
}

size_t
kd_manifest_print (const kd_manifest_t *m, FILE *out)
{
  size_t i, j, n = 0;

  for (i = 0; i < m->n_pods; i++)
    for (j = 0; j < m->pods[i].errs.n; j++)
      {
        const kd_field_error_t *e = &m->pods[i].errs.v[j];
        cleanup_free char *line = kd_fe_format (e, m->path);

        fprintf (out, "%s\n", line);
        if (e->type != KD_FE_WARNING)
          n++;
      }
  if (m->error)
    {
      const char *p;

      fprintf (out, "%s\n", m->error);
      for (p = m->error, n++; (p = strchr (p, '\n')) != NULL; p++)
        n++;
    }
  return n;
}

void
kd_manifest_free (kd_manifest_t *m)
{
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->n_pods; i++)
    {
      kd_pod_free (m->pods[i].pod);
      kd_fe_free (&m->pods[i].errs);
    }
  free (m->pods);
  free (m->path);
  free (m->error);
  free (m);
}
