/* api validation: Kubernetes' ValidatePodCreate messages and the static-pod
 * rules, checked as the exact "field: Type: value: detail" lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/api.h"

#define LABEL_MSG                                                                                  \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "     \
  "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "  \
  "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                              \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "     \
  "'.', "                                                                                          \
  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "     \
  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define NAME_PART_MSG                                                                              \
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "    \
  "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "   \
  "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                            \
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', " \
  "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "    \
  "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define RANGE_PORT "must be between 1 and 65535, inclusive"
#define RANGE_ID   "must be between 0 and 4294967295, inclusive"

/* ---- building pods ------------------------------------------------------- */

static char *
S (const char *s)
{
  return xstrdup (s);
}

static void
map_add (kd_strmap_t *m, const char *k, const char *v)
{
  m->v = xrealloc (m->v, (m->n + 1) * sizeof (*m->v));
  m->v[m->n].key = S (k);
  m->v[m->n].value = v ? S (v) : NULL;
  m->n++;
}

static void
strv_add (kd_strv_t *v, const char *s)
{
  v->v = xrealloc (v->v, (v->n + 1) * sizeof (char *));
  v->v[v->n++] = S (s);
}

#define ADD(arr, n)                                                                                \
  (arr = xrealloc (arr, ((n) + 1) * sizeof (*(arr))), memset (&(arr)[n], 0, sizeof (*(arr))),      \
   &(arr)[(n)++])

static kd_container_t *
add_container (kd_container_t **v, size_t *n, const char *name, const char *image)
{
  kd_container_t *c = ADD (*v, *n);

  c->name = name ? S (name) : NULL;
  c->image = image ? S (image) : NULL;
  c->termination_message_path = S ("/dev/termination-log");
  c->termination_message_policy = S ("File");
  c->image_pull_policy = S ("IfNotPresent");
  return c;
}

static kd_probe_t *
new_probe (void)
{
  kd_probe_t *p = xcalloc (1, sizeof (*p));

  p->timeout_seconds = 1;
  p->period_seconds = 10;
  p->success_threshold = 1;
  p->failure_threshold = 3;
  return p;
}

static kd_probe_t *
exec_probe (const char *cmd)
{
  kd_probe_t *p = new_probe ();

  p->handler.exec = xcalloc (1, sizeof (kd_exec_action_t));
  strv_add (&p->handler.exec->command, cmd);
  return p;
}

static kd_http_get_action_t *
http_get (const char *path, const char *port_name, int32_t port)
{
  kd_http_get_action_t *g = xcalloc (1, sizeof (*g));

  g->path = S (path);
  g->port.set = true;
  g->port.is_str = port_name != NULL;
  g->port.s = port_name ? S (port_name) : NULL;
  g->port.i = port;
  g->scheme = S ("HTTP");
  return g;
}

static kd_container_port_t *
add_port (kd_container_t *c, const char *name, int32_t port)
{
  kd_container_port_t *p = ADD (c->ports, c->n_ports);

  p->name = name ? S (name) : NULL;
  p->container_port = port;
  p->protocol = S ("TCP");
  return p;
}

static kd_env_var_t *
add_env (kd_container_t *c, const char *name, const char *value)
{
  kd_env_var_t *e = ADD (c->env, c->n_env);

  e->name = name ? S (name) : NULL;
  e->value = value ? S (value) : NULL;
  return e;
}

static kd_env_var_source_t *
field_ref (const char *path)
{
  kd_env_var_source_t *s = xcalloc (1, sizeof (*s));

  s->field_ref = xcalloc (1, sizeof (*s->field_ref));
  s->field_ref->api_version = S ("v1");
  s->field_ref->field_path = S (path);
  return s;
}

static kd_volume_mount_t *
add_mount (kd_container_t *c, const char *name, const char *path)
{
  kd_volume_mount_t *m = ADD (c->volume_mounts, c->n_volume_mounts);

  m->name = name ? S (name) : NULL;
  m->mount_path = path ? S (path) : NULL;
  return m;
}

static kd_volume_t *
add_volume (kd_pod_spec_t *spec, const char *name)
{
  kd_volume_t *v = ADD (spec->volumes, spec->n_volumes);

  v->name = name ? S (name) : NULL;
  return v;
}

