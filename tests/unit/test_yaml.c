/* The YAML reader (kd_yaml_parse) and writer (kd_yaml_emit_json). */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <cmocka.h>

#include "kubeletd/manifest.h"

typedef struct
{
  kd_doc_t **docs;
  size_t n;
  char *error;
} parsed_t;

static parsed_t
parse_n (const char *text, size_t len)
{
  parsed_t p = { 0 };
  kd_error_t err = NULL;

  if (kd_yaml_parse ("t.yaml", text, len, &p.docs, &p.n, &err) < 0)
    {
      assert_non_null (err);
      p.error = xstrdup (err->msg);
      kd_error_release (&err);
      assert_null (p.docs);
    }
  else
    assert_null (err);
  return p;
}

static parsed_t
parse (const char *text)
{
  return parse_n (text, strlen (text));
}

static void
parsed_free (parsed_t *p)
{
  size_t i;

  for (i = 0; i < p->n; i++)
    kd_doc_free (p->docs[i]);
  free (p->docs);
  free (p->error);
}

static const kd_node_t *
root0 (const parsed_t *p)
{
  assert_null (p->error);
  assert_true (p->n >= 1);
  return kd_doc_root (p->docs[0]);
}

static double
elapsed (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (double) (now.tv_sec - start->tv_sec) + (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- scalars ---------------------------------------------------------- */

static const struct
{
  const char *text;
  kd_node_kind_t kind;
  int64_t i;
  double f;
} scalar_table[] = {
  { "~", KD_NODE_NULL, 0, 0 },
  { "null", KD_NODE_NULL, 0, 0 },
  { "Null", KD_NODE_NULL, 0, 0 },
  { "NULL", KD_NODE_NULL, 0, 0 },
  { "", KD_NODE_NULL, 0, 0 },
  { "nULL", KD_NODE_STRING, 0, 0 },
  { "y", KD_NODE_BOOL, 1, 0 },
  { "Y", KD_NODE_BOOL, 1, 0 },
  { "yes", KD_NODE_BOOL, 1, 0 },
  { "Yes", KD_NODE_BOOL, 1, 0 },
  { "YES", KD_NODE_BOOL, 1, 0 },
  { "yEs", KD_NODE_STRING, 0, 0 },
  { "n", KD_NODE_BOOL, 0, 0 },
  { "N", KD_NODE_BOOL, 0, 0 },
  { "no", KD_NODE_BOOL, 0, 0 },
  { "No", KD_NODE_BOOL, 0, 0 },
  { "NO", KD_NODE_BOOL, 0, 0 },
  { "true", KD_NODE_BOOL, 1, 0 },
  { "True", KD_NODE_BOOL, 1, 0 },
  { "TRUE", KD_NODE_BOOL, 1, 0 },
  { "false", KD_NODE_BOOL, 0, 0 },
  { "False", KD_NODE_BOOL, 0, 0 },
  { "FALSE", KD_NODE_BOOL, 0, 0 },
  { "on", KD_NODE_BOOL, 1, 0 },
  { "On", KD_NODE_BOOL, 1, 0 },
  { "ON", KD_NODE_BOOL, 1, 0 },
  { "off", KD_NODE_BOOL, 0, 0 },
  { "Off", KD_NODE_BOOL, 0, 0 },
  { "OFF", KD_NODE_BOOL, 0, 0 },
  { "0", KD_NODE_INT, 0, 0 },
  { "42", KD_NODE_INT, 42, 0 },
  { "-42", KD_NODE_INT, -42, 0 },
  { "+42", KD_NODE_INT, 42, 0 },
  { "1_000", KD_NODE_INT, 1000, 0 },
  { "0x1F", KD_NODE_INT, 31, 0 },
  { "0X1f", KD_NODE_INT, 31, 0 },
  { "-0x10", KD_NODE_INT, -16, 0 },
  { "0o17", KD_NODE_INT, 15, 0 },
  { "0644", KD_NODE_INT, 420, 0 },
  { "0b101", KD_NODE_INT, 5, 0 },
  { "-0b11", KD_NODE_INT, -3, 0 },
  { "9223372036854775807", KD_NODE_INT, INT64_MAX, 0 },
  { "-9223372036854775808", KD_NODE_INT, INT64_MIN, 0 },
  /* Go's uint64: kept as a number that no int field accepts. */
  { "18446744073709551615", KD_NODE_FLOAT, 0, 18446744073709551615.0 },
  /* Not octal, so the float rule reads it. */
  { "08", KD_NODE_FLOAT, 0, 8 },
  { "1.5", KD_NODE_FLOAT, 0, 1.5 },
  { "-1.5", KD_NODE_FLOAT, 0, -1.5 },
  { "1e3", KD_NODE_FLOAT, 0, 1000 },
  { "1.5E-2", KD_NODE_FLOAT, 0, 0.015 },
  { ".5", KD_NODE_FLOAT, 0, 0.5 },
  { "+.5", KD_NODE_FLOAT, 0, 0.5 },
  { "1.", KD_NODE_FLOAT, 0, 1 },
  { ".inf", KD_NODE_FLOAT, 0, INFINITY },
  { "+.Inf", KD_NODE_FLOAT, 0, INFINITY },
  { "-.INF", KD_NODE_FLOAT, 0, -INFINITY },
  { "1e999", KD_NODE_STRING, 0, 0 },
  { "0x", KD_NODE_STRING, 0, 0 },
  { "1:20", KD_NODE_STRING, 0, 0 },
  { "2024-01-02", KD_NODE_STRING, 0, 0 },
  { "2024-01-02T03:04:05Z", KD_NODE_STRING, 0, 0 },
  { "1.2.3", KD_NODE_STRING, 0, 0 },
  { "12abc", KD_NODE_STRING, 0, 0 },
  { "nginx", KD_NODE_STRING, 0, 0 },
  { "Infinity", KD_NODE_STRING, 0, 0 },
  { "<<x", KD_NODE_STRING, 0, 0 },
};

static void
test_plain_scalars_resolve_as_go_yaml_v2 (void **state)
{
  size_t k;

  for (k = 0; k < KD_ARRAY_SIZE (scalar_table); k++)
    {
      cleanup_free char *text = xasprintf ("v: %s\n", scalar_table[k].text);
      parsed_t p = parse (text);
      const kd_node_t *v = kd_node_get (root0 (&p), "v");

      assert_non_null (v);
      if (v->kind != scalar_table[k].kind)
        fail_msg ("`%s`: kind %d, want %d", scalar_table[k].text, v->kind, scalar_table[k].kind);
      switch (v->kind)
        {
        case KD_NODE_BOOL:
          assert_int_equal (v->b, scalar_table[k].i);
          assert_string_equal (v->text, scalar_table[k].text);
          break;
        case KD_NODE_INT:
          assert_true (v->i == scalar_table[k].i);
          assert_string_equal (v->text, scalar_table[k].text);
          break;
        case KD_NODE_FLOAT:
          assert_true (v->f == scalar_table[k].f);
          break;
        case KD_NODE_NULL:
          assert_string_equal (v->text, "null");
          break;
        default:
          assert_string_equal (v->text, scalar_table[k].text);
          break;
        }
      parsed_free (&p);
    }
}

static void
test_nan_resolves_to_float (void **state)
{
  parsed_t p = parse ("v: .NaN\n");
  const kd_node_t *v = kd_node_get (root0 (&p), "v");

  assert_int_equal (v->kind, KD_NODE_FLOAT);
  assert_true (isnan (v->f));
  parsed_free (&p);
}

static void
test_quoted_scalars_are_strings (void **state)
{
  parsed_t p = parse ("a: \"true\"\nb: '123'\nc: \"\"\nd: 'null'\ne: \"a\\tb\\0c\"\n");
  const kd_node_t *r = root0 (&p);

  assert_int_equal (kd_node_get (r, "a")->kind, KD_NODE_STRING);
  assert_string_equal (kd_node_get (r, "a")->text, "true");
  assert_int_equal (kd_node_get (r, "b")->kind, KD_NODE_STRING);
  assert_int_equal (kd_node_get (r, "c")->kind, KD_NODE_STRING);
  assert_int_equal (kd_node_get (r, "c")->text_len, 0);
  assert_int_equal (kd_node_get (r, "d")->kind, KD_NODE_STRING);
  /* Escapes are unescaped; an embedded NUL keeps the full length. */
  assert_int_equal (kd_node_get (r, "e")->text_len, 5);
  assert_memory_equal (kd_node_get (r, "e")->text, "a\tb\0c", 5);
  parsed_free (&p);
}

static void
test_explicit_tags_are_honoured (void **state)
{
  parsed_t p = parse ("a: !!str 123\nb: !!int \"12\"\nc: !!float 3\nd: !!bool \"yes\"\n"
                      "e: !!null ''\nf: !custom 5\ng: !!str true\n");
  const kd_node_t *r = root0 (&p);

  assert_int_equal (kd_node_get (r, "a")->kind, KD_NODE_STRING);
  assert_string_equal (kd_node_get (r, "a")->text, "123");
  assert_int_equal (kd_node_get (r, "b")->kind, KD_NODE_INT);
  assert_int_equal (kd_node_get (r, "b")->i, 12);
  assert_int_equal (kd_node_get (r, "c")->kind, KD_NODE_FLOAT);
  assert_true (kd_node_get (r, "c")->f == 3.0);
  assert_int_equal (kd_node_get (r, "d")->kind, KD_NODE_BOOL);
  assert_true (kd_node_get (r, "d")->b);
  assert_int_equal (kd_node_get (r, "e")->kind, KD_NODE_NULL);
  assert_int_equal (kd_node_get (r, "f")->kind, KD_NODE_STRING);
  assert_int_equal (kd_node_get (r, "g")->kind, KD_NODE_STRING);
  parsed_free (&p);
}

static void
test_tag_that_does_not_fit_is_an_error (void **state)
{
  parsed_t p = parse ("a: 1\nb: !!int abc\n");

  assert_string_equal (p.error, "t.yaml:2:4: cannot decode \"abc\" as a !!int");
  parsed_free (&p);
}

static void
test_keys_become_json_strings (void **state)
{
  parsed_t p = parse ("on: a\n1: b\n0x10: c\n1.5: d\nno: e\n\"on\": f\n");
  const kd_node_t *r = root0 (&p);

  assert_int_equal (r->n, 6);
  assert_string_equal (r->keys[0]->text, "true");
  assert_string_equal (r->keys[1]->text, "1");
  assert_string_equal (r->keys[2]->text, "16");
  assert_string_equal (r->keys[3]->text, "1.5");
  assert_string_equal (r->keys[4]->text, "false");
  assert_string_equal (r->keys[5]->text, "on");
  assert_int_equal (r->keys[2]->line, 3);
  assert_int_equal (r->keys[2]->col, 1);
  parsed_free (&p);
}

static void
test_null_and_collection_keys_are_refused (void **state)
{
  parsed_t p = parse ("a: 1\n[x]: 2\n");
  parsed_t q = parse ("a: 1\n~: 2\n");

  assert_string_equal (p.error, "t.yaml:2:1: a mapping key must be a scalar, not a collection");
  assert_string_equal (q.error, "t.yaml:2:1: a mapping key must not be null");
  parsed_free (&p);
  parsed_free (&q);
}

/* ---- positions ---------------------------------------------------------- */

static void
test_positions_are_one_based (void **state)
{
  parsed_t p = parse ("# comment\nkind: Pod\nspec:\n  containers:\n  - name: web\n"
                      "    image: \"nginx\"\n    ports: [ {containerPort: 80} ]\n");
  const kd_node_t *r = root0 (&p);
  const kd_node_t *n;

  assert_int_equal (r->line, 2);
  assert_int_equal (r->col, 1);
  n = kd_node_find_path (r, "spec.containers[0].image");
  assert_int_equal (n->line, 6);
  assert_int_equal (n->col, 12);
  n = kd_node_find_path (r, "spec.containers[0]");
  assert_int_equal (n->kind, KD_NODE_MAP);
  assert_int_equal (n->line, 5);
  assert_int_equal (n->col, 5);
  n = kd_node_find_path (r, "spec.containers[0].ports[0].containerPort");
  assert_int_equal (n->kind, KD_NODE_INT);
  assert_int_equal (n->line, 7);
  assert_int_equal (n->col, 30);
  parsed_free (&p);
}

/* ---- anchors, aliases, merge keys ------------------------------------------ */

static void
test_alias_shares_the_anchored_node (void **state)
{
  parsed_t p = parse ("a: &x {k: v}\nb: *x\nc: &s hello\nd: *s\n");
  const kd_node_t *r = root0 (&p);

  assert_ptr_equal (kd_node_get (r, "a"), kd_node_get (r, "b"));
  assert_ptr_equal (kd_node_get (r, "c"), kd_node_get (r, "d"));
  assert_string_equal (kd_node_get (r, "d")->text, "hello");
  parsed_free (&p);
}

static void
test_unknown_alias_is_an_error (void **state)
{
  parsed_t p = parse ("a: 1\nb: *nope\n");
  parsed_t q = parse ("a: &x [1, *x]\n");

  assert_string_equal (p.error, "t.yaml:2:4: unknown anchor 'nope' referenced");
  /* An anchor is known only once its node is complete: no cycles. */
  assert_string_equal (q.error, "t.yaml:1:11: unknown anchor 'x' referenced");
  parsed_free (&p);
  parsed_free (&q);
}

static void
test_anchors_do_not_cross_documents (void **state)
{
  parsed_t p = parse ("a: &x 1\n---\nb: *x\n");

  assert_string_equal (p.error, "t.yaml:3:4: unknown anchor 'x' referenced");
  parsed_free (&p);
}

static void
test_merge_key_explicit_keys_win (void **state)
{
  parsed_t p = parse ("base: &b {x: 1, w: 2}\nm:\n  x: 10\n  <<: *b\n  z: 3\n");
  const kd_node_t *m = kd_node_get (root0 (&p), "m");

  assert_int_equal (m->n, 3);
  assert_int_equal (kd_node_get (m, "x")->i, 10);
  assert_int_equal (kd_node_get (m, "w")->i, 2);
  assert_int_equal (kd_node_get (m, "z")->i, 3);
  assert_null (kd_node_get (m, "<<"));
  parsed_free (&p);
}

static void
test_merge_key_sequence_earlier_wins (void **state)
{
  parsed_t p = parse ("a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nm:\n  <<: [*a, *b]\n");
  const kd_node_t *m = kd_node_get (root0 (&p), "m");

  assert_int_equal (m->n, 3);
  assert_string_equal (kd_node_get (m, "k")->text, "a");
  assert_int_equal (kd_node_get (m, "only_a")->i, 1);
  assert_int_equal (kd_node_get (m, "only_b")->i, 2);
  parsed_free (&p);
}

static void
test_merge_of_a_scalar_is_an_error (void **state)
{
  parsed_t p = parse ("a: &a 1\nm:\n  <<: *a\n");
  parsed_t q = parse ("m:\n  \"<<\": {a: 1}\n");

  assert_string_equal (p.error,
                       "t.yaml:3:3: map merge requires map or sequence of maps as the value");
  /* A quoted "<<" is an ordinary key. */
  assert_int_equal (kd_node_get (kd_node_get (root0 (&q), "m"), "<<")->kind, KD_NODE_MAP);
  parsed_free (&p);
  parsed_free (&q);
}

static void
test_alias_bomb_is_refused_quickly (void **state)
{
  static const char bomb[] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                             "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                             "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                             "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                             "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                             "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                             "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                             "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                             "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
  struct timespec start;
  parsed_t p;

  clock_gettime (CLOCK_MONOTONIC, &start);
  p = parse (bomb);
  assert_true (elapsed (&start) < 1.0);
  assert_non_null (p.error);
  assert_non_null (strstr (p.error, "too many nodes after alias expansion (limit 200000)"));
  assert_true (kd_str_has_prefix (p.error, "t.yaml:6:"));
  parsed_free (&p);
}

/* ---- limits ---------------------------------------------------------------- */

static void
test_deep_nesting_is_refused (void **state)
{
  kd_buf_t b = { 0 };
  parsed_t p;
  int i;

  for (i = 0; i < 100000; i++)
    kd_buf_putc (&b, '[');
  p = parse (b.s);
  assert_string_equal (p.error, "t.yaml:1:65: exceeded max depth of 64");
  parsed_free (&p);
  kd_buf_free (&b);
}

static void
test_nesting_at_the_limit_is_accepted (void **state)
{
  kd_buf_t b = { 0 };
  parsed_t p;
  int i;

  for (i = 0; i < KD_MANIFEST_MAX_DEPTH; i++)
    kd_buf_putc (&b, '[');
  for (i = 0; i < KD_MANIFEST_MAX_DEPTH; i++)
    kd_buf_putc (&b, ']');
  p = parse (b.s);
  assert_null (p.error);
  assert_int_equal (p.n, 1);
  parsed_free (&p);
  kd_buf_free (&b);
}

static void
test_deep_nesting_through_an_alias_is_refused (void **state)
{
  kd_buf_t b = { 0 };
  parsed_t p;
  int i;

  kd_buf_puts (&b, "a: &a ");
  for (i = 0; i < 40; i++)
    kd_buf_putc (&b, '[');
  for (i = 0; i < 40; i++)
    kd_buf_putc (&b, ']');
  kd_buf_puts (&b, "\nb: ");
  for (i = 0; i < 30; i++)
    kd_buf_putc (&b, '[');
  kd_buf_puts (&b, "*a");
  for (i = 0; i < 30; i++)
    kd_buf_putc (&b, ']');
  p = parse (b.s);
  assert_string_equal (p.error, "t.yaml:2:34: exceeded max depth of 64");
  parsed_free (&p);
  kd_buf_free (&b);
}

static void
test_oversized_input_is_refused_before_parsing (void **state)
{
  size_t len = 11 * 1024 * 1024;
  char *big = xmalloc (len);
  parsed_t p;

  /* Not even valid YAML: the size check comes first. */
  memset (big, '\t', len);
  p = parse_n (big, len);
  assert_string_equal (p.error, "t.yaml: too large (11534336 bytes, limit 10485760)");
  parsed_free (&p);
  free (big);
}

static void
test_large_mapping_parses_in_linear_time (void **state)
{
  kd_buf_t b = { 0 };
  struct timespec start;
  parsed_t p;
  int i;

  kd_buf_puts (&b, "m:\n");
  for (i = 0; i < 90000; i++)
    kd_buf_printf (&b, "  key%d: %d\n", i, i);
  clock_gettime (CLOCK_MONOTONIC, &start);
  p = parse (b.s);
  assert_true (elapsed (&start) < 5.0);
  assert_int_equal (kd_node_get (root0 (&p), "m")->n, 90000);
  parsed_free (&p);

  /* ...and a duplicate in it is still found, at the right lines. */
  kd_buf_puts (&b, "  key7: again\n");
  p = parse (b.s);
  assert_string_equal (p.error, "t.yaml:90002:3: mapping key \"key7\" already defined at line 9");
  parsed_free (&p);
  kd_buf_free (&b);
}

/* ---- errors ------------------------------------------------------------------- */

static void
test_duplicate_key_names_both_lines (void **state)
{
  parsed_t p = parse ("metadata:\n  name: a\n  labels: {}\n  name: b\n");

  assert_string_equal (p.error, "t.yaml:4:3: mapping key \"name\" already defined at line 2");
  parsed_free (&p);
}

static void
test_duplicate_key_after_conversion_is_found (void **state)
{
  /* `on` and `true` are the same JSON key. */
  parsed_t p = parse ("on: 1\ntrue: 2\n");

  assert_string_equal (p.error, "t.yaml:2:1: mapping key \"true\" already defined at line 1");
  parsed_free (&p);
}

static void
test_tab_indentation_is_refused_with_position (void **state)
{
  parsed_t p = parse ("spec:\n\tcontainers: []\n");

  assert_string_equal (p.error, "t.yaml:2:1: found character that cannot start any token while "
                                "scanning for the next token");
  parsed_free (&p);
}

static void
test_invalid_utf8_is_refused_with_position (void **state)
{
  parsed_t p = parse ("a: 1\nbé: \xff\n");

  assert_string_equal (p.error, "t.yaml:2:5: invalid leading UTF-8 octet (byte 0xFF)");
  parsed_free (&p);
}

static void
test_truncated_file_is_refused (void **state)
{
  parsed_t p = parse ("a: 1\nb: \"unterminated\n");
  parsed_t q = parse ("a: [1, 2\n");

  assert_string_equal (p.error, "t.yaml:3:1: found unexpected end of stream while scanning a "
                                "quoted scalar started at line 2");
  assert_non_null (q.error);
  assert_true (kd_str_has_prefix (q.error, "t.yaml:2:1: "));
  parsed_free (&p);
  parsed_free (&q);
}

static void
test_bad_indentation_is_refused (void **state)
{
  parsed_t p = parse ("a: b\n  c: d\n");

  assert_string_equal (p.error, "t.yaml:2:4: mapping values are not allowed in this context");
  parsed_free (&p);
}

/* ---- documents -------------------------------------------------------------------- */

static void
test_multi_document_stream_skips_empty_documents (void **state)
{
  parsed_t p = parse ("---\n# nothing\n---\na: 1\n---\n---\nb: 2\n---\n");

  assert_null (p.error);
  assert_int_equal (p.n, 2);
  assert_int_equal (kd_node_get (kd_doc_root (p.docs[0]), "a")->i, 1);
  assert_int_equal (kd_node_get (kd_doc_root (p.docs[1]), "b")->line, 7);
  parsed_free (&p);
}

static void
test_empty_and_comment_only_streams_have_no_documents (void **state)
{
  parsed_t p = parse ("");
  parsed_t q = parse ("# just a comment\n\n");

  assert_null (p.error);
  assert_int_equal (p.n, 0);
  assert_null (q.error);
  assert_int_equal (q.n, 0);
  parsed_free (&p);
  parsed_free (&q);
}

/* ---- JSON ------------------------------------------------------------------------- */

static void
test_json_parses_with_positions (void **state)
{
  parsed_t p = parse ("{\"kind\": \"Pod\", \"spec\": {\"n\": [1, 2.5, true, null, \"x\"]}}");
  const kd_node_t *n = kd_node_find_path (root0 (&p), "spec.n");

  assert_int_equal (n->n, 5);
  assert_int_equal (n->items[0]->kind, KD_NODE_INT);
  assert_int_equal (n->items[1]->kind, KD_NODE_FLOAT);
  assert_int_equal (n->items[2]->kind, KD_NODE_BOOL);
  assert_int_equal (n->items[3]->kind, KD_NODE_NULL);
  assert_int_equal (n->items[4]->kind, KD_NODE_STRING);
  assert_int_equal (n->items[4]->col, 52);
  parsed_free (&p);
}

static void
test_json_with_tabs_parses_with_positions (void **state)
{
  parsed_t p = parse ("\t{\n\t\"kind\":\t\"Pod\",\n\t\"spec\": {\n\t\t\"a\": [1,\t2]\n\t}\n}\n");
  const kd_node_t *r = root0 (&p);
  const kd_node_t *a = kd_node_find_path (r, "spec.a");

  assert_string_equal (kd_node_get (r, "kind")->text, "Pod");
  assert_int_equal (kd_node_get (r, "kind")->line, 2);
  assert_int_equal (kd_node_get (r, "kind")->col, 10);
  assert_int_equal (a->items[1]->line, 4);
  assert_int_equal (a->items[1]->col, 12);
  parsed_free (&p);
}

static void
test_json_that_yaml_refuses_falls_back_to_jansson (void **state)
{
  /* A key over YAML's 1024-character limit and a ':' on the next line. */
  kd_buf_t b = { 0 };
  parsed_t p;
  const kd_node_t *r, *x;
  int i;

  kd_buf_puts (&b, "{\"");
  for (i = 0; i < 2000; i++)
    kd_buf_putc (&b, 'k');
  kd_buf_puts (&b, "\":\n  {\"x\"\n: [1, \"two\", true]}}");
  p = parse (b.s);
  r = root0 (&p);
  assert_int_equal (r->n, 1);
  assert_int_equal (r->keys[0]->text_len, 2000);
  x = kd_node_get (r->items[0], "x");
  assert_int_equal (x->kind, KD_NODE_SEQ);
  assert_int_equal (x->line, 3);
  assert_int_equal (x->col, 3);
  assert_int_equal (x->items[1]->line, 3);
  assert_int_equal (x->items[1]->col, 7);
  parsed_free (&p);
  kd_buf_free (&b);
}

static void
test_json_syntax_error_has_jansson_position (void **state)
{
  parsed_t p = parse ("{\n\t\"a\": 1,\n\t\"b\" 2\n}\n");

  assert_non_null (p.error);
  assert_true (kd_str_has_prefix (p.error, "t.yaml:3:"));
  parsed_free (&p);
}

static void
test_json_duplicate_key_is_refused (void **state)
{
  parsed_t p = parse ("{\"a\": 1,\n \"a\": 2}");

  assert_string_equal (p.error, "t.yaml:2:2: mapping key \"a\" already defined at line 1");
  parsed_free (&p);
}

static void
test_json_fallback_with_a_nul_byte_terminates (void **state)
{
  /* Found by the fuzzer: the position scan never moved past the NUL. */
  static const char text[] = "{\"k\"\n: 4\0}";
  parsed_t p = parse_n (text, sizeof (text) - 1);

  parsed_free (&p);
}

/* ---- the writer ------------------------------------------------------------------------ */

static char *
emit_to_string (const json_t *j)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);
  kd_error_t err = NULL;

  assert_non_null (f);
  assert_int_equal (kd_yaml_emit_json (j, f, &err), 0);
  fclose (f);
  return s;
}

