/* kubeletctl ps: the pods' containers as `docker ps` lists them (columns,
   12-digit IDs, quoted and cut commands, "Up 5 minutes" / "Exited (1) 3
   seconds ago", published ports), from GET /pods. */
#include <inttypes.h>

#include "kubeletd/client.h"
#include "kubeletd/image.h"
#include "ps-internal.h"

static const char ps_usage[]
    = "List containers.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]...\n"
      "\n"
      "Lists the running (and restarting) containers; -a adds the exited and created ones.\n"
      "A container that was never created (waiting for its image, say) is not listed.\n"
      "\n"
      "Filters (a repeated key matches any of its values, except label which must match\n"
      "all of them; different keys must all match):\n"
      "  id=PREFIX            container ID prefix\n"
      "  name=REGEXP          container name (a regular expression, like docker)\n"
      "  pod=NAME             exact pod name, or NAMESPACE/NAME\n"
      "  label=KEY[=VALUE]    pod label\n"
      "  status=STATE         created, running, restarting, exited, or waiting (created or\n"
      "                       restarting); lists stopped containers without -a\n"
      "  exited=CODE          exited containers with this exit code (with -a)\n"
      "  ancestor=IMAGE       image name (any tag), name:tag, name@digest, or ID prefix\n"
      "\n"
      "Options:\n"
      "  -a, --all              show all containers (default shows just running)\n"
      "  -f, --filter=KEY=VALUE filter output based on conditions provided\n"
      "      --no-trunc         don't truncate output\n"
      "  -q, --quiet            only display container IDs\n"
      "      --socket=PATH      kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

static const char *
str_at (const json_t *obj, const char *key)
{
  const char *s = json_string_value (json_object_get (obj, key));
  return s ? s : "";
}

static int64_t
ts (const char *s)
{
  int64_t ns = 0;
  if (*s == '\0' || kd_parse_time (s, &ns) < 0)
    return 0;
  return ns;
}

/* go-units HumanDuration of now - t, without the " ago". */
static char *
human (const char *rfc3339, int64_t now_ns)
{
  char *s = kd_cli_human_ago (rfc3339, now_ns);
  size_t len = strlen (s);

  if (kd_str_has_suffix (s, " ago"))
    s[len - 4] = '\0';
  return s;
}

/* ---- rows ---------------------------------------------------------------------- */

typedef struct
{
  kd_ps_row_t *v;
  size_t n, cap;
} rows_t;

static const json_t *
find_spec (const json_t *list, const char *name)
{
  const json_t *c;
  size_t i;

  json_array_foreach (list, i, c) if (strcmp (str_at (c, "name"), name) == 0) return c;
  return NULL;
}

static void
add_rows (rows_t *rows, const json_t *pod, const char *spec_list, const char *status_list)
{
  const json_t *spec = json_object_get (json_object_get (pod, "spec"), spec_list);
  const json_t *st;
  size_t i;

  json_array_foreach (json_object_get (json_object_get (pod, "status"), status_list), i, st)
  {
    const char *cid = str_at (st, "containerID");
    const char *sep = strstr (cid, "://");
    const json_t *state = json_object_get (st, "state");
    const json_t *last = json_object_get (json_object_get (st, "lastState"), "terminated");
    const json_t *s;
    kd_ps_row_t *r;

    /* Only containers that exist or existed, as crictl ps -a. */
    if (*cid == '\0')
      continue;
    kd_grow ((void **) &rows->v, &rows->cap, rows->n, sizeof (kd_ps_row_t));
    r = &rows->v[rows->n];
    memset (r, 0, sizeof (*r));
    r->pod = pod;
    r->status = st;
    r->spec = find_spec (spec, str_at (st, "name"));
    if (r->spec == NULL)
      r->spec = st; /* name and image are spelled the same in both */
    r->id = sep ? sep + 3 : cid;
    r->order = rows->n;
    if ((s = json_object_get (state, "running")) != NULL)
      {
        r->state = KD_PS_RUNNING;
        r->created_ns = ts (str_at (s, "startedAt"));
      }
    else if ((s = json_object_get (state, "terminated")) != NULL)
      {
        r->state = KD_PS_EXITED;
        r->exit_code = json_integer_value (json_object_get (s, "exitCode"));
        r->created_ns = ts (str_at (s, "startedAt"));
      }
    else if (last != NULL)
      {
        /* Waiting to run again (CrashLoopBackOff): docker's restarting. */
        r->state = KD_PS_RESTARTING;
        r->exit_code = json_integer_value (json_object_get (last, "exitCode"));
        r->created_ns = ts (str_at (last, "startedAt"));
      }
    else
      r->state = KD_PS_CREATED;
    if (r->created_ns == 0)
      r->created_ns = ts (str_at (json_object_get (pod, "metadata"), "creationTimestamp"));
    rows->n++;
  }
}

