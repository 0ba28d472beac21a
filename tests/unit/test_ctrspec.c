/* pod ctrspec: the container spec from the pod, the image and the paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/stat.h>

#include "kubeletd/podlogic.h"

typedef struct
{
  char dir[64];
  char *lower[2];
  char *seccomp_dir;
  kd_pod_t pod;
  kd_container_t ctr;
  kd_image_config_t img;
  kd_ctrspec_input_t in;
  kd_ctr_spec_t spec;
  kd_error_t err;
  const char *reason;
} fx_t;

static char *pod_ips[] = { "10.88.0.5" };
static char *host_ips[] = { "192.168.1.10", "fd00::10" };
static char *procs[] = { "/sys/fs/cgroup/memory/kubepods/podu1/x/cgroup.procs" };
static kd_volume_path_t vols[] = {
  { "data", "/var/lib/kubeletd/pods/u1/volumes/data", false },
  { "cache", "/var/lib/kubeletd/pods/u1/volumes/cache", true },
};

static void
write_file (const char *dir, const char *rel, const char *content)
{
  char *p = xasprintf ("%s/%s", dir, rel);
  kd_error_t err = NULL;
  char *d = xstrdup (p);
  *strrchr (d, '/') = '\0';
  assert_int_equal (kd_mkdir_p (d, 0755, &err), 0);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  fputs (content, f);
  fclose (f);
  free (d);
  free (p);
}

static int
setup (void **state)
{
  fx_t *f = xcalloc (1, sizeof (*f));
  strcpy (f->dir, "/tmp/kd-ctrspec-XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  f->lower[0] = xasprintf ("%s/top", f->dir);
  f->lower[1] = xasprintf ("%s/base", f->dir);
  f->seccomp_dir = xasprintf ("%s/seccomp", f->dir);
  /* the base layer has the files; the top one shadows /etc/group only */
  write_file (f->lower[1], "etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:34:www:/var/www:/bin/false\n"
              "app:x:1000:1001::/home/app:/bin/sh\n");
  write_file (f->lower[1], "etc/group", "root:x:0:\nbogus:x:9:app\n");
  write_file (f->lower[0], "etc/group",
              "root:x:0:\nwww:x:34:\nadm:x:4:app,www\nvideo:x:44:app\napp:x:1001:app\n");
  write_file (f->seccomp_dir, "profiles/audit.json", "{\"defaultAction\":\"SCMP_ACT_LOG\"}");

  f->pod.metadata.name = "web-node1";
  f->pod.metadata.namespace_ = "default";
  f->pod.metadata.uid = "u1";
  static kd_kv_t labels[] = { { "app", "web" }, { "tier", "front\"end" } };
  f->pod.metadata.labels.v = labels;
  f->pod.metadata.labels.n = 2;
  f->pod.spec.node_name = "node1";
  f->pod.spec.restart_policy = "Always";
  f->pod.spec.containers = &f->ctr;
  f->pod.spec.n_containers = 1;
  f->ctr.name = "web";
  f->ctr.image = "busybox";
  f->ctr.termination_message_path = "/dev/termination-log";

  static char *ep[] = { "/bin/httpd" };
  static char *cmd[] = { "-f", "-p", "80" };
  static char *ienv[] = { "PATH=/bin:/usr/bin", "LANG=C" };
  f->img.entrypoint = ep;
  f->img.n_entrypoint = 1;
  f->img.cmd = cmd;
  f->img.n_cmd = 3;
  f->img.env = ienv;
  f->img.n_env = 2;
  f->img.working_dir = "/srv";

  kd_ctrspec_input_t *in = &f->in;
  in->pod = &f->pod;
  in->ctr = &f->ctr;
  in->id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  in->image = &f->img;
  in->lowerdirs = f->lower;
  in->n_lowerdirs = 2;
  in->rootfs = "/run/kubeletd/pods/u1/containers/x/rootfs";
  in->upperdir = "/var/lib/kubeletd/pods/u1/containers/web/0/upper";
  in->workdir = "/var/lib/kubeletd/pods/u1/containers/web/0/work";
  in->log_path = "/var/log/pods/default_web-node1_u1/web/0.log";
  in->log_max_size = 10 << 20;
  in->log_max_files = 5;
  in->hostname = "web-node1";
  in->hosts_file = "/var/lib/kubeletd/pods/u1/etc-hosts";
  in->hostname_file = "/var/lib/kubeletd/pods/u1/hostname";
  in->resolv_file = "/var/lib/kubeletd/pods/u1/resolv.conf";
  in->shm_dir = "/run/kubeletd/pods/u1/shm";
  in->termination_log = "/var/lib/kubeletd/pods/u1/containers/web/abcd";
  in->volumes = vols;
  in->n_volumes = 2;
  in->cgroup_procs = procs;
  in->n_cgroup_procs = 1;
  in->oom_file = "/sys/fs/cgroup/memory/kubepods/podu1/x/memory.oom_control";
  in->node_name = "node1";
  in->pod_ips = pod_ips;
  in->n_pod_ips = 1;
  in->host_ips = host_ips;
  in->n_host_ips = 2;
  in->node_cpu_millis = 4000;
  in->node_memory = 8LL << 30;
  in->node_ephemeral_storage = 100LL << 30;
  in->seccomp_default = true;
  in->seccomp_dir = f->seccomp_dir;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  fx_t *f = *state;
  char *cmd = xasprintf ("rm -rf '%s'", f->dir);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  kd_ctr_spec_free (&f->spec);
  kd_error_release (&f->err);
  free (f->lower[0]);
  free (f->lower[1]);
  free (f->seccomp_dir);
  free (f);
  return 0;
}

