/* The command line: kubelet flag names and defaults (DESIGN §4), pflag's
   syntax (`--flag value`, `--flag=value`, bools as `--flag` or
   `--flag=false`, `-v 3`, `-v3`, `--v=3`) and pflag's messages, so a kubelet
   user reads the same error for the same mistake. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <sys/un.h>

#include "config-internal.h"

typedef struct
{
  const char *name;
  char shorthand;
  kd_setting_t id;
  bool is_bool; /* takes no value unless given with '=' */
  const char *arg;
  const char *help;
} kd_flag_t;

/* The order is the order of --help. */
static const kd_flag_t flags[] = {
  { "config", 0, KD_SET_CONFIG, false, "FILE",
    "a KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override its settings" },
  { "pod-manifest-path", 0, KD_SET_POD_MANIFEST_PATH, false, "PATH",
    "directory (or single file) of static pod manifests; \"\" disables it (default "
    "\"" KD_DEFAULT_POD_MANIFEST_PATH "\")" },
  { "manifest-url", 0, KD_SET_MANIFEST_URL, false, "URL", "URL to fetch static pods from" },
  { "file-check-frequency", 0, KD_SET_FILE_CHECK_FREQUENCY, false, "DURATION",
    "period of the full relist of --pod-manifest-path (default 20s)" },
  { "http-check-frequency", 0, KD_SET_HTTP_CHECK_FREQUENCY, false, "DURATION",
    "period of the fetch of --manifest-url (default 20s)" },
  { "root-dir", 0, KD_SET_ROOT_DIR, false, "DIR",
    "directory for images, pod volumes and checkpoints (default \"" KD_DEFAULT_ROOT_DIR "\")" },
  { "run-dir", 0, KD_SET_RUN_DIR, false, "DIR",
    "directory for the socket, shim sockets and the lock (default \"" KD_DEFAULT_RUN_DIR "\")" },
  { "pod-logs-dir", 0, KD_SET_POD_LOGS_DIR, false, "DIR",
    "directory of the container log files (default \"" KD_DEFAULT_POD_LOGS_DIR "\")" },
  { "socket", 0, KD_SET_SOCKET, false, "PATH",
    "Unix socket of the status API (default \"<run-dir>/" KD_SOCKET_NAME "\")" },
  { "socket-group", 0, KD_SET_SOCKET_GROUP, false, "GROUP",
    "group (name or id) allowed to use the socket" },
  { "hostname-override", 0, KD_SET_HOSTNAME_OVERRIDE, false, "NAME",
    "the node name, lowercased (default: the host name)" },
  { "cni-conf-dir", 0, KD_SET_CNI_CONF_DIR, false, "DIR",
    "CNI network configurations (default \"" KD_DEFAULT_CNI_CONF_DIR "\")" },
  { "cni-bin-dir", 0, KD_SET_CNI_BIN_DIR, false, "DIRS",
    "colon-separated CNI plugin directories (default \"" KD_DEFAULT_CNI_BIN_DIR "\")" },
  { "pod-cidr", 0, KD_SET_POD_CIDR, false, "CIDR",
    "pod addresses of the built-in network (default " KD_DEFAULT_POD_CIDR ")" },
  { "registry-mirror", 0, KD_SET_REGISTRY_MIRROR, false, "HOST=URL",
    "pull HOST's images from URL first (repeatable)" },
  { "insecure-registry", 0, KD_SET_INSECURE_REGISTRY, false, "HOST[:PORT]",
    "registry reached over plain HTTP (repeatable)" },
  { "image-gc-high-threshold", 0, KD_SET_IMAGE_GC_HIGH_THRESHOLD, false, "PERCENT",
    "disk usage after which image garbage collection always runs; 100 disables it (default 85)" },
  { "image-gc-low-threshold", 0, KD_SET_IMAGE_GC_LOW_THRESHOLD, false, "PERCENT",
    "disk usage image garbage collection frees down to (default 80)" },
  { "crashloop-backoff-initial", 0, KD_SET_CRASHLOOP_BACKOFF_INITIAL, false, "DURATION",
    "first CrashLoopBackOff delay (default 10s)" },
  { "crashloop-backoff-max", 0, KD_SET_CRASHLOOP_BACKOFF_MAX, false, "DURATION",
    "CrashLoopBackOff delay cap (default 5m0s)" },
  { "max-pods", 0, KD_SET_MAX_PODS, false, "N", "most pods this node runs (default 110)" },
  { "pod-max-pids", 0, KD_SET_POD_PIDS_LIMIT, false, "N",
    "most processes per pod (pids.max of the pod cgroup); -1: no limit (default -1)" },
  { "container-log-max-size", 0, KD_SET_CONTAINER_LOG_MAX_SIZE, false, "SIZE",
    "rotate a container log at this size (default 10Mi)" },
  { "container-log-max-files", 0, KD_SET_CONTAINER_LOG_MAX_FILES, false, "N",
    "log files kept per container (default 5)" },
  { "cgroup-root", 0, KD_SET_CGROUP_ROOT, false, "NAME",
    "parent cgroup of the pods (default \"" KD_DEFAULT_CGROUP_ROOT "\")" },
  { "seccomp-default", 0, KD_SET_SECCOMP_DEFAULT, true, NULL,
    "RuntimeDefault seccomp for containers that set none (default true)" },
  { "network-bridge", 0, KD_SET_NETWORK_BRIDGE, false, "NAME",
    "bridge of the built-in pod network (kubeletd-specific; default \"kubeletd0\")" },
  { "stop-pods-on-exit", 0, KD_SET_STOP_PODS_ON_EXIT, true, NULL,
    "stop and tear down every pod on SIGTERM instead of leaving them running "
    "(kubeletd-specific)" },
  { "shim-path", 0, KD_SET_SHIM_PATH, false, "PATH", NULL },
  { "kubeconfig", 0, KD_SET_KUBECONFIG, false, "FILE", "kubeconfig of the API server" },
  { "v", 'v', KD_SET_VERBOSITY, false, "N", "log verbosity (default 0)" },
  { "logging-format", 0, KD_SET_LOGGING_FORMAT, false, "FORMAT",
    "log format: text or json (default \"text\")" },
  { "version", 0, KD_SET_VERSION, true, NULL, "print the version and exit" },
  { "help", 'h', KD_SET_HELP, true, NULL, "print this help and exit" },
};

