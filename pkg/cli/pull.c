/* kubeletctl pull and image import: POST /images/pull|import waits for the
   daemon to finish, so the request runs on a second thread while this one
   polls GET /images/pulls and prints a progress line whenever the bytes
   moved (plain lines, as `docker pull` prints without a terminal). */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"
#include "kubeletd/image.h"

/* A pull of a big image over a slow link may take long; the daemon's own
   per-request registry timeout ends a stuck one. */
#define KD_PULL_TIMEOUT_MS (6L * 3600 * 1000)
#define KD_POLL_MS         500

static const char pull_usage[] = "Pull an image from a registry into kubeletd's store.\n"
                                 "\n"
                                 "Usage:\n"
                                 "  kubeletctl pull [-q] NAME[:TAG|@DIGEST]\n"
                                 "\n"
                                 "Options:\n"
                                 "  -q, --quiet   print only the image reference at the end\n";

static const char import_usage[]
    = "Import an image from a file or directory on the node (root only).\n"
      "\n"
      "Usage:\n"
      "  kubeletctl image import PATH [--tag REF]\n"
      "\n"
      "PATH is an OCI image layout directory, an OCI archive (a tar of a layout) or a\n"
      "`docker save` tar. The image is tagged with --tag, else with the name the input\n"
      "gives (org.opencontainers.image.ref.name or RepoTags).\n"
      "\n"
      "Options:\n"
      "      --tag=REF   the name to give the image\n";

typedef struct
{
  const char *socket;
  char *path;
  pthread_mutex_t mu;
  bool finished; /* under mu */
  json_t *result;
  kd_error_t err;
} request_t;

static void *
request_thread (void *arg)
{
  request_t *r = arg;
  json_t *res = NULL;
  kd_error_t err = NULL;

  if (kd_client_request_json (r->socket, "POST", r->path, KD_PULL_TIMEOUT_MS, &res, NULL, &err) < 0)
    res = NULL;
  pthread_mutex_lock (&r->mu);
  r->result = res;
  r->err = err;
  r->finished = true;
  pthread_mutex_unlock (&r->mu);
  return NULL;
}

static bool
finished (request_t *r)
{
  bool f;

  pthread_mutex_lock (&r->mu);
  f = r->finished;
  pthread_mutex_unlock (&r->mu);
  return f;
}

/* Prints "Downloading 1.2MB / 4.26MB" for key when its bytes moved. */
static void
poll_progress (kd_cli_t *cli, const char *key, int64_t *last)
{
  json_t *pulls = NULL, *p;
  kd_error_t err = NULL;
  size_t i;

  if (kd_client_get_json (kd_client_socket_path (cli->socket), "/images/pulls", &pulls, NULL, &err)
      < 0)
    {
      kd_error_release (&err);
      return;
    }
  json_array_foreach (pulls, i, p)
  {
    const char *ref = json_string_value (json_object_get (p, "ref"));
    int64_t done = json_integer_value (json_object_get (p, "bytesDone"));
    int64_t total = json_integer_value (json_object_get (p, "bytesTotal"));

    if (ref == NULL || strcmp (ref, key) != 0 || total <= 0 || done == *last)
      continue;
    cleanup_free char *d = kd_cli_human_size (done);
    cleanup_free char *t = kd_cli_human_size (total);
    fprintf (cli->out, "Downloading %s / %s\n", d, t);
    fflush (cli->out);
    *last = done;
  }
  json_decref (pulls);
}