static int
build (fx_t *f)
{
  kd_ctr_spec_free (&f->spec);
  kd_error_release (&f->err);
  f->reason = NULL;
  return kd_ctrspec_build (&f->in, &f->spec, &f->reason, &f->err);
}

static const char *
env_get (const kd_ctr_spec_t *s, const char *name)
{
  size_t l = strlen (name);
  for (size_t i = 0; i < s->n_env; i++)
    if (strncmp (s->env[i], name, l) == 0 && s->env[i][l] == '=')
      return s->env[i] + l + 1;
  return NULL;
}

static void
test_ctrspec_defaults_from_image (void **state)
{
  fx_t *f = *state;
  assert_int_equal (build (f), 0);
  kd_ctr_spec_t *s = &f->spec;
  assert_int_equal (s->argc, 4);
  assert_string_equal (s->argv[0], "/bin/httpd");
  assert_string_equal (s->argv[3], "80");
  assert_null (s->argv[4]);
  /* containerd: PATH, HOSTNAME, image env replacing in place */
  assert_int_equal (s->n_env, 3);
  assert_string_equal (s->env[0], "PATH=/bin:/usr/bin");
  assert_string_equal (s->env[1], "HOSTNAME=web-node1");
  assert_string_equal (s->env[2], "LANG=C");
  assert_null (s->env[3]);
  assert_string_equal (s->cwd, "/srv");
  /* no image user: root, groups [0] */
  assert_int_equal (s->uid, 0);
  assert_int_equal (s->gid, 0);
  assert_int_equal (s->n_groups, 1);
  assert_int_equal (s->cap_bounding, kd_caps_default ());
  assert_int_equal (s->cap_effective, kd_caps_default ());
  assert_false (s->no_new_privs);
  assert_int_equal (s->seccomp, KD_SECCOMP_RUNTIME_DEFAULT);
  assert_int_equal (s->stop_signal, SIGTERM);
  assert_int_equal (s->oom_score_adj, 1000); /* BestEffort */
  assert_string_equal (s->id, f->in.id);
  assert_string_equal (s->pod_uid, "u1");
  assert_int_equal (s->n_lowerdirs, 2);
  assert_string_equal (s->memory_oom_control, f->in.oom_file);
  assert_int_equal (s->n_cgroup_procs, 1);
  assert_int_equal (s->log_max_files, 5);
  /* mounts: containerd's, then hosts and the termination log; by depth */
  assert_int_equal (s->n_mounts, 5);
  assert_string_equal (s->mounts[0].destination, "/etc/hostname");
  assert_string_equal (s->mounts[1].destination, "/etc/resolv.conf");
  assert_string_equal (s->mounts[2].destination, "/dev/shm");
  assert_string_equal (s->mounts[3].destination, "/etc/hosts");
  assert_string_equal (s->mounts[4].destination, "/dev/termination-log");
  assert_string_equal (s->mounts[4].source, f->in.termination_log);
  assert_string_equal (s->mounts[0].type, "bind");
  assert_false (s->mounts[0].readonly);

  /* without --seccomp-default: Unconfined */
  f->in.seccomp_default = false;
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.seccomp, KD_SECCOMP_UNCONFINED);
}

