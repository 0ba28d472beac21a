/* The metrics registry, the text exposition and the stats helpers.

   The exposition is checked by a strict parser of the text format 0.0.4
   written here (Debian's promtool comes only with the whole Prometheus
   server): every line, every escape, HELP/TYPE placement, contiguous
   families, no duplicate series, histogram consistency. The same binary
   checks a file for the end-to-end test: `test_metrics --check FILE`. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kubeletd/metrics.h"

/* The parser keeps bounded copies of keys on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ---- a strict parser of the text format ----------------------------- */

#define MAXF 512

typedef struct
{
  char name[256];
  char type[16]; /* "" until a TYPE line */
  bool help_seen;
  bool samples_seen;
  bool closed; /* another family's samples came after this one's */
} pfam_t;

typedef struct
{
  char key[1024]; /* series identity: family + labels without le */
  double inf;     /* le="+Inf" value */
  double last_le, last_count;
  bool has_inf, has_sum, has_count, any_bucket;
  double count;
} phist_t;

typedef struct
{
  pfam_t fams[MAXF];
  size_t n_fams;
  char seen[8192][300]; /* name{labels} of every sample, for duplicates */
  size_t n_seen;
  phist_t hists[2048];
  size_t n_hists;
  int current; /* index of the family whose samples are being read */
  char err[512];
  int line;
} parser_t;

static int perr (parser_t *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
perr (parser_t *p, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf (p->err, sizeof (p->err), "line %d: ", p->line);

  va_start (ap, fmt);
  vsnprintf (p->err + n, sizeof (p->err) - (size_t) n, fmt, ap);
  va_end (ap);
  return -1;
}

static bool
name_char (char c, bool first, bool colon)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':')
         || (!first && c >= '0' && c <= '9');
}

static const char *
read_name (const char *s, char *out, size_t size, bool colon)
{
  size_t n = 0;

  if (!name_char (*s, true, colon))
    return NULL;
  while (name_char (s[n], n == 0, colon))
    {
      if (n + 1 >= size)
        return NULL;
      out[n] = s[n];
      n++;
    }
  out[n] = '\0';
  return s + n;
}

/* Go's strconv.ParseFloat as the text parser uses it, but strict: no
   spaces, no hex, the special words exactly. */
static bool
parse_value (const char *s, size_t len, double *v)
{
  char buf[64];
  char *end;

  if (len == 0 || len >= sizeof (buf))
    return false;
  memcpy (buf, s, len);
  buf[len] = '\0';
  if (strcmp (buf, "+Inf") == 0 || strcmp (buf, "Inf") == 0)
    return *v = INFINITY, true;
  if (strcmp (buf, "-Inf") == 0)
    return *v = -INFINITY, true;
  if (strcmp (buf, "NaN") == 0)
    return *v = NAN, true;
  for (size_t i = 0; i < len; i++)
    if (!strchr ("0123456789+-.eE", buf[i]))
      return false;
  errno = 0;
  *v = strtod (buf, &end);
  return *end == '\0' && errno == 0;
}

static pfam_t *
family_of (parser_t *p, const char *name, bool create)
{
  for (size_t i = 0; i < p->n_fams; i++)
    if (strcmp (p->fams[i].name, name) == 0)
      return &p->fams[i];
  if (!create || p->n_fams == MAXF)
    return NULL;
  snprintf (p->fams[p->n_fams].name, sizeof (p->fams[0].name), "%s", name);
  return &p->fams[p->n_fams++];
}

/* The family a sample name belongs to: a histogram's _bucket/_sum/_count
   belong to the histogram family declared by TYPE. */
static pfam_t *
sample_family (parser_t *p, const char *name, const char **suffix)
{
  static const char *const sfx[] = { "_bucket", "_sum", "_count" };
  char base[256];

  *suffix = "";
  for (size_t i = 0; i < 3; i++)
    {
      size_t n = strlen (name), k = strlen (sfx[i]);
      pfam_t *f;
      if (n <= k || strcmp (name + n - k, sfx[i]) != 0)
        continue;
      snprintf (base, sizeof (base), "%.*s", (int) (n - k), name);
      f = family_of (p, base, false);
      if (f && strcmp (f->type, "histogram") == 0)
        {
          *suffix = sfx[i];
          return f;
        }
    }
  return family_of (p, name, true);
}

