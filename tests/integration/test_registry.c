/* registry pulls against Debian's docker-registry on 127.0.0.1, images pushed
 * with skopeo (tests/lib/registry.sh): tags, digests, OCI and Docker schema2,
 * multi-platform indexes, corrupted blobs, unknown manifests, unreachable and
 * dying registries, mirrors and basic auth. Exits 77 when docker-registry or
 * skopeo is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kubeletd/image.h"

typedef struct
{
  char *dir;
  char *addr; /* 127.0.0.1:PORT */
  char *storage;
  pid_t pid;
} registry_t;

static char *src_dir;
static char *root;         /* everything this program makes lives here */
static registry_t reg;     /* the shared registry, no auth */
static char *busybox_dgst; /* this arch's busybox manifest digest */
static char *other_dgst;   /* the same image for another arch */
static char *index_dgst;
static const char *other_arch;
static int store_seq;

static KD_PRINTF (1, 2) int run (const char *fmt, ...)
{
  va_list ap;
  char *cmd = NULL;
  int st;

  va_start (ap, fmt);
  assert_true (vasprintf (&cmd, fmt, ap) >= 0);
  va_end (ap);
  st = system (cmd);
  free (cmd);
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128;
}

/* The last line a command prints on stdout (NULL when it fails). */
static KD_PRINTF (1, 2) char *run_line (const char *fmt, ...)
{
  va_list ap;
  char *cmd = NULL, line[512], *last = NULL;
  FILE *f;

  va_start (ap, fmt);
  assert_true (vasprintf (&cmd, fmt, ap) >= 0);
  va_end (ap);
  f = popen (cmd, "r");
  free (cmd);
  if (f == NULL)
    return NULL;
  while (fgets (line, sizeof (line), f) != NULL)
    {
      line[strcspn (line, "\n")] = '\0';
      free (last);
      last = xstrdup (line);
    }
  if (pclose (f) != 0)
    {
      free (last);
      return NULL;
    }
  return last;
}