static void
test_ctrspec_env_expansion_and_downward_api (void **state)
{
  fx_t *f = *state;
  kd_object_field_selector_t fr[6] = {
    { "v1", "metadata.name" },  { "v1", "metadata.labels['app']" }, { "v1", "status.podIP" },
    { "v1", "status.hostIPs" }, { "v1", "metadata.labels" },        { "v1", "spec.nodeName" },
  };
  kd_resource_field_selector_t rf[3] = { { NULL, "limits.cpu", NULL },
                                         { NULL, "limits.memory", "1Mi" },
                                         { NULL, "requests.cpu", "1m" } };
  kd_env_var_source_t src[9] = { { .field_ref = &fr[0] },          { .field_ref = &fr[1] },
                                 { .field_ref = &fr[2] },          { .field_ref = &fr[3] },
                                 { .field_ref = &fr[4] },          { .field_ref = &fr[5] },
                                 { .resource_field_ref = &rf[0] }, { .resource_field_ref = &rf[1] },
                                 { .resource_field_ref = &rf[2] } };
  kd_env_var_t env[] = {
    { "POD", NULL, &src[0] },    { "APP", NULL, &src[1] },
    { "IP", NULL, &src[2] },     { "HOSTS", NULL, &src[3] },
    { "LABELS", NULL, &src[4] }, { "NODE", NULL, &src[5] },
    { "CPU", NULL, &src[6] },    { "MEM_MI", NULL, &src[7] },
    { "REQ", NULL, &src[8] },    { "URL", "http://$(IP):80/$(APP)$$(APP)$(NOPE)$(LATER)", NULL },
    { "LATER", "x", NULL },      { "LANG", "en", NULL },
    { "POD", "again", NULL },
  };
  kd_kv_t req[] = { { "cpu", "250m" } };
  kd_kv_t lim[] = { { "memory", "1536Mi" } };
  static char *args[] = { "--name=$(POD)", "$(URL)", "$" };
  f->ctr.env = env;
  f->ctr.n_env = KD_ARRAY_SIZE (env);
  f->ctr.resources.requests.v = req;
  f->ctr.resources.requests.n = 1;
  f->ctr.resources.limits.v = lim;
  f->ctr.resources.limits.n = 1;
  f->ctr.args.v = args;
  f->ctr.args.n = 3;
  assert_int_equal (build (f), 0);
  kd_ctr_spec_t *s = &f->spec;
  assert_string_equal (env_get (s, "POD"), "again");
  assert_string_equal (env_get (s, "APP"), "web");
  assert_string_equal (env_get (s, "IP"), "10.88.0.5");
  assert_string_equal (env_get (s, "HOSTS"), "192.168.1.10,fd00::10");
  assert_string_equal (env_get (s, "LABELS"), "app=\"web\"\ntier=\"front\\\"end\"");
  assert_string_equal (env_get (s, "NODE"), "node1");
  assert_string_equal (env_get (s, "CPU"), "4"); /* no limit: the node's 4000m */
  assert_string_equal (env_get (s, "MEM_MI"), "1536");
  assert_string_equal (env_get (s, "REQ"), "250");
  assert_string_equal (env_get (s, "URL"), "http://10.88.0.5:80/web$(APP)$(NOPE)$(LATER)");
  assert_string_equal (env_get (s, "LANG"), "en"); /* over the image's */
  /* the first POD keeps its place, with the last value */
  assert_string_equal (s->env[3], "POD=again");
  /* args see the final variables; entrypoint from the image */
  assert_string_equal (s->argv[0], "/bin/httpd");
  assert_string_equal (s->argv[1], "--name=again");
  assert_string_equal (s->argv[2], "http://10.88.0.5:80/web$(APP)$(NOPE)$(LATER)");
  assert_string_equal (s->argv[3], "$");
  /* Burstable: oom_score_adj by request (no memory request: 999) */
  assert_int_equal (s->oom_score_adj, 999);
  f->ctr.env = NULL;
  f->ctr.n_env = 0;
  f->ctr.args.n = 0;
  memset (&f->ctr.resources, 0, sizeof (f->ctr.resources));
}

