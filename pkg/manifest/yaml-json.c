/* kd_yaml_parse: the size limit, then libyaml (yaml.c), then the JSON texts
   libyaml refuses.

   JSON is YAML flow syntax and libyaml reads nearly all of it, with the
   positions of every node. What it refuses is valid JSON all the same: a tab
   where YAML wants indentation (before the top-level `{`, or at the start of
   a line outside brackets), a key longer than YAML's 1024-character simple
   key, or a `:` on the line after its key. The kubelet reads a file that
   starts with `{` with a JSON decoder, so such a file must load here too:
     1. tabs outside strings become spaces (same offsets, same columns) and
        libyaml gets a second try;
     2. failing that, jansson decides: its error (with its line and column)
        is the one reported, or its tree is converted (kd_node_from_json)
        and the positions are filled in from a scan of the text. */

#include "manifest-internal.h"

/* A JSON text starts with `{` or `[` after optional whitespace (and BOM). */
static bool
json_like (const char *buf, size_t len)
{
  size_t i = 0;

  if (len >= 3 && memcmp (buf, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  return i < len && (buf[i] == '{' || buf[i] == '[');
}

/* Tabs between JSON tokens become spaces; tabs inside strings stay. */
static char *
detab (const char *buf, size_t len)
{
  char *copy = xmalloc (len + 1);
  bool in_string = false;
  size_t i;

  memcpy (copy, buf, len);
  copy[len] = '\0';
  for (i = 0; i < len; i++)
    {
      char c = copy[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = false;
        }
      else if (c == '"')
        in_string = true;
      else if (c == '\t')
        copy[i] = ' ';
    }
  return copy;
}

/* The node budget and the depth limit, as for YAML. The recursion is bounded
   by the depth check. */
static int
json_limits (const json_t *j, size_t depth, size_t *count)
{
  const char *key;
  json_t *v;
  size_t i;

  if (++*count > KD_MANIFEST_MAX_NODES)
    return -2;
  if (!json_is_object (j) && !json_is_array (j))
    return 0;
  if (depth + 1 > KD_MANIFEST_MAX_DEPTH)
    return -1;
  if (json_is_array (j))
    {
      json_array_foreach ((json_t *) j, i, v)
      {
        int r = json_limits (v, depth + 1, count);

        if (r < 0)
          return r;
      }
      return 0;
    }
  json_object_foreach ((json_t *) j, key, v)
  {
    int r;

    ++*count; /* the key */
    r = json_limits (v, depth + 1, count);
    if (r < 0)
      return r;
  }
  return 0;
}

typedef struct
{
  int line;
  int col;
  char c; /* the first character: '{', '[', '"' or a scalar's */
} json_pos_t;

/* Where each key and value of a valid JSON text starts, in text order. That
   is the pre-order of the tree, keys before their values, because jansson
   keeps the keys of an object in the order of the text. */
static json_pos_t *
json_positions (const char *buf, size_t len, size_t *n_out)
{
  json_pos_t *v = NULL;
  size_t n = 0, cap = 0, i = 0;
  int line = 1, col = 1;

  while (i < len)
    {
      char c = buf[i];

      if (c == '\n')
        {
          line++;
          col = 1;
          i++;
          continue;
        }
      if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ':' || c == '}' || c == ']')
        {
          col++;
          i++;
          continue;
        }
      kd_grow ((void **) &v, &cap, n, sizeof (json_pos_t));
      v[n].line = line;
      v[n].col = col;
      v[n].c = c;
      n++;
      if (c == '{' || c == '[')
        {
          col++;
          i++;
          continue;
        }
      if (c == '"')
        {
          for (i++, col++; i < len && buf[i] != '"'; i++)
            {
              if (buf[i] == '\\')
                {
                  i++;
                  col++;
                }
              else if (((unsigned char) buf[i] & 0xc0) != 0x80)
                col++;
            }
          i++;
          col++;
          continue;
        }
      /* A number or a word; at least one byte, so that any byte (even a
         NUL, which strchr counts as a delimiter) moves the scan on. */
      do
        {
          i++;
          col++;
        }
      while (i < len && !strchr (" \t\r\n,:}]", buf[i]));
    }
  *n_out = n;
  return v;
}

static bool
pos_matches (const json_pos_t *p, const kd_node_t *node, bool is_key)
{
  if (is_key)
    return p->c == '"';
  switch (node->kind)
    {
    case KD_NODE_MAP:
      return p->c == '{';
    case KD_NODE_SEQ:
      return p->c == '[';
    case KD_NODE_STRING:
      return p->c == '"';
    default:
      return p->c != '{' && p->c != '[' && p->c != '"';
    }
}

/* Walks the tree in pre-order with an explicit stack (the depth is already
   bounded) and gives each node its position; stops at the first mismatch so
   a surprise in the conversion can only leave positions unknown. */
static void
fix_positions (kd_node_t *root, const char *buf, size_t len)
{
  struct
  {
    kd_node_t *node;
    size_t next;
  } stack[KD_MANIFEST_MAX_DEPTH + 1];
  size_t depth = 0, k = 0, n_pos;
  cleanup_free json_pos_t *pos = json_positions (buf, len, &n_pos);
  kd_node_t *node = root;

  for (;;)
    {
      if (node)
        {
          if (k >= n_pos || !pos_matches (&pos[k], node, false))
            return;
          node->line = pos[k].line;
          node->col = pos[k].col;
          k++;
          if ((node->kind == KD_NODE_MAP || node->kind == KD_NODE_SEQ)
              && depth < KD_ARRAY_SIZE (stack))
            {
              stack[depth].node = node;
              stack[depth].next = 0;
              depth++;
            }
          node = NULL;
        }
      if (depth == 0)
        return;
      if (stack[depth - 1].next >= stack[depth - 1].node->n)
        {
          depth--;
          continue;
        }
      {
        kd_node_t *parent = stack[depth - 1].node;
        size_t idx = stack[depth - 1].next++;

        if (parent->kind == KD_NODE_MAP)
          {
            if (k >= n_pos || !pos_matches (&pos[k], parent->keys[idx], true))
              return;
            parent->keys[idx]->line = pos[k].line;
            parent->keys[idx]->col = pos[k].col;
            k++;
          }
        node = parent->items[idx];
      }
    }
}

static int
parse_json (const char *name, const char *buf, size_t len, kd_doc_t ***docs, size_t *n_docs,
            kd_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
  kd_doc_t *doc;
  size_t count = 0;
  int r;

  if (j == NULL)
    return kd_make_error (err, 0, "%s:%d:%d: %s", name, jerr.line > 0 ? jerr.line : 1,
                          jerr.column > 0 ? jerr.column : 1, jerr.text);
  r = json_limits (j, 0, &count);
  if (r < 0)
    {
      json_decref (j);
      if (r == -1)
        return kd_make_error (err, 0, "%s: exceeded max depth of %d", name, KD_MANIFEST_MAX_DEPTH);
      return kd_make_error (err, 0, "%s: too many nodes (limit %d)", name, KD_MANIFEST_MAX_NODES);
    }
  doc = kd_node_from_json (j);
  json_decref (j);
  fix_positions (kd_doc_root (doc), buf, len);
  *docs = xmalloc (sizeof (kd_doc_t *));
  (*docs)[0] = doc;
  *n_docs = 1;
  return 0;
}

static int
pass_error (kd_error_t *err, kd_error_t *mine)
{
  if (err && *err == NULL)
    *err = steal_pointer (mine);
  kd_error_release (mine);
  return -1;
}

int
kd_yaml_parse (const char *name, const char *buf, size_t len, kd_doc_t ***docs, size_t *n_docs,
               kd_error_t *err)
{
  kd_error_t first = NULL, second = NULL;
  cleanup_free char *copy = NULL;
  int r;

  *docs = NULL;
  *n_docs = 0;
  if (name == NULL)
    name = "<input>";
  if (len > KD_MANIFEST_MAX_BYTES)
    return kd_make_error (err, 0, "%s: too large (%zu bytes, limit %d)", name, len,
                          KD_MANIFEST_MAX_BYTES);

  r = kd_yaml_parse_events (name, buf, len, docs, n_docs, &first);
  if (r == 0)
    return 0;
  if (r != -2 || !json_like (buf, len))
    return pass_error (err, &first);

  /* 1. the same text with tabs between tokens made spaces */
  copy = detab (buf, len);
  r = kd_yaml_parse_events (name, copy, len, docs, n_docs, &second);
  if (r == 0)
    {
      kd_error_release (&first);
      return 0;
    }
  if (r == -1)
    {
      kd_error_release (&first);
      return pass_error (err, &second);
    }
  kd_error_release (&first);
  kd_error_release (&second);
  /* 2. jansson has the last word on JSON */
  return parse_json (name, buf, len, docs, n_docs, err);
}
