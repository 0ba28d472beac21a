/* kubeletd's flags and --config file (pkg/config): kubelet names and
   defaults, pflag syntax and messages, KubeletConfiguration files, flags
   winning over the file. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "kubeletd/config.h"

/* Parses NULL-terminated flags into cfg; on failure returns -1 and the
   message in *msg (caller frees). */
static int
parse (kd_config_t *cfg, char **msg, ...)
{
  char *argv[64] = { (char *) "kubeletd" };
  int argc = 1;
  kd_error_t err = NULL;
  va_list ap;
  int r;

  va_start (ap, msg);
  for (const char *a; (a = va_arg (ap, const char *)) != NULL;)
    argv[argc++] = (char *) a;
  va_end (ap);
  kd_config_init (cfg);
  r = kd_config_parse_args (cfg, argc, argv, &err);
  if (msg)
    *msg = r < 0 ? xstrdup (err->msg) : NULL;
  kd_error_release (&err);
  return r;
}

/* Expects parsing to fail with exactly `want`. */
static void
expect_error (const char *want, ...)
{
  char *argv[64] = { (char *) "kubeletd" };
  int argc = 1;
  kd_error_t err = NULL;
  kd_config_t cfg;
  va_list ap;

  va_start (ap, want);
  for (const char *a; (a = va_arg (ap, const char *)) != NULL;)
    argv[argc++] = (char *) a;
  va_end (ap);
  kd_config_init (&cfg);
  assert_int_equal (kd_config_parse_args (&cfg, argc, argv, &err), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, want);
  kd_error_release (&err);
  kd_config_free (&cfg);
}

static char *
write_temp (const char *content)
{
  char tmpl[] = "/tmp/kd-test-config.XXXXXX";
  int fd = mkstemp (tmpl);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
  close (fd);
  return xstrdup (tmpl);
}

static void
test_defaults_are_the_kubelets (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override", "node1", NULL), 0);
  assert_string_equal (cfg.pod_manifest_path, "/etc/kubernetes/manifests");
  assert_null (cfg.manifest_url);
  assert_int_equal (cfg.file_check_frequency_ms, 20000);
  assert_string_equal (cfg.root_dir, "/var/lib/kubeletd");
  assert_string_equal (cfg.run_dir, "/run/kubeletd");
  assert_string_equal (cfg.pod_logs_dir, "/var/log/pods");
  assert_string_equal (cfg.socket_path, "/run/kubeletd/kubeletd.sock");
  assert_null (cfg.socket_group);
  assert_string_equal (cfg.cni_conf_dir, "/etc/cni/net.d");
  assert_string_equal (cfg.cni_bin_dir, "/usr/lib/cni:/opt/cni/bin");
  assert_string_equal (cfg.pod_cidr, "10.88.0.0/16");
  assert_int_equal (cfg.n_registry_mirrors, 0);
  assert_int_equal (cfg.insecure_registries.n, 0);
  assert_int_equal (cfg.crashloop_backoff_initial_ms, 10000);
  assert_int_equal (cfg.crashloop_backoff_max_ms, 300000);
  assert_int_equal (cfg.max_pods, 110);
  assert_int_equal (cfg.pod_pids_limit, -1);
  assert_int_equal (cfg.container_log_max_size, 10 * 1024 * 1024);
  assert_int_equal (cfg.container_log_max_files, 5);
  assert_string_equal (cfg.cgroup_root, "kubepods");
  assert_true (cfg.seccomp_default);
  assert_int_equal (cfg.verbosity, 0);
  assert_false (cfg.log_json);
  assert_false (cfg.show_help);
  assert_false (cfg.show_version);
  assert_null (cfg.config_file);
  assert_null (cfg.kubeconfig);
  kd_config_free (&cfg);
}

