/* CNI: finding and parsing network configs, the built-in networks, results
   and plugin errors, and the plugin protocol (ADD chaining, DEL order and
   cache, CNI_* environment, runtimeConfig, failures and timeouts) against
   fake plugins written as shell scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "../../pkg/cni/cni-internal.h"
#include "kubeletd/cni.h"

static char tmp[64];

static int
setup (void **state)
{
  strcpy (tmp, "/tmp/kd-test-cni-XXXXXX");
  assert_non_null (mkdtemp (tmp));
  return 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("rm -rf %s", tmp);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  return 0;
}

static void
put (const char *rel, const char *content, mode_t mode)
{
  cleanup_free char *path = xasprintf ("%s/%s", tmp, rel);
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (content, f);
  fclose (f);
  chmod (path, mode);
}

static char *
slurp (const char *rel)
{
  cleanup_free char *path = xasprintf ("%s/%s", tmp, rel);
  char *text = NULL;
  kd_error_t err = NULL;
  if (kd_read_file (path, 1 << 20, &text, NULL, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  return text;
}

/* ---- configs ---------------------------------------------------------- */

static void
test_first_config_by_name_wins_among_conflist_conf_json (void **state)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  put ("20-b.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"b\",\"plugins\":[{\"type\":\"x\"}]}",
       0644);
  put ("10-a.conf",
       "{\"cniVersion\":\"0.4.0\",\"name\":\"a\",\"type\":\"bridge\",\"bridge\":\"br9\"}", 0644);
  put ("05-ignored.txt", "{}", 0644);
  assert_int_equal (kd_cni_net_find (tmp, &net, &err), 0);
  assert_non_null (net);
  assert_string_equal (net->name, "a");
  assert_string_equal (net->cni_version, "0.4.0");
  /* A .conf is a one-plugin network: the whole object is the plugin. */
  assert_int_equal (json_array_size (net->plugins), 1);
  assert_string_equal (
      json_string_value (json_object_get (json_array_get (net->plugins, 0), "bridge")), "br9");
  kd_cni_net_free (net);
}

static void
test_json_file_may_be_a_list_and_invalid_files_are_skipped (void **state)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  put ("00-bad.conflist", "{not json", 0644);
  put ("01-noplugins.conflist", "{\"name\":\"x\",\"plugins\":[]}", 0644);
  put (
      "02-c.json",
      "{\"cniVersion\":\"1.0.0\",\"name\":\"c\",\"plugins\":[{\"type\":\"p1\"},{\"type\":\"p2\"}]}",
      0644);
  assert_int_equal (kd_cni_net_find (tmp, &net, &err), 0);
  assert_non_null (net);
  assert_string_equal (net->name, "c");
  assert_int_equal (json_array_size (net->plugins), 2);
  kd_cni_net_free (net);
}

/* "kubeletdNat" is the built-in network's: a node's own config is run as
   written. */
static void
test_a_node_config_cannot_ask_for_kubeletd_nat (void **state)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  put ("10-mine.conflist",
       "{\"cniVersion\":\"1.0.0\",\"name\":\"mine\",\"kubeletdNat\":true,"
       "\"plugins\":[{\"type\":\"bridge\"}]}",
       0644);
  assert_int_equal (kd_cni_net_find (tmp, &net, &err), 0);
  assert_non_null (net);
  assert_string_equal (net->name, "mine");
  assert_false (net->kubeletd_nat);
  kd_cni_net_free (net);
}

static void
test_empty_or_missing_dir_gives_no_config (void **state)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  cleanup_free char *missing = xasprintf ("%s/none", tmp);
  assert_int_equal (kd_cni_net_find (tmp, &net, &err), 0);
  assert_null (net);
  assert_int_equal (kd_cni_net_find (missing, &net, &err), 0);
  assert_null (net);
}

static void
test_parse_refuses_plugins_without_type (void **state)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  assert_true (kd_cni_net_parse ("{\"name\":\"n\",\"plugins\":[{\"x\":1}]}", false, "f", &net, &err)
               < 0);
  assert_string_equal (err->msg, "f: plugins[0]: missing `type`");
  kd_error_release (&err);
  assert_true (kd_cni_net_parse ("{\"plugins\":[{\"type\":\"a\"}]}", false, "f", &net, &err) < 0);
  assert_string_equal (err->msg, "f: no name");
  kd_error_release (&err);
}

