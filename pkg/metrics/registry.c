/* The registry: families by name, series by label values, the updates
   and the cardinality bound. Rendering is in render.c. */
#include <math.h>
#include <stdarg.h>

#include "metrics-internal.h"

static bool
valid_name (const char *s, bool colon)
{
  if (s == NULL || *s == '\0')
    return false;
  for (const char *p = s; *p; p++)
    {
      char c = *p;
      bool alpha
          = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
      if (!alpha && !(p != s && c >= '0' && c <= '9'))
        return false;
    }
  return true;
}

/* Label values must be UTF-8 in the text format and bounded in memory:
   invalid bytes become '?', and the value is cut at a character boundary
   at KD_METRICS_MAX_LABEL_VALUE bytes. */
static char *
sanitize_value (const char *v)
{
  size_t len = strlen (v), out = 0;
  char *s = xmalloc ((len < KD_METRICS_MAX_LABEL_VALUE ? len : KD_METRICS_MAX_LABEL_VALUE) + 1);

  for (size_t i = 0; i < len;)
    {
      unsigned char c = (unsigned char) v[i];
      size_t n = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
      bool ok = n > 0 && i + n <= len && !(n == 2 && c < 0xc2);

      for (size_t k = 1; ok && k < n; k++)
        ok = ((unsigned char) v[i + k] & 0xc0) == 0x80;
      if (!ok)
        n = 1;
      if (out + (ok ? n : 1) > KD_METRICS_MAX_LABEL_VALUE)
        break;
      if (ok)
        memcpy (s + out, v + i, n), out += n;
      else
        s[out++] = '?';
      i += n;
    }
  s[out] = '\0';
  return s;
}

kd_metrics_registry_t *
kd_metrics_registry_new (size_t max_series_per_family)
{
  kd_metrics_registry_t *r = xcalloc (1, sizeof (*r));

  pthread_mutex_init (&r->lock, NULL);
  r->max_series = max_series_per_family ? max_series_per_family : KD_METRICS_MAX_SERIES;
  return r;
}

static void
series_free (kd_family_t *f, kd_series_t *s)
{
  for (size_t i = 0; i < f->n_labels; i++)
    free (s->values[i]);
  free (s->values);
  free (s->buckets);
  free (s);
}

static void
family_free (kd_family_t *f)
{
  for (size_t i = 0; i < f->n_series; i++)
    series_free (f, f->series[i]);
  free (f->series);
  for (size_t i = 0; i < f->n_labels; i++)
    free (f->label_names[i]);
  free (f->label_names);
  free (f->bounds);
  free (f->name);
  free (f->help);
  free (f);
}

void
kd_metrics_registry_free (kd_metrics_registry_t *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_families; i++)
    family_free (r->families[i]);
  free (r->families);
  pthread_mutex_destroy (&r->lock);
  free (r);
}

/* Index of name, or where it would go (*found false). */
static size_t
family_pos (const kd_metrics_registry_t *r, const char *name, bool *found)
{
  size_t lo = 0, hi = r->n_families;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      int c = strcmp (r->families[mid]->name, name);
      if (c == 0)
        {
          *found = true;
          return mid;
        }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  *found = false;
  return lo;
}

static kd_family_t *
family_get (const kd_metrics_registry_t *r, const char *name)
{
  bool found;
  size_t i = family_pos (r, name, &found);

  return found ? r->families[i] : NULL;
}

static int
series_cmp (const kd_family_t *f, char *const *a, const char *const *b)
{
  for (size_t k = 0; k < f->n_labels; k++)
    {
      size_t i = f->order[k];
      int c = strcmp (a[i], b[i]);
      if (c)
        return c;
    }
  return 0;
}

static size_t
series_pos (const kd_family_t *f, const char *const *values, bool *found)
{
  size_t lo = 0, hi = f->n_series;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      int c = series_cmp (f, f->series[mid]->values, values);
      if (c == 0)
        {
          *found = true;
          return mid;
        }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  *found = false;
  return lo;
}

static kd_series_t *
series_insert (kd_family_t *f, size_t pos, const char *const *values)
{
  kd_series_t *s = xcalloc (1, sizeof (*s));

  s->values = xcalloc (f->n_labels ? f->n_labels : 1, sizeof (char *));
  for (size_t i = 0; i < f->n_labels; i++)
    s->values[i] = xstrdup (values[i]);
  if (f->type == KD_METRIC_HISTOGRAM)
    s->buckets = xcalloc (f->n_bounds + 1, sizeof (uint64_t));
  kd_grow ((void **) &f->series, &f->cap_series, f->n_series, sizeof (kd_series_t *));
  memmove (f->series + pos + 1, f->series + pos, (f->n_series - pos) * sizeof (kd_series_t *));
  f->series[pos] = s;
  f->n_series++;
  return s;
}

