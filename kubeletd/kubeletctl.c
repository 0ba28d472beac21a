/* kubeletctl: the command-line client of kubeletd. Wiring only: the
   commands live in pkg/cli. */
#include "kubeletd/cli.h"

int
main (int argc, char **argv)
{
  kd_cli_t cli = { .socket = NULL, .out = stdout, .err = stderr };
  kd_error_t err = NULL;
  int rc;

  argc = kd_cli_take_global_opts (&cli, argc, argv, &err);
  if (argc < 0)
    return kd_cli_fail (&cli, &err);
  rc = kd_cli_run (&cli, argc - 1, argv + 1);
  if (fflush (stdout) != 0 && rc == 0)
    {
      fprintf (stderr, "error: write standard output: %s\n", strerror (errno));
      rc = 1;
    }
  return rc;
}
