/* The per-pod shim through kubeletd's client (root): a shim in new network,
 * IPC and UTS namespaces; containers whose output lands in the CRI log and
 * whose exits carry their true codes and signals; a client that goes away
 * and comes back to find the exits and logs of the meantime; a shim killed
 * under the client (on_lost); shutdown leaving nothing behind; exec into a
 * container. Prints the shim's RSS. Exits 77 when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kubeletd/runtime.h"
#include "kubeletd/shim.h"

#define MAX_EXITS 32

typedef struct
{
  char *id;
  int exit_code;
  int signal;
} exit_rec_t;

static uv_loop_t loop;
static const char *shim_bin;
static char *root;      /* everything lives here */
static char *rootfs;    /* busybox + /bin/kd-payload */
static pid_t stray[16]; /* container pids to kill in teardown */
static size_t n_stray;

static exit_rec_t exits[MAX_EXITS];
static size_t n_exits;
static bool lost;

/* ---- helpers ---------------------------------------------------------- */

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

/* A command's whole stdout, without the final newline. */
static KD_PRINTF (1, 2) char *run_out (const char *fmt, ...)
{
  va_list ap;
  char *cmd = NULL;
  kd_buf_t b = { 0 };
  char buf[512];
  size_t n;
  FILE *f;

  va_start (ap, fmt);
  assert_true (vasprintf (&cmd, fmt, ap) >= 0);
  va_end (ap);
  f = popen (cmd, "r");
  free (cmd);
  assert_non_null (f);
  while ((n = fread (buf, 1, sizeof (buf), f)) > 0)
    kd_buf_append (&b, buf, n);
  pclose (f);
  kd_buf_putc (&b, '\0');
  if (b.len > 1 && b.s[b.len - 2] == '\n')
    b.s[b.len - 2] = '\0';
  return kd_buf_steal (&b);
}

static void
on_tick (uv_timer_t *t)
{
}

/* Runs the loop until *flag or the timeout; returns *flag. */
static bool
wait_for (bool *flag, int ms)
{
  uv_timer_t t;
  int64_t end = kd_monotonic_ns () + (int64_t) ms * 1000000;

  uv_timer_init (&loop, &t);
  uv_timer_start (&t, on_tick, 10, 10);
  while (!*flag && kd_monotonic_ns () < end)
    uv_run (&loop, UV_RUN_ONCE);
  uv_close ((uv_handle_t *) &t, NULL);
  uv_run (&loop, UV_RUN_NOWAIT);
  return *flag;
}

static const exit_rec_t *
find_exit (const char *id)
{
  for (size_t i = 0; i < n_exits; i++)
    if (strcmp (exits[i].id, id) == 0)
      return &exits[i];
  return NULL;
}

static bool exit_seen;
static const char *exit_wanted;

static void
on_exit_cb (kd_shim_t *shim, const kd_shim_ctr_state_t *st, void *data)
{
  assert_false (st->running);
  if (n_exits < MAX_EXITS && find_exit (st->id) == NULL)
    {
      exits[n_exits].id = xstrdup (st->id);
      exits[n_exits].exit_code = st->exit_code;
      exits[n_exits].signal = st->signal;
      n_exits++;
    }
  if (exit_wanted && strcmp (st->id, exit_wanted) == 0)
    exit_seen = true;
}

static void
on_lost_cb (kd_shim_t *shim, void *data)
{
  lost = true;
}

static void
forget_exits (void)
{
  for (size_t i = 0; i < n_exits; i++)
    free (exits[i].id);
  n_exits = 0;
}

static const exit_rec_t *
wait_exit (const char *id, int ms)
{
  exit_wanted = id;
  exit_seen = find_exit (id) != NULL;
  wait_for (&exit_seen, ms);
  exit_wanted = NULL;
  return find_exit (id);
}

typedef struct
{
  bool done;
  char *err;
  pid_t pid;
  kd_shim_ctr_state_t *states;
  size_t n;
} result_t;

