/* Decoding a document tree into the Pod model, driven by the tables of
   types.c.

   Decoding follows what Kubernetes does to a manifest: sigs.k8s.io/yaml turns
   YAML into JSON and Go's encoding/json fills the structs. So a null means
   "unset" for any field, a string field takes only strings, numbers only
   integers, and keys are case-sensitive. Unlike Go, a bad field does not stop
   the decode: it is reported with its path and left unset, so one run shows
   every mistake in a manifest. */

#include <inttypes.h>

#include "codec-internal.h"

/* resource.ErrFormatWrong */
#define KD_QUANTITY_FORMAT_ERROR                                                                   \
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

#define AT(base, off, T)  ((T *) (void *) ((char *) (base) + (off)))
#define CAT(base, off, T) ((const T *) (const void *) ((const char *) (base) + (off)))

/* ---- reporting --------------------------------------------------------- */

/* The value as the error shows it: strings quoted like Go's %q, scalars as
   written, collections in a short JSON-like form. */
static void
render_node (kd_buf_t *b, const kd_node_t *n, int depth)
{
  size_t i;

  if (b->len > 80)
    return;
  switch (n->kind)
    {
    case KD_NODE_STRING:
      {
        cleanup_free char *q = kd_fe_quote (n->text ? n->text : "");

        kd_buf_puts (b, q);
        return;
      }
    case KD_NODE_MAP:
      if (depth > 2 && n->n)
        {
          kd_buf_puts (b, "{...}");
          return;
        }
      kd_buf_putc (b, '{');
      for (i = 0; i < n->n && b->len <= 80; i++)
        {
          cleanup_free char *q = kd_fe_quote (n->keys[i]->text);

          if (i)
            kd_buf_putc (b, ',');
          kd_buf_puts (b, q);
          kd_buf_putc (b, ':');
          render_node (b, n->items[i], depth + 1);
        }
      kd_buf_puts (b, i < n->n ? ",...}" : "}");
      return;
    case KD_NODE_SEQ:
      if (depth > 2 && n->n)
        {
          kd_buf_puts (b, "[...]");
          return;
        }
      kd_buf_putc (b, '[');
      for (i = 0; i < n->n && b->len <= 80; i++)
        {
          if (i)
            kd_buf_putc (b, ',');
          render_node (b, n->items[i], depth + 1);
        }
      kd_buf_puts (b, i < n->n ? ",...]" : "]");
      return;
    case KD_NODE_NULL:
      kd_buf_puts (b, "null");
      return;
    default:
      if (n->text)
        kd_buf_append (b, n->text, n->text_len);
      else if (n->kind == KD_NODE_BOOL)
        kd_buf_puts (b, n->b ? "true" : "false");
      else if (n->kind == KD_NODE_INT)
        kd_buf_printf (b, "%" PRId64, n->i);
      else
        kd_buf_printf (b, "%g", n->f);
      return;
    }
}

static void
type_error (kd_field_errors_t *errs, const char *path, const kd_node_t *n, const char *detail)
{
  kd_buf_t b = { 0 };
  cleanup_free char *value = NULL;
  kd_field_error_t *e;

  render_node (&b, n, 0);
  value = kd_buf_steal (&b);
  e = kd_fe_add (errs, KD_FE_INVALID, path, value, "%s", detail);
  e->line = n->line;
  e->col = n->col;
}

static char *
path_key (const char *path, const char *key)
{
  return path[0] ? xasprintf ("%s.%s", path, key) : xstrdup (key);
}

static char *
path_index (const char *path, size_t i)
{
  return xasprintf ("%s[%zu]", path, i);
}

static char *
path_sub (const char *path, const char *key)
{
  return xasprintf ("%s[%s]", path, key);
}

/* ---- decode ------------------------------------------------------------ */

/* The field for key, looking through inline members; *base_off is where the
   struct holding it sits inside the object. */
static const kd_field_t *
find_field (const kd_type_t *type, const char *key, size_t *base_off)
{
  size_t i;

  for (i = 0; i < type->n_fields; i++)
    {
      const kd_field_t *f = &type->fields[i];

      if (f->flags & KD_F_INTERNAL)
        continue;
      if (f->kind == KD_T_INLINE)
        {
          size_t sub = 0;
          const kd_field_t *r = find_field (f->type, key, &sub);

          if (r)
            {
              *base_off = f->offset + sub;
              return r;
            }
          continue;
        }
      if (strcmp (f->name, key) == 0)
        {
          *base_off = 0;
          return f;
        }
    }
  return NULL;
}