static void
test_default_network_is_bridge_host_local_with_kubeletd_nat (void **state)
{
  kd_cni_net_t *net = kd_cni_default_network ("kdt1", "10.213.1.0/24", "/x/networks");
  json_t *bridge = json_array_get (net->plugins, 0);
  json_t *ipam = json_object_get (bridge, "ipam");
  kd_cni_net_t *lo = kd_cni_loopback_network ();
  kd_cni_net_t *again = NULL;
  kd_error_t err = NULL;

  assert_string_equal (net->name, "kubeletd");
  assert_string_equal (net->cni_version, "1.0.0");
  assert_string_equal (json_string_value (json_object_get (bridge, "type")), "bridge");
  assert_string_equal (json_string_value (json_object_get (bridge, "bridge")), "kdt1");
  assert_true (json_is_true (json_object_get (bridge, "isGateway")));
  /* masquerading and hostPorts are kubeletd's (nat.c), not the plugins' */
  assert_true (json_is_false (json_object_get (bridge, "ipMasq")));
  assert_int_equal (json_array_size (net->plugins), 1);
  assert_true (net->kubeletd_nat);
  /* the flag survives the cached config (DEL reads it back) */
  assert_int_equal (kd_cni_net_parse (net->bytes, false, "cache", &again, &err), 0);
  assert_true (again->kubeletd_nat);
  kd_cni_net_free (again);
  assert_true (json_is_true (json_object_get (bridge, "hairpinMode")));
  assert_string_equal (json_string_value (json_object_get (ipam, "type")), "host-local");
  assert_string_equal (
      json_string_value (json_object_get (
          json_array_get (json_array_get (json_object_get (ipam, "ranges"), 0), 0), "subnet")),
      "10.213.1.0/24");
  assert_string_equal (json_string_value (json_object_get (ipam, "dataDir")), "/x/networks");
  assert_string_equal (json_string_value (json_object_get (
                           json_array_get (json_object_get (ipam, "routes"), 0), "dst")),
                       "0.0.0.0/0");
  assert_string_equal (lo->name, "cni-loopback");
  assert_string_equal (
      json_string_value (json_object_get (json_array_get (lo->plugins, 0), "type")), "loopback");
  kd_cni_net_free (net);
  kd_cni_net_free (lo);
}

/* ---- results and errors ----------------------------------------------- */

static void
test_result_1_0_0_and_0_4_0_give_ips_gateway_interfaces (void **state)
{
  kd_cni_result_t *r = NULL;
  kd_error_t err = NULL;
  const char *v1 = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"kdt0\",\"mac\":\"aa\"},"
                   "{\"name\":\"eth0\",\"mac\":\"bb\",\"sandbox\":\"/run/netns/x\"}],"
                   "\"ips\":[{\"address\":\"fd00::5/64\",\"interface\":1},"
                   "{\"address\":\"10.88.0.5/16\",\"gateway\":\"10.88.0.1\",\"interface\":1}]}";
  const char *v04 = "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":"
                    "\"10.1.0.2/24\",\"gateway\":\"10.1.0.1\"}]}";

  assert_int_equal (kd_cni_result_parse (v1, strlen (v1), &r, &err), 0);
  assert_int_equal (r->n_ifaces, 2);
  assert_string_equal (r->ifaces[1].sandbox, "/run/netns/x");
  assert_int_equal (r->n_ips, 2);
  assert_int_equal (r->ips[0].family, 6);
  assert_string_equal (kd_cni_result_pod_ip (r), "10.88.0.5");
  assert_string_equal (r->ips[1].gateway, "10.88.0.1");
  assert_int_equal (r->ips[1].interface, 1);
  kd_cni_result_free (r);
  assert_int_equal (kd_cni_result_parse (v04, strlen (v04), &r, &err), 0);
  assert_string_equal (kd_cni_result_pod_ip (r), "10.1.0.2");
  assert_int_equal (r->ips[0].interface, -1);
  kd_cni_result_free (r);
  assert_true (kd_cni_result_parse ("[1]", 3, &r, &err) < 0);
  kd_error_release (&err);
}

