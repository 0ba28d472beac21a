/* YAML 1.1 scalar resolution as go-yaml v2 (under sigs.k8s.io/yaml) does it,
   so that `enabled: yes`, `port: 0x1F90` and `mode: 0644` mean here what they
   mean to the kubelet and kubectl.

   The order of the tests matters and follows go-yaml's resolve (): a table of
   fixed words first, then, by the first character, integers (Go's ParseInt
   with base prefixes, after dropping every '_'), unsigned integers, and
   decimal floats; everything else is a string. Timestamps resolve to strings
   when decoding into untyped values, but the writer must still quote them. */

#include <math.h>

#include "manifest-internal.h"

#define LONG_TAG_PREFIX "tag:yaml.org,2002:"

enum
{
  WORD_NULL,
  WORD_TRUE,
  WORD_FALSE,
  WORD_NAN,
  WORD_INF,
  WORD_NEG_INF,
};

static const struct
{
  const char *s;
  int what;
} words[] = {
  { "y", WORD_TRUE },        { "Y", WORD_TRUE },        { "yes", WORD_TRUE },
  { "Yes", WORD_TRUE },      { "YES", WORD_TRUE },      { "true", WORD_TRUE },
  { "True", WORD_TRUE },     { "TRUE", WORD_TRUE },     { "on", WORD_TRUE },
  { "On", WORD_TRUE },       { "ON", WORD_TRUE },       { "n", WORD_FALSE },
  { "N", WORD_FALSE },       { "no", WORD_FALSE },      { "No", WORD_FALSE },
  { "NO", WORD_FALSE },      { "false", WORD_FALSE },   { "False", WORD_FALSE },
  { "FALSE", WORD_FALSE },   { "off", WORD_FALSE },     { "Off", WORD_FALSE },
  { "OFF", WORD_FALSE },     { "", WORD_NULL },         { "~", WORD_NULL },
  { "null", WORD_NULL },     { "Null", WORD_NULL },     { "NULL", WORD_NULL },
  { ".nan", WORD_NAN },      { ".NaN", WORD_NAN },      { ".NAN", WORD_NAN },
  { ".inf", WORD_INF },      { ".Inf", WORD_INF },      { ".INF", WORD_INF },
  { "+.inf", WORD_INF },     { "+.Inf", WORD_INF },     { "+.INF", WORD_INF },
  { "-.inf", WORD_NEG_INF }, { "-.Inf", WORD_NEG_INF }, { "-.INF", WORD_NEG_INF },
};

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

/* Go's strconv.ParseUint (s, 0, 64): "0x", "0o", "0b" prefixes (any case),
   a leading "0" means octal; no sign, no underscores (already removed). */
static bool
go_parse_uint (const char *s, size_t len, uint64_t *out)
{
  unsigned base = 10;
  uint64_t v = 0;
  size_t i;

  if (len == 0)
    return false;
  if (s[0] == '0')
    {
      char c = len >= 3 ? (char) (s[1] | 0x20) : 0;

      base = c == 'b' ? 2 : c == 'o' ? 8 : c == 'x' ? 16 : 8;
      i = (c == 'b' || c == 'o' || c == 'x') ? 2 : 1;
      s += i;
      len -= i;
    }
  for (i = 0; i < len; i++)
    {
      char c = s[i];
      unsigned d;

      if (is_digit (c))
        d = (unsigned) (c - '0');
      else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        d = (unsigned) ((c | 0x20) - 'a' + 10);
      else
        return false;
      if (d >= base)
        return false;
      if (v > (UINT64_MAX - d) / base)
        return false;
      v = v * base + d;
    }
  *out = v;
  return true;
}

/* Go's strconv.ParseInt (s, 0, 64). */
static bool
go_parse_int (const char *s, size_t len, int64_t *out)
{
  bool neg = false;
  uint64_t u;

  if (len > 0 && (s[0] == '+' || s[0] == '-'))
    {
      neg = s[0] == '-';
      s++;
      len--;
    }
  if (!go_parse_uint (s, len, &u))
    return false;
  if (!neg && u > (uint64_t) INT64_MAX)
    return false;
  if (neg && u > (uint64_t) INT64_MAX + 1)
    return false;
  *out = neg ? (int64_t) (0 - u) : (int64_t) u;
  return true;
}