/* docker lists the newest first. */
static int
cmp_rows (const void *a, const void *b)
{
  const kd_ps_row_t *ra = a, *rb = b;

  if (ra->created_ns != rb->created_ns)
    return ra->created_ns > rb->created_ns ? -1 : 1;
  return ra->order < rb->order ? -1 : ra->order > rb->order;
}

/* ---- cells ----------------------------------------------------------------------- */

static bool
has_explicit_tag (const char *s)
{
  const char *slash = strrchr (s, '/');
  const char *last = slash ? slash + 1 : s;
  const char *at = strchr (last, '@');
  const char *colon = strchr (last, ':');

  return colon != NULL && (at == NULL || colon < at);
}

/* docker's ContainerContext.Image: the familiar name, with the tag when
   one was given, without a digest; as written with --no-trunc. */
static char *
image_cell (const char *image, bool no_trunc)
{
  kd_image_ref_t ref = { 0 };
  kd_error_t err = NULL;
  cleanup_free char *repo = NULL;
  cleanup_free char *familiar = NULL;
  char *r;

  if (*image == '\0')
    return xstrdup ("<no image>");
  if (no_trunc)
    return xstrdup (image);
  if (kd_image_ref_parse (image, &ref, &err) < 0)
    {
      kd_error_release (&err);
      return xstrdup (image);
    }
  repo = kd_image_ref_repository (&ref);
  familiar = kd_cli_familiar_name (repo);
  r = has_explicit_tag (image) && ref.tag ? xasprintf ("%s:%s", familiar, ref.tag)
                                          : xstrdup (familiar);
  kd_image_ref_free (&ref);
  return r;
}

static void
push_words (const json_t *arr, const json_t ***v, size_t *n, size_t *cap)
{
  const json_t *w;
  size_t i;

  json_array_foreach (arr, i, w)
  {
    kd_grow ((void **) v, cap, *n, sizeof (json_t *));
    (*v)[(*n)++] = w;
  }
}

/* The process the container runs (Kubernetes' rules: command replaces the
   entrypoint, args replace the image's Cmd), as docker shows it: the path,
   then the arguments, those with a space in single quotes. */
static char *
command_of (const kd_ps_row_t *r, const kd_ps_opts_t *o)
{
  const json_t *command = json_object_get (r->spec, "command");
  const json_t *args = json_object_get (r->spec, "args");
  const json_t *config = NULL;
  cleanup_free const json_t **v = NULL;
  size_t n = 0, cap = 0;
  kd_buf_t b = { 0 };

  if ((json_array_size (command) == 0 || json_array_size (args) == 0) && o->image_config)
    config = o->image_config (str_at (r->status, "imageID"), str_at (r->spec, "image"),
                              o->image_config_data);
  if (json_array_size (command) > 0)
    push_words (command, &v, &n, &cap);
  else
    push_words (json_object_get (config, "Entrypoint"), &v, &n, &cap);
  if (json_array_size (command) > 0 || json_array_size (args) > 0)
    push_words (args, &v, &n, &cap);
  else
    push_words (json_object_get (config, "Cmd"), &v, &n, &cap);

  kd_buf_puts (&b, "");
  for (size_t i = 0; i < n; i++)
    {
      const char *s = json_is_string (v[i]) ? json_string_value (v[i]) : "";
      if (i > 0)
        kd_buf_putc (&b, ' ');
      kd_buf_printf (&b, (i > 0 && strchr (s, ' ') != NULL) ? "'%s'" : "%s", s);
    }
  return kd_buf_steal (&b);
}