static void
test_node_name_defaults_to_lowercased_host_name (void **state)
{
  char host[256];
  kd_config_t cfg;

  assert_int_equal (gethostname (host, sizeof (host)), 0);
  for (char *p = host; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  assert_int_equal (parse (&cfg, NULL, NULL), 0);
  assert_string_equal (cfg.node_name, host);
  kd_config_free (&cfg);
}

static void
test_hostname_override_is_trimmed_and_lowercased (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override", " Node-A.Example ", NULL), 0);
  assert_string_equal (cfg.node_name, "node-a.example");
  kd_config_free (&cfg);
}

static void
test_space_and_equals_forms_are_the_same (void **state)
{
  kd_config_t a, b;

  assert_int_equal (parse (&a, NULL, "--root-dir", "/r", "--run-dir", "/x", "--max-pods", "7",
                           "--file-check-frequency", "1m30s", "--hostname-override", "n", NULL),
                    0);
  assert_int_equal (parse (&b, NULL, "--root-dir=/r", "--run-dir=/x", "--max-pods=7",
                           "--file-check-frequency=1m30s", "--hostname-override=n", NULL),
                    0);
  assert_string_equal (a.root_dir, "/r");
  assert_string_equal (b.root_dir, "/r");
  assert_string_equal (a.socket_path, "/x/kubeletd.sock");
  assert_string_equal (b.socket_path, "/x/kubeletd.sock");
  assert_int_equal (a.max_pods, 7);
  assert_int_equal (b.max_pods, 7);
  assert_int_equal (a.file_check_frequency_ms, 90000);
  assert_int_equal (b.file_check_frequency_ms, 90000);
  kd_config_free (&a);
  kd_config_free (&b);
}

static void
test_every_flag_sets_its_setting (void **state)
{
  kd_config_t cfg;

  assert_int_equal (
      parse (&cfg, NULL, "--pod-manifest-path", "/m", "--manifest-url", "http://h/p.yaml",
             "--file-check-frequency", "500ms", "--root-dir", "/r", "--run-dir", "/x",
             "--pod-logs-dir", "/l", "--socket", "/s/k.sock", "--socket-group", "adm",
             "--hostname-override", "n1", "--cni-conf-dir", "/cc", "--cni-bin-dir", "/b1:/b2",
             "--pod-cidr", "10.1.0.0/24", "--crashloop-backoff-initial", "2s",
             "--crashloop-backoff-max", "1m", "--max-pods", "3", "--container-log-max-size", "1Mi",
             "--container-log-max-files", "2", "--cgroup-root", "kd", "--seccomp-default=false",
             "--kubeconfig", "/k", "--v", "6", "--logging-format", "json", NULL),
      0);
  assert_string_equal (cfg.pod_manifest_path, "/m");
  assert_string_equal (cfg.manifest_url, "http://h/p.yaml");
  assert_int_equal (cfg.file_check_frequency_ms, 500);
  assert_string_equal (cfg.root_dir, "/r");
  assert_string_equal (cfg.run_dir, "/x");
  assert_string_equal (cfg.pod_logs_dir, "/l");
  assert_string_equal (cfg.socket_path, "/s/k.sock");
  assert_string_equal (cfg.socket_group, "adm");
  assert_string_equal (cfg.node_name, "n1");
  assert_string_equal (cfg.cni_conf_dir, "/cc");
  assert_string_equal (cfg.cni_bin_dir, "/b1:/b2");
  assert_string_equal (cfg.pod_cidr, "10.1.0.0/24");
  assert_int_equal (cfg.crashloop_backoff_initial_ms, 2000);
  assert_int_equal (cfg.crashloop_backoff_max_ms, 60000);
  assert_int_equal (cfg.max_pods, 3);
  assert_int_equal (cfg.container_log_max_size, 1024 * 1024);
  assert_int_equal (cfg.container_log_max_files, 2);
  assert_string_equal (cfg.cgroup_root, "kd");
  assert_false (cfg.seccomp_default);
  assert_string_equal (cfg.kubeconfig, "/k");
  assert_int_equal (cfg.verbosity, 6);
  assert_true (cfg.log_json);
  kd_config_free (&cfg);
}

static void
test_bool_flag_takes_no_value_unless_given_with_equals (void **state)
{
  kd_config_t cfg;
  char *msg = NULL;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--seccomp-default", NULL), 0);
  assert_true (cfg.seccomp_default);
  kd_config_free (&cfg);
  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--seccomp-default=0", NULL), 0);
  assert_false (cfg.seccomp_default);
  kd_config_free (&cfg);
  /* As with pflag, the value after a space is an argument, not the bool. */
  assert_int_equal (parse (&cfg, &msg, "--seccomp-default", "false", NULL), -1);
  assert_string_equal (msg, "kubeletd does not take any arguments, got [\"false\"]");
  free (msg);
  kd_config_free (&cfg);
}

static void
test_verbosity_accepts_every_klog_form (void **state)
{
  static const char *const forms[][2] = {
    { "-v", "3" }, { "-v3", NULL }, { "-v=3", NULL }, { "--v=3", NULL }, { "--v", "3" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (forms); i++)
    {
      kd_config_t cfg;
      assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", forms[i][0], forms[i][1], NULL),
                        0);
      assert_int_equal (cfg.verbosity, 3);
      kd_config_free (&cfg);
    }
}

static void
test_registry_flags_repeat (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--registry-mirror",
                           "docker.io=https://mirror.example/",
                           "--registry-mirror=quay.io=http://q", "--insecure-registry",
                           "127.0.0.1:5000", "--insecure-registry=reg.local", NULL),
                    0);
  assert_int_equal (cfg.n_registry_mirrors, 2);
  assert_string_equal (cfg.registry_mirrors[0].host, "docker.io");
  assert_string_equal (cfg.registry_mirrors[0].url, "https://mirror.example");
  assert_string_equal (cfg.registry_mirrors[1].host, "quay.io");
  assert_string_equal (cfg.registry_mirrors[1].url, "http://q");
  assert_int_equal (cfg.insecure_registries.n, 2);
  assert_string_equal (cfg.insecure_registries.v[0], "127.0.0.1:5000");
  assert_string_equal (cfg.insecure_registries.v[1], "reg.local");
  kd_config_free (&cfg);
}