/* A defaulted static pod that uses most of what kubeletd supports. */
static kd_pod_t *
valid_pod (void)
{
  kd_pod_t *pod = xcalloc (1, sizeof (*pod));
  kd_pod_spec_t *spec = &pod->spec;
  kd_container_t *c;
  kd_volume_t *v;
  kd_env_var_t *e;

  pod->api_version = S ("v1");
  pod->kind = S ("Pod");
  pod->metadata.name = S ("web-node1");
  pod->metadata.namespace_ = S ("default");
  pod->metadata.uid = S ("0123456789abcdef0123456789abcdef");
  map_add (&pod->metadata.labels, "app", "web");
  map_add (&pod->metadata.labels, "app.kubernetes.io/part-of", "shop");
  map_add (&pod->metadata.annotations, "kubernetes.io/config.source", "file");
  map_add (&pod->metadata.annotations, "kubernetes.io/config.hash",
           "0123456789abcdef0123456789abcdef");
  map_add (&pod->metadata.annotations, "Example.com/Owner", "team a");

  v = add_volume (spec, "data");
  v->empty_dir = xcalloc (1, sizeof (kd_empty_dir_t));
  v->empty_dir->size_limit = S ("1Gi");
  v = add_volume (spec, "logs");
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = S ("/var/log/web");
  v->host_path->type = S ("DirectoryOrCreate");
  v->host_path->type_set = true;
  v = add_volume (spec, "cache");
  v->empty_dir = xcalloc (1, sizeof (kd_empty_dir_t));
  v->empty_dir->medium = S ("Memory");

  c = add_container (&spec->init_containers, &spec->n_init_containers, "setup", "busybox:1.36");
  strv_add (&c->command, "sh");
  add_mount (c, "data", "/data");
  c = add_container (&spec->init_containers, &spec->n_init_containers, "proxy", "envoy:1.30");
  c->restart_policy = S ("Always");
  c->startup_probe = exec_probe ("true");
  c->readiness_probe = new_probe ();
  c->readiness_probe->handler.http_get = http_get ("/ready", NULL, 9901);
  add_port (c, "admin", 9901);

  c = add_container (&spec->containers, &spec->n_containers, "web", "nginx:1.25");
  add_port (c, "http", 80);
  add_port (c, "metrics", 9090)->host_port = 9090;
  add_env (c, "A", "b");
  add_env (c, "my.env-name", "x");
  e = add_env (c, "POD_NAME", NULL);
  e->value_from = field_ref ("metadata.name");
  e = add_env (c, "APP", NULL);
  e->value_from = field_ref ("metadata.labels['app']");
  e = add_env (c, "CPU", NULL);
  e->value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  e->value_from->resource_field_ref = xcalloc (1, sizeof (kd_resource_field_selector_t));
  e->value_from->resource_field_ref->resource = S ("limits.cpu");
  e->value_from->resource_field_ref->divisor = S ("1m");
  map_add (&c->resources.requests, "cpu", "100m");
  map_add (&c->resources.requests, "memory", "64Mi");
  map_add (&c->resources.limits, "cpu", "1");
  map_add (&c->resources.limits, "memory", "128Mi");
  add_mount (c, "data", "/usr/share/nginx/html")->read_only = true;
  add_mount (c, "logs", "/var/log/nginx")->sub_path = S ("web");
  add_mount (c, "cache", "/cache")->mount_propagation = S ("None");
  c->liveness_probe = new_probe ();
  c->liveness_probe->handler.http_get = http_get ("/healthz", "http", 0);
  c->liveness_probe->handler.http_get->http_headers = xcalloc (1, sizeof (kd_http_header_t));
  c->liveness_probe->handler.http_get->http_headers[0].name = S ("X-Probe");
  c->liveness_probe->handler.http_get->http_headers[0].value = S ("1");
  c->liveness_probe->handler.http_get->n_http_headers = 1;
  c->liveness_probe->termination_grace_period_seconds = (kd_opt_i64_t){ true, 5 };
  c->readiness_probe = new_probe ();
  c->readiness_probe->handler.tcp_socket = xcalloc (1, sizeof (kd_tcp_socket_action_t));
  c->readiness_probe->handler.tcp_socket->port = (kd_intstr_t){ true, false, 80, NULL };
  c->startup_probe = new_probe ();
  c->startup_probe->handler.grpc = xcalloc (1, sizeof (kd_grpc_action_t));
  c->startup_probe->handler.grpc->port = 9090;
  c->lifecycle = xcalloc (1, sizeof (kd_lifecycle_t));
  c->lifecycle->pre_stop = xcalloc (1, sizeof (kd_handler_t));
  c->lifecycle->pre_stop->sleep = xcalloc (1, sizeof (kd_sleep_action_t));
  c->lifecycle->pre_stop->sleep->seconds = 5;
  c->security_context = xcalloc (1, sizeof (kd_security_context_t));
  c->security_context->allow_privilege_escalation = (kd_opt_bool_t){ true, false };
  c->security_context->run_as_user = (kd_opt_i64_t){ true, 1000 };
  c->security_context->run_as_group = (kd_opt_i64_t){ true, 1000 };
  c->security_context->capabilities = xcalloc (1, sizeof (kd_capabilities_t));
  strv_add (&c->security_context->capabilities->drop, "ALL");
  strv_add (&c->security_context->capabilities->add, "NET_BIND_SERVICE");
  c->security_context->seccomp_profile = xcalloc (1, sizeof (kd_seccomp_profile_t));
  c->security_context->seccomp_profile->type = S ("RuntimeDefault");

  spec->restart_policy = S ("Always");
  spec->termination_grace_period_seconds = (kd_opt_i64_t){ true, 30 };
  spec->active_deadline_seconds = (kd_opt_i64_t){ true, 3600 };
  spec->dns_policy = S ("ClusterFirst");
  spec->node_name = S ("node1");
  spec->hostname = S ("web");
  spec->subdomain = S ("shop");
  spec->scheduler_name = S ("default-scheduler");
  spec->preemption_policy = S ("PreemptLowerPriority");
  spec->enable_service_links = (kd_opt_bool_t){ true, true };
  map_add (&spec->node_selector, "kubernetes.io/os", "linux");
  spec->security_context = xcalloc (1, sizeof (kd_pod_security_context_t));
  spec->security_context->fs_group = (kd_opt_i64_t){ true, 2000 };
  spec->security_context->supplemental_groups.v = xcalloc (1, sizeof (int64_t));
  spec->security_context->supplemental_groups.v[0] = 3000;
  spec->security_context->supplemental_groups.n = 1;
  spec->security_context->fs_group_change_policy = S ("OnRootMismatch");
  spec->security_context->sysctls = xcalloc (1, sizeof (kd_sysctl_t));
  spec->security_context->sysctls[0].name = S ("net.ipv4.ip_unprivileged_port_start");
  spec->security_context->sysctls[0].value = S ("0");
  spec->security_context->n_sysctls = 1;
  spec->security_context->seccomp_profile = xcalloc (1, sizeof (kd_seccomp_profile_t));
  spec->security_context->seccomp_profile->type = S ("Localhost");
  spec->security_context->seccomp_profile->localhost_profile = S ("profiles/web.json");
  ADD (spec->tolerations, spec->n_tolerations)->operator_ = S ("Exists");
  spec->tolerations[0].effect = S ("NoExecute");
  ADD (spec->tolerations, spec->n_tolerations)->key = S ("dedicated");
  spec->tolerations[1].operator_ = S ("Equal");
  spec->tolerations[1].value = S ("web");
  spec->tolerations[1].effect = S ("NoSchedule");
  ADD (spec->host_aliases, spec->n_host_aliases)->ip = S ("10.0.0.5");
  strv_add (&spec->host_aliases[0].hostnames, "db.local");
  ADD (spec->host_aliases, spec->n_host_aliases)->ip = S ("fd00::5");
  strv_add (&spec->host_aliases[1].hostnames, "cache");
  spec->dns_config = xcalloc (1, sizeof (kd_dns_config_t));
  strv_add (&spec->dns_config->nameservers, "1.1.1.1");
  strv_add (&spec->dns_config->searches, "svc.cluster.local.");
  strv_add (&spec->dns_config->searches, "_srv.example.com");
  strv_add (&spec->dns_config->searches, ".");
  ADD (spec->dns_config->options, spec->dns_config->n_options)->name = S ("ndots");
  spec->dns_config->options[0].value = S ("2");
  return pod;
}