static void
test_plugin_error_json_renders_code_msg_details (void **state)
{
  const char *e1 = "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to allocate\","
                   "\"details\":\"no IP addresses available in range set\"}";
  const char *e2 = "{\"code\":7,\"msg\":\"invalid config\"}";
  char *s;
  s = kd_cni_format_plugin_error ("bridge", e1, strlen (e1), 1);
  assert_string_equal (s, "plugin bridge failed (code 11): failed to allocate: no IP addresses "
                          "available in range set");
  free (s);
  s = kd_cni_format_plugin_error ("host-local", e2, strlen (e2), 1);
  assert_string_equal (s, "plugin host-local failed (code 7): invalid config");
  free (s);
  s = kd_cni_format_plugin_error ("x", "boom\n", 5, 2);
  assert_string_equal (s, "plugin x failed (exit status 2): boom");
  free (s);
}

static void
test_base64_round_trip (void **state)
{
  const char *in[] = { "", "a", "ab", "abc", "{\"name\":\"kubeletd\"}" };
  for (size_t i = 0; i < KD_ARRAY_SIZE (in); i++)
    {
      char *e = kd_cni_base64_encode (in[i], strlen (in[i]));
      char *d = kd_cni_base64_decode (e, NULL);
      assert_string_equal (d, in[i]);
      free (e);
      free (d);
    }
  {
    char *e = kd_cni_base64_encode ("abcd", 4);
    assert_string_equal (e, "YWJjZA==");
    free (e);
  }
}

/* ---- the plugin protocol with fake plugins ---------------------------- */

/* fakeA: records its input and environment, answers with a result.
   fakeB: declares portMappings; records its input, answers another result.
   fail: prints an error object. hang: never answers (and forks a child
   that holds stdout, which must die with it). */
static void
write_fake_plugins (void)
{
  const char *rec = "#!/bin/sh\n"
                    "d=$(dirname \"$0\")\n"
                    "cat > \"$d/../in-$(basename $0)-$CNI_COMMAND\"\n"
                    "env | grep '^CNI_' | sort > \"$d/../env-$(basename $0)-$CNI_COMMAND\"\n"
                    "echo \"$CNI_COMMAND $(basename $0)\" >> \"$d/../log\"\n";
  cleanup_free char *a = xasprintf (
      "%s[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":"
      "\"eth0\",\"sandbox\":\"'$CNI_NETNS'\"}],\"ips\":[{\"address\":\"10.9.0.2/24\",\"gateway\":"
      "\"10.9.0.1\",\"interface\":0}]}'\nexit 0\n",
      rec);
  cleanup_free char *b = xasprintf (
      "%s[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":"
      "\"10.9.0.2/24\",\"gateway\":\"10.9.0.1\"}],\"dns\":{\"nameservers\":[\"9.9.9.9\"]}}'\n"
      "exit 0\n",
      rec);
  cleanup_free char *bin = xasprintf ("%s/bin", tmp);
  mkdir (bin, 0755);
  put ("bin/fakeA", a, 0755);
  put ("bin/fakeB", b, 0755);
  put ("bin/fail",
       "#!/bin/sh\ncat >/dev/null\necho '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no luck\","
       "\"details\":\"range full\"}'\nexit 1\n",
       0755);
  put ("bin/hang", "#!/bin/sh\nsleep 600\n", 0755);
}

typedef struct
{
  int calls;
  char *err;
  char *ip;
} outcome_t;

static void
on_done (kd_cni_t *cni, const kd_cni_result_t *r, const char *err, void *data)
{
  outcome_t *o = data;
  o->calls++;
  free (o->err);
  free (o->ip);
  o->err = err ? xstrdup (err) : NULL;
  o->ip = r && kd_cni_result_pod_ip (r) ? xstrdup (kd_cni_result_pod_ip (r)) : NULL;
}

static kd_cni_t *
new_cni (uv_loop_t *loop, int64_t timeout_ms)
{
  cleanup_free char *bin = xasprintf ("%s/bin", tmp);
  kd_cni_opts_t o = { 0 };
  o.bin_dir = bin;
  o.root_dir = tmp;
  o.pod_cidr = "10.213.9.0/24";
  o.timeout_ms = timeout_ms;
  return kd_cni_new (loop, &o);
}

static kd_cni_net_t *
fake_net (const char *types)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  cleanup_free char *text = xasprintf ("{\"cniVersion\":\"1.0.0\",\"name\":\"fakenet\","
                                       "\"plugins\":[%s]}",
                                       types);
  assert_int_equal (kd_cni_net_parse (text, false, "test", &net, &err), 0);
  return net;
}

