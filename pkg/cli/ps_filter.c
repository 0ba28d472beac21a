/* `ps -f KEY=VALUE`: docker's container filters (daemon/list.go) on the
   rows of ps.c. Values of one key OR (label: AND, as docker's MatchKVList),
   different keys AND. */
#include <regex.h>

#include "kubeletd/image.h"
#include "ps-internal.h"

static const char *const filter_keys[] = {
  "id", "name", "pod", "label", "status", "exited", "ancestor",
};

/* container.IsValidStateString, plus "waiting": the API's word for the
   created and restarting ones. */
static const char *const states[] = {
  "created", "running", "exited", "waiting", "restarting", "paused", "removing", "dead",
};

struct kd_ps_filter
{
  char **keys;
  char **values;
  size_t n, cap;
};

static char *
trim (const char *s, size_t len)
{
  while (len > 0 && (*s == ' ' || *s == '\t'))
    {
      s++;
      len--;
    }
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  return xstrndup (s, len);
}

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

/* strconv.Atoi: an optional sign and decimal digits, nothing else. */
static bool
parse_int (const char *s, int64_t *out)
{
  const char *p = s;
  int64_t v = 0;
  bool neg = false;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (*p == '\0')
    return false;
  for (; *p; p++)
    {
      if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
        return false;
      v = v * 10 + (*p - '0');
    }
  *out = neg ? -v : v;
  return true;
}

int
kd_ps_filter_add (kd_ps_filter_t **fp, const char *arg, kd_error_t *err)
{
  const char *eq = strchr (arg, '=');
  cleanup_free char *key = NULL;
  cleanup_free char *value = NULL;
  kd_ps_filter_t *f;
  int64_t code;

  if (eq == NULL)
    return kd_make_error (err, 0,
                          "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of "
                          "filter (expected name=value)",
                          arg);
  key = trim (arg, (size_t) (eq - arg));
  for (char *p = key; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char) (*p - 'A' + 'a');
  value = trim (eq + 1, strlen (eq + 1));
  if (!in_list (key, filter_keys, KD_ARRAY_SIZE (filter_keys)))
    return kd_make_error (err, 0, "invalid filter '%s'", key);
  if (strcmp (key, "status") == 0 && !in_list (value, states, KD_ARRAY_SIZE (states)))
    return kd_make_error (err, 0, "invalid filter 'status=%s'", value);
  if (strcmp (key, "exited") == 0 && !parse_int (value, &code))
    return kd_make_error (err, 0, "strconv.Atoi: parsing \"%s\": invalid syntax", value);

  if (*fp == NULL)
    *fp = xcalloc (1, sizeof (kd_ps_filter_t));
  f = *fp;
  kd_grow ((void **) &f->keys, &f->cap, f->n, sizeof (char *));
  f->values = xrealloc (f->values, f->cap * sizeof (char *));
  f->keys[f->n] = steal_pointer (&key);
  f->values[f->n] = steal_pointer (&value);
  f->n++;
  return 0;
}

void
kd_ps_filter_free (kd_ps_filter_t *f)
{
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n; i++)
    {
      free (f->keys[i]);
      free (f->values[i]);
    }
  free (f->keys);
  free (f->values);
  free (f);
}

bool
kd_ps_filter_implies_all (const kd_ps_filter_t *f)
{
  for (size_t i = 0; f != NULL && i < f->n; i++)
    if (strcmp (f->keys[i], "status") == 0)
      return true;
  return false;
}

/* ---- one value against one row ------------------------------------------------ */

static const char *
str_at (const json_t *obj, const char *key)
{
  const char *s = json_string_value (json_object_get (obj, key));
  return s ? s : "";
}

static bool
match_id (const char *value, const kd_ps_row_t *row)
{
  const char *v = strstr (value, "://");
  return kd_str_has_prefix (row->id, v ? v + 3 : value);
}

/* docker's Args.Match: an exact match, else an unanchored regular
   expression; a value that does not compile matches nothing. */
static bool
match_name (const char *value, const char *name)
{
  regex_t re;
  bool r;

  if (strcmp (value, name) == 0)
    return true;
  if (regcomp (&re, value, REG_EXTENDED | REG_NOSUB) != 0)
    return false;
  r = regexec (&re, name, 0, NULL, 0) == 0;
  regfree (&re);
  return r;
}

static bool
match_pod (const char *value, const kd_ps_row_t *row)
{
  const json_t *meta = json_object_get (row->pod, "metadata");
  const char *slash = strchr (value, '/');

  if (slash == NULL)
    return strcmp (value, str_at (meta, "name")) == 0;
  return strncmp (value, str_at (meta, "namespace"), (size_t) (slash - value)) == 0
         && str_at (meta, "namespace")[slash - value] == '\0'
         && strcmp (slash + 1, str_at (meta, "name")) == 0;
}

