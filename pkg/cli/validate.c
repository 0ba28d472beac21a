/* kubeletctl validate FILE...: the daemon's manifest pipeline, offline. */
#include <ctype.h>

#include "kubeletd/cli.h"
#include "kubeletd/manifest.h"

static const char validate_usage[]
    = "Check pod manifests the way kubeletd reads them, without a running kubeletd.\n"
      "\n"
      "Every error and warning is printed with its file, line and column. The pods get\n"
      "Kubernetes' defaults and their static-pod identity (name <name>-<node>, uid,\n"
      "annotations), as kubeletd would give them.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl validate FILE... [-o json|yaml] [--node-name NAME]\n"
      "\n"
      "Options:\n"
      "      --node-name=''  node name for the static-pod names (default: the host name, "
      "lowercased)\n"
      "  -o, --output=''     print the valid pods (one Pod, or a List when several) as json or "
      "yaml\n"
      "\n"
      "A FILE of \"-\" reads the standard input. Exit status 1 when any file has an error.\n";

/* kubelet's default node name: the host name, trimmed and lowercased. */
static char *
default_node_name (void)
{
  char host[256] = "";
  char *p, *s;

  if (gethostname (host, sizeof (host) - 1) < 0 || host[0] == '\0')
    return xstrdup ("localhost");
  for (p = host; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  for (s = host; isspace ((unsigned char) *s); s++)
    ;
  for (p = s + strlen (s); p > s && isspace ((unsigned char) p[-1]); p--)
    p[-1] = '\0';
  return xstrdup (s);
}

static int
read_stdin (char **buf, size_t *len, kd_error_t *err)
{
  kd_buf_t b = { 0 };
  char chunk[65536];
  size_t n;

  while ((n = fread (chunk, 1, sizeof (chunk), stdin)) > 0)
    {
      if (b.len + n > KD_MANIFEST_MAX_BYTES)
        {
          kd_buf_free (&b);
          return kd_make_error (err, EFBIG, "read standard input");
        }
      kd_buf_append (&b, chunk, n);
    }
  if (ferror (stdin))
    {
      kd_buf_free (&b);
      return kd_make_error (err, EIO, "read standard input");
    }
  *len = b.len;
  *buf = kd_buf_steal (&b);
  return 0;
}

static int
load (const char *path, const kd_manifest_opts_t *mo, kd_manifest_t **m, kd_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0;

  if (strcmp (path, "-") != 0)
    return kd_manifest_load_file (path, mo, m, err);
  if (read_stdin (&buf, &len, err) < 0)
    return -1;
  return kd_manifest_load_buffer ("<stdin>", buf, len, mo, m, err);
}

int
kd_cli_validate (kd_cli_t *cli, int argc, char **argv)
{
  const char *output = NULL, *node = NULL;
  bool help = false;
  const kd_cli_opt_t opts[] = {
    { "output", 'o', KD_OPT_STRING, &output },
    { "node-name", 0, KD_OPT_STRING, &node },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  kd_error_t err = NULL;
  cleanup_free char **pos = NULL;
  cleanup_free char *node_name = NULL;
  size_t n_pos = 0, i, j, n_errors = 0, n_bad_files = 0;
  kd_manifest_opts_t mo = { 0 };
  kd_output_t fmt;
  json_t *valid;
  int rc = 0;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (validate_usage, cli->out);
      return 0;
    }
  if (kd_cli_parse_output (output, 0, &fmt, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (n_pos == 0)
    {
      kd_make_error (&err, 0, "you must specify at least one manifest file to validate");
      return kd_cli_fail (cli, &err);
    }
  node_name = node && *node ? xstrdup (node) : default_node_name ();
  mo.node_name = node_name;
  mo.make_static = true;

  valid = json_array ();
  for (i = 0; i < n_pos; i++)
    {
      kd_manifest_t *m = NULL;
      size_t printed;

      if (load (pos[i], &mo, &m, &err) < 0)
        {
          fprintf (cli->err, "error: %s\n", err->msg);
          kd_error_release (&err);
          n_errors++;
          n_bad_files++;
          continue;
        }
      printed = kd_manifest_print (m, cli->err);
      if (!kd_manifest_ok (m))
        {
          /* Count at least one error for a file that is not ok. */
          n_errors += printed ? printed : 1;
          n_bad_files++;
        }
      for (j = 0; j < m->n_pods; j++)
        {
          kd_manifest_pod_t *mp = &m->pods[j];

          if (m->error != NULL || mp->pod == NULL || kd_fe_count_errors (&mp->errs) > 0)
            continue;
          json_array_append_new (valid, kd_pod_to_json (mp->pod));
          if (fmt == KD_OUTPUT_TABLE)
            fprintf (cli->out, "%s: pod \"%s\" is valid\n", m->path,
                     mp->pod->metadata.name ? mp->pod->metadata.name : "");
        }
      kd_manifest_free (m);
    }

  if (fmt != KD_OUTPUT_TABLE && json_array_size (valid) > 0)
    {
      json_t *doc = json_array_size (valid) == 1 ? json_incref (json_array_get (valid, 0))
                                                 : kd_cli_list (json_incref (valid));
      if (kd_cli_print_json (doc, fmt, 4, cli->out, &err) < 0)
        rc = kd_cli_fail (cli, &err);
      json_decref (doc);
    }
  json_decref (valid);
  if (n_errors > 0)
    {
      fprintf (cli->err, "error: %zu error%s in %zu file%s\n", n_errors, n_errors == 1 ? "" : "s",
               n_bad_files, n_bad_files == 1 ? "" : "s");
      return 1;
    }
  return rc;
}
