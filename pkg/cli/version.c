/* kubeletctl version: the client's version and, when reachable, kubeletd's. */
#include <sys/utsname.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"
#include "kubeletd/config.h"
#include "kubeletd/manifest.h"

static const char version_usage[]
    = "Print the client and server version information.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl version [--client] [-o json|yaml]\n"
      "\n"
      "Options:\n"
      "      --client       print the client version only (no connection to kubeletd)\n"
      "  -o, --output=''    json or yaml\n";

/* Go's GOARCH spelling of the machine, as the platform field uses it. */
static const char *
goarch (const char *machine)
{
  static const struct
  {
    const char *uname;
    const char *go;
  } map[] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "i686", "386" },    { "i386", "386" },
    { "armv7l", "arm" },   { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
  };
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (map); i++)
    if (strcmp (machine, map[i].uname) == 0)
      return map[i].go;
  return machine;
}

/* The same version.Info shape and Kubernetes version as GET /version. */
static json_t *
client_version (void)
{
  struct utsname u;
  cleanup_free char *platform = NULL;

  if (uname (&u) < 0)
    strcpy (u.machine, "unknown");
  platform = xasprintf ("linux/%s", goarch (u.machine));
  return json_pack ("{s:s, s:s, s:s, s:s}", "major", KD_KUBE_MAJOR, "minor", KD_KUBE_MINOR,
                    "gitVersion", KD_KUBE_GIT_VERSION, "platform", platform);
}

int
kd_cli_version (kd_cli_t *cli, int argc, char **argv)
{
  const char *output = NULL;
  bool help = false, client_only = false;
  const kd_cli_opt_t opts[] = {
    { "output", 'o', KD_OPT_STRING, &output },
    { "client", 0, KD_OPT_FLAG, &client_only },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  kd_error_t err = NULL, server_err = NULL;
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_output_t fmt;
  json_t *client, *server = NULL;
  int rc = 0;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (version_usage, cli->out);
      return 0;
    }
  if (n_pos > 0)
    {
      kd_make_error (&err, 0, "unexpected argument \"%s\" for \"version\"", pos[0]);
      return kd_cli_fail (cli, &err);
    }
  if (kd_cli_parse_output (output, 0, &fmt, &err) < 0)
    return kd_cli_fail (cli, &err);

  client = client_version ();
  /* A failure is reported after the client's part is printed. */
  if (!client_only
      && kd_client_get_json (kd_client_socket_path (cli->socket), "/version", &server, NULL,
                             &server_err)
             < 0)
    server = NULL;

  if (fmt == KD_OUTPUT_TABLE)
    {
      fprintf (cli->out, "Client Version: %s\n",
               json_string_value (json_object_get (client, "gitVersion")));
      if (server != NULL)
        {
          const char *sv = json_string_value (json_object_get (server, "gitVersion"));
          fprintf (cli->out, "Server Version: %s\n", sv ? sv : "unknown");
        }
    }
  else
    {
      json_t *doc = json_pack ("{s:O}", "clientVersion", client);

      if (server != NULL)
        json_object_set (doc, "serverVersion", server);
      /* kubectl prints the version structs in their field order, JSON
         indented by two spaces. */
      if (fmt == KD_OUTPUT_YAML)
        {
          if (kd_yaml_emit_json (doc, cli->out, &err) < 0)
            rc = kd_cli_fail (cli, &err);
        }
      else if (json_dumpf (doc, cli->out, JSON_INDENT (2)) < 0 || fputc ('\n', cli->out) == EOF)
        {
          kd_make_error (&err, errno, "write standard output");
          rc = kd_cli_fail (cli, &err);
        }
      json_decref (doc);
    }
  json_decref (client);
  json_decref (server);
  /* Like kubectl: the client part is printed, then the failure to reach the
     server is the command's error. */
  if (server_err != NULL)
    rc = kd_cli_fail (cli, &server_err);
  return rc;
}