static void
test_expand_vars_rules (void **state)
{
  char *env[] = { "A=1", "B=two", "A=3" };
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "$(A)", "3" },  { "$$(A)", "$(A)" }, { "$(C)", "$(C)" },     { "$(A", "$(A" },
    { "a$b", "a$b" }, { "x$", "x$" },      { "$(B)$(A)", "two3" }, { "$$$", "$$" },
  };
  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      char *r = kd_expand_vars (cases[i].in, env, 3);
      assert_string_equal (r, cases[i].out);
      free (r);
    }
}

static void
test_ctrspec_user_from_image_and_security_context (void **state)
{
  fx_t *f = *state;
  kd_security_context_t sc = { 0 };
  kd_pod_security_context_t psc = { 0 };
  int64_t sup[] = { 500, 501 };

  /* a name: uid and primary gid from passwd, member groups from the top
     layer's group file */
  f->img.user = "app";
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.uid, 1000);
  assert_int_equal (f->spec.gid, 1001);
  assert_int_equal (f->spec.n_groups, 3);
  assert_int_equal (f->spec.groups[0], 1001);
  assert_int_equal (f->spec.groups[1], 4);
  assert_int_equal (f->spec.groups[2], 44);

  /* uid:gid: the group part is dropped (the kubelet passes only the user
     on), the gid comes from passwd */
  f->img.user = "33:99";
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.uid, 33);
  assert_int_equal (f->spec.gid, 34);
  assert_int_equal (f->spec.n_groups, 2); /* 34, adm */

  /* an unlisted uid: gid 0 */
  f->img.user = "4242";
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.uid, 4242);
  assert_int_equal (f->spec.gid, 0);

  /* unknown name */
  f->img.user = "xyz";
  assert_true (build (f) < 0);
  assert_string_equal (f->reason, "CreateContainerError");
  assert_string_equal (f->err->msg, "unable to find user xyz: no matching entries in passwd file");

  /* runAsUser/runAsGroup (container over pod), fsGroup then supplementalGroups */
  f->pod.spec.security_context = &psc;
  f->ctr.security_context = &sc;
  psc.run_as_user = (kd_opt_i64_t){ true, 1 };
  psc.run_as_group = (kd_opt_i64_t){ true, 7 };
  psc.fs_group = (kd_opt_i64_t){ true, 2000 };
  psc.supplemental_groups.v = sup;
  psc.supplemental_groups.n = 2;
  sc.run_as_user = (kd_opt_i64_t){ true, 1000 };
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.uid, 1000);
  assert_int_equal (f->spec.gid, 7);
  /* runAsGroup, adm, video (not "app": a group named like the user is its
     primary one), fsGroup, supplementalGroups */
  static const uint32_t want[] = { 7, 4, 44, 2000, 500, 501 };
  assert_int_equal (f->spec.n_groups, KD_ARRAY_SIZE (want));
  for (size_t i = 0; i < KD_ARRAY_SIZE (want); i++)
    assert_int_equal (f->spec.groups[i], want[i]);

  f->img.user = NULL;
  f->pod.spec.security_context = NULL;
  f->ctr.security_context = NULL;
}