static size_t
skip_digits (const char *s, size_t i, size_t len)
{
  while (i < len && is_digit (s[i]))
    i++;
  return i;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool
yaml_style_float (const char *s, size_t len)
{
  size_t i = 0, j;

  if (i < len && (s[i] == '+' || s[i] == '-'))
    i++;
  if (i < len && s[i] == '.')
    {
      j = skip_digits (s, i + 1, len);
      if (j == i + 1)
        return false;
      i = j;
    }
  else
    {
      j = skip_digits (s, i, len);
      if (j == i)
        return false;
      i = j;
      if (i < len && s[i] == '.')
        i = skip_digits (s, i + 1, len);
    }
  if (i < len && (s[i] == 'e' || s[i] == 'E'))
    {
      i++;
      if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
      j = skip_digits (s, i, len);
      if (j == i)
        return false;
      i = j;
    }
  return i == len;
}

/* strtod over a bounded copy; false when Go's ParseFloat would report a range
   error (the value overflows to an infinity). */
static bool
parse_double (const char *s, size_t len, double *out)
{
  char tmp[128];
  cleanup_free char *big = NULL;
  char *p = tmp;

  if (len >= sizeof (tmp))
    p = big = xmalloc (len + 1);
  memcpy (p, s, len);
  p[len] = '\0';
  *out = strtod (p, NULL);
  return !isinf (*out);
}

/* Up to two digits (Go's getnum with fixed=false). */
static bool
ts_num (const char *s, size_t len, size_t *i, int *v)
{
  if (*i >= len || !is_digit (s[*i]))
    return false;
  *v = s[(*i)++] - '0';
  if (*i < len && is_digit (s[*i]))
    *v = *v * 10 + (s[(*i)++] - '0');
  return true;
}

static int
days_in_month (int year, int month)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

  return month == 2 && leap ? 29 : days[month - 1];
}

/* go-yaml v2's parseTimestamp: "2006-1-2", "2006-1-2T15:4:5.999999999Z07:00"
   (T or t), "2006-1-2 15:4:5.999999999", with Go's range checks. */
static bool
is_timestamp (const char *s, size_t len)
{
  size_t i = 0;
  int year = 0, month, day, hour, min, sec;
  bool zone;
  char sep;

  for (i = 0; i < len && i < 5 && is_digit (s[i]); i++)
    year = year * 10 + (s[i] - '0');
  if (i != 4 || i == len || s[i] != '-')
    return false;
  i++;
  if (!ts_num (s, len, &i, &month) || i >= len || s[i++] != '-' || !ts_num (s, len, &i, &day))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month (year, month))
    return false;
  if (i == len)
    return true;
  sep = s[i++];
  if (sep != 'T' && sep != 't' && sep != ' ')
    return false;
  zone = sep != ' ';
  if (!ts_num (s, len, &i, &hour) || i >= len || s[i++] != ':' || !ts_num (s, len, &i, &min)
      || i >= len || s[i++] != ':' || !ts_num (s, len, &i, &sec))
    return false;
  if (hour > 23 || min > 59 || sec > 59)
    return false;
  if (i + 1 < len && (s[i] == '.' || s[i] == ',') && is_digit (s[i + 1]))
    i = skip_digits (s, i + 1, len);
  if (!zone)
    return i == len;
  if (i < len && s[i] == 'Z')
    return i + 1 == len;
  /* ±hh:mm */
  if (len - i != 6 || (s[i] != '+' && s[i] != '-') || !is_digit (s[i + 1]) || !is_digit (s[i + 2])
      || s[i + 3] != ':' || !is_digit (s[i + 4]) || !is_digit (s[i + 5]))
    return false;
  return (s[i + 1] - '0') * 10 + (s[i + 2] - '0') <= 24
         && (s[i + 4] - '0') * 10 + (s[i + 5] - '0') <= 59;
}

static void
set_string (kd_scalar_t *out)
{
  memset (out, 0, sizeof (*out));
  out->kind = KD_NODE_STRING;
}

/* go-yaml's resolve () for the "" tag (timestamp_ok) or a typed tag. */
static void
resolve (const char *s, size_t len, bool timestamp_ok, kd_scalar_t *out)
{
  char hint;
  size_t k, n;
  cleanup_free char *plain = NULL;

  set_string (out);
  if (len == 0)
    hint = 'N';
  else if (s[0] == '+' || s[0] == '-')
    hint = 'S';
  else if (is_digit (s[0]))
    hint = 'D';
  else if (strchr ("yYnNtTfFoO~", s[0]))
    hint = 'M';
  else if (s[0] == '.')
    hint = '.';
  else
    return;

  for (k = 0; k < KD_ARRAY_SIZE (words); k++)
    if (strlen (words[k].s) == len && memcmp (words[k].s, s, len) == 0)
      {
        switch (words[k].what)
          {
          case WORD_NULL:
            out->kind = KD_NODE_NULL;
            break;
          case WORD_TRUE:
          case WORD_FALSE:
            out->kind = KD_NODE_BOOL;
            out->b = words[k].what == WORD_TRUE;
            break;
          case WORD_NAN:
            out->kind = KD_NODE_FLOAT;
            out->f = NAN;
            break;
          default:
            out->kind = KD_NODE_FLOAT;
            out->f = words[k].what == WORD_INF ? INFINITY : -INFINITY;
            break;
          }
        return;
      }

  if (hint == '.')
    {
      /* Go's ParseFloat on the text as is: ".5", ".5e3". */
      if (yaml_style_float (s, len) && parse_double (s, len, &out->f))
        out->kind = KD_NODE_FLOAT;
      return;
    }
  if (hint != 'D' && hint != 'S')
    return;

  if (timestamp_ok && is_timestamp (s, len))
    {
      out->timestamp = true;
      return;
    }
  plain = xmalloc (len + 1);
  for (k = 0, n = 0; k < len; k++)
    if (s[k] != '_')
      plain[n++] = s[k];
  plain[n] = '\0';
  if (go_parse_int (plain, n, &out->i))
    {
      out->kind = KD_NODE_INT;
      out->f = (double) out->i;
      return;
    }
  if (go_parse_uint (plain, n, &out->u))
    {
      out->kind = KD_NODE_INT;
      out->is_uint = true;
      out->f = (double) out->u;
      return;
    }
  if (yaml_style_float (plain, n) && parse_double (plain, n, &out->f))
    out->kind = KD_NODE_FLOAT;
}

