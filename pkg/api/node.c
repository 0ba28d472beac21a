/* The document tree: an arena that owns every node and string of one YAML or
   JSON document, conversion from jansson, key lookup and field-path lookup.

   Nodes may be shared (YAML aliases point at the anchored node), so nothing
   is freed node by node: the whole arena goes at once with kd_doc_free. */

#include <math.h>
#include <stdalign.h>

#include "kubeletd/api.h"

/* Most documents are a few kilobytes; small chunks keep tiny documents cheap
   and large requests get a chunk of their own. */
#define KD_DOC_CHUNK 8192

struct kd_doc_chunk
{
  struct kd_doc_chunk *next;
  size_t used;
  size_t size;
  alignas (max_align_t) unsigned char data[];
};

struct kd_doc
{
  struct kd_doc_chunk *chunks;
  kd_node_t *root;
};

kd_doc_t *
kd_doc_new (void)
{
  return xcalloc (1, sizeof (kd_doc_t));
}

void
kd_doc_free (kd_doc_t *doc)
{
  struct kd_doc_chunk *c, *next;

  if (doc == NULL)
    return;
  for (c = doc->chunks; c; c = next)
    {
      next = c->next;
      free (c);
    }
  free (doc);
}

kd_node_t *
kd_doc_root (const kd_doc_t *doc)
{
  return doc ? doc->root : NULL;
}

void
kd_doc_set_root (kd_doc_t *doc, kd_node_t *root)
{
  doc->root = root;
}

void *
kd_doc_alloc (kd_doc_t *doc, size_t size)
{
  const size_t align = alignof (max_align_t);
  struct kd_doc_chunk *c = doc->chunks;
  void *p;

  size = (size + align - 1) & ~(align - 1);
  if (size == 0)
    size = align;
  if (c == NULL || c->size - c->used < size)
    {
      size_t want = size > KD_DOC_CHUNK / 4 ? size : KD_DOC_CHUNK;

      c = xmalloc (sizeof (*c) + want);
      c->used = 0;
      c->size = want;
      if (want == size && doc->chunks != NULL)
        {
          /* A large block: keep the current chunk in front, it still has
             room for the small allocations that follow. */
          c->next = doc->chunks->next;
          doc->chunks->next = c;
        }
      else
        {
          c->next = doc->chunks;
          doc->chunks = c;
        }
    }
  p = c->data + c->used;
  c->used += size;
  memset (p, 0, size);
  return p;
}

char *
kd_doc_strndup (kd_doc_t *doc, const char *s, size_t n)
{
  char *r = kd_doc_alloc (doc, n + 1);

  if (n)
    memcpy (r, s, n);
  r[n] = '\0';
  return r;
}

kd_node_t *
kd_doc_node (kd_doc_t *doc, kd_node_kind_t kind, int line, int col)
{
  kd_node_t *n = kd_doc_alloc (doc, sizeof (kd_node_t));

  n->kind = kind;
  n->line = line;
  n->col = col;
  return n;
}

const kd_node_t *
kd_node_get (const kd_node_t *map, const char *key)
{
  size_t i, len;

  if (map == NULL || map->kind != KD_NODE_MAP || key == NULL)
    return NULL;
  len = strlen (key);
  /* Last one wins, as in Go's encoding/json. */
  for (i = map->n; i > 0; i--)
    {
      const kd_node_t *k = map->keys[i - 1];

      if (k && k->text && k->text_len == len && memcmp (k->text, key, len) == 0)
        return map->items[i - 1];
    }
  return NULL;
}

/* The shortest "%.*g" text that reads back as the same double, so 0.5 stays
   "0.5" rather than "0.50000000000000000". */
