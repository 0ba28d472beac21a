/* The descriptor codec: decode, encode, copy and free of the Pod model, the
   document tree helpers and field-error formatting. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/api.h"

/* Every field of the model, in canonical spelling, so encode (decode (x))
   must give x back. */
static const char full_pod_json[]
    = "{"
      "\"kind\":\"Pod\",\"apiVersion\":\"v1\","
      "\"metadata\":{\"name\":\"web\",\"generateName\":\"web-\",\"namespace\":\"prod\","
      "  \"uid\":\"0123456789abcdef0123456789abcdef\",\"resourceVersion\":\"42\",\"generation\":3,"
      "  "
      "\"creationTimestamp\":\"2026-01-02T03:04:05Z\",\"deletionTimestamp\":\"2026-01-02T03:05:"
      "05Z\","
      "  \"deletionGracePeriodSeconds\":30,"
      "  \"labels\":{\"app\":\"web\",\"app.kubernetes.io/name\":\"web\"},"
      "  \"annotations\":{\"note\":\"x y\"}},"
      "\"spec\":{"
      "  \"volumes\":["
      "    {\"name\":\"data\",\"hostPath\":{\"path\":\"/srv\",\"type\":\"DirectoryOrCreate\"}},"
      "    {\"name\":\"plain\",\"hostPath\":{\"path\":\"/tmp\",\"type\":\"\"}},"
      "    {\"name\":\"cache\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"64Mi\"}},"
      "    {\"name\":\"scratch\",\"emptyDir\":{}}],"
      "  "
      "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-"
      "c\"],"
      "    \"args\":[\"true\"],\"resources\":{},\"restartPolicy\":\"Always\"}],"
      "  \"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.25\",\"command\":[\"nginx\"],"
      "    \"args\":[\"-g\",\"daemon off;\"],\"workingDir\":\"/w\","
      "    "
      "\"ports\":[{\"name\":\"http\",\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"TCP\","
      "      \"hostIP\":\"127.0.0.1\"}],"
      "    \"env\":[{\"name\":\"A\",\"value\":\"1\"},"
      "      {\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\","
      "        \"fieldPath\":\"metadata.name\"}}},"
      "      {\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"containerName\":\"app\","
      "        \"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}}],"
      "    \"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"},"
      "      \"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}},"
      "    \"volumeMounts\":[{\"name\":\"data\",\"readOnly\":true,\"mountPath\":\"/data\","
      "      "
      "\"subPath\":\"sub\",\"mountPropagation\":\"HostToContainer\",\"subPathExpr\":\"$(POD)\"}],"
      "    "
      "\"livenessProbe\":{\"httpGet\":{\"path\":\"/"
      "healthz\",\"port\":\"http\",\"host\":\"127.0.0.1\","
      "      \"scheme\":\"HTTP\",\"httpHeaders\":[{\"name\":\"X-A\",\"value\":\"b\"}]},"
      "      \"initialDelaySeconds\":5,\"timeoutSeconds\":2,\"periodSeconds\":10,"
      "      \"successThreshold\":1,\"failureThreshold\":3,\"terminationGracePeriodSeconds\":10},"
      "    \"readinessProbe\":{\"tcpSocket\":{\"port\":80,\"host\":\"h\"},\"periodSeconds\":5},"
      "    "
      "\"startupProbe\":{\"grpc\":{\"port\":9090,\"service\":\"health\"},\"failureThreshold\":30},"
      "    \"lifecycle\":{\"postStart\":{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo hi\"]}},"
      "      \"preStop\":{\"sleep\":{\"seconds\":5}},\"stopSignal\":\"SIGQUIT\"},"
      "    \"terminationMessagePath\":\"/dev/termination-log\","
      "    "
      "\"terminationMessagePolicy\":\"FallbackToLogsOnError\",\"imagePullPolicy\":\"IfNotPresent\","
      "    \"securityContext\":{\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]},"
      "      \"privileged\":false,\"runAsUser\":0,\"runAsGroup\":0,\"runAsNonRoot\":false,"
      "      \"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
      "      \"procMount\":\"Default\","
      "      \"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"p.json\"}},"
      "    \"stdin\":true,\"stdinOnce\":true,\"tty\":true},"
      "   {\"name\":\"side\",\"image\":\"busybox\",\"resources\":{},"
      "    \"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}},"
      "    \"readinessProbe\":{\"grpc\":{\"port\":1,\"service\":\"\"}},"
      "    \"lifecycle\":{\"postStart\":{\"tcpSocket\":{\"port\":\"p\"}},"
      "      \"preStop\":{\"httpGet\":{\"path\":\"/stop\",\"port\":81}}}}],"
      "  \"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
      "  "
      "\"activeDeadlineSeconds\":600,\"dnsPolicy\":\"ClusterFirst\",\"nodeSelector\":{\"disk\":"
      "\"ssd\"},"
      "  "
      "\"serviceAccountName\":\"sa\",\"nodeName\":\"node1\",\"hostNetwork\":true,\"hostPID\":true,"
      "  \"hostIPC\":true,\"shareProcessNamespace\":false,"
      "  \"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":1000,\"runAsNonRoot\":true,"
      "    \"supplementalGroups\":[4,5],\"fsGroup\":2000,"
      "    \"sysctls\":[{\"name\":\"net.ipv4.ip_forward\",\"value\":\"1\"}],"
      "    "
      "\"fsGroupChangePolicy\":\"OnRootMismatch\",\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}"
      ","
      "  \"hostname\":\"h\",\"subdomain\":\"s\",\"schedulerName\":\"default-scheduler\","
      "  "
      "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\",\"effect\":"
      "\"NoExecute\","
      "    \"tolerationSeconds\":300}],"
      "  \"hostAliases\":[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"a\",\"b\"]}],"
      "  \"priorityClassName\":\"high\",\"priority\":1000,"
      "  \"dnsConfig\":{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"svc.local\"],"
      "    \"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}]},"
      "  \"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
      "\"status\":{\"phase\":\"Running\","
      "  \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastProbeTime\":null,"
      "    \"lastTransitionTime\":\"2026-01-02T03:04:06Z\",\"reason\":\"r\",\"message\":\"m\"}],"
      "  \"message\":\"msg\",\"reason\":\"rsn\",\"hostIP\":\"192.168.1.2\","
      "  \"hostIPs\":[{\"ip\":\"192.168.1.2\"}],\"podIP\":\"10.88.0.5\","
      "  \"podIPs\":[{\"ip\":\"10.88.0.5\"},{\"ip\":\"fd00::5\"}],"
      "  \"startTime\":\"2026-01-02T03:04:05Z\","
      "  \"initContainerStatuses\":[{\"name\":\"init\",\"state\":{\"terminated\":{\"exitCode\":0,"
      "    \"reason\":\"Completed\",\"startedAt\":\"2026-01-02T03:04:05Z\","
      "    \"finishedAt\":\"2026-01-02T03:04:06Z\",\"containerID\":\"kubeletd://aa\"}},"
      "    \"lastState\":{},\"ready\":true,\"restartCount\":0,\"image\":\"busybox:1.36\","
      "    \"imageID\":\"docker.io/library/busybox@sha256:ab\",\"containerID\":\"kubeletd://aa\","
      "    \"started\":false}],"
      "  \"containerStatuses\":[{\"name\":\"app\","
      "    \"state\":{\"running\":{\"startedAt\":\"2026-01-02T03:04:07Z\"}},"
      "    \"lastState\":{\"terminated\":{\"exitCode\":137,\"signal\":9,\"reason\":\"Error\","
      "      \"message\":\"killed\",\"startedAt\":\"2026-01-02T03:04:06Z\","
      "      \"finishedAt\":\"2026-01-02T03:04:07Z\"}},"
      "    \"ready\":true,\"restartCount\":2,\"image\":\"nginx:1.25\","
      "    \"imageID\":\"docker.io/library/nginx@sha256:cd\",\"containerID\":\"kubeletd://bb\","
      "    \"started\":true},"
      "   {\"name\":\"side\",\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\","
      "      \"message\":\"back-off\"}},\"lastState\":{},\"ready\":false,\"restartCount\":0,"
      "    \"image\":\"busybox\",\"imageID\":\"\"}],"
      "  \"qosClass\":\"Burstable\"}"
      "}";