static void
result_reset (result_t *r)
{
  free (r->err);
  for (size_t i = 0; i < r->n; i++)
    kd_shim_state_free (&r->states[i]);
  free (r->states);
  memset (r, 0, sizeof (*r));
}

static void
on_ready (kd_shim_t *shim, const char *err, void *data)
{
  result_t *r = data;
  r->done = true;
  r->err = err ? xstrdup (err) : NULL;
}

static void
on_create (kd_shim_t *shim, pid_t pid, int64_t started, const char *err, void *data)
{
  result_t *r = data;
  r->done = true;
  r->pid = pid;
  r->err = err ? xstrdup (err) : NULL;
  if (pid > 0)
    {
      assert_true (started > 0);
      if (n_stray < KD_ARRAY_SIZE (stray))
        stray[n_stray++] = pid;
    }
}

static void
on_done (kd_shim_t *shim, const char *err, void *data)
{
  result_t *r = data;
  r->done = true;
  r->err = err ? xstrdup (err) : NULL;
}

static void
on_state (kd_shim_t *shim, const kd_shim_ctr_state_t *st, size_t n, const char *err, void *data)
{
  result_t *r = data;
  r->done = true;
  r->err = err ? xstrdup (err) : NULL;
  r->states = xcalloc (n + 1, sizeof (*st));
  for (size_t i = 0; i < n; i++)
    {
      r->states[i] = st[i];
      r->states[i].id = xstrdup (st[i].id);
      r->states[i].error = st[i].error ? xstrdup (st[i].error) : NULL;
    }
  r->n = n;
}

static const kd_shim_callbacks_t cbs = { on_exit_cb, on_lost_cb, NULL };

static kd_shim_t *
start_shim (const char *pod_dir, const char *hostname)
{
  kd_shim_opts_t o = { .shim_path = shim_bin,
                       .pod_dir = pod_dir,
                       .hostname = hostname,
                       .new_net = true,
                       .new_ipc = true,
                       .new_uts = true };
  result_t r = { 0 };
  kd_shim_t *s = kd_shim_start (&loop, &o, &cbs, on_ready, &r);

  assert_true (wait_for (&r.done, 10000));
  if (r.err)
    fail_msg ("shim start: %s", r.err);
  assert_true (kd_shim_pid (s) > 0);
  return s;
}

/* Writes containers/<id>/config.json running argv in the test rootfs. */
static void
write_spec (const char *pod_dir, const char *id, bool host_pid, const char *const *argv)
{
  kd_ctr_spec_t spec;
  char *env[] = { (char *) "PATH=/bin", (char *) "KD_TEST=1", NULL };
  char *bundle = xasprintf ("%s/containers/%s", pod_dir, id);
  kd_error_t err = NULL;
  size_t n = 0;

  memset (&spec, 0, sizeof (spec));
  while (argv[n])
    n++;
  spec.id = (char *) id;
  spec.name = (char *) id;
  spec.pod_uid = (char *) "0123456789abcdef0123456789abcdef";
  spec.argv = (char **) argv;
  spec.argc = n;
  spec.env = env;
  spec.n_env = 2;
  spec.cwd = (char *) "/";
  spec.rootfs = rootfs;
  spec.host_pid = host_pid;
  spec.cap_bounding = spec.cap_effective = spec.cap_permitted = kd_caps_default ();
  spec.seccomp = KD_SECCOMP_UNCONFINED;
  spec.log_path = xasprintf ("%s/logs/%s/0.log", root, id);
  spec.log_max_size = 0;
  spec.log_max_files = 5;
  spec.stop_signal = SIGTERM;
  assert_int_equal (kd_mkdir_p (bundle, 0755, &err), 0);
  if (kd_ctr_spec_save (&spec, bundle, &err) < 0)
    fail_msg ("save spec: %s", err->msg);
  free (spec.log_path);
  free (bundle);
}

