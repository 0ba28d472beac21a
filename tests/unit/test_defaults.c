/* api/defaults: SetDefaults_Pod and friends, the image pull policy default,
   the static-pod identity and the QoS class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <time.h>

#include "kubeletd/api.h"

/* ---- building pods ------------------------------------------------------ */

static void
kv_add (kd_strmap_t *m, const char *k, const char *v)
{
  m->v = xrealloc (m->v, (m->n + 1) * sizeof (*m->v));
  m->v[m->n].key = xstrdup (k);
  m->v[m->n].value = xstrdup (v);
  m->n++;
}

static const char *
kv_get (const kd_strmap_t *m, const char *k)
{
  for (size_t i = 0; i < m->n; i++)
    if (strcmp (m->v[i].key, k) == 0)
      return m->v[i].value;
  return NULL;
}

static kd_container_t *
add_container (kd_container_t **v, size_t *n, const char *name, const char *image)
{
  kd_container_t *c;

  *v = xrealloc (*v, (*n + 1) * sizeof (**v));
  c = &(*v)[(*n)++];
  memset (c, 0, sizeof (*c));
  c->name = xstrdup (name);
  c->image = xstrdup (image);
  return c;
}

static kd_container_port_t *
add_port (kd_container_t *c, int32_t container_port)
{
  kd_container_port_t *p;

  c->ports = xrealloc (c->ports, (c->n_ports + 1) * sizeof (*c->ports));
  p = &c->ports[c->n_ports++];
  memset (p, 0, sizeof (*p));
  p->container_port = container_port;
  return p;
}

static kd_volume_t *
add_volume (kd_pod_t *pod, const char *name)
{
  kd_volume_t *v;

  pod->spec.volumes
      = xrealloc (pod->spec.volumes, (pod->spec.n_volumes + 1) * sizeof (*pod->spec.volumes));
  v = &pod->spec.volumes[pod->spec.n_volumes++];
  memset (v, 0, sizeof (*v));
  v->name = xstrdup (name);
  return v;
}

static kd_pod_t *
new_pod (void)
{
  kd_pod_t *pod = xcalloc (1, sizeof (*pod));

  pod->metadata.name = xstrdup ("web");
  add_container (&pod->spec.containers, &pod->spec.n_containers, "app", "busybox:1.35");
  return pod;
}

static char *
pod_json (const kd_pod_t *pod)
{
  json_t *j = kd_pod_to_json (pod);
  char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (j);
  return s;
}

/* ---- defaults ----------------------------------------------------------- */

static void
test_defaults_fill_pod_spec_fields (void **state)
{
  kd_pod_t *pod = new_pod ();

  kd_pod_set_defaults (pod);
  assert_string_equal (pod->api_version, "v1");
  assert_string_equal (pod->kind, "Pod");
  assert_string_equal (pod->spec.restart_policy, "Always");
  assert_true (pod->spec.termination_grace_period_seconds.set);
  assert_int_equal (pod->spec.termination_grace_period_seconds.v, 30);
  assert_string_equal (pod->spec.dns_policy, "ClusterFirst");
  assert_non_null (pod->spec.security_context);
  assert_string_equal (pod->spec.scheduler_name, "default-scheduler");
  assert_true (pod->spec.enable_service_links.set);
  assert_true (pod->spec.enable_service_links.v);
  /* left alone: namespace (static-pod step), and what admission sets */
  assert_null (pod->metadata.namespace_);
  assert_null (pod->spec.preemption_policy);
  assert_false (pod->spec.priority.set);
  assert_null (pod->status.phase);
  kd_pod_free (pod);
}

static void
test_defaults_keep_values_already_set (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  pod->spec.restart_policy = xstrdup ("Never");
  pod->spec.termination_grace_period_seconds.set = true; /* an explicit 0 */
  pod->spec.dns_policy = xstrdup ("Default");
  pod->spec.scheduler_name = xstrdup ("mine");
  pod->spec.enable_service_links.set = true;
  pod->spec.enable_service_links.v = false;
  c->image_pull_policy = xstrdup ("Never");
  c->termination_message_path = xstrdup ("/tmp/msg");
  c->termination_message_policy = xstrdup ("FallbackToLogsOnError");
  add_port (c, 80)->protocol = xstrdup ("UDP");

  kd_pod_set_defaults (pod);
  assert_string_equal (pod->spec.restart_policy, "Never");
  assert_int_equal (pod->spec.termination_grace_period_seconds.v, 0);
  assert_string_equal (pod->spec.dns_policy, "Default");
  assert_string_equal (pod->spec.scheduler_name, "mine");
  assert_false (pod->spec.enable_service_links.v);
  assert_string_equal (c->image_pull_policy, "Never");
  assert_string_equal (c->termination_message_path, "/tmp/msg");
  assert_string_equal (c->termination_message_policy, "FallbackToLogsOnError");
  assert_string_equal (c->ports[0].protocol, "UDP");
  kd_pod_free (pod);
}

