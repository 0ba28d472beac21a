/* kubeletctl images, history, inspect, rmi and the `image` group: docker's
   columns and words (IMAGE ID of 12 hex digits, "2 days ago", "4.26MB"),
   over GET /images, GET /images/<ref>[/history] and DELETE /images/<ref>. */
#include <inttypes.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char images_usage[] = "List the images in kubeletd's store.\n"
                                   "\n"
                                   "Usage:\n"
                                   "  kubeletctl images [-q] [--digests] [--no-trunc]\n"
                                   "\n"
                                   "Options:\n"
                                   "      --digests    show the digest of each repository\n"
                                   "      --no-trunc   show whole image IDs\n"
                                   "  -q, --quiet      only show image IDs\n";

static const char history_usage[] = "Show the history of an image.\n"
                                    "\n"
                                    "Usage:\n"
                                    "  kubeletctl history [--no-trunc] [-q] IMAGE\n";

static const char inspect_usage[] = "Display detailed information on images, as JSON.\n"
                                    "\n"
                                    "Usage:\n"
                                    "  kubeletctl inspect IMAGE...\n";

static const char rmi_usage[] = "Remove images (refused while a container uses one).\n"
                                "\n"
                                "Usage:\n"
                                "  kubeletctl rmi IMAGE...\n";

static const char image_usage[]
    = "Manage images.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl image COMMAND\n"
      "\n"
      "Commands:\n"
      "  import   import an OCI layout, OCI archive or docker save tar\n"
      "  ls       list images (kubeletctl images)\n"
      "  pull     pull an image (kubeletctl pull)\n"
      "  rm       remove images (kubeletctl rmi)\n"
      "  history  show the history of an image\n"
      "  inspect  display detailed information on images\n";

/* ---- docker's words ------------------------------------------------------------ */

char *
kd_cli_human_size (int64_t bytes)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double v = (double) bytes;
  size_t u = 0;

  /* go-units HumanSizeWithPrecision (size, 3): decimal units, %.3g. */
  while (v >= 1000.0 && u + 1 < KD_ARRAY_SIZE (units))
    {
      v /= 1000.0;
      u++;
    }
  return xasprintf ("%.3g%s", v, units[u]);
}

char *
kd_cli_human_ago (const char *rfc3339, int64_t now_ns)
{
  int64_t t, secs, mins, hours;

  if (rfc3339 == NULL || kd_parse_time (rfc3339, &t) < 0)
    return xstrdup ("N/A");
  /* go-units HumanDuration, then " ago". */
  secs = (now_ns - t) / 1000000000;
  mins = secs / 60;
  hours = (secs + 1800) / 3600; /* int (d.Hours () + 0.5) */
  if (secs < 1)
    return xstrdup ("Less than a second ago");
  if (secs == 1)
    return xstrdup ("1 second ago");
  if (secs < 60)
    return xasprintf ("%" PRId64 " seconds ago", secs);
  if (mins == 1)
    return xstrdup ("About a minute ago");
  if (mins < 60)
    return xasprintf ("%" PRId64 " minutes ago", mins);
  if (hours == 1)
    return xstrdup ("About an hour ago");
  if (hours < 48)
    return xasprintf ("%" PRId64 " hours ago", hours);
  if (hours < 24 * 7 * 2)
    return xasprintf ("%" PRId64 " days ago", hours / 24);
  if (hours < 24 * 30 * 2)
    return xasprintf ("%" PRId64 " weeks ago", hours / 24 / 7);
  if (hours < 24 * 365 * 2)
    return xasprintf ("%" PRId64 " months ago", hours / 24 / 30);
  return xasprintf ("%" PRId64 " years ago", secs / 3600 / 24 / 365);
}

char *
kd_cli_familiar_name (const char *repo)
{
  /* docker shows Docker Hub names the short way. */
  if (kd_str_has_prefix (repo, "docker.io/library/"))
    return xstrdup (repo + strlen ("docker.io/library/"));
  if (kd_str_has_prefix (repo, "docker.io/"))
    return xstrdup (repo + strlen ("docker.io/"));
  return xstrdup (repo);
}

char *
kd_cli_short_id (const char *id, bool no_trunc)
{
  const char *hex = kd_str_has_prefix (id, "sha256:") ? id + 7 : id;

  if (no_trunc)
    return xstrdup (id);
  return xstrndup (hex, 12);
}

/* Characters, not bytes: tabwriter counts UTF-8 runes ("…"). */
static size_t
width (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char) *s & 0xC0) != 0x80)
      n++;
  return n;
}

