/* Label selectors, as k8s.io/apimachinery/pkg/labels parses them:
   equality (=, ==, !=), sets (in, notin), existence (key, !key), and the
   numeric gt/lt (key>N, key<N), separated by commas. */
#include <ctype.h>

#include "kubeletd/cli.h"

typedef enum
{
  OP_EQUALS,
  OP_NOT_EQUALS,
  OP_IN,
  OP_NOT_IN,
  OP_EXISTS,
  OP_NOT_EXISTS,
  OP_GT,
  OP_LT,
} op_t;

typedef struct
{
  char *key;
  op_t op;
  char **values;
  size_t n_values;
} requirement_t;

struct kd_selector
{
  requirement_t *reqs;
  size_t n;
  size_t cap;
};

static void
skip_space (const char **p)
{
  while (isspace ((unsigned char) **p))
    (*p)++;
}

/* Characters of a key or a value: what qualified names and label values
   may hold. */
static bool
is_name_char (char c)
{
  return isalnum ((unsigned char) c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static char *
read_name (const char **p)
{
  const char *start = *p;

  while (is_name_char (**p))
    (*p)++;
  return xstrndup (start, (size_t) (*p - start));
}

static bool
valid_label_value (const char *v)
{
  size_t n = strlen (v);

  if (n == 0)
    return true;
  if (n > 63 || !isalnum ((unsigned char) v[0]) || !isalnum ((unsigned char) v[n - 1]))
    return false;
  return strchr (v, '/') == NULL;
}

static bool
valid_label_key (const char *k)
{
  const char *slash = strrchr (k, '/');
  const char *name = slash ? slash + 1 : k;
  size_t n = strlen (name);

  if (slash != NULL && (slash == k || (size_t) (slash - k) > 253))
    return false;
  if (n == 0 || n > 63 || !isalnum ((unsigned char) name[0])
      || !isalnum ((unsigned char) name[n - 1]))
    return false;
  return strchr (name, '/') == NULL;
}

static void
add_value (requirement_t *r, char *v)
{
  r->values = xrealloc (r->values, (r->n_values + 1) * sizeof (char *));
  r->values[r->n_values++] = v;
}

static int
parse_set (const char **p, requirement_t *r, kd_error_t *err)
{
  skip_space (p);
  if (**p != '(')
    return kd_make_error (err, 0, "unable to parse requirement: found '%s', expected: '('", *p);
  (*p)++;
  for (;;)
    {
      char *v;

      skip_space (p);
      v = read_name (p);
      if (!valid_label_value (v))
        {
          kd_make_error (err, 0, "invalid label value: \"%s\"", v);
          free (v);
          return -1;
        }
      add_value (r, v);
      skip_space (p);
      if (**p == ',')
        {
          (*p)++;
          continue;
        }
      if (**p == ')')
        {
          (*p)++;
          return 0;
        }
      return kd_make_error (err, 0, "unable to parse requirement: found '%s', expected: ',' or ')'",
                            **p ? *p : "EOS");
    }
}

static bool
word_at (const char *p, const char *w)
{
  size_t n = strlen (w);
  return strncmp (p, w, n) == 0 && (isspace ((unsigned char) p[n]) || p[n] == '(');
}

static int
parse_requirement (const char **p, requirement_t *r, kd_error_t *err)
{
  skip_space (p);
  if (**p == '!')
    {
      (*p)++;
      skip_space (p);
      r->op = OP_NOT_EXISTS;
    }
  else
    r->op = OP_EXISTS;
  r->key = read_name (p);
  if (r->key[0] == '\0')
    return kd_make_error (err, 0, "unable to parse requirement: found '%s', expected: identifier",
                          **p ? *p : "EOS");
  if (!valid_label_key (r->key))
    return kd_make_error (err, 0, "unable to parse requirement: invalid label key \"%s\"", r->key);
  skip_space (p);
  if (r->op == OP_NOT_EXISTS || **p == ',' || **p == '\0')
    return 0;

  if (strncmp (*p, "==", 2) == 0 || strncmp (*p, "!=", 2) == 0)
    {
      r->op = **p == '!' ? OP_NOT_EQUALS : OP_EQUALS;
      *p += 2;
    }
  else if (**p == '=' || **p == '>' || **p == '<')
    {
      r->op = **p == '=' ? OP_EQUALS : **p == '>' ? OP_GT : OP_LT;
      (*p)++;
    }
  else if (word_at (*p, "in") || word_at (*p, "notin"))
    {
      r->op = (*p)[0] == 'i' ? OP_IN : OP_NOT_IN;
      *p += r->op == OP_IN ? 2 : 5;
      return parse_set (p, r, err);
    }
  else
    return kd_make_error (err, 0,
                          "unable to parse requirement: found '%s', expected: in, notin, =, ==, "
                          "!=, gt, lt",
                          *p);

  skip_space (p);
  {
    char *v = read_name (p);
    add_value (r, v);
    if (!valid_label_value (v))
      return kd_make_error (err, 0, "invalid label value: \"%s\"", v);
    if ((r->op == OP_GT || r->op == OP_LT)
        && (v[0] == '\0' || strspn (v, "0123456789") != strlen (v)))
      return kd_make_error (err, 0,
                            "unable to parse requirement: for 'gt', 'lt' operators, the "
                            "value must be an integer");
  }
  return 0;
}

int
kd_selector_parse (const char *s, kd_selector_t **out, kd_error_t *err)
{
  kd_selector_t *sel = xcalloc (1, sizeof (*sel));
  const char *p = s ? s : "";

  *out = NULL;
  skip_space (&p);
  while (*p != '\0')
    {
      requirement_t *r;

      kd_grow ((void **) &sel->reqs, &sel->cap, sel->n, sizeof (*sel->reqs));
      r = &sel->reqs[sel->n++];
      if (parse_requirement (&p, r, err) < 0)
        {
          kd_selector_free (sel);
          return -1;
        }
      skip_space (&p);
      if (*p == ',')
        {
          p++;
          skip_space (&p);
          if (*p == '\0')
            {
              kd_selector_free (sel);
              return kd_make_error (err, 0,
                                    "unable to parse requirement: found '', expected: identifier");
            }
          continue;
        }
      if (*p != '\0')
        {
          kd_make_error (err, 0, "unable to parse requirement: found '%s', expected: ','", p);
          kd_selector_free (sel);
          return -1;
        }
    }
  *out = sel;
  return 0;
}

static bool
has_value (const requirement_t *r, const char *v)
{
  size_t i;

  for (i = 0; i < r->n_values; i++)
    if (strcmp (r->values[i], v) == 0)
      return true;
  return false;
}

static bool
requirement_matches (const requirement_t *r, const json_t *labels)
{
  const char *v = json_string_value (json_object_get (labels, r->key));
  long long a, b;

  switch (r->op)
    {
    case OP_EXISTS:
      return v != NULL;
    case OP_NOT_EXISTS:
      return v == NULL;
    case OP_EQUALS:
    case OP_IN:
      return v != NULL && has_value (r, v);
    case OP_NOT_EQUALS:
    case OP_NOT_IN:
      return v == NULL || !has_value (r, v);
    case OP_GT:
    case OP_LT:
      if (v == NULL || sscanf (v, "%lld", &a) != 1 || sscanf (r->values[0], "%lld", &b) != 1)
        return false;
      return r->op == OP_GT ? a > b : a < b;
    }
  return false;
}

bool
kd_selector_matches (const kd_selector_t *sel, const json_t *labels)
{
  size_t i;

  if (sel == NULL)
    return true;
  for (i = 0; i < sel->n; i++)
    if (!requirement_matches (&sel->reqs[i], labels))
      return false;
  return true;
}

void
kd_selector_free (kd_selector_t *sel)
{
  size_t i, j;

  if (sel == NULL)
    return;
  for (i = 0; i < sel->n; i++)
    {
      free (sel->reqs[i].key);
      for (j = 0; j < sel->reqs[i].n_values; j++)
        free (sel->reqs[i].values[j]);
      free (sel->reqs[i].values);
    }
  free (sel->reqs);
  free (sel);
}