static json_t *
parse (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);

  if (j == NULL)
    fail_msg ("bad test JSON at %d: %s", jerr.position, jerr.text);
  return j;
}

/* Decodes JSON text into pod through a document tree. */
static void
decode_text (const char *text, kd_pod_t *pod, kd_field_errors_t *errs)
{
  json_t *j = parse (text);
  kd_doc_t *doc = kd_node_from_json (j);

  kd_pod_decode (kd_doc_root (doc), pod, errs);
  kd_doc_free (doc);
  json_decref (j);
}

static void
assert_json_eq (json_t *got, const char *want_text)
{
  json_t *want = parse (want_text);

  if (!json_equal (got, want))
    {
      char *g = json_dumps (got, JSON_SORT_KEYS);
      char *w = json_dumps (want, JSON_SORT_KEYS);

      print_error ("got:  %s\nwant: %s\n", g, w);
      free (g);
      free (w);
      json_decref (want);
      fail ();
    }
  json_decref (want);
}

/* The formatted entry for field (first match), or NULL. Caller frees. */
static char *
error_for (const kd_field_errors_t *errs, const char *field)
{
  size_t i;

  for (i = 0; i < errs->n; i++)
    if (strcmp (errs->v[i].field, field) == 0)
      return kd_fe_format (&errs->v[i], NULL);
  return NULL;
}

static void
assert_error (const kd_field_errors_t *errs, const char *field, const char *want)
{
  char *got = error_for (errs, field);

  if (got == NULL)
    fail_msg ("no error for %s", field);
  assert_string_equal (got, want);
  free (got);
}

/* ---- round trip -------------------------------------------------------- */

