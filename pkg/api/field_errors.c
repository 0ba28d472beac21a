/* Field errors in the spelling of k8s.io/apimachinery/pkg/util/validation/field,
   with source positions so a manifest's author can find the line. */

#include <inttypes.h>

#include "kubeletd/api.h"

kd_field_error_t *
kd_fe_add (kd_field_errors_t *errs, kd_fe_type_t type, const char *field, const char *value,
           const char *detail_fmt, ...)
{
  kd_field_error_t *e;

  kd_grow ((void **) &errs->v, &errs->cap, errs->n, sizeof (kd_field_error_t));
  e = &errs->v[errs->n++];
  memset (e, 0, sizeof (*e));
  e->type = type;
  e->field = xstrdup (field ? field : "");
  e->value = value ? xstrdup (value) : NULL;
  if (detail_fmt)
    {
      va_list ap;

      va_start (ap, detail_fmt);
      if (vasprintf (&e->detail, detail_fmt, ap) < 0)
        abort ();
      va_end (ap);
    }
  return e;
}

/* Go's strconv.Quote for the common cases: the short escapes, \xNN for other
   control bytes and for bytes that are not valid UTF-8; valid multi-byte
   sequences are kept as they are. */
char *
kd_fe_quote (const char *s)
{
  kd_buf_t b = { 0 };
  const unsigned char *p = (const unsigned char *) (s ? s : "");

  kd_buf_putc (&b, '"');
  while (*p)
    {
      unsigned char c = *p;
      size_t len = 0;

      switch (c)
        {
        case '"':
          kd_buf_puts (&b, "\\\"");
          p++;
          continue;
        case '\\':
          kd_buf_puts (&b, "\\\\");
          p++;
          continue;
        case '\a':
          kd_buf_puts (&b, "\\a");
          p++;
          continue;
        case '\b':
          kd_buf_puts (&b, "\\b");
          p++;
          continue;
        case '\f':
          kd_buf_puts (&b, "\\f");
          p++;
          continue;
        case '\n':
          kd_buf_puts (&b, "\\n");
          p++;
          continue;
        case '\r':
          kd_buf_puts (&b, "\\r");
          p++;
          continue;
        case '\t':
          kd_buf_puts (&b, "\\t");
          p++;
          continue;
        case '\v':
          kd_buf_puts (&b, "\\v");
          p++;
          continue;
        default:
          break;
        }
      if (c >= 0x20 && c < 0x7f)
        {
          kd_buf_putc (&b, (char) c);
          p++;
          continue;
        }
      if (c >= 0xc2 && c <= 0xdf)
        len = 2;
      else if (c >= 0xe0 && c <= 0xef)
        len = 3;
      else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
      if (len)
        {
          size_t i;

          for (i = 1; i < len; i++)
            if ((p[i] & 0xc0) != 0x80)
              break;
          /* Reject overlong and surrogate forms like Go's utf8 decoder. */
          if (i == len && !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0)
              && !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90))
            {
              kd_buf_append (&b, (const char *) p, len);
              p += len;
              continue;
            }
        }
      kd_buf_printf (&b, "\\x%02x", c);
      p++;
    }
  kd_buf_putc (&b, '"');
  return kd_buf_steal (&b);
}

char *
kd_fe_int (int64_t v)
{
  return xasprintf ("%" PRId64, v);
}

size_t
kd_fe_count_errors (const kd_field_errors_t *errs)
{
  size_t i, n = 0;

  for (i = 0; i < errs->n; i++)
    if (errs->v[i].type != KD_FE_WARNING)
      n++;
  return n;
}

void
kd_fe_locate (kd_field_errors_t *errs, const kd_node_t *root)
{
  size_t i;

  if (root == NULL)
    return;
  for (i = 0; i < errs->n; i++)
    {
      kd_field_error_t *e = &errs->v[i];
      const kd_node_t *n;

      if (e->line > 0 || e->field == NULL || e->field[0] == '\0')
        continue;
      n = kd_node_find_path (root, e->field);
      if (n && n->line > 0)
        {
          e->line = n->line;
          e->col = n->col;
        }
    }
}

/* ErrorType.String () of the Go package. KD_FE_NOT_SUPPORTED and
   KD_FE_UNSUPPORTED are both field.ErrorTypeNotSupported there, which reads
   "Unsupported value". */
static const char *
fe_type_string (kd_fe_type_t t)
{
  switch (t)
    {
    case KD_FE_REQUIRED:
      return "Required value";
    case KD_FE_INVALID:
      return "Invalid value";
    case KD_FE_UNSUPPORTED:
    case KD_FE_NOT_SUPPORTED:
      return "Unsupported value";
    case KD_FE_DUPLICATE:
      return "Duplicate value";
    case KD_FE_FORBIDDEN:
      return "Forbidden";
    case KD_FE_TOO_LONG:
      return "Too long";
    case KD_FE_TOO_MANY:
      return "Too many";
    case KD_FE_NOT_FOUND:
      return "Not found";
    case KD_FE_WARNING:
    default:
      return "Warning";
    }
}

char *
kd_fe_format (const kd_field_error_t *e, const char *file)
{
  kd_buf_t b = { 0 };
  bool has_detail = e->detail && e->detail[0];

  if (file && e->line > 0)
    kd_buf_printf (&b, "%s:%d:%d: ", file, e->line, e->col);
  else if (file)
    kd_buf_printf (&b, "%s: ", file);
  else if (e->line > 0)
    kd_buf_printf (&b, "%d:%d: ", e->line, e->col);

  if (e->type == KD_FE_WARNING)
    {
      kd_buf_puts (&b, "warning: ");
      kd_buf_puts (&b, has_detail ? e->detail : e->field);
      return kd_buf_steal (&b);
    }

  kd_buf_printf (&b, "%s: %s", e->field ? e->field : "", fe_type_string (e->type));
  switch (e->type)
    {
    case KD_FE_REQUIRED:
    case KD_FE_FORBIDDEN:
    case KD_FE_TOO_LONG:
      /* These never show the value, only the detail. */
      break;
    default:
      /* NULL is Go's omitValue: the body is the type alone. */
      if (e->value)
        kd_buf_printf (&b, ": %s", e->value);
      break;
    }
  if (has_detail)
    kd_buf_printf (&b, ": %s", e->detail);
  return kd_buf_steal (&b);
}

void
kd_fe_free (kd_field_errors_t *errs)
{
  size_t i;

  if (errs == NULL)
    return;
  for (i = 0; i < errs->n; i++)
    {
      free (errs->v[i].field);
      free (errs->v[i].value);
      free (errs->v[i].detail);
    }
  free (errs->v);
  errs->v = NULL;
  errs->n = errs->cap = 0;
}