void
kd_config_init (kd_config_t *cfg)
{
  memset (cfg, 0, sizeof (*cfg));
  cfg->pod_manifest_path = xstrdup (KD_DEFAULT_POD_MANIFEST_PATH);
  cfg->file_check_frequency_ms = KD_DEFAULT_FILE_CHECK_MS;
  cfg->http_check_frequency_ms = KD_DEFAULT_HTTP_CHECK_MS;
  cfg->root_dir = xstrdup (KD_DEFAULT_ROOT_DIR);
  cfg->run_dir = xstrdup (KD_DEFAULT_RUN_DIR);
  cfg->pod_logs_dir = xstrdup (KD_DEFAULT_POD_LOGS_DIR);
  cfg->cni_conf_dir = xstrdup (KD_DEFAULT_CNI_CONF_DIR);
  cfg->cni_bin_dir = xstrdup (KD_DEFAULT_CNI_BIN_DIR);
  cfg->pod_cidr = xstrdup (KD_DEFAULT_POD_CIDR);
  cfg->crashloop_backoff_initial_ms = KD_DEFAULT_BACKOFF_INITIAL_MS;
  cfg->crashloop_backoff_max_ms = KD_DEFAULT_BACKOFF_MAX_MS;
  cfg->max_pods = KD_DEFAULT_MAX_PODS;
  cfg->pod_pids_limit = KD_DEFAULT_POD_PIDS_LIMIT;
  cfg->container_log_max_size = KD_DEFAULT_CONTAINER_LOG_MAX;
  cfg->container_log_max_files = KD_DEFAULT_CONTAINER_LOG_FILES;
  cfg->cgroup_root = xstrdup (KD_DEFAULT_CGROUP_ROOT);
  cfg->seccomp_default = true;
  cfg->image_gc_high_threshold = KD_DEFAULT_IMAGE_GC_HIGH;
  cfg->image_gc_low_threshold = KD_DEFAULT_IMAGE_GC_LOW;
}

static void
strv_push (kd_strv_t *v, char *s)
{
  v->v = xrealloc (v->v, (v->n + 1) * sizeof (char *));
  v->v[v->n++] = s;
}

