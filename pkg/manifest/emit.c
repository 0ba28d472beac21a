/* JSON to YAML for `-o yaml`, as kubectl prints it (sigs.k8s.io/yaml over
   go-yaml v2, which is libyaml's emitter ported to Go): block style, lists
   under a key not indented, empty collections as {} and [], a string that
   would read back as another type ("true", "123", "null", "", "1e3", "yes",
   "on", a timestamp, base-60 "1:20") double-quoted, a multi-line string as a
   literal block, floats in Go's shortest 'g' form. Keys keep the JSON's order
   (jansson keeps insertion order). */

#include <yaml.h>

#include "manifest-internal.h"

/* Recursion guard: far deeper than any API object. */
#define EMIT_MAX_DEPTH 512

static int
emit (yaml_emitter_t *e, yaml_event_t *ev, kd_error_t *err)
{
  if (!yaml_emitter_emit (e, ev))
    return kd_make_error (err, 0, "emit yaml: %s", e->problem ? e->problem : "unknown error");
  return 0;
}

/* go-yaml v2's choice: literal for multi-line text, plain when the text
   reads back as the same string, double-quoted otherwise. libyaml still
   falls back to quoting when plain or literal cannot carry the text. */
static yaml_scalar_style_t
string_style (const char *s, size_t len)
{
  kd_scalar_t res;

  if (memchr (s, '\n', len))
    return YAML_LITERAL_SCALAR_STYLE;
  kd_yaml_resolve_plain (s, len, &res);
  if (res.kind != KD_NODE_STRING || res.timestamp || res.merge
      || (strlen (s) == len && kd_yaml_is_base60_float (s)))
    return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  return YAML_PLAIN_SCALAR_STYLE;
}

static int
emit_scalar (yaml_emitter_t *e, const char *s, size_t len, yaml_scalar_style_t style,
             kd_error_t *err)
{
  yaml_event_t ev;

  if (!yaml_scalar_event_initialize (&ev, NULL, NULL, (yaml_char_t *) s, (int) len, 1, 1, style))
    abort ();
  return emit (e, &ev, err);
}

static int
emit_string (yaml_emitter_t *e, const char *s, size_t len, kd_error_t *err)
{
  return emit_scalar (e, s, len, string_style (s, len), err);
}

static int
emit_value (yaml_emitter_t *e, const json_t *j, int depth, kd_error_t *err)
{
  yaml_event_t ev;
  char buf[64];

  if (depth > EMIT_MAX_DEPTH)
    return kd_make_error (err, 0, "emit yaml: nested deeper than %d levels", EMIT_MAX_DEPTH);
  switch (json_typeof (j))
    {
    case JSON_OBJECT:
      {
        const char *key;
        json_t *value;

        if (!yaml_mapping_start_event_initialize (&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
          abort ();
        if (emit (e, &ev, err) < 0)
          return -1;
        json_object_foreach ((json_t *) j, key, value)
        {
          if (emit_string (e, key, strlen (key), err) < 0
              || emit_value (e, value, depth + 1, err) < 0)
            return -1;
        }
        if (!yaml_mapping_end_event_initialize (&ev))
          abort ();
        return emit (e, &ev, err);
      }
    case JSON_ARRAY:
      {
        size_t i;
        json_t *value;

        if (!yaml_sequence_start_event_initialize (&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
          abort ();
        if (emit (e, &ev, err) < 0)
          return -1;
        json_array_foreach ((json_t *) j, i, value)
        {
          if (emit_value (e, value, depth + 1, err) < 0)
            return -1;
        }
        if (!yaml_sequence_end_event_initialize (&ev))
          abort ();
        return emit (e, &ev, err);
      }
    case JSON_STRING:
      return emit_string (e, json_string_value (j), json_string_length (j), err);
    case JSON_INTEGER:
      snprintf (buf, sizeof (buf), "%" JSON_INTEGER_FORMAT, json_integer_value (j));
      break;
    case JSON_REAL:
      kd_yaml_format_float (json_real_value (j), 64, buf, sizeof (buf));
      break;
    case JSON_TRUE:
      snprintf (buf, sizeof (buf), "true");
      break;
    case JSON_FALSE:
      snprintf (buf, sizeof (buf), "false");
      break;
    case JSON_NULL:
    default:
      snprintf (buf, sizeof (buf), "null");
      break;
    }
  return emit_scalar (e, buf, strlen (buf), YAML_PLAIN_SCALAR_STYLE, err);
}

int
kd_yaml_emit_json (const json_t *json, FILE *out, kd_error_t *err)
{
  yaml_emitter_t e;
  yaml_event_t ev;
  int r = -1;

  if (json == NULL)
    return kd_make_error (err, EINVAL, "emit yaml: no value");
  if (!yaml_emitter_initialize (&e))
    abort ();
  yaml_emitter_set_output_file (&e, out);
  yaml_emitter_set_unicode (&e, 1);
  yaml_emitter_set_indent (&e, 2);

  if (!yaml_stream_start_event_initialize (&ev, YAML_UTF8_ENCODING))
    abort ();
  if (emit (&e, &ev, err) < 0)
    goto out;
  if (!yaml_document_start_event_initialize (&ev, NULL, NULL, NULL, 1))
    abort ();
  if (emit (&e, &ev, err) < 0)
    goto out;
  if (emit_value (&e, json, 0, err) < 0)
    goto out;
  if (!yaml_document_end_event_initialize (&ev, 1))
    abort ();
  if (emit (&e, &ev, err) < 0)
    goto out;
  if (!yaml_stream_end_event_initialize (&ev))
    abort ();
  if (emit (&e, &ev, err) < 0)
    goto out;
  if (!yaml_emitter_flush (&e))
    {
      kd_make_error (err, errno, "emit yaml: write");
      goto out;
    }
  r = 0;
out:
  /* The emitter owns nothing of the caller's; delete frees its queues. */
  yaml_emitter_delete (&e);
  return r;
}
