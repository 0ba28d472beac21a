/* kd-grpc-health PORT STATUSFILE: a grpc.health.v1.Health/Check server on
   0.0.0.0:PORT (HTTP/2 without TLS, as kubelet's gRPC prober speaks) for
   the e2e tests. Every request re-reads STATUSFILE: "SERVING" answers
   SERVING, anything else (or a missing file) NOT_SERVING, so a test flips
   the health of a probed "container" by rewriting one file. Prints
   "listening" once the port is bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kubeletd/util.h"

#include "../unit/grpc-health-server.h"

static const char *status_file;

static int
file_policy (const char *service, int *serving, const char **message)
{
  char buf[64] = "";
  FILE *f = fopen (status_file, "r");

  if (f)
    {
      size_t n = fread (buf, 1, sizeof (buf) - 1, f);
      buf[n] = '\0';
      fclose (f);
    }
  buf[strcspn (buf, " \t\r\n")] = '\0';
  *serving = strcmp (buf, "SERVING") == 0 ? GRPC_HEALTH_SERVING : GRPC_HEALTH_NOT_SERVING;
  *message = "";
  return 0;
}

int
main (int argc, char **argv)
{
  uv_loop_t *loop = uv_default_loop ();
  uv_tcp_t listener;
  struct sockaddr_in addr;
  int r;

  if (argc != 3)
    {
      fprintf (stderr, "usage: %s PORT STATUSFILE\n", argv[0]);
      return 2;
    }
  status_file = argv[2];
  grpc_health_policy = file_policy;

  uv_ip4_addr ("0.0.0.0", atoi (argv[1]), &addr);
  uv_tcp_init (loop, &listener);
  r = uv_tcp_bind (&listener, (const struct sockaddr *) &addr, 0);
  if (r == 0)
    r = uv_listen ((uv_stream_t *) &listener, 64, gaccept);
  if (r != 0)
    {
      fprintf (stderr, "kd-grpc-health: listen on port %s: %s\n", argv[1], uv_strerror (r));
      return 1;
    }
  printf ("listening\n");
  fflush (stdout);
  return uv_run (loop, UV_RUN_DEFAULT);
}
