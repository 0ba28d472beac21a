/* kubeletctl inspect [--type container|image] NAME...: a container or an
   image as JSON, as `docker inspect` picks between object kinds.

   A NAME is a container when it is POD/CONTAINER or NAMESPACE/POD/CONTAINER,
   or a hex string of at least 4 digits that prefixes the id of a container
   kubeletd runs (GET /containers/<ref>); anything else, or a hex string no
   container has, is an image (`image inspect`). --type skips the guess.
   The containers found print as one JSON array (4-space indent); images
   not taken by a container follow as image inspect prints them. */
#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char inspect_usage[]
    = "Display detailed information on containers or images.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl inspect [--type container|image] NAME...\n"
      "\n"
      "NAME is a container ID (or a prefix of at least 4 digits), POD/CONTAINER,\n"
      "NAMESPACE/POD/CONTAINER, or an image reference or ID.\n"
      "\n"
      "Examples:\n"
      "  kubeletctl inspect 3f2a9c\n"
      "  kubeletctl inspect web-node1/httpd\n"
      "  kubeletctl inspect busybox:1.36\n"
      "\n"
      "Options:\n"
      "  -n, --namespace=default  the namespace of POD/CONTAINER\n"
      "      --type=''            only look for a container or an image\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

static bool
is_hex_id (const char *s)
{
  size_t n = strlen (s);

  if (n < 4)
    return false;
  return strspn (s, "0123456789abcdef") == n;
}

/* The request path of a container NAME, or NULL when NAME cannot be one. */
static char *
container_path (const char *name, const char *ns, bool forced)
{
  const char *s1 = strchr (name, '/');
  const char *s2 = s1 ? strchr (s1 + 1, '/') : NULL;
  kd_buf_t b = { 0 };

  if (s1 == NULL)
    {
      cleanup_free char *e = NULL;

      if (!forced && !is_hex_id (name))
        return NULL;
      e = kd_client_escape (name);
      return xasprintf ("/containers/%s", e);
    }
  /* An image reference has slashes too ("docker.io/library/busybox"): a
     container name has no dots or colons, a registry host usually has. */
  if (!forced && (strpbrk (name, ".:@") != NULL || (s2 && strchr (s2 + 1, '/'))))
    return NULL;
  kd_buf_puts (&b, "/containers");
  {
    cleanup_free char *ens = kd_client_escape (s2 ? "" : ns);
    const char *p = name;

    if (s2 == NULL)
      kd_buf_printf (&b, "/%s", ens);
    while (p)
      {
        const char *slash = strchr (p, '/');
        cleanup_free char *seg = slash ? xstrndup (p, (size_t) (slash - p)) : xstrdup (p);
        cleanup_free char *e = kd_client_escape (seg);

        kd_buf_printf (&b, "/%s", e);
        p = slash ? slash + 1 : NULL;
      }
  }
  return kd_buf_steal (&b);
}

int
kd_cli_inspect_any (kd_cli_t *cli, int argc, char **argv)
{
  bool help = false;
  const char *type = NULL, *ns_flag = NULL;
  const kd_cli_opt_t opts[] = {
    { "type", 0, KD_OPT_STRING, &type },
    { "namespace", 'n', KD_OPT_STRING, &ns_flag },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  cleanup_free char **images = NULL;
  size_t n_pos = 0, n_images = 0;
  kd_error_t err = NULL;
  const char *socket = kd_client_socket_path (cli->socket);
  const char *ns;
  json_t *found = json_array ();
  int rc = 0;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    {
      json_decref (found);
      return kd_cli_fail (cli, &err);
    }
  if (help)
    {
      json_decref (found);
      fputs (inspect_usage, cli->out);
      return 0;
    }
  if (type && *type && strcmp (type, "container") != 0 && strcmp (type, "image") != 0)
    {
      json_decref (found);
      kd_make_error (&err, 0, "\"%s\" is not a valid value for --type", type);
      return kd_cli_fail (cli, &err);
    }
  if (n_pos == 0)
    {
      json_decref (found);
      kd_make_error (&err, 0, "\"inspect\" requires at least 1 argument");
      return kd_cli_fail (cli, &err);
    }
  ns = ns_flag && *ns_flag ? ns_flag : "default";
  images = xcalloc (n_pos + 2, sizeof (char *));
  images[n_images++] = (char *) "inspect";

  for (size_t i = 0; i < n_pos; i++)
    {
      bool only_container = type && strcmp (type, "container") == 0;
      bool only_image = type && strcmp (type, "image") == 0;
      cleanup_free char *path = only_image ? NULL : container_path (pos[i], ns, only_container);
      json_t *c = NULL;
      long code = 0;

      if (path != NULL)
        {
          if (kd_client_get_json (socket, path, &c, &code, &err) == 0)
            {
              json_array_append_new (found, c);
              continue;
            }
          /* A hex string no container has may still be an image id, and
             "user/app" an image of Docker Hub. */
          if (code != 404 || only_container)
            {
              rc = kd_cli_fail (cli, &err);
              continue;
            }
          kd_error_release (&err);
        }
      else if (only_container)
        {
          kd_make_error (&err, 0, "No such container: %s", pos[i]);
          rc = kd_cli_fail (cli, &err);
          continue;
        }
      images[n_images++] = pos[i];
    }
  if (json_array_size (found) > 0 || (n_images == 1 && rc == 0))
    {
      cleanup_free char *text = json_dumps (found, JSON_INDENT (4));
      fprintf (cli->out, "%s\n", text);
    }
  json_decref (found);
  if (n_images > 1 && kd_cli_inspect (cli, (int) n_images, images) != 0)
    rc = 1;
  return rc;
}