static void
test_full_pod_round_trips_every_field (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out;

  decode_text (full_pod_json, &pod, &errs);
  for (size_t i = 0; i < errs.n; i++)
    {
      char *m = kd_fe_format (&errs.v[i], NULL);

      print_error ("%s\n", m);
      free (m);
    }
  assert_int_equal (errs.n, 0);

  /* A few fields checked in the struct too, not only through JSON. */
  assert_string_equal (pod.metadata.name, "web");
  assert_int_equal (pod.metadata.generation.v, 3);
  assert_true (pod.metadata.generation.set);
  assert_int_equal (pod.spec.n_containers, 2);
  assert_int_equal (pod.spec.containers[0].ports[0].container_port, 80);
  assert_true (pod.spec.containers[0].liveness_probe->handler.http_get->port.is_str);
  assert_string_equal (pod.spec.containers[0].liveness_probe->handler.http_get->port.s, "http");
  assert_true (pod.spec.containers[1].readiness_probe->handler.grpc->service_set);
  assert_true (pod.spec.volumes[1].host_path->type_set);
  assert_int_equal (pod.spec.security_context->supplemental_groups.n, 2);
  assert_int_equal (pod.status.container_statuses[0].last_state.terminated->exit_code, 137);
  assert_int_equal (pod.status.start_time, INT64_C (1767323045) * 1000000000);

  out = kd_pod_to_json (&pod);
  assert_json_eq (out, full_pod_json);
  json_decref (out);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_encode_keeps_go_field_order (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out;
  char *text;

  decode_text ("{\"status\":{},\"spec\":{\"containers\":[{\"tty\":true,\"image\":\"i\","
               "\"name\":\"c\"}]},\"apiVersion\":\"v1\",\"kind\":\"Pod\"}",
               &pod, &errs);
  out = kd_pod_to_json (&pod);
  text = json_dumps (out, JSON_COMPACT);
  assert_string_equal (text, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{},"
                             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
                             "\"resources\":{},\"tty\":true}]},\"status\":{}}");
  free (text);
  json_decref (out);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

/* ---- omitempty --------------------------------------------------------- */

static void
test_zero_values_are_omitted_and_required_ones_emitted (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out;

  decode_text ("{\"metadata\":{\"name\":\"\",\"labels\":{}},"
               "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"\",\"command\":[],"
               "\"stdin\":false,\"ports\":[{\"containerPort\":0,\"hostPort\":0}]}],"
               "\"hostNetwork\":false,\"volumes\":[]},"
               "\"status\":{\"containerStatuses\":[{\"name\":\"c\"}],"
               "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
               &pod, &errs);
  assert_int_equal (errs.n, 0);
  out = kd_pod_to_json (&pod);
  assert_json_eq (out, "{\"metadata\":{},"
                       "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{},"
                       "\"ports\":[{\"containerPort\":0}]}]},"
                       "\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"state\":{},"
                       "\"lastState\":{},\"ready\":false,\"restartCount\":0,\"image\":\"\","
                       "\"imageID\":\"\"}],"
                       "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                       "\"lastProbeTime\":null,\"lastTransitionTime\":null}]}}");
  json_decref (out);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_pointer_like_fields_follow_go_habits (void **state)
{
  kd_grpc_action_t grpc = { .port = 5 };
  kd_host_path_t hp = { .path = (char *) "/x" };
  kd_resource_field_selector_t rfs = { .resource = (char *) "limits.cpu" };
  kd_state_terminated_t term = { 0 };
  kd_container_t c = { 0 };
  kd_pod_status_t st = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out;

  /* *string without omitempty: null when unset, "" when set empty. */
  kd_probe_t probe = { .handler.grpc = &grpc };
  c.name = (char *) "c";
  c.liveness_probe = &probe;
  out = kd_encode (&kd_type_container, &c);
  assert_json_eq (out, "{\"name\":\"c\",\"resources\":{},"
                       "\"livenessProbe\":{\"grpc\":{\"port\":5,\"service\":null}}}");
  json_decref (out);
  grpc.service_set = true;
  out = kd_encode (&kd_type_container, &c);
  assert_json_eq (out, "{\"name\":\"c\",\"resources\":{},"
                       "\"livenessProbe\":{\"grpc\":{\"port\":5,\"service\":\"\"}}}");
  json_decref (out);

  /* hostPath.type: omitted when unset, "" when defaulted to "". */
  kd_volume_t vol = { .name = (char *) "v", .host_path = &hp };
  kd_pod_t pod = { 0 };
  pod.spec.volumes = &vol;
  pod.spec.n_volumes = 1;
  out = kd_pod_to_json (&pod);
  assert_json_eq (out, "{\"metadata\":{},\"spec\":{\"volumes\":[{\"name\":\"v\","
                       "\"hostPath\":{\"path\":\"/x\"}}],\"containers\":[]},\"status\":{}}");
  json_decref (out);
  hp.type_set = true;
  out = kd_pod_to_json (&pod);
  assert_json_eq (out, "{\"metadata\":{},\"spec\":{\"volumes\":[{\"name\":\"v\","
                       "\"hostPath\":{\"path\":\"/x\",\"type\":\"\"}}],\"containers\":[]},"
                       "\"status\":{}}");
  json_decref (out);

  /* divisor is a Quantity value: "0" when unset. */
  kd_env_var_source_t src = { .resource_field_ref = &rfs };
  kd_env_var_t env = { .name = (char *) "E", .value_from = &src };
  c.liveness_probe = NULL;
  c.env = &env;
  c.n_env = 1;
  out = kd_encode (&kd_type_container, &c);
  assert_json_eq (out, "{\"name\":\"c\",\"resources\":{},\"env\":[{\"name\":\"E\",\"valueFrom\":"
                       "{\"resourceFieldRef\":{\"resource\":\"limits.cpu\",\"divisor\":\"0\"}}}]}");
  json_decref (out);

  /* exitCode always, zero times null, startTime (a pointer) left out. */
  kd_container_status_t cs = { .name = (char *) "c" };
  cs.state.terminated = &term;
  st.container_statuses = &cs;
  st.n_container_statuses = 1;
  out = kd_encode (&kd_type_pod_status, &st);
  assert_json_eq (out, "{\"containerStatuses\":[{\"name\":\"c\",\"state\":{\"terminated\":"
                       "{\"exitCode\":0,\"startedAt\":null,\"finishedAt\":null}},"
                       "\"lastState\":{},\"ready\":false,\"restartCount\":0,\"image\":\"\","
                       "\"imageID\":\"\"}]}");
  json_decref (out);

  /* httpGet.port is a plain IntOrString: 0 when unset. */
  kd_http_get_action_t hg = { 0 };
  kd_probe_t p2 = { .handler.http_get = &hg };
  c.env = NULL;
  c.n_env = 0;
  c.readiness_probe = &p2;
  out = kd_encode (&kd_type_container, &c);
  assert_json_eq (out, "{\"name\":\"c\",\"resources\":{},"
                       "\"readinessProbe\":{\"httpGet\":{\"port\":0}}}");
  json_decref (out);
  kd_fe_free (&errs);
}

static void
test_resources_are_printed_canonical (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out, *res;

  decode_text ("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
               "\"limits\":{\"cpu\":0.5,\"memory\":\"1024Mi\"},\"requests\":{\"cpu\":\" 2 \"}}}]}}",
               &pod, &errs);
  assert_int_equal (errs.n, 0);
  /* The text is kept as written ... */
  assert_string_equal (pod.spec.containers[0].resources.limits.v[0].value, "0.5");
  assert_string_equal (pod.spec.containers[0].resources.requests.v[0].value, "2");
  /* ... and printed the way Kubernetes prints quantities. */
  out = kd_pod_to_json (&pod);
  res = json_object_get (
      json_array_get (json_object_get (json_object_get (out, "spec"), "containers"), 0),
      "resources");
  assert_json_eq (res, "{\"limits\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},"
                       "\"requests\":{\"cpu\":\"2\"}}");
  json_decref (out);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

/* ---- decoding rules ---------------------------------------------------- */

static void
test_type_errors_name_the_path_and_leave_the_field_unset (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };

  decode_text ("{\"metadata\":{\"name\":123,\"labels\":{\"a\":true,\"b\":\"ok\"}},"
               "\"spec\":{\"containers\":[{\"name\":\"c\","
               "\"ports\":[{\"containerPort\":\"80\"},{\"containerPort\":3000000000},"
               "{\"containerPort\":1.5},{\"containerPort\":8080.0}],"
               "\"stdin\":\"yes\",\"command\":\"ls\",\"args\":[\"a\",7],"
               "\"resources\":{\"limits\":{\"cpu\":\"lots\"}},"
               "\"livenessProbe\":{\"httpGet\":{\"port\":true}}},"
               "\"oops\"],"
               "\"hostNetwork\":1,\"volumes\":{},\"securityContext\":[],"
               "\"terminationGracePeriodSeconds\":\"30\"},"
               "\"status\":{\"startTime\":\"yesterday\"}}",
               &pod, &errs);

  assert_error (&errs, "metadata.name", "metadata.name: Invalid value: 123: must be a string");
  assert_null (pod.metadata.name);
  assert_error (&errs, "metadata.labels[a]",
                "metadata.labels[a]: Invalid value: true: must be a string");
  assert_int_equal (pod.metadata.labels.n, 1);
  assert_string_equal (pod.metadata.labels.v[0].key, "b");
  assert_error (&errs, "spec.containers[0].ports[0].containerPort",
                "spec.containers[0].ports[0].containerPort: Invalid value: \"80\": "
                "must be an integer");
  assert_error (&errs, "spec.containers[0].ports[1].containerPort",
                "spec.containers[0].ports[1].containerPort: Invalid value: 3000000000: "
                "must be a 32-bit integer");
  assert_error (&errs, "spec.containers[0].ports[2].containerPort",
                "spec.containers[0].ports[2].containerPort: Invalid value: 1.5: "
                "must be an integer");
  assert_null (error_for (&errs, "spec.containers[0].ports[3].containerPort"));
  assert_int_equal (pod.spec.containers[0].ports[3].container_port, 8080);
  assert_int_equal (pod.spec.containers[0].ports[1].container_port, 0);
  assert_error (&errs, "spec.containers[0].stdin",
                "spec.containers[0].stdin: Invalid value: \"yes\": must be a boolean");
  assert_error (&errs, "spec.containers[0].command",
                "spec.containers[0].command: Invalid value: \"ls\": must be a list");
  assert_error (&errs, "spec.containers[0].args[1]",
                "spec.containers[0].args[1]: Invalid value: 7: must be a string");
  assert_int_equal (pod.spec.containers[0].args.n, 2);
  assert_error (&errs, "spec.containers[0].resources.limits[cpu]",
                "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities "
                "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert_error (&errs, "spec.containers[0].livenessProbe.httpGet.port",
                "spec.containers[0].livenessProbe.httpGet.port: Invalid value: true: "
                "must be an integer or a string");
  /* A bad list item stays as a zero item, so later indexes still match. */
  assert_error (&errs, "spec.containers[1]",
                "spec.containers[1]: Invalid value: \"oops\": must be an object");
  assert_int_equal (pod.spec.n_containers, 2);
  assert_error (&errs, "spec.hostNetwork", "spec.hostNetwork: Invalid value: 1: must be a boolean");
  assert_error (&errs, "spec.volumes", "spec.volumes: Invalid value: {}: must be a list");
  assert_error (&errs, "spec.securityContext",
                "spec.securityContext: Invalid value: []: must be an object");
  assert_null (pod.spec.security_context);
  assert_error (&errs, "spec.terminationGracePeriodSeconds",
                "spec.terminationGracePeriodSeconds: Invalid value: \"30\": must be an integer");
  assert_false (pod.spec.termination_grace_period_seconds.set);
  assert_error (&errs, "status.startTime",
                "status.startTime: Invalid value: \"yesterday\": must be a time in RFC 3339 "
                "format");
  assert_int_equal (kd_fe_count_errors (&errs), errs.n);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_null_means_unset_for_any_field (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };

  decode_text ("{\"metadata\":null,\"spec\":{\"containers\":[{\"name\":null,\"image\":\"i\","
               "\"ports\":null,\"livenessProbe\":null,\"stdin\":null,\"command\":[null,\"x\"]},"
               "null],\"priority\":null,\"hostNetwork\":null,\"nodeSelector\":null}}",
               &pod, &errs);
  assert_int_equal (errs.n, 0);
  assert_int_equal (pod.spec.n_containers, 2);
  assert_null (pod.spec.containers[0].name);
  assert_string_equal (pod.spec.containers[0].image, "i");
  assert_null (pod.spec.containers[0].liveness_probe);
  assert_string_equal (pod.spec.containers[0].command.v[0], "");
  assert_false (pod.spec.priority.set);
  assert_null (pod.spec.containers[1].image);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_unknown_fields_are_warnings_with_the_full_path (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  char *m;

  decode_text ("{\"spec\":{\"foo\":1,\"containers\":[{\"name\":\"c\",\"bogus\":{},"
               "\"readinessProbe\":{\"sleep\":{\"seconds\":1}},"
               "\"lifecycle\":{\"preStop\":{\"grpc\":{\"port\":1}}}}]},"
               "\"metadata\":{\"Name\":\"x\"}}",
               &pod, &errs);
  assert_int_equal (kd_fe_count_errors (&errs), 0);
  assert_int_equal (errs.n, 5);
  for (size_t i = 0; i < errs.n; i++)
    assert_int_equal (errs.v[i].type, KD_FE_WARNING);
  m = kd_fe_format (&errs.v[0], "pod.yaml");
  assert_string_equal (m, "pod.yaml: warning: unknown field \"spec.foo\"");
  free (m);
  m = kd_fe_format (&errs.v[1], NULL);
  assert_string_equal (m, "warning: unknown field \"spec.containers[0].bogus\"");
  free (m);
  /* grpc is a probe handler, sleep a lifecycle handler only. */
  assert_string_equal (errs.v[2].detail,
                       "unknown field \"spec.containers[0].readinessProbe.sleep\"");
  assert_string_equal (errs.v[3].detail,
                       "unknown field \"spec.containers[0].lifecycle.preStop.grpc\"");
  /* Keys are case-sensitive. */
  assert_string_equal (errs.v[4].detail, "unknown field \"metadata.Name\"");
  assert_null (pod.metadata.name);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_refused_and_other_sources_are_recorded_not_warned (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };
  json_t *out;

  decode_text (
      "{\"spec\":{\"serviceAccount\":\"old\",\"volumes\":["
      "{\"name\":\"n\",\"nfs\":{\"server\":\"s\",\"path\":\"/\"}},"
      "{\"name\":\"s\",\"secret\":{\"secretName\":\"x\"}},"
      "{\"name\":\"c\",\"configMap\":{\"name\":\"x\"},\"csi\":{\"driver\":\"d\"}},"
      "{\"name\":\"p\",\"persistentVolumeClaim\":{\"claimName\":\"x\"}},"
      "{\"name\":\"j\",\"projected\":{\"sources\":[]}},"
      "{\"name\":\"z\",\"gitRepo\":null}],"
      "\"containers\":[{\"name\":\"c\",\"env\":["
      "{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"m\",\"key\":\"k\"}}},"
      "{\"name\":\"B\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"m\",\"key\":\"k\"}}}]}]}}",
      &pod, &errs);
  assert_int_equal (errs.n, 0);
  assert_true (pod.spec.volumes[0].other_source);
  assert_string_equal (pod.spec.volumes[0].other_source_name, "nfs");
  assert_true (pod.spec.volumes[1].secret);
  assert_true (pod.spec.volumes[2].config_map);
  assert_string_equal (pod.spec.volumes[2].other_source_name, "csi");
  assert_true (pod.spec.volumes[3].persistent_volume_claim);
  assert_true (pod.spec.volumes[4].projected);
  assert_false (pod.spec.volumes[5].other_source);
  assert_true (pod.spec.containers[0].env[0].value_from->config_map_key_ref);
  assert_true (pod.spec.containers[0].env[1].value_from->secret_key_ref);
  /* The deprecated serviceAccount fills serviceAccountName. */
  assert_string_equal (pod.spec.service_account_name, "old");

  /* None of these are ever printed. */
  out = kd_pod_to_json (&pod);
  assert_json_eq (json_array_get (json_object_get (json_object_get (out, "spec"), "volumes"), 0),
                  "{\"name\":\"n\"}");
  assert_json_eq (
      json_array_get (
          json_object_get (
              json_array_get (json_object_get (json_object_get (out, "spec"), "containers"), 0),
              "env"),
          0),
      "{\"name\":\"A\",\"valueFrom\":{}}");
  json_decref (out);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
}

static void
test_top_level_must_be_an_object (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };

  decode_text ("[1]", &pod, &errs);
  assert_error (&errs, "Pod", "Pod: Invalid value: [1]: must be an object");
  kd_fe_free (&errs);
}

/* A map node built by hand: JSON text cannot hold repeated keys. */
static kd_node_t *
map_node (kd_doc_t *doc, size_t n)
{
  kd_node_t *m = kd_doc_node (doc, KD_NODE_MAP, 1, 1);

  m->keys = kd_doc_alloc (doc, n * sizeof (kd_node_t *));
  m->items = kd_doc_alloc (doc, n * sizeof (kd_node_t *));
  return m;
}

static kd_node_t *
str_node (kd_doc_t *doc, const char *s, int line)
{
  kd_node_t *n = kd_doc_node (doc, KD_NODE_STRING, line, 3);

  n->text_len = strlen (s);
  n->text = kd_doc_strndup (doc, s, n->text_len);
  return n;
}

static void
map_put (kd_doc_t *doc, kd_node_t *m, const char *key, kd_node_t *value)
{
  m->keys[m->n] = str_node (doc, key, value->line);
  m->items[m->n++] = value;
}

static void
test_repeated_keys_keep_the_last_value (void **state)
{
  kd_doc_t *doc = kd_doc_new ();
  kd_node_t *root = map_node (doc, 2), *meta = map_node (doc, 4), *labels = map_node (doc, 4);
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };

  map_put (doc, labels, "b", str_node (doc, "1", 4));
  map_put (doc, labels, "a", str_node (doc, "2", 5));
  map_put (doc, labels, "b", str_node (doc, "3", 6));
  map_put (doc, labels, "c", kd_doc_node (doc, KD_NODE_INT, 7, 8));
  map_put (doc, meta, "name", str_node (doc, "first", 2));
  map_put (doc, meta, "labels", labels);
  map_put (doc, meta, "name", str_node (doc, "second", 8));
  map_put (doc, meta, "bogus", str_node (doc, "x", 9));
  map_put (doc, root, "metadata", meta);
  map_put (doc, root, "kind", kd_doc_node (doc, KD_NODE_BOOL, 10, 7));
  kd_doc_set_root (doc, root);

  kd_pod_decode (kd_doc_root (doc), &pod, &errs);
  assert_string_equal (pod.metadata.name, "second");
  assert_int_equal (pod.metadata.labels.n, 2);
  assert_string_equal (pod.metadata.labels.v[0].key, "b");
  assert_string_equal (pod.metadata.labels.v[0].value, "3");
  assert_string_equal (pod.metadata.labels.v[1].key, "a");
  /* Positions come from the nodes: the value for type errors, the key for
     unknown fields. */
  assert_int_equal (errs.n, 3);
  assert_string_equal (errs.v[0].field, "metadata.labels[c]");
  assert_int_equal (errs.v[0].line, 7);
  assert_int_equal (errs.v[0].col, 8);
  assert_int_equal (errs.v[1].type, KD_FE_WARNING);
  assert_int_equal (errs.v[1].line, 9);
  assert_int_equal (errs.v[1].col, 3);
  assert_string_equal (errs.v[2].field, "kind");
  assert_int_equal (errs.v[2].line, 10);
  kd_type_free (&kd_type_pod, &pod);
  kd_fe_free (&errs);
  kd_doc_free (doc);
}

/* ---- copy and free ----------------------------------------------------- */

static void
test_copy_equals_original_and_is_independent (void **state)
{
  kd_pod_t *pod = xcalloc (1, sizeof (kd_pod_t));
  kd_field_errors_t errs = { 0 };
  kd_pod_t *copy;
  json_t *a, *b;

  decode_text (full_pod_json, pod, &errs);
  copy = kd_pod_copy (pod);
  a = kd_pod_to_json (pod);
  assert_ptr_not_equal (copy->spec.containers, pod->spec.containers);
  assert_ptr_not_equal (copy->spec.containers[0].name, pod->spec.containers[0].name);
  /* Freed first: the copy must not share anything with it. */
  kd_pod_free (pod);
  b = kd_pod_to_json (copy);
  assert_true (json_equal (a, b));
  json_decref (a);
  json_decref (b);
  kd_pod_free (copy);
  kd_pod_free (NULL);
  kd_fe_free (&errs);
}

static void
test_free_zeroes_and_redecode_does_not_leak (void **state)
{
  kd_pod_t pod = { 0 };
  kd_field_errors_t errs = { 0 };

  decode_text (full_pod_json, &pod, &errs);
  /* Decoding again over a filled struct replaces the values. */
  decode_text (full_pod_json, &pod, &errs);
  assert_int_equal (pod.spec.n_containers, 2);
  kd_type_free (&kd_type_pod, &pod);
  assert_null (pod.spec.containers);
  assert_int_equal (pod.spec.n_containers, 0);
  assert_null (pod.metadata.name);
  kd_fe_free (&errs);
}

/* ---- the document tree ------------------------------------------------- */

static void
test_node_from_json_keeps_kinds_and_order (void **state)
{
  json_t *j = parse ("{\"z\":1,\"a\":1.5,\"m\":\"s\",\"b\":true,\"n\":null,\"l\":[0.1]}");
  kd_doc_t *doc = kd_node_from_json (j);
  const kd_node_t *root = kd_doc_root (doc);

  assert_int_equal (root->kind, KD_NODE_MAP);
  assert_int_equal (root->n, 6);
  assert_string_equal (root->keys[0]->text, "z");
  assert_string_equal (root->keys[5]->text, "l");
  assert_int_equal (kd_node_get (root, "z")->kind, KD_NODE_INT);
  assert_int_equal (kd_node_get (root, "z")->i, 1);
  assert_int_equal (kd_node_get (root, "a")->kind, KD_NODE_FLOAT);
  assert_string_equal (kd_node_get (root, "a")->text, "1.5");
  assert_string_equal (kd_node_get (root, "l")->items[0]->text, "0.1");
  assert_int_equal (kd_node_get (root, "m")->kind, KD_NODE_STRING);
  assert_int_equal (kd_node_get (root, "b")->kind, KD_NODE_BOOL);
  assert_true (kd_node_get (root, "b")->b);
  assert_int_equal (kd_node_get (root, "n")->kind, KD_NODE_NULL);
  assert_null (kd_node_get (root, "missing"));
  assert_null (kd_node_get (kd_node_get (root, "m"), "x"));
  assert_int_equal (root->line, 0);
  kd_doc_free (doc);
  json_decref (j);
}

static void
test_doc_arena_handles_large_and_many_allocations (void **state)
{
  kd_doc_t *doc = kd_doc_new ();
  char *big = kd_doc_alloc (doc, 100000);
  char *s;

  memset (big, 'x', 100000);
  for (int i = 0; i < 10000; i++)
    {
      kd_node_t *n = kd_doc_node (doc, KD_NODE_INT, i, 1);

      assert_int_equal ((uintptr_t) n % _Alignof(max_align_t), 0);
      assert_int_equal (n->line, i);
      assert_null (n->text);
    }
  s = kd_doc_strndup (doc, "hello world", 5);
  assert_string_equal (s, "hello");
  kd_doc_set_root (doc, kd_doc_node (doc, KD_NODE_NULL, 1, 1));
  assert_int_equal (kd_doc_root (doc)->kind, KD_NODE_NULL);
  kd_doc_free (doc);
  kd_doc_free (NULL);
}

static void
test_find_path_walks_lists_maps_and_keys_with_dots (void **state)
{
  json_t *j = parse ("{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"web\"},"
                     "\"annotations\":{\"x\":\"1\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"a\"},"
                     "{\"name\":\"b\",\"ports\":[{\"containerPort\":70000}]}]}}");
  kd_doc_t *doc = kd_node_from_json (j);
  const kd_node_t *root = kd_doc_root (doc);
  const kd_node_t *n;

  n = kd_node_find_path (root, "spec.containers[1].ports[0].containerPort");
  assert_int_equal (n->kind, KD_NODE_INT);
  assert_int_equal (n->i, 70000);
  n = kd_node_find_path (root, "metadata.labels[app.kubernetes.io/name]");
  assert_string_equal (n->text, "web");
  n = kd_node_find_path (root, "metadata.annotations[x]");
  assert_string_equal (n->text, "1");
  /* As deep as it goes. */
  n = kd_node_find_path (root, "spec.containers[1].image");
  assert_ptr_equal (n, kd_node_get (root, "spec")->items[0]->items[1]);
  n = kd_node_find_path (root, "spec.containers[9].name");
  assert_ptr_equal (n, kd_node_get (kd_node_get (root, "spec"), "containers"));
  assert_ptr_equal (kd_node_find_path (root, ""), root);
  assert_ptr_equal (kd_node_find_path (root, "nope"), root);
  /* Odd paths do not crash. */
  kd_node_find_path (root, "spec.containers[");
  kd_node_find_path (root, "spec.containers[-1]");
  kd_node_find_path (root, "spec.containers[x].name");
  kd_node_find_path (root, "spec..containers[0]]");
  kd_node_find_path (root, "[0][1].a.b[c]");
  kd_node_find_path (root, "spec.containers[99999999999999999999999]");
  assert_null (kd_node_find_path (NULL, "a.b"));
  kd_doc_free (doc);
  json_decref (j);
}

static void
test_fe_locate_fills_positions_from_the_tree (void **state)
{
  json_t *j
      = parse ("{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":0}]}]}}");
  kd_doc_t *doc = kd_node_from_json (j);
  const kd_node_t *root = kd_doc_root (doc);
  kd_node_t *port
      = (kd_node_t *) kd_node_find_path (root, "spec.containers[0].ports[0].containerPort");
  kd_node_t *containers = (kd_node_t *) kd_node_find_path (root, "spec.containers[0]");
  kd_field_errors_t errs = { 0 };
  char *m;

  port->line = 7;
  port->col = 24;
  containers->line = 3;
  containers->col = 3;
  kd_fe_add (&errs, KD_FE_INVALID, "spec.containers[0].ports[0].containerPort", "0",
             "must be between 1 and 65535, inclusive");
  kd_fe_add (&errs, KD_FE_REQUIRED, "spec.containers[0].image", NULL, NULL);
  kd_fe_add (&errs, KD_FE_FORBIDDEN, "spec.nodeName", NULL, "not here")->line = 99;
  kd_fe_locate (&errs, root);
  assert_int_equal (errs.v[0].line, 7);
  assert_int_equal (errs.v[0].col, 24);
  /* The deepest node that exists: the container. */
  assert_int_equal (errs.v[1].line, 3);
  /* Positions already known are kept. */
  assert_int_equal (errs.v[2].line, 99);
  m = kd_fe_format (&errs.v[0], "/etc/kubernetes/manifests/web.yaml");
  assert_string_equal (m, "/etc/kubernetes/manifests/web.yaml:7:24: "
                          "spec.containers[0].ports[0].containerPort: Invalid value: 0: "
                          "must be between 1 and 65535, inclusive");
  free (m);
  m = kd_fe_format (&errs.v[1], NULL);
  assert_string_equal (m, "3:3: spec.containers[0].image: Required value");
  free (m);
  kd_fe_free (&errs);
  kd_doc_free (doc);
  json_decref (j);
}