static void
format_real (double v, char *buf, size_t size)
{
  int prec;

  if (!isfinite (v))
    {
      snprintf (buf, size, "%s", isnan (v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
      return;
    }
  for (prec = 1; prec <= 17; prec++)
    {
      snprintf (buf, size, "%.*g", prec, v);
      if (strtod (buf, NULL) == v)
        return;
    }
}

static kd_node_t *
node_from_json (kd_doc_t *doc, const json_t *j)
{
  kd_node_t *n;
  char buf[64];

  switch (json_typeof (j))
    {
    case JSON_OBJECT:
      {
        const char *key;
        json_t *value;
        size_t i = 0;

        n = kd_doc_node (doc, KD_NODE_MAP, 0, 0);
        n->n = json_object_size (j);
        n->keys = kd_doc_alloc (doc, n->n * sizeof (kd_node_t *));
        n->items = kd_doc_alloc (doc, n->n * sizeof (kd_node_t *));
        /* jansson keeps insertion order, so keys keep the document's order. */
        json_object_foreach ((json_t *) j, key, value)
        {
          kd_node_t *k = kd_doc_node (doc, KD_NODE_STRING, 0, 0);

          k->text_len = strlen (key);
          k->text = kd_doc_strndup (doc, key, k->text_len);
          n->keys[i] = k;
          n->items[i] = node_from_json (doc, value);
          i++;
        }
        return n;
      }
    case JSON_ARRAY:
      {
        size_t i;

        n = kd_doc_node (doc, KD_NODE_SEQ, 0, 0);
        n->n = json_array_size (j);
        n->items = kd_doc_alloc (doc, n->n * sizeof (kd_node_t *));
        for (i = 0; i < n->n; i++)
          n->items[i] = node_from_json (doc, json_array_get (j, i));
        return n;
      }
    case JSON_STRING:
      n = kd_doc_node (doc, KD_NODE_STRING, 0, 0);
      n->text_len = json_string_length (j);
      n->text = kd_doc_strndup (doc, json_string_value (j), n->text_len);
      return n;
    case JSON_INTEGER:
      n = kd_doc_node (doc, KD_NODE_INT, 0, 0);
      n->i = json_integer_value (j);
      n->f = (double) n->i;
      snprintf (buf, sizeof (buf), "%" JSON_INTEGER_FORMAT, json_integer_value (j));
      break;
    case JSON_REAL:
      n = kd_doc_node (doc, KD_NODE_FLOAT, 0, 0);
      n->f = json_real_value (j);
      format_real (n->f, buf, sizeof (buf));
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      n = kd_doc_node (doc, KD_NODE_BOOL, 0, 0);
      n->b = json_is_true (j);
      snprintf (buf, sizeof (buf), "%s", n->b ? "true" : "false");
      break;
    case JSON_NULL:
    default:
      n = kd_doc_node (doc, KD_NODE_NULL, 0, 0);
      snprintf (buf, sizeof (buf), "null");
      break;
    }
  n->text_len = strlen (buf);
  n->text = kd_doc_strndup (doc, buf, n->text_len);
  return n;
}

kd_doc_t *
kd_node_from_json (const json_t *json)
{
  kd_doc_t *doc = kd_doc_new ();

  if (json)
    doc->root = node_from_json (doc, json);
  return doc;
}

/* Parses a list index: digits only, no sign, fits a size_t. */
static bool
parse_index (const char *s, size_t len, size_t *out)
{
  size_t i, v = 0;

  if (len == 0 || len > 18)
    return false;
  for (i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (size_t) (s[i] - '0');
    }
  *out = v;
  return true;
}

static const kd_node_t *
node_get_n (const kd_node_t *map, const char *key, size_t len)
{
  size_t i;

  if (map == NULL || map->kind != KD_NODE_MAP)
    return NULL;
  for (i = map->n; i > 0; i--)
    {
      const kd_node_t *k = map->keys[i - 1];

      if (k && k->text && k->text_len == len && memcmp (k->text, key, len) == 0)
        return map->items[i - 1];
    }
  return NULL;
}

/* The end of a "[...]" subscript: the first ']' that is followed by the end,
   '.' or '[', so map keys such as "a]b" still work in most cases. */
static const char *
subscript_end (const char *p)
{
  const char *q;

  for (q = p; *q; q++)
    if (*q == ']' && (q[1] == '\0' || q[1] == '.' || q[1] == '['))
      return q;
  return strchr (p, ']');
}

const kd_node_t *
kd_node_find_path (const kd_node_t *root, const char *path)
{
  const kd_node_t *cur = root;
  const char *p = path;

  if (root == NULL || path == NULL)
    return root;
  while (*p)
    {
      const kd_node_t *next = NULL;

      if (*p == '.')
        {
          p++;
          continue;
        }
      if (*p == '[')
        {
          const char *end = subscript_end (p + 1);
          size_t len, idx;

          if (end == NULL)
            break;
          len = (size_t) (end - (p + 1));
          if (cur->kind == KD_NODE_SEQ)
            {
              if (parse_index (p + 1, len, &idx) && idx < cur->n)
                next = cur->items[idx];
            }
          else
            next = node_get_n (cur, p + 1, len);
          p = end + 1;
        }
      else
        {
          size_t len = strcspn (p, ".[");

          next = node_get_n (cur, p, len);
          p += len;
        }
      if (next == NULL)
        break;
      cur = next;
    }
  return cur;
}