static void
test_defaults_empty_strings_count_as_unset (void **state)
{
  kd_pod_t *pod = new_pod ();

  pod->spec.restart_policy = xstrdup ("");
  pod->spec.containers[0].image_pull_policy = xstrdup ("");
  kd_pod_set_defaults (pod);
  assert_string_equal (pod->spec.restart_policy, "Always");
  assert_string_equal (pod->spec.containers[0].image_pull_policy, "IfNotPresent");
  kd_pod_free (pod);
}

static void
test_defaults_fill_container_fields (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *init
      = add_container (&pod->spec.init_containers, &pod->spec.n_init_containers, "init", "busybox");
  kd_container_t *c = &pod->spec.containers[0];

  add_port (c, 8080);
  kd_pod_set_defaults (pod);
  c = &pod->spec.containers[0];
  assert_string_equal (c->image_pull_policy, "IfNotPresent");
  assert_string_equal (c->termination_message_path, "/dev/termination-log");
  assert_string_equal (c->termination_message_policy, "File");
  assert_string_equal (c->ports[0].protocol, "TCP");
  assert_int_equal (c->ports[0].host_port, 0); /* no host network */
  init = &pod->spec.init_containers[0];
  assert_string_equal (init->image_pull_policy, "Always");
  assert_string_equal (init->termination_message_path, "/dev/termination-log");
  assert_string_equal (init->termination_message_policy, "File");
  kd_pod_free (pod);
}

static void
test_defaults_host_network_copies_container_port_to_host_port (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *init
      = add_container (&pod->spec.init_containers, &pod->spec.n_init_containers, "init", "busybox");

  pod->spec.host_network = true;
  add_port (&pod->spec.containers[0], 8080);
  add_port (&pod->spec.containers[0], 9090)->host_port = 9091;
  add_port (init, 7070);
  kd_pod_set_defaults (pod);
  assert_int_equal (pod->spec.containers[0].ports[0].host_port, 8080);
  assert_int_equal (pod->spec.containers[0].ports[1].host_port, 9091);
  assert_int_equal (pod->spec.init_containers[0].ports[0].host_port, 7070);
  kd_pod_free (pod);
}

static void
test_defaults_fill_probes_and_handlers (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *c = &pod->spec.containers[0];
  kd_probe_t *live, *ready, *start;

  live = c->liveness_probe = xcalloc (1, sizeof (kd_probe_t));
  live->handler.http_get = xcalloc (1, sizeof (kd_http_get_action_t));
  ready = c->readiness_probe = xcalloc (1, sizeof (kd_probe_t));
  ready->handler.http_get = xcalloc (1, sizeof (kd_http_get_action_t));
  ready->handler.http_get->path = xstrdup ("/ready");
  ready->handler.http_get->scheme = xstrdup ("HTTPS");
  ready->timeout_seconds = 5;
  ready->period_seconds = 7;
  ready->success_threshold = 2;
  ready->failure_threshold = 9;
  start = c->startup_probe = xcalloc (1, sizeof (kd_probe_t));
  start->handler.grpc = xcalloc (1, sizeof (kd_grpc_action_t));
  start->handler.grpc->port = 9000;
  c->lifecycle = xcalloc (1, sizeof (kd_lifecycle_t));
  c->lifecycle->pre_stop = xcalloc (1, sizeof (kd_handler_t));
  c->lifecycle->pre_stop->http_get = xcalloc (1, sizeof (kd_http_get_action_t));
  c->lifecycle->post_start = xcalloc (1, sizeof (kd_handler_t));
  c->lifecycle->post_start->http_get = xcalloc (1, sizeof (kd_http_get_action_t));

  kd_pod_set_defaults (pod);
  assert_int_equal (live->initial_delay_seconds, 0);
  assert_int_equal (live->timeout_seconds, 1);
  assert_int_equal (live->period_seconds, 10);
  assert_int_equal (live->success_threshold, 1);
  assert_int_equal (live->failure_threshold, 3);
  assert_string_equal (live->handler.http_get->path, "/");
  assert_string_equal (live->handler.http_get->scheme, "HTTP");
  assert_int_equal (ready->timeout_seconds, 5);
  assert_int_equal (ready->period_seconds, 7);
  assert_int_equal (ready->success_threshold, 2);
  assert_int_equal (ready->failure_threshold, 9);
  assert_string_equal (ready->handler.http_get->path, "/ready");
  assert_string_equal (ready->handler.http_get->scheme, "HTTPS");
  assert_int_equal (start->timeout_seconds, 1);
  assert_true (start->handler.grpc->service_set);
  assert_string_equal (start->handler.grpc->service, "");
  assert_string_equal (c->lifecycle->pre_stop->http_get->path, "/");
  assert_string_equal (c->lifecycle->pre_stop->http_get->scheme, "HTTP");
  assert_string_equal (c->lifecycle->post_start->http_get->path, "/");
  assert_string_equal (c->lifecycle->post_start->http_get->scheme, "HTTP");
  kd_pod_free (pod);
}