/* ---- checking ------------------------------------------------------------------ */

/* Validates the pod and asserts that its errors (warnings aside) are exactly
   the NULL-terminated lines given, in order. Frees the pod. */
static void
expect_errors (kd_pod_t *pod, ...)
{
  kd_field_errors_t errs = { 0 };
  const char *want[64];
  size_t n_want = 0, n_got = 0;
  bool ok = true;
  va_list ap;

  va_start (ap, pod);
  for (const char *s; (s = va_arg (ap, const char *)) != NULL;)
    want[n_want++] = s;
  va_end (ap);

  kd_pod_validate (pod, &errs);
  for (size_t i = 0; i < errs.n; i++)
    {
      cleanup_free char *line = NULL;

      if (errs.v[i].type == KD_FE_WARNING)
        continue;
      line = kd_fe_format (&errs.v[i], NULL);
      if (n_got >= n_want || strcmp (line, want[n_got]) != 0)
        {
          print_error ("error %zu:\n  got:  %s\n  want: %s\n", n_got, line,
                       n_got < n_want ? want[n_got] : "(nothing)");
          ok = false;
        }
      n_got++;
    }
  if (n_got < n_want)
    {
      print_error ("missing: %s\n", want[n_got]);
      ok = false;
    }
  kd_fe_free (&errs);
  kd_pod_free (pod);
  assert_true (ok);
}

/* ---- tests ------------------------------------------------------------------------ */

static void
test_valid_full_pod_has_no_errors (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_field_errors_t errs = { 0 };

  /* Defaulting an already complete pod must not make it invalid. */
  kd_pod_set_defaults (pod);
  kd_pod_validate (pod, &errs);
  for (size_t i = 0; i < errs.n; i++)
    {
      cleanup_free char *line = kd_fe_format (&errs.v[i], NULL);
      print_error ("unexpected: %s\n", line);
    }
  assert_int_equal (errs.n, 0);
  kd_fe_free (&errs);
  kd_pod_free (pod);
}

static void
test_metadata_name_namespace_labels_annotations (void **state)
{
  kd_pod_t *pod = valid_pod ();
  char long_value[65];
  cleanup_free char *long_label = NULL;
  cleanup_free char *huge = xmalloc (256 * 1024 + 1);

  memset (long_value, 'a', 64);
  long_value[64] = '\0';
  memset (huge, 'x', 256 * 1024);
  huge[256 * 1024] = '\0';
  free (pod->metadata.name);
  pod->metadata.name = S ("Web_1");
  free (pod->metadata.namespace_);
  pod->metadata.namespace_ = S ("my.ns");
  map_add (&pod->metadata.labels, "bad key", "-web");
  map_add (&pod->metadata.labels, "long", long_value);
  map_add (&pod->metadata.annotations, "/x", "y");
  map_add (&pod->metadata.annotations, "big", huge);
  long_label = xasprintf ("metadata.labels: Invalid value: \"%s\": must be no more than 63 "
                          "characters",
                          long_value);
  expect_errors (pod, "metadata.name: Invalid value: \"Web_1\": " SUBDOMAIN_MSG,
                 "metadata.namespace: Invalid value: \"my.ns\": must not contain dots",
                 "metadata.labels: Invalid value: \"bad key\": " NAME_PART_MSG,
                 "metadata.labels: Invalid value: \"-web\": " LABEL_VALUE_MSG, long_label,
                 "metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty",
                 "metadata.annotations: Too long: must have at most 262144 bytes", NULL);

  pod = valid_pod ();
  free (pod->metadata.name);
  pod->metadata.name = NULL;
  free (pod->metadata.namespace_);
  pod->metadata.namespace_ = NULL;
  expect_errors (pod, "metadata.name: Required value: name or generateName is required",
                 "metadata.namespace: Required value", NULL);
}

static void
test_containers_required_unique_and_named (void **state)
{
  kd_pod_t *pod = valid_pod ();

  /* No app container at all. */
  for (size_t i = 0; i < pod->spec.n_containers; i++)
    kd_type_free (&kd_type_container, &pod->spec.containers[i]);
  pod->spec.n_containers = 0;
  expect_errors (pod, "spec.containers: Required value", NULL);

  pod = valid_pod ();
  add_container (&pod->spec.containers, &pod->spec.n_containers, "web", "nginx");
  add_container (&pod->spec.containers, &pod->spec.n_containers, "Side_car", "nginx");
  free (pod->spec.init_containers[1].name);
  pod->spec.init_containers[1].name = S ("web");
  expect_errors (pod, "spec.containers[1].name: Duplicate value: \"web\"",
                 "spec.containers[2].name: Invalid value: \"Side_car\": " LABEL_MSG,
                 "spec.initContainers[1].name: Duplicate value: \"web\"", NULL);
}