static int
parse_comment (parser_t *p, const char *line)
{
  char name[256];
  const char *s;
  pfam_t *f;

  if (strncmp (line, "# HELP ", 7) != 0 && strncmp (line, "# TYPE ", 7) != 0)
    return 0; /* a plain comment */
  s = read_name (line + 7, name, sizeof (name), true);
  if (s == NULL)
    return perr (p, "bad metric name in comment");
  if (*s != ' ' && *s != '\0')
    return perr (p, "junk after metric name");
  f = family_of (p, name, true);
  if (f == NULL)
    return perr (p, "too many families");
  if (f->samples_seen)
    return perr (p, "%s for `%s` after its samples", line[2] == 'H' ? "HELP" : "TYPE", name);
  if (line[2] == 'H')
    {
      if (f->help_seen)
        return perr (p, "second HELP for `%s`", name);
      f->help_seen = true;
      for (s = *s ? s + 1 : s; *s; s++)
        {
          if (*s != '\\')
            continue;
          if (s[1] != '\\' && s[1] != 'n')
            return perr (p, "bad escape in HELP");
          s++;
        }
      return 0;
    }
  if (f->type[0])
    return perr (p, "second TYPE for `%s`", name);
  if (*s != ' ')
    return perr (p, "TYPE without a type");
  s++;
  if (strcmp (s, "counter") && strcmp (s, "gauge") && strcmp (s, "histogram")
      && strcmp (s, "summary") && strcmp (s, "untyped"))
    return perr (p, "unknown type `%s`", s);
  snprintf (f->type, sizeof (f->type), "%s", s);
  return 0;
}

static phist_t *
hist_of (parser_t *p, const char *key)
{
  for (size_t i = 0; i < p->n_hists; i++)
    if (strcmp (p->hists[i].key, key) == 0)
      return &p->hists[i];
  if (p->n_hists == 2048)
    return NULL;
  memset (&p->hists[p->n_hists], 0, sizeof (phist_t));
  p->hists[p->n_hists].last_le = -INFINITY;
  snprintf (p->hists[p->n_hists].key, sizeof (p->hists[0].key), "%s", key);
  return &p->hists[p->n_hists++];
}

static int
parse_sample (parser_t *p, const char *line)
{
  char name[256], lname[128], lnames[16][128], labels[1024] = "", le[64] = "";
  size_t n_labels = 0;
  const char *s, *suffix, *sp;
  double v, le_v = 0;
  pfam_t *f;
  char key[1400];

  s = read_name (line, name, sizeof (name), true);
  if (s == NULL)
    return perr (p, "bad metric name");
  if (*s == '{')
    {
      s++;
      while (*s != '}')
        {
          char val[1024];
          size_t vn = 0;

          s = read_name (s, lname, sizeof (lname), false);
          if (s == NULL || strncmp (lname, "__", 2) == 0)
            return perr (p, "bad label name");
          for (size_t i = 0; i < n_labels; i++)
            if (strcmp (lnames[i], lname) == 0)
              return perr (p, "duplicate label `%s`", lname);
          if (n_labels == 16)
            return perr (p, "too many labels");
          snprintf (lnames[n_labels++], sizeof (lnames[0]), "%s", lname);
          if (s[0] != '=' || s[1] != '"')
            return perr (p, "expected =\" after label name");
          for (s += 2; *s != '"'; s++)
            {
              if (*s == '\0')
                return perr (p, "unterminated label value");
              if (*s == '\\')
                {
                  s++;
                  if (*s != '\\' && *s != '"' && *s != 'n')
                    return perr (p, "bad escape in label value");
                }
              if (vn + 2 >= sizeof (val))
                return perr (p, "label value too long");
              val[vn++] = *s;
            }
          val[vn] = '\0';
          s++;
          if (strcmp (lname, "le") == 0)
            snprintf (le, sizeof (le), "%s", val);
          else
            {
              size_t l = strlen (labels);
              snprintf (labels + l, sizeof (labels) - l, "%s=%s,", lname, val);
            }
          if (*s == ',')
            s++;
          else if (*s != '}')
            return perr (p, "expected , or } after a label");
        }
      s++;
    }
  if (*s != ' ')
    return perr (p, "expected a space before the value");
  s++;
  sp = strchr (s, ' ');
  if (!parse_value (s, sp ? (size_t) (sp - s) : strlen (s), &v))
    return perr (p, "bad value `%s`", s);
  if (sp)
    {
      char *end;
      errno = 0;
      strtoll (sp + 1, &end, 10);
      if (sp[1] == '\0' || *end != '\0' || errno)
        return perr (p, "bad timestamp");
    }

  f = sample_family (p, name, &suffix);
  if (f == NULL)
    return perr (p, "too many families");
  if (f->closed)
    return perr (p, "samples of `%s` are not contiguous", f->name);
  if (p->current >= 0 && &p->fams[p->current] != f)
    p->fams[p->current].closed = true;
  p->current = (int) (f - p->fams);
  f->samples_seen = true;
  if (strcmp (f->type, "counter") == 0 && !(v >= 0))
    return perr (p, "counter `%s` is negative or NaN", name);

  snprintf (key, sizeof (key), "%s{%s}le=%s", name, labels, le);
  for (size_t i = 0; i < p->n_seen; i++)
    if (strcmp (p->seen[i], key) == 0)
      return perr (p, "duplicate series %s", key);
  if (p->n_seen < 8192)
    snprintf (p->seen[p->n_seen++], sizeof (p->seen[0]), "%s", key);

  if (strcmp (f->type, "histogram") == 0)
    {
      phist_t *h;
      snprintf (key, sizeof (key), "%s{%s}", f->name, labels);
      h = hist_of (p, key);
      if (h == NULL)
        return perr (p, "too many histograms");
      if (*suffix == '\0')
        return perr (p, "histogram `%s` sample without a suffix", name);
      if (strcmp (suffix, "_bucket") == 0)
        {
          if (le[0] == '\0' || !parse_value (le, strlen (le), &le_v) || isnan (le_v))
            return perr (p, "bucket without a valid le");
          if (le_v <= h->last_le)
            return perr (p, "buckets of %s not in increasing le order", key);
          if (h->any_bucket && v < h->last_count)
            return perr (p, "buckets of %s not cumulative", key);
          if (h->has_sum || h->has_count)
            return perr (p, "bucket of %s after its _sum/_count", key);
          h->any_bucket = true;
          h->last_le = le_v;
          h->last_count = v;
          if (isinf (le_v) && le_v > 0)
            h->has_inf = true, h->inf = v;
        }
      else if (le[0])
        return perr (p, "le on a %s sample", suffix);
      else if (strcmp (suffix, "_sum") == 0)
        h->has_sum = true;
      else
        h->has_count = true, h->count = v;
    }
  else if (le[0] && strcmp (f->type, "untyped") != 0 && f->type[0])
    return perr (p, "le label on a %s", f->type);
  return 0;
}