/* ---- field error formatting -------------------------------------------- */

static void
check_format (kd_fe_type_t type, const char *value, const char *detail, const char *want)
{
  kd_field_errors_t errs = { 0 };
  char *m;

  if (detail)
    kd_fe_add (&errs, type, "spec.x", value, "%s", detail);
  else
    kd_fe_add (&errs, type, "spec.x", value, NULL);
  m = kd_fe_format (&errs.v[0], NULL);
  assert_string_equal (m, want);
  free (m);
  kd_fe_free (&errs);
}

static void
test_fe_format_matches_field_error_strings (void **state)
{
  check_format (KD_FE_REQUIRED, "\"\"", NULL, "spec.x: Required value");
  check_format (KD_FE_REQUIRED, NULL, "must be set", "spec.x: Required value: must be set");
  check_format (KD_FE_INVALID, "\"a b\"", "bad", "spec.x: Invalid value: \"a b\": bad");
  check_format (KD_FE_INVALID, "null", "bad", "spec.x: Invalid value: null: bad");
  check_format (KD_FE_UNSUPPORTED, "\"Sometimes\"", "supported values: \"Always\", \"Never\"",
                "spec.x: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                "\"Never\"");
  check_format (KD_FE_NOT_SUPPORTED, "\"y\"", NULL, "spec.x: Unsupported value: \"y\"");
  check_format (KD_FE_DUPLICATE, "\"a\"", NULL, "spec.x: Duplicate value: \"a\"");
  check_format (KD_FE_FORBIDDEN, "\"v\"", "may not be set", "spec.x: Forbidden: may not be set");
  check_format (KD_FE_TOO_LONG, "\"vvv\"", "must have at most 2 bytes",
                "spec.x: Too long: must have at most 2 bytes");
  check_format (KD_FE_TOO_MANY, "5", "must have at most 4 items",
                "spec.x: Too many: 5: must have at most 4 items");
  check_format (KD_FE_TOO_MANY, NULL, "has too many items", "spec.x: Too many: has too many items");
  check_format (KD_FE_NOT_FOUND, "\"n\"", NULL, "spec.x: Not found: \"n\"");
  check_format (KD_FE_WARNING, NULL, "unknown field \"spec.x\"",
                "warning: unknown field \"spec.x\"");
}