static void
test_bad_values_name_the_flag_and_the_value (void **state)
{
  expect_error ("invalid argument \"abc\" for \"--file-check-frequency\" flag: time: invalid "
                "duration \"abc\"",
                "--file-check-frequency", "abc", NULL);
  expect_error ("invalid argument \"10\" for \"--crashloop-backoff-initial\" flag: time: invalid "
                "duration \"10\"",
                "--crashloop-backoff-initial=10", NULL);
  expect_error ("invalid argument \"many\" for \"--max-pods\" flag: strconv.ParseInt: parsing "
                "\"many\": invalid syntax",
                "--max-pods", "many", NULL);
  expect_error ("invalid argument \"99999999999\" for \"--container-log-max-files\" flag: "
                "strconv.ParseInt: parsing \"99999999999\": value out of range",
                "--container-log-max-files=99999999999", NULL);
  expect_error ("invalid argument \"maybe\" for \"--seccomp-default\" flag: strconv.ParseBool: "
                "parsing \"maybe\": invalid syntax",
                "--seccomp-default=maybe", NULL);
  expect_error ("invalid argument \"10.0.0.0/33\" for \"--pod-cidr\" flag: invalid CIDR address: "
                "10.0.0.0/33",
                "--pod-cidr", "10.0.0.0/33", NULL);
  expect_error ("invalid argument \"10XB\" for \"--container-log-max-size\" flag: quantities must "
                "match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "--container-log-max-size", "10XB", NULL);
  expect_error ("invalid argument \"docker.io\" for \"--registry-mirror\" flag: want HOST=URL",
                "--registry-mirror", "docker.io", NULL);
  expect_error ("invalid argument \"http://r\" for \"--insecure-registry\" flag: want "
                "HOST[:PORT] without a scheme or path",
                "--insecure-registry", "http://r", NULL);
  expect_error ("invalid argument \"xml\" for \"--logging-format\" flag: unsupported log format "
                "(supported: \"text\", \"json\")",
                "--logging-format=xml", NULL);
  expect_error ("invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseInt: parsing \"x\": "
                "invalid syntax",
                "-v", "x", NULL);
}

static void
test_unknown_and_incomplete_flags_use_pflag_messages (void **state)
{
  expect_error ("unknown flag: --pod-manifest", "--pod-manifest=/x", NULL);
  expect_error ("unknown shorthand flag: 'x' in -x", "-x", NULL);
  expect_error ("flag needs an argument: --root-dir", "--root-dir", NULL);
  expect_error ("flag needs an argument: 'v' in -v", "-v", NULL);
  expect_error ("kubeletd does not take any arguments, got [\"a\" \"b\"]", "a", "--", "b", NULL);
}

static void
test_out_of_range_settings_use_kubelet_validation_messages (void **state)
{
  expect_error ("invalid configuration: maxPods (--max-pods) -1 must not be a negative number",
                "--hostname-override=n", "--max-pods=-1", NULL);
  expect_error ("invalid configuration: containerLogMaxFiles (--container-log-max-files) 1 must "
                "be equal to or greater than 2",
                "--hostname-override=n", "--container-log-max-files", "1", NULL);
  expect_error ("invalid configuration: fileCheckFrequency (--file-check-frequency) 0s must be "
                "greater than 0",
                "--hostname-override=n", "--file-check-frequency", "0", NULL);
  expect_error ("invalid configuration: crashLoopBackOff.maxContainerRestartPeriod "
                "(--crashloop-backoff-max) 5s must not be less than --crashloop-backoff-initial "
                "1m30s",
                "--hostname-override=n", "--crashloop-backoff-initial=90s",
                "--crashloop-backoff-max=5s", NULL);
  expect_error ("node name `bad_name` (from --hostname-override): a lowercase RFC 1123 subdomain "
                "must consist of lower case alphanumeric characters, '-' or '.', and must start "
                "and end with an alphanumeric character",
                "--hostname-override", "bad_name", NULL);
}

static void
test_image_gc_thresholds_default_to_85_and_80 (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override", "n1", NULL), 0);
  assert_int_equal (cfg.image_gc_high_threshold, 85);
  assert_int_equal (cfg.image_gc_low_threshold, 80);
  kd_config_free (&cfg);
  assert_int_equal (parse (&cfg, NULL, "--hostname-override", "n1", "--image-gc-high-threshold",
                           "100", "--image-gc-low-threshold=0", NULL),
                    0);
  assert_int_equal (cfg.image_gc_high_threshold, 100);
  assert_int_equal (cfg.image_gc_low_threshold, 0);
  kd_config_free (&cfg);
}

static void
test_image_gc_thresholds_use_kubelet_validation_messages (void **state)
{
  expect_error ("invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) "
                "101 must be between 0 and 100, inclusive",
                "--hostname-override=n", "--image-gc-high-threshold=101", NULL);
  expect_error ("invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) "
                "-1 must be between 0 and 100, inclusive",
                "--hostname-override=n", "--image-gc-low-threshold=-1", NULL);
  expect_error ("invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 85 "
                "must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 85",
                "--hostname-override=n", "--image-gc-low-threshold=85", NULL);
  expect_error ("invalid argument \"x\" for \"--image-gc-high-threshold\" flag: "
                "strconv.ParseInt: parsing \"x\": invalid syntax",
                "--hostname-override=n", "--image-gc-high-threshold", "x", NULL);
}

static void
test_socket_path_longer_than_sun_path_is_refused (void **state)
{
  char longdir[200];
  kd_config_t cfg;
  char *msg = NULL;

  memset (longdir, 'a', sizeof (longdir) - 1);
  longdir[0] = '/';
  longdir[sizeof (longdir) - 1] = '\0';
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--run-dir", longdir, NULL), -1);
  assert_non_null (strstr (msg, "for \"--socket\" flag: longer than the 107 bytes"));
  free (msg);
  kd_config_free (&cfg);
}

static void
test_help_and_version_skip_the_rest (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--help", "--config", "/does/not/exist", NULL), 0);
  assert_true (cfg.show_help);
  kd_config_free (&cfg);
  assert_int_equal (parse (&cfg, NULL, "-h", NULL), 0);
  assert_true (cfg.show_help);
  kd_config_free (&cfg);
  assert_int_equal (parse (&cfg, NULL, "--version", NULL), 0);
  assert_true (cfg.show_version);
  kd_config_free (&cfg);
}

static const char config_file[] = "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                  "kind: KubeletConfiguration\n"
                                  "staticPodPath: /srv/manifests\n"
                                  "staticPodURL: http://example/pods.yaml\n"
                                  "fileCheckFrequency: 5s\n"
                                  "podCIDR: 10.99.0.0/16\n"
                                  "maxPods: 42\n"
                                  "podPidsLimit: 1024\n"
                                  "imageGCHighThresholdPercent: 90\n"
                                  "imageGCLowThresholdPercent: 70\n"
                                  "containerLogMaxSize: 5Mi\n"
                                  "containerLogMaxFiles: 3\n"
                                  "cgroupRoot: mypods\n"
                                  "seccompDefault: false\n"
                                  "logging:\n"
                                  "  format: json\n"
                                  "  verbosity: 4\n"
                                  "crashLoopBackOff:\n"
                                  "  maxContainerRestartPeriod: 1m\n";

static void
test_config_file_sets_kubelet_fields (void **state)
{
  cleanup_free char *path = write_temp (config_file);
  kd_config_t cfg;
  char *msg = NULL;

  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", path, NULL), 0);
  assert_string_equal (cfg.pod_manifest_path, "/srv/manifests");
  assert_string_equal (cfg.manifest_url, "http://example/pods.yaml");
  assert_int_equal (cfg.file_check_frequency_ms, 5000);
  assert_string_equal (cfg.pod_cidr, "10.99.0.0/16");
  assert_int_equal (cfg.max_pods, 42);
  assert_int_equal (cfg.pod_pids_limit, 1024);
  assert_int_equal (cfg.image_gc_high_threshold, 90);
  assert_int_equal (cfg.image_gc_low_threshold, 70);
  assert_int_equal (cfg.container_log_max_size, 5 * 1024 * 1024);
  assert_int_equal (cfg.container_log_max_files, 3);
  assert_string_equal (cfg.cgroup_root, "mypods");
  assert_false (cfg.seccomp_default);
  assert_true (cfg.log_json);
  assert_int_equal (cfg.verbosity, 4);
  assert_int_equal (cfg.crashloop_backoff_max_ms, 60000);
  assert_int_equal (cfg.warnings.n, 0);
  kd_config_free (&cfg);
  unlink (path);
}

static void
test_pod_max_pids_flag_sets_the_pod_pids_limit (void **state)
{
  kd_config_t cfg;
  char *msg = NULL;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--pod-max-pids", "64", NULL), 0);
  assert_int_equal (cfg.pod_pids_limit, 64);
  kd_config_free (&cfg);
  /* -1 (and 0) mean no limit, as in the kubelet: accepted as given */
  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--pod-max-pids=-1", NULL), 0);
  assert_int_equal (cfg.pod_pids_limit, -1);
  kd_config_free (&cfg);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--pod-max-pids", "lots", NULL),
                    -1);
  assert_string_equal (msg, "invalid argument \"lots\" for \"--pod-max-pids\" flag: "
                            "strconv.ParseInt: parsing \"lots\": invalid syntax");
  free (msg);
  kd_config_free (&cfg);
}

