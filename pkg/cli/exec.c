/* kubeletctl exec [-i] POD [-c CONTAINER] -- CMD ARGS...: POST
   /exec/<ns>/<pod>/<container>?command=...&stdin=..., the answer's frames
   (include/kubeletd/execstream.h) written to stdout and stderr as they
   arrive, and the command's exit code as ours.

   As kubectl exec: the pod is read first (`pods "x" not found`; a pod that
   has completed is refused), the container is -c, else the
   kubectl.kubernetes.io/default-container annotation, else the first one
   (with `Defaulted container "a" out of: a, b` on stderr when there was a
   choice); a failed request reads "error: unable to upgrade connection:
   <message>"; a non-zero exit prints "command terminated with exit code N"
   on stderr. With -i the whole of stdin is read first and sent as the
   request body (kubeletd takes up to its request limit, 1 MiB). */
#include <unistd.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"
#include "kubeletd/execstream.h"
#include "kubeletd/lazy-curl.h"

static const char exec_usage[]
    = "Execute a command in a container.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl exec [-i] POD [-c CONTAINER] -- COMMAND [args...]\n"
      "\n"
      "Examples:\n"
      "  kubeletctl exec web-node1 -- date\n"
      "  kubeletctl exec web-node1 -c sidecar -- cat /data/index.html\n"
      "  echo hello | kubeletctl exec -i web-node1 -- cat\n"
      "\n"
      "Options:\n"
      "  -c, --container=''       the container (the default or first one when omitted)\n"
      "  -i, --stdin              pass stdin to the container\n"
      "  -n, --namespace=default  the namespace of the pod\n"
      "  -q, --quiet              only print output from the remote session\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

#define DEFAULT_CONTAINER_ANNOTATION "kubectl.kubernetes.io/default-container"
/* What -i reads before giving up: more would be refused by the server. */
#define EXEC_MAX_STDIN (64u * 1024 * 1024)

static bool
pod_has (const json_t *spec, const char *key, const char *name)
{
  size_t i;
  json_t *c;

  json_array_foreach (json_object_get (spec, key), i, c)
  {
    if (kd_str_eq (json_string_value (json_object_get (c, "name")), name))
      return true;
  }
  return false;
}

/* podcmd.AllContainerNames: "a, b, i (init)". */
static char *
all_container_names (const json_t *spec)
{
  static const struct
  {
    const char *key, *suffix;
  } kinds[] = { { "containers", "" },
                { "ephemeralContainers", " (ephem)" },
                { "initContainers", " (init)" } };
  kd_buf_t b = { 0 };

  kd_buf_puts (&b, "");
  for (size_t k = 0; k < KD_ARRAY_SIZE (kinds); k++)
    {
      size_t i;
      json_t *c;

      json_array_foreach (json_object_get (spec, kinds[k].key), i, c)
      {
        const char *name = json_string_value (json_object_get (c, "name"));
        kd_buf_printf (&b, "%s%s%s", b.len ? ", " : "", name ? name : "", kinds[k].suffix);
      }
    }
  return kd_buf_steal (&b);
}

/* podcmd.FindOrDefaultContainerByName. */
static int
pick_container (kd_cli_t *cli, const json_t *pod, const char *pod_name, const char *wanted,
                bool quiet, const char **out, kd_error_t *err)
{
  const json_t *spec = json_object_get (pod, "spec");
  const json_t *ctrs = json_object_get (spec, "containers");
  const char *def = json_string_value (
      json_object_get (json_object_get (json_object_get (pod, "metadata"), "annotations"),
                       DEFAULT_CONTAINER_ANNOTATION));

  if (wanted && *wanted)
    {
      if (!pod_has (spec, "containers", wanted) && !pod_has (spec, "initContainers", wanted)
          && !pod_has (spec, "ephemeralContainers", wanted))
        return kd_make_error (err, 0, "container %s not found in pod %s", wanted, pod_name);
      *out = wanted;
      return 0;
    }
  if (json_array_size (ctrs) == 0)
    return kd_make_error (
        err, 0, "pod %s/%s does not have any containers",
        json_string_value (json_object_get (json_object_get (pod, "metadata"), "namespace")),
        pod_name);
  if (def && *def
      && (pod_has (spec, "containers", def) || pod_has (spec, "initContainers", def)
          || pod_has (spec, "ephemeralContainers", def)))
    {
      *out = def;
      return 0;
    }
  *out = json_string_value (json_object_get (json_array_get (ctrs, 0), "name"));
  if (*out == NULL)
    return kd_make_error (err, 0, "pod %s has a container without a name", pod_name);
  if (!quiet
      && (json_array_size (ctrs) > 1
          || json_array_size (json_object_get (spec, "initContainers")) > 0
          || json_array_size (json_object_get (spec, "ephemeralContainers")) > 0))
    {
      cleanup_free char *names = all_container_names (spec);
      fprintf (cli->err, "Defaulted container \"%s\" out of: %s\n", *out, names);
    }
  return 0;
}