/* Reads an integer in [min, max]. YAML's 80.0 arrives as an integral float
   that sigs.k8s.io/yaml would hand to Go as 80, so it is accepted too. */
static bool
node_int (const kd_node_t *n, int64_t min, int64_t max, const char *path, kd_field_errors_t *errs,
          int64_t *out)
{
  int64_t v;

  if (n->kind == KD_NODE_INT)
    v = n->i;
  else if (n->kind == KD_NODE_FLOAT && n->f > -9.2e18 && n->f < 9.2e18
           && n->f == (double) (int64_t) n->f)
    v = (int64_t) n->f;
  else
    {
      type_error (errs, path, n, "must be an integer");
      return false;
    }
  if (v < min || v > max)
    {
      type_error (errs, path, n, "must be a 32-bit integer");
      return false;
    }
  *out = v;
  return true;
}

static bool
node_string (const kd_node_t *n, const char *path, kd_field_errors_t *errs, char **out)
{
  if (n->kind != KD_NODE_STRING)
    {
      type_error (errs, path, n, "must be a string");
      return false;
    }
  *out = xstrndup (n->text ? n->text : "", n->text ? n->text_len : 0);
  return true;
}

/* resource.Quantity accepts a JSON string or a bare number, trimmed, and
   refuses anything ParseQuantity refuses. The text is kept as written. */
static bool
node_quantity (const kd_node_t *n, const char *path, kd_field_errors_t *errs, char **out)
{
  cleanup_free char *text = NULL;
  const char *s, *e;
  kd_quantity_t q;

  if (n->kind == KD_NODE_MAP || n->kind == KD_NODE_SEQ)
    {
      type_error (errs, path, n, "must be a quantity");
      return false;
    }
  s = n->text ? n->text : "";
  e = s + (n->text ? n->text_len : 0);
  while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
    s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
    e--;
  text = xstrndup (s, (size_t) (e - s));
  if (n->kind == KD_NODE_BOOL || kd_quantity_parse (text, &q) < 0)
    {
      type_error (errs, path, n, KD_QUANTITY_FORMAT_ERROR);
      return false;
    }
  *out = steal_pointer (&text);
  return true;
}

static void decode_fields (const kd_type_t *type, const kd_node_t *node, void *obj,
                           const char *path, kd_field_errors_t *errs);

struct kv_order
{
  const kd_kv_t *kv;
  size_t pos;
};