void
kd_config_free (kd_config_t *cfg)
{
  free (cfg->pod_manifest_path);
  free (cfg->manifest_url);
  free (cfg->root_dir);
  free (cfg->run_dir);
  free (cfg->pod_logs_dir);
  free (cfg->socket_path);
  free (cfg->socket_group);
  free (cfg->node_name);
  free (cfg->cni_conf_dir);
  free (cfg->cni_bin_dir);
  free (cfg->pod_cidr);
  for (size_t i = 0; i < cfg->n_registry_mirrors; i++)
    {
      free (cfg->registry_mirrors[i].host);
      free (cfg->registry_mirrors[i].url);
    }
  free (cfg->registry_mirrors);
  kd_strv_clear (&cfg->insecure_registries);
  free (cfg->cgroup_root);
  free (cfg->network_bridge);
  free (cfg->shim_path);
  free (cfg->config_file);
  free (cfg->kubeconfig);
  kd_strv_clear (&cfg->warnings);
  memset (cfg, 0, sizeof (*cfg));
}

static void
set_str (char **slot, const char *value)
{
  free (*slot);
  *slot = xstrdup (value);
}

/* strconv.ParseBool. */
static int
parse_bool (const char *s, bool *out, kd_error_t *err)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

  for (size_t i = 0; i < KD_ARRAY_SIZE (yes); i++)
    if (strcmp (s, yes[i]) == 0)
      {
        *out = true;
        return 0;
      }
  for (size_t i = 0; i < KD_ARRAY_SIZE (no); i++)
    if (strcmp (s, no[i]) == 0)
      {
        *out = false;
        return 0;
      }
  return kd_make_error (err, 0, "strconv.ParseBool: parsing \"%s\": invalid syntax", s);
}