static void
test_flags_win_over_the_config_file (void **state)
{
  cleanup_free char *path = write_temp (config_file);
  kd_config_t cfg;

  /* Flags before and after --config: the file never overrides a flag. */
  assert_int_equal (parse (&cfg, NULL, "--max-pods", "7", "--hostname-override=n", "--config", path,
                           "--seccomp-default=true", "-v", "1", "--pod-manifest-path", "/m", NULL),
                    0);
  assert_int_equal (cfg.max_pods, 7);
  assert_true (cfg.seccomp_default);
  assert_int_equal (cfg.verbosity, 1);
  assert_string_equal (cfg.pod_manifest_path, "/m");
  /* ...and what no flag gave comes from the file. */
  assert_int_equal (cfg.container_log_max_files, 3);
  assert_true (cfg.log_json);
  kd_config_free (&cfg);
  unlink (path);
}

static void
test_config_file_unknown_field_is_a_warning (void **state)
{
  cleanup_free char *path = write_temp ("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                        "kind: KubeletConfiguration\n"
                                        "address: 0.0.0.0\n"
                                        "logging:\n"
                                        "  flushFrequency: 5s\n"
                                        "maxPods: 9\n");
  cleanup_free char *w0 = NULL;
  cleanup_free char *w1 = NULL;
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--config", path, NULL), 0);
  assert_int_equal (cfg.max_pods, 9);
  assert_int_equal (cfg.warnings.n, 2);
  w0 = xasprintf ("%s:3:1: unknown field \"address\" (ignored)", path);
  w1 = xasprintf ("%s:5:3: unknown field \"logging.flushFrequency\" (ignored)", path);
  assert_string_equal (cfg.warnings.v[0], w0);
  assert_string_equal (cfg.warnings.v[1], w1);
  kd_config_free (&cfg);
  unlink (path);
}

