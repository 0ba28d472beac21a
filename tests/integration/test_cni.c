/* CNI with the real plugins (Debian containernetworking-plugins): the
   built-in network on a private bridge and CIDR, pod-to-pod, host-to-pod and
   hostPort traffic (from the host, from another pod and from the pod itself),
   teardown that leaves no veth, IPAM file or iptables rule, the shared NAT
   chains removed by kd_cni_builtin_teardown, failing and hanging plugins, and
   repeated ADD/DEL cycles. Root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "kubeletd/cni.h"

#define PLUGINS "/usr/lib/cni"

static int pid;
static char tmp[64];
static char ns_a[32], ns_b[32], bridge[16], cidr[32], prefix[24];
static int net_octet, host_port;
static uv_loop_t loop;
static kd_cni_t *cni;
static kd_cni_net_t *net;

static int sh (const char *fmt, ...) KD_PRINTF (1, 2);
static int
sh (const char *fmt, ...)
{
  va_list ap;
  char *cmd;
  int r;
  va_start (ap, fmt);
  if (vasprintf (&cmd, fmt, ap) < 0)
    abort ();
  va_end (ap);
  r = system (cmd);
  free (cmd);
  return WIFEXITED (r) ? WEXITSTATUS (r) : 128;
}

static char *sh_out (const char *fmt, ...) KD_PRINTF (1, 2);
static char *
sh_out (const char *fmt, ...)
{
  va_list ap;
  char *cmd;
  kd_buf_t b = { 0 };
  char buf[4096];
  size_t n;
  FILE *f;
  va_start (ap, fmt);
  if (vasprintf (&cmd, fmt, ap) < 0)
    abort ();
  va_end (ap);
  f = popen (cmd, "r");
  free (cmd);
  while (f && (n = fread (buf, 1, sizeof buf, f)) > 0)
    kd_buf_append (&b, buf, n);
  if (f)
    pclose (f);
  return b.s ? kd_buf_steal (&b) : xstrdup ("");
}

/* This test's rules, without counters and without the shared chains of the
   built-in network (KDMASQ-<bridge>, and the jumps to KDHP-<bridge>), which
   stay until kd_cni_builtin_teardown, by design: the lines that name its
   container ids or its CIDR, and every line of the chains those jump to
   (a pod's KDHPP- chain among them). Other tests may add and remove rules
   of their own at the same time. */
static char *
rules (void)
{
  char base[24];
  int n;

  /* "10.213.N." from "10.213.N.0/24" */
  n = snprintf (base, sizeof base, "%s", cidr);
  while (n > 0 && base[n - 1] != '.')
    base[--n] = '\0';
  return sh_out ("r=$({ iptables-save -t nat; iptables-save -t filter; } 2>/dev/null "
                 "| grep -v '^#' | grep -v CNI-HOSTPORT- | grep -v 'KDMASQ-%s' "
                 "| grep -v -- '-j KDHP-%s$' | sed 's/ \\[[0-9]*:[0-9]*\\]//'); "
                 "pat='%s|%s'; "
                 "for c in $(printf '%%s\\n' \"$r\" | grep -E \"$pat\" "
                 "| grep -oE '(CNI|KDHPP)-[A-Za-z0-9-]+' | sort -u); do pat=\"$pat|$c\"; done; "
                 "printf '%%s\\n' \"$r\" | grep -E \"$pat\" | sort",
                 bridge, bridge, prefix, base);
}

/* Removes whatever this test may have left: processes in its netns, the
   netns, the bridge, rules naming its container ids (and the chains they
   jump to), its IPAM state. Safe to run at any time. */
