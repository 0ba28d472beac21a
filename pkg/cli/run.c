/* Command dispatch and the top-level usage of kubeletctl. */
#include "kubeletd/cli.h"
#include "kubeletd/client.h"

typedef struct
{
  const char *name;
  int (*fn) (kd_cli_t *cli, int argc, char **argv);
  const char *summary;
} command_t;

static const command_t commands[] = {
  { "get", kd_cli_get, "Display one or many pods" },
  { "logs", kd_cli_logs, "Print the logs for a container in a pod" },
  { "describe", kd_cli_describe, "Show details of a pod, with its events" },
  { "ps", kd_cli_ps, "List containers" },
  { "top", kd_cli_top, "Display resource (CPU/memory) usage of pods" },
  { "images", kd_cli_images, "List images" },
  { "pull", kd_cli_pull, "Pull an image from a registry" },
  { "rmi", kd_cli_rmi, "Remove one or more images" },
  { "history", kd_cli_history, "Show the history of an image" },
  { "exec", kd_cli_exec, "Execute a command in a container" },
  { "inspect", kd_cli_inspect_any, "Display detailed information on containers or images" },
  { "image", kd_cli_image, "Manage images (import, ls, pull, rm, history, inspect)" },
  { "validate", kd_cli_validate, "Check pod manifests offline, with positions for every error" },
  { "version", kd_cli_version, "Print the client and server version information" },
};

void
kd_cli_usage (FILE *out)
{
  size_t i;

  fputs ("kubeletctl controls and inspects kubeletd.\n"
         "\n"
         "Usage:\n"
         "  kubeletctl [--socket PATH] COMMAND [options]\n"
         "\n"
         "Commands:\n",
         out);
  for (i = 0; i < KD_ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fputs ("\n"
         "Global options:\n"
         "      --socket=PATH  kubeletd's socket (default $KUBELETD_SOCKET "
         "or " KD_CLIENT_DEFAULT_SOCKET ")\n"
         "  -h, --help         help for kubeletctl or for a command\n"
         "\n"
         "Use \"kubeletctl COMMAND --help\" for more information about a command.\n",
         out);
}

int
kd_cli_run (kd_cli_t *cli, int argc, char **argv)
{
  size_t i;

  if (argc < 1 || strcmp (argv[0], "help") == 0 || strcmp (argv[0], "--help") == 0
      || strcmp (argv[0], "-h") == 0)
    {
      /* "kubeletctl help get" is "kubeletctl get --help". */
      if (argc >= 2 && strcmp (argv[0], "help") == 0)
        {
          char *help_argv[] = { argv[1], (char *) "--help", NULL };
          for (i = 0; i < KD_ARRAY_SIZE (commands); i++)
            if (strcmp (argv[1], commands[i].name) == 0)
              return commands[i].fn (cli, 2, help_argv);
        }
      kd_cli_usage (argc < 1 ? cli->err : cli->out);
      return argc < 1 ? 1 : 0;
    }
  if (strcmp (argv[0], "--version") == 0)
    {
      fprintf (cli->out, "kubeletctl version v%s\n", KD_VERSION);
      return 0;
    }
  for (i = 0; i < KD_ARRAY_SIZE (commands); i++)
    if (strcmp (argv[0], commands[i].name) == 0)
      return commands[i].fn (cli, argc, argv);
  if (argv[0][0] == '-')
    fprintf (cli->err, "error: unknown flag: %s\n", argv[0]);
  else
    fprintf (cli->err, "error: unknown command \"%s\" for \"kubeletctl\"\n", argv[0]);
  return 1;
}