/* docker's tabwriter: min width 10, padding 3, the last column unpadded. */
static void
print_table (char **cells, size_t n_cols, size_t n_rows, FILE *out)
{
  cleanup_free size_t *w = xcalloc (n_cols, sizeof (size_t));

  for (size_t r = 0; r < n_rows; r++)
    for (size_t c = 0; c < n_cols; c++)
      {
        size_t len = width (cells[r * n_cols + c]) + 3;
        if (len > w[c])
          w[c] = len;
      }
  for (size_t c = 0; c < n_cols; c++)
    if (w[c] < 10)
      w[c] = 10;
  for (size_t r = 0; r < n_rows; r++)
    {
      for (size_t c = 0; c + 1 < n_cols; c++)
        {
          const char *cs = cells[r * n_cols + c];
          fprintf (out, "%s%*s", cs, (int) (w[c] - width (cs)), "");
        }
      fprintf (out, "%s\n", cells[r * n_cols + n_cols - 1]);
    }
}

typedef struct
{
  char **cells;
  size_t n, cap;
} cells_t;

static void
cell (cells_t *t, char *s)
{
  kd_grow ((void **) &t->cells, &t->cap, t->n, sizeof (char *));
  t->cells[t->n++] = s;
}

static void
cells_free (cells_t *t)
{
  for (size_t i = 0; i < t->n; i++)
    free (t->cells[i]);
  free (t->cells);
}

/* ---- images ---------------------------------------------------------------------- */

/* The digest of repo among "repo@sha256:..." names, or NULL. */
static const char *
repo_digest (const json_t *digests, const char *repo)
{
  size_t i, n = strlen (repo);
  json_t *d;

  json_array_foreach (digests, i, d)
  {
    const char *s = json_string_value (d);
    if (s && strncmp (s, repo, n) == 0 && s[n] == '@')
      return s + n + 1;
  }
  return NULL;
}

static void
image_row (cells_t *t, const json_t *img, const char *repo, const char *tag, bool digests,
           bool no_trunc, int64_t now)
{
  const char *id = json_string_value (json_object_get (img, "id"));
  const char *d = repo ? repo_digest (json_object_get (img, "repoDigests"), repo) : NULL;

  cell (t, repo ? kd_cli_familiar_name (repo) : xstrdup ("<none>"));
  cell (t, xstrdup (tag ? tag : "<none>"));
  if (digests)
    cell (t, xstrdup (d ? d : "<none>"));
  cell (t, kd_cli_short_id (id ? id : "", no_trunc));
  cell (t, kd_cli_human_ago (json_string_value (json_object_get (img, "created")), now));
  cell (t, kd_cli_human_size (json_integer_value (json_object_get (img, "size"))));
}

void
kd_cli_print_images (const json_t *images, bool quiet, bool digests, bool no_trunc, int64_t now_ns,
                     FILE *out)
{
  cells_t t = { 0 };
  size_t i, j, n_cols = digests ? 6 : 5;
  json_t *img, *s;

  if (quiet)
    {
      json_array_foreach (images, i, img)
      {
        cleanup_free char *id
            = kd_cli_short_id (json_string_value (json_object_get (img, "id")), no_trunc);
        fprintf (out, "%s\n", id);
      }
      return;
    }
  cell (&t, xstrdup ("REPOSITORY"));
  cell (&t, xstrdup ("TAG"));
  if (digests)
    cell (&t, xstrdup ("DIGEST"));
  cell (&t, xstrdup ("IMAGE ID"));
  cell (&t, xstrdup ("CREATED"));
  cell (&t, xstrdup ("SIZE"));
  json_array_foreach (images, i, img)
  {
    json_t *tags = json_object_get (img, "repoTags"), *ds = json_object_get (img, "repoDigests");

    /* One row per tag; an image known by digest only shows its repository
       with <none>; a nameless one is <none> <none>. */
    json_array_foreach (tags, j, s)
    {
      const char *name = json_string_value (s);
      const char *colon = name ? strrchr (name, ':') : NULL;
      cleanup_free char *repo = colon ? xstrndup (name, (size_t) (colon - name)) : NULL;
      if (repo)
        image_row (&t, img, repo, colon + 1, digests, no_trunc, now_ns);
    }
    if (json_array_size (tags) == 0 && json_array_size (ds) > 0)
      json_array_foreach (ds, j, s)
      {
        const char *name = json_string_value (s);
        const char *at = name ? strchr (name, '@') : NULL;
        cleanup_free char *repo = at ? xstrndup (name, (size_t) (at - name)) : NULL;
        if (repo)
          image_row (&t, img, repo, NULL, digests, no_trunc, now_ns);
      }
    if (json_array_size (tags) == 0 && json_array_size (ds) == 0)
      image_row (&t, img, NULL, NULL, digests, no_trunc, now_ns);
  }
  print_table (t.cells, n_cols, t.n / n_cols, out);
  cells_free (&t);
}