static void
test_config_file_of_another_kind_is_refused (void **state)
{
  cleanup_free char *kind = write_temp ("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                        "kind: KubeProxyConfiguration\n"
                                        "maxPods: 9\n");
  cleanup_free char *api = write_temp ("apiVersion: kubelet.config.k8s.io/v1\n"
                                       "kind: KubeletConfiguration\n");
  cleanup_free char *none = write_temp ("maxPods: 9\n");
  cleanup_free char *want_kind = NULL, *want_api = NULL, *want_none = NULL;
  kd_config_t cfg;
  char *msg = NULL;

  want_kind = xasprintf ("%s:2:7: no kind \"KubeProxyConfiguration\" is registered for version "
                         "\"kubelet.config.k8s.io/v1beta1\" (want kind: KubeletConfiguration)",
                         kind);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", kind, NULL), -1);
  assert_string_equal (msg, want_kind);
  assert_int_equal (cfg.max_pods, 110);
  free (msg);
  kd_config_free (&cfg);

  want_api = xasprintf ("%s:1:13: no kind \"KubeletConfiguration\" is registered for version "
                        "\"kubelet.config.k8s.io/v1\" (want apiVersion: "
                        "kubelet.config.k8s.io/v1beta1)",
                        api);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", api, NULL), -1);
  assert_string_equal (msg, want_api);
  free (msg);
  kd_config_free (&cfg);

  want_none = xasprintf ("%s: Object 'Kind' is missing (want kind: KubeletConfiguration)", none);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", none, NULL), -1);
  assert_string_equal (msg, want_none);
  free (msg);
  kd_config_free (&cfg);
  unlink (kind);
  unlink (api);
  unlink (none);
}

