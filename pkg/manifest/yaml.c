/* The YAML reader: libyaml's event stream into kd_node_t trees, one kd_doc_t
   per document, with the position of every node.

   Why events and not libyaml's document API: the document loader copies every
   alias expansion lazily but has no budget, and it keeps no place to stop an
   alias bomb early. Here an alias shares the anchored node (no copy) and adds
   the anchored subtree's size to a node budget for the whole stream, so
   "billion laughs" fails after a few hundred events instead of eating memory.

   What must come before what:
     1. the input size is checked before libyaml sees a byte;
     2. each collection is built in a frame on a bounded stack (the depth
        limit is the stack size), its items in a growable vector that is
        copied into the document's arena when the collection ends;
     3. a mapping is finished at its end event: duplicate keys are refused,
        then merge keys (`<<`) are expanded, explicit keys winning;
     4. an anchor is recorded when its node is complete, so an alias inside
        its own anchor is unknown (no cycles).
   JSON goes through the same path (JSON is YAML flow syntax); the few JSON
   texts libyaml refuses are retried (see yaml-json.c). */

#include <yaml.h>

#include <inttypes.h>

#include "manifest-internal.h"

typedef struct
{
  kd_node_t *key; /* a KD_NODE_STRING; the "<<" node for a merge */
  kd_node_t *value;
  bool merge;
} entry_t;

typedef struct
{
  kd_node_t *node; /* KD_NODE_MAP or KD_NODE_SEQ being built */
  entry_t *v;      /* maps: entries; sequences: v[i].value */
  size_t n, cap;
  kd_node_t *key; /* a map's key waiting for its value */
  bool key_merge;
  bool has_merge;
  char *anchor;
  size_t size; /* nodes in the expanded subtree */
  int height;  /* collections below and including this one */
} frame_t;

typedef struct
{
  char *name;
  kd_node_t *node;
  size_t size;
  int height;
} anchor_t;

typedef struct
{
  const char *name;
  kd_error_t *err;
  kd_doc_t *doc;
  kd_node_t *root;
  frame_t stack[KD_MANIFEST_MAX_DEPTH];
  size_t depth;
  anchor_t *anchors; /* open addressing, power-of-two capacity */
  size_t n_anchors, cap_anchors;
  size_t total; /* nodes in the stream after alias expansion */
  bool aliased;
  kd_doc_t **docs;
  size_t n_docs, cap_docs;
} reader_t;

static int KD_PRINTF (3, 4) fail_at (reader_t *r, const yaml_mark_t *mark, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return kd_make_error (r->err, 0, "%s:%zu:%zu: %s", r->name, mark->line + 1, mark->column + 1,
                        msg);
}

static int
node_fail (reader_t *r, const kd_node_t *n, const char *msg)
{
  return kd_make_error (r->err, 0, "%s:%d:%d: %s", r->name, n->line, n->col, msg);
}

/* ---- anchors ------------------------------------------------------------ */

static size_t
hash_bytes (const char *s, size_t len)
{
  size_t h = 1469598103934665603ULL;
  size_t i;

  for (i = 0; i < len; i++)
    h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
  return h;
}

static void
anchors_clear (reader_t *r)
{
  size_t i;

  for (i = 0; i < r->cap_anchors; i++)
    free (r->anchors[i].name);
  free (r->anchors);
  r->anchors = NULL;
  r->n_anchors = r->cap_anchors = 0;
}

static anchor_t *
anchor_slot (anchor_t *table, size_t cap, const char *name)
{
  size_t mask = cap - 1;
  size_t i = hash_bytes (name, strlen (name)) & mask;

  while (table[i].name && strcmp (table[i].name, name) != 0)
    i = (i + 1) & mask;
  return &table[i];
}

static void
anchor_set (reader_t *r, const char *name, kd_node_t *node, size_t size, int height)
{
  anchor_t *a;

  if (r->n_anchors * 2 >= r->cap_anchors)
    {
      size_t i, cap = r->cap_anchors ? r->cap_anchors * 2 : 16;
      anchor_t *t = xcalloc (cap, sizeof (anchor_t));

      for (i = 0; i < r->cap_anchors; i++)
        if (r->anchors[i].name)
          *anchor_slot (t, cap, r->anchors[i].name) = r->anchors[i];
      free (r->anchors);
      r->anchors = t;
      r->cap_anchors = cap;
    }
  a = anchor_slot (r->anchors, r->cap_anchors, name);
  if (a->name == NULL)
    {
      a->name = xstrdup (name);
      r->n_anchors++;
    }
  /* A redefined anchor replaces the old one for the aliases that follow. */
  a->node = node;
  a->size = size;
  a->height = height;
}

