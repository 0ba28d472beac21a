/* Image references: the distribution/reference grammar and Docker's
 * normalization ("busybox" -> "docker.io/library/busybox:latest").
 *
 * The grammar is matched by hand rather than with regcomp: POSIX regexes pick
 * the leftmost-longest split, while the reference library (Go's RE2) prefers
 * the first alternative, which decides whether a first component is a domain.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] path-component ['/' path-component]*
 *   domain     := host [':' port]      host := domain-name | '[' ipv6 ']'
 *   path-component := [a-z0-9]+ ( ([._] | "__" | "-"+) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ':' hex{32,}
 *
 * Failures carry the reference library's own messages, which the kubelet
 * shows after "Failed to apply default image tag ...".
 */
#include <ctype.h>

#include "kubeletd/image.h"

#define NAME_MAX_LEN 255

static const char default_domain[] = "docker.io";
static const char legacy_default_domain[] = "index.docker.io";
static const char official_prefix[] = "library/";

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_word (char c)
{
  return isalnum ((unsigned char) c) || c == '_';
}

/* [a-z0-9]+ ((?:[._]|__|[-]+)[a-z0-9]+)* over s[0..n). */
static bool
path_component_ok (const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[n - 1]))
    return false;
  while (i < n)
    {
      size_t start;
      if (is_lower_alnum (s[i]))
        {
          i++;
          continue;
        }
      start = i;
      while (i < n && !is_lower_alnum (s[i]))
        i++;
      /* A run of separators between two alphanumerics. */
      if (i - start == 1 && (s[start] == '.' || s[start] == '_' || s[start] == '-'))
        continue;
      if (i - start == 2 && s[start] == '_' && s[start + 1] == '_')
        continue;
      for (size_t k = start; k < i; k++)
        if (s[k] != '-')
          return false;
    }
  return true;
}

