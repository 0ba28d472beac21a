/* hostPort reservations across pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/sandbox.h"
#include "sandbox-test-pod.h"

static kd_pod_t *
pod_with_port (const char *name, int port, const char *proto, const char *ip)
{
  cleanup_free char *json = xasprintf (
      "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{"
      "\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":%d,\"protocol\":\"%s\"%s%s%s}]"
      "}]}}",
      name, port, proto, ip ? ",\"hostIP\":\"" : "", ip ? ip : "", ip ? "\"" : "");
  return test_pod (json);
}

static void
test_same_port_protocol_and_any_ip_is_refused_with_owner (void **state)
{
  kd_sandbox_ports_t *p = kd_sandbox_ports_new ();
  kd_pod_t *a = pod_with_port ("web-node1", 8080, "TCP", NULL);
  kd_pod_t *b = pod_with_port ("other-node1", 8080, "TCP", NULL);
  kd_pod_t *c = pod_with_port ("ip-node1", 8080, "TCP", "127.0.0.1");
  kd_error_t err = NULL;

  assert_int_equal (kd_sandbox_ports_reserve (p, a, &err), 0);
  assert_true (kd_sandbox_ports_reserve (p, b, &err) < 0);
  assert_string_equal (err->msg,
                       "port 8080/TCP on 0.0.0.0 is already used by pod default/web-node1");
  kd_error_release (&err);
  /* 0.0.0.0 conflicts with any specific address. */
  assert_true (kd_sandbox_ports_reserve (p, c, &err) < 0);
  assert_string_equal (err->msg,
                       "port 8080/TCP on 127.0.0.1 is already used by pod default/web-node1");
  kd_error_release (&err);
  /* Released: free again. */
  kd_sandbox_ports_release (p, "default", "web-node1");
  assert_int_equal (kd_sandbox_ports_reserve (p, c, &err), 0);
  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_free (c);
  kd_sandbox_ports_free (p);
}

static void
test_other_protocol_or_other_ip_does_not_conflict (void **state)
{
  kd_sandbox_ports_t *p = kd_sandbox_ports_new ();
  kd_pod_t *a = pod_with_port ("a", 53, "TCP", "127.0.0.1");
  kd_pod_t *b = pod_with_port ("b", 53, "UDP", "127.0.0.1");
  kd_pod_t *c = pod_with_port ("c", 53, "TCP", "127.0.0.2");
  kd_pod_t *d = pod_with_port ("d", 53, "UDP", NULL);
  kd_error_t err = NULL;

  assert_int_equal (kd_sandbox_ports_reserve (p, a, &err), 0);
  assert_int_equal (kd_sandbox_ports_reserve (p, b, &err), 0);
  assert_int_equal (kd_sandbox_ports_reserve (p, c, &err), 0);
  assert_true (kd_sandbox_ports_reserve (p, d, &err) < 0);
  assert_string_equal (err->msg, "port 53/UDP on 0.0.0.0 is already used by pod default/b");
  kd_error_release (&err);
  /* Reserving again for the same pod is not a conflict with itself. */
  assert_int_equal (kd_sandbox_ports_reserve (p, a, &err), 0);
  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_free (c);
  kd_pod_free (d);
  kd_sandbox_ports_free (p);
}

static void
test_port_mappings_are_lower_case_for_portmap (void **state)
{
  kd_pod_t *a = pod_with_port ("a", 8080, "UDP", "127.0.0.1");
  kd_cni_port_mapping_t *m = NULL;
  size_t n = 0;
  kd_sandbox_port_mappings (a, &m, &n);
  assert_int_equal (n, 1);
  assert_int_equal (m[0].host_port, 8080);
  assert_int_equal (m[0].container_port, 80);
  assert_string_equal (m[0].protocol, "udp");
  assert_string_equal (m[0].host_ip, "127.0.0.1");
  free (m);
  kd_pod_free (a);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_same_port_protocol_and_any_ip_is_refused_with_owner),
    cmocka_unit_test (test_other_protocol_or_other_ip_does_not_conflict),
    cmocka_unit_test (test_port_mappings_are_lower_case_for_portmap),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
