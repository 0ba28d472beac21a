/* Who may do what on the socket (README "A safe socket").

   The socket is 0660 root:<--socket-group>: whoever reaches it may read
   (pods, logs, events, stats, images, inspect). What runs code in a pod or
   changes what pods will run — exec, pull, import, rmi — takes uid 0, as
   told by SO_PEERCRED (the server fills peer_uid when it accepts). */
#include <stdarg.h>

#include "daemon-internal.h"

bool
kd_daemon_require_root (kd_http_conn_t *conn, const kd_http_request_t *req, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  if (req->peer_uid == 0)
    return true;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  kd_info ("refused %s %s to peer uid %d (pid %d): %s", req->method, req->path, (int) req->peer_uid,
           (int) req->peer_pid, msg);
  kd_http_respond_status (conn, 403, "Forbidden", "%s", msg);
  return false;
}