/* Options and positional arguments, or the usage; -1 to return *rc. */
static int
parse (kd_cli_t *cli, const kd_cli_opt_t *opts, size_t n_opts, int argc, char **argv,
       const char *usage, bool *help, char ***pos, size_t *n_pos, int *rc)
{
  kd_error_t err = NULL;

  if (kd_cli_parse_args (opts, n_opts, argc, argv, pos, n_pos, &err) < 0)
    {
      *rc = kd_cli_fail (cli, &err);
      return -1;
    }
  if (*help)
    {
      fputs (usage, cli->out);
      *rc = 0;
      return -1;
    }
  return 0;
}

int
kd_cli_images (kd_cli_t *cli, int argc, char **argv)
{
  bool quiet = false, digests = false, no_trunc = false, help = false;
  const kd_cli_opt_t opts[] = {
    { "quiet", 'q', KD_OPT_FLAG, &quiet },
    { "digests", 0, KD_OPT_FLAG, &digests },
    { "no-trunc", 0, KD_OPT_FLAG, &no_trunc },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  json_t *list = NULL;
  int rc;

  if (parse (cli, opts, KD_ARRAY_SIZE (opts), argc, argv, images_usage, &help, &pos, &n_pos, &rc)
      < 0)
    return rc;
  if (n_pos > 0)
    {
      kd_make_error (&err, 0, "unexpected argument \"%s\" for \"images\"", pos[0]);
      return kd_cli_fail (cli, &err);
    }
  if (kd_client_get_json (kd_client_socket_path (cli->socket), "/images", &list, NULL, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (!json_is_array (list))
    {
      json_decref (list);
      kd_make_error (&err, 0, "GET /images: the answer is not a list");
      return kd_cli_fail (cli, &err);
    }
  kd_cli_print_images (list, quiet, digests, no_trunc, kd_now_ns (), cli->out);
  json_decref (list);
  return 0;
}

/* GET /images/<escaped ref><suffix>. */
static int
get_image (kd_cli_t *cli, const char *ref, const char *suffix, json_t **out, kd_error_t *err)
{
  cleanup_free char *esc = kd_client_escape (ref);
  cleanup_free char *path = xasprintf ("/images/%s%s", esc, suffix);

  return kd_client_get_json (kd_client_socket_path (cli->socket), path, out, NULL, err);
}

/* docker's Ellipsis: at most maxlen characters, the last one "…". */
static char *
ellipsis (const char *s, size_t maxlen)
{
  size_t chars = 0, cut = 0;

  for (const char *p = s; *p; p++)
    if (((unsigned char) *p & 0xC0) != 0x80)
      {
        if (chars == maxlen - 1)
          cut = (size_t) (p - s);
        chars++;
      }
  if (chars <= maxlen)
    return xstrdup (s);
  return xasprintf ("%.*s…", (int) cut, s);
}

void
kd_cli_print_history (const json_t *rows, bool no_trunc, bool quiet, int64_t now_ns, FILE *out)
{
  cells_t t = { 0 };
  size_t i;
  json_t *r;

  if (!quiet)
    {
      cell (&t, xstrdup ("IMAGE"));
      cell (&t, xstrdup ("CREATED"));
      cell (&t, xstrdup ("CREATED BY"));
      cell (&t, xstrdup ("SIZE"));
      cell (&t, xstrdup ("COMMENT"));
    }
  json_array_foreach (rows, i, r)
  {
    const char *id = json_string_value (json_object_get (r, "id"));
    const char *by = json_string_value (json_object_get (r, "createdBy"));
    const char *comment = json_string_value (json_object_get (r, "comment"));

    if (id == NULL)
      id = "<missing>";
    if (quiet)
      {
        cleanup_free char *s
            = strcmp (id, "<missing>") == 0 ? xstrdup (id) : kd_cli_short_id (id, no_trunc);
        fprintf (out, "%s\n", s);
        continue;
      }
    cell (&t, strcmp (id, "<missing>") == 0 ? xstrdup (id) : kd_cli_short_id (id, no_trunc));
    cell (&t, kd_cli_human_ago (json_string_value (json_object_get (r, "created")), now_ns));
    cell (&t, no_trunc ? xstrdup (by ? by : "") : ellipsis (by ? by : "", 45));
    cell (&t, kd_cli_human_size (json_integer_value (json_object_get (r, "size"))));
    cell (&t, xstrdup (comment ? comment : ""));
  }
  if (!quiet)
    print_table (t.cells, 5, t.n / 5, out);
  cells_free (&t);
}

int
kd_cli_history (kd_cli_t *cli, int argc, char **argv)
{
  bool no_trunc = false, quiet = false, help = false;
  const kd_cli_opt_t opts[] = {
    { "no-trunc", 0, KD_OPT_FLAG, &no_trunc },
    { "quiet", 'q', KD_OPT_FLAG, &quiet },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  json_t *rows = NULL;
  int rc;

  if (parse (cli, opts, KD_ARRAY_SIZE (opts), argc, argv, history_usage, &help, &pos, &n_pos, &rc)
      < 0)
    return rc;
  if (n_pos != 1)
    {
      kd_make_error (&err, 0, "\"history\" requires exactly 1 argument");
      return kd_cli_fail (cli, &err);
    }
  if (get_image (cli, pos[0], "/history", &rows, &err) < 0)
    return kd_cli_fail (cli, &err);
  kd_cli_print_history (rows, no_trunc, quiet, kd_now_ns (), cli->out);
  json_decref (rows);
  return 0;
}

int
kd_cli_inspect (kd_cli_t *cli, int argc, char **argv)
{
  bool help = false;
  const kd_cli_opt_t opts[] = { { "help", 'h', KD_OPT_FLAG, &help } };
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  json_t *all = json_array ();
  int rc = 0;

  if (parse (cli, opts, KD_ARRAY_SIZE (opts), argc, argv, inspect_usage, &help, &pos, &n_pos, &rc)
      < 0)
    {
      json_decref (all);
      return rc;
    }
  if (n_pos == 0)
    {
      json_decref (all);
      kd_make_error (&err, 0, "\"inspect\" requires at least 1 argument");
      return kd_cli_fail (cli, &err);
    }
  /* docker inspect: the images found, then an error for each one not. */
  for (size_t i = 0; i < n_pos; i++)
    {
      json_t *img = NULL;
      if (get_image (cli, pos[i], "", &img, &err) < 0)
        rc = kd_cli_fail (cli, &err);
      else
        json_array_append_new (all, img);
    }
  if (json_array_size (all) > 0 || rc == 0)
    {
      cleanup_free char *text = json_dumps (all, JSON_INDENT (4));
      fprintf (cli->out, "%s\n", text);
    }
  json_decref (all);
  return rc;
}

int
kd_cli_rmi (kd_cli_t *cli, int argc, char **argv)
{
  bool help = false;
  const kd_cli_opt_t opts[] = { { "help", 'h', KD_OPT_FLAG, &help } };
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  int rc = 0;

  if (parse (cli, opts, KD_ARRAY_SIZE (opts), argc, argv, rmi_usage, &help, &pos, &n_pos, &rc) < 0)
    return rc;
  if (n_pos == 0)
    {
      kd_make_error (&err, 0, "\"rmi\" requires at least 1 argument");
      return kd_cli_fail (cli, &err);
    }
  for (size_t i = 0; i < n_pos; i++)
    {
      cleanup_free char *esc = kd_client_escape (pos[i]);
      cleanup_free char *path = xasprintf ("/images/%s", esc);
      json_t *res = NULL, *e;
      size_t j;

      if (kd_client_request_json (kd_client_socket_path (cli->socket), "DELETE", path, 0, &res,
                                  NULL, &err)
          < 0)
        {
          rc = kd_cli_fail (cli, &err);
          continue;
        }
      json_array_foreach (res, j, e)
      {
        const char *u = json_string_value (json_object_get (e, "Untagged"));
        const char *d = json_string_value (json_object_get (e, "Deleted"));
        if (u)
          fprintf (cli->out, "Untagged: %s\n", u);
        if (d)
          fprintf (cli->out, "Deleted: %s\n", d);
      }
      json_decref (res);
    }
  return rc;
}

int
kd_cli_image (kd_cli_t *cli, int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int (*fn) (kd_cli_t *cli, int argc, char **argv);
  } subs[] = {
    { "import", kd_cli_import },   { "ls", kd_cli_images }, { "list", kd_cli_images },
    { "pull", kd_cli_pull },       { "rm", kd_cli_rmi },    { "history", kd_cli_history },
    { "inspect", kd_cli_inspect },
  };

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (image_usage, argc < 2 ? cli->err : cli->out);
      return argc < 2 ? 1 : 0;
    }
  for (size_t i = 0; i < KD_ARRAY_SIZE (subs); i++)
    if (strcmp (argv[1], subs[i].name) == 0)
      return subs[i].fn (cli, argc - 1, argv + 1);
  fprintf (cli->err, "error: unknown command \"%s\" for \"kubeletctl image\"\n", argv[1]);
  return 1;
}