/* Returns 0 when text is a valid exposition; else -1 with p->err. */
static int
parse_exposition (parser_t *p, const char *text)
{
  const char *s = text;

  memset (p, 0, sizeof (*p));
  p->current = -1;
  if (*text == '\0')
    return 0;
  if (text[strlen (text) - 1] != '\n')
    return perr (p, "the last line has no newline");
  while (*s)
    {
      const char *nl = strchr (s, '\n');
      char line[4096];
      size_t len = (size_t) (nl - s);

      p->line++;
      if (len >= sizeof (line))
        return perr (p, "line too long");
      memcpy (line, s, len);
      line[len] = '\0';
      s = nl + 1;
      if (len == 0)
        continue; /* empty lines are allowed */
      if (line[0] == '#' ? parse_comment (p, line) < 0 : parse_sample (p, line) < 0)
        return -1;
    }
  for (size_t i = 0; i < p->n_hists; i++)
    {
      phist_t *h = &p->hists[i];
      if (!h->has_inf || !h->has_sum || !h->has_count)
        return perr (p, "histogram %s lacks +Inf, _sum or _count", h->key);
      if (h->count != h->inf)
        return perr (p, "histogram %s: _count %g != +Inf bucket %g", h->key, h->count, h->inf);
    }
  return 0;
}

static parser_t P;

static void
assert_parses (const char *text)
{
  if (parse_exposition (&P, text) < 0)
    fail_msg ("exposition refused: %s\n%s", P.err, text);
}

static char *
render (kd_metrics_registry_t *r)
{
  kd_buf_t b = { 0 };

  kd_metrics_render (r, &b);
  return b.s ? b.s : xstrdup ("");
}

#define V(...)                                                                                     \
  (const char *const[])                                                                            \
  {                                                                                                \
    __VA_ARGS__                                                                                    \
  }

/* ---- the parser itself --------------------------------------------- */