/* docker's Ellipsis (s, 20) then strconv.Quote. */
static char *
command_cell (const char *cmd, bool no_trunc)
{
  cleanup_free char *cut = NULL;
  size_t chars = 0;
  const char *p;

  for (p = cmd; *p; p++)
    if (((unsigned char) *p & 0xC0) != 0x80)
      chars++;
  if (!no_trunc && chars > 20)
    {
      size_t seen = 0;
      for (p = cmd; *p; p++)
        if (((unsigned char) *p & 0xC0) != 0x80 && seen++ == 19)
          break;
      cut = xasprintf ("%.*s…", (int) (p - cmd), cmd);
    }
  else
    cut = xstrdup (cmd);
  {
    kd_buf_t b = { 0 };
    kd_buf_putc (&b, '"');
    for (const unsigned char *q = (const unsigned char *) cut; *q; q++)
      {
        static const char esc[]
            = { '\a', 'a', '\b', 'b', '\f', 'f', '\n', 'n', '\r', 'r', '\t', 't', '\v', 'v' };
        size_t e;

        if (*q == '"' || *q == '\\')
          {
            kd_buf_putc (&b, '\\');
            kd_buf_putc (&b, (char) *q);
            continue;
          }
        for (e = 0; e < sizeof (esc); e += 2)
          if (*q == (unsigned char) esc[e])
            break;
        if (e < sizeof (esc))
          kd_buf_printf (&b, "\\%c", esc[e + 1]);
        else if (*q < 0x20 || *q == 0x7f)
          kd_buf_printf (&b, "\\x%02x", *q);
        else
          kd_buf_putc (&b, (char) *q);
      }
    kd_buf_putc (&b, '"');
    return kd_buf_steal (&b);
  }
}

static char *
status_cell (const kd_ps_row_t *r, int64_t now_ns)
{
  const json_t *state = json_object_get (r->status, "state");
  const json_t *last = json_object_get (json_object_get (r->status, "lastState"), "terminated");

  switch (r->state)
    {
    case KD_PS_RUNNING:
      {
        cleanup_free char *up
            = human (str_at (json_object_get (state, "running"), "startedAt"), now_ns);
        const char *health = "";

        /* Probes read as docker's health check: starting until the
           startup probe passed, then healthy or unhealthy by readiness. */
        if (json_object_get (r->spec, "readinessProbe") != NULL
            || json_object_get (r->spec, "startupProbe") != NULL)
          {
            if (json_is_false (json_object_get (r->status, "started")))
              health = " (health: starting)";
            else if (json_object_get (r->spec, "readinessProbe") != NULL)
              health = json_is_true (json_object_get (r->status, "ready")) ? " (healthy)"
                                                                           : " (unhealthy)";
          }
        return xasprintf ("Up %s%s", up, health);
      }
    case KD_PS_RESTARTING:
      {
        cleanup_free char *ago = human (str_at (last, "finishedAt"), now_ns);
        return xasprintf ("Restarting (%" PRId64 ") %s ago", r->exit_code, ago);
      }
    case KD_PS_EXITED:
      {
        cleanup_free char *ago
            = human (str_at (json_object_get (state, "terminated"), "finishedAt"), now_ns);
        return xasprintf ("Exited (%" PRId64 ") %s ago", r->exit_code, ago);
      }
    case KD_PS_CREATED:
      break;
    }
  return xstrdup ("Created");
}

typedef struct
{
  int64_t private_port, public_port;
  const char *ip; /* "" when not published */
  char proto[8];  /* "tcp" */
} port_t;

static int
cmp_ports (const void *a, const void *b)
{
  const port_t *i = a, *j = b;
  int c;

  if (i->private_port != j->private_port)
    return i->private_port < j->private_port ? -1 : 1;
  if ((c = strcmp (i->ip, j->ip)) != 0)
    return c;
  if (i->public_port != j->public_port)
    return i->public_port < j->public_port ? -1 : 1;
  return strcmp (i->proto, j->proto);
}

static void
form_group (kd_buf_t *b, const char *ip, const char *proto, int64_t first, int64_t last)
{
  cleanup_free char *group = first == last ? xasprintf ("%" PRId64, first)
                                           : xasprintf ("%" PRId64 "-%" PRId64, first, last);
  if (b->len > 0)
    kd_buf_puts (b, ", ");
  if (*ip)
    kd_buf_printf (b, "%s:%s->%s/%s", ip, group, group, proto);
  else
    kd_buf_printf (b, "%s/%s", group, proto);
}

