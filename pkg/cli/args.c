/* Option parsing for kubeletctl, with cobra's spellings and messages. */
#include "kubeletd/cli.h"

static const kd_cli_opt_t *
find_long (const kd_cli_opt_t *opts, size_t n, const char *name, size_t len)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strlen (opts[i].long_name) == len && strncmp (opts[i].long_name, name, len) == 0)
      return &opts[i];
  return NULL;
}

static const kd_cli_opt_t *
find_short (const kd_cli_opt_t *opts, size_t n, char c)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (opts[i].short_name == c)
      return &opts[i];
  return NULL;
}

static void
set_flag (const kd_cli_opt_t *o)
{
  *(bool *) o->target = true;
}

static void
set_value (const kd_cli_opt_t *o, const char *v)
{
  *(const char **) o->target = v;
}

/* One "--name[=value]" argument; may consume the next argv entry. */
static int
parse_long (const kd_cli_opt_t *opts, size_t n_opts, int argc, char **argv, int *i, kd_error_t *err)
{
  const char *arg = argv[*i] + 2;
  const char *eq = strchr (arg, '=');
  size_t len = eq ? (size_t) (eq - arg) : strlen (arg);
  const kd_cli_opt_t *o = find_long (opts, n_opts, arg, len);

  if (o == NULL)
    return kd_make_error (err, 0, "unknown flag: --%.*s", (int) len, arg);
  if (o->kind == KD_OPT_FLAG)
    {
      /* cobra accepts --flag=true / --flag=false for booleans. */
      if (eq != NULL && strcmp (eq + 1, "true") != 0)
        {
          if (strcmp (eq + 1, "false") != 0)
            return kd_make_error (err, 0,
                                  "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseBool: "
                                  "parsing \"%s\": invalid syntax",
                                  eq + 1, o->long_name, eq + 1);
          *(bool *) o->target = false;
          return 0;
        }
      set_flag (o);
      return 0;
    }
  if (eq != NULL)
    set_value (o, eq + 1);
  else if (*i + 1 < argc)
    set_value (o, argv[++*i]);
  else
    return kd_make_error (err, 0, "flag needs an argument: --%s", o->long_name);
  return 0;
}

/* One "-abc" / "-ovalue" / "-o value" argument. */
static int
parse_short (const kd_cli_opt_t *opts, size_t n_opts, int argc, char **argv, int *i,
             kd_error_t *err)
{
  const char *arg = argv[*i];
  const char *p;

  for (p = arg + 1; *p; p++)
    {
      const kd_cli_opt_t *o = find_short (opts, n_opts, *p);

      if (o == NULL)
        return kd_make_error (err, 0, "unknown shorthand flag: '%c' in %s", *p, arg);
      if (o->kind == KD_OPT_FLAG)
        {
          set_flag (o);
          continue;
        }
      if (p[1] == '=')
        set_value (o, p + 2);
      else if (p[1] != '\0')
        set_value (o, p + 1);
      else if (*i + 1 < argc)
        set_value (o, argv[++*i]);
      else
        return kd_make_error (err, 0, "flag needs an argument: '%c' in %s", *p, arg);
      return 0;
    }
  return 0;
}

int
kd_cli_parse_args (const kd_cli_opt_t *opts, size_t n_opts, int argc, char **argv, char ***pos,
                   size_t *n_pos, kd_error_t *err)
{
  cleanup_free char **v = xcalloc ((size_t) argc + 1, sizeof (char *));
  size_t n = 0;
  int i;

  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i];

      if (strcmp (a, "--") == 0)
        {
          for (i++; i < argc; i++)
            v[n++] = argv[i];
          break;
        }
      if (a[0] == '-' && a[1] == '-')
        {
          if (parse_long (opts, n_opts, argc, argv, &i, err) < 0)
            return -1;
        }
      else if (a[0] == '-' && a[1] != '\0')
        {
          if (parse_short (opts, n_opts, argc, argv, &i, err) < 0)
            return -1;
        }
      else
        v[n++] = argv[i];
    }
  v[n] = NULL;
  *n_pos = n;
  *pos = steal_pointer (&v);
  return 0;
}

int
kd_cli_take_global_opts (kd_cli_t *cli, int argc, char **argv, kd_error_t *err)
{
  int i, j = 1;

  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        {
          /* Everything after "--" belongs to the command. */
          while (i < argc)
            argv[j++] = argv[i++];
          break;
        }
      if (strcmp (argv[i], "--socket") == 0)
        {
          if (i + 1 >= argc)
            return kd_make_error (err, 0, "flag needs an argument: --socket");
          cli->socket = argv[++i];
          continue;
        }
      if (kd_str_has_prefix (argv[i], "--socket="))
        {
          cli->socket = argv[i] + strlen ("--socket=");
          continue;
        }
      argv[j++] = argv[i];
    }
  argv[j] = NULL;
  return j;
}

int
kd_cli_fail (kd_cli_t *cli, kd_error_t *err)
{
  fprintf (cli->err, "error: %s\n", (err && *err) ? (*err)->msg : "unknown error");
  kd_error_release (err);
  return 1;
}