static void
test_defaults_env_field_ref_api_version (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *c = &pod->spec.containers[0];

  c->env = xcalloc (2, sizeof (kd_env_var_t));
  c->n_env = 2;
  c->env[0].name = xstrdup ("POD");
  c->env[0].value_from = xcalloc (1, sizeof (kd_env_var_source_t));
  c->env[0].value_from->field_ref = xcalloc (1, sizeof (kd_object_field_selector_t));
  c->env[0].value_from->field_ref->field_path = xstrdup ("metadata.name");
  c->env[1].name = xstrdup ("PLAIN");
  c->env[1].value = xstrdup ("x");
  kd_pod_set_defaults (pod);
  assert_string_equal (c->env[0].value_from->field_ref->api_version, "v1");
  assert_null (c->env[1].value_from);
  kd_pod_free (pod);
}

static void
test_defaults_volumes (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_volume_t *v;

  v = add_volume (pod, "host");
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = xstrdup ("/var/log");
  v = add_volume (pod, "typed");
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = xstrdup ("/dev/null");
  v->host_path->type = xstrdup ("CharDevice");
  v->host_path->type_set = true;
  v = add_volume (pod, "nothing");
  v = add_volume (pod, "mem");
  v->empty_dir = xcalloc (1, sizeof (kd_empty_dir_t));
  v->empty_dir->medium = xstrdup ("Memory");
  v = add_volume (pod, "cm");
  v->config_map = true;

  kd_pod_set_defaults (pod);
  v = pod->spec.volumes;
  assert_true (v[0].host_path->type_set);
  assert_string_equal (v[0].host_path->type, "");
  assert_string_equal (v[1].host_path->type, "CharDevice");
  assert_non_null (v[2].empty_dir); /* no source: emptyDir {} */
  assert_null (v[2].empty_dir->medium);
  assert_string_equal (v[3].empty_dir->medium, "Memory");
  assert_null (v[4].empty_dir); /* a configMap volume is not an emptyDir */
  kd_pod_free (pod);
}

static void
test_defaults_requests_from_limits_and_milli_rounding (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *c = &pod->spec.containers[0];
  kd_container_t *init
      = add_container (&pod->spec.init_containers, &pod->spec.n_init_containers, "init", "busybox");

  kv_add (&c->resources.limits, "cpu", "500m");
  kv_add (&c->resources.limits, "memory", "1024Mi");
  kv_add (&c->resources.requests, "cpu", "100u");
  kv_add (&init->resources.limits, "memory", "0.5");
  kv_add (&init->resources.limits, "example.com/gpu", "1");

  kd_pod_set_defaults (pod);
  c = &pod->spec.containers[0];
  init = &pod->spec.init_containers[0];
  assert_string_equal (kv_get (&c->resources.limits, "cpu"), "500m");
  assert_string_equal (kv_get (&c->resources.limits, "memory"), "1Gi");
  assert_string_equal (kv_get (&c->resources.requests, "cpu"), "1m"); /* kept, rounded */
  assert_string_equal (kv_get (&c->resources.requests, "memory"), "1Gi");
  assert_string_equal (kv_get (&init->resources.requests, "memory"), "500m");
  assert_string_equal (kv_get (&init->resources.requests, "example.com/gpu"), "1");
  assert_int_equal (init->resources.requests.n, 2);
  kd_pod_free (pod);
}