static void
test_ctrspec_run_as_non_root_refusals (void **state)
{
  fx_t *f = *state;
  kd_security_context_t sc = { 0 };
  f->ctr.security_context = &sc;
  sc.run_as_non_root = (kd_opt_bool_t){ true, true };

  assert_true (build (f) < 0); /* image user empty: root */
  assert_string_equal (f->reason, "CreateContainerConfigError");
  assert_string_equal (f->err->msg, "container has runAsNonRoot and image will run as root "
                                    "(pod: \"web-node1_default(u1)\", container: web)");
  f->img.user = "www";
  assert_true (build (f) < 0);
  assert_string_equal (f->err->msg,
                       "container has runAsNonRoot and image has non-numeric user (www), cannot "
                       "verify user is non-root (pod: \"web-node1_default(u1)\", container: web)");
  sc.run_as_user = (kd_opt_i64_t){ true, 0 };
  assert_true (build (f) < 0);
  assert_string_equal (f->err->msg, "container's runAsUser breaks non-root policy (pod: "
                                    "\"web-node1_default(u1)\", container: web)");
  f->img.user = "1000";
  sc.run_as_user.set = false;
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.uid, 1000);
  f->img.user = NULL;
  f->ctr.security_context = NULL;
}

static void
test_ctrspec_capabilities_and_privileges (void **state)
{
  fx_t *f = *state;
  kd_security_context_t sc = { 0 };
  kd_capabilities_t caps = { 0 };
  char *add[] = { "NET_ADMIN" }, *drop[] = { "KILL", "CAP_NET_RAW" };
  char *all[] = { "ALL" }, *chown_[] = { "CHOWN" }, *bad[] = { "NOPE" };
  f->ctr.security_context = &sc;
  sc.capabilities = &caps;

  caps.add = (kd_strv_t){ add, 1 };
  caps.drop = (kd_strv_t){ drop, 2 };
  assert_int_equal (build (f), 0);
  uint64_t want = (kd_caps_default () | (1ULL << CAP_NET_ADMIN)) & ~(1ULL << CAP_KILL)
                  & ~(1ULL << CAP_NET_RAW);
  assert_int_equal (f->spec.cap_bounding, want);

  caps.add = (kd_strv_t){ all, 1 };
  caps.drop = (kd_strv_t){ chown_, 1 };
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.cap_bounding, kd_caps_all () & ~(1ULL << CAP_CHOWN));

  caps.add = (kd_strv_t){ chown_, 1 };
  caps.drop = (kd_strv_t){ all, 1 };
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.cap_bounding, 1ULL << CAP_CHOWN);

  caps.add = (kd_strv_t){ bad, 1 };
  caps.drop = (kd_strv_t){ NULL, 0 };
  assert_true (build (f) < 0);
  assert_string_equal (f->reason, "CreateContainerError");

  sc.capabilities = NULL;
  sc.allow_privilege_escalation = (kd_opt_bool_t){ true, false };
  sc.read_only_root_filesystem = (kd_opt_bool_t){ true, true };
  assert_int_equal (build (f), 0);
  assert_true (f->spec.no_new_privs);
  assert_true (f->spec.readonly_rootfs);
  assert_true (f->spec.mounts[0].readonly); /* /etc/hostname follows the rootfs */

  sc.allow_privilege_escalation.set = false;
  sc.privileged = (kd_opt_bool_t){ true, true };
  assert_int_equal (build (f), 0);
  assert_true (f->spec.privileged);
  assert_false (f->spec.no_new_privs);
  assert_int_equal (f->spec.cap_bounding, kd_caps_all ());
  assert_int_equal (f->spec.seccomp, KD_SECCOMP_UNCONFINED);
  f->ctr.security_context = NULL;
}