static int
kv_order_cmp (const void *a, const void *b)
{
  const struct kv_order *x = a, *y = b;
  int c = strcmp (x->kv->key, y->kv->key);

  if (c)
    return c;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A repeated key keeps its first place and takes the last value, as a Go
   map would. Sorting keeps this cheap for large label maps. */
static void
strmap_dedup (kd_strmap_t *m)
{
  struct kv_order *ord;
  size_t i, j, out;
  bool dup = false;

  if (m->n < 2)
    return;
  ord = xmalloc (m->n * sizeof (*ord));
  for (i = 0; i < m->n; i++)
    ord[i] = (struct kv_order){ .kv = &m->v[i], .pos = i };
  qsort (ord, m->n, sizeof (*ord), kv_order_cmp);
  for (i = 0; i < m->n; i = j)
    {
      kd_kv_t *first = &m->v[ord[i].pos];

      for (j = i + 1; j < m->n && strcmp (ord[j].kv->key, first->key) == 0; j++)
        {
          kd_kv_t *later = &m->v[ord[j].pos];

          free (first->value);
          first->value = later->value;
          later->value = NULL;
          free (later->key);
          later->key = NULL;
          dup = true;
        }
    }
  free (ord);
  if (!dup)
    return;
  for (i = out = 0; i < m->n; i++)
    if (m->v[i].key)
      m->v[out++] = m->v[i];
  m->n = out;
}

static void
decode_strmap (const kd_field_t *f, const kd_node_t *v, kd_strmap_t *m, const char *path,
               kd_field_errors_t *errs)
{
  size_t i;

  if (v->kind != KD_NODE_MAP)
    {
      type_error (errs, path, v, "must be an object");
      return;
    }
  m->v = v->n ? xcalloc (v->n, sizeof (kd_kv_t)) : NULL;
  for (i = 0; i < v->n; i++)
    {
      const kd_node_t *k = v->keys[i], *val = v->items[i];
      cleanup_free char *sub = NULL;
      char *s = NULL;

      if (k == NULL || k->text == NULL)
        continue;
      sub = path_sub (path, k->text);
      if (val->kind == KD_NODE_NULL)
        s = xstrdup (f->kind == KD_T_RESOURCES ? "0" : "");
      else if (f->kind == KD_T_RESOURCES ? !node_quantity (val, sub, errs, &s)
                                         : !node_string (val, sub, errs, &s))
        continue;
      m->v[m->n].key = xstrndup (k->text, k->text_len);
      m->v[m->n].value = s;
      m->n++;
    }
  strmap_dedup (m);
  if (m->n == 0)
    {
      free (m->v);
      m->v = NULL;
    }
}

static void
decode_field (const kd_field_t *f, const kd_node_t *v, void *base, const char *path,
              kd_field_errors_t *errs)
{
  int64_t iv;
  size_t i;

  /* The last occurrence of a key wins, and null means unset, as in Go. */
  kd_api_free_field (f, base);
  if (v->kind == KD_NODE_NULL)
    return;

  switch (f->kind)
    {
    case KD_T_STRING:
      node_string (v, path, errs, AT (base, f->offset, char *));
      break;
    case KD_T_OPT_STRING:
      if (node_string (v, path, errs, AT (base, f->offset, char *)))
        *AT (base, f->aux_offset, bool) = true;
      break;
    case KD_T_QUANTITY:
      node_quantity (v, path, errs, AT (base, f->offset, char *));
      break;
    case KD_T_INT32:
      if (node_int (v, INT32_MIN, INT32_MAX, path, errs, &iv))
        *AT (base, f->offset, int32_t) = (int32_t) iv;
      break;
    case KD_T_INT64:
      if (node_int (v, INT64_MIN, INT64_MAX, path, errs, &iv))
        *AT (base, f->offset, int64_t) = iv;
      break;
    case KD_T_OPT_INT32:
      if (node_int (v, INT32_MIN, INT32_MAX, path, errs, &iv))
        *AT (base, f->offset, kd_opt_i32_t) = (kd_opt_i32_t){ .set = true, .v = (int32_t) iv };
      break;
    case KD_T_OPT_INT64:
      if (node_int (v, INT64_MIN, INT64_MAX, path, errs, &iv))
        *AT (base, f->offset, kd_opt_i64_t) = (kd_opt_i64_t){ .set = true, .v = iv };
      break;
    case KD_T_BOOL:
    case KD_T_OPT_BOOL:
      if (v->kind != KD_NODE_BOOL)
        type_error (errs, path, v, "must be a boolean");
      else if (f->kind == KD_T_BOOL)
        *AT (base, f->offset, bool) = v->b;
      else
        *AT (base, f->offset, kd_opt_bool_t) = (kd_opt_bool_t){ .set = true, .v = v->b };
      break;
    case KD_T_INTSTR:
      {
        kd_intstr_t *is = AT (base, f->offset, kd_intstr_t);

        if (v->kind == KD_NODE_STRING)
          {
            is->s = xstrndup (v->text ? v->text : "", v->text ? v->text_len : 0);
            is->is_str = true;
            is->set = true;
          }
        else if (v->kind != KD_NODE_INT && v->kind != KD_NODE_FLOAT)
          type_error (errs, path, v, "must be an integer or a string");
        else if (node_int (v, INT32_MIN, INT32_MAX, path, errs, &iv))
          {
            is->i = (int32_t) iv;
            is->set = true;
          }
        break;
      }
    case KD_T_TIME:
      {
        int64_t ns;

        if (v->kind != KD_NODE_STRING || kd_parse_time (v->text, &ns) < 0)
          type_error (errs, path, v, "must be a time in RFC 3339 format");
        else
          *AT (base, f->offset, kd_time_t) = ns;
        break;
      }
    case KD_T_STRV:
      {
        kd_strv_t *sv = AT (base, f->offset, kd_strv_t);

        if (v->kind != KD_NODE_SEQ)
          {
            type_error (errs, path, v, "must be a list");
            break;
          }
        sv->v = v->n ? xcalloc (v->n, sizeof (char *)) : NULL;
        sv->n = v->n;
        for (i = 0; i < v->n; i++)
          {
            cleanup_free char *sub = path_index (path, i);

            /* A bad item becomes "" so later items keep their index. */
            if (v->items[i]->kind == KD_NODE_NULL
                || !node_string (v->items[i], sub, errs, &sv->v[i]))
              sv->v[i] = xstrdup ("");
          }
        break;
      }
    case KD_T_I64V:
      {
        kd_i64v_t *iv64 = AT (base, f->offset, kd_i64v_t);

        if (v->kind != KD_NODE_SEQ)
          {
            type_error (errs, path, v, "must be a list");
            break;
          }
        iv64->v = v->n ? xcalloc (v->n, sizeof (int64_t)) : NULL;
        iv64->n = v->n;
        for (i = 0; i < v->n; i++)
          {
            cleanup_free char *sub = path_index (path, i);

            if (v->items[i]->kind != KD_NODE_NULL
                && node_int (v->items[i], INT64_MIN, INT64_MAX, sub, errs, &iv))
              iv64->v[i] = iv;
          }
        break;
      }
    case KD_T_STRMAP:
    case KD_T_RESOURCES:
      decode_strmap (f, v, AT (base, f->offset, kd_strmap_t), path, errs);
      break;
    case KD_T_OBJECT:
      if (v->kind != KD_NODE_MAP)
        type_error (errs, path, v, "must be an object");
      else
        {
          void *sub = xcalloc (1, f->type->size);

          decode_fields (f->type, v, sub, path, errs);
          *AT (base, f->offset, void *) = sub;
        }
      break;
    case KD_T_STRUCT:
    case KD_T_INLINE:
      if (v->kind != KD_NODE_MAP)
        type_error (errs, path, v, "must be an object");
      else
        decode_fields (f->type, v, AT (base, f->offset, void), path, errs);
      break;
    case KD_T_LIST:
      {
        char *items;

        if (v->kind != KD_NODE_SEQ)
          {
            type_error (errs, path, v, "must be a list");
            break;
          }
        items = v->n ? xcalloc (v->n, f->type->size) : NULL;
        for (i = 0; i < v->n; i++)
          {
            const kd_node_t *item = v->items[i];
            cleanup_free char *sub = path_index (path, i);

            /* A bad item stays as a zero item so the paths of the later
               ones still match the document. */
            if (item->kind == KD_NODE_MAP)
              decode_fields (f->type, item, items + i * f->type->size, sub, errs);
            else if (item->kind != KD_NODE_NULL)
              type_error (errs, sub, item, "must be an object");
          }
        *AT (base, f->offset, char *) = items;
        *AT (base, f->aux_offset, size_t) = v->n;
        break;
      }
    case KD_T_PRESENT:
      *AT (base, f->offset, bool) = true;
      break;
    }
}

static void
decode_fields (const kd_type_t *type, const kd_node_t *node, void *obj, const char *path,
               kd_field_errors_t *errs)
{
  size_t i;

  for (i = 0; i < node->n; i++)
    {
      const kd_node_t *k = node->keys[i];
      const kd_field_t *f;
      cleanup_free char *sub = NULL;
      size_t base_off = 0;

      if (k == NULL || k->text == NULL)
        continue;
      sub = path_key (path, k->text);
      f = find_field (type, k->text, &base_off);
      if (f)
        {
          /* A repeated key is decoded again over the earlier value: the
             last one wins, as in Go. */
          decode_field (f, node->items[i], (char *) obj + base_off, sub, errs);
          continue;
        }
      if (kd_api_decode_extra_key (type, k->text, node->items[i], obj))
        continue;
      {
        kd_field_error_t *e
            = kd_fe_add (errs, KD_FE_WARNING, sub, NULL, "unknown field \"%s\"", sub);

        e->line = k->line;
        e->col = k->col;
      }
    }
}

void
kd_decode (const kd_type_t *type, const kd_node_t *node, void *obj, const char *path,
           kd_field_errors_t *errs)
{
  if (node == NULL || node->kind == KD_NODE_NULL)
    return;
  if (path == NULL)
    path = "";
  if (node->kind != KD_NODE_MAP)
    {
      type_error (errs, path[0] ? path : type->name, node, "must be an object");
      return;
    }
  decode_fields (type, node, obj, path, errs);
}
