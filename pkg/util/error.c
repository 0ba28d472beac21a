/* The error contract: see include/kubeletd/util.h. */
#include "kubeletd/util.h"

static char *vformat (const char *fmt, va_list ap) __attribute__ ((format (printf, 1, 0)));

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  return s;
}

int
kd_make_error (kd_error_t *err, int status, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *msg = NULL;

  if (err == NULL || *err != NULL)
    return -1;
  va_start (ap, fmt);
  msg = vformat (fmt, ap);
  va_end (ap);

  *err = xmalloc (sizeof (**err));
  (*err)->status = status;
  if (status != 0)
    (*err)->msg = xasprintf ("%s: %s", msg, strerror (status));
  else
    (*err)->msg = steal_pointer (&msg);
  return -1;
}

int
kd_error_wrap (kd_error_t *err, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *ctx = NULL;
  char *old;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  ctx = vformat (fmt, ap);
  va_end (ap);
  old = (*err)->msg;
  (*err)->msg = xasprintf ("%s: %s", ctx, old);
  free (old);
  return -1;
}

void
kd_error_release (kd_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

void
kd_error_log_release (kd_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  kd_err ("%s", (*err)->msg);
  kd_error_release (err);
}
