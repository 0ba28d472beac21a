/* Logging to stderr in klog's text header format
   ("I1130 04:15:10.123456   12345 source.c:42] message") or, with
   --logging-format=json, one JSON object per line as the kubelet's JSON
   logger writes it ({"ts":..., "caller":..., "msg":..., "v":N}). */
#include <time.h>

#include "kubeletd/util.h"

static int log_verbosity;
static bool log_json;

void
kd_log_setup (int verbosity, bool json)
{
  log_verbosity = verbosity;
  log_json = json;
}

int
kd_log_verbosity (void)
{
  return log_verbosity;
}

static const char *
base_name (const char *file)
{
  const char *s = strrchr (file, '/');
  return s ? s + 1 : file;
}

static void
json_escape (kd_buf_t *b, const char *s)
{
  kd_buf_putc (b, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          kd_buf_putc (b, '\\');
          kd_buf_putc (b, (char) *p);
        }
      else if (*p == '\n')
        kd_buf_puts (b, "\\n");
      else if (*p == '\t')
        kd_buf_puts (b, "\\t");
      else if (*p < 0x20)
        kd_buf_printf (b, "\\u%04x", *p);
      else
        kd_buf_putc (b, (char) *p);
    }
  kd_buf_putc (b, '"');
}

void
kd_log_write (kd_log_level_t lvl, int v, const char *file, int line, const char *fmt, ...)
{
  static const char letters[] = { 'I', 'W', 'E' };
  int saved = errno;
  va_list ap;
  cleanup_free char *msg = NULL;
  kd_buf_t b = { 0 };
  struct timespec ts;
  struct tm tm;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  clock_gettime (CLOCK_REALTIME, &ts);

  if (log_json)
    {
      kd_buf_printf (&b, "{\"ts\":%lld.%03ld,\"caller\":", (long long) ts.tv_sec,
                     ts.tv_nsec / 1000000);
      cleanup_free char *caller = xasprintf ("%s:%d", base_name (file), line);
      json_escape (&b, caller);
      kd_buf_puts (&b, ",\"msg\":");
      json_escape (&b, msg);
      if (lvl == KD_LOG_INFO)
        kd_buf_printf (&b, ",\"v\":%d", v);
      else
        kd_buf_printf (&b, ",\"level\":\"%s\"", lvl == KD_LOG_ERROR ? "error" : "warning");
      kd_buf_puts (&b, "}\n");
    }
  else
    {
      localtime_r (&ts.tv_sec, &tm);
      kd_buf_printf (&b, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] %s\n", letters[lvl],
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000,
                     (int) getpid (), base_name (file), line, msg);
    }
  /* One write per line so concurrent writers do not interleave. */
  if (write (STDERR_FILENO, b.s, b.len) < 0)
    {
      /* nothing sensible to do */
    }
  kd_buf_free (&b);
  errno = saved;
}