int
kd_metrics_register (kd_metrics_registry_t *r, kd_metric_type_t type, const char *name,
                     const char *help, const char *const *label_names, size_t n_labels,
                     const double *buckets, size_t n_buckets, kd_error_t *err)
{
  kd_family_t *f;
  size_t pos;
  bool found;
  int ret = 0;

  if (!valid_name (name, true))
    return kd_make_error (err, EINVAL, "metric name `%s` is not valid", name ? name : "");
  if (n_labels > KD_METRICS_MAX_LABELS)
    return kd_make_error (err, EINVAL, "metric `%s`: more than %d labels", name,
                          KD_METRICS_MAX_LABELS);
  for (size_t i = 0; i < n_labels; i++)
    {
      if (!valid_name (label_names[i], false) || kd_str_has_prefix (label_names[i], "__")
          || (type == KD_METRIC_HISTOGRAM && strcmp (label_names[i], "le") == 0))
        return kd_make_error (err, EINVAL, "metric `%s`: label name `%s` is not valid", name,
                              label_names[i] ? label_names[i] : "");
      for (size_t j = 0; j < i; j++)
        if (strcmp (label_names[i], label_names[j]) == 0)
          return kd_make_error (err, EINVAL, "metric `%s`: duplicate label `%s`", name,
                                label_names[i]);
    }
  if (type == KD_METRIC_HISTOGRAM)
    {
      if (n_buckets == 0 || n_buckets > KD_METRICS_MAX_BUCKETS)
        return kd_make_error (err, EINVAL, "histogram `%s`: 1 to %d buckets needed", name,
                              KD_METRICS_MAX_BUCKETS);
      for (size_t i = 0; i < n_buckets; i++)
        if (!isfinite (buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
          return kd_make_error (err, EINVAL, "histogram `%s`: buckets must increase", name);
    }

  pthread_mutex_lock (&r->lock);
  pos = family_pos (r, name, &found);
  if (found)
    {
      ret = kd_make_error (err, EEXIST, "metric `%s` is already registered", name);
      goto out;
    }
  f = xcalloc (1, sizeof (*f));
  f->name = xstrdup (name);
  f->help = xstrdup (help ? help : "");
  f->type = type;
  f->n_labels = n_labels;
  f->label_names = xcalloc (n_labels ? n_labels : 1, sizeof (char *));
  for (size_t i = 0; i < n_labels; i++)
    {
      f->label_names[i] = xstrdup (label_names[i]);
      f->order[i] = i;
    }
  /* insertion sort of the label indexes by label name */
  for (size_t i = 1; i < n_labels; i++)
    for (size_t j = i; j > 0 && strcmp (label_names[f->order[j]], label_names[f->order[j - 1]]) < 0;
         j--)
      {
        size_t t = f->order[j];
        f->order[j] = f->order[j - 1];
        f->order[j - 1] = t;
      }
  if (type == KD_METRIC_HISTOGRAM)
    {
      f->bounds = xmalloc (n_buckets * sizeof (double));
      memcpy (f->bounds, buckets, n_buckets * sizeof (double));
      f->n_bounds = n_buckets;
    }
  /* A metric without labels exists from the start, as client_golang's
     plain Counter/Gauge/Histogram do. */
  if (n_labels == 0)
    series_insert (f, 0, NULL);
  kd_grow ((void **) &r->families, &r->cap_families, r->n_families, sizeof (kd_family_t *));
  memmove (r->families + pos + 1, r->families + pos,
           (r->n_families - pos) * sizeof (kd_family_t *));
  r->families[pos] = f;
  r->n_families++;
out:
  pthread_mutex_unlock (&r->lock);
  return ret;
}

typedef enum
{
  OP_ADD,
  OP_SET,
  OP_OBSERVE,
} op_t;

static void count_dropped (kd_metrics_registry_t *r, const char *family);

/* With r->lock held. Finds or makes the series (subject to the bound). */
static kd_series_t *
series_get (kd_metrics_registry_t *r, kd_family_t *f, const char *const *values, size_t n_values,
            kd_error_t *err)
{
  char *clean[KD_METRICS_MAX_LABELS];
  const char *use[KD_METRICS_MAX_LABELS];
  kd_series_t *s = NULL;
  size_t pos;
  bool found;

  if (n_values != f->n_labels)
    {
      kd_make_error (err, EINVAL, "metric `%s`: %zu label values for %zu labels", f->name, n_values,
                     f->n_labels);
      return NULL;
    }
  for (size_t i = 0; i < n_values; i++)
    {
      clean[i] = sanitize_value (values[i] ? values[i] : "");
      use[i] = clean[i];
    }
  pos = series_pos (f, use, &found);
  if (found)
    s = f->series[pos];
  else if (f->n_series >= r->max_series)
    {
      if (!f->overflow_logged)
        kd_warn ("metric `%s`: more than %zu label sets; new ones are dropped", f->name,
                 r->max_series);
      f->overflow_logged = true;
      kd_make_error (err, ENOSPC, "metric `%s`: series limit %zu reached", f->name, r->max_series);
      count_dropped (r, f->name);
    }
  else
    s = series_insert (f, pos, use);
  for (size_t i = 0; i < n_values; i++)
    free (clean[i]);
  return s;
}

static void
count_dropped (kd_metrics_registry_t *r, const char *family)
{
  kd_family_t *d = family_get (r, KD_METRICS_DROPPED);
  const char *v[1] = { family };
  kd_series_t *s;
  size_t pos;
  bool found;

  if (d == NULL || d->n_labels != 1 || strcmp (family, KD_METRICS_DROPPED) == 0)
    return;
  pos = series_pos (d, v, &found);
  s = found ? d->series[pos] : series_insert (d, pos, v);
  s->value++;
}

static int
update (kd_metrics_registry_t *r, op_t op, const char *name, double v, const char *const *values,
        size_t n_values, kd_error_t *err)
{
  kd_family_t *f;
  kd_series_t *s;
  int ret = 0;

  pthread_mutex_lock (&r->lock);
  f = family_get (r, name);
  if (f == NULL)
    {
      ret = kd_make_error (err, ENOENT, "metric `%s` is not registered", name);
      goto out;
    }
  if ((op == OP_OBSERVE) != (f->type == KD_METRIC_HISTOGRAM)
      || (op == OP_SET && f->type != KD_METRIC_GAUGE))
    {
      ret = kd_make_error (err, EINVAL, "metric `%s`: wrong operation for its type", name);
      goto out;
    }
  if (f->type == KD_METRIC_COUNTER && !(v >= 0))
    {
      ret = kd_make_error (err, EINVAL, "counter `%s`: cannot add %g", name, v);
      goto out;
    }
  s = series_get (r, f, values, n_values, err);
  if (s == NULL)
    {
      ret = -1;
      goto out;
    }
  switch (op)
    {
    case OP_ADD:
      s->value += v;
      break;
    case OP_SET:
      s->value = v;
      break;
    case OP_OBSERVE:
      {
        size_t b = 0;
        /* the first bucket whose upper bound (inclusive) holds v */
        while (b < f->n_bounds && !(v <= f->bounds[b]))
          b++;
        s->buckets[b]++;
        s->count++;
        s->sum += v;
      }
      break;
    }
out:
  pthread_mutex_unlock (&r->lock);
  return ret;
}

int
kd_metrics_reg_add (kd_metrics_registry_t *r, const char *name, double v, const char *const *values,
                    size_t n_values, kd_error_t *err)
{
  return update (r, OP_ADD, name, v, values, n_values, err);
}

int
kd_metrics_reg_set (kd_metrics_registry_t *r, const char *name, double v, const char *const *values,
                    size_t n_values, kd_error_t *err)
{
  return update (r, OP_SET, name, v, values, n_values, err);
}

int
kd_metrics_reg_observe (kd_metrics_registry_t *r, const char *name, double v,
                        const char *const *values, size_t n_values, kd_error_t *err)
{
  return update (r, OP_OBSERVE, name, v, values, n_values, err);
}

void
kd_metrics_reg_reset (kd_metrics_registry_t *r, const char *name)
{
  kd_family_t *f;

  pthread_mutex_lock (&r->lock);
  f = family_get (r, name);
  if (f && f->n_labels > 0)
    {
      for (size_t i = 0; i < f->n_series; i++)
        series_free (f, f->series[i]);
      f->n_series = 0;
    }
  else if (f && f->n_series == 1)
    {
      kd_series_t *s = f->series[0];
      s->value = s->sum = 0;
      s->count = 0;
      if (s->buckets)
        memset (s->buckets, 0, (f->n_bounds + 1) * sizeof (uint64_t));
    }
  pthread_mutex_unlock (&r->lock);
}

static ssize_t
label_index (const kd_family_t *f, const char *label)
{
  for (size_t i = 0; i < f->n_labels; i++)
    if (strcmp (f->label_names[i], label) == 0)
      return (ssize_t) i;
  return -1;
}

size_t
kd_metrics_reg_forget (kd_metrics_registry_t *r, const char *const *label_names,
                       const char *const *values, size_t n)
{
  size_t gone = 0;

  if (n == 0 || n > KD_METRICS_MAX_LABELS)
    return 0;
  pthread_mutex_lock (&r->lock);
  for (size_t fi = 0; fi < r->n_families; fi++)
    {
      kd_family_t *f = r->families[fi];
      ssize_t idx[KD_METRICS_MAX_LABELS];
      size_t keep = 0;
      bool all = true;

      for (size_t k = 0; k < n && all; k++)
        all = (idx[k] = label_index (f, label_names[k])) >= 0;
      if (!all)
        continue;
      for (size_t i = 0; i < f->n_series; i++)
        {
          kd_series_t *s = f->series[i];
          bool match = true;
          for (size_t k = 0; k < n && match; k++)
            match = strcmp (s->values[idx[k]], values[k]) == 0;
          if (match)
            {
              series_free (f, s);
              gone++;
            }
          else
            f->series[keep++] = s;
        }
      f->n_series = keep;
    }
  pthread_mutex_unlock (&r->lock);
  return gone;
}

double
kd_metrics_reg_value (kd_metrics_registry_t *r, const char *name, const char *const *values,
                      size_t n_values)
{
  double v = NAN;
  kd_family_t *f;

  pthread_mutex_lock (&r->lock);
  f = family_get (r, name);
  if (f && n_values == f->n_labels)
    {
      bool found;
      size_t pos = series_pos (f, values, &found);
      if (found)
        v = f->type == KD_METRIC_HISTOGRAM ? (double) f->series[pos]->count : f->series[pos]->value;
    }
  pthread_mutex_unlock (&r->lock);
  return v;
}

size_t
kd_metrics_reg_series_count (kd_metrics_registry_t *r, const char *name)
{
  kd_family_t *f;
  size_t n = 0;

  pthread_mutex_lock (&r->lock);
  f = family_get (r, name);
  if (f)
    n = f->n_series;
  pthread_mutex_unlock (&r->lock);
  return n;
}

/* ---- the default registry ------------------------------------------ */

static kd_metrics_registry_t *default_registry;
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;

kd_metrics_registry_t *
kd_metrics_default (void)
{
  kd_metrics_registry_t *r;

  pthread_mutex_lock (&default_lock);
  if (default_registry == NULL)
    {
      default_registry = kd_metrics_registry_new (KD_METRICS_MAX_SERIES);
      kd_metrics_catalog_register (default_registry);
    }
  r = default_registry;
  pthread_mutex_unlock (&default_lock);
  return r;
}

void
kd_metrics_default_free (void)
{
  pthread_mutex_lock (&default_lock);
  kd_metrics_registry_free (default_registry);
  default_registry = NULL;
  pthread_mutex_unlock (&default_lock);
}

static void
update_va (op_t op, const char *name, double v, va_list ap)
{
  const char *values[KD_METRICS_MAX_LABELS];
  kd_error_t err = NULL;
  const char *s;
  size_t n = 0;

  while ((s = va_arg (ap, const char *)) != NULL)
    {
      if (n == KD_METRICS_MAX_LABELS)
        {
          kd_vlog (2, "metric `%s`: too many label values; ignored", name);
          return;
        }
      values[n++] = s;
    }
  if (update (kd_metrics_default (), op, name, v, values, n, &err) < 0)
    {
      /* The bound was already reported once; misuse is for developers. */
      kd_vlog (2, "%s", err && err->msg ? err->msg : name);
      kd_error_release (&err);
    }
}

void
kd_metrics_counter_addv (const char *name, double v, ...)
{
  va_list ap;

  va_start (ap, v);
  update_va (OP_ADD, name, v, ap);
  va_end (ap);
}

void
kd_metrics_gauge_setv (const char *name, double v, ...)
{
  va_list ap;

  va_start (ap, v);
  update_va (OP_SET, name, v, ap);
  va_end (ap);
}

void
kd_metrics_gauge_addv (const char *name, double v, ...)
{
  va_list ap;

  va_start (ap, v);
  update_va (OP_ADD, name, v, ap);
  va_end (ap);
}

void
kd_metrics_observev (const char *name, double v, ...)
{
  va_list ap;

  va_start (ap, v);
  update_va (OP_OBSERVE, name, v, ap);
  va_end (ap);
}

void
kd_metrics_forget_pod (const char *namespace_, const char *pod)
{
  static const char *const labels[] = { "namespace", "pod" };
  const char *values[] = { namespace_ ? namespace_ : "", pod ? pod : "" };

  kd_metrics_reg_forget (kd_metrics_default (), labels, values, 2);
}