static void
test_parser_accepts_valid_and_refuses_malformed (void **state)
{
  static const char *const bad[] = {
    "a 1",                                     /* no final newline */
    "1a 1\n",                                  /* name */
    "a{b=\"x\" 1\n",                           /* unterminated labels */
    "a{b=\"x\\t\"} 1\n",                       /* bad escape */
    "a{b=\"x\",b=\"y\"} 1\n",                  /* duplicate label */
    "a{__b=\"x\"} 1\n",                        /* reserved label */
    "a one\n",                                 /* value */
    "a  1\n",                                  /* two spaces */
    "# TYPE a counter\na -1\n",                /* negative counter */
    "# TYPE a counter\n# TYPE a gauge\na 1\n", /* second TYPE */
    "a 1\n# TYPE a counter\n",                 /* TYPE after samples */
    "# TYPE a nonsense\n",                     /* type */
    "a 1\nb 1\na{x=\"1\"} 2\n",                /* not contiguous */
    "a 1\na 2\n",                              /* duplicate series */
    "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",    /* no +Inf */
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", /* count != inf */
    ("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
     "h_sum 1\nh_count 1\n"), /* le order */
    "# HELP a bad \\t escape\na 1\n",
  };

  assert_int_equal (
      parse_exposition (&P, "# HELP a x\\\\y\\n\n# TYPE a counter\na{b=\"q\\\"\\n\\\\\"} 1 "
                            "1700000000000\n\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\n"
                            "h_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n"),
      0);
  for (size_t i = 0; i < KD_ARRAY_SIZE (bad); i++)
    if (parse_exposition (&P, bad[i]) == 0)
      fail_msg ("the parser accepted bad input %zu: %s", i, bad[i]);
}

/* ---- rendering ------------------------------------------------------ */

static void
test_counter_renders_help_type_and_sorted_labels (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;
  cleanup_free char *out = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_COUNTER, "req_total", "Requests.",
                                         V ("path", "code"), 2, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_reg_add (r, "req_total", 1, V ("/pods", "200"), 2, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "req_total", 2, V ("/healthz", "200"), 2, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "req_total", 1, V ("/pods", "200"), 2, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "req_total", 1, V ("/pods", "404"), 2, &err), 0);
  out = render (r);
  /* labels by name (code before path), series by those values */
  assert_string_equal (out, "# HELP req_total Requests.\n"
                            "# TYPE req_total counter\n"
                            "req_total{code=\"200\",path=\"/healthz\"} 2\n"
                            "req_total{code=\"200\",path=\"/pods\"} 2\n"
                            "req_total{code=\"404\",path=\"/pods\"} 1\n");
  assert_parses (out);
  assert_true (kd_metrics_reg_value (r, "req_total", V ("/pods", "200"), 2) == 2);
  kd_metrics_registry_free (r);
}

static void
test_families_sorted_and_empty_vectors_left_out (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;
  cleanup_free char *out = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_GAUGE, "zz", "Z.", NULL, 0, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_register (r, KD_METRIC_GAUGE, "aa", "A.", NULL, 0, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_register (r, KD_METRIC_GAUGE, "mm", "M.", V ("x"), 1, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_reg_set (r, "zz", -2.5, NULL, 0, &err), 0);
  out = render (r);
  assert_string_equal (out, "# HELP aa A.\n# TYPE aa gauge\naa 0\n"
                            "# HELP zz Z.\n# TYPE zz gauge\nzz -2.5\n");
  assert_parses (out);
  kd_metrics_registry_free (r);
}

static void
test_label_values_and_help_are_escaped (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;
  cleanup_free char *out = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_GAUGE, "g", "back\\slash\nnew \"q\"", V ("v"),
                                         1, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_reg_set (r, "g", 1, V ("a\\b\"c\nd"), 1, &err), 0);
  out = render (r);
  assert_string_equal (out, "# HELP g back\\\\slash\\nnew \"q\"\n# TYPE g gauge\n"
                            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
  assert_parses (out);
  kd_metrics_registry_free (r);
}

static void
test_histogram_buckets_are_cumulative_with_inf_sum_count (void **state)
{
  static const double b[] = { 0.1, 1, 10 };
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;
  cleanup_free char *out = NULL;

  assert_int_equal (
      kd_metrics_register (r, KD_METRIC_HISTOGRAM, "h_seconds", "H.", V ("op"), 1, b, 3, &err), 0);
  /* a value equal to a bound is in that bucket (le is inclusive) */
  for (double v = 0; v < 5; v++)
    assert_int_equal (kd_metrics_reg_observe (r, "h_seconds",
                                              v == 4   ? 20
                                              : v == 3 ? 0.1
                                                       : v,
                                              V ("sync"), 1, &err),
                      0);
  out = render (r);
  assert_string_equal (out, "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
                            "h_seconds_bucket{op=\"sync\",le=\"0.1\"} 2\n"
                            "h_seconds_bucket{op=\"sync\",le=\"1\"} 3\n"
                            "h_seconds_bucket{op=\"sync\",le=\"10\"} 4\n"
                            "h_seconds_bucket{op=\"sync\",le=\"+Inf\"} 5\n"
                            "h_seconds_sum{op=\"sync\"} 23.1\n"
                            "h_seconds_count{op=\"sync\"} 5\n");
  assert_parses (out);
  assert_true (kd_metrics_reg_value (r, "h_seconds", V ("sync"), 1) == 5);
  kd_metrics_registry_free (r);
}

static void
test_values_are_written_as_go_writes_them (void **state)
{
  static const struct
  {
    double v;
    const char *s;
  } cases[] = {
    { 0, "0" },
    { 1, "1" },
    { -1, "-1" },
    { 0.005, "0.005" },
    { 2.5, "2.5" },
    { 120, "120" },
    { 999999, "999999" },
    { 1e6, "1e+06" },
    { 20971520, "2.097152e+07" },
    { 0.0001, "0.0001" },
    { 0.00001, "1e-05" },
    { 0.1, "0.1" },
    { 1.5e-7, "1.5e-07" },
    { 3600, "3600" },
    { 123456.789, "123456.789" },
    { NAN, "NaN" },
    { INFINITY, "+Inf" },
    { -INFINITY, "-Inf" },
  };
  char buf[64];

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_metrics_format_value (cases[i].v, buf, sizeof (buf));
      assert_string_equal (buf, cases[i].s);
    }
}