static const anchor_t *
anchor_get (reader_t *r, const char *name)
{
  const anchor_t *a;

  if (r->cap_anchors == 0)
    return NULL;
  a = anchor_slot (r->anchors, r->cap_anchors, name);
  return a->name ? a : NULL;
}

/* ---- the node budget ------------------------------------------------------ */

static int
count_nodes (reader_t *r, size_t n, const yaml_mark_t *mark)
{
  if (n > KD_MANIFEST_MAX_NODES || r->total + n > KD_MANIFEST_MAX_NODES)
    return fail_at (r, mark, "too many nodes%s (limit %d)",
                    r->aliased ? " after alias expansion" : "", KD_MANIFEST_MAX_NODES);
  r->total += n;
  return 0;
}

/* ---- mapping keys ----------------------------------------------------------- */

/* The key as the string sigs.k8s.io/yaml gives it in JSON: `1` -> "1",
   `on` -> "true", `1.5` -> "1.5" (Go's float32 formatting). */
static int
key_node (reader_t *r, kd_node_t *k, kd_node_t **out)
{
  char buf[64];
  kd_node_t *s;

  switch (k->kind)
    {
    case KD_NODE_STRING:
      *out = k;
      return 0;
    case KD_NODE_MAP:
    case KD_NODE_SEQ:
      return node_fail (r, k, "a mapping key must be a scalar, not a collection");
    case KD_NODE_NULL:
      return node_fail (r, k, "a mapping key must not be null");
    case KD_NODE_BOOL:
      snprintf (buf, sizeof (buf), "%s", k->b ? "true" : "false");
      break;
    case KD_NODE_INT:
      snprintf (buf, sizeof (buf), "%" PRId64, k->i);
      break;
    case KD_NODE_FLOAT:
    default:
      {
        kd_scalar_t res;

        /* sigs.k8s.io/yaml has no string for a uint64 key either. */
        kd_yaml_resolve_plain (k->text, k->text_len, &res);
        if (res.is_uint)
          return node_fail (r, k, "unsupported mapping key: an integer above 9223372036854775807");
        kd_yaml_format_float (k->f, 32, buf, sizeof (buf));
        break;
      }
    }
  s = kd_doc_node (r->doc, KD_NODE_STRING, k->line, k->col);
  s->text_len = strlen (buf);
  s->text = kd_doc_strndup (r->doc, buf, s->text_len);
  *out = s;
  return 0;
}

/* A set of key strings, for duplicate checks and merges without quadratic
   scans on large mappings. */
typedef struct
{
  const kd_node_t **v;
  size_t cap;
} keyset_t;

static void
keyset_init (keyset_t *s, size_t n)
{
  s->cap = 16;
  while (s->cap < n * 2 + 2)
    s->cap *= 2;
  s->v = xcalloc (s->cap, sizeof (*s->v));
}

/* Adds k unless an equal key is there; returns the existing one or NULL. */
static const kd_node_t *
keyset_add (keyset_t *s, const kd_node_t *k)
{
  size_t mask = s->cap - 1;
  size_t i = hash_bytes (k->text, k->text_len) & mask;

  while (s->v[i])
    {
      const kd_node_t *o = s->v[i];

      if (o->text_len == k->text_len && memcmp (o->text, k->text, k->text_len) == 0)
        return o;
      i = (i + 1) & mask;
    }
  s->v[i] = k;
  return NULL;
}

/* ---- building collections ------------------------------------------------ */

static void
frame_push_entry (frame_t *f, kd_node_t *key, kd_node_t *value, bool merge)
{
  kd_grow ((void **) &f->v, &f->cap, f->n, sizeof (entry_t));
  f->v[f->n].key = key;
  f->v[f->n].value = value;
  f->v[f->n].merge = merge;
  f->n++;
}

static void
frame_release (frame_t *f)
{
  free (f->v);
  free (f->anchor);
  memset (f, 0, sizeof (*f));
}

/* A node is complete: hand it to the open collection (or make it the root)
   and record its anchor. */