static void
test_fe_format_prefix_depends_on_what_is_known (void **state)
{
  kd_field_error_t e = {
    .type = KD_FE_INVALID, .field = (char *) "f", .value = (char *) "1", .detail = (char *) "d"
  };
  char *m;

  m = kd_fe_format (&e, "a.yaml");
  assert_string_equal (m, "a.yaml: f: Invalid value: 1: d");
  free (m);
  e.line = 3;
  e.col = 5;
  m = kd_fe_format (&e, "a.yaml");
  assert_string_equal (m, "a.yaml:3:5: f: Invalid value: 1: d");
  free (m);
  e.type = KD_FE_WARNING;
  m = kd_fe_format (&e, "a.yaml");
  assert_string_equal (m, "a.yaml:3:5: warning: d");
  free (m);
  e.detail = (char *) "";
  e.type = KD_FE_INVALID;
  m = kd_fe_format (&e, NULL);
  assert_string_equal (m, "3:5: f: Invalid value: 1");
  free (m);
}

static void
test_fe_quote_and_int_render_like_go (void **state)
{
  char *q;

  q = kd_fe_quote ("foo");
  assert_string_equal (q, "\"foo\"");
  free (q);
  q = kd_fe_quote ("a\"b\\c\nd\te\x01\x7f");
  assert_string_equal (q, "\"a\\\"b\\\\c\\nd\\te\\x01\\x7f\"");
  free (q);
  q = kd_fe_quote ("caf\xc3\xa9 \xff");
  assert_string_equal (q, "\"caf\xc3\xa9 \\xff\"");
  free (q);
  q = kd_fe_quote ("");
  assert_string_equal (q, "\"\"");
  free (q);
  q = kd_fe_int (-70000);
  assert_string_equal (q, "-70000");
  free (q);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_full_pod_round_trips_every_field),
    cmocka_unit_test (test_encode_keeps_go_field_order),
    cmocka_unit_test (test_zero_values_are_omitted_and_required_ones_emitted),
    cmocka_unit_test (test_pointer_like_fields_follow_go_habits),
    cmocka_unit_test (test_resources_are_printed_canonical),
    cmocka_unit_test (test_type_errors_name_the_path_and_leave_the_field_unset),
    cmocka_unit_test (test_null_means_unset_for_any_field),
    cmocka_unit_test (test_unknown_fields_are_warnings_with_the_full_path),
    cmocka_unit_test (test_refused_and_other_sources_are_recorded_not_warned),
    cmocka_unit_test (test_top_level_must_be_an_object),
    cmocka_unit_test (test_repeated_keys_keep_the_last_value),
    cmocka_unit_test (test_copy_equals_original_and_is_independent),
    cmocka_unit_test (test_free_zeroes_and_redecode_does_not_leak),
    cmocka_unit_test (test_node_from_json_keeps_kinds_and_order),
    cmocka_unit_test (test_doc_arena_handles_large_and_many_allocations),
    cmocka_unit_test (test_find_path_walks_lists_maps_and_keys_with_dots),
    cmocka_unit_test (test_fe_locate_fills_positions_from_the_tree),
    cmocka_unit_test (test_fe_format_matches_field_error_strings),
    cmocka_unit_test (test_fe_format_prefix_depends_on_what_is_known),
    cmocka_unit_test (test_fe_quote_and_int_render_like_go),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