/* ---- refusals and bounds ------------------------------------------- */

static void
test_register_refuses_bad_names_labels_and_buckets (void **state)
{
  static const double up[] = { 1, 2 }, down[] = { 2, 1 };
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;

#define REFUSE(call)                                                                               \
  do                                                                                               \
    {                                                                                              \
      assert_int_equal ((call), -1);                                                               \
      kd_error_release (&err);                                                                     \
    }                                                                                              \
  while (0)
  REFUSE (kd_metrics_register (r, KD_METRIC_GAUGE, "1abc", "", NULL, 0, NULL, 0, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_GAUGE, "a-b", "", NULL, 0, NULL, 0, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_GAUGE, "g", "", V ("__x"), 1, NULL, 0, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_GAUGE, "g", "", V ("a:b"), 1, NULL, 0, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_GAUGE, "g", "", V ("x", "x"), 2, NULL, 0, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_HISTOGRAM, "h", "", V ("le"), 1, up, 2, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_HISTOGRAM, "h", "", NULL, 0, down, 2, &err));
  REFUSE (kd_metrics_register (r, KD_METRIC_HISTOGRAM, "h", "", NULL, 0, NULL, 0, &err));
  assert_int_equal (
      kd_metrics_register (r, KD_METRIC_COUNTER, "ns:c_total", "", NULL, 0, NULL, 0, &err), 0);
  assert_int_equal (
      kd_metrics_register (r, KD_METRIC_COUNTER, "ns:c_total", "", NULL, 0, NULL, 0, &err), -1);
  assert_int_equal (err->status, EEXIST);
  kd_error_release (&err);
  kd_metrics_registry_free (r);
}

static void
test_updates_refuse_wrong_type_arity_and_negative_counts (void **state)
{
  static const double b[] = { 1 };
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_COUNTER, "c", "", V ("a"), 1, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_register (r, KD_METRIC_HISTOGRAM, "h", "", NULL, 0, b, 1, &err), 0);
  REFUSE (kd_metrics_reg_add (r, "c", -1, V ("x"), 1, &err));
  REFUSE (kd_metrics_reg_add (r, "c", NAN, V ("x"), 1, &err));
  REFUSE (kd_metrics_reg_set (r, "c", 3, V ("x"), 1, &err));
  REFUSE (kd_metrics_reg_observe (r, "c", 3, V ("x"), 1, &err));
  REFUSE (kd_metrics_reg_add (r, "c", 1, V ("x", "y"), 2, &err));
  REFUSE (kd_metrics_reg_add (r, "c", 1, NULL, 0, &err));
  REFUSE (kd_metrics_reg_add (r, "h", 1, NULL, 0, &err));
  REFUSE (kd_metrics_reg_add (r, "nope", 1, NULL, 0, &err));
  /* nothing was half-made by the refusals */
  assert_int_equal (kd_metrics_reg_series_count (r, "c"), 0);
  kd_metrics_registry_free (r);
}