static int
add_node (reader_t *r, kd_node_t *node, size_t size, int height, bool merge_key, const char *anchor)
{
  frame_t *f;

  if (anchor)
    anchor_set (r, anchor, node, size, height);
  if (r->depth == 0)
    {
      r->root = node;
      return 0;
    }
  f = &r->stack[r->depth - 1];
  f->size += size;
  if (height + 1 > f->height)
    f->height = height + 1;
  if (f->node->kind == KD_NODE_SEQ)
    {
      frame_push_entry (f, NULL, node, false);
      return 0;
    }
  if (f->key == NULL)
    {
      if (merge_key)
        {
          f->key = node;
          f->key_merge = true;
          return 0;
        }
      f->key_merge = false;
      return key_node (r, node, &f->key);
    }
  frame_push_entry (f, f->key, node, f->key_merge);
  if (f->key_merge)
    f->has_merge = true;
  f->key = NULL;
  return 0;
}

static int
duplicate_error (reader_t *r, const kd_node_t *key, int first_line)
{
  cleanup_free char *q = kd_fe_quote (key->text);

  return kd_make_error (r->err, 0, "%s:%d:%d: mapping key %s already defined at line %d", r->name,
                        key->line, key->col, q, first_line);
}

static bool
same_key (const kd_node_t *a, const kd_node_t *b)
{
  return a->text_len == b->text_len && memcmp (a->text, b->text, a->text_len) == 0;
}

/* As go-yaml v3 (and strict sigs.k8s.io/yaml): a key given twice is an
   error, reported at the second one. Merged keys never count. */
static int
check_duplicates (reader_t *r, const frame_t *f)
{
  keyset_t set;
  size_t i, j;

  if (f->n <= 16)
    {
      for (i = 1; i < f->n; i++)
        for (j = 0; j < i; j++)
          if (!f->v[i].merge && !f->v[j].merge && same_key (f->v[i].key, f->v[j].key))
            return duplicate_error (r, f->v[i].key, f->v[j].key->line);
      return 0;
    }
  keyset_init (&set, f->n);
  for (i = 0; i < f->n; i++)
    {
      const kd_node_t *o;

      if (f->v[i].merge)
        continue;
      o = keyset_add (&set, f->v[i].key);
      if (o)
        {
          int line = o->line;

          free (set.v);
          return duplicate_error (r, f->v[i].key, line);
        }
    }
  free (set.v);
  return 0;
}

/* YAML 1.1 merge keys: the explicit keys of the mapping win, then earlier
   merge sources over later ones. Merged values are shared, not copied. */
static int
expand_merges (reader_t *r, frame_t *f, entry_t **out, size_t *n_out)
{
  keyset_t set;
  entry_t *v = NULL;
  size_t cap = 0, n = 0, i, total = 0;

  for (i = 0; i < f->n; i++)
    {
      const kd_node_t *m = f->v[i].value;

      if (!f->v[i].merge)
        {
          total++;
          continue;
        }
      if (m->kind == KD_NODE_MAP)
        total += m->n;
      else if (m->kind == KD_NODE_SEQ)
        {
          size_t k;

          for (k = 0; k < m->n; k++)
            {
              if (m->items[k]->kind != KD_NODE_MAP)
                return node_fail (r, f->v[i].key,
                                  "map merge requires map or sequence of maps as the value");
              total += m->items[k]->n;
            }
        }
      else
        return node_fail (r, f->v[i].key,
                          "map merge requires map or sequence of maps as the value");
    }

  keyset_init (&set, total);
  for (i = 0; i < f->n; i++)
    if (!f->v[i].merge)
      keyset_add (&set, f->v[i].key);
  for (i = 0; i < f->n; i++)
    {
      const kd_node_t *m = f->v[i].value;
      kd_node_t *const *sources = &f->v[i].value;
      size_t n_sources = 1, s, k;

      if (!f->v[i].merge)
        {
          kd_grow ((void **) &v, &cap, n, sizeof (entry_t));
          v[n++] = f->v[i];
          continue;
        }
      if (m->kind == KD_NODE_SEQ)
        {
          sources = m->items;
          n_sources = m->n;
        }
      for (s = 0; s < n_sources; s++)
        for (k = 0; k < sources[s]->n; k++)
          if (keyset_add (&set, sources[s]->keys[k]) == NULL)
            {
              kd_grow ((void **) &v, &cap, n, sizeof (entry_t));
              v[n].key = sources[s]->keys[k];
              v[n].value = sources[s]->items[k];
              v[n].merge = false;
              n++;
            }
    }
  free (set.v);
  *out = v;
  *n_out = n;
  return 0;
}