static void
test_ctrspec_seccomp_profiles (void **state)
{
  fx_t *f = *state;
  kd_security_context_t sc = { 0 };
  kd_pod_security_context_t psc = { 0 };
  kd_seccomp_profile_t unconfined = { "Unconfined", NULL };
  kd_seccomp_profile_t rd = { "RuntimeDefault", NULL };
  kd_seccomp_profile_t local = { "Localhost", "profiles/audit.json" };
  kd_seccomp_profile_t missing = { "Localhost", "profiles/none.json" };
  f->in.seccomp_default = false;
  f->pod.spec.security_context = &psc;
  f->ctr.security_context = &sc;

  psc.seccomp_profile = &rd;
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.seccomp, KD_SECCOMP_RUNTIME_DEFAULT);
  sc.seccomp_profile = &unconfined; /* the container's wins */
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.seccomp, KD_SECCOMP_UNCONFINED);
  sc.seccomp_profile = &local;
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.seccomp, KD_SECCOMP_LOCALHOST);
  char *want = xasprintf ("%s/profiles/audit.json", f->seccomp_dir);
  assert_string_equal (f->spec.seccomp_profile, want);
  free (want);
  sc.seccomp_profile = &missing;
  assert_true (build (f) < 0);
  assert_string_equal (f->reason, "CreateContainerError");
  char *msg = xasprintf ("failed to generate seccomp spec opts: cannot load seccomp profile "
                         "\"%s/profiles/none.json\": open %s/profiles/none.json: no such file or "
                         "directory",
                         f->seccomp_dir, f->seccomp_dir);
  assert_string_equal (f->err->msg, msg);
  free (msg);
  f->pod.spec.security_context = NULL;
  f->ctr.security_context = NULL;
  f->in.seccomp_default = true;
}

static void
test_ctrspec_volume_mounts_order_and_errors (void **state)
{
  fx_t *f = *state;
  kd_volume_mount_t vm[] = {
    { .name = "data", .mount_path = "/usr/share/nginx/html", .read_only = true },
    { .name = "cache", .mount_path = "/cache", .sub_path = "a/b" },
    { .name = "data", .mount_path = "/etc/resolv.conf", .sub_path = "resolv" },
  };
  f->ctr.volume_mounts = vm;
  f->ctr.n_volume_mounts = 3;
  assert_int_equal (build (f), 0);
  kd_ctr_spec_t *s = &f->spec;
  /* resolv.conf comes from the volume, so containerd does not add its own */
  assert_int_equal (s->n_mounts, 7);
  /* stable by depth: "/cache" (2 elements) before the 3-element paths */
  static const char *order[] = { "/cache",
                                 "/etc/hostname",
                                 "/dev/shm",
                                 "/etc/resolv.conf",
                                 "/etc/hosts",
                                 "/dev/termination-log",
                                 "/usr/share/nginx/html" };
  for (size_t i = 0; i < 7; i++)
    assert_string_equal (s->mounts[i].destination, order[i]);
  assert_string_equal (s->mounts[0].source, "/var/lib/kubeletd/pods/u1/volumes/cache/a/b");
  assert_string_equal (s->mounts[3].source, "/var/lib/kubeletd/pods/u1/volumes/data/resolv");
  assert_true (s->mounts[6].readonly);
  assert_false (s->mounts[0].readonly);

  /* the container mounts /etc/hosts itself: no managed hosts file */
  vm[2].mount_path = "/etc/hosts";
  assert_int_equal (build (f), 0);
  size_t hosts = 0;
  for (size_t i = 0; i < f->spec.n_mounts; i++)
    if (strcmp (f->spec.mounts[i].destination, "/etc/hosts") == 0)
      {
        hosts++;
        assert_string_equal (f->spec.mounts[i].source,
                             "/var/lib/kubeletd/pods/u1/volumes/data/resolv");
      }
  assert_int_equal (hosts, 1);

  vm[1].sub_path = "../../etc";
  assert_true (build (f) < 0);
  assert_string_equal (f->reason, "CreateContainerConfigError");
  assert_string_equal (f->err->msg,
                       "unable to provision SubPath `../../etc`: must not contain '..'");
  vm[1].sub_path = "/etc";
  assert_true (build (f) < 0);
  assert_string_equal (f->err->msg, "error SubPath `/etc` must not be an absolute path");
  vm[1].sub_path = NULL;
  vm[1].name = "nope";
  assert_true (build (f) < 0);
  assert_string_equal (f->err->msg, "cannot find volume \"nope\" to mount into container \"web\"");
  f->ctr.volume_mounts = NULL;
  f->ctr.n_volume_mounts = 0;

  /* no pod IP yet and not hostNetwork: no /etc/hosts */
  f->in.n_pod_ips = 0;
  assert_int_equal (build (f), 0);
  for (size_t i = 0; i < f->spec.n_mounts; i++)
    assert_string_not_equal (f->spec.mounts[i].destination, "/etc/hosts");
  f->in.n_pod_ips = 1;
}