static void
test_config_file_bad_value_has_its_position (void **state)
{
  cleanup_free char *dur = write_temp ("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                       "kind: KubeletConfiguration\n"
                                       "fileCheckFrequency: soon\n");
  cleanup_free char *type = write_temp ("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                        "kind: KubeletConfiguration\n"
                                        "logging:\n"
                                        "  verbosity: loud\n");
  cleanup_free char *want_dur = NULL, *want_type = NULL;
  kd_config_t cfg;
  char *msg = NULL;

  want_dur = xasprintf ("%s:3:21: fileCheckFrequency: time: invalid duration \"soon\"", dur);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", dur, NULL), -1);
  assert_string_equal (msg, want_dur);
  free (msg);
  kd_config_free (&cfg);

  want_type = xasprintf ("%s:4:14: logging.verbosity: expected an integer, got a string", type);
  assert_int_equal (parse (&cfg, &msg, "--hostname-override=n", "--config", type, NULL), -1);
  assert_string_equal (msg, want_type);
  free (msg);
  kd_config_free (&cfg);
  unlink (dur);
  unlink (type);
}

static void
test_config_file_static_pod_path_is_relative_to_the_file (void **state)
{
  cleanup_free char *path = write_temp ("apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                        "kind: KubeletConfiguration\n"
                                        "staticPodPath: manifests\n");
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--config", path, NULL), 0);
  assert_string_equal (cfg.pod_manifest_path, "/tmp/manifests");
  kd_config_free (&cfg);
  unlink (path);
}