static void
test_emit_quotes_strings_that_would_change_type (void **state)
{
  json_t *j = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:n,s:f,s:{},s:[]}",
                         "a", "true", "b", "123", "c", "", "d", "null", "e", "1e3", "f", "yes", "g",
                         "on", "h", "1:20", "i", "2024-01-02T03:04:05Z", "j", "plain words", "k",
                         "a: b", "n", 7, "t", 1, "z", "r", 0.5, "o", "l");
  cleanup_free char *y = emit_to_string (j);

  assert_string_equal (y, "a: \"true\"\n"
                          "b: \"123\"\n"
                          "c: \"\"\n"
                          "d: \"null\"\n"
                          "e: \"1e3\"\n"
                          "f: \"yes\"\n"
                          "g: \"on\"\n"
                          "h: \"1:20\"\n"
                          "i: \"2024-01-02T03:04:05Z\"\n"
                          "j: plain words\n"
                          "k: 'a: b'\n"
                          "\"n\": 7\n"
                          "t: true\n"
                          "z: null\n"
                          "r: 0.5\n"
                          "o: {}\n"
                          "l: []\n");
  json_decref (j);
}

static void
test_emit_block_style_like_kubectl (void **state)
{
  json_t *j = json_pack ("{s:s,s:{s:[{s:s,s:[s,s]}]},s:{s:s,s:s}}", "kind", "Pod", "spec",
                         "containers", "name", "web", "args", "sh", "-c", "notes", "text",
                         "line one\nline two\n", "short", "a\nb");
  cleanup_free char *y = emit_to_string (j);

  assert_string_equal (y, "kind: Pod\n"
                          "spec:\n"
                          "  containers:\n"
                          "  - name: web\n"
                          "    args:\n"
                          "    - sh\n"
                          "    - -c\n"
                          "notes:\n"
                          "  text: |\n"
                          "    line one\n"
                          "    line two\n"
                          "  short: |-\n"
                          "    a\n"
                          "    b\n");
  json_decref (j);
}