static void
cleanup_all (void)
{
  sh ("for n in %s %s; do ip netns pids $n 2>/dev/null | xargs -r kill -9; ip netns del $n "
      "2>/dev/null; done; true",
      ns_a, ns_b);
  sh ("for t in nat filter; do iptables-save -t $t 2>/dev/null | grep -- '^-A .*%s' | "
      "while read -r line; do chain=$(echo \"$line\" | sed -n 's/.* -j "
      "\\(CNI-[A-Za-z0-9-]*\\).*/\\1/p'); "
      "eval iptables -w -t $t $(echo \"$line\" | sed 's/^-A/-D/'); "
      "if [ -n \"$chain\" ]; then iptables -w -t $t -F $chain; iptables -w -t $t -X $chain; fi; "
      "done 2>/dev/null; done; true",
      prefix);
  sh ("for t in PREROUTING OUTPUT POSTROUTING; do iptables-save -t nat | grep -- \"^-A $t .*-j "
      "KD[A-Z]*-%s$\" | while read -r line; do eval iptables -w -t nat $(echo \"$line\" | sed "
      "'s/^-A/-D/'); done; done; for c in KDMASQ-%s KDHP-%s; do iptables -w -t nat -F $c; "
      "iptables -w -t nat -X $c; done 2>/dev/null; true",
      bridge, bridge, bridge);
  sh ("ip link del %s 2>/dev/null; true", bridge);
  if (tmp[0])
    sh ("rm -rf %s", tmp);
}

typedef struct
{
  bool done;
  char *err;
  char *ip;
} outcome_t;

static void
on_done (kd_cni_t *c, const kd_cni_result_t *r, const char *err, void *data)
{
  outcome_t *o = data;
  o->done = true;
  o->err = err ? xstrdup (err) : NULL;
  o->ip = r && kd_cni_result_pod_ip (r) ? xstrdup (kd_cni_result_pod_ip (r)) : NULL;
}

static void
wait_for (outcome_t *o)
{
  while (!o->done)
    uv_run (&loop, UV_RUN_ONCE);
}

static kd_cni_runtime_t
runtime (const char *id, const char *ns, const kd_cni_port_mapping_t *pm, size_t n_pm)
{
  static char netns[64];
  kd_cni_runtime_t rt = { 0 };
  snprintf (netns, sizeof netns, "/run/netns/%s", ns);
  rt.container_id = id;
  rt.netns = netns;
  rt.ifname = "eth0";
  rt.pod_namespace = "default";
  rt.pod_name = ns;
  rt.pod_uid = id;
  rt.port_mappings = pm;
  rt.n_port_mappings = n_pm;
  return rt;
}

static char *
attach (kd_cni_t *c, kd_cni_net_t *n, const char *id, const char *ns,
        const kd_cni_port_mapping_t *pm, size_t n_pm, char **err)
{
  kd_cni_runtime_t rt = runtime (id, ns, pm, n_pm);
  outcome_t o = { 0 };
  kd_cni_attach (c, n, &rt, on_done, &o);
  wait_for (&o);
  *err = o.err;
  return o.ip;
}

static char *
detach (kd_cni_t *c, kd_cni_net_t *n, const char *id, const char *ns)
{
  kd_cni_runtime_t rt = runtime (id, ns, NULL, 0);
  outcome_t o = { 0 };
  kd_cni_detach (c, n, &rt, on_done, &o);
  wait_for (&o);
  free (o.ip);
  return o.err;
}

static char *
cid (const char *suffix)
{
  return xasprintf ("%s%s", prefix, suffix);
}

/* Reservations host-local holds (its own lock and last_reserved_ip files
   do not count). */
static int
ipam_files (void)
{
  cleanup_free char *out = sh_out ("ls %s/networks/kubeletd 2>/dev/null | grep -v -e lock -e "
                                   "last_reserved | wc -l",
                                   tmp);
  return atoi (out);
}

static int
veths_on_bridge (void)
{
  cleanup_free char *out = sh_out ("ip -o link show master %s 2>/dev/null | wc -l", bridge);
  return atoi (out);
}

/* The veths left on the bridge once they are gone, or after 5 s: the host
   end of a veth goes when the kernel destroys its peer's netns, which it
   does asynchronously after `ip netns del`. */
static int
veths_settled (void)
{
  int n = veths_on_bridge ();

  for (int i = 0; i < 100 && n > 0; i++)
    {
      usleep (50000);
      n = veths_on_bridge ();
    }
  return n;
}