/* strconv.ParseInt (s, 10, 64). */
static int
parse_int64 (const char *s, int64_t *out, kd_error_t *err)
{
  const char *p = s;
  char *end;
  long long v;

  if (*p == '+' || *p == '-')
    p++;
  if (!isdigit ((unsigned char) *p))
    return kd_make_error (err, 0, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
  errno = 0;
  v = strtoll (s, &end, 10);
  if (*end != '\0')
    return kd_make_error (err, 0, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
  if (errno == ERANGE)
    return kd_make_error (err, 0, "strconv.ParseInt: parsing \"%s\": value out of range", s);
  *out = (int64_t) v;
  return 0;
}

/* strconv.ParseInt (s, 10, 32). */
static int
parse_int32 (const char *s, int32_t *out, kd_error_t *err)
{
  int64_t v;

  if (parse_int64 (s, &v, err) < 0)
    return -1;
  if (v > INT32_MAX || v < INT32_MIN)
    return kd_make_error (err, 0, "strconv.ParseInt: parsing \"%s\": value out of range", s);
  *out = (int32_t) v;
  return 0;
}

static int
parse_duration (const char *s, int64_t *ms, kd_error_t *err)
{
  if (kd_parse_duration_ms (s, ms) < 0)
    return kd_make_error (err, 0, "time: invalid duration \"%s\"", s);
  return 0;
}

/* net.ParseCIDR. */
static int
check_cidr (const char *s, kd_error_t *err)
{
  const char *slash = strchr (s, '/');
  cleanup_free char *addr = NULL;
  unsigned char buf[16];
  int family, max;
  char *end;
  long bits;

  if (slash == NULL || slash[1] == '\0')
    return kd_make_error (err, 0, "invalid CIDR address: %s", s);
  addr = xstrndup (s, (size_t) (slash - s));
  family = strchr (addr, ':') ? AF_INET6 : AF_INET;
  max = family == AF_INET6 ? 128 : 32;
  errno = 0;
  bits = strtol (slash + 1, &end, 10);
  if (inet_pton (family, addr, buf) != 1 || *end != '\0' || !isdigit ((unsigned char) slash[1])
      || bits < 0 || bits > max)
    return kd_make_error (err, 0, "invalid CIDR address: %s", s);
  return 0;
}

static int
add_registry_mirror (kd_config_t *cfg, const char *value, kd_error_t *err)
{
  const char *eq = strchr (value, '=');
  kd_registry_mirror_t *m;

  if (eq == NULL || eq == value)
    return kd_make_error (err, 0, "want HOST=URL");
  if (!kd_str_has_prefix (eq + 1, "http://") && !kd_str_has_prefix (eq + 1, "https://"))
    return kd_make_error (err, 0, "mirror URL `%s` must start with http:// or https://", eq + 1);
  cfg->registry_mirrors = xrealloc (cfg->registry_mirrors, (cfg->n_registry_mirrors + 1)
                                                               * sizeof (*cfg->registry_mirrors));
  m = &cfg->registry_mirrors[cfg->n_registry_mirrors++];
  m->host = xstrndup (value, (size_t) (eq - value));
  m->url = xstrdup (eq + 1);
  /* A trailing slash would double up when paths are appended. */
  while (kd_str_has_suffix (m->url, "/"))
    m->url[strlen (m->url) - 1] = '\0';
  return 0;
}

static int
add_insecure_registry (kd_config_t *cfg, const char *value, kd_error_t *err)
{
  if (*value == '\0' || strchr (value, '/') != NULL || strchr (value, '=') != NULL)
    return kd_make_error (err, 0, "want HOST[:PORT] without a scheme or path");
  strv_push (&cfg->insecure_registries, xstrdup (value));
  return 0;
}

int
kd_config_set_value (kd_config_t *cfg, kd_setting_t id, const char *value, kd_error_t *err)
{
  int32_t i32 = 0;
  int64_t i64 = 0;

  switch (id)
    {
    case KD_SET_POD_MANIFEST_PATH:
      set_str (&cfg->pod_manifest_path, value);
      return 0;
    case KD_SET_MANIFEST_URL:
      free (cfg->manifest_url);
      cfg->manifest_url = *value ? xstrdup (value) : NULL;
      return 0;
    case KD_SET_FILE_CHECK_FREQUENCY:
      return parse_duration (value, &cfg->file_check_frequency_ms, err);
    case KD_SET_HTTP_CHECK_FREQUENCY:
      return parse_duration (value, &cfg->http_check_frequency_ms, err);
    case KD_SET_CRASHLOOP_BACKOFF_INITIAL:
      return parse_duration (value, &cfg->crashloop_backoff_initial_ms, err);
    case KD_SET_CRASHLOOP_BACKOFF_MAX:
      return parse_duration (value, &cfg->crashloop_backoff_max_ms, err);
    case KD_SET_POD_CIDR:
      if (check_cidr (value, err) < 0)
        return -1;
      set_str (&cfg->pod_cidr, value);
      return 0;
    case KD_SET_MAX_PODS:
      return parse_int32 (value, &cfg->max_pods, err);
    case KD_SET_POD_PIDS_LIMIT:
      /* the kubelet takes any value: > 0 is a limit, anything else none */
      return parse_int64 (value, &cfg->pod_pids_limit, err);
    case KD_SET_CONTAINER_LOG_MAX_SIZE:
      if (kd_parse_bytes (value, &i64) < 0)
        return kd_make_error (err, 0,
                              "quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
      cfg->container_log_max_size = i64;
      return 0;
    case KD_SET_CONTAINER_LOG_MAX_FILES:
      return parse_int32 (value, &cfg->container_log_max_files, err);
    case KD_SET_CGROUP_ROOT:
      set_str (&cfg->cgroup_root, value);
      return 0;
    case KD_SET_SECCOMP_DEFAULT:
      return parse_bool (value, &cfg->seccomp_default, err);
    case KD_SET_LOGGING_FORMAT:
      if (strcmp (value, "text") != 0 && strcmp (value, "json") != 0)
        return kd_make_error (err, 0, "unsupported log format (supported: \"text\", \"json\")");
      cfg->log_json = strcmp (value, "json") == 0;
      return 0;
    case KD_SET_VERBOSITY:
      if (parse_int32 (value, &i32, err) < 0)
        return -1;
      if (i32 < 0)
        return kd_make_error (err, 0, "must not be negative");
      cfg->verbosity = i32;
      return 0;
    case KD_SET_ROOT_DIR:
      set_str (&cfg->root_dir, value);
      return 0;
    case KD_SET_RUN_DIR:
      set_str (&cfg->run_dir, value);
      return 0;
    case KD_SET_POD_LOGS_DIR:
      set_str (&cfg->pod_logs_dir, value);
      return 0;
    case KD_SET_SOCKET:
      set_str (&cfg->socket_path, value);
      return 0;
    case KD_SET_SOCKET_GROUP:
      set_str (&cfg->socket_group, value);
      return 0;
    case KD_SET_HOSTNAME_OVERRIDE:
      set_str (&cfg->node_name, value);
      return 0;
    case KD_SET_CNI_CONF_DIR:
      set_str (&cfg->cni_conf_dir, value);
      return 0;
    case KD_SET_CNI_BIN_DIR:
      set_str (&cfg->cni_bin_dir, value);
      return 0;
    case KD_SET_REGISTRY_MIRROR:
      return add_registry_mirror (cfg, value, err);
    case KD_SET_INSECURE_REGISTRY:
      return add_insecure_registry (cfg, value, err);
    case KD_SET_IMAGE_GC_HIGH_THRESHOLD:
      return parse_int32 (value, &cfg->image_gc_high_threshold, err);
    case KD_SET_IMAGE_GC_LOW_THRESHOLD:
      return parse_int32 (value, &cfg->image_gc_low_threshold, err);
    case KD_SET_NETWORK_BRIDGE:
      if (*value == '\0' || strlen (value) > 15 || strchr (value, '/') || strchr (value, ' '))
        return kd_make_error (err, 0, "invalid interface name");
      set_str (&cfg->network_bridge, value);
      return 0;
    case KD_SET_SHIM_PATH:
      set_str (&cfg->shim_path, value);
      return 0;
    case KD_SET_STOP_PODS_ON_EXIT:
      return parse_bool (value, &cfg->stop_pods_on_exit, err);
    case KD_SET_CONFIG:
      set_str (&cfg->config_file, value);
      return 0;
    case KD_SET_KUBECONFIG:
      set_str (&cfg->kubeconfig, value);
      return 0;
    case KD_SET_HELP:
      return parse_bool (value, &cfg->show_help, err);
    case KD_SET_VERSION:
      return parse_bool (value, &cfg->show_version, err);
    case KD_SET__COUNT:
      break;
    }
  abort ();
}

/* Go's time.Duration.String for whole milliseconds: "500ms", "20s",
   "1.5s", "5m0s", "1h0m0s". */
static char *
format_duration (int64_t ms)
{
  kd_buf_t b = { 0 };
  uint64_t u = ms < 0 ? (uint64_t) -ms : (uint64_t) ms;

  if (ms < 0)
    kd_buf_putc (&b, '-');
  if (u == 0)
    kd_buf_puts (&b, "0s");
  else if (u < 1000)
    kd_buf_printf (&b, "%" PRIu64 "ms", u);
  else
    {
      uint64_t h = u / 3600000, m = u / 60000 % 60, s = u / 1000 % 60, frac = u % 1000;

      if (h)
        kd_buf_printf (&b, "%" PRIu64 "h", h);
      if (h || m)
        kd_buf_printf (&b, "%" PRIu64 "m", m);
      kd_buf_printf (&b, "%" PRIu64, s);
      if (frac)
        {
          char f[8];
          snprintf (f, sizeof (f), ".%03" PRIu64, frac);
          for (size_t n = strlen (f); f[n - 1] == '0'; n--)
            f[n - 1] = '\0';
          kd_buf_puts (&b, f);
        }
      kd_buf_putc (&b, 's');
    }
  return kd_buf_steal (&b);
}

static int
finish_node_name (kd_config_t *cfg, kd_error_t *err)
{
  char host[256];
  const char *from = "--hostname-override";
  char *start, *end;

  if (cfg->node_name == NULL)
    {
      if (gethostname (host, sizeof (host)) < 0)
        return kd_make_error (err, errno, "gethostname");
      host[sizeof (host) - 1] = '\0';
      cfg->node_name = xstrdup (host);
      from = "the host name";
    }
  /* nodeutil.GetHostname: trimmed and lowercased. */
  for (start = cfg->node_name; isspace ((unsigned char) *start); start++)
    ;
  memmove (cfg->node_name, start, strlen (start) + 1);
  for (end = cfg->node_name + strlen (cfg->node_name);
       end > cfg->node_name && isspace ((unsigned char) end[-1]); end--)
    end[-1] = '\0';
  for (char *p = cfg->node_name; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  if (*cfg->node_name == '\0')
    return kd_make_error (err, 0, "empty hostname is invalid");
  if (!kd_is_dns1123_subdomain (cfg->node_name))
    return kd_make_error (
        err, 0,
        "node name `%s` (from %s): a lowercase RFC 1123 subdomain must consist of lower case "
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
        "character",
        cfg->node_name, from);
  return 0;
}

/* Derived defaults and the checks of ValidateKubeletConfiguration that
   concern these settings (same wording). */
static int
finish (kd_config_t *cfg, kd_error_t *err)
{
  struct sockaddr_un sun;

  if (cfg->socket_path == NULL)
    cfg->socket_path = xasprintf ("%s/%s", cfg->run_dir, KD_SOCKET_NAME);
  if (strlen (cfg->socket_path) >= sizeof (sun.sun_path))
    return kd_make_error (err, 0,
                          "invalid argument \"%s\" for \"--socket\" flag: longer than the %zu "
                          "bytes a Unix socket path may have",
                          cfg->socket_path, sizeof (sun.sun_path) - 1);
  if (finish_node_name (cfg, err) < 0)
    return -1;
  if (cfg->max_pods < 0)
    return kd_make_error (err, 0,
                          "invalid configuration: maxPods (--max-pods) %d must not be a negative "
                          "number",
                          cfg->max_pods);
  if (cfg->file_check_frequency_ms <= 0)
    {
      cleanup_free char *d = format_duration (cfg->file_check_frequency_ms);
      return kd_make_error (err, 0,
                            "invalid configuration: fileCheckFrequency (--file-check-frequency) "
                            "%s must be greater than 0",
                            d);
    }
  if (cfg->http_check_frequency_ms <= 0)
    {
      cleanup_free char *d = format_duration (cfg->http_check_frequency_ms);
      return kd_make_error (err, 0,
                            "invalid configuration: httpCheckFrequency (--http-check-frequency) "
                            "%s must be greater than 0",
                            d);
    }
  if (cfg->crashloop_backoff_initial_ms <= 0)
    {
      cleanup_free char *d = format_duration (cfg->crashloop_backoff_initial_ms);
      return kd_make_error (err, 0,
                            "invalid configuration: --crashloop-backoff-initial %s must be "
                            "greater than 0",
                            d);
    }
  if (cfg->crashloop_backoff_max_ms < cfg->crashloop_backoff_initial_ms)
    {
      cleanup_free char *d = format_duration (cfg->crashloop_backoff_max_ms);
      cleanup_free char *i = format_duration (cfg->crashloop_backoff_initial_ms);
      return kd_make_error (err, 0,
                            "invalid configuration: crashLoopBackOff.maxContainerRestartPeriod "
                            "(--crashloop-backoff-max) %s must not be less than "
                            "--crashloop-backoff-initial %s",
                            d, i);
    }
  /* ValidateKubeletConfiguration's image GC checks, in its order. */
  if (cfg->image_gc_high_threshold < 0 || cfg->image_gc_high_threshold > 100)
    return kd_make_error (err, 0,
                          "invalid configuration: imageGCHighThresholdPercent "
                          "(--image-gc-high-threshold) %d must be between 0 and 100, inclusive",
                          cfg->image_gc_high_threshold);
  if (cfg->image_gc_low_threshold < 0 || cfg->image_gc_low_threshold > 100)
    return kd_make_error (err, 0,
                          "invalid configuration: imageGCLowThresholdPercent "
                          "(--image-gc-low-threshold) %d must be between 0 and 100, inclusive",
                          cfg->image_gc_low_threshold);
  if (cfg->image_gc_low_threshold >= cfg->image_gc_high_threshold)
    return kd_make_error (err, 0,
                          "invalid configuration: imageGCLowThresholdPercent "
                          "(--image-gc-low-threshold) %d must be less than "
                          "imageGCHighThresholdPercent (--image-gc-high-threshold) %d",
                          cfg->image_gc_low_threshold, cfg->image_gc_high_threshold);
  if (cfg->container_log_max_files < 2)
    return kd_make_error (err, 0,
                          "invalid configuration: containerLogMaxFiles (--container-log-max-files) "
                          "%d must be equal to or greater than 2",
                          cfg->container_log_max_files);
  if (cfg->container_log_max_size <= 0)
    return kd_make_error (err, 0,
                          "invalid configuration: containerLogMaxSize (--container-log-max-size) "
                          "%" PRId64 " must be greater than 0",
                          cfg->container_log_max_size);
  return 0;
}

static const kd_flag_t *
find_long (const char *name, size_t len)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (flags); i++)
    if (strlen (flags[i].name) == len && strncmp (flags[i].name, name, len) == 0)
      return &flags[i];
  return NULL;
}

static const kd_flag_t *
find_short (char c)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (flags); i++)
    if (flags[i].shorthand == c)
      return &flags[i];
  return NULL;
}

