/* kubeletd: parse the flags, set up logging, run the daemon. Nothing else
   lives here (pkg/config, pkg/daemon). Exit status 0 after a clean stop,
   1 with one line on stderr when it cannot start. */
#include "kubeletd/config.h"
#include "kubeletd/daemon.h"

int
main (int argc, char **argv)
{
  kd_config_t cfg;
  kd_error_t err = NULL;
  int status = 0;

  kd_config_init (&cfg);
  if (kd_config_parse_args (&cfg, argc, argv, &err) < 0)
    {
      fprintf (stderr, "kubeletd: %s\n", err->msg);
      kd_error_release (&err);
      kd_config_free (&cfg);
      return 1;
    }
  if (cfg.show_help)
    kd_config_usage (stdout);
  else if (cfg.show_version)
    printf ("Kubernetes %s\n", KD_KUBE_GIT_VERSION);
  else
    {
      kd_log_setup (cfg.verbosity, cfg.log_json);
      for (size_t i = 0; i < cfg.warnings.n; i++)
        kd_warn ("%s", cfg.warnings.v[i]);
      if (kd_daemon_run (&cfg, &err) < 0)
        {
          fprintf (stderr, "kubeletd: %s\n", err->msg);
          kd_error_release (&err);
          status = 1;
        }
    }
  kd_config_free (&cfg);
  return status;
}
