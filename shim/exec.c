/* `kubeletd-shim exec --pod-dir DIR --id CID [--env K=V]... -- CMD...`:
 * a short-lived process that enters a running container and becomes CMD.
 *
 * It reads what the shim and kubeletd left on disk (config.json for the
 * user, capabilities and seccomp to apply; state.json for the container's
 * init pid), so it needs neither the shim's socket nor kubeletd. Its stdio
 * is the caller's. Exit status: CMD's, or 126 when the container cannot be
 * entered, 127 when CMD is not found (the shells' convention). Never
 * returns. */
#include <getopt.h>

#include "kubeletd/runtime.h"
#include "kubeletd/shim.h"
#include "shim.h"

static int
load_state (const char *bundle, const char *id, kd_shim_ctr_state_t *st, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/state.json", bundle);
  cleanup_free char *data = NULL;
  json_error_t jerr;
  json_t *j;
  int r;

  if (kd_read_file (path, 1 << 20, &data, NULL, err) < 0)
    return -1;
  j = json_loads (data, 0, &jerr);
  if (j == NULL)
    return kd_make_error (err, 0, "parse `%s`: %s", path, jerr.text);
  r = kd_shim_state_from_json (j, st, err);
  json_decref (j);
  if (r < 0)
    return kd_error_wrap (err, "`%s`", path);
  if (!st->running || st->pid <= 0)
    return kd_make_error (err, 0, "container `%s` is not running", id);
  return 0;
}

/* env and bundle are not freed: every path ends in exec or _exit. */
int
shim_exec_main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "pod-dir", required_argument, NULL, 'd' },
    { "id", required_argument, NULL, 'i' },
    { "env", required_argument, NULL, 'e' },
    { NULL, 0, NULL, 0 },
  };
  const char *pod_dir = NULL, *id = NULL;
  char **env = xcalloc ((size_t) argc + 1, sizeof (char *));
  size_t n_env = 0;
  kd_ctr_spec_t spec;
  kd_shim_ctr_state_t st = { 0 };
  char *bundle = NULL;
  kd_error_t err = NULL;
  int c, status;

  memset (&spec, 0, sizeof (spec));
  /* "+": stop at the first non-option, CMD's own flags are not ours. */
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    switch (c)
      {
      case 'd':
        pod_dir = optarg;
        break;
      case 'i':
        id = optarg;
        break;
      case 'e':
        env[n_env++] = optarg;
        break;
      default:
        _exit (126);
      }
  if (pod_dir == NULL || id == NULL || optind >= argc || strchr (id, '/'))
    {
      fprintf (stderr, "kubeletd-shim exec: usage: exec --pod-dir DIR --id CID [--env K=V]... -- "
                       "CMD...\n");
      _exit (126);
    }
  bundle = xasprintf ("%s/containers/%s", pod_dir, id);
  if (load_state (bundle, id, &st, &err) < 0 || kd_ctr_spec_load (bundle, &spec, &err) < 0)
    {
      status = 126;
      goto out;
    }
  /* Returns only on failure. */
  if (kd_runtime_exec_enter (st.pid, &spec, argv + optind, n_env ? env : NULL, &err) < 0)
    status = err && err->status == ENOENT ? 127 : 126;
  else
    status = 126;

out:
  fprintf (stderr, "kubeletd-shim exec: %s\n", err ? err->msg : "failed");
  fflush (stderr);
  /* _exit, not return: a failed enter may have left this process in the
     container's mount namespace, where exit-time handlers (a sanitizer's
     leak check reading /proc) cannot work. The process is disposable. */
  _exit (status);
}