static char *
read_small (const char *path)
{
  char *s = NULL;
  size_t len;
  kd_error_t err = NULL;
  if (kd_read_file (path, 4096, &s, &len, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  s[strcspn (s, "\n")] = '\0';
  return s;
}

/* `registry.sh start|token-proxy DIR ARGS`, then DIR/addr and DIR/pid. */
static int
service_start (registry_t *r, const char *what, const char *name, const char *args)
{
  cleanup_free char *pid = NULL;
  cleanup_free char *addr_file = NULL;
  cleanup_free char *pid_file = NULL;
  r->dir = xasprintf ("%s/%s", root, name);
  if (run ("bash %s/tests/lib/registry.sh %s %s %s >/dev/null", src_dir, what, r->dir, args) != 0)
    return -1;
  addr_file = xasprintf ("%s/addr", r->dir);
  pid_file = xasprintf ("%s/pid", r->dir);
  r->addr = read_small (addr_file);
  pid = read_small (pid_file);
  r->storage = xasprintf ("%s/storage", r->dir);
  r->pid = pid ? (pid_t) atoi (pid) : 0;
  return r->addr != NULL && r->pid > 0 ? 0 : -1;
}

static int
registry_start (registry_t *r, const char *name, const char *htpasswd)
{
  return service_start (r, "start", name, htpasswd ? htpasswd : "");
}

static void
registry_stop (registry_t *r)
{
  if (r->dir == NULL)
    return;
  run ("bash %s/tests/lib/registry.sh stop %s", src_dir, r->dir);
  free (r->dir);
  free (r->addr);
  free (r->storage);
  memset (r, 0, sizeof (*r));
}

/* A layout's single manifest digest, as make-*-oci.sh prints it. */
static char *
make_layout (const char *script, const char *env, const char *dir, const char *args)
{
  char *line
      = run_line ("%s bash %s/tests/images/%s %s/%s %s", env, src_dir, script, root, dir, args);
  assert_non_null (line);
  char *d = xstrdup (strrchr (line, ' ') + 1);
  free (line);
  return d;
}

static int
push (const registry_t *r, const char *layout, const char *name, const char *dest,
      const char *format)
{
  return run ("bash %s/tests/lib/registry.sh push %s/%s %s %s/%s %s", src_dir, root, layout, name,
              r->addr, dest, format);
}

static kd_image_store_t *
new_store (char **dir)
{
  kd_image_store_t *s = NULL;
  kd_error_t err = NULL;
  *dir = xasprintf ("%s/store-%d", root, ++store_seq);
  if (kd_image_store_open (*dir, &s, &err) < 0)
    fail_msg ("store: %s", err->msg);
  return s;
}

static size_t
count_files (const char *dir, const char *sub)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, sub);
  DIR *d = opendir (p);
  struct dirent *e;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

typedef struct
{
  int64_t done, total;
  int calls;
  bool backwards;
  pid_t kill_pid; /* killed once the first bytes of a big blob arrived */
  bool killed;
} progress_t;

static void
on_progress (void *data, int64_t done, int64_t total)
{
  progress_t *p = data;
  if (done < p->done && p->calls > 0)
    p->backwards = true;
  p->done = done;
  p->total = total;
  p->calls++;
  if (p->kill_pid > 0 && !p->killed && done > 0 && done < total)
    {
      kill (p->kill_pid, SIGKILL);
      p->killed = true;
    }
}

/* Pulls and returns the error message (NULL on success). */
static char *
pull (const kd_registry_opts_t *opts, kd_image_store_t *s, kd_image_ref_t *ref, progress_t *prog,
      char **digest)
{
  kd_error_t err = NULL;
  char *d = NULL, *msg;
  if (kd_registry_pull (opts, s, ref, prog ? on_progress : NULL, prog, &d, &err) == 0)
    {
      assert_null (err);
      if (digest != NULL)
        *digest = d;
      else
        free (d);
      return NULL;
    }
  assert_non_null (err);
  assert_null (d);
  msg = xstrdup (err->msg);
  print_message ("  (pull error: %s)\n", msg);
  kd_error_release (&err);
  return msg;
}

#define assert_contains(hay, needle)                                                               \
  do                                                                                               \
    {                                                                                              \
      if ((hay) == NULL || strstr ((hay), (needle)) == NULL)                                       \
        fail_msg ("`%s` does not contain `%s`", (hay) ? (hay) : "(null)", (needle));               \
    }                                                                                              \
  while (0)

/* The manifest and every blob it names are in the store. */
static void
assert_image_stored (kd_image_store_t *s, const char *digest)
{
  char *body = NULL;
  size_t len;
  kd_error_t err = NULL;
  json_t *m, *l;
  size_t i;

  assert_true (kd_image_store_has_blob (s, digest));
  assert_int_equal (kd_image_store_read_blob (s, digest, 1 << 22, &body, &len, &err), 0);
  m = json_loadb (body, len, 0, NULL);
  assert_non_null (m);
  assert_true (kd_image_store_has_blob (
      s, json_string_value (json_object_get (json_object_get (m, "config"), "digest"))));
  json_array_foreach (json_object_get (m, "layers"), i, l)
      assert_true (kd_image_store_has_blob (s, json_string_value (json_object_get (l, "digest"))));
  json_decref (m);
  free (body);
}

static void
test_pull_oci_by_tag_stores_verified_image (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *msg = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/busybox", .tag = "1.35" };
  progress_t prog = { 0 };

  msg = pull (NULL, s, &ref, &prog, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);
  /* Progress counts the config and the layers, ends at the total. */
  assert_true (prog.calls > 1);
  assert_false (prog.backwards);
  assert_true (prog.total > 1000000);
  assert_int_equal (prog.done, prog.total);
  assert_int_equal (count_files (dir, "tmp"), 0);

  /* A second pull finds every blob present and fetches none. */
  free (steal_pointer (&digest));
  prog = (progress_t){ 0 };
  msg = pull (NULL, s, &ref, &prog, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_int_equal (prog.done, prog.total);
  kd_image_store_free (s);
}

static void
test_pull_by_digest_verifies_pinned_digest (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *wrong = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/busybox", .digest = busybox_dgst };

  msg = pull (NULL, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);

  /* A digest the repository does not hold. */
  ref.digest = wrong = xasprintf ("sha256:%064d", 0);
  msg = pull (NULL, s, &ref, NULL, NULL);
  assert_contains (msg, "manifest unknown");
  kd_image_store_free (s);
}

static void
test_pull_docker_schema2 (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *body = NULL;
  size_t len;
  kd_error_t err = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/docker", .tag = "1.35" };

  msg = pull (NULL, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_image_stored (s, digest);
  assert_int_equal (kd_image_store_read_blob (s, digest, 1 << 22, &body, &len, &err), 0);
  assert_contains (body, "application/vnd.docker.distribution.manifest.v2+json");
  assert_contains (body, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  kd_image_store_free (s);
}

static void
test_pull_index_resolves_this_arch (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *msg = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/multi", .tag = "1" };
  kd_registry_opts_t opts = { .arch = other_arch };

  msg = pull (NULL, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);
  assert_true (kd_image_store_has_blob (s, index_dgst));
  assert_false (kd_image_store_has_blob (s, other_dgst));

  /* The same index for the other architecture. */
  free (steal_pointer (&digest));
  msg = pull (&opts, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, other_dgst);
  kd_image_store_free (s);
}

static void
test_pull_index_refuses_missing_arch (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *want = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/multi", .tag = "1" };
  kd_registry_opts_t opts = { .arch = "s390x" };

  msg = pull (&opts, s, &ref, NULL, NULL);
  want = xasprintf ("no image for linux/s390x in %s/test/multi:1", reg.addr);
  assert_contains (msg, want);
  assert_int_equal (count_files (dir, "blobs/sha256"), 0);
  kd_image_store_free (s);
}

static void
test_corrupted_blob_is_digest_mismatch_and_nothing_stored (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *manifest = NULL;
  cleanup_free char *layer = NULL;
  cleanup_free char *data = NULL;
  kd_image_store_t *s;
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/corrupt", .tag = "1" };

  /* An image of its own: its layer is in no other repository. */
  manifest = make_layout ("make-random-oci.sh", "", "corrupt", "1 corrupt");
  assert_int_equal (push (&reg, "corrupt", "corrupt", "test/corrupt:1", "oci"), 0);
  /* skopeo may compress the layer on the way: ask the registry. */
  layer = run_line ("curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "
                    "http://%s/v2/test/corrupt/manifests/1 | python3 -c 'import json,sys; "
                    "print(json.load(sys.stdin)[\"layers\"][0][\"digest\"][7:])'",
                    reg.addr);
  assert_non_null (layer);
  data = xasprintf ("%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", reg.storage, layer, layer);
  /* Same size, other bytes: only the digest can tell. */
  assert_int_equal (
      run ("dd if=/dev/urandom of=%s bs=4096 count=1 seek=10 conv=notrunc status=none", data), 0);

  s = new_store (&dir);
  msg = pull (NULL, s, &ref, NULL, NULL);
  assert_contains (msg, "digest mismatch");
  assert_contains (msg, layer);
  assert_int_equal (count_files (dir, "blobs/sha256"), 0);
  assert_int_equal (count_files (dir, "tmp"), 0);
  kd_image_store_free (s);
}

static void
test_manifest_unknown_names_the_cause (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *want = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/busybox", .tag = "nope" };

  msg = pull (NULL, s, &ref, NULL, NULL);
  want = xasprintf ("pull %s/test/busybox:nope: manifest unknown: ", reg.addr);
  assert_contains (msg, want);
  assert_int_equal (count_files (dir, "blobs/sha256"), 0);
  kd_image_store_free (s);
}

static void
test_unsupported_media_type_is_refused (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = reg.addr, .path = "test/busybox", .tag = "artifact" };

  /* An artifact: the busybox manifest with a config type no image has. */
  assert_int_equal (run ("curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "
                         "http://%s/v2/test/busybox/manifests/1.35 "
                         "| sed 's,application/vnd.oci.image.config.v1+json,"
                         "application/vnd.example.thing+json,' "
                         "| curl -fsS -o /dev/null -X PUT "
                         "-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "
                         "--data-binary @- http://%s/v2/test/busybox/manifests/artifact",
                         reg.addr, reg.addr),
                    0);
  msg = pull (NULL, s, &ref, NULL, NULL);
  assert_contains (msg, "unsupported media type `application/vnd.example.thing+json` for config");
  assert_int_equal (count_files (dir, "blobs/sha256"), 0);
  kd_image_store_free (s);
}

static int
free_port (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof (a);
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  assert_true (fd >= 0);
  assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof (a)), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &a, &len), 0);
  close (fd);
  return ntohs (a.sin_port);
}