static int
read_all_stdin (kd_buf_t *b, kd_error_t *err)
{
  char chunk[65536];
  ssize_t n;

  kd_buf_puts (b, "");
  for (;;)
    {
      n = read (STDIN_FILENO, chunk, sizeof (chunk));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return kd_make_error (err, errno, "read stdin");
      if (n == 0)
        return 0;
      if (b->len + (size_t) n > EXEC_MAX_STDIN)
        return kd_make_error (err, EFBIG, "stdin is larger than %u bytes", EXEC_MAX_STDIN);
      kd_buf_append (b, chunk, (size_t) n);
    }
}

/* ---- the request ----------------------------------------------------------- */

typedef struct
{
  kd_cli_t *cli;
  CURL *h;
  kd_exec_decoder_t dec;
  kd_buf_t error_body; /* a non-2xx answer */
  bool got_exit;
  int exit_code;
  bool failed; /* a corrupt stream or a write error */
  char *fail_msg;
} exec_ctx_t;

static bool
on_frame (kd_exec_stream_t stream, const char *data, size_t len, void *user)
{
  exec_ctx_t *c = user;
  FILE *f = stream == KD_EXEC_STDERR ? c->cli->err : c->cli->out;

  if (c->got_exit)
    return false; /* nothing may follow the exit */
  if (stream == KD_EXEC_EXIT)
    {
      if (kd_exec_parse_exit (data, len, &c->exit_code) < 0)
        return false;
      c->got_exit = true;
      return true;
    }
  /* Shown as it arrives, each stream in order. */
  if (len && (fwrite (data, 1, len, f) != len || fflush (f) != 0))
    return false;
  return true;
}

static size_t
on_body (char *data, size_t size, size_t nmemb, void *user)
{
  exec_ctx_t *c = user;
  size_t n = size * nmemb;
  long code = 0;
  kd_error_t err = NULL;

  curl_easy_getinfo (c->h, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code > 299)
    {
      if (c->error_body.len + n > (1u << 20))
        return 0;
      kd_buf_append (&c->error_body, data, n);
      return n;
    }
  if (kd_exec_decoder_feed (&c->dec, data, n, &err) < 0)
    {
      c->failed = true;
      free (c->fail_msg);
      c->fail_msg = xstrdup (err ? err->msg : "exec stream: unexpected frame");
      kd_error_release (&err);
      return 0;
    }
  return n;
}

static void
cleanup_curl_list (struct curl_slist **l)
{
  if (*l)
    curl_slist_free_all (*l);
}

static void
cleanup_curl_handle (CURL **h)
{
  if (*h)
    curl_easy_cleanup (*h);
}

static int
run_exec (kd_cli_t *cli, const char *path, const kd_buf_t *body, int *exit_code, kd_error_t *err)
{
  __attribute__ ((cleanup (cleanup_curl_handle))) CURL *h = NULL;
  __attribute__ ((cleanup (cleanup_curl_list))) struct curl_slist *headers = NULL;
  const char *socket = kd_client_socket_path (cli->socket);
  cleanup_free char *url = xasprintf ("http://localhost%s", path);
  char curl_err[CURL_ERROR_SIZE] = "";
  exec_ctx_t c = { .cli = cli };
  long code = 0, os_errno = 0;
  CURLcode rc;
  int ret = 0;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  h = curl_easy_init ();
  if (h == NULL)
    return kd_make_error (err, ENOMEM, "curl_easy_init");
  c.h = h;
  kd_exec_decoder_init (&c.dec, on_frame, &c);
  /* No "Expect: 100-continue" round trip: the body is small and wanted. */
  headers = curl_slist_append (headers, "Expect:");
  headers = curl_slist_append (headers, "Content-Type: application/octet-stream");
  curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, socket);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_POST, 1L);
  curl_easy_setopt (h, CURLOPT_POSTFIELDS, body->s ? body->s : "");
  curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->len);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  /* A command runs as long as it runs: no total timeout. */
  curl_easy_setopt (h, CURLOPT_TIMEOUT_MS, 0L);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "kubeletctl/" KD_VERSION);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt (h, CURLOPT_BUFFERSIZE, 16384L);

  rc = curl_easy_perform (h);
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &code);
  if (c.failed)
    ret = kd_make_error (err, 0, "%s", c.fail_msg);
  else if (rc != CURLE_OK)
    {
      curl_easy_getinfo (h, CURLINFO_OS_ERRNO, &os_errno);
      if (rc == CURLE_COULDNT_CONNECT && os_errno != 0)
        ret = kd_make_error (err, (int) os_errno, "cannot connect to kubeletd at %s", socket);
      else
        ret = kd_make_error (err, 0, "exec: %s", curl_err[0] ? curl_err : curl_easy_strerror (rc));
    }
  else if (code < 200 || code > 299)
    {
      cleanup_free char *msg = kd_client_status_message (code, c.error_body.s, c.error_body.len);
      ret = kd_make_error (err, 0, "unable to upgrade connection: %s", msg);
    }
  else if (!c.got_exit || !kd_exec_decoder_done (&c.dec))
    ret = kd_make_error (err, 0, "exec: the stream ended before the command's exit status");
  else
    *exit_code = c.exit_code;
  kd_exec_decoder_free (&c.dec);
  kd_buf_free (&c.error_body);
  free (c.fail_msg);
  return ret;
}