static void
test_image_and_enum_fields (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  free (c->image);
  c->image = NULL;
  free (c->image_pull_policy);
  c->image_pull_policy = S ("Sometimes");
  free (c->termination_message_policy);
  c->termination_message_policy = S ("Log");
  free (c->ports[0].protocol);
  c->ports[0].protocol = S ("ICMP");
  free (pod->spec.restart_policy);
  pod->spec.restart_policy = S ("Sometimes");
  free (pod->spec.dns_policy);
  pod->spec.dns_policy = S ("Cluster");
  free (pod->spec.init_containers[0].image);
  pod->spec.init_containers[0].image = S ("busybox ");
  expect_errors (
      pod, "spec.containers[0].image: Required value",
      "spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": supported values: "
      "\"File\", \"FallbackToLogsOnError\"",
      "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: "
      "\"SCTP\", \"TCP\", \"UDP\"",
      "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
      "\"Always\", \"IfNotPresent\", \"Never\"",
      "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
      "\"OnFailure\", \"Never\"",
      "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: "
      "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
      "spec.initContainers[0].image: Invalid value: \"busybox \": must not have leading or "
      "trailing whitespace",
      NULL);
}

static void
test_ports_range_names_and_host_network (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  c->ports[0].container_port = 70000;
  c->ports[1].host_port = -1;
  add_port (c, "HTTP", 0);
  add_port (c, "http", 81);
  add_port (c, "-very-long-port-name", 82);
  expect_errors (
      pod, "spec.containers[0].ports[0].containerPort: Invalid value: 70000: " RANGE_PORT,
      "spec.containers[0].ports[1].hostPort: Invalid value: -1: " RANGE_PORT,
      "spec.containers[0].ports[2].name: Invalid value: \"HTTP\": must contain only "
      "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "spec.containers[0].ports[2].name: Invalid value: \"HTTP\": must contain at least one "
      "letter (a-z)",
      "spec.containers[0].ports[2].containerPort: Required value",
      "spec.containers[0].ports[3].name: Duplicate value: \"http\"",
      "spec.containers[0].ports[4].name: Invalid value: \"-very-long-port-name\": must be no "
      "more than 15 characters",
      "spec.containers[0].ports[4].name: Invalid value: \"-very-long-port-name\": must not begin "
      "or end with a hyphen",
      NULL);

  pod = valid_pod ();
  pod->spec.host_network = true;
  c = add_container (&pod->spec.containers, &pod->spec.n_containers, "other", "nginx");
  add_port (c, NULL, 9090)->host_port = 9090;
  expect_errors (pod, "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//9090\"",
                 "spec.containers[0].ports[0].hostPort: Invalid value: 0: must match "
                 "`containerPort` when `hostNetwork` is true",
                 "spec.securityContext.sysctls[0].name: Invalid value: "
                 "\"net.ipv4.ip_unprivileged_port_start\": may not be specified when "
                 "'hostNetwork' is true",
                 NULL);
}

static void
test_env_names_and_sources (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];
  kd_env_var_t *e;

  add_env (c, "A=B", "x");      /* env[5] */
  add_env (c, NULL, "x");       /* env[6] */
  e = add_env (c, "BOTH", "x"); /* env[7] */
  e->value_from = field_ref ("metadata.name");
  e = add_env (c, "NONE", NULL); /* env[8] */
  e->value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  e = add_env (c, "BAD_PATH", NULL); /* env[9] */
  e->value_from = field_ref ("spec.foo");
  e = add_env (c, "PHASE", NULL); /* env[10] */
  e->value_from = field_ref ("status.phase");
  e = add_env (c, "TWO", NULL); /* env[11] */
  e->value_from = field_ref ("metadata.uid");
  e->value_from->resource_field_ref = xcalloc (1, sizeof (kd_resource_field_selector_t));
  e->value_from->resource_field_ref->resource = S ("limits.gpu");
  e->value_from->resource_field_ref->divisor = S ("2");
  e = add_env (c, "DIV", NULL); /* env[12] */
  e->value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  e->value_from->resource_field_ref = xcalloc (1, sizeof (kd_resource_field_selector_t));
  e->value_from->resource_field_ref->resource = S ("requests.cpu");
  e->value_from->resource_field_ref->divisor = S ("2");
  expect_errors (
      pod,
      "spec.containers[0].env[5].name: Invalid value: \"A=B\": a valid environment variable name "
      "must consist only of printable ASCII characters other than '='",
      "spec.containers[0].env[6].name: Required value",
      "spec.containers[0].env[7].valueFrom: Invalid value: \"\": may not be specified when "
      "`value` is not empty",
      "spec.containers[0].env[8].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, "
      "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
      "spec.containers[0].env[9].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.foo\": error "
      "converting fieldPath: field label not supported: spec.foo",
      "spec.containers[0].env[10].valueFrom.fieldRef.fieldPath: Unsupported value: "
      "\"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", "
      "\"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", "
      "\"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
      "spec.containers[0].env[11].valueFrom.resourceFieldRef.resource: Unsupported value: "
      "\"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", "
      "\"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\"",
      "spec.containers[0].env[11].valueFrom: Invalid value: \"\": may not have more than one "
      "field specified at a time",
      "spec.containers[0].env[12].valueFrom.resourceFieldRef.divisor: Invalid value: "
      "\"requests.cpu\": only divisor's values 1m and 1 are supported with the cpu resource",
      NULL);
}

