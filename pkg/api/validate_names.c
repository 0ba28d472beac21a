/* validate_names: Kubernetes' format checks (k8s.io/apimachinery
 * pkg/util/validation) and the helpers that turn them into field errors.
 *
 * The regexes are matched by hand: each checker is a direct reading of the
 * regex Kubernetes prints in its message, so the message and the check cannot
 * drift apart.
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "validate-internal.h"

#define DNS1123_LABEL_FMT    "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_US_FMT "_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
#define QNAME_CHAR_FMT       "[A-Za-z0-9]"
#define QNAME_EXT_FMT        "[-A-Za-z0-9_.]"
#define QNAME_FMT            "(" QNAME_CHAR_FMT QNAME_EXT_FMT "*)?" QNAME_CHAR_FMT
#define QNAME_MSG                                                                                  \
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "      \
  "alphanumeric character"
#define QNAME_EXAMPLES "(e.g. 'MyName',  or 'my.name',  or '123-abc', "

static const char dns1123_label_msg[]
    = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
      "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
      "used for validation is '" DNS1123_LABEL_FMT "')";

static const char dns1123_subdomain_msg[]
    = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
      "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
      "for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')";

static const char dns1123_subdomain_us_msg[]
    = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', "
      "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
      "regex used for validation is '" DNS1123_LABEL_US_FMT "(\\." DNS1123_LABEL_US_FMT ")*')";

static const char label_value_msg[]
    = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
      "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
      "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')";

static const char http_header_msg[]
    = "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', "
      "regex used for validation is '[-A-Za-z0-9]+')";

const char kd_sysctl_regex[] = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-"
                               "9])?$";

/* ---- kd_msgs_t ------------------------------------------------------- */

void
kd_msgs_add (kd_msgs_t *m, const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;

  if (m->n >= KD_ARRAY_SIZE (m->v))
    return;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  m->v[m->n++] = s;
}

void
kd_msgs_free (kd_msgs_t *m)
{
  for (size_t i = 0; i < m->n; i++)
    free (m->v[i]);
  m->n = 0;
}

