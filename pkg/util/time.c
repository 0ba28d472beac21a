/* Time stamps (RFC 3339), Go durations and byte sizes for flags. */
#include <ctype.h>
#include <math.h>
#include <time.h>

#include "kubeletd/util.h"

int64_t
kd_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
kd_monotonic_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
split (int64_t ns, time_t *sec, long *frac)
{
  *sec = (time_t) (ns / 1000000000);
  *frac = (long) (ns % 1000000000);
  if (*frac < 0)
    {
      *frac += 1000000000;
      (*sec)--;
    }
}

void
kd_format_time (int64_t unix_ns, char *buf, size_t size)
{
  time_t sec;
  long frac;
  struct tm tm;

  split (unix_ns, &sec, &frac);
  gmtime_r (&sec, &tm);
  strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
kd_format_time_nano (int64_t unix_ns, char *buf, size_t size)
{
  time_t sec;
  long frac;
  struct tm tm;
  char head[32];

  split (unix_ns, &sec, &frac);
  gmtime_r (&sec, &tm);
  strftime (head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%09ldZ", head, frac);
}

static int
digits (const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char) (*p)[i]))
        return -1;
      v = v * 10 + ((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM). */
int
kd_parse_time (const char *s, int64_t *unix_ns)
{
  const char *p = s;
  struct tm tm = { 0 };
  int y, mo, d, h, mi, sec, off = 0;
  int64_t frac = 0;

  if (digits (&p, 4, &y) < 0 || *p++ != '-' || digits (&p, 2, &mo) < 0 || *p++ != '-'
      || digits (&p, 2, &d) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
    return -1;
  p++;
  if (digits (&p, 2, &h) < 0 || *p++ != ':' || digits (&p, 2, &mi) < 0 || *p++ != ':'
      || digits (&p, 2, &sec) < 0)
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return -1;
  if (*p == '.')
    {
      int n = 0;
      p++;
      if (!isdigit ((unsigned char) *p))
        return -1;
      while (isdigit ((unsigned char) *p))
        {
          if (n < 9)
            {
              frac = frac * 10 + (*p - '0');
              n++;
            }
          p++;
        }
      while (n++ < 9)
        frac *= 10;
    }
  if (*p == 'Z' || *p == 'z')
    p++;
  else if (*p == '+' || *p == '-')
    {
      int sign = *p++ == '-' ? -1 : 1, oh, om;
      if (digits (&p, 2, &oh) < 0 || *p++ != ':' || digits (&p, 2, &om) < 0)
        return -1;
      off = sign * (oh * 3600 + om * 60);
    }
  else
    return -1;
  if (*p != '\0')
    return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *unix_ns = ((int64_t) timegm (&tm) - off) * 1000000000 + frac;
  return 0;
}

/* Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0". */
int
kd_parse_duration_ms (const char *s, int64_t *ms)
{
  static const struct
  {
    const char *unit;
    double ns;
  } units[] = {
    { "ns", 1 },  { "us", 1e3 }, { "µs", 1e3 },   { "ms", 1e6 },
    { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
  };
  const char *p = s;
  double total = 0;
  int sign = 1;

  if (*p == '-' || *p == '+')
    sign = *p++ == '-' ? -1 : 1;
  if (strcmp (p, "0") == 0)
    {
      *ms = 0;
      return 0;
    }
  if (*p == '\0')
    return -1;
  while (*p)
    {
      char *end;
      double v;
      size_t best = 0;
      double mult = 0;

      if (!isdigit ((unsigned char) *p) && *p != '.')
        return -1;
      errno = 0;
      v = strtod (p, &end);
      if (end == p || errno != 0)
        return -1;
      p = end;
      for (size_t i = 0; i < KD_ARRAY_SIZE (units); i++)
        {
          size_t n = strlen (units[i].unit);
          if (strncmp (p, units[i].unit, n) == 0 && n > best)
            {
              best = n;
              mult = units[i].ns;
            }
        }
      if (best == 0)
        return -1;
      p += best;
      total += v * mult;
    }
  total = total / 1e6;
  if (total > 9.2e15)
    return -1;
  *ms = sign * (int64_t) llround (total);
  return 0;
}

int
kd_parse_bytes (const char *s, int64_t *bytes)
{
  static const struct
  {
    const char *suffix;
    double mult;
  } suffixes[] = {
    { "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 }, { "Ti", 1099511627776.0 },
    { "k", 1e3 },     { "K", 1e3 },        { "M", 1e6 },           { "G", 1e9 },
    { "T", 1e12 },    { "", 1 },
  };
  char *end;
  double v;

  if (s == NULL || !isdigit ((unsigned char) *s))
    return -1;
  errno = 0;
  v = strtod (s, &end);
  if (errno != 0 || end == s)
    return -1;
  for (size_t i = 0; i < KD_ARRAY_SIZE (suffixes); i++)
    if (strcmp (end, suffixes[i].suffix) == 0)
      {
        double r = v * suffixes[i].mult;
        if (r > 9.2e18)
          return -1;
        *bytes = (int64_t) ceil (r);
        return 0;
      }
  return -1;
}

/* Go's Duration.String: whole units down to seconds with a fraction
   trimmed of trailing zeros; below one second the largest of ms, µs, ns. */
static void
fmt_frac (char *buf, size_t size, uint64_t v, int prec, const char *unit)
{
  uint64_t p = 1;
  for (int i = 0; i < prec; i++)
    p *= 10;
  uint64_t whole = v / p, frac = v % p;
  if (frac == 0)
    {
      snprintf (buf, size, "%llu%s", (unsigned long long) whole, unit);
      return;
    }
  char digits[24];
  snprintf (digits, sizeof (digits), "%0*llu", prec, (unsigned long long) frac);
  size_t n = strlen (digits);
  while (n > 0 && digits[n - 1] == '0')
    digits[--n] = '\0';
  snprintf (buf, size, "%llu.%s%s", (unsigned long long) whole, digits, unit);
}

void
kd_go_duration (int64_t ns, char *buf, size_t size)
{
  bool neg = ns < 0;
  uint64_t u = neg ? (uint64_t) 0 - (uint64_t) ns : (uint64_t) ns;
  char body[64];

  if (u == 0)
    snprintf (body, sizeof (body), "0s");
  else if (u < 1000)
    snprintf (body, sizeof (body), "%lluns", (unsigned long long) u);
  else if (u < 1000000)
    fmt_frac (body, sizeof (body), u, 3, "µs");
  else if (u < 1000000000)
    fmt_frac (body, sizeof (body), u, 6, "ms");
  else
    {
      uint64_t secs_ns = u % 60000000000ULL;
      uint64_t mins = u / 60000000000ULL;
      char s[40];
      fmt_frac (s, sizeof (s), secs_ns, 9, "s");
      if (mins == 0)
        snprintf (body, sizeof (body), "%s", s);
      else if (mins < 60)
        snprintf (body, sizeof (body), "%llum%s", (unsigned long long) mins, s);
      else
        snprintf (body, sizeof (body), "%lluh%llum%s", (unsigned long long) (mins / 60),
                  (unsigned long long) (mins % 60), s);
    }
  snprintf (buf, size, "%s%s", neg ? "-" : "", body);
}