/* docker's DisplayablePorts: consecutive ports grouped into ranges, the
   ones published on the same number first, the remapped ones last. Only a
   running container has its ports. */
static char *
ports_cell (const kd_ps_row_t *r)
{
  const json_t *ports = json_object_get (r->spec, "ports");
  size_t n = json_array_size (ports), i, n_groups = 0;
  cleanup_free port_t *v = xcalloc (n + 1, sizeof (port_t));
  cleanup_free port_t *groups = xcalloc (n + 1, sizeof (port_t)); /* first in public_port */
  kd_buf_t b = { 0 }, mappings = { 0 };

  kd_buf_puts (&b, "");
  if (r->state != KD_PS_RUNNING)
    return kd_buf_steal (&b);
  for (i = 0; i < n; i++)
    {
      const json_t *p = json_array_get (ports, i);
      const char *proto = *str_at (p, "protocol") ? str_at (p, "protocol") : "TCP";
      size_t k;

      v[i].private_port = json_integer_value (json_object_get (p, "containerPort"));
      v[i].public_port = json_integer_value (json_object_get (p, "hostPort"));
      v[i].ip
          = v[i].public_port > 0 ? (*str_at (p, "hostIP") ? str_at (p, "hostIP") : "0.0.0.0") : "";
      for (k = 0; proto[k] && k + 1 < sizeof (v[i].proto); k++)
        v[i].proto[k]
            = (char) ((proto[k] >= 'A' && proto[k] <= 'Z') ? proto[k] - 'A' + 'a' : proto[k]);
    }
  qsort (v, n, sizeof (port_t), cmp_ports);
  for (i = 0; i < n; i++)
    {
      size_t g;

      if (*v[i].ip && v[i].public_port != v[i].private_port)
        {
          bool v6 = strchr (v[i].ip, ':') != NULL; /* net.JoinHostPort */
          kd_buf_printf (&mappings, "%s%s%s%s:%" PRId64 "->%" PRId64 "/%s",
                         mappings.len ? ", " : "", v6 ? "[" : "", v[i].ip, v6 ? "]" : "",
                         v[i].public_port, v[i].private_port, v[i].proto);
          continue;
        }
      for (g = 0; g < n_groups; g++)
        if (strcmp (groups[g].ip, v[i].ip) == 0 && strcmp (groups[g].proto, v[i].proto) == 0)
          break;
      if (g == n_groups)
        {
          groups[n_groups] = v[i];
          groups[n_groups].public_port = v[i].private_port;
          n_groups++;
          continue;
        }
      if (v[i].private_port == groups[g].private_port + 1)
        {
          groups[g].private_port = v[i].private_port;
          continue;
        }
      /* A gap: the finished group is printed where it ends. */
      form_group (&b, groups[g].ip, groups[g].proto, groups[g].public_port, groups[g].private_port);
      groups[g].public_port = groups[g].private_port = v[i].private_port;
    }
  for (i = 0; i < n_groups; i++)
    form_group (&b, groups[i].ip, groups[i].proto, groups[i].public_port, groups[i].private_port);
  if (mappings.len > 0)
    {
      if (b.len > 0)
        kd_buf_puts (&b, ", ");
      kd_buf_puts (&b, mappings.s);
    }
  kd_buf_free (&mappings);
  return kd_buf_steal (&b);
}

/* docker's tabwriter: min width 10, padding 3, widths in characters, the
   last column unpadded. */
static void
print_table (char **cells, size_t n_cols, size_t n_rows, FILE *out)
{
  cleanup_free size_t *w = xcalloc (n_cols, sizeof (size_t));
  size_t r, c;

  for (r = 0; r < n_rows; r++)
    for (c = 0; c < n_cols; c++)
      {
        size_t chars = 0;
        for (const char *p = cells[r * n_cols + c]; *p; p++)
          if (((unsigned char) *p & 0xC0) != 0x80)
            chars++;
        if (chars + 3 > w[c])
          w[c] = chars + 3;
      }
  for (r = 0; r < n_rows; r++)
    {
      for (c = 0; c < n_cols; c++)
        {
          const char *s = cells[r * n_cols + c];
          size_t chars = 0;

          fputs (s, out);
          if (c + 1 == n_cols)
            break;
          for (const char *p = s; *p; p++)
            if (((unsigned char) *p & 0xC0) != 0x80)
              chars++;
          fprintf (out, "%*s", (int) ((w[c] < 10 ? 10 : w[c]) - chars), "");
        }
      fputc ('\n', out);
    }
}