static char *
flag_label (const kd_flag_t *f)
{
  if (f->shorthand)
    return xasprintf ("-%c, --%s", f->shorthand, f->name);
  return xasprintf ("--%s", f->name);
}

int
kd_config_parse_args (kd_config_t *cfg, int argc, char **argv, kd_error_t *err)
{
  bool flags_set[KD_SET__COUNT] = { false };
  kd_buf_t positional = { 0 };
  bool only_positional = false;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const kd_flag_t *f;
      const char *value = NULL;

      if (only_positional || a[0] != '-' || a[1] == '\0')
        {
          kd_buf_printf (&positional, "%s\"%s\"", positional.len ? " " : "", a);
          continue;
        }
      if (strcmp (a, "--") == 0)
        {
          only_positional = true;
          continue;
        }
      if (a[1] == '-')
        {
          const char *name = a + 2;
          const char *eq = strchr (name, '=');
          size_t len = eq ? (size_t) (eq - name) : strlen (name);

          f = find_long (name, len);
          if (f == NULL || len == 0)
            {
              kd_buf_free (&positional);
              return kd_make_error (err, 0, "unknown flag: --%.*s", (int) len, name);
            }
          if (eq)
            value = eq + 1;
          else if (f->is_bool)
            value = "true";
          else if (i + 1 < argc)
            value = argv[++i];
          else
            {
              kd_buf_free (&positional);
              return kd_make_error (err, 0, "flag needs an argument: --%s", f->name);
            }
        }
      else
        {
          /* pflag shorthand: -v 3, -v3, -v=3. */
          f = find_short (a[1]);
          if (f == NULL)
            {
              kd_buf_free (&positional);
              return kd_make_error (err, 0, "unknown shorthand flag: '%c' in %s", a[1], a);
            }
          if (a[2] == '=')
            value = a + 3;
          else if (a[2] != '\0')
            value = a + 2;
          else if (f->is_bool)
            value = "true";
          else if (i + 1 < argc)
            value = argv[++i];
          else
            {
              kd_buf_free (&positional);
              return kd_make_error (err, 0, "flag needs an argument: '%c' in %s", a[1], a);
            }
        }

      if (kd_config_set_value (cfg, f->id, value, err) < 0)
        {
          cleanup_free char *label = flag_label (f);
          kd_buf_free (&positional);
          return kd_error_wrap (err, "invalid argument \"%s\" for \"%s\" flag", value, label);
        }
      flags_set[f->id] = true;
    }

  if (positional.len)
    {
      cleanup_free char *list = kd_buf_steal (&positional);
      return kd_make_error (err, 0, "kubeletd does not take any arguments, got [%s]", list);
    }
  if (cfg->show_help || cfg->show_version)
    return 0;
  if (cfg->config_file && *cfg->config_file
      && kd_config_apply_file (cfg, cfg->config_file, flags_set, err) < 0)
    return -1;
  return finish (cfg, err);
}

void
kd_config_usage (FILE *out)
{
  fprintf (out, "Usage: kubeletd [flags]\n\n"
                "kubeletd runs the static pods of --pod-manifest-path on this node and serves\n"
                "their status on a Unix socket (see kubeletctl).\n\nFlags:\n");
  for (size_t i = 0; i < KD_ARRAY_SIZE (flags); i++)
    {
      const kd_flag_t *f = &flags[i];
      cleanup_free char *left = NULL;

      if (f->help == NULL)
        continue; /* hidden */
      if (f->shorthand)
        left = xasprintf ("-%c, --%s%s%s", f->shorthand, f->name, f->arg ? " " : "",
                          f->arg ? f->arg : "");
      else
        left = xasprintf ("    --%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
      fprintf (out, "  %-40s %s\n", left, f->help);
    }
}