static void
test_resources_quantities_and_limits (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_resource_requirements_t *r = &pod->spec.containers[0].resources;

  free (r->requests.v[0].value);
  r->requests.v[0].value = S ("2");
  free (r->limits.v[1].value);
  r->limits.v[1].value = S ("-1");
  map_add (&r->limits, "storage-ish", "abc");
  map_add (&r->requests, "example.com/gpu", "500m");
  expect_errors (
      pod,
      "spec.containers[0].resources.limits[memory]: Invalid value: \"-1\": must be greater than "
      "or equal to 0",
      "spec.containers[0].resources.limits[storage-ish]: Invalid value: storage-ish: must be "
      "a standard resource type or fully qualified",
      "spec.containers[0].resources.limits[storage-ish]: Invalid value: storage-ish: must be "
      "a standard resource for containers",
      "spec.containers[0].resources.limits[storage-ish]: Invalid value: \"abc\": quantities must "
      "match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal "
      "to cpu limit of 1",
      "spec.containers[0].resources.requests: Invalid value: \"64Mi\": must be less than or "
      "equal to memory limit of -1",
      "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: 500m: must be an "
      "integer",
      "spec.containers[0].resources.limits: Required value: Limit must be set for non "
      "overcommitable resources",
      NULL);
}

static void
test_volume_mounts_match_volumes (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  add_mount (c, "missing", "/m");                            /* [3] */
  add_mount (c, "data", NULL);                               /* [4] */
  add_mount (c, "data", "/cache");                           /* [5] */
  add_mount (c, "data", "/x")->sub_path = S ("a/../../etc"); /* [6] */
  add_mount (c, "data", "/y")->sub_path = S ("/abs");        /* [7] */
  add_mount (c, "data", "/z")->mount_propagation = S ("Bidirectional");
  expect_errors (pod, "spec.containers[0].volumeMounts[3].name: Not found: \"missing\"",
                 "spec.containers[0].volumeMounts[4].mountPath: Required value",
                 "spec.containers[0].volumeMounts[5].mountPath: Invalid value: \"/cache\": must "
                 "be unique",
                 "spec.containers[0].volumeMounts.subPath: Invalid value: \"a/../../etc\": must "
                 "not contain '..'",
                 "spec.containers[0].volumeMounts.subPath: Invalid value: \"/abs\": must be a "
                 "relative path",
                 "spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional "
                 "mount propagation is available only to privileged containers",
                 NULL);
}

static void
test_probes_handlers_and_thresholds (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  /* liveness: no handler, successThreshold 2, negative period. */
  kd_type_free (&kd_type_container, c); /* rebuild the container from scratch */
  memset (c, 0, sizeof (*c));
  c->name = S ("web");
  c->image = S ("nginx");
  c->termination_message_policy = S ("File");
  c->image_pull_policy = S ("Always");
  add_port (c, "http", 80);
  c->liveness_probe = new_probe ();
  c->liveness_probe->success_threshold = 2;
  c->liveness_probe->period_seconds = -1;
  c->readiness_probe = exec_probe ("true");
  c->readiness_probe->handler.http_get = http_get ("/", "HTTP_PORT", 0);
  c->readiness_probe->termination_grace_period_seconds = (kd_opt_i64_t){ true, 10 };
  c->startup_probe = new_probe ();
  c->startup_probe->handler.http_get = http_get ("/", NULL, 0);
  free (c->startup_probe->handler.http_get->scheme);
  c->startup_probe->handler.http_get->scheme = S ("FTP");
  c->startup_probe->termination_grace_period_seconds = (kd_opt_i64_t){ true, 0 };
  expect_errors (
      pod, "spec.containers[0].livenessProbe: Required value: must specify a handler type",
      "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or "
      "equal to 0",
      "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
      "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler "
      "type",
      "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must "
      "not be set for readinessProbes",
      "spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: " RANGE_PORT,
      "spec.containers[0].startupProbe.httpGet.scheme: Unsupported value: \"FTP\": supported "
      "values: \"HTTP\", \"HTTPS\"",
      "spec.containers[0].startupProbe.terminationGracePeriodSeconds: Invalid value: 0: must be "
      "greater than 0",
      NULL);

  pod = valid_pod ();
  c = &pod->spec.containers[0];
  free (c->liveness_probe->handler.http_get->port.s);
  c->liveness_probe->handler.http_get->port.s = S ("HTTP_PORT");
  c->startup_probe->handler.grpc->port = 0;
  free (c->liveness_probe->handler.http_get->http_headers[0].name);
  c->liveness_probe->handler.http_get->http_headers[0].name = S ("X Probe");
  expect_errors (
      pod,
      "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"HTTP_PORT\": must contain "
      "only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"HTTP_PORT\": must contain "
      "at least one letter (a-z)",
      "spec.containers[0].livenessProbe.httpGet.httpHeaders: Invalid value: \"X Probe\": a valid "
      "HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex "
      "used for validation is '[-A-Za-z0-9]+')",
      "spec.containers[0].startupProbe.grpc.port: Invalid value: 0: " RANGE_PORT, NULL);
}

static void
test_lifecycle_handlers_and_sleep (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  c->lifecycle->pre_stop->sleep->seconds = 40;
  c->lifecycle->post_start = xcalloc (1, sizeof (kd_handler_t));
  expect_errors (pod,
                 "spec.containers[0].lifecycle.postStart: Required value: must specify a handler "
                 "type",
                 "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 40: must be "
                 "non-negative and less than terminationGracePeriodSeconds (30)",
                 NULL);
}

