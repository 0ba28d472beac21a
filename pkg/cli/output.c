/* -o json|yaml|wide: the output formats, printed the way kubectl prints them. */
#include "kubeletd/cli.h"
#include "kubeletd/manifest.h"

int
kd_cli_parse_output (const char *s, unsigned allow, kd_output_t *out, kd_error_t *err)
{
  if (s == NULL || *s == '\0')
    *out = KD_OUTPUT_TABLE;
  else if (strcmp (s, "json") == 0)
    *out = KD_OUTPUT_JSON;
  else if (strcmp (s, "yaml") == 0)
    *out = KD_OUTPUT_YAML;
  else if (strcmp (s, "wide") == 0 && (allow & KD_ALLOW_WIDE))
    *out = KD_OUTPUT_WIDE;
  else
    return kd_make_error (err, 0,
                          "unable to match a printer suitable for the output format \"%s\", "
                          "allowed formats are: %s",
                          s, (allow & KD_ALLOW_WIDE) ? "json,wide,yaml" : "json,yaml");
  return 0;
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

json_t *
kd_json_sorted (const json_t *j)
{
  json_t *r;
  size_t i, n;

  if (json_is_object (j))
    {
      const char *key;
      json_t *v;
      cleanup_free const char **keys = NULL;

      /* Go marshals maps (kubectl prints unstructured objects) in key order. */
      n = json_object_size (j);
      keys = xcalloc (n + 1, sizeof (*keys));
      i = 0;
      json_object_foreach ((json_t *) j, key, v) keys[i++] = key;
      qsort (keys, n, sizeof (*keys), cmp_keys);
      r = json_object ();
      for (i = 0; i < n; i++)
        json_object_set_new (r, keys[i], kd_json_sorted (json_object_get (j, keys[i])));
      return r;
    }
  if (json_is_array (j))
    {
      r = json_array ();
      n = json_array_size (j);
      for (i = 0; i < n; i++)
        json_array_append_new (r, kd_json_sorted (json_array_get (j, i)));
      return r;
    }
  return json_deep_copy (j);
}

/* Go's encoder (and so kubectl -o json) writes <, >, & and the line
   separators U+2028/U+2029 as \u escapes. They can only occur inside JSON
   strings, so replacing them everywhere is exact. */
static char *
go_html_escape (const char *s)
{
  kd_buf_t b = { 0 };

  for (; *s; s++)
    {
      if (*s == '<' || *s == '>' || *s == '&')
        kd_buf_printf (&b, "\\u%04x", (unsigned) *s);
      else if ((unsigned char) s[0] == 0xE2 && (unsigned char) s[1] == 0x80
               && ((unsigned char) s[2] == 0xA8 || (unsigned char) s[2] == 0xA9))
        {
          kd_buf_printf (&b, "\\u%s", (unsigned char) s[2] == 0xA8 ? "2028" : "2029");
          s += 2;
        }
      else
        kd_buf_putc (&b, *s);
    }
  return kd_buf_steal (&b);
}

int
kd_cli_print_json (const json_t *j, kd_output_t fmt, int indent, FILE *out, kd_error_t *err)
{
  json_t *sorted = kd_json_sorted (j);
  int r = 0;

  if (fmt == KD_OUTPUT_YAML)
    r = kd_yaml_emit_json (sorted, out, err);
  else
    {
      cleanup_free char *text = json_dumps (sorted, JSON_INDENT (indent) | JSON_ENCODE_ANY);
      cleanup_free char *escaped = text ? go_html_escape (text) : NULL;

      if (escaped == NULL)
        r = kd_make_error (err, ENOMEM, "encode JSON");
      else if (fputs (escaped, out) == EOF || fputc ('\n', out) == EOF)
        r = kd_make_error (err, errno, "write JSON");
    }
  json_decref (sorted);
  return r;
}

json_t *
kd_cli_list (json_t *items)
{
  return json_pack ("{s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind", "List",
                    "metadata", "resourceVersion", "");
}