void
kd_yaml_resolve_plain (const char *s, size_t len, kd_scalar_t *out)
{
  resolve (s, len, true, out);
  if (out->kind == KD_NODE_STRING && len == 2 && s[0] == '<' && s[1] == '<')
    out->merge = true;
}

bool
kd_yaml_resolve_tagged (const char *tag, const char *s, size_t len, kd_scalar_t *out)
{
  static const struct
  {
    const char *name;
    kd_node_kind_t kind;
  } typed[] = {
    { "null", KD_NODE_NULL },   { "bool", KD_NODE_BOOL },        { "int", KD_NODE_INT },
    { "float", KD_NODE_FLOAT }, { "timestamp", KD_NODE_STRING },
  };
  const char *short_tag;
  size_t k;

  set_string (out);
  if (tag == NULL || !kd_str_has_prefix (tag, LONG_TAG_PREFIX))
    return true; /* local and unknown tags keep the text */
  short_tag = tag + strlen (LONG_TAG_PREFIX);
  if (strcmp (short_tag, "merge") == 0)
    {
      out->merge = len == 2 && s[0] == '<' && s[1] == '<';
      return true;
    }
  for (k = 0; k < KD_ARRAY_SIZE (typed); k++)
    if (strcmp (short_tag, typed[k].name) == 0)
      break;
  if (k == KD_ARRAY_SIZE (typed))
    return true; /* !!str, !!binary, !!map on a scalar...: a string */

  if (typed[k].kind == KD_NODE_STRING)
    {
      /* !!timestamp: only a timestamp may carry it. */
      resolve (s, len, true, out);
      return out->kind == KD_NODE_STRING && out->timestamp;
    }
  resolve (s, len, false, out);
  if (out->kind == typed[k].kind)
    return true;
  if (typed[k].kind == KD_NODE_FLOAT && out->kind == KD_NODE_INT)
    {
      out->kind = KD_NODE_FLOAT;
      out->is_uint = false;
      return true;
    }
  return false;
}

void
kd_yaml_format_float (double v, int bits, char *buf, size_t size)
{
  char tmp[64];
  int prec, exp;
  const char *e;

  if (isnan (v))
    {
      snprintf (buf, size, ".nan");
      return;
    }
  if (isinf (v))
    {
      snprintf (buf, size, "%s", v > 0 ? ".inf" : "-.inf");
      return;
    }
  if (bits == 32)
    v = (float) v;
  if (v == 0)
    {
      snprintf (buf, size, "%s", signbit (v) ? "-0" : "0");
      return;
    }
  /* The fewest significant digits that read back as the same value. */
  for (prec = 1; prec < 17; prec++)
    {
      snprintf (tmp, sizeof (tmp), "%.*e", prec - 1, v);
      if (bits == 32 ? strtof (tmp, NULL) == (float) v : strtod (tmp, NULL) == v)
        break;
    }
  snprintf (tmp, sizeof (tmp), "%.*e", prec - 1, v);
  e = strchr (tmp, 'e');
  exp = e ? atoi (e + 1) : 0;
  /* Go's %g with the shortest precision switches to an exponent below 1e-4
     and from 1e+06 up ("1.234567e+06"); C's rule differs, so decide here. */
  if (exp < -4 || exp >= 6)
    snprintf (buf, size, "%s", tmp);
  else
    snprintf (buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
bool
kd_yaml_is_base60_float (const char *s)
{
  size_t i = 0, groups = 0;

  if (s[i] == '+' || s[i] == '-')
    i++;
  if (!is_digit (s[i]))
    return false;
  while (is_digit (s[i]) || s[i] == '_')
    i++;
  while (s[i] == ':')
    {
      i++;
      if (s[i] >= '0' && s[i] <= '5' && is_digit (s[i + 1]))
        i += 2;
      else if (is_digit (s[i]))
        i++;
      else
        return false;
      groups++;
    }
  if (groups == 0)
    return false;
  if (s[i] == '.')
    {
      i++;
      while (is_digit (s[i]) || s[i] == '_')
        i++;
    }
  return s[i] == '\0';
}