static void
test_init_containers_probes_and_restart_policy (void **state)
{
  kd_pod_t *pod = valid_pod ();

  pod->spec.init_containers[0].readiness_probe = exec_probe ("true");
  pod->spec.init_containers[0].lifecycle = xcalloc (1, sizeof (kd_lifecycle_t));
  free (pod->spec.init_containers[1].restart_policy);
  pod->spec.init_containers[1].restart_policy = S ("OnFailure");
  pod->spec.containers[0].restart_policy = S ("Always");
  expect_errors (
      pod, "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
      "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without "
      "restartPolicy=Always",
      "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers "
      "without restartPolicy=Always",
      "spec.initContainers[1].restartPolicy: Unsupported value: \"OnFailure\": supported values: "
      "\"Always\"",
      "spec.initContainers[1].readinessProbe: Forbidden: may not be set for init containers "
      "without restartPolicy=Always",
      "spec.initContainers[1].startupProbe: Forbidden: may not be set for init containers "
      "without restartPolicy=Always",
      NULL);
}

static void
test_volumes_names_sources_and_types (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_volume_t *v;

  free (pod->spec.volumes[1].host_path->path);
  pod->spec.volumes[1].host_path->path = S ("");
  free (pod->spec.volumes[2].empty_dir->medium);
  pod->spec.volumes[2].empty_dir->medium = S ("HugePages");
  pod->spec.volumes[2].empty_dir->size_limit = S ("-1Gi");
  add_volume (&pod->spec, "Data");
  v = add_volume (&pod->spec, "data");
  v->empty_dir = xcalloc (1, sizeof (kd_empty_dir_t));
  v = add_volume (&pod->spec, "rootfs");
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = S ("/");
  v->host_path->type = S ("Dir");
  v->host_path->type_set = true;
  v = add_volume (&pod->spec, "both");
  v->empty_dir = xcalloc (1, sizeof (kd_empty_dir_t));
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = S ("/srv");
  expect_errors (
      pod, "spec.volumes[1].hostPath.path: Required value",
      "spec.volumes[2].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource "
      "quantity",
      "spec.volumes[2].emptyDir.medium: Unsupported value: \"HugePages\": supported values: \"\", "
      "\"Memory\"",
      "spec.volumes[3]: Required value: must specify a volume type",
      "spec.volumes[3].name: Invalid value: \"Data\": " LABEL_MSG,
      "spec.volumes[4].name: Duplicate value: \"data\"",
      "spec.volumes[5].hostPath.type: Unsupported value: \"Dir\": supported values: \"\", "
      "\"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", "
      "\"FileOrCreate\", \"Socket\"",
      "spec.volumes[6].hostPath: Forbidden: may not specify more than 1 volume type",
      /* Volumes that failed validation cannot be mounted. */
      "spec.containers[0].volumeMounts[1].name: Not found: \"logs\"",
      "spec.containers[0].volumeMounts[2].name: Not found: \"cache\"", NULL);
}

static void
test_spec_scalars_hostname_deadline_grace (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_field_errors_t errs = { 0 };

  pod->spec.active_deadline_seconds.v = 0;
  free (pod->spec.hostname);
  pod->spec.hostname = S ("Web");
  free (pod->spec.subdomain);
  pod->spec.subdomain = S ("a.b");
  pod->spec.termination_grace_period_seconds.set = false;
  free (pod->spec.priority_class_name);
  pod->spec.priority_class_name = S ("High");
  free (pod->spec.preemption_policy);
  pod->spec.preemption_policy = S ("Always");
  expect_errors (pod, "spec.terminationGracePeriodSeconds: Required value",
                 "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
                 "inclusive",
                 "spec.hostname: Invalid value: \"Web\": " LABEL_MSG,
                 "spec.subdomain: Invalid value: \"a.b\": must not contain dots",
                 "spec.priorityClassName: Invalid value: \"High\": " SUBDOMAIN_MSG,
                 "spec.preemptionPolicy: Unsupported value: \"Always\": supported values: "
                 "\"PreemptLowerPriority\", \"Never\"",
                 NULL);

  /* A negative grace period is a warning in Kubernetes, not an error. */
  pod = valid_pod ();
  pod->spec.termination_grace_period_seconds.v = -1;
  /* Any sleep hook would exceed a negative grace period: drop it. */
  free (pod->spec.containers[0].lifecycle->pre_stop->sleep);
  free (pod->spec.containers[0].lifecycle->pre_stop);
  free (pod->spec.containers[0].lifecycle);
  pod->spec.containers[0].lifecycle = NULL;
  kd_pod_validate (pod, &errs);
  assert_int_equal (kd_fe_count_errors (&errs), 0);
  assert_int_equal (errs.n, 1);
  assert_int_equal (errs.v[0].type, KD_FE_WARNING);
  assert_string_equal (errs.v[0].field, "spec.terminationGracePeriodSeconds");
  assert_string_equal (errs.v[0].detail, "spec.terminationGracePeriodSeconds: must be >= 0; "
                                         "negative values are invalid and will be treated as 1");
  kd_fe_free (&errs);
  kd_pod_free (pod);
}