int
kd_cli_exec (kd_cli_t *cli, int argc, char **argv)
{
  bool help = false, with_stdin = false, quiet = false, tty = false;
  const char *container = NULL, *ns_flag = NULL;
  const kd_cli_opt_t opts[] = {
    { "container", 'c', KD_OPT_STRING, &container },
    { "stdin", 'i', KD_OPT_FLAG, &with_stdin },
    { "tty", 't', KD_OPT_FLAG, &tty },
    { "quiet", 'q', KD_OPT_FLAG, &quiet },
    { "namespace", 'n', KD_OPT_STRING, &ns_flag },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  int dash = -1, exit_code = 0;
  cleanup_free char **pos = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  const char *pod_name, *ns, *name = NULL, *phase;
  cleanup_free char *ens = NULL, *epod = NULL, *ectr = NULL, *pod_path = NULL;
  kd_buf_t path = { 0 }, body = { 0 };
  json_t *pod = NULL;
  int rc;

  /* Everything after "--" is the command, flags included. */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        dash = i;
        break;
      }
  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), dash < 0 ? argc : dash, argv, &pos, &n_pos,
                         &err)
      < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (exec_usage, cli->out);
      return 0;
    }
  if (n_pos == 0)
    {
      kd_make_error (&err, 0,
                     "expected 'exec POD_NAME COMMAND [ARG1] [ARG2] ... [ARGN]'.\n"
                     "POD or TYPE/NAME is a required argument for the exec command\n"
                     "See 'kubeletctl exec -h' for help and examples");
      return kd_cli_fail (cli, &err);
    }
  if (n_pos > 1 || dash < 0 || dash + 1 >= argc)
    {
      kd_make_error (&err, 0, "you must specify at least one command for the container");
      return kd_cli_fail (cli, &err);
    }
  if (tty)
    fprintf (cli->err, "Unable to use a TTY - kubeletd exec streams without a terminal\n");
  pod_name = pos[0];
  if (kd_str_has_prefix (pod_name, "pod/") || kd_str_has_prefix (pod_name, "pods/"))
    pod_name = strchr (pod_name, '/') + 1;
  ns = ns_flag && *ns_flag ? ns_flag : "default";

  ens = kd_client_escape (ns);
  epod = kd_client_escape (pod_name);
  pod_path = xasprintf ("/pods/%s/%s", ens, epod);
  {
    long code = 0;

    if (kd_client_get_json (kd_client_socket_path (cli->socket), pod_path, &pod, &code, &err) < 0)
      {
        if (code == 404)
          {
            kd_error_release (&err);
            kd_make_error (&err, 0, "pods \"%s\" not found", pod_name);
          }
        return kd_cli_fail (cli, &err);
      }
  }
  phase = json_string_value (json_object_get (json_object_get (pod, "status"), "phase"));
  if (kd_str_eq (phase, "Succeeded") || kd_str_eq (phase, "Failed"))
    {
      kd_make_error (&err, 0,
                     "cannot exec into a container in a completed pod; current phase is %s", phase);
      json_decref (pod);
      return kd_cli_fail (cli, &err);
    }
  if (pick_container (cli, pod, pod_name, container, quiet, &name, &err) < 0)
    {
      json_decref (pod);
      return kd_cli_fail (cli, &err);
    }
  ectr = kd_client_escape (name);
  json_decref (pod);

  kd_buf_printf (&path, "/exec/%s/%s/%s?stdin=%s&stdout=true&stderr=true", ens, epod, ectr,
                 with_stdin ? "true" : "false");
  for (int i = dash + 1; i < argc; i++)
    {
      cleanup_free char *e = kd_client_escape (argv[i]);
      kd_buf_printf (&path, "&command=%s", e);
    }
  if (with_stdin && read_all_stdin (&body, &err) < 0)
    {
      kd_buf_free (&path);
      kd_buf_free (&body);
      return kd_cli_fail (cli, &err);
    }
  rc = run_exec (cli, path.s, &body, &exit_code, &err);
  kd_buf_free (&path);
  kd_buf_free (&body);
  if (rc < 0)
    return kd_cli_fail (cli, &err);
  if (exit_code != 0)
    fprintf (cli->err, "command terminated with exit code %d\n", exit_code);
  return exit_code;
}