static const kd_cni_port_mapping_t pms[]
    = { { 8080, 80, "tcp", NULL }, { 5353, 53, "udp", "127.0.0.1" } };
static const kd_cni_runtime_t rt
    = { "c0ffee", "/run/netns/kdt-x", "eth0", "default", "web-node1", "uid1", pms, 2 };

static void
run (uv_loop_t *loop, outcome_t *o, int want_calls)
{
  while (o->calls < want_calls)
    uv_run (loop, UV_RUN_ONCE);
}

static void
test_add_chains_prev_result_and_passes_env_and_runtime_config (void **state)
{
  uv_loop_t loop;
  kd_cni_t *cni;
  kd_cni_net_t *net = fake_net (
      "{\"type\":\"fakeA\"},{\"type\":\"fakeB\",\"capabilities\":{\"portMappings\":true}}");
  outcome_t o = { 0 };
  cleanup_free char *inA = NULL, *inB = NULL, *envA = NULL, *log = NULL, *cache = NULL;
  json_t *jA, *jB;

  write_fake_plugins ();
  uv_loop_init (&loop);
  cni = new_cni (&loop, 5000);
  kd_cni_add (cni, net, &rt, on_done, &o);
  assert_int_equal (o.calls, 0); /* never called back synchronously */
  run (&loop, &o, 1);
  assert_null (o.err);
  assert_string_equal (o.ip, "10.9.0.2");

  inA = slurp ("in-fakeA-ADD");
  inB = slurp ("in-fakeB-ADD");
  envA = slurp ("env-fakeA-ADD");
  jA = json_loads (inA, 0, NULL);
  jB = json_loads (inB, 0, NULL);
  assert_string_equal (json_string_value (json_object_get (jA, "name")), "fakenet");
  assert_string_equal (json_string_value (json_object_get (jA, "cniVersion")), "1.0.0");
  assert_null (json_object_get (jA, "prevResult"));
  assert_null (json_object_get (jA, "runtimeConfig")); /* fakeA has no capability */
  /* fakeB gets fakeA's result and the port mappings. */
  assert_string_equal (
      json_string_value (json_object_get (
          json_array_get (json_object_get (json_object_get (jB, "prevResult"), "interfaces"), 0),
          "sandbox")),
      "/run/netns/kdt-x");
  {
    json_t *m = json_object_get (json_object_get (jB, "runtimeConfig"), "portMappings");
    assert_int_equal (json_array_size (m), 2);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (m, 0), "hostPort")),
                      8080);
    assert_null (json_object_get (json_array_get (m, 0), "hostIP"));
    assert_string_equal (json_string_value (json_object_get (json_array_get (m, 1), "protocol")),
                         "udp");
    assert_string_equal (json_string_value (json_object_get (json_array_get (m, 1), "hostIP")),
                         "127.0.0.1");
  }
  assert_non_null (strstr (envA, "CNI_ARGS=K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-node1;"
                                 "K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=uid1;"
                                 "IgnoreUnknown=1\n"));
  assert_non_null (strstr (envA, "CNI_COMMAND=ADD\n"));
  assert_non_null (strstr (envA, "CNI_CONTAINERID=c0ffee\n"));
  assert_non_null (strstr (envA, "CNI_IFNAME=eth0\n"));
  assert_non_null (strstr (envA, "CNI_NETNS=/run/netns/kdt-x\n"));
  assert_non_null (strstr (envA, "CNI_PATH="));
  log = slurp ("log");
  assert_string_equal (log, "ADD fakeA\nADD fakeB\n");
  /* The final result is cached where libcni keeps it. */
  cache = slurp ("cni/results/fakenet-c0ffee-eth0");
  assert_non_null (cache);
  assert_non_null (strstr (cache, "\"kind\":\"cniCacheV1\""));
  assert_non_null (strstr (cache, "9.9.9.9"));
  json_decref (jA);
  json_decref (jB);

  /* DEL: reverse order, each plugin gets the cached result; cache goes. */
  kd_cni_del (cni, net, &rt, on_done, &o);
  run (&loop, &o, 2);
  assert_null (o.err);
  free (log);
  log = slurp ("log");
  assert_string_equal (log, "ADD fakeA\nADD fakeB\nDEL fakeB\nDEL fakeA\n");
  {
    cleanup_free char *delA = slurp ("in-fakeA-DEL");
    json_t *j = json_loads (delA, 0, NULL);
    json_t *dns = json_object_get (json_object_get (j, "prevResult"), "dns");
    assert_non_null (dns); /* fakeB's final result, from the cache */
    json_decref (j);
  }
  free (cache);
  cache = slurp ("cni/results/fakenet-c0ffee-eth0");
  assert_null (cache);

  /* DEL again without a cache still runs (idempotent teardown). */
  kd_cni_del (cni, net, &rt, on_done, &o);
  run (&loop, &o, 3);
  assert_null (o.err);

  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&loop), 0);
  free (o.err);
  free (o.ip);
}

