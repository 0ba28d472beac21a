/* Readiness for systemd (Type=notify) without linking libsystemd: the
   sd_notify protocol is one datagram ("READY=1", "STOPPING=1") sent to the
   Unix socket named by $NOTIFY_SOCKET ('@' = the abstract namespace). When
   the variable is unset (no systemd), nothing happens. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon-internal.h"

void
kd_daemon_notify (const char *state)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  size_t len;
  cleanup_close int fd = -1;

  if (path == NULL || (path[0] != '/' && path[0] != '@'))
    return;
  len = strlen (path);
  if (len >= sizeof (addr.sun_path))
    return;
  memcpy (addr.sun_path, path, len);
  if (path[0] == '@')
    addr.sun_path[0] = '\0';
  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  if (sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *) &addr,
              (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len))
      < 0)
    kd_vlog (2, "sd_notify `%s`: %s", state, strerror (errno));
}