static void
test_series_bound_drops_new_label_sets_and_counts_them (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (3);
  kd_error_t err = NULL;
  char v[16];
  cleanup_free char *out = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_COUNTER,
                                         "kubeletd_metrics_series_dropped_total", "", V ("metric"),
                                         1, NULL, 0, &err),
                    0);
  assert_int_equal (
      kd_metrics_register (r, KD_METRIC_COUNTER, "c", "", V ("pod"), 1, NULL, 0, &err), 0);
  for (int i = 0; i < 3; i++)
    {
      snprintf (v, sizeof (v), "p%d", i);
      assert_int_equal (kd_metrics_reg_add (r, "c", 1, V (v), 1, &err), 0);
    }
  assert_int_equal (kd_metrics_reg_add (r, "c", 1, V ("p9"), 1, &err), -1);
  assert_int_equal (err->status, ENOSPC);
  kd_error_release (&err);
  assert_int_equal (kd_metrics_reg_add (r, "c", 1, V ("p8"), 1, &err), -1);
  kd_error_release (&err);
  /* known series still move */
  assert_int_equal (kd_metrics_reg_add (r, "c", 1, V ("p1"), 1, &err), 0);
  assert_int_equal (kd_metrics_reg_series_count (r, "c"), 3);
  assert_true (kd_metrics_reg_value (r, "c", V ("p1"), 1) == 2);
  assert_true (kd_metrics_reg_value (r, "kubeletd_metrics_series_dropped_total", V ("c"), 1) == 2);
  out = render (r);
  assert_parses (out);
  kd_metrics_registry_free (r);
}

static void
test_label_values_are_cut_and_made_utf8 (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;
  char longv[1000];
  cleanup_free char *cut = NULL;

  memset (longv, 'x', sizeof (longv) - 1);
  longv[sizeof (longv) - 1] = '\0';
  assert_int_equal (kd_metrics_register (r, KD_METRIC_GAUGE, "g", "", V ("v"), 1, NULL, 0, &err),
                    0);
  assert_int_equal (kd_metrics_reg_set (r, "g", 1, V (longv), 1, &err), 0);
  cut = xstrndup (longv, KD_METRICS_MAX_LABEL_VALUE);
  assert_true (kd_metrics_reg_value (r, "g", V (cut), 1) == 1);
  assert_int_equal (kd_metrics_reg_set (r, "g", 2,
                                        V ("a\xff"
                                           "b\xc3\xa9"),
                                        1, &err),
                    0);
  assert_true (kd_metrics_reg_value (r, "g", V ("a?b\xc3\xa9"), 1) == 2);
  kd_metrics_registry_free (r);
}

static void
test_forget_removes_the_series_of_a_pod (void **state)
{
  kd_metrics_registry_t *r = kd_metrics_registry_new (0);
  kd_error_t err = NULL;

  assert_int_equal (kd_metrics_register (r, KD_METRIC_COUNTER, "p", "",
                                         V ("namespace", "pod", "result"), 3, NULL, 0, &err),
                    0);
  assert_int_equal (
      kd_metrics_register (r, KD_METRIC_COUNTER, "other", "", V ("pod"), 1, NULL, 0, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "p", 1, V ("default", "web", "ok"), 3, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "p", 1, V ("default", "web", "failed"), 3, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "p", 1, V ("kube", "web", "ok"), 3, &err), 0);
  assert_int_equal (kd_metrics_reg_add (r, "other", 1, V ("web"), 1, &err), 0);
  assert_int_equal (kd_metrics_reg_forget (r, V ("namespace", "pod"), V ("default", "web"), 2), 2);
  assert_int_equal (kd_metrics_reg_series_count (r, "p"), 1);
  /* a family without a namespace label is not touched */
  assert_int_equal (kd_metrics_reg_series_count (r, "other"), 1);
  kd_metrics_registry_free (r);
}

/* ---- the default registry ------------------------------------------ */