static void
test_ctrspec_command_cwd_signal_sysctls (void **state)
{
  fx_t *f = *state;
  static char *cmd[] = { "sh", "-c", "echo $(LANG)" };
  kd_env_var_t env[] = { { "LANG", "fr", NULL } };
  kd_lifecycle_t lc = { 0 };
  kd_sysctl_t sysctls[] = { { "net.core.somaxconn", "1024" } };
  kd_pod_security_context_t psc = { 0 };
  psc.sysctls = sysctls;
  psc.n_sysctls = 1;
  f->pod.spec.security_context = &psc;
  f->ctr.command.v = cmd;
  f->ctr.command.n = 3;
  f->ctr.env = env;
  f->ctr.n_env = 1;
  f->ctr.working_dir = "/work";
  f->ctr.tty = true;
  f->img.stop_signal = "SIGQUIT";
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.argc, 3);
  assert_string_equal (f->spec.argv[2], "echo fr");
  assert_string_equal (f->spec.cwd, "/work");
  assert_true (f->spec.tty);
  assert_int_equal (f->spec.stop_signal, SIGQUIT);
  assert_int_equal (f->spec.n_sysctls, 1);
  assert_string_equal (f->spec.sysctls[0], "net.core.somaxconn=1024");
  lc.stop_signal = "SIGUSR1";
  f->ctr.lifecycle = &lc;
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.stop_signal, SIGUSR1);

  /* no command anywhere */
  f->ctr.command.n = 0;
  f->img.n_entrypoint = 0;
  f->img.n_cmd = 0;
  assert_true (build (f) < 0);
  assert_string_equal (f->reason, "CreateContainerError");
  f->img.n_entrypoint = 1;
  f->img.n_cmd = 3;
  f->ctr.lifecycle = NULL;
  f->ctr.env = NULL;
  f->ctr.n_env = 0;
  f->ctr.working_dir = NULL;
  f->img.stop_signal = NULL;
  f->pod.spec.security_context = NULL;
}

static void
test_ctrspec_guaranteed_oom_score (void **state)
{
  fx_t *f = *state;
  kd_kv_t res[] = { { "cpu", "1" }, { "memory", "1Gi" } };
  f->ctr.resources.requests = (kd_strmap_t){ res, 2 };
  f->ctr.resources.limits = (kd_strmap_t){ res, 2 };
  assert_int_equal (build (f), 0);
  assert_int_equal (f->spec.oom_score_adj, -997);
  memset (&f->ctr.resources, 0, sizeof (f->ctr.resources));
}

#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_ctrspec_defaults_from_image),
    T (test_ctrspec_env_expansion_and_downward_api),
    cmocka_unit_test (test_expand_vars_rules),
    T (test_ctrspec_user_from_image_and_security_context),
    T (test_ctrspec_run_as_non_root_refusals),
    T (test_ctrspec_capabilities_and_privileges),
    T (test_ctrspec_seccomp_profiles),
    T (test_ctrspec_volume_mounts_order_and_errors),
    T (test_ctrspec_command_cwd_signal_sysctls),
    T (test_ctrspec_guaranteed_oom_score),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
