/* The pod's /etc/hosts, /etc/hostname and /etc/resolv.conf contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/sandbox.h"
#include "sandbox-test-pod.h"

static const char header[] = "# Kubernetes-managed hosts file.\n"
                             "127.0.0.1\tlocalhost\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n"
                             "fe00::0\tip6-localnet\n"
                             "fe00::0\tip6-mcastprefix\n"
                             "fe00::1\tip6-allnodes\n"
                             "fe00::2\tip6-allrouters\n";

static char *
write_tmp (const char *content)
{
  char *path = xstrdup ("/tmp/kd-test-files-XXXXXX");
  int fd = mkstemp (path);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
  close (fd);
  return path;
}

static void
test_hostname_is_pod_name_or_spec_hostname (void **state)
{
  kd_pod_t *a = test_pod ("{\"metadata\":{\"name\":\"web-node1\"}}");
  kd_pod_t *b = test_pod ("{\"metadata\":{\"name\":\"web-node1\"},\"spec\":{\"hostname\":\"h\"}}");
  char *ha = kd_sandbox_hostname (a), *hb = kd_sandbox_hostname (b);
  assert_string_equal (ha, "web-node1");
  assert_string_equal (hb, "h");
  free (ha);
  free (hb);
  kd_pod_free (a);
  kd_pod_free (b);
}

static void
test_long_hostname_is_cut_to_63_without_trailing_dash (void **state)
{
  /* 62 'a' then '-' then more: the cut ends in '-', which goes. */
  char json[256], name[100];
  memset (name, 'a', 62);
  strcpy (name + 62, "-bcdef");
  snprintf (json, sizeof json, "{\"metadata\":{\"name\":\"%s\"}}", name);
  kd_pod_t *p = test_pod (json);
  char *h = kd_sandbox_hostname (p);
  assert_int_equal (strlen (h), 62);
  assert_int_equal (h[61], 'a');
  free (h);
  kd_pod_free (p);
}

static void
test_hosts_has_localhost_lines_pod_ip_and_aliases (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"hostAliases\":["
                          "{\"ip\":\"127.0.0.1\",\"hostnames\":[\"foo.local\",\"bar.local\"]},"
                          "{\"ip\":\"10.1.2.3\",\"hostnames\":[\"foo.remote\"]}]}}");
  char *ips[] = { "10.88.0.5" };
  char *out = NULL;
  kd_error_t err = NULL;
  char *want = xasprintf ("%s10.88.0.5\tweb\n\n# Entries added by HostAliases.\n"
                          "127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n",
                          header);
  assert_int_equal (kd_sandbox_hosts_content (p, ips, 1, NULL, NULL, &out, &err), 0);
  assert_string_equal (out, want);
  free (out);
  free (want);
  kd_pod_free (p);
}

static void
test_hosts_with_subdomain_and_cluster_domain_has_fqdn (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\"},"
                          "\"spec\":{\"hostname\":\"h1\",\"subdomain\":\"sub\"}}");
  char *ips[] = { "10.88.0.5" };
  char *out = NULL, *out2 = NULL;
  kd_error_t err = NULL;
  char *want = xasprintf ("%s10.88.0.5\th1.sub.prod.svc.cluster.local\th1\n", header);
  assert_int_equal (kd_sandbox_hosts_content (p, ips, 1, "cluster.local", NULL, &out, &err), 0);
  assert_string_equal (out, want);
  /* No cluster domain: no FQDN. */
  assert_int_equal (kd_sandbox_hosts_content (p, ips, 1, NULL, NULL, &out2, &err), 0);
  assert_non_null (strstr (out2, "10.88.0.5\th1\n"));
  free (out);
  free (out2);
  free (want);
  kd_pod_free (p);
}

static void
test_host_network_hosts_is_node_file_with_header (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"hostNetwork\":true,"
                          "\"hostAliases\":[{\"ip\":\"1.2.3.4\",\"hostnames\":[\"a\"]}]}}");
  char *node = write_tmp ("127.0.0.1 localhost\n10.0.0.1 node1\n");
  char *out = NULL;
  kd_error_t err = NULL;
  assert_int_equal (kd_sandbox_hosts_content (p, NULL, 0, NULL, node, &out, &err), 0);
  assert_string_equal (out, "# Kubernetes-managed hosts file (host network).\n"
                            "127.0.0.1 localhost\n10.0.0.1 node1\n"
                            "\n# Entries added by HostAliases.\n1.2.3.4\ta\n");
  unlink (node);
  free (node);
  free (out);
  kd_pod_free (p);
}

static void
test_resolv_default_uses_node_file (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"dnsPolicy\":\"Default\"}}");
  char *node
      = write_tmp ("# comment\nnameserver 10.0.0.2\nnameserver 10.0.0.3 ; x\n"
                   "search old.example\nsearch a.example. b.example\noptions ndots:2 edns0\n");
  char *out = NULL;
  kd_error_t err = NULL;
  assert_int_equal (kd_sandbox_resolv_content (p, node, &out, &err), 0);
  assert_string_equal (out, "search a.example b.example\nnameserver 10.0.0.2\n"
                            "nameserver 10.0.0.3\noptions ndots:2 edns0\n");
  unlink (node);
  free (node);
  free (out);
  kd_pod_free (p);
}