static void
put_script (const char *name, const char *text)
{
  cleanup_free char *path = xasprintf ("%s/fakebin/%s", tmp, name);
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
  chmod (path, 0755);
}

static void
on_gc (kd_cni_t *c, const kd_cni_result_t *r, const char *err, void *data)
{
  *(bool *) data = true;
}

/* Each test starts and ends without its namespaces, and with every
   attachment of an earlier (failed) test released. */
static int
ns_cleanup (void **state)
{
  bool done = false;
  kd_cni_gc (cni, NULL, 0, on_gc, &done);
  while (!done)
    uv_run (&loop, UV_RUN_ONCE);
  sh ("for n in %s %s; do ip netns pids $n 2>/dev/null | xargs -r kill -9; ip netns del $n "
      "2>/dev/null; done; true",
      ns_a, ns_b);
  return 0;
}

static void
test_two_pods_talk_and_host_port_serves_and_del_cleans (void **state)
{
  cleanup_free char *before = rules ();
  cleanup_free char *after = NULL;
  cleanup_free char *ida = cid ("a"), *idb = cid ("b");
  cleanup_free char *ipa = NULL, *ipb = NULL, *page = NULL, *addr = NULL;
  /* the second hostPort only on 127.0.0.1 (hostIP) */
  kd_cni_port_mapping_t pm[2]
      = { { host_port, 80, "tcp", NULL }, { host_port + 2, 80, "tcp", "127.0.0.1" } };
  char *err = NULL;

  assert_int_equal (sh ("ip netns add %s && ip netns add %s", ns_a, ns_b), 0);
  ipa = attach (cni, net, ida, ns_a, pm, 2, &err);
  assert_null (err);
  ipb = attach (cni, net, idb, ns_b, NULL, 0, &err);
  assert_null (err);
  assert_non_null (ipa);
  assert_non_null (ipb);
  assert_string_not_equal (ipa, ipb);
  {
    cleanup_free char *net_prefix = xasprintf ("10.213.%d.", net_octet);
    assert_true (kd_str_has_prefix (ipa, net_prefix));
  }
  /* The result's address is on eth0 inside the netns; lo is up. */
  addr = sh_out ("ip netns exec %s ip -4 -o addr show eth0", ns_a);
  assert_non_null (strstr (addr, ipa));
  assert_int_equal (sh ("ip netns exec %s ip -o link show lo | grep -q UP", ns_a), 0);
  assert_int_equal (veths_on_bridge (), 2);
  assert_int_equal (ipam_files (), 2);

  /* Pod to pod, host to pod. */
  assert_int_equal (sh ("ip netns exec %s busybox ping -c1 -W3 %s >/dev/null", ns_a, ipb), 0);
  assert_int_equal (sh ("busybox ping -c1 -W3 %s >/dev/null", ipa), 0);

  /* hostPort: a page served in pod a answers on 127.0.0.1:<hostPort>. */
  assert_int_equal (sh ("mkdir -p %s/www && echo kd-hostport-ok > %s/www/index.html && "
                        "ip netns exec %s busybox httpd -p 80 -h %s/www",
                        tmp, tmp, ns_a, tmp),
                    0);
  for (int i = 0; i < 20; i++)
    {
      free (page);
      page = sh_out ("curl -s --max-time 3 http://127.0.0.1:%d/index.html", host_port);
      if (strstr (page, "kd-hostport-ok"))
        break;
      usleep (100000);
    }
  assert_non_null (strstr (page, "kd-hostport-ok"));
  /* ...and on the pod IP directly from the host. */
  free (page);
  page = sh_out ("curl -s --max-time 3 http://%s/index.html", ipa);
  assert_non_null (strstr (page, "kd-hostport-ok"));
  /* ...from pod b and from pod a itself (hairpin) through the hostPort on
     the node's address on the bridge. */
  {
    cleanup_free char *gw = xasprintf ("10.213.%d.1", net_octet);
    free (page);
    page = sh_out ("ip netns exec %s busybox wget -q -O - http://%s:%d/index.html", ns_b, gw,
                   host_port);
    assert_non_null (strstr (page, "kd-hostport-ok"));
    free (page);
    page = sh_out ("ip netns exec %s busybox wget -q -O - http://%s:%d/index.html", ns_a, gw,
                   host_port);
    assert_non_null (strstr (page, "kd-hostport-ok"));
    /* hostIP 127.0.0.1: served there, not on the node's other addresses */
    free (page);
    page = sh_out ("curl -s --max-time 3 http://127.0.0.1:%d/index.html", host_port + 2);
    assert_non_null (strstr (page, "kd-hostport-ok"));
    free (page);
    page = sh_out ("ip netns exec %s busybox wget -q -O - http://%s:%d/index.html 2>&1", ns_b, gw,
                   host_port + 2);
    assert_null (strstr (page, "kd-hostport-ok"));
  }
  /* One masquerade rule for the whole CIDR, not one chain per pod. */
  {
    cleanup_free char *masq = sh_out ("iptables -w -t nat -S KDMASQ-%s", bridge);
    cleanup_free char *want = xasprintf ("-A KDMASQ-%s -s %s -j MASQUERADE", bridge, cidr);
    assert_non_null (strstr (masq, want));
  }
  sh ("ip netns pids %s | xargs -r kill -9", ns_a);

  /* CHECK agrees with the cached result. (Pod b: portmap 1.1.1's CHECK
     fails on IPv4-only port mappings, looking for an IPv6 chain.) */
  {
    kd_cni_runtime_t rt = runtime (idb, ns_b, NULL, 0);
    outcome_t o = { 0 };
    kd_cni_check (cni, net, &rt, on_done, &o);
    wait_for (&o);
    if (o.err)
      fprintf (stderr, "check: %s\n", o.err);
    assert_null (o.err);
    free (o.ip);
  }

  /* Teardown without the port mappings: they come from the cache. */
  assert_null (detach (cni, net, ida, ns_a));
  assert_null (detach (cni, net, idb, ns_b));
  sh ("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_a, ns_b);
  assert_int_equal (veths_settled (), 0);
  assert_int_equal (ipam_files (), 0);
  {
    cleanup_free char *c = kd_cni_cache_path (cni, "kubeletd", ida, "eth0");
    assert_int_not_equal (access (c, F_OK), 0);
  }
  after = rules ();
  assert_string_equal (before, after);
}

static void
test_failing_and_hanging_plugins_give_clear_errors (void **state)
{
  cleanup_free char *bin = xasprintf ("%s/fakebin:%s", tmp, PLUGINS);
  cleanup_free char *conf = xasprintf ("%s/conf", tmp);
  kd_cni_opts_t o = { 0 };
  kd_cni_t *c;
  kd_cni_net_t *n = NULL;
  kd_error_t e = NULL;
  cleanup_free char *id = cid ("f");
  char *err = NULL;
  char *ip;
  int64_t t0;

  assert_int_equal (sh ("mkdir -p %s/fakebin %s", tmp, conf), 0);
  put_script ("kdfail", "#!/bin/sh\ncat >/dev/null\necho '{\"cniVersion\":\"1.0.0\",\"code\":11,"
                        "\"msg\":\"failed to allocate for range 0\",\"details\":\"no IP addresses "
                        "available in range set\"}'\nexit 1\n");
  put_script ("kdhang", "#!/bin/sh\nsleep 600\n");
  assert_int_equal (sh ("echo '{\"cniVersion\":\"1.0.0\",\"name\":\"kdfail\",\"plugins\":"
                        "[{\"type\":\"kdfail\"}]}' > %s/10-fail.conflist",
                        conf),
                    0);
  o.conf_dir = conf;
  o.bin_dir = bin;
  o.root_dir = tmp;
  o.timeout_ms = 500;
  c = kd_cni_new (&loop, &o);
  assert_int_equal (kd_cni_load_network (c, &n, &e), 0);
  assert_string_equal (n->name, "kdfail");
  assert_int_equal (sh ("ip netns add %s", ns_a), 0);
  ip = attach (c, n, id, ns_a, NULL, 0, &err);
  assert_null (ip);
  assert_string_equal (err, "plugin kdfail failed (code 11): failed to allocate for range 0: no "
                            "IP addresses available in range set");
  free (err);
  free (detach (c, n, id, ns_a));
  kd_cni_net_free (n);

  assert_int_equal (kd_cni_net_parse ("{\"cniVersion\":\"1.0.0\",\"name\":\"kdhang\",\"plugins\":"
                                      "[{\"type\":\"kdhang\"}]}",
                                      false, "test", &n, &e),
                    0);
  t0 = kd_monotonic_ns ();
  ip = attach (c, n, id, ns_a, NULL, 0, &err);
  assert_null (ip);
  assert_string_equal (err, "plugin kdhang timed out after 500ms and was killed");
  assert_true (kd_monotonic_ns () - t0 < 3000000000LL);
  free (err);
  assert_int_equal (sh ("pgrep -f '%s/fakebin/[k]dhang' >/dev/null", tmp), 1);
  free (detach (c, n, id, ns_a));
  kd_cni_net_free (n);
  kd_cni_free (c);
  sh ("ip netns del %s", ns_a);
}

static void
test_twenty_add_del_cycles_leave_nothing_behind (void **state)
{
  cleanup_free char *before = rules ();
  cleanup_free char *after = NULL;
  kd_cni_port_mapping_t pm = { host_port + 1, 80, "tcp", NULL };

  assert_int_equal (sh ("ip netns add %s", ns_a), 0);
  for (int i = 0; i < 20; i++)
    {
      cleanup_free char *suffix = xasprintf ("c%d", i);
      cleanup_free char *id = cid (suffix);
      char *err = NULL;
      char *ip = attach (cni, net, id, ns_a, &pm, 1, &err);
      assert_null (err);
      assert_non_null (ip);
      free (ip);
      assert_null (detach (cni, net, id, ns_a));
    }
  sh ("ip netns del %s", ns_a);
  assert_int_equal (veths_settled (), 0);
  assert_int_equal (ipam_files (), 0);
  after = rules ();
  assert_string_equal (before, after);
}

static void
test_gc_releases_an_attachment_nobody_owns (void **state)
{
  cleanup_free char *id = cid ("gc");
  char *err = NULL;
  char *ip;
  outcome_t o = { 0 };

  assert_int_equal (sh ("ip netns add %s", ns_b), 0);
  ip = attach (cni, net, id, ns_b, NULL, 0, &err);
  assert_null (err);
  free (ip);
  assert_int_equal (ipam_files (), 1);
  /* The pod is gone (as after a crash): its netns too. */
  sh ("ip netns del %s", ns_b);
  kd_cni_gc (cni, NULL, 0, on_done, &o);
  wait_for (&o);
  assert_null (o.err);
  assert_int_equal (ipam_files (), 0);
  assert_int_equal (veths_settled (), 0);
}

static void
on_counted (kd_cni_t *c, const kd_cni_result_t *r, const char *err, void *data)
{
  int *left = data;
  if (err)
    fail_msg ("plugin call failed: %s", err);
  (*left)--;
}

/* Six calls of a plugin that takes 300 ms with room for two at a time: at
   most two run at once, and none times out (700 ms) while it waits, since
   the timeout starts with the process. */
static void
test_plugins_beyond_max_running_wait_their_turn (void **state)
{
  cleanup_free char *bin = xasprintf ("%s/fakebin", tmp);
  cleanup_free char *script = xasprintf (
      "#!/bin/sh\ncat >/dev/null\nmkdir %s/running/$$\nls %s/running | wc -l >> %s/counts\n"
      "sleep 0.3\nrmdir %s/running/$$\n"
      "echo '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}'\n",
      tmp, tmp, tmp, tmp);
  cleanup_free char *counts = NULL;
  kd_cni_opts_t o = { 0 };
  kd_cni_t *c;
  int left = 6, most = 0, lines = 0;

  assert_int_equal (sh ("mkdir -p %s/fakebin %s/running && rm -f %s/counts", tmp, tmp, tmp), 0);
  put_script ("kdslow", script);
  o.bin_dir = bin;
  o.root_dir = tmp;
  o.timeout_ms = 700;
  o.max_running = 2;
  c = kd_cni_new (&loop, &o);
  for (int i = 0; i < 6; i++)
    kd_cni_version (c, "kdslow", on_counted, &left);
  while (left > 0)
    uv_run (&loop, UV_RUN_ONCE);
  kd_cni_free (c);
  counts = sh_out ("cat %s/counts", tmp);
  for (char *p = counts; *p; p++)
    if (*p >= '0' && *p <= '9')
      {
        int n = (int) strtol (p, &p, 10);
        most = n > most ? n : most;
        lines++;
        if (*p == '\0')
          break;
      }
  assert_int_equal (lines, 6);
  assert_int_equal (most, 2);
}

/* Last: with no pod left, the teardown removes the shared chains, the
   jumps to them and the bridge; the host's nat table has nothing of it. */
static void
test_nat_teardown_removes_the_shared_chains (void **state)
{
  cleanup_free char *before = NULL, *after = NULL;
  cleanup_free char *grep = xasprintf ("iptables-save -t nat | grep -c -- '-%s\\b'", bridge);

  before = sh_out ("%s", grep);
  assert_int_not_equal (atoi (before), 0);
  assert_int_equal (sh ("ip link show %s >/dev/null 2>&1", bridge), 0);
  kd_cni_builtin_teardown (cni);
  after = sh_out ("%s", grep);
  assert_int_equal (atoi (after), 0);
  assert_int_not_equal (sh ("ip link show %s >/dev/null 2>&1", bridge), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_two_pods_talk_and_host_port_serves_and_del_cleans,
                                     ns_cleanup, ns_cleanup),
    cmocka_unit_test_setup_teardown (test_failing_and_hanging_plugins_give_clear_errors, ns_cleanup,
                                     ns_cleanup),
    cmocka_unit_test_setup_teardown (test_twenty_add_del_cycles_leave_nothing_behind, ns_cleanup,
                                     ns_cleanup),
    cmocka_unit_test_setup_teardown (test_gc_releases_an_attachment_nobody_owns, ns_cleanup,
                                     ns_cleanup),
    cmocka_unit_test (test_plugins_beyond_max_running_wait_their_turn),
    cmocka_unit_test (test_nat_teardown_removes_the_shared_chains),
  };
  kd_cni_opts_t o = { 0 };
  cleanup_free char *data = NULL;
  int r;

  if (geteuid () != 0 || access (PLUGINS "/bridge", X_OK) != 0
      || system ("which ip iptables-save "
                 "curl busybox >/dev/null")
             != 0)
    {
      fprintf (stderr, "skipped: needs root, " PLUGINS ", ip, iptables, curl, busybox\n");
      return 77;
    }
  pid = getpid ();
  snprintf (ns_a, sizeof ns_a, "kdt-%d-a", pid);
  snprintf (ns_b, sizeof ns_b, "kdt-%d-b", pid);
  snprintf (bridge, sizeof bridge, "kdt%d", pid);
  snprintf (prefix, sizeof prefix, "kdtest%d", pid);
  net_octet = 100 + pid % 150;
  host_port = 20000 + (pid % 20000);
  snprintf (cidr, sizeof cidr, "10.213.%d.0/24", net_octet);
  strcpy (tmp, "/tmp/kd-it-cni-XXXXXX");
  assert_non_null (mkdtemp (tmp));
  data = xasprintf ("%s/networks", tmp);

  uv_loop_init (&loop);
  o.bin_dir = PLUGINS;
  o.root_dir = tmp;
  o.pod_cidr = cidr;
  o.bridge = bridge;
  o.data_dir = data;
  o.timeout_ms = 20000;
  cni = kd_cni_new (&loop, &o);
  net = kd_cni_default_network (bridge, cidr, data);

  r = cmocka_run_group_tests (tests, NULL, NULL);

  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  uv_loop_close (&loop);
  cleanup_all ();
  return r;
}