static void
test_defaults_are_idempotent (void **state)
{
  kd_pod_t *pod = new_pod ();
  kd_container_t *c = &pod->spec.containers[0];
  kd_volume_t *v = add_volume (pod, "data");
  cleanup_free char *once = NULL;
  cleanup_free char *twice = NULL;

  pod->spec.host_network = true;
  add_port (c, 80);
  kv_add (&c->resources.limits, "cpu", "0.0001");
  kv_add (&c->resources.limits, "memory", "1.5Gi");
  c->liveness_probe = xcalloc (1, sizeof (kd_probe_t));
  c->liveness_probe->handler.http_get = xcalloc (1, sizeof (kd_http_get_action_t));
  v->host_path = xcalloc (1, sizeof (kd_host_path_t));
  v->host_path->path = xstrdup ("/srv");

  kd_pod_set_defaults (pod);
  once = pod_json (pod);
  kd_pod_set_defaults (pod);
  twice = pod_json (pod);
  assert_string_equal (once, twice);
  assert_int_equal (pod->spec.n_tolerations, 0);
  assert_int_equal (c->resources.requests.n, 2);
  kd_pod_free (pod);
}

/* ---- image pull policy -------------------------------------------------- */

static void
test_pull_policy_follows_the_tag (void **state)
{
  static const char digest[]
      = "sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";
  static const struct
  {
    const char *image;
    const char *policy;
  } t[] = {
    { "busybox", "Always" },
    { "busybox:latest", "Always" },
    { "busybox:1.35", "IfNotPresent" },
    { "127.0.0.1:5000/busybox", "Always" },
    { "127.0.0.1:5000/busybox:1.0", "IfNotPresent" },
    { "127.0.0.1:5000/busybox:latest", "Always" },
    { "localhost/busybox", "Always" },
    { "localhost:5000/team/busybox:2", "IfNotPresent" },
    { "[::1]:5000/busybox", "Always" },
    { "docker.io/library/busybox", "Always" },
    { "index.docker.io/busybox:1", "IfNotPresent" },
    { "registry.example.com/a/b/c", "Always" },
    { "my-registry:5000/x", "Always" },
    /* invalid references: the parse error is ignored, IfNotPresent */
    { "", "IfNotPresent" },
    { "Busybox", "IfNotPresent" },
    { "busybox:", "IfNotPresent" },
    { "busybox:la test", "IfNotPresent" },
    { "busy..box", "IfNotPresent" },
    { "busybox@sha256:abc", "IfNotPresent" },
    { "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa", "IfNotPresent" },
  };
  cleanup_free char *pinned = xasprintf ("busybox@%s", digest);
  cleanup_free char *both = xasprintf ("busybox:1.0@%s", digest);
  cleanup_free char *latest_pinned = xasprintf ("busybox:latest@%s", digest);
  cleanup_free char *bad_latest = xasprintf ("busybox:latest@sha256:ABC%s", digest + 10);

  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    if (strcmp (kd_default_pull_policy (t[i].image), t[i].policy) != 0)
      fail_msg ("`%s`: got %s, want %s", t[i].image, kd_default_pull_policy (t[i].image),
                t[i].policy);
  assert_string_equal (kd_default_pull_policy (pinned), "IfNotPresent");
  assert_string_equal (kd_default_pull_policy (both), "IfNotPresent");
  assert_string_equal (kd_default_pull_policy (latest_pinned), "Always");
  /* an uppercase digest does not parse, so the latest tag is never seen */
  assert_string_equal (kd_default_pull_policy (bad_latest), "IfNotPresent");
  assert_string_equal (kd_default_pull_policy (NULL), "IfNotPresent");
}

/* ---- static pods -------------------------------------------------------- */