static void
test_dns_policy_none_and_config_limits (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_dns_config_t *dc;

  free (pod->spec.dns_policy);
  pod->spec.dns_policy = S ("None");
  dc = pod->spec.dns_config;
  pod->spec.dns_config = NULL;
  expect_errors (
      pod, "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
      NULL);
  for (size_t i = 0; i < dc->nameservers.n; i++)
    free (dc->nameservers.v[i]);
  free (dc->nameservers.v);
  for (size_t i = 0; i < dc->searches.n; i++)
    free (dc->searches.v[i]);
  free (dc->searches.v);
  free (dc->options[0].name);
  free (dc->options[0].value);
  free (dc->options);
  free (dc);

  pod = valid_pod ();
  free (pod->spec.dns_policy);
  pod->spec.dns_policy = S ("None");
  dc = pod->spec.dns_config;
  for (size_t i = 0; i < dc->nameservers.n; i++)
    free (dc->nameservers.v[i]);
  dc->nameservers.n = 0;
  expect_errors (pod,
                 "spec.dnsConfig.nameservers: Required value: must provide at least one DNS "
                 "nameserver when `dnsPolicy` is None",
                 NULL);

  pod = valid_pod ();
  dc = pod->spec.dns_config;
  strv_add (&dc->nameservers, "8.8.8.8");
  strv_add (&dc->nameservers, "010.0.0.1");
  strv_add (&dc->nameservers, "1.2.3");
  strv_add (&dc->searches, "Bad_Domain.");
  free (dc->options[0].name);
  dc->options[0].name = NULL;
  expect_errors (
      pod,
      "spec.dnsConfig.nameservers: Invalid value: []string{\"1.1.1.1\", \"8.8.8.8\", "
      "\"010.0.0.1\", \"1.2.3\"}: must not have more than 3 nameservers",
      "spec.dnsConfig.nameservers[3]: Invalid value: \"1.2.3\": must be a valid IP address, (e.g. "
      "10.9.8.7 or 2001:db8::ffff)",
      "spec.dnsConfig.searches[3]: Invalid value: \"Bad_Domain\": a lowercase RFC 1123 subdomain "
      "must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and "
      "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
      "'_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')",
      "spec.dnsConfig.options[0]: Required value: must not be empty", NULL);
}

static void
test_host_aliases_ip_and_hostnames (void **state)
{
  kd_pod_t *pod = valid_pod ();

  free (pod->spec.host_aliases[0].ip);
  pod->spec.host_aliases[0].ip = S ("not-an-ip");
  strv_add (&pod->spec.host_aliases[1].hostnames, "Cache_1");
  expect_errors (pod,
                 "spec.hostAliases[0].ip: Invalid value: \"not-an-ip\": must be a valid IP "
                 "address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                 "spec.hostAliases[1].hostnames[1]: Invalid value: \"Cache_1\": " SUBDOMAIN_MSG,
                 NULL);
}

static void
test_security_contexts (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_pod_security_context_t *psc = pod->spec.security_context;
  kd_security_context_t *sc = pod->spec.containers[0].security_context;

  psc->run_as_user = (kd_opt_i64_t){ true, -1 };
  psc->supplemental_groups.v[0] = 4294967296LL;
  psc->sysctls = xrealloc (psc->sysctls, 3 * sizeof (kd_sysctl_t));
  psc->sysctls[1] = (kd_sysctl_t){ S ("Kernel.Foo"), S ("1") };
  psc->sysctls[2] = (kd_sysctl_t){ S ("net.ipv4.ip_unprivileged_port_start"), S ("1") };
  psc->n_sysctls = 3;
  free (psc->fs_group_change_policy);
  psc->fs_group_change_policy = S ("Never");
  free (psc->seccomp_profile->localhost_profile);
  psc->seccomp_profile->localhost_profile = NULL;
  pod->spec.host_network = true;
  pod->spec.containers[0].ports[0].host_port = 80;
  pod->spec.share_process_namespace = (kd_opt_bool_t){ true, true };
  pod->spec.host_pid = true;
  sc->privileged = (kd_opt_bool_t){ true, true };
  strv_add (&sc->capabilities->add, "CAP_SYS_ADMIN");
  sc->run_as_group = (kd_opt_i64_t){ true, -5 };
  free (sc->seccomp_profile->type);
  sc->seccomp_profile->type = S ("Custom");
  sc->proc_mount = S ("Unmasked");
  expect_errors (
      pod, "spec.containers[0].securityContext.runAsGroup: Invalid value: -5: " RANGE_ID,
      "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` "
      "must be false to use `Unmasked`",
      "spec.containers[0].securityContext.seccompProfile.type: Unsupported value: \"Custom\": "
      "supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
      "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` "
      "to false and `privileged` to true",
      "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` "
      "to false and `capabilities.Add` CAP_SYS_ADMIN",
      "spec.securityContext.runAsUser: Invalid value: -1: " RANGE_ID,
      "spec.securityContext.supplementalGroups[0]: Invalid value: 4294967296: " RANGE_ID,
      "spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and "
      "HostPID cannot both be enabled",
      "spec.securityContext.sysctls[0].name: Invalid value: "
      "\"net.ipv4.ip_unprivileged_port_start\": may not be specified when 'hostNetwork' is true",
      "spec.securityContext.sysctls[1].name: Invalid value: \"Kernel.Foo\": must have at most 253 "
      "characters and match regex "
      "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
      "spec.securityContext.sysctls[2].name: Duplicate value: "
      "\"net.ipv4.ip_unprivileged_port_start\"",
      "spec.securityContext.sysctls[2].name: Invalid value: "
      "\"net.ipv4.ip_unprivileged_port_start\": may not be specified when 'hostNetwork' is true",
      "spec.securityContext.fsGroupChangePolicy: Unsupported value: \"Never\": supported values: "
      "\"Always\", \"OnRootMismatch\"",
      "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when "
      "seccomp type is Localhost",
      NULL);
}

static void
test_tolerations_operator_and_effect (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_toleration_t *t;

  t = ADD (pod->spec.tolerations, pod->spec.n_tolerations); /* [2] */
  t->key = S ("k");
  t->operator_ = S ("In");
  t->effect = S ("NoRun");
  t = ADD (pod->spec.tolerations, pod->spec.n_tolerations); /* [3] */
  t->operator_ = S ("Equal");
  t->toleration_seconds = (kd_opt_i64_t){ true, 60 };
  t->effect = S ("NoSchedule");
  t = ADD (pod->spec.tolerations, pod->spec.n_tolerations); /* [4] */
  t->key = S ("k");
  t->operator_ = S ("Exists");
  t->value = S ("v");
  expect_errors (
      pod,
      "spec.tolerations[2].operator: Unsupported value: \"In\": supported values: \"Equal\", "
      "\"Exists\"",
      "spec.tolerations[2].effect: Unsupported value: \"NoRun\": supported values: "
      "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
      "spec.tolerations[3].operator: Invalid value: \"Equal\": operator must be Exists when `key` "
      "is empty, which means \"match all values and all keys\"",
      "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
      "`tolerationSeconds` is set",
      "spec.tolerations[4].operator: Invalid value: \"v\": value must be empty when `operator` is "
      "'Exists'",
      NULL);
}