void
kd_cli_print_ps (const json_t *pods, const kd_ps_opts_t *o, int64_t now_ns, FILE *out)
{
  static const char *const header[] = {
    "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAME", "POD",
  };
  rows_t rows = { 0 };
  bool all = o->all || kd_ps_filter_implies_all (o->filter);
  const json_t *pod;
  char **cells;
  size_t i, n = 0, n_cols = 8;

  json_array_foreach (pods, i, pod)
  {
    add_rows (&rows, pod, "initContainers", "initContainerStatuses");
    add_rows (&rows, pod, "containers", "containerStatuses");
  }
  if (rows.n > 0)
    qsort (rows.v, rows.n, sizeof (kd_ps_row_t), cmp_rows);
  cells = xcalloc ((rows.n + 1) * n_cols, sizeof (char *));
  for (i = 0; i < n_cols; i++)
    cells[i] = xstrdup (header[i]);
  n = 1;
  for (i = 0; i < rows.n; i++)
    {
      const kd_ps_row_t *r = &rows.v[i];
      char **row = &cells[n * n_cols];
      cleanup_free char *cmd = NULL;

      /* Without -a: what docker counts as running (restarting too). */
      if (!all && r->state != KD_PS_RUNNING && r->state != KD_PS_RESTARTING)
        continue;
      if (!kd_ps_filter_match (o->filter, r))
        continue;
      if (o->quiet)
        {
          fprintf (out, "%.*s\n", o->no_trunc ? (int) strlen (r->id) : 12, r->id);
          continue;
        }
      cmd = command_of (r, o);
      row[0] = o->no_trunc ? xstrdup (r->id) : xstrndup (r->id, 12);
      row[1] = image_cell (str_at (r->spec, "image"), o->no_trunc);
      row[2] = command_cell (cmd, o->no_trunc);
      {
        cleanup_free char *ts_s = NULL;
        char buf[40];
        kd_format_time (r->created_ns, buf, sizeof (buf));
        ts_s = xstrdup (buf);
        row[3] = r->created_ns ? kd_cli_human_ago (ts_s, now_ns) : xstrdup ("N/A");
      }
      row[4] = status_cell (r, now_ns);
      row[5] = ports_cell (r);
      row[6] = xstrdup (str_at (r->spec, "name"));
      row[7] = xstrdup (str_at (json_object_get (r->pod, "metadata"), "name"));
      n++;
    }
  if (!o->quiet)
    print_table (cells, n_cols, n, out);
  for (i = 0; i < n * n_cols; i++)
    free (cells[i]);
  free (cells);
  free (rows.v);
}

/* ---- the command --------------------------------------------------------------------- */

typedef struct
{
  const char *socket;
  json_t *cache; /* key -> config object or null */
} image_lookup_t;

static const json_t *
lookup_image_config (const char *image_id, const char *image, void *data)
{
  image_lookup_t *l = data;
  const char *keys[2] = { image_id, image };

  for (size_t k = 0; k < 2; k++)
    {
      const char *key = keys[k];
      json_t *cached, *img = NULL;
      kd_error_t err = NULL;

      if (key == NULL || *key == '\0')
        continue;
      cached = json_object_get (l->cache, key);
      if (cached == NULL)
        {
          cleanup_free char *esc = NULL;
          cleanup_free char *path = NULL;
          kd_image_ref_t ref = { 0 };
          cleanup_free char *norm = NULL;

          /* The store looks images up by their normalized name. */
          if (kd_image_ref_parse (key, &ref, &err) == 0)
            {
              norm = kd_image_ref_string (&ref);
              kd_image_ref_free (&ref);
            }
          kd_error_release (&err);
          esc = kd_client_escape (norm ? norm : key);
          path = xasprintf ("/images/%s", esc);
          if (kd_client_get_json (l->socket, path, &img, NULL, &err) < 0)
            {
              kd_error_release (&err);
              img = json_null ();
            }
          json_object_set_new (l->cache, key, img);
          cached = img;
        }
      cached = json_object_get (json_object_get (cached, "config"), "config");
      if (cached != NULL && json_is_object (cached))
        return cached;
    }
  return NULL;
}