static void
test_resolv_cluster_first_without_cluster_dns_falls_back_to_node (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{}}");
  char *node = write_tmp ("nameserver 10.0.0.2\n");
  char *out = NULL;
  kd_error_t err = NULL;
  assert_int_equal (kd_sandbox_resolv_content (p, node, &out, &err), 0);
  assert_string_equal (out, "nameserver 10.0.0.2\n");
  unlink (node);
  free (node);
  free (out);
  kd_pod_free (p);
}

static void
test_resolv_none_uses_only_dns_config (void **state)
{
  kd_pod_t *p = test_pod (
      "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":{"
      "\"nameservers\":[\"1.1.1.1\",\"8.8.8.8\"],\"searches\":[\"ns1.svc.example\"],"
      "\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}]}}}");
  char *node = write_tmp ("nameserver 10.0.0.2\n");
  char *out = NULL;
  kd_error_t err = NULL;
  assert_int_equal (kd_sandbox_resolv_content (p, node, &out, &err), 0);
  assert_string_equal (out, "search ns1.svc.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n"
                            "options ndots:2 edns0\n");
  unlink (node);
  free (node);
  free (out);
  kd_pod_free (p);
}

static void
test_resolv_dns_config_merges_options_and_caps_nameservers (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"dnsPolicy\":\"Default\","
                          "\"dnsConfig\":{\"nameservers\":[\"10.0.0.2\",\"9.9.9.9\",\"8.8.8.8\"],"
                          "\"options\":[{\"name\":\"ndots\",\"value\":\"5\"}]}}}");
  char *node = write_tmp ("nameserver 10.0.0.2\nnameserver 10.0.0.3\noptions ndots:1 rotate\n");
  char *out = NULL;
  kd_error_t err = NULL;
  assert_int_equal (kd_sandbox_resolv_content (p, node, &out, &err), 0);
  /* Duplicates dropped, then cut to 3; ndots replaced in place. */
  assert_string_equal (out, "nameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 9.9.9.9\n"
                            "options ndots:5 rotate\n");
  unlink (node);
  free (node);
  free (out);
  kd_pod_free (p);
}

static void
test_write_files_creates_the_three_files_and_mounts (void **state)
{
  kd_pod_t *p = test_pod ("{\"metadata\":{\"name\":\"web\"},\"spec\":{\"dnsPolicy\":\"None\"}}");
  char dir[] = "/tmp/kd-test-podXXXXXX";
  char *ips[] = { "10.88.0.9" };
  kd_error_t err = NULL;
  kd_mount_t *m = NULL;
  size_t n = 0;
  char *text = NULL, *path;

  assert_non_null (mkdtemp (dir));
  assert_int_equal (kd_sandbox_write_files (p, dir, ips, 1, NULL, &err), 0);
  path = xasprintf ("%s/etc/hostname", dir);
  assert_int_equal (kd_read_file (path, 4096, &text, NULL, &err), 0);
  assert_string_equal (text, "web\n");
  free (text);
  free (path);
  path = xasprintf ("%s/etc/hosts", dir);
  assert_int_equal (kd_read_file (path, 4096, &text, NULL, &err), 0);
  assert_non_null (strstr (text, "10.88.0.9\tweb\n"));
  free (text);
  free (path);
  kd_sandbox_files_mounts (dir, &m, &n);
  assert_int_equal (n, 3);
  assert_string_equal (m[2].destination, "/etc/resolv.conf");
  path = xasprintf ("%s/etc/resolv.conf", dir);
  assert_string_equal (m[2].source, path);
  free (path);
  kd_sandbox_mounts_free (m, n);
  path = xasprintf ("rm -rf %s", dir);
  assert_int_equal (system (path), 0);
  free (path);
  kd_pod_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hostname_is_pod_name_or_spec_hostname),
    cmocka_unit_test (test_long_hostname_is_cut_to_63_without_trailing_dash),
    cmocka_unit_test (test_hosts_has_localhost_lines_pod_ip_and_aliases),
    cmocka_unit_test (test_hosts_with_subdomain_and_cluster_domain_has_fqdn),
    cmocka_unit_test (test_host_network_hosts_is_node_file_with_header),
    cmocka_unit_test (test_resolv_default_uses_node_file),
    cmocka_unit_test (test_resolv_cluster_first_without_cluster_dns_falls_back_to_node),
    cmocka_unit_test (test_resolv_none_uses_only_dns_config),
    cmocka_unit_test (test_resolv_dns_config_merges_options_and_caps_nameservers),
    cmocka_unit_test (test_write_files_creates_the_three_files_and_mounts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