static void
test_default_catalog_renders_strictly_after_every_hook (void **state)
{
  cleanup_free char *out = NULL;

  kd_metrics_default_free ();
  kd_metrics_gauge_set ("kubelet_node_name", 1, "node1");
  kd_metrics_observe ("kubelet_pod_start_duration_seconds", 1.7);
  kd_metrics_observe ("kubelet_pod_worker_duration_seconds", 0.02, "sync");
  kd_metrics_counter_inc ("kubelet_started_containers_total", "container");
  kd_metrics_counter_inc ("kubelet_started_containers_errors_total", "StartError", "container");
  kd_metrics_counter_inc ("kubelet_restarted_pods_total", "true");
  kd_metrics_counter_inc ("prober_probe_total", "Readiness", "successful", "web", "web-node1",
                          "default", "0123");
  kd_metrics_observe ("prober_probe_duration_seconds", 0.003, "Readiness", "web", "web-node1",
                      "default");
  kd_metrics_observe ("kubelet_image_pull_duration_seconds", 3,
                      kd_metrics_image_size_bucket (5 << 20));
  kd_metrics_counter_add ("kubeletd_image_pull_bytes_total", 5 << 20);
  kd_metrics_cni_operation ("ADD", 0.2, true);
  kd_metrics_http_request ("GET", "/pods/", 200, 0.0004);
  kd_metrics_http_request ("GET", NULL, 404, 0.0001);
  /* misuse is ignored, not fatal */
  kd_metrics_counter_inc ("kubelet_started_containers_total");
  kd_metrics_counter_inc ("no_such_metric_total");

  out = render (kd_metrics_default ());
  assert_parses (out);
  assert_non_null (strstr (out, "# TYPE kubelet_pod_start_duration_seconds histogram\n"));
  assert_non_null (strstr (out, "kubelet_pod_start_duration_seconds_bucket{le=\"2\"} 1\n"));
  assert_non_null (strstr (out, "kubelet_pod_start_duration_seconds_bucket{le=\"3600\"} 1\n"));
  assert_non_null (strstr (out, "kubelet_node_name{node=\"node1\"} 1\n"));
  assert_non_null (strstr (
      out, "kubelet_image_pull_duration_seconds_count{image_size_in_bytes=\"0-10MB\"} 1\n"));
  assert_non_null (strstr (out, "kubeletd_image_pull_bytes_total 5.24288e+06\n"));
  assert_non_null (strstr (out, "kubeletd_http_requests_total{code=\"200\",method=\"GET\","
                                "path=\"/pods/\"} 1\n"));
  assert_non_null (strstr (out, "kubeletd_http_requests_total{code=\"404\",method=\"GET\","
                                "path=\"other\"} 1\n"));
  assert_non_null (strstr (out, "prober_probe_total{container=\"web\",namespace=\"default\","
                                "pod=\"web-node1\",pod_uid=\"0123\",probe_type=\"Readiness\","
                                "result=\"successful\"} 1\n"));
  assert_non_null (strstr (out, "kubelet_started_containers_errors_total{code=\"StartError\","
                                "container_type=\"container\"} 1\n"));
  assert_non_null (strstr (out, "kubelet_network_plugin_operations_errors_total{operation_type="
                                "\"set_up_pod\"} 1\n"));
  /* label-less families exist before their first event */
  assert_non_null (strstr (out, "kubelet_started_pods_total 0\n"));

  kd_metrics_forget_pod ("default", "web-node1");
  free (out);
  out = render (kd_metrics_default ());
  assert_parses (out);
  assert_null (strstr (out, "prober_probe_total"));
  assert_null (strstr (out, "prober_probe_duration_seconds"));
  kd_metrics_default_free ();
}

static void
test_image_size_buckets_follow_the_kubelet (void **state)
{
  assert_string_equal (kd_metrics_image_size_bucket (0), "N/A");
  assert_string_equal (kd_metrics_image_size_bucket (1), "0-10MB");
  assert_string_equal (kd_metrics_image_size_bucket (10 << 20), "0-10MB");
  assert_string_equal (kd_metrics_image_size_bucket ((10 << 20) + 1), "10MB-100MB");
  assert_string_equal (kd_metrics_image_size_bucket (3ull << 30), "1GB-5GB");
  assert_string_equal (kd_metrics_image_size_bucket (200ull << 30), "GT100GB");
}

/* ---- stats helpers ------------------------------------------------- */

static void
test_cpu_rate_needs_two_readings_a_window_apart (void **state)
{
  kd_cpu_rates_t *t = kd_cpu_rates_new ();
  const int64_t s = 1000000000LL;
  uint64_t nc = 0;

  assert_false (kd_cpu_rates_update (t, "/pod", 0, 10 * s, s, &nc));
  /* too close to the first reading: no rate yet */
  assert_false (kd_cpu_rates_update (t, "/pod", 100, 10 * s + s / 2, s, &nc));
  /* one CPU second over two seconds: half a core */
  assert_true (kd_cpu_rates_update (t, "/pod", (uint64_t) s, 12 * s, s, &nc));
  assert_int_equal (nc, 500000000);
  /* a close reading reuses the last rate */
  assert_true (kd_cpu_rates_update (t, "/pod", (uint64_t) s, 12 * s + 10, s, &nc));
  assert_int_equal (nc, 500000000);
  /* 40 busy seconds at 2 cores: no overflow */
  assert_true (kd_cpu_rates_update (t, "/pod", (uint64_t) s + 80 * (uint64_t) s, 52 * s, s, &nc));
  assert_int_equal (nc, 2000000000);
  /* a counter that went back (a new cgroup) starts over */
  assert_false (kd_cpu_rates_update (t, "/pod", 5, 60 * s, s, &nc));
  assert_int_equal (kd_cpu_rates_size (t), 1);
  kd_cpu_rates_update (t, "/other", 5, 100 * s, s, &nc);
  kd_cpu_rates_prune (t, 90 * s);
  assert_int_equal (kd_cpu_rates_size (t), 1);
  kd_cpu_rates_free (t);
}