static void
test_node_selector_labels (void **state)
{
  kd_pod_t *pod = valid_pod ();

  map_add (&pod->spec.node_selector, "a/b/c", "x");
  map_add (&pod->spec.node_selector, "Example.com/zone", "eu west");
  expect_errors (
      pod,
      "spec.nodeSelector: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
      "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
      "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
      "(e.g. 'example.com/MyName')",
      "spec.nodeSelector: Invalid value: \"Example.com/zone\": prefix part " SUBDOMAIN_MSG,
      "spec.nodeSelector: Invalid value: \"eu west\": " LABEL_VALUE_MSG, NULL);
}

static void
test_static_pod_refusals (void **state)
{
  kd_pod_t *pod = valid_pod ();
  kd_env_var_t *e;

  add_volume (&pod->spec, "s")->secret = true;
  add_volume (&pod->spec, "c")->config_map = true;
  add_volume (&pod->spec, "p")->persistent_volume_claim = true;
  add_volume (&pod->spec, "t")->projected = true;
  kd_volume_t *nfs = add_volume (&pod->spec, "n");
  nfs->other_source = true;
  nfs->other_source_name = S ("nfs");
  e = add_env (&pod->spec.containers[0], "TOKEN", NULL);
  e->value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  e->value_from->secret_key_ref = true;
  e = add_env (&pod->spec.init_containers[0], "CONF", NULL);
  e->value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  e->value_from->config_map_key_ref = true;
  pod->spec.service_account_name = S ("builder");
  expect_errors (pod, "spec.volumes[3].secret: Forbidden: not supported for static pods",
                 "spec.volumes[4].configMap: Forbidden: not supported for static pods",
                 "spec.volumes[5].persistentVolumeClaim: Forbidden: not supported for static pods",
                 "spec.volumes[6].projected: Forbidden: not supported for static pods",
                 "spec.volumes[7].nfs: Forbidden: not supported by kubeletd",
                 "spec.containers[0].env[5].valueFrom.secretKeyRef: Forbidden: not supported for "
                 "static pods",
                 "spec.initContainers[0].env[0].valueFrom.configMapKeyRef: Forbidden: not "
                 "supported for static pods",
                 "spec.serviceAccountName: Forbidden: not supported for static pods", NULL);
}

static void
test_name_helpers (void **state)
{
  char label64[65];

  memset (label64, 'a', 64);
  label64[64] = '\0';
  assert_true (kd_is_dns1123_label ("my-name"));
  assert_true (kd_is_dns1123_label ("123-abc"));
  assert_false (kd_is_dns1123_label ("-a"));
  assert_false (kd_is_dns1123_label ("a.b"));
  assert_false (kd_is_dns1123_label ("Web"));
  assert_false (kd_is_dns1123_label (""));
  assert_false (kd_is_dns1123_label (label64));
  assert_true (kd_is_dns1123_subdomain ("web-node1.example.com"));
  assert_false (kd_is_dns1123_subdomain ("a..b"));
  assert_false (kd_is_dns1123_subdomain ("a.-b"));
  assert_true (kd_is_qualified_name ("app"));
  assert_true (kd_is_qualified_name ("example.com/My_Name.1"));
  assert_false (kd_is_qualified_name ("/name"));
  assert_false (kd_is_qualified_name ("a/b/c"));
  assert_false (kd_is_qualified_name ("Example.com/x"));
  assert_false (kd_is_qualified_name ("_x"));
  assert_true (kd_is_c_identifier_env ("MY_VAR"));
  assert_true (kd_is_c_identifier_env ("my.env-name"));
  assert_true (kd_is_c_identifier_env ("1st var"));
  assert_false (kd_is_c_identifier_env ("A=B"));
  assert_false (kd_is_c_identifier_env ("tab\there"));
  assert_false (kd_is_c_identifier_env (""));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_valid_full_pod_has_no_errors),
    cmocka_unit_test (test_metadata_name_namespace_labels_annotations),
    cmocka_unit_test (test_containers_required_unique_and_named),
    cmocka_unit_test (test_image_and_enum_fields),
    cmocka_unit_test (test_ports_range_names_and_host_network),
    cmocka_unit_test (test_env_names_and_sources),
    cmocka_unit_test (test_resources_quantities_and_limits),
    cmocka_unit_test (test_volume_mounts_match_volumes),
    cmocka_unit_test (test_probes_handlers_and_thresholds),
    cmocka_unit_test (test_lifecycle_handlers_and_sleep),
    cmocka_unit_test (test_init_containers_probes_and_restart_policy),
    cmocka_unit_test (test_volumes_names_sources_and_types),
    cmocka_unit_test (test_spec_scalars_hostname_deadline_grace),
    cmocka_unit_test (test_dns_policy_none_and_config_limits),
    cmocka_unit_test (test_host_aliases_ip_and_hostnames),
    cmocka_unit_test (test_security_contexts),
    cmocka_unit_test (test_tolerations_operator_and_effect),
    cmocka_unit_test (test_node_selector_labels),
    cmocka_unit_test (test_static_pod_refusals),
    cmocka_unit_test (test_name_helpers),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