/* The document tree as JSON, to compare a round trip. */
static json_t *
node_to_json (const kd_node_t *n)
{
  json_t *j;
  size_t i;

  switch (n->kind)
    {
    case KD_NODE_MAP:
      j = json_object ();
      for (i = 0; i < n->n; i++)
        json_object_set_new (j, n->keys[i]->text, node_to_json (n->items[i]));
      return j;
    case KD_NODE_SEQ:
      j = json_array ();
      for (i = 0; i < n->n; i++)
        json_array_append_new (j, node_to_json (n->items[i]));
      return j;
    case KD_NODE_STRING:
      return json_stringn (n->text, n->text_len);
    case KD_NODE_INT:
      return json_integer (n->i);
    case KD_NODE_FLOAT:
      return json_real (n->f);
    case KD_NODE_BOOL:
      return json_boolean (n->b);
    default:
      return json_null ();
    }
}

static void
test_emit_round_trip (void **state)
{
  static const char *const samples[] = {
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"on\":"
    "\"yes\","
    "\"n\":\"0x1F\",\"e\":\"\",\"t\":\"~\",\"m\":\"<<\",\"h\":\"# not a comment\"},"
    "\"annotations\":{\"multi\":\"a\\nb\\n\\n\",\"trail\":\"x \\ny\",\"lead\":\"  x\",\"tab\":"
    "\"a\\tb\",\"u\":\"caf\\u00e9 \\u2603\",\"q\":\"it's \\\"quoted\\\"\",\"c\":\"a, b: c\","
    "\"dash\":\"- x\",\"nul\":\"a\\u0000b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"args\":[\"-c\",\"echo "
    "'hi'\",\"1.5\",\"08\",\"2024-01-01\"],\"ports\":[{\"containerPort\":80}"
    "]}],\"f\":[0.5,1e-07,1.5e+300,-2.25,123456.5],\"i\":[0,-1,9223372036854775807],\"b\":[true,"
    "false],\"z\":null,\"o\":{},\"l\":[]}}",
    "[1, \"two\", [\"three\"], {}]",
    "\"just a string\"",
  };
  size_t k;

  for (k = 0; k < KD_ARRAY_SIZE (samples); k++)
    {
      json_error_t jerr;
      json_t *in = json_loads (samples[k], JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
      cleanup_free char *y = NULL;
      json_t *back;
      parsed_t p;

      assert_non_null (in);
      y = emit_to_string (in);
      p = parse (y);
      if (p.error)
        fail_msg ("%s\n%s", p.error, y);
      back = node_to_json (root0 (&p));
      if (!json_equal (in, back))
        {
          cleanup_free char *a = json_dumps (in, JSON_ENCODE_ANY);
          cleanup_free char *b = json_dumps (back, JSON_ENCODE_ANY);

          fail_msg ("round trip changed the value:\n%s\n%s\nyaml:\n%s", a, b, y);
        }
      json_decref (back);
      json_decref (in);
      parsed_free (&p);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_plain_scalars_resolve_as_go_yaml_v2),
    cmocka_unit_test (test_nan_resolves_to_float),
    cmocka_unit_test (test_quoted_scalars_are_strings),
    cmocka_unit_test (test_explicit_tags_are_honoured),
    cmocka_unit_test (test_tag_that_does_not_fit_is_an_error),
    cmocka_unit_test (test_keys_become_json_strings),
    cmocka_unit_test (test_null_and_collection_keys_are_refused),
    cmocka_unit_test (test_positions_are_one_based),
    cmocka_unit_test (test_alias_shares_the_anchored_node),
    cmocka_unit_test (test_unknown_alias_is_an_error),
    cmocka_unit_test (test_anchors_do_not_cross_documents),
    cmocka_unit_test (test_merge_key_explicit_keys_win),
    cmocka_unit_test (test_merge_key_sequence_earlier_wins),
    cmocka_unit_test (test_merge_of_a_scalar_is_an_error),
    cmocka_unit_test (test_alias_bomb_is_refused_quickly),
    cmocka_unit_test (test_deep_nesting_is_refused),
    cmocka_unit_test (test_nesting_at_the_limit_is_accepted),
    cmocka_unit_test (test_deep_nesting_through_an_alias_is_refused),
    cmocka_unit_test (test_oversized_input_is_refused_before_parsing),
    cmocka_unit_test (test_large_mapping_parses_in_linear_time),
    cmocka_unit_test (test_duplicate_key_names_both_lines),
    cmocka_unit_test (test_duplicate_key_after_conversion_is_found),
    cmocka_unit_test (test_tab_indentation_is_refused_with_position),
    cmocka_unit_test (test_invalid_utf8_is_refused_with_position),
    cmocka_unit_test (test_truncated_file_is_refused),
    cmocka_unit_test (test_bad_indentation_is_refused),
    cmocka_unit_test (test_multi_document_stream_skips_empty_documents),
    cmocka_unit_test (test_empty_and_comment_only_streams_have_no_documents),
    cmocka_unit_test (test_json_parses_with_positions),
    cmocka_unit_test (test_json_with_tabs_parses_with_positions),
    cmocka_unit_test (test_json_that_yaml_refuses_falls_back_to_jansson),
    cmocka_unit_test (test_json_syntax_error_has_jansson_position),
    cmocka_unit_test (test_json_duplicate_key_is_refused),
    cmocka_unit_test (test_json_fallback_with_a_nul_byte_terminates),
    cmocka_unit_test (test_emit_quotes_strings_that_would_change_type),
    cmocka_unit_test (test_emit_block_style_like_kubectl),
    cmocka_unit_test (test_emit_round_trip),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