static void
test_du_counts_blocks_and_hard_links_once (void **state)
{
  char dir[] = "/tmp/kd-du-XXXXXX";
  cleanup_free char *a = NULL, *b = NULL, *sub = NULL, *c = NULL, *l = NULL, *cmd = NULL;
  char data[20000];
  kd_error_t err = NULL;
  uint64_t bytes, inodes;
  struct stat st_a, st_c, st_dir, st_sub, st_l;

  assert_non_null (mkdtemp (dir));
  a = xasprintf ("%s/a", dir);
  b = xasprintf ("%s/b", dir);
  sub = xasprintf ("%s/sub", dir);
  c = xasprintf ("%s/sub/c", dir);
  memset (data, 'x', sizeof (data));
  assert_int_equal (kd_write_file_atomic (a, data, sizeof (data), 0644, &err), 0);
  assert_int_equal (link (a, b), 0);
  assert_int_equal (mkdir (sub, 0755), 0);
  assert_int_equal (kd_write_file_atomic (c, data, 100, 0644, &err), 0);
  l = xasprintf ("%s/l", dir);
  /* a symlink counts as itself; /etc behind it is not walked */
  assert_int_equal (symlink ("/etc", l), 0);
  assert_int_equal (lstat (l, &st_l), 0);
  assert_int_equal (stat (a, &st_a), 0);
  assert_int_equal (stat (c, &st_c), 0);
  assert_int_equal (stat (dir, &st_dir), 0);
  assert_int_equal (stat (sub, &st_sub), 0);

  assert_int_equal (kd_du (dir, 0, &bytes, &inodes, &err), 0);
  assert_int_equal (bytes, (uint64_t) (st_a.st_blocks + st_c.st_blocks + st_dir.st_blocks
                                       + st_sub.st_blocks + st_l.st_blocks)
                               * 512);
  assert_int_equal (inodes, 5);
  assert_true (bytes >= sizeof (data));
  /* missing is zero, not an error */
  assert_int_equal (kd_du ("/nonexistent/kd-du", 0, &bytes, &inodes, &err), 0);
  assert_int_equal (bytes, 0);
  cmd = xasprintf ("rm -rf %s", dir);
  assert_int_equal (system (cmd), 0);
}

static int
check_file (const char *path)
{
  cleanup_free char *text = NULL;
  kd_error_t err = NULL;
  size_t len;

  if (kd_read_file (path, 64 << 20, &text, &len, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      return 2;
    }
  if (strlen (text) != len)
    {
      fprintf (stderr, "%s: NUL byte in the exposition\n", path);
      return 1;
    }
  if (parse_exposition (&P, text) < 0)
    {
      fprintf (stderr, "%s: %s\n", path, P.err);
      return 1;
    }
  printf ("%s: %zu families, %zu samples\n", path, P.n_fams, P.n_seen);
  return 0;
}

int
main (int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parser_accepts_valid_and_refuses_malformed),
    cmocka_unit_test (test_counter_renders_help_type_and_sorted_labels),
    cmocka_unit_test (test_families_sorted_and_empty_vectors_left_out),
    cmocka_unit_test (test_label_values_and_help_are_escaped),
    cmocka_unit_test (test_histogram_buckets_are_cumulative_with_inf_sum_count),
    cmocka_unit_test (test_values_are_written_as_go_writes_them),
    cmocka_unit_test (test_register_refuses_bad_names_labels_and_buckets),
    cmocka_unit_test (test_updates_refuse_wrong_type_arity_and_negative_counts),
    cmocka_unit_test (test_series_bound_drops_new_label_sets_and_counts_them),
    cmocka_unit_test (test_label_values_are_cut_and_made_utf8),
    cmocka_unit_test (test_forget_removes_the_series_of_a_pod),
    cmocka_unit_test (test_default_catalog_renders_strictly_after_every_hook),
    cmocka_unit_test (test_image_size_buckets_follow_the_kubelet),
    cmocka_unit_test (test_cpu_rate_needs_two_readings_a_window_apart),
    cmocka_unit_test (test_du_counts_blocks_and_hard_links_once),
  };

  if (argc == 3 && strcmp (argv[1], "--check") == 0)
    return check_file (argv[2]);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