static void
test_unreachable_registry_names_the_address (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *host = xasprintf ("127.0.0.1:%d", free_port ());
  cleanup_free char *want = NULL;
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = host, .path = "library/x", .tag = "1" };

  msg = pull (NULL, s, &ref, NULL, NULL);
  want = xasprintf ("pull %s/library/x:1: ", host);
  assert_contains (msg, want);
  free (want);
  want = xasprintf ("dial %s: connection refused", host);
  assert_contains (msg, want);
  kd_image_store_free (s);
}

static void
test_mirror_serves_docker_io (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *mirror = xasprintf ("docker.io=http://%s/", reg.addr);
  char *mirrors[] = { mirror };
  kd_registry_opts_t opts = { .mirrors = mirrors, .n_mirrors = 1, .timeout_s = 10 };
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .domain = "docker.io", .path = "library/busybox", .tag = "1.35" };

  assert_int_equal (push (&reg, "busybox", "v1", "library/busybox:1.35", "oci"), 0);
  msg = pull (&opts, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);
  kd_image_store_free (s);
}

static void
test_registry_killed_mid_pull_leaves_nothing (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *manifest = NULL;
  registry_t dying = { 0 };
  progress_t prog = { 0 };
  kd_image_store_t *s;
  kd_image_ref_t ref = { .path = "test/big", .tag = "1" };

  assert_int_equal (registry_start (&dying, "dying", NULL), 0);
  manifest = make_layout ("make-random-oci.sh", "", "big", "20 big");
  assert_int_equal (push (&dying, "big", "big", "test/big:1", "oci"), 0);
  ref.domain = dying.addr;
  prog.kill_pid = dying.pid;

  s = new_store (&dir);
  msg = pull (NULL, s, &ref, &prog, NULL);
  registry_stop (&dying);
  assert_true (prog.killed);
  assert_true (prog.done < prog.total);
  assert_contains (msg, "blob sha256:");
  assert_int_equal (count_files (dir, "blobs/sha256"), 0);
  assert_int_equal (count_files (dir, "tmp"), 0);
  kd_image_store_free (s);
}