/* ([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]) */
static bool
domain_component_ok (const char *s, size_t n)
{
  if (n == 0 || !isalnum ((unsigned char) s[0]) || !isalnum ((unsigned char) s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
port_ok (const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit ((unsigned char) s[i]))
      return false;
  return true;
}

/* host [':' port] over s[0..n). */
static bool
domain_ok (const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0)
    return false;
  if (s[0] == '[')
    {
      size_t k = 1;
      while (k < n && (isxdigit ((unsigned char) s[k]) || s[k] == ':'))
        k++;
      if (k == 1 || k >= n || s[k] != ']')
        return false;
      i = k + 1;
    }
  else
    {
      size_t start = 0;
      while (i < n && s[i] != ':')
        {
          if (s[i] == '.')
            {
              if (!domain_component_ok (s + start, i - start))
                return false;
              start = i + 1;
            }
          i++;
        }
      if (!domain_component_ok (s + start, i - start))
        return false;
    }
  if (i == n)
    return true;
  return s[i] == ':' && port_ok (s + i + 1, n - i - 1);
}

static bool
tag_ok (const char *s, size_t n)
{
  if (n == 0 || n > 128 || !is_word (s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word (s[i]) && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

/* [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,} */
static bool
digest_pattern_ok (const char *s, size_t n)
{
  size_t i = 0, hex;

  for (;;)
    {
      if (i >= n || !isalpha ((unsigned char) s[i]))
        return false;
      while (i < n && isalnum ((unsigned char) s[i]))
        i++;
      if (i < n && strchr ("-_+.", s[i]) != NULL)
        {
          i++;
          continue;
        }
      break;
    }
  if (i >= n || s[i] != ':')
    return false;
  for (hex = 0, i++; i < n; i++, hex++)
    if (!isxdigit ((unsigned char) s[i]))
      return false;
  return hex >= 32;
}

typedef struct
{
  size_t domain_len; /* 0: no domain */
  size_t name_len;   /* domain + '/' + path */
  const char *tag;
  size_t tag_len;
  const char *digest;
  size_t digest_len;
} ref_match_t;

/* path [':' tag] ['@' digest] after the first component. */
static bool
match_tail (const char *s, ref_match_t *m, size_t *path_end)
{
  const char *p = s, *c;

  for (;;)
    {
      c = p + strcspn (p, "/:@");
      if (!path_component_ok (p, (size_t) (c - p)))
        return false;
      if (*c != '/')
        break;
      p = c + 1;
    }
  *path_end = (size_t) (c - s);
  if (*c == ':')
    {
      const char *t = c + 1, *e = t + strcspn (t, "@");
      if (!tag_ok (t, (size_t) (e - t)))
        return false;
      m->tag = t;
      m->tag_len = (size_t) (e - t);
      c = e;
    }
  if (*c == '@')
    {
      const char *d = c + 1;
      if (!digest_pattern_ok (d, strlen (d)))
        return false;
      m->digest = d;
      m->digest_len = strlen (d);
      c = d + m->digest_len;
    }
  return *c == '\0';
}

/* The anchored reference pattern; the optional domain is tried first. */
static bool
match_reference (const char *s, ref_match_t *m)
{
  const char *slash = strchr (s, '/');
  size_t first_len, tail_end;

  memset (m, 0, sizeof (*m));
  if (slash == NULL)
    {
      if (!match_tail (s, m, &tail_end))
        return false;
      m->name_len = tail_end;
      return true;
    }
  first_len = (size_t) (slash - s);
  if (!match_tail (slash + 1, m, &tail_end))
    return false;
  m->name_len = first_len + 1 + tail_end;
  if (domain_ok (s, first_len))
    m->domain_len = first_len;
  else if (!path_component_ok (s, first_len))
    return false;
  return true;
}

static bool
identifier_p (const char *s)
{
  size_t n = strlen (s);
  if (n != 64)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit ((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return false;
  return true;
}

/* What go-digest's Parse says about a digest that passed the pattern. */
static const char *
digest_problem (const char *d, size_t n)
{
  const char *colon = memchr (d, ':', n);
  size_t alg = (size_t) (colon - d), hex = n - alg - 1;

  if (alg != 6 || memcmp (d, "sha256", 6) != 0)
    return "unsupported digest algorithm";
  if (hex != 64)
    return "invalid checksum digest length";
  for (size_t i = 0; i < hex; i++)
    if (!isdigit ((unsigned char) colon[1 + i]) && !(colon[1 + i] >= 'a' && colon[1 + i] <= 'f'))
      return "invalid checksum digest format";
  return NULL;
}

static bool
has_upper (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (isupper ((unsigned char) s[i]))
      return true;
  return false;
}

int
kd_image_ref_parse (const char *s, kd_image_ref_t *ref, kd_error_t *err)
{
  cleanup_free char *full = NULL;
  cleanup_free char *lower = NULL;
  const char *slash, *domain = default_domain, *rest = s, *prefix = "", *problem;
  size_t domain_len = sizeof (default_domain) - 1, remote_len;
  ref_match_t m;

  memset (ref, 0, sizeof (*ref));
  if (identifier_p (s))
    return kd_make_error (
        err, 0, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);

  /* Split off the domain as Docker does: a first component is a domain when
     it is "localhost", holds '.' or ':', or has upper case letters. */
  slash = strchr (s, '/');
  if (slash == NULL)
    prefix = official_prefix;
  else
    {
      size_t first = (size_t) (slash - s);
      if ((first == 9 && memcmp (s, "localhost", 9) == 0) || memchr (s, '.', first) != NULL
          || memchr (s, ':', first) != NULL || has_upper (s, first))
        {
          domain = s;
          domain_len = first;
          rest = slash + 1;
          if (first == sizeof (legacy_default_domain) - 1
              && memcmp (s, legacy_default_domain, first) == 0)
            {
              domain = default_domain;
              domain_len = sizeof (default_domain) - 1;
            }
        }
      if (domain_len == sizeof (default_domain) - 1
          && memcmp (domain, default_domain, domain_len) == 0 && strchr (rest, '/') == NULL)
        prefix = official_prefix;
    }

  remote_len = strcspn (rest, ":");
  if (has_upper (rest, remote_len))
    return kd_make_error (err, 0,
                          "invalid reference format: repository name (%s%.*s) must be lowercase",
                          prefix, (int) remote_len, rest);

  full = xasprintf ("%.*s/%s%s", (int) domain_len, domain, prefix, rest);
  if (!match_reference (full, &m))
    {
      lower = xstrdup (full);
      for (char *p = lower; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      if (strcmp (lower, full) != 0 && match_reference (lower, &m))
        return kd_make_error (err, 0, "repository name must be lowercase");
      return kd_make_error (err, 0, "invalid reference format");
    }
  {
    size_t path_off = m.domain_len ? m.domain_len + 1 : 0;
    if (m.name_len - path_off > NAME_MAX_LEN)
      return kd_make_error (err, 0, "repository name must not be more than %d characters",
                            NAME_MAX_LEN);
    if (m.digest && (problem = digest_problem (m.digest, m.digest_len)) != NULL)
      return kd_make_error (err, 0, "%s", problem);

    ref->domain = xstrndup (full, m.domain_len);
    ref->path = xstrndup (full + path_off, m.name_len - path_off);
  }
  if (m.tag)
    ref->tag = xstrndup (m.tag, m.tag_len);
  if (m.digest)
    ref->digest = xstrndup (m.digest, m.digest_len);
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = xstrdup ("latest");
  return 0;
}

char *
kd_image_ref_repository (const kd_image_ref_t *ref)
{
  if (ref->domain == NULL || ref->domain[0] == '\0')
    return xstrdup (ref->path);
  return xasprintf ("%s/%s", ref->domain, ref->path);
}

char *
kd_image_ref_string (const kd_image_ref_t *ref)
{
  cleanup_free char *repo = kd_image_ref_repository (ref);
  return xasprintf ("%s%s%s%s%s", repo, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                    ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

void
kd_image_ref_free (kd_image_ref_t *ref)
{
  if (ref == NULL)
    return;
  free (ref->domain);
  free (ref->path);
  free (ref->tag);
  free (ref->digest);
  memset (ref, 0, sizeof (*ref));
}