static pid_t
create (kd_shim_t *s, const char *id)
{
  result_t r = { 0 };
  pid_t pid;

  kd_shim_create (s, id, on_create, &r);
  assert_true (wait_for (&r.done, 10000));
  if (r.err)
    fail_msg ("create %s: %s", id, r.err);
  pid = r.pid;
  result_reset (&r);
  return pid;
}

static char *
request_done (kd_shim_t *s, const char *op, const char *id, int sig)
{
  result_t r = { 0 };
  char *err;

  if (strcmp (op, "kill") == 0)
    kd_shim_kill (s, id, sig, on_done, &r);
  else if (strcmp (op, "delete") == 0)
    kd_shim_delete (s, id, on_done, &r);
  else
    kd_shim_shutdown (s, on_done, &r);
  assert_true (wait_for (&r.done, 10000));
  err = steal_pointer (&r.err);
  result_reset (&r);
  return err;
}

static char *
log_of (const char *id)
{
  char *path = xasprintf ("%s/logs/%s/0.log", root, id);
  char *data = NULL;
  kd_error_t err = NULL;

  if (kd_read_file (path, 1 << 24, &data, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  free (path);
  return data;
}

static bool
is_mounted (const char *path)
{
  char *out = run_out ("grep -c ' %s ' /proc/self/mountinfo", path);
  bool r = atoi (out) > 0;
  free (out);
  return r;
}

static bool
process_gone (pid_t pid, int ms)
{
  char *path = xasprintf ("/proc/%d/stat", (int) pid);
  bool gone = false;

  /* A zombie counts as gone: the shim is not our child, and whoever
     inherited it reaps when it pleases. */
  for (int i = 0; i < ms / 10 && !gone; i++)
    {
      char *data = NULL, *p;
      kd_error_t err = NULL;
      if (kd_read_file (path, 4096, &data, NULL, &err) < 0)
        gone = true;
      else if ((p = strrchr (data, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
        gone = true;
      else
        usleep (10000);
      kd_error_release (&err);
      free (data);
    }
  free (path);
  return gone;
}

static void
print_rss (pid_t pid)
{
  char *rss = run_out ("grep VmRSS /proc/%d/status", (int) pid);
  printf ("# shim RSS (pid %d): %s\n", (int) pid, rss);
  free (rss);
}

/* ---- setup ------------------------------------------------------------ */

static int
setup (void **state)
{
  const char *src = getenv ("KD_SOURCE_DIR");
  const char *payload = getenv ("KD_PAYLOAD");
  char *lib;

  root = xasprintf ("/tmp/kd-shim-test-%d", (int) getpid ());
  rootfs = xasprintf ("%s/rootfs", root);
  if (run ("mkdir -p %s", rootfs) != 0)
    return -1;
  lib = xasprintf ("%s/tests/lib/rootfs.sh", src ? src : ".");
  if (access (lib, R_OK) == 0)
    {
      if (run ("bash -c '. %s && kd_make_rootfs %s'", lib, rootfs) != 0)
        return -1;
    }
  else
    {
      /* Until tests/lib/rootfs.sh exists: busybox-static and the payload. */
      if (run ("set -e; cd %s; mkdir -p bin proc dev sys etc tmp; cp /bin/busybox bin/busybox;"
               "for c in sh hostname readlink cat sleep echo; do ln -sf busybox bin/$c; done;"
               "cp %s bin/kd-payload",
               rootfs, payload)
          != 0)
        {
          free (lib);
          return -1;
        }
    }
  free (lib);
  assert_int_equal (uv_loop_init (&loop), 0);
  return 0;
}

static void
umount_handles (const char *pod_dir)
{
  const char *ns[] = { "net", "ipc", "uts" };
  for (size_t i = 0; i < 3; i++)
    {
      char *p = xasprintf ("%s/ns/%s", pod_dir, ns[i]);
      while (umount2 (p, MNT_DETACH) == 0)
        ;
      free (p);
    }
}

static int
teardown (void **state)
{
  const char *pods[] = { "pod1", "pod2", "pod3" };

  for (size_t i = 0; i < n_stray; i++)
    kill (stray[i], SIGKILL);
  for (size_t i = 0; i < KD_ARRAY_SIZE (pods); i++)
    {
      char *d = xasprintf ("%s/%s", root, pods[i]);
      char *pidfile = xasprintf ("%s/shim.pid", d);
      char *data = NULL;
      kd_error_t err = NULL;
      if (kd_read_file (pidfile, 64, &data, NULL, &err) == 0)
        kill (atoi (data), SIGKILL);
      kd_error_release (&err);
      umount_handles (d);
      free (data);
      free (pidfile);
      free (d);
    }
  uv_run (&loop, UV_RUN_NOWAIT);
  uv_loop_close (&loop);
  run ("rm -rf %s", root);
  forget_exits ();
  free (rootfs);
  free (root);
  return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_start_error_is_reported (void **state)
{
  kd_shim_opts_t o = { .shim_path = shim_bin, .pod_dir = "/dev/null/pod", .new_uts = true };
  result_t r = { 0 };
  kd_shim_t *s = kd_shim_start (&loop, &o, &cbs, on_ready, &r);

  assert_true (wait_for (&r.done, 10000));
  assert_non_null (r.err);
  assert_non_null (strstr (r.err, "mkdir `/dev/null"));
  kd_shim_free (s);
  uv_run (&loop, UV_RUN_NOWAIT);
  result_reset (&r);
}

static void
test_shim_runs_containers_and_survives_its_client (void **state)
{
  char *pod = xasprintf ("%s/pod1", root);
  char *net = xasprintf ("%s/ns/net", pod);
  char *sock = xasprintf ("%s/shim.sock", pod);
  const char *out_argv[] = { "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7", NULL };
  const char *sleep_argv[] = { "/bin/kd-payload", "sleep", "100", NULL };
  const char *late_argv[] = { "/bin/kd-payload", "exit-after", "1", "7", NULL };
  const char *chatty_argv[]
      = { "/bin/sh", "-c", "sleep 1; i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done",
          NULL };
  const exit_rec_t *e;
  kd_shim_t *s;
  pid_t shim_pid, target;
  result_t r = { 0 };
  char *data, *got, *want, *err;

  s = start_shim (pod, "shim-test");
  shim_pid = kd_shim_pid (s);
  assert_true (is_mounted (net));
  print_rss (shim_pid);
  /* kubeletd's process group being stopped does not stop the shim. */
  kill (shim_pid, SIGTERM);
  kill (shim_pid, SIGINT);
  kill (shim_pid, SIGHUP);
  assert_false (process_gone (shim_pid, 200));

  /* Output in CRI format, and the true exit code. */
  write_spec (pod, "out", false, out_argv);
  create (s, "out");
  e = wait_exit ("out", 10000);
  assert_non_null (e);
  assert_int_equal (e->exit_code, 7);
  assert_int_equal (e->signal, 0);
  data = log_of ("out");
  assert_int_equal (run ("grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z stdout F "
                         "to-stdout$' %s/logs/out/0.log",
                         root),
                    0);
  assert_non_null (strstr (data, "Z stderr F to-stderr\n"));
  free (data);

  /* A SIGTERM kill (host PID namespace: a PID 1 would ignore it). */
  write_spec (pod, "term", true, sleep_argv);
  create (s, "term");
  assert_null (request_done (s, "kill", "term", SIGTERM));
  e = wait_exit ("term", 10000);
  assert_non_null (e);
  assert_int_equal (e->signal, SIGTERM);
  assert_int_equal (e->exit_code, 128 + SIGTERM);

  /* exec runs inside the container: its hostname and PID namespace. */
  write_spec (pod, "target", false, sleep_argv);
  target = create (s, "target");
  got = run_out ("%s exec --pod-dir %s --id target -- /bin/hostname", shim_bin, pod);
  assert_string_equal (got, "shim-test");
  free (got);
  got = run_out ("%s exec --pod-dir %s --id target -- /bin/readlink /proc/self/ns/pid", shim_bin,
                 pod);
  want = run_out ("readlink /proc/%d/ns/pid", (int) target);
  assert_string_equal (got, want);
  free (got);
  free (want);
  assert_int_equal (run ("%s exec --pod-dir %s --id target -- /bin/sh -c 'exit 3'", shim_bin, pod),
                    3);
  assert_int_equal (run ("%s exec --pod-dir %s --id nope -- /bin/true 2>/dev/null", shim_bin, pod),
                    126);
  assert_int_equal (
      run ("%s exec --pod-dir %s --id target -- /bin/no-such 2>/dev/null", shim_bin, pod), 127);
  /* The container does not inherit the shim's blocked SIGCHLD. */
  got = run_out ("%s exec --pod-dir %s --id target -- /bin/sh -c 'grep SigBlk /proc/1/status'",
                 shim_bin, pod);
  assert_string_equal (got, "SigBlk:\t0000000000000000");
  free (got);
  assert_null (request_done (s, "kill", "target", SIGKILL));
  e = wait_exit ("target", 10000);
  assert_non_null (e);
  assert_int_equal (e->signal, SIGKILL);

  /* Requests the shim refuses. */
  err = request_done (s, "delete", "nope", 0);
  assert_non_null (err);
  assert_non_null (strstr (err, "not found"));
  free (err);

  /* The client goes away; exits and logs of the meantime are kept. */
  write_spec (pod, "late", false, late_argv);
  write_spec (pod, "chatty", false, chatty_argv);
  create (s, "late");
  create (s, "chatty");
  kd_shim_free (s);
  uv_run (&loop, UV_RUN_NOWAIT);
  forget_exits ();
  sleep (3);
  assert_false (process_gone (shim_pid, 10));
  assert_int_equal (run ("grep -q '\"exitCode\":7' %s/containers/late/state.json", pod), 0);

  /* Garbage on the socket gets an error reply; an endless line, a hang-up. */
  {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[4096], *big;
    ssize_t n;
    size_t len = 0;

    strcpy (sa.sun_path, sock);
    assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof (sa)), 0);
    assert_true (write (fd, "garbage\n{\"seq\":5}\n", 19) == 19);
    /* Exit events of the meantime come first; then the two errors. */
    while (len < sizeof (buf) - 1 && (n = read (fd, buf + len, sizeof (buf) - 1 - len)) > 0)
      {
        len += (size_t) n;
        buf[len] = '\0';
        if (strstr (buf, "missing `op`"))
          break;
      }
    assert_non_null (strstr (buf, "{\"ok\":false,\"error\":\"invalid request:"));
    assert_non_null (
        strstr (buf, "{\"seq\":5,\"ok\":false,\"error\":\"invalid request: missing `op`\"}"));
    big = xmalloc (70 * 1024);
    memset (big, 'x', 70 * 1024);
    /* The shim may hang up before taking it all: no SIGPIPE, no count. */
    n = send (fd, big, 70 * 1024, MSG_NOSIGNAL);
    assert_true (n > 0);
    while ((n = read (fd, buf, sizeof (buf))) > 0)
      ;
    assert_true (n == 0 || errno == ECONNRESET);
    free (big);
    close (fd);
  }

  s = kd_shim_connect (&loop, pod, &cbs, on_ready, &r);
  assert_true (wait_for (&r.done, 10000));
  assert_null (r.err);
  result_reset (&r);
  assert_int_equal (kd_shim_pid (s), shim_pid);
  e = wait_exit ("late", 5000);
  assert_non_null (e);
  assert_int_equal (e->exit_code, 7);
  assert_non_null (wait_exit ("chatty", 5000));
  assert_non_null (wait_exit ("out", 5000));
  kd_shim_state (s, on_state, &r);
  assert_true (wait_for (&r.done, 10000));
  assert_null (r.err);
  assert_int_equal (r.n, 5);
  for (size_t i = 0; i < r.n; i++)
    assert_false (r.states[i].running);
  result_reset (&r);
  data = log_of ("chatty");
  for (int i = 0; i < 2000; i++)
    {
      char line[64];
      snprintf (line, sizeof (line), " stdout F line-%d\n", i);
      assert_non_null (strstr (data, line));
    }
  free (data);

  /* delete forgets an exited container. */
  assert_null (request_done (s, "delete", "out", 0));
  kd_shim_state (s, on_state, &r);
  assert_true (wait_for (&r.done, 10000));
  assert_int_equal (r.n, 4);
  result_reset (&r);

  /* shutdown: no process, no namespace handle, no socket; not a loss. */
  write_spec (pod, "last", false, sleep_argv);
  target = create (s, "last");
  print_rss (shim_pid);
  assert_null (request_done (s, "shutdown", NULL, 0));
  assert_true (process_gone (shim_pid, 5000));
  assert_true (process_gone (target, 5000));
  assert_false (is_mounted (net));
  assert_int_equal (access (net, F_OK), -1);
  assert_int_equal (access (sock, F_OK), -1);
  lost = false;
  uv_run (&loop, UV_RUN_NOWAIT);
  usleep (100000);
  uv_run (&loop, UV_RUN_NOWAIT);
  assert_false (lost);
  kd_shim_free (s);
  uv_run (&loop, UV_RUN_NOWAIT);
  free (pod);
  free (net);
  free (sock);
}

static void
test_killed_shim_is_reported_lost (void **state)
{
  char *pod = xasprintf ("%s/pod2", root);
  const char *sleep_argv[] = { "/bin/kd-payload", "sleep", "100", NULL };
  kd_shim_t *s = start_shim (pod, "lost-test");
  result_t r = { 0 };
  pid_t pid = kd_shim_pid (s), ctr;

  write_spec (pod, "c", false, sleep_argv);
  ctr = create (s, "c");
  lost = false;
  kill (pid, SIGKILL);
  assert_true (wait_for (&lost, 5000));
  /* Requests after the loss fail at once. */
  kd_shim_state (s, on_state, &r);
  assert_true (r.done);
  assert_string_equal (r.err, "shim connection closed");
  result_reset (&r);
  kd_shim_free (s);
  uv_run (&loop, UV_RUN_NOWAIT);
  /* The orphaned container is this test's to clean up (kubeletd's job). */
  kill (ctr, SIGKILL);
  umount_handles (pod);
  free (pod);
}

static void
test_free_fails_pending_requests (void **state)
{
  char *pod = xasprintf ("%s/pod3", root);
  kd_shim_t *s = start_shim (pod, "free-test");
  result_t r = { 0 };
  pid_t pid = kd_shim_pid (s);

  kd_shim_state (s, on_state, &r);
  kd_shim_free (s);
  assert_true (r.done);
  assert_string_equal (r.err, "shim connection closed");
  result_reset (&r);
  uv_run (&loop, UV_RUN_NOWAIT);
  s = kd_shim_connect (&loop, pod, &cbs, on_ready, &r);
  assert_true (wait_for (&r.done, 10000));
  assert_null (r.err);
  result_reset (&r);
  assert_null (request_done (s, "shutdown", NULL, 0));
  assert_true (process_gone (pid, 5000));
  kd_shim_free (s);
  uv_run (&loop, UV_RUN_NOWAIT);
  free (pod);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_start_error_is_reported),
    cmocka_unit_test (test_shim_runs_containers_and_survives_its_client),
    cmocka_unit_test (test_killed_shim_is_reported_lost),
    cmocka_unit_test (test_free_fails_pending_requests),
  };

  if (geteuid () != 0)
    {
      printf ("# skipped: needs root\n");
      return 77;
    }
  shim_bin = getenv ("KUBELETD_SHIM");
  if (shim_bin == NULL || access (shim_bin, X_OK) != 0 || getenv ("KD_PAYLOAD") == NULL
      || access (getenv ("KD_PAYLOAD"), X_OK) != 0)
    {
      printf ("# skipped: KUBELETD_SHIM or KD_PAYLOAD not built\n");
      return 77;
    }
  return cmocka_run_group_tests (tests, setup, teardown);
}