static void
test_failing_plugin_gives_its_error_and_stops_add (void **state)
{
  uv_loop_t loop;
  kd_cni_t *cni;
  kd_cni_net_t *net = fake_net ("{\"type\":\"fail\"},{\"type\":\"fakeA\"}");
  outcome_t o = { 0 };
  cleanup_free char *log = NULL;

  write_fake_plugins ();
  uv_loop_init (&loop);
  cni = new_cni (&loop, 5000);
  kd_cni_add (cni, net, &rt, on_done, &o);
  run (&loop, &o, 1);
  assert_string_equal (o.err, "plugin fail failed (code 11): no luck: range full");
  log = slurp ("log");
  assert_null (log); /* fakeA never ran */

  /* DEL still asks every plugin and reports the first error. */
  kd_cni_del (cni, net, &rt, on_done, &o);
  run (&loop, &o, 2);
  assert_string_equal (o.err, "plugin fail failed (code 11): no luck: range full");
  log = slurp ("log");
  assert_string_equal (log, "DEL fakeA\n");

  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&loop), 0);
  free (o.err);
  free (o.ip);
}

static void
test_hanging_plugin_is_killed_at_the_timeout (void **state)
{
  uv_loop_t loop;
  kd_cni_t *cni;
  kd_cni_net_t *net = fake_net ("{\"type\":\"hang\"}");
  outcome_t o = { 0 };
  int64_t t0;

  write_fake_plugins ();
  uv_loop_init (&loop);
  cni = new_cni (&loop, 300);
  t0 = kd_monotonic_ns ();
  kd_cni_add (cni, net, &rt, on_done, &o);
  run (&loop, &o, 1);
  assert_string_equal (o.err, "plugin hang timed out after 300ms and was killed");
  /* Its forked sleep held stdout: the group kill must have freed it. */
  assert_true (kd_monotonic_ns () - t0 < 3000000000LL);
  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&loop), 0);
  free (o.err);
  free (o.ip);
}

static void
test_missing_plugin_and_check_without_cache_fail_clearly (void **state)
{
  uv_loop_t loop;
  kd_cni_t *cni;
  kd_cni_net_t *net = fake_net ("{\"type\":\"nosuch\"}");
  outcome_t o = { 0 };
  cleanup_free char *want = xasprintf ("failed to find plugin \"nosuch\" in path [%s/bin]", tmp);

  write_fake_plugins ();
  uv_loop_init (&loop);
  cni = new_cni (&loop, 1000);
  kd_cni_add (cni, net, &rt, on_done, &o);
  run (&loop, &o, 1);
  assert_string_equal (o.err, want);
  kd_cni_check (cni, net, &rt, on_done, &o);
  run (&loop, &o, 2);
  assert_string_equal (o.err, "no cached result for network fakenet, container c0ffee, interface "
                              "eth0");
  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&loop), 0);
  free (o.err);
  free (o.ip);
}

static void
test_ipmasq_chain_is_named_as_the_plugins_name_it (void **state)
{
  /* a chain the bridge plugin made on this machine for that network and id */
  cleanup_free char *c = kd_cni_ipmasq_chain ("kubeletd", "35381b68d5267c47c6c7bc69708b7b9f");
  assert_string_equal (c, "CNI-acf2f1ffc5657a355fb13b3b");
  assert_int_equal (strlen (c), 28);
}

