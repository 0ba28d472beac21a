/* Allocation that never returns NULL, string buffers, string helpers. */
#include "kubeletd/util.h"

static void *
check (void *p)
{
  if (p == NULL)
    abort ();
  return p;
}

void *
xmalloc (size_t size)
{
  return check (malloc (size ? size : 1));
}

void *
xcalloc (size_t nmemb, size_t size)
{
  return check (calloc (nmemb ? nmemb : 1, size ? size : 1));
}

void *
xrealloc (void *p, size_t size)
{
  return check (realloc (p, size ? size : 1));
}

char *
xstrdup (const char *s)
{
  return check (strdup (s));
}

char *
xstrndup (const char *s, size_t n)
{
  return check (strndup (s, n));
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return s;
}

void
kd_grow (void **v, size_t *cap, size_t n, size_t elem)
{
  size_t c = *cap;

  if (n < c)
    return;
  c = c ? c : 4;
  while (c <= n)
    {
      if (c > SIZE_MAX / 2 / elem)
        abort ();
      c *= 2;
    }
  *v = xrealloc (*v, c * elem);
  memset ((char *) *v + *cap * elem, 0, (c - *cap) * elem);
  *cap = c;
}

void
kd_cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

void
kd_cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

void
kd_cleanup_fclosep (FILE **f)
{
  if (*f != NULL)
    fclose (*f);
}

void
kd_buf_append (kd_buf_t *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    {
      size_t c = b->cap ? b->cap : 64;
      while (c < b->len + n + 1)
        c *= 2;
      b->s = xrealloc (b->s, c);
      b->cap = c;
    }
  memcpy (b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
kd_buf_puts (kd_buf_t *b, const char *s)
{
  kd_buf_append (b, s, strlen (s));
}

void
kd_buf_putc (kd_buf_t *b, char c)
{
  kd_buf_append (b, &c, 1);
}

void
kd_buf_printf (kd_buf_t *b, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *s = NULL;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  kd_buf_append (b, s, (size_t) n);
}

char *
kd_buf_steal (kd_buf_t *b)
{
  char *s = b->s ? b->s : xstrdup ("");
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
kd_buf_free (kd_buf_t *b)
{
  free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

kd_shared_t *
kd_shared_take (char *data, size_t len)
{
  kd_shared_t *s = xmalloc (sizeof *s);
  s->refs = 1;
  s->len = len;
  s->data = data;
  return s;
}

kd_shared_t *
kd_shared_ref (kd_shared_t *s)
{
  s->refs++;
  return s;
}

void
kd_shared_unref (kd_shared_t *s)
{
  if (s == NULL || --s->refs > 0)
    return;
  free (s->data);
  free (s);
}

bool
kd_str_hex_p (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

bool
kd_str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool
kd_str_has_suffix (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && memcmp (s + a - b, suffix, b) == 0;
}

bool
kd_str_eq (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp (a, b) == 0;
}