static int
end_collection (reader_t *r)
{
  frame_t *f = &r->stack[r->depth - 1];
  kd_node_t *node = f->node;
  entry_t *v = f->v;
  size_t n = f->n, i, size = f->size, height = f->height;
  cleanup_free entry_t *merged = NULL;
  cleanup_free char *anchor = NULL;

  if (node->kind == KD_NODE_MAP)
    {
      if (check_duplicates (r, f) < 0)
        return -1;
      if (f->has_merge)
        {
          if (expand_merges (r, f, &merged, &n) < 0)
            return -1;
          v = merged;
        }
      node->keys = kd_doc_alloc (r->doc, n * sizeof (kd_node_t *));
    }
  node->items = kd_doc_alloc (r->doc, n * sizeof (kd_node_t *));
  node->n = n;
  for (i = 0; i < n; i++)
    {
      if (node->keys)
        node->keys[i] = v[i].key;
      node->items[i] = v[i].value;
    }
  anchor = steal_pointer (&f->anchor);
  frame_release (f);
  r->depth--;
  return add_node (r, node, size, (int) height, false, anchor);
}

static int
start_collection (reader_t *r, kd_node_kind_t kind, const yaml_mark_t *mark, const char *anchor)
{
  frame_t *f;

  if (r->depth >= KD_MANIFEST_MAX_DEPTH)
    return fail_at (r, mark, "exceeded max depth of %d", KD_MANIFEST_MAX_DEPTH);
  if (count_nodes (r, 1, mark) < 0)
    return -1;
  f = &r->stack[r->depth++];
  memset (f, 0, sizeof (*f));
  f->node = kd_doc_node (r->doc, kind, (int) mark->line + 1, (int) mark->column + 1);
  f->anchor = anchor ? xstrdup (anchor) : NULL;
  f->size = 1;
  f->height = 1;
  return 0;
}

/* ---- scalars and aliases ------------------------------------------------ */

static int
scalar (reader_t *r, const yaml_event_t *ev)
{
  const char *text = (const char *) ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const char *tag = (const char *) ev->data.scalar.tag;
  const yaml_mark_t *mark = &ev->start_mark;
  kd_scalar_t res;
  kd_node_t *n;

  if (count_nodes (r, 1, mark) < 0)
    return -1;
  if (tag == NULL && ev->data.scalar.plain_implicit)
    kd_yaml_resolve_plain (text, len, &res);
  else if (tag == NULL || strcmp (tag, "!") == 0)
    {
      memset (&res, 0, sizeof (res));
      res.kind = KD_NODE_STRING;
    }
  else if (!kd_yaml_resolve_tagged (tag, text, len, &res))
    {
      cleanup_free char *q = kd_fe_quote (text);
      const char *short_tag = strrchr (tag, ':') ? strrchr (tag, ':') + 1 : tag;

      return fail_at (r, mark, "cannot decode %s as a !!%s", q, short_tag);
    }

  /* A kd_node_t integer is an int64: a larger one (Go's uint64) is kept as a
     number of another kind, so that an int field refuses it as out of range. */
  if (res.kind == KD_NODE_INT && res.is_uint)
    res.kind = KD_NODE_FLOAT;
  n = kd_doc_node (r->doc, res.kind, (int) mark->line + 1, (int) mark->column + 1);
  n->b = res.b;
  n->i = res.i;
  n->f = res.f;
  if (res.kind == KD_NODE_NULL)
    {
      n->text = kd_doc_strndup (r->doc, "null", 4);
      n->text_len = 4;
    }
  else
    {
      /* memcpy, not strndup: a "\0" escape puts a NUL inside the text. */
      n->text = kd_doc_alloc (r->doc, len + 1);
      memcpy (n->text, text, len);
      n->text_len = len;
    }
  return add_node (r, n, 1, 0, res.merge, (const char *) ev->data.scalar.anchor);
}

static int
alias (reader_t *r, const yaml_event_t *ev)
{
  const char *name = (const char *) ev->data.alias.anchor;
  const anchor_t *a = anchor_get (r, name);

  if (a == NULL)
    return fail_at (r, &ev->start_mark, "unknown anchor '%s' referenced", name);
  r->aliased = true;
  if (count_nodes (r, a->size, &ev->start_mark) < 0)
    return -1;
  if (r->depth + (size_t) a->height > KD_MANIFEST_MAX_DEPTH)
    return fail_at (r, &ev->start_mark, "exceeded max depth of %d", KD_MANIFEST_MAX_DEPTH);
  return add_node (r, a->node, a->size, a->height, false, NULL);
}

/* ---- documents and the stream ---------------------------------------------- */