static void
test_gc_deletes_attachments_of_dead_containers_only (void **state)
{
  uv_loop_t loop;
  kd_cni_t *cni;
  kd_cni_net_t *net = fake_net ("{\"type\":\"fakeA\"}");
  outcome_t o = { 0 };
  kd_cni_runtime_t live = rt, dead = rt;
  char *keep[] = { "live1" };
  cleanup_free char *log = NULL, *c1 = NULL, *c2 = NULL, *nets = NULL, *stale = NULL, *kept = NULL;

  write_fake_plugins ();
  uv_loop_init (&loop);
  cni = new_cni (&loop, 5000);
  live.container_id = "live1";
  dead.container_id = "dead1";
  kd_cni_add (cni, net, &live, on_done, &o);
  kd_cni_add (cni, net, &dead, on_done, &o);
  run (&loop, &o, 2);
  /* host-local style reservations in the built-in data dir. */
  nets = xasprintf ("%s/cni/networks/kubeletd", tmp);
  assert_int_equal (kd_mkdir_p (nets, 0755, NULL), 0);
  put ("cni/networks/kubeletd/10.213.9.2", "live1\r\neth0", 0644);
  put ("cni/networks/kubeletd/10.213.9.3", "dead2\r\neth0", 0644);
  put ("cni/networks/kubeletd/last_reserved_ip.0", "10.213.9.3", 0644);
  {
    /* reserved before the collection began; a reservation as new as the
       collection belongs to a pod admitted meanwhile and stays */
    struct timespec past[2] = { { time (NULL) - 60, 0 }, { time (NULL) - 60, 0 } };
    cleanup_free char *p2 = xasprintf ("%s/10.213.9.2", nets);
    cleanup_free char *p3 = xasprintf ("%s/10.213.9.3", nets);
    assert_int_equal (utimensat (AT_FDCWD, p2, past, 0), 0);
    assert_int_equal (utimensat (AT_FDCWD, p3, past, 0), 0);
  }
  put ("cni/networks/kubeletd/10.213.9.4", "admitted-meanwhile\r\neth0", 0644);

  kd_cni_gc (cni, keep, 1, on_done, &o);
  run (&loop, &o, 3);
  assert_null (o.err);
  log = slurp ("log");
  assert_string_equal (log, "ADD fakeA\nADD fakeA\nDEL fakeA\n");
  c1 = slurp ("cni/results/fakenet-live1-eth0");
  c2 = slurp ("cni/results/fakenet-dead1-eth0");
  assert_non_null (c1);
  assert_null (c2);
  kept = slurp ("cni/networks/kubeletd/10.213.9.2");
  stale = slurp ("cni/networks/kubeletd/10.213.9.3");
  assert_non_null (kept);
  assert_null (stale);
  free (kept);
  kept = slurp ("cni/networks/kubeletd/last_reserved_ip.0");
  assert_non_null (kept);
  free (kept);
  kept = slurp ("cni/networks/kubeletd/10.213.9.4");
  assert_non_null (kept);

  kd_cni_free (cni);
  kd_cni_net_free (net);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&loop), 0);
  free (o.err);
  free (o.ip);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_first_config_by_name_wins_among_conflist_conf_json, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_json_file_may_be_a_list_and_invalid_files_are_skipped,
                                     setup, teardown),
    cmocka_unit_test_setup_teardown (test_empty_or_missing_dir_gives_no_config, setup, teardown),
    cmocka_unit_test (test_parse_refuses_plugins_without_type),
    cmocka_unit_test (test_default_network_is_bridge_host_local_with_kubeletd_nat),
    cmocka_unit_test_setup_teardown (test_a_node_config_cannot_ask_for_kubeletd_nat, setup,
                                     teardown),
    cmocka_unit_test (test_result_1_0_0_and_0_4_0_give_ips_gateway_interfaces),
    cmocka_unit_test (test_plugin_error_json_renders_code_msg_details),
    cmocka_unit_test (test_base64_round_trip),
    cmocka_unit_test_setup_teardown (test_add_chains_prev_result_and_passes_env_and_runtime_config,
                                     setup, teardown),
    cmocka_unit_test_setup_teardown (test_failing_plugin_gives_its_error_and_stops_add, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_hanging_plugin_is_killed_at_the_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_plugin_and_check_without_cache_fail_clearly,
                                     setup, teardown),
    cmocka_unit_test (test_ipmasq_chain_is_named_as_the_plugins_name_it),
    cmocka_unit_test_setup_teardown (test_gc_deletes_attachments_of_dead_containers_only, setup,
                                     teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