static bool
match_label (const char *value, const kd_ps_row_t *row)
{
  const json_t *labels = json_object_get (json_object_get (row->pod, "metadata"), "labels");
  const char *eq = strchr (value, '=');
  cleanup_free char *key = eq ? xstrndup (value, (size_t) (eq - value)) : xstrdup (value);
  const json_t *v = json_object_get (labels, key);

  if (!json_is_string (v))
    return false;
  return eq == NULL || strcmp (json_string_value (v), eq + 1) == 0;
}

static bool
match_status (const char *value, const kd_ps_row_t *row)
{
  switch (row->state)
    {
    case KD_PS_CREATED:
      return strcmp (value, "created") == 0 || strcmp (value, "waiting") == 0;
    case KD_PS_RUNNING:
      return strcmp (value, "running") == 0;
    case KD_PS_RESTARTING:
      return strcmp (value, "restarting") == 0 || strcmp (value, "waiting") == 0;
    case KD_PS_EXITED:
      return strcmp (value, "exited") == 0;
    }
  return false;
}

/* A reference names a tag when its last path component has a colon
   (before any digest). */
static bool
has_explicit_tag (const char *s)
{
  const char *slash = strrchr (s, '/');
  const char *last = slash ? slash + 1 : s;
  const char *at = strchr (last, '@');
  const char *colon = strchr (last, ':');

  return colon != NULL && (at == NULL || colon < at);
}

/* The digest part of an imageID ("repo@sha256:<hex>", "sha256:<hex>"). */
static const char *
digest_hex (const char *image_id)
{
  const char *p = strstr (image_id, "sha256:");
  return p ? p + strlen ("sha256:") : "";
}

static bool
match_ancestor (const char *value, const kd_ps_row_t *row)
{
  const char *image_id = str_at (row->status, "imageID");
  const char *hex = kd_str_has_prefix (value, "sha256:") ? value + 7 : value;
  kd_image_ref_t want = { 0 }, have = { 0 };
  kd_error_t err = NULL;
  bool r = false;

  /* An image ID or digest prefix. */
  if (kd_str_hex_p (hex) && kd_str_has_prefix (digest_hex (image_id), hex))
    return true;
  if (kd_image_ref_parse (value, &want, &err) < 0)
    {
      kd_error_release (&err);
      return false;
    }
  /* The spec's image, else the status' resolved name. */
  if (kd_image_ref_parse (str_at (row->spec, "image"), &have, &err) < 0
      && kd_image_ref_parse (str_at (row->status, "image"), &have, &err) < 0)
    {
      kd_error_release (&err);
      kd_image_ref_free (&want);
      return false;
    }
  kd_error_release (&err);
  if (kd_str_eq (want.domain, have.domain) && kd_str_eq (want.path, have.path))
    {
      if (want.digest != NULL)
        r = kd_str_eq (want.digest, have.digest)
            || strcmp (want.digest + strlen ("sha256:"), digest_hex (image_id)) == 0;
      else if (has_explicit_tag (value))
        r = kd_str_eq (want.tag, have.tag);
      else
        r = true; /* by name: any tag of the repository */
    }
  kd_image_ref_free (&want);
  kd_image_ref_free (&have);
  return r;
}

static bool
match_one (const char *key, const char *value, const kd_ps_row_t *row)
{
  if (strcmp (key, "id") == 0)
    return match_id (value, row);
  if (strcmp (key, "name") == 0)
    return match_name (value, str_at (row->spec, "name"));
  if (strcmp (key, "pod") == 0)
    return match_pod (value, row);
  if (strcmp (key, "label") == 0)
    return match_label (value, row);
  if (strcmp (key, "status") == 0)
    return match_status (value, row);
  if (strcmp (key, "exited") == 0)
    {
      int64_t code = 0;
      return row->state == KD_PS_EXITED && parse_int (value, &code) && code == row->exit_code;
    }
  if (strcmp (key, "ancestor") == 0)
    return match_ancestor (value, row);
  return false;
}

bool
kd_ps_filter_match (const kd_ps_filter_t *f, const kd_ps_row_t *row)
{
  if (f == NULL)
    return true;
  for (size_t k = 0; k < KD_ARRAY_SIZE (filter_keys); k++)
    {
      const char *key = filter_keys[k];
      bool seen = false, any = false, all = true;

      for (size_t i = 0; i < f->n; i++)
        {
          bool m;
          if (strcmp (f->keys[i], key) != 0)
            continue;
          seen = true;
          m = match_one (key, f->values[i], row);
          any = any || m;
          all = all && m;
        }
      if (seen && !(strcmp (key, "label") == 0 ? all : any))
        return false;
    }
  return true;
}