/* Runs POST path; while it runs, shows the progress of key (NULL: none). */
static int
post_waiting (kd_cli_t *cli, const char *path, const char *key, json_t **out, kd_error_t *err)
{
  request_t r = { .socket = kd_client_socket_path (cli->socket), .path = (char *) path };
  pthread_t th;
  int64_t last = -1;
  int e;

  pthread_mutex_init (&r.mu, NULL);
  e = pthread_create (&th, NULL, request_thread, &r);
  if (e != 0)
    {
      pthread_mutex_destroy (&r.mu);
      return kd_make_error (err, e, "pthread_create");
    }
  while (!finished (&r))
    {
      struct timespec ts = { 0, KD_POLL_MS * 1000000L };
      if (key != NULL)
        poll_progress (cli, key, &last);
      /* Sleep in short steps so a quick answer is not held back. */
      for (int i = 0; i < 10 && !finished (&r); i++)
        {
          ts.tv_nsec = KD_POLL_MS * 100000L;
          nanosleep (&ts, NULL);
        }
    }
  pthread_join (th, NULL);
  pthread_mutex_destroy (&r.mu);
  if (r.err != NULL)
    {
      *err = r.err;
      return -1;
    }
  *out = r.result;
  return 0;
}

int
kd_cli_pull (kd_cli_t *cli, int argc, char **argv)
{
  bool quiet = false, help = false;
  const kd_cli_opt_t opts[] = {
    { "quiet", 'q', KD_OPT_FLAG, &quiet },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  cleanup_free char *key = NULL, *esc = NULL, *path = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  kd_image_ref_t ref;
  json_t *img = NULL;
  const char *digest;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (pull_usage, cli->out);
      return 0;
    }
  if (n_pos != 1)
    {
      kd_make_error (&err, 0, "\"pull\" requires exactly 1 argument");
      return kd_cli_fail (cli, &err);
    }
  /* The normalized name is the key of the daemon's progress list; a name
     that does not parse goes to the daemon anyway for its own message. */
  if (kd_image_ref_parse (pos[0], &ref, &err) == 0)
    {
      key = kd_image_ref_string (&ref);
      kd_image_ref_free (&ref);
    }
  kd_error_release (&err);
  if (!quiet)
    {
      fprintf (cli->out, "Pulling %s\n", key ? key : pos[0]);
      fflush (cli->out);
    }
  esc = kd_client_escape (pos[0]);
  path = xasprintf ("/images/pull?ref=%s", esc);
  if (post_waiting (cli, path, quiet ? NULL : key, &img, &err) < 0)
    return kd_cli_fail (cli, &err);
  digest = json_string_value (json_object_get (img, "manifestDigest"));
  if (!quiet)
    fprintf (cli->out, "Digest: %s\n", digest ? digest : "");
  fprintf (cli->out, "%s\n", key ? key : pos[0]);
  json_decref (img);
  return 0;
}

int
kd_cli_import (kd_cli_t *cli, int argc, char **argv)
{
  const char *tag = NULL;
  bool help = false;
  const kd_cli_opt_t opts[] = {
    { "tag", 't', KD_OPT_STRING, &tag },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  cleanup_free char *abs = NULL, *esc = NULL, *path = NULL;
  size_t n_pos = 0;
  kd_error_t err = NULL;
  json_t *img = NULL;
  const char *name;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (import_usage, cli->out);
      return 0;
    }
  if (n_pos != 1)
    {
      kd_make_error (&err, 0, "\"image import\" requires exactly 1 argument");
      return kd_cli_fail (cli, &err);
    }
  /* The daemon runs elsewhere in the file system tree than we do: it gets
     the absolute path. */
  abs = realpath (pos[0], NULL);
  if (abs == NULL)
    {
      kd_make_error (&err, errno, "%s", pos[0]);
      return kd_cli_fail (cli, &err);
    }
  esc = kd_client_escape (abs);
  path = xasprintf ("/images/import?path=%s", esc);
  if (tag != NULL)
    {
      cleanup_free char *t = kd_client_escape (tag);
      char *p = xasprintf ("%s&tag=%s", path, t);
      free (path);
      path = p;
    }
  if (post_waiting (cli, path, NULL, &img, &err) < 0)
    return kd_cli_fail (cli, &err);
  /* docker load's words. */
  name = json_string_value (json_object_get (img, "name"));
  if (name != NULL)
    fprintf (cli->out, "Loaded image: %s\n", name);
  else
    fprintf (cli->out, "Loaded image ID: %s\n", json_string_value (json_object_get (img, "id")));
  json_decref (img);
  return 0;
}