static void
end_document (reader_t *r)
{
  kd_doc_t *doc = steal_pointer (&r->doc);

  /* An empty document (only comments, a bare `---`, or `null`) is no
     document at all, as for the kubelet. */
  if (r->root == NULL || r->root->kind == KD_NODE_NULL)
    {
      kd_doc_free (doc);
      r->root = NULL;
      return;
    }
  kd_doc_set_root (doc, r->root);
  r->root = NULL;
  kd_grow ((void **) &r->docs, &r->cap_docs, r->n_docs, sizeof (kd_doc_t *));
  r->docs[r->n_docs++] = doc;
}

static void
reader_release (reader_t *r)
{
  size_t i;

  while (r->depth > 0)
    frame_release (&r->stack[--r->depth]);
  anchors_clear (r);
  kd_doc_free (r->doc);
  r->doc = NULL;
  for (i = 0; i < r->n_docs; i++)
    kd_doc_free (r->docs[i]);
  free (r->docs);
  r->docs = NULL;
  r->n_docs = r->cap_docs = 0;
}

/* "web.yaml:3:7: mapping values are not allowed in this context". A reader
   error (bad UTF-8, control characters) has only a byte offset. */
static int
libyaml_error (reader_t *r, const yaml_parser_t *p, const char *buf, size_t len)
{
  const char *problem = p->problem ? p->problem : "syntax error";
  size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;

  if (p->error == YAML_MEMORY_ERROR)
    abort ();
  if (p->error == YAML_READER_ERROR)
    {
      size_t i, end = p->problem_offset < len ? p->problem_offset : len;

      line = col = 1;
      for (i = 0; i < end; i++)
        {
          if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n')))
            {
              line++;
              col = 1;
            }
          else if (((unsigned char) buf[i] & 0xc0) != 0x80)
            col++;
        }
      if (p->problem_value != -1)
        return kd_make_error (r->err, 0, "%s:%zu:%zu: %s (byte 0x%02X)", r->name, line, col,
                              problem, (unsigned) p->problem_value & 0xff);
      return kd_make_error (r->err, 0, "%s:%zu:%zu: %s", r->name, line, col, problem);
    }
  if (p->context && p->context_mark.line != p->problem_mark.line)
    return kd_make_error (r->err, 0, "%s:%zu:%zu: %s %s started at line %zu", r->name, line, col,
                          problem, p->context, p->context_mark.line + 1);
  if (p->context)
    return kd_make_error (r->err, 0, "%s:%zu:%zu: %s %s", r->name, line, col, problem, p->context);
  return kd_make_error (r->err, 0, "%s:%zu:%zu: %s", r->name, line, col, problem);
}

static int
handle_event (reader_t *r, const yaml_event_t *ev)
{
  switch (ev->type)
    {
    case YAML_DOCUMENT_START_EVENT:
      /* Anchors do not cross documents. */
      anchors_clear (r);
      r->doc = kd_doc_new ();
      r->root = NULL;
      return 0;
    case YAML_DOCUMENT_END_EVENT:
      end_document (r);
      return 0;
    case YAML_SCALAR_EVENT:
      return scalar (r, ev);
    case YAML_ALIAS_EVENT:
      return alias (r, ev);
    case YAML_SEQUENCE_START_EVENT:
      return start_collection (r, KD_NODE_SEQ, &ev->start_mark,
                               (const char *) ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
      return start_collection (r, KD_NODE_MAP, &ev->start_mark,
                               (const char *) ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      return end_collection (r);
    default:
      return 0;
    }
}

/* Returns 0, -1 for an error of ours (limits, keys, anchors), or -2 for a
   syntax error reported by libyaml (err set in both cases). */
int
kd_yaml_parse_events (const char *name, const char *buf, size_t len, kd_doc_t ***docs,
                      size_t *n_docs, kd_error_t *err)
{
  yaml_parser_t parser;
  reader_t r;
  int ret = 0;
  bool done = false;

  memset (&r, 0, sizeof (r));
  r.name = name;
  r.err = err;
  if (!yaml_parser_initialize (&parser))
    abort ();
  yaml_parser_set_input_string (&parser, (const unsigned char *) buf, len);
  while (!done)
    {
      yaml_event_t ev;

      if (!yaml_parser_parse (&parser, &ev))
        {
          libyaml_error (&r, &parser, buf, len);
          ret = -2;
          break;
        }
      done = ev.type == YAML_STREAM_END_EVENT;
      ret = handle_event (&r, &ev);
      yaml_event_delete (&ev);
      if (ret < 0)
        break;
    }
  yaml_parser_delete (&parser);
  if (ret < 0)
    {
      reader_release (&r);
      return ret;
    }
  *docs = steal_pointer (&r.docs);
  *n_docs = r.n_docs;
  r.n_docs = 0;
  reader_release (&r);
  return 0;
}
