/* The text exposition format 0.0.4, written the way Prometheus'
   client_golang (expfmt) writes it, so scrapers and promtool read it as
   they read a kubelet's: "# HELP" and "# TYPE" per family, families by
   name, series by label values, label pairs by name, histograms as
   cumulative _bucket{le} series with _sum and _count. */
#include <math.h>

#include "metrics-internal.h"

void
kd_metrics_format_value (double v, char *buf, size_t size)
{
  int prec, exp10;

  if (isnan (v))
    {
      snprintf (buf, size, "NaN");
      return;
    }
  if (isinf (v))
    {
      snprintf (buf, size, v > 0 ? "+Inf" : "-Inf");
      return;
    }
  if (v == 0)
    {
      snprintf (buf, size, signbit (v) ? "-0" : "0");
      return;
    }
  /* Go's strconv.FormatFloat (v, 'g', -1, 64), which expfmt uses: the
     fewest significant digits that read back as v; %e form when the
     decimal exponent is below -4 or at least 6 (Go's exponent threshold
     for the shortest form), else plain decimals ("0.005", "120",
     "999999", "1e+06", "2.097152e+07"). */
  for (prec = 1; prec < 17; prec++)
    {
      snprintf (buf, size, "%.*e", prec - 1, v);
      if (strtod (buf, NULL) == v)
        break;
    }
  snprintf (buf, size, "%.*e", prec - 1, v);
  exp10 = atoi (strchr (buf, 'e') + 1);
  if (exp10 < -4 || exp10 >= 6)
    return;
  snprintf (buf, size, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, v);
}

static void
put_escaped (kd_buf_t *b, const char *s, bool quote)
{
  for (const char *p = s; *p; p++)
    switch (*p)
      {
      case '\\':
        kd_buf_puts (b, "\\\\");
        break;
      case '\n':
        kd_buf_puts (b, "\\n");
        break;
      case '"':
        kd_buf_puts (b, quote ? "\\\"" : "\"");
        break;
      default:
        kd_buf_putc (b, *p);
      }
}

/* "{a="x",b="y"" without the closing brace, or nothing without labels. */
static bool
put_labels (kd_buf_t *b, const kd_family_t *f, const kd_series_t *s)
{
  for (size_t k = 0; k < f->n_labels; k++)
    {
      size_t i = f->order[k];
      kd_buf_puts (b, k == 0 ? "{" : ",");
      kd_buf_puts (b, f->label_names[i]);
      kd_buf_puts (b, "=\"");
      put_escaped (b, s->values[i], true);
      kd_buf_putc (b, '"');
    }
  return f->n_labels > 0;
}

static void
put_sample (kd_buf_t *b, const kd_family_t *f, const char *suffix, const kd_series_t *s,
            const char *le, double v)
{
  char num[64];
  bool open;

  kd_buf_puts (b, f->name);
  kd_buf_puts (b, suffix);
  open = put_labels (b, f, s);
  if (le)
    {
      kd_buf_puts (b, open ? ",le=\"" : "{le=\"");
      kd_buf_puts (b, le);
      kd_buf_putc (b, '"');
      open = true;
    }
  if (open)
    kd_buf_putc (b, '}');
  kd_metrics_format_value (v, num, sizeof (num));
  kd_buf_putc (b, ' ');
  kd_buf_puts (b, num);
  kd_buf_putc (b, '\n');
}

static const char *
type_name (kd_metric_type_t t)
{
  switch (t)
    {
    case KD_METRIC_COUNTER:
      return "counter";
    case KD_METRIC_GAUGE:
      return "gauge";
    case KD_METRIC_HISTOGRAM:
      return "histogram";
    }
  return "untyped";
}

void
kd_metrics_render (kd_metrics_registry_t *r, kd_buf_t *out)
{
  pthread_mutex_lock (&r->lock);
  for (size_t fi = 0; fi < r->n_families; fi++)
    {
      const kd_family_t *f = r->families[fi];

      /* A vector with no series yet is left out, as client_golang does. */
      if (f->n_series == 0)
        continue;
      kd_buf_printf (out, "# HELP %s ", f->name);
      put_escaped (out, f->help, false);
      kd_buf_printf (out, "\n# TYPE %s %s\n", f->name, type_name (f->type));
      for (size_t si = 0; si < f->n_series; si++)
        {
          const kd_series_t *s = f->series[si];
          uint64_t cum = 0;
          char le[64];

          if (f->type != KD_METRIC_HISTOGRAM)
            {
              put_sample (out, f, "", s, NULL, s->value);
              continue;
            }
          for (size_t b = 0; b < f->n_bounds; b++)
            {
              cum += s->buckets[b];
              kd_metrics_format_value (f->bounds[b], le, sizeof (le));
              put_sample (out, f, "_bucket", s, le, (double) cum);
            }
          cum += s->buckets[f->n_bounds];
          put_sample (out, f, "_bucket", s, "+Inf", (double) cum);
          put_sample (out, f, "_sum", s, NULL, s->sum);
          put_sample (out, f, "_count", s, NULL, (double) s->count);
        }
    }
  pthread_mutex_unlock (&r->lock);
}