static void
write_text (const char *path, const char *text)
{
  kd_error_t err = NULL;
  if (kd_write_file_atomic (path, text, strlen (text), 0600, &err) < 0)
    fail_msg ("%s", err->msg);
}

static void
test_basic_auth_uses_auth_file (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *htpasswd = xasprintf ("%s/htpasswd", root);
  cleanup_free char *authfile = xasprintf ("%s/auth.json", root);
  cleanup_free char *json = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *digest = NULL;
  registry_t locked = { 0 };
  kd_registry_opts_t opts = { .auth_file = authfile };
  kd_image_store_t *s;
  kd_image_ref_t ref = { .path = "test/busybox", .tag = "1.35" };
  int rc;

  rc = run ("bash %s/tests/lib/registry.sh htpasswd %s kd s3cret", src_dir, htpasswd);
  if (rc == 77)
    {
      print_message ("skipping basic auth: no bcrypt tool (htpasswd or python3 crypt)\n");
      skip ();
    }
  assert_int_equal (rc, 0);
  assert_int_equal (registry_start (&locked, "locked", htpasswd), 0);
  assert_int_equal (run ("KD_PUSH_CREDS=kd:s3cret bash %s/tests/lib/registry.sh push %s/busybox v1 "
                         "%s/test/busybox:1.35 oci",
                         src_dir, root, locked.addr),
                    0);
  ref.domain = locked.addr;
  s = new_store (&dir);

  /* No credentials. */
  msg = pull (NULL, s, &ref, NULL, NULL);
  assert_contains (msg, "unauthorized: authentication required");
  free (steal_pointer (&msg));

  /* Wrong ones. */
  json
      = xasprintf ("{\"auths\":{\"%s\":{\"username\":\"kd\",\"password\":\"nope\"}}}", locked.addr);
  write_text (authfile, json);
  msg = pull (&opts, s, &ref, NULL, NULL);
  assert_contains (msg, "unauthorized");
  free (steal_pointer (&msg));
  free (steal_pointer (&json));

  /* "auth": base64 of kd:s3cret, under a URL-style key as docker login writes it. */
  json = xasprintf ("{\"auths\":{\"http://%s/v1/\":{\"auth\":\"a2Q6czNjcmV0\"}}}", locked.addr);
  write_text (authfile, json);
  msg = pull (&opts, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);
  free (steal_pointer (&json));
  free (steal_pointer (&digest));

  /* username and password fields, in a fresh store. */
  kd_image_store_free (s);
  free (steal_pointer (&dir));
  s = new_store (&dir);
  json = xasprintf ("{\"auths\":{\"%s\":{\"username\":\"kd\",\"password\":\"s3cret\"}}}",
                    locked.addr);
  write_text (authfile, json);
  msg = pull (&opts, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_image_stored (s, digest);
  kd_image_store_free (s);
  registry_stop (&locked);
}

/* The token protocol (what Docker Hub speaks): a front that challenges with
   Bearer, issues tokens for repository:<path>:pull, and forwards to the
   shared registry. */
static void
test_bearer_token_anonymous_and_with_credentials (void **state)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *authfile = xasprintf ("%s/token-auth.json", root);
  cleanup_free char *json = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *args = NULL;
  registry_t anon = { 0 }, locked = { 0 };
  kd_registry_opts_t opts = { .auth_file = authfile };
  kd_image_store_t *s = new_store (&dir);
  kd_image_ref_t ref = { .path = "test/busybox", .tag = "1.35" };

  assert_int_equal (service_start (&anon, "token-proxy", "anon", reg.addr), 0);
  ref.domain = anon.addr;
  msg = pull (NULL, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  assert_image_stored (s, digest);
  registry_stop (&anon);
  free (steal_pointer (&digest));

  args = xasprintf ("%s kd:s3cret", reg.addr);
  assert_int_equal (service_start (&locked, "token-proxy", "locked-token", args), 0);
  ref.domain = locked.addr;
  msg = pull (NULL, s, &ref, NULL, NULL);
  assert_contains (msg, "unauthorized");
  free (steal_pointer (&msg));
  json = xasprintf ("{\"auths\":{\"%s\":{\"auth\":\"a2Q6czNjcmV0\"}}}", locked.addr);
  write_text (authfile, json);
  msg = pull (&opts, s, &ref, NULL, &digest);
  assert_null (msg);
  assert_string_equal (digest, busybox_dgst);
  registry_stop (&locked);
  kd_image_store_free (s);
}

static int
setup (void **state)
{
  const char *env = getenv ("KD_SOURCE_DIR");
  char tmpl[] = "/tmp/kd-it-registry.XXXXXX";
  char pid[32];

  /* ctest sets KD_SOURCE_DIR; by hand, the tree this file is in. */
  src_dir = env ? xstrdup (env)
                : xstrndup (__FILE__,
                            strlen (__FILE__) - strlen ("/tests/integration/test_registry.c"));
  if (mkdtemp (tmpl) == NULL)
    return -1;
  root = xstrdup (tmpl);
  /* Registries started by the helper die with this process, and so does
     root: a watchdog removes it even after a crash. */
  snprintf (pid, sizeof (pid), "%d", (int) getpid ());
  setenv ("KD_REGISTRY_OWNER_PID", pid, 1);
  run ("(trap '' HUP; while kill -0 %s 2>/dev/null; do sleep 1; done; rm -rf %s) "
       "</dev/null >/dev/null 2>&1 &",
       pid, root);

  if (registry_start (&reg, "registry", NULL) < 0)
    return -1;
  other_arch
      = run ("[ \"$(dpkg --print-architecture 2>/dev/null)\" = arm64 ]") == 0 ? "amd64" : "arm64";
  busybox_dgst = make_layout ("make-busybox-oci.sh", "", "busybox", "v1");
  {
    cleanup_free char *env_arch = xasprintf ("ARCH=%s", other_arch);
    other_dgst = make_layout ("make-busybox-oci.sh", env_arch, "other", "v1");
  }
  if (push (&reg, "busybox", "v1", "test/busybox:1.35", "oci") != 0
      || push (&reg, "busybox", "v1", "test/docker:1.35", "v2s2") != 0)
    return -1;
  index_dgst
      = run_line ("bash %s/tests/lib/registry.sh push-index %s/busybox %s/other %s/test/multi:1",
                  src_dir, root, root, reg.addr);
  return index_dgst != NULL ? 0 : -1;
}

static int
teardown (void **state)
{
  registry_stop (&reg);
  if (root != NULL)
    run ("rm -rf %s", root);
  free (root);
  free (src_dir);
  free (busybox_dgst);
  free (other_dgst);
  free (index_dgst);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pull_oci_by_tag_stores_verified_image),
    cmocka_unit_test (test_pull_by_digest_verifies_pinned_digest),
    cmocka_unit_test (test_pull_docker_schema2),
    cmocka_unit_test (test_pull_index_resolves_this_arch),
    cmocka_unit_test (test_pull_index_refuses_missing_arch),
    cmocka_unit_test (test_corrupted_blob_is_digest_mismatch_and_nothing_stored),
    cmocka_unit_test (test_manifest_unknown_names_the_cause),
    cmocka_unit_test (test_unsupported_media_type_is_refused),
    cmocka_unit_test (test_unreachable_registry_names_the_address),
    cmocka_unit_test (test_mirror_serves_docker_io),
    cmocka_unit_test (test_registry_killed_mid_pull_leaves_nothing),
    cmocka_unit_test (test_basic_auth_uses_auth_file),
    cmocka_unit_test (test_bearer_token_anonymous_and_with_credentials),
  };

  if (access ("/usr/bin/docker-registry", X_OK) != 0
      || system ("command -v skopeo >/dev/null 2>&1") != 0)
    {
      fprintf (stderr, "skipping: docker-registry or skopeo is missing\n");
      return 77;
    }
  return cmocka_run_group_tests (tests, setup, teardown);
}