/* Takes every -f VALUE / -fVALUE / --filter VALUE / --filter=VALUE (also
   at the end of a group of short flags, "-af VALUE") out of argv: the
   common parser keeps one value per option, ps needs them all. */
static int
take_filters (int argc, char **argv, kd_ps_filter_t **f, char **rest, int *n_rest, kd_error_t *err)
{
  int i, n = 0;

  rest[n++] = argv[0];
  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *value = NULL;

      if (strcmp (a, "--") == 0)
        {
          for (; i < argc; i++)
            rest[n++] = argv[i];
          break;
        }
      if (strcmp (a, "--filter") == 0 || strcmp (a, "-f") == 0)
        {
          if (i + 1 >= argc)
            return kd_make_error (err, 0, "flag needs an argument: %s",
                                  a[1] == '-' ? "--filter" : "'f' in -f");
          value = argv[++i];
        }
      else if (kd_str_has_prefix (a, "--filter="))
        value = a + strlen ("--filter=");
      else if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && strchr (a, 'f') != NULL)
        {
          /* A group of short flags: the ones before f stay, f takes the rest
             of the word or the next one. */
          const char *fpos = strchr (a, 'f');
          if (fpos[1] != '\0')
            value = fpos + 1;
          else if (i + 1 < argc)
            value = argv[++i];
          else
            return kd_make_error (err, 0, "flag needs an argument: 'f' in -f");
          if (fpos - a > 1)
            rest[n++] = xstrndup (a, (size_t) (fpos - a)); /* freed by the caller */
        }
      else
        {
          rest[n++] = argv[i];
          continue;
        }
      if (kd_ps_filter_add (f, value, err) < 0)
        return -1;
    }
  rest[n] = NULL;
  *n_rest = n;
  return 0;
}

int
kd_cli_ps (kd_cli_t *cli, int argc, char **argv)
{
  kd_ps_opts_t o = { 0 };
  bool help = false;
  const kd_cli_opt_t opts[] = {
    { "all", 'a', KD_OPT_FLAG, &o.all },
    { "quiet", 'q', KD_OPT_FLAG, &o.quiet },
    { "no-trunc", 0, KD_OPT_FLAG, &o.no_trunc },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  kd_error_t err = NULL;
  kd_ps_filter_t *filter = NULL;
  cleanup_free char **rest = xcalloc ((size_t) argc + 1, sizeof (char *));
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  int n_rest = 0, rc = 0, i;
  json_t *list = NULL, *items;
  image_lookup_t lookup = { 0 };

  if (take_filters (argc, argv, &filter, rest, &n_rest, &err) < 0)
    rc = -1;
  if (rc == 0
      && kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), n_rest, rest, &pos, &n_pos, &err) < 0)
    rc = -1;
  /* Words made by take_filters ("-a" out of "-af") are not argv's. */
  for (i = 1; i < n_rest; i++)
    {
      bool from_argv = false;
      for (int j = 1; j < argc && !from_argv; j++)
        from_argv = rest[i] == argv[j];
      if (!from_argv)
        free (rest[i]);
    }
  if (rc < 0)
    {
      kd_ps_filter_free (filter);
      return kd_cli_fail (cli, &err);
    }
  if (help)
    {
      kd_ps_filter_free (filter);
      fputs (ps_usage, cli->out);
      return 0;
    }
  if (n_pos > 0)
    {
      kd_ps_filter_free (filter);
      kd_make_error (&err, 0, "\"kubeletctl ps\" accepts no arguments");
      return kd_cli_fail (cli, &err);
    }
  lookup.socket = kd_client_socket_path (cli->socket);
  if (kd_client_get_json (lookup.socket, "/pods", &list, NULL, &err) < 0)
    {
      kd_ps_filter_free (filter);
      return kd_cli_fail (cli, &err);
    }
  items = json_object_get (list, "items");
  lookup.cache = json_object ();
  o.filter = filter;
  o.image_config = lookup_image_config;
  o.image_config_data = &lookup;
  kd_cli_print_ps (json_is_array (items) ? items : NULL, &o, kd_now_ns (), cli->out);
  json_decref (lookup.cache);
  json_decref (list);
  kd_ps_filter_free (filter);
  return 0;
}