static void
test_missing_config_file_is_an_error (void **state)
{
  kd_config_t cfg;
  char *msg = NULL;

  assert_int_equal (parse (&cfg, &msg, "--config", "/nonexistent/kubelet.yaml", NULL), -1);
  assert_non_null (strstr (msg, "--config"));
  assert_non_null (strstr (msg, "/nonexistent/kubelet.yaml"));
  free (msg);
  kd_config_free (&cfg);
}

static void
test_empty_config_flag_means_no_file (void **state)
{
  kd_config_t cfg;

  assert_int_equal (parse (&cfg, NULL, "--hostname-override=n", "--config=", NULL), 0);
  assert_int_equal (cfg.max_pods, 110);
  kd_config_free (&cfg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults_are_the_kubelets),
    cmocka_unit_test (test_node_name_defaults_to_lowercased_host_name),
    cmocka_unit_test (test_hostname_override_is_trimmed_and_lowercased),
    cmocka_unit_test (test_space_and_equals_forms_are_the_same),
    cmocka_unit_test (test_every_flag_sets_its_setting),
    cmocka_unit_test (test_bool_flag_takes_no_value_unless_given_with_equals),
    cmocka_unit_test (test_verbosity_accepts_every_klog_form),
    cmocka_unit_test (test_registry_flags_repeat),
    cmocka_unit_test (test_bad_values_name_the_flag_and_the_value),
    cmocka_unit_test (test_unknown_and_incomplete_flags_use_pflag_messages),
    cmocka_unit_test (test_out_of_range_settings_use_kubelet_validation_messages),
    cmocka_unit_test (test_image_gc_thresholds_default_to_85_and_80),
    cmocka_unit_test (test_image_gc_thresholds_use_kubelet_validation_messages),
    cmocka_unit_test (test_socket_path_longer_than_sun_path_is_refused),
    cmocka_unit_test (test_help_and_version_skip_the_rest),
    cmocka_unit_test (test_config_file_sets_kubelet_fields),
    cmocka_unit_test (test_flags_win_over_the_config_file),
    cmocka_unit_test (test_config_file_unknown_field_is_a_warning),
    cmocka_unit_test (test_config_file_of_another_kind_is_refused),
    cmocka_unit_test (test_config_file_bad_value_has_its_position),
    cmocka_unit_test (test_config_file_static_pod_path_is_relative_to_the_file),
    cmocka_unit_test (test_missing_config_file_is_an_error),
    cmocka_unit_test (test_empty_config_flag_means_no_file),
    cmocka_unit_test (test_pod_max_pids_flag_sets_the_pod_pids_limit),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