static bool
is_hex32 (const char *s)
{
  if (s == NULL || strlen (s) != 32)
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

static char *
static_uid (const char *image, const char *node, const char *path)
{
  kd_pod_t *pod = new_pod ();
  char *uid;

  free (pod->spec.containers[0].image);
  pod->spec.containers[0].image = xstrdup (image);
  kd_pod_set_defaults (pod);
  kd_pod_make_static (pod, node, path, 0);
  uid = xstrdup (pod->metadata.uid);
  kd_pod_free (pod);
  return uid;
}

static void
test_static_pod_identity (void **state)
{
  kd_pod_t *pod = new_pod ();
  const int64_t seen = 1764476110123456789LL; /* 2025-11-30T04:15:10.123456789Z */

  setenv ("TZ", "UTC", 1);
  tzset ();
  kd_pod_set_defaults (pod);
  kd_pod_make_static (pod, "Node-1", "/etc/kubernetes/manifests/web.yaml", seen);
  assert_string_equal (pod->metadata.name, "web-node-1");
  assert_string_equal (pod->metadata.namespace_, "default");
  assert_true (is_hex32 (pod->metadata.uid));
  assert_string_equal (kv_get (&pod->metadata.annotations, "kubernetes.io/config.hash"),
                       pod->metadata.uid);
  assert_string_equal (kv_get (&pod->metadata.annotations, "kubernetes.io/config.source"), "file");
  assert_string_equal (kv_get (&pod->metadata.annotations, "kubernetes.io/config.seen"),
                       "2025-11-30T04:15:10.123456789Z");
  assert_string_equal (pod->spec.node_name, "Node-1");
  assert_int_equal (pod->spec.n_tolerations, 1);
  assert_string_equal (pod->spec.tolerations[0].operator_, "Exists");
  assert_string_equal (pod->spec.tolerations[0].effect, "NoExecute");
  assert_null (pod->spec.tolerations[0].key);
  assert_false (pod->spec.tolerations[0].toleration_seconds.set);
  assert_string_equal (pod->status.phase, "Pending");
  kd_pod_free (pod);
}

static void
test_static_pod_seen_time_uses_fixed_nanoseconds_and_local_zone (void **state)
{
  kd_pod_t *pod = new_pod ();

  setenv ("TZ", "EST5", 1);
  tzset ();
  kd_pod_make_static (pod, "n", "/m/web.yaml", 1000000005LL);
  assert_string_equal (kv_get (&pod->metadata.annotations, "kubernetes.io/config.seen"),
                       "1969-12-31T19:00:01.000000005-05:00");
  setenv ("TZ", "UTC", 1);
  tzset ();
  kd_pod_free (pod);
}

static void
test_static_pod_uid_follows_content_node_and_path (void **state)
{
  cleanup_free char *base = static_uid ("busybox:1.35", "node1", "/m/web.yaml");
  cleanup_free char *same = static_uid ("busybox:1.35", "node1", "/m/web.yaml");
  cleanup_free char *content = static_uid ("busybox:1.36", "node1", "/m/web.yaml");
  cleanup_free char *node = static_uid ("busybox:1.35", "node2", "/m/web.yaml");
  cleanup_free char *path = static_uid ("busybox:1.35", "node1", "/m/other.yaml");

  assert_true (is_hex32 (base));
  assert_string_equal (base, same);
  assert_string_not_equal (base, content);
  assert_string_not_equal (base, node);
  assert_string_not_equal (base, path);
}

static void
test_static_pod_keeps_manifest_uid_and_equal_toleration (void **state)
{
  kd_pod_t *pod = new_pod ();

  pod->metadata.uid = xstrdup ("my-uid");
  pod->metadata.namespace_ = xstrdup ("kube-system");
  pod->spec.tolerations = xcalloc (2, sizeof (kd_toleration_t));
  pod->spec.n_tolerations = 2;
  pod->spec.tolerations[0].key = xstrdup ("a");
  pod->spec.tolerations[0].operator_ = xstrdup ("Exists");
  pod->spec.tolerations[1].operator_ = xstrdup ("Exists");
  pod->spec.tolerations[1].effect = xstrdup ("NoExecute");
  pod->spec.tolerations[1].toleration_seconds.set = true;
  pod->spec.tolerations[1].toleration_seconds.v = 300;

  kd_pod_make_static (pod, "node1", "/m/web.yaml", 0);
  assert_string_equal (pod->metadata.uid, "my-uid");
  assert_string_equal (kv_get (&pod->metadata.annotations, "kubernetes.io/config.hash"), "my-uid");
  assert_string_equal (pod->metadata.namespace_, "kube-system");
  /* the matching toleration is replaced by the kubelet's, not duplicated */
  assert_int_equal (pod->spec.n_tolerations, 2);
  assert_string_equal (pod->spec.tolerations[0].key, "a");
  assert_false (pod->spec.tolerations[1].toleration_seconds.set);
  kd_pod_free (pod);
}

/* ---- QoS ---------------------------------------------------------------- */

static const char *
qos_of (kd_pod_t *pod)
{
  kd_pod_set_defaults (pod);
  return kd_pod_qos_class (pod);
}

static void
test_qos_classes (void **state)
{
  kd_pod_t *pod;
  kd_container_t *c, *c2;

  /* nothing at all, or only resources QoS ignores, or only zeros */
  pod = new_pod ();
  assert_string_equal (qos_of (pod), "BestEffort");
  kv_add (&pod->spec.containers[0].resources.requests, "ephemeral-storage", "1Gi");
  kv_add (&pod->spec.containers[0].resources.requests, "cpu", "0");
  assert_string_equal (qos_of (pod), "BestEffort");
  kd_pod_free (pod);

  /* requests only */
  pod = new_pod ();
  kv_add (&pod->spec.containers[0].resources.requests, "cpu", "100m");
  assert_string_equal (qos_of (pod), "Burstable");
  kd_pod_free (pod);

  /* cpu and memory limits; requests defaulted from them */
  pod = new_pod ();
  c = &pod->spec.containers[0];
  kv_add (&c->resources.limits, "cpu", "1");
  kv_add (&c->resources.limits, "memory", "128Mi");
  assert_string_equal (qos_of (pod), "Guaranteed");
  /* an equal request in another spelling still matches */
  kd_pod_free (pod);
  pod = new_pod ();
  c = &pod->spec.containers[0];
  kv_add (&c->resources.limits, "cpu", "1");
  kv_add (&c->resources.limits, "memory", "128Mi");
  kv_add (&c->resources.requests, "cpu", "1000m");
  kv_add (&c->resources.requests, "memory", "134217728");
  assert_string_equal (qos_of (pod), "Guaranteed");
  kd_pod_free (pod);

  /* a lower request */
  pod = new_pod ();
  c = &pod->spec.containers[0];
  kv_add (&c->resources.limits, "cpu", "1");
  kv_add (&c->resources.limits, "memory", "128Mi");
  kv_add (&c->resources.requests, "cpu", "500m");
  assert_string_equal (qos_of (pod), "Burstable");
  kd_pod_free (pod);

  /* only a cpu limit */
  pod = new_pod ();
  kv_add (&pod->spec.containers[0].resources.limits, "cpu", "1");
  assert_string_equal (qos_of (pod), "Burstable");
  kd_pod_free (pod);

  /* two guaranteed containers */
  pod = new_pod ();
  c2 = add_container (&pod->spec.containers, &pod->spec.n_containers, "side", "busybox");
  c = &pod->spec.containers[0];
  kv_add (&c->resources.limits, "cpu", "1");
  kv_add (&c->resources.limits, "memory", "1Gi");
  kv_add (&c2->resources.limits, "cpu", "200m");
  kv_add (&c2->resources.limits, "memory", "64Mi");
  assert_string_equal (qos_of (pod), "Guaranteed");
  /* an init container without limits makes it Burstable */
  c = add_container (&pod->spec.init_containers, &pod->spec.n_init_containers, "init", "busybox");
  kv_add (&c->resources.requests, "memory", "1Mi");
  assert_string_equal (qos_of (pod), "Burstable");
  kd_pod_free (pod);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults_fill_pod_spec_fields),
    cmocka_unit_test (test_defaults_keep_values_already_set),
    cmocka_unit_test (test_defaults_empty_strings_count_as_unset),
    cmocka_unit_test (test_defaults_fill_container_fields),
    cmocka_unit_test (test_defaults_host_network_copies_container_port_to_host_port),
    cmocka_unit_test (test_defaults_fill_probes_and_handlers),
    cmocka_unit_test (test_defaults_env_field_ref_api_version),
    cmocka_unit_test (test_defaults_volumes),
    cmocka_unit_test (test_defaults_requests_from_limits_and_milli_rounding),
    cmocka_unit_test (test_defaults_are_idempotent),
    cmocka_unit_test (test_pull_policy_follows_the_tag),
    cmocka_unit_test (test_static_pod_identity),
    cmocka_unit_test (test_static_pod_seen_time_uses_fixed_nanoseconds_and_local_zone),
    cmocka_unit_test (test_static_pod_uid_follows_content_node_and_path),
    cmocka_unit_test (test_static_pod_keeps_manifest_uid_and_equal_toleration),
    cmocka_unit_test (test_qos_classes),
  };
  setenv ("TZ", "UTC", 1);
  tzset ();
  return cmocka_run_group_tests (tests, NULL, NULL);
}