/* ---- regex readings ---------------------------------------------------- */

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum (char c)
{
  return is_lower_alnum (c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) ; with `us`, the
   _?[a-z0-9]([-_a-z0-9]*[a-z0-9])? form. */
static bool
match_label (const char *s, size_t n, bool us)
{
  if (us && n > 0 && s[0] == '_')
    {
      s++;
      n--;
    }
  if (n == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_lower_alnum (s[i]) && s[i] != '-' && !(us && s[i] == '_'))
      return false;
  return true;
}

static bool
match_subdomain (const char *s, bool us)
{
  const char *p = s;

  for (;;)
    {
      const char *dot = strchr (p, '.');
      size_t n = dot ? (size_t) (dot - p) : strlen (p);

      if (!match_label (p, n, us))
        return false;
      if (dot == NULL)
        return true;
      p = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool
match_qname_part (const char *s, size_t n)
{
  if (n == 0 || !is_alnum (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

/* ---- explanation producers ---------------------------------------------- */

void
kd_msgs_dns1123_label (const char *s, kd_msgs_t *m)
{
  size_t n = strlen (s);

  if (n > 63)
    kd_msgs_add (m, "must be no more than %d characters", 63);
  if (!match_label (s, n, false))
    {
      /* A valid subdomain that is not a label can only have dots in it. */
      if (match_subdomain (s, false))
        kd_msgs_add (m, "must not contain dots");
      else
        kd_msgs_add (m, "%s", dns1123_label_msg);
    }
}

void
kd_msgs_dns1123_subdomain (const char *s, kd_msgs_t *m)
{
  if (strlen (s) > 253)
    kd_msgs_add (m, "must be no more than %d characters", 253);
  if (!match_subdomain (s, false))
    kd_msgs_add (m, "%s", dns1123_subdomain_msg);
}

void
kd_msgs_dns1123_subdomain_us (const char *s, kd_msgs_t *m)
{
  if (strlen (s) > 253)
    kd_msgs_add (m, "must be no more than %d characters", 253);
  if (!match_subdomain (s, true))
    kd_msgs_add (m, "%s", dns1123_subdomain_us_msg);
}

void
kd_msgs_qualified_name (const char *s, kd_msgs_t *m)
{
  const char *slash = strchr (s, '/');
  const char *name = s;

  if (slash && strchr (slash + 1, '/'))
    {
      kd_msgs_add (m, "a qualified name " QNAME_MSG " " QNAME_EXAMPLES
                      "regex used for validation is '" QNAME_FMT "')"
                      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return;
    }
  if (slash)
    {
      cleanup_free char *prefix = xstrndup (s, (size_t) (slash - s));
      kd_msgs_t pm = { 0 };

      name = slash + 1;
      if (*prefix == '\0')
        kd_msgs_add (m, "prefix part must be non-empty");
      else
        {
          kd_msgs_dns1123_subdomain (prefix, &pm);
          for (size_t i = 0; i < pm.n; i++)
            kd_msgs_add (m, "prefix part %s", pm.v[i]);
          kd_msgs_free (&pm);
        }
    }
  if (*name == '\0')
    kd_msgs_add (m, "name part must be non-empty");
  else if (strlen (name) > 63)
    kd_msgs_add (m, "name part must be no more than %d characters", 63);
  if (!match_qname_part (name, strlen (name)))
    kd_msgs_add (m, "name part " QNAME_MSG " " QNAME_EXAMPLES
                    "regex used for validation is '" QNAME_FMT "')");
}

void
kd_msgs_label_value (const char *s, kd_msgs_t *m)
{
  size_t n = strlen (s);

  if (n > 63)
    kd_msgs_add (m, "must be no more than %d characters", 63);
  if (n > 0 && !match_qname_part (s, n))
    kd_msgs_add (m, "%s", label_value_msg);
}

/* RelaxedEnvironmentVariableValidation (on by default since 1.32): any
   printable ASCII but '='. */
void
kd_msgs_env_name (const char *s, kd_msgs_t *m)
{
  if (*s == '\0')
    kd_msgs_add (m, "environment variable name must be non-empty");
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 || *p > 0x7e || *p == '=')
      {
        kd_msgs_add (m, "a valid environment variable name must consist only of printable "
                        "ASCII characters other than '='");
        break;
      }
}

void
kd_msgs_port_name (const char *s, kd_msgs_t *m)
{
  size_t n = strlen (s);
  bool charset = n > 0, letter = false;

  if (n > 15)
    kd_msgs_add (m, "must be no more than %d characters", 15);
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] >= 'a' && s[i] <= 'z')
        letter = true;
      else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
        charset = false;
    }
  if (!charset)
    kd_msgs_add (m, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter)
    kd_msgs_add (m, "must contain at least one letter (a-z)");
  if (strstr (s, "--"))
    kd_msgs_add (m, "must not contain consecutive hyphens");
  if (n > 0 && (s[0] == '-' || s[n - 1] == '-'))
    kd_msgs_add (m, "must not begin or end with a hyphen");
}

void
kd_msgs_http_header_name (const char *s, kd_msgs_t *m)
{
  bool ok = *s != '\0';

  for (const char *p = s; *p; p++)
    if (!is_alnum (*p) && *p != '-')
      ok = false;
  if (!ok)
    kd_msgs_add (m, "%s", http_header_msg);
}

/* Go's net.ParseIP as forked in k8s.io/utils/net: dotted decimal where each
   part may carry leading zeros, or any IPv6 form. */
static bool
parse_ipv4_sloppy (const char *s)
{
  for (int part = 0; part < 4; part++)
    {
      int v = 0, digits = 0;

      if (part > 0)
        {
          if (*s != '.')
            return false;
          s++;
        }
      while (*s >= '0' && *s <= '9')
        {
          v = v * 10 + (*s - '0');
          if (v > 0xffffff)
            return false;
          digits++;
          s++;
        }
      if (digits == 0 || v > 255)
        return false;
    }
  return *s == '\0';
}

bool
kd_is_valid_ip (const char *s)
{
  struct in6_addr a6;

  if (s == NULL)
    return false;
  if (strchr (s, ':') == NULL)
    return parse_ipv4_sloppy (s);
  return inet_pton (AF_INET6, s, &a6) == 1;
}

bool
kd_is_valid_sysctl_name (const char *s)
{
  const char *p = s;

  if (strlen (s) > 253)
    return false;
  for (;;)
    {
      size_t n = strcspn (p, "./");
      bool ok = n > 0 && is_lower_alnum (p[0]) && is_lower_alnum (p[n - 1]);

      for (size_t i = 1; ok && i + 1 < n; i++)
        ok = is_lower_alnum (p[i]) || p[i] == '-' || p[i] == '_';
      if (!ok)
        return false;
      if (p[n] == '\0')
        return true;
      p += n + 1;
    }
}

/* ---- the public predicates ------------------------------------------------ */

bool
kd_is_dns1123_label (const char *s)
{
  return s && strlen (s) <= 63 && match_label (s, strlen (s), false);
}

bool
kd_is_dns1123_subdomain (const char *s)
{
  return s && strlen (s) <= 253 && match_subdomain (s, false);
}

bool
kd_is_qualified_name (const char *s)
{
  kd_msgs_t m = { 0 };
  bool ok;

  if (s == NULL)
    return false;
  kd_msgs_qualified_name (s, &m);
  ok = m.n == 0;
  kd_msgs_free (&m);
  return ok;
}

/* The env var name rule of current Kubernetes (printable ASCII but '='),
   which replaced the C-identifier-like rule. */
bool
kd_is_c_identifier_env (const char *s)
{
  kd_msgs_t m = { 0 };
  bool ok;

  if (s == NULL)
    return false;
  kd_msgs_env_name (s, &m);
  ok = m.n == 0;
  kd_msgs_free (&m);
  return ok;
}

/* ---- paths ------------------------------------------------------------------- */

void
kd_v_no_backsteps (const char *p, const char *path, kd_field_errors_t *errs)
{
  for (const char *s = p;;)
    {
      size_t n = strcspn (s, "/");

      if (n == 2 && s[0] == '.' && s[1] == '.')
        {
          /* One error is enough even for ../../.. */
          kd_v_invalid (errs, path, p, "must not contain '..'");
          return;
        }
      if (s[n] == '\0')
        return;
      s += n + 1;
    }
}

void
kd_v_local_descending_path (const char *p, const char *path, kd_field_errors_t *errs)
{
  if (*p == '/')
    kd_v_invalid (errs, path, p, "must be a relative path");
  kd_v_no_backsteps (p, path, errs);
}

bool
kd_v_in_list (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n && s; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

/* ---- field error helpers ---------------------------------------------------- */

void
kd_v_invalid_msgs (kd_field_errors_t *errs, const char *path, const char *value, kd_msgs_t *m)
{
  for (size_t i = 0; i < m->n; i++)
    kd_v_invalid (errs, path, value, m->v[i]);
  kd_msgs_free (m);
}

void
kd_v_dns1123_label (kd_field_errors_t *errs, const char *path, const char *value)
{
  kd_msgs_t m = { 0 };

  kd_msgs_dns1123_label (value ? value : "", &m);
  kd_v_invalid_msgs (errs, path, value, &m);
}

void
kd_v_dns1123_subdomain (kd_field_errors_t *errs, const char *path, const char *value)
{
  kd_msgs_t m = { 0 };

  kd_msgs_dns1123_subdomain (value ? value : "", &m);
  kd_v_invalid_msgs (errs, path, value, &m);
}

void
kd_v_qualified_name (kd_field_errors_t *errs, const char *path, const char *value)
{
  kd_msgs_t m = { 0 };

  kd_msgs_qualified_name (value ? value : "", &m);
  kd_v_invalid_msgs (errs, path, value, &m);
}

void
kd_v_labels (kd_field_errors_t *errs, const char *path, const kd_strmap_t *labels)
{
  for (size_t i = 0; i < labels->n; i++)
    {
      const char *v = labels->v[i].value ? labels->v[i].value : "";
      kd_msgs_t m = { 0 };

      kd_v_qualified_name (errs, path, labels->v[i].key);
      kd_msgs_label_value (v, &m);
      kd_v_invalid_msgs (errs, path, v, &m);
    }
}

void
kd_v_annotations (kd_field_errors_t *errs, const char *path, const kd_strmap_t *ann)
{
  int64_t total = 0;

  for (size_t i = 0; i < ann->n; i++)
    {
      const char *k = ann->v[i].key ? ann->v[i].key : "";
      cleanup_free char *lower = xstrdup (k);
      kd_msgs_t m = { 0 };

      /* Case does not matter for annotation keys. */
      for (char *p = lower; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      kd_msgs_qualified_name (lower, &m);
      kd_v_invalid_msgs (errs, path, k, &m);
      total += (int64_t) strlen (k) + (int64_t) (ann->v[i].value ? strlen (ann->v[i].value) : 0);
    }
  if (total > 256 * 1024)
    kd_fe_add (errs, KD_FE_TOO_LONG, path, NULL, "must have at most %d bytes", 256 * 1024);
}

void
kd_v_ip (kd_field_errors_t *errs, const char *path, const char *value)
{
  if (!kd_is_valid_ip (value))
    kd_v_invalid (errs, path, value,
                  "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
}

void
kd_v_required (kd_field_errors_t *errs, const char *path, const char *detail)
{
  if (detail && *detail)
    kd_fe_add (errs, KD_FE_REQUIRED, path, NULL, "%s", detail);
  else
    kd_fe_add (errs, KD_FE_REQUIRED, path, NULL, NULL);
}

void
kd_v_forbidden (kd_field_errors_t *errs, const char *path, const char *detail)
{
  kd_fe_add (errs, KD_FE_FORBIDDEN, path, NULL, "%s", detail);
}

void
kd_v_invalid (kd_field_errors_t *errs, const char *path, const char *value, const char *detail)
{
  cleanup_free char *q = kd_fe_quote (value ? value : "");

  kd_v_invalid_raw (errs, path, q, detail);
}

void
kd_v_invalid_int (kd_field_errors_t *errs, const char *path, int64_t value, const char *detail)
{
  cleanup_free char *r = kd_fe_int (value);

  kd_v_invalid_raw (errs, path, r, detail);
}

void
kd_v_invalid_raw (kd_field_errors_t *errs, const char *path, const char *rendered,
                  const char *detail)
{
  if (detail && *detail)
    kd_fe_add (errs, KD_FE_INVALID, path, rendered, "%s", detail);
  else
    kd_fe_add (errs, KD_FE_INVALID, path, rendered, NULL);
}

void
kd_v_duplicate (kd_field_errors_t *errs, const char *path, const char *value)
{
  cleanup_free char *q = kd_fe_quote (value ? value : "");

  kd_fe_add (errs, KD_FE_DUPLICATE, path, q, NULL);
}

void
kd_v_not_found (kd_field_errors_t *errs, const char *path, const char *value)
{
  cleanup_free char *q = kd_fe_quote (value ? value : "");

  kd_fe_add (errs, KD_FE_NOT_FOUND, path, q, NULL);
}

void
kd_v_not_supported (kd_field_errors_t *errs, const char *path, const char *value,
                    const char *const *supported, size_t n)
{
  cleanup_free char *q = kd_fe_quote (value ? value : "");
  kd_buf_t b = { 0 };
  cleanup_free char *detail = NULL;

  kd_buf_puts (&b, "supported values: ");
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *sv = kd_fe_quote (supported[i]);

      if (i > 0)
        kd_buf_puts (&b, ", ");
      kd_buf_puts (&b, sv);
    }
  detail = kd_buf_steal (&b);
  kd_fe_add (errs, KD_FE_UNSUPPORTED, path, q, "%s", detail);
}

char *
kd_v_render_strv (const kd_strv_t *v)
{
  kd_buf_t b = { 0 };

  kd_buf_puts (&b, "[]string{");
  for (size_t i = 0; i < v->n; i++)
    {
      cleanup_free char *q = kd_fe_quote (v->v[i] ? v->v[i] : "");

      if (i > 0)
        kd_buf_puts (&b, ", ");
      kd_buf_puts (&b, q);
    }
  kd_buf_putc (&b, '}');
  return kd_buf_steal (&b);
}
