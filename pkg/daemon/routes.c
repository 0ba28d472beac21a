/* The status API routes (DESIGN §5) over the pod store: the kubelet's paths
   and Kubernetes' shapes (PodList, Pod, Status, version.Info), so curl, jq
   and kubectl-minded scripts read them as they would a kubelet's. */
#include "daemon-internal.h"
#include "kubeletd/config.h"

#if defined(__x86_64__)
#define KD_GOARCH "amd64"
#elif defined(__aarch64__)
#define KD_GOARCH "arm64"
#elif defined(__i386__)
#define KD_GOARCH "386"
#elif defined(__arm__)
#define KD_GOARCH "arm"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KD_GOARCH "ppc64le"
#elif defined(__s390x__)
#define KD_GOARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define KD_GOARCH "riscv64"
#else
#define KD_GOARCH "unknown"
#endif

#ifndef KD_GIT_COMMIT
#define KD_GIT_COMMIT ""
#endif

/* The generic message of a Kubernetes 404 for a path it does not serve. */
#define KD_MSG_NO_RESOURCE "the server could not find the requested resource"

static void
handle_healthz (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond (conn, 200, "text/plain; charset=utf-8", "ok", 2);
}

static void
handle_pods (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond_shared (conn, 200, "application/json", kd_pod_store_list_json (data));
}

/* GET /pods/<namespace>/<name>: exactly two non-empty segments. */
static void
handle_pod (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_pod_store_t *store = data;
  const char *rest = req->path + strlen ("/pods/");
  const char *slash = strchr (rest, '/');
  cleanup_free char *ns = NULL;
  const char *name;
  const kd_pod_t *pod;

  if (slash == NULL || slash == rest || slash[1] == '\0' || strchr (slash + 1, '/') != NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound", "%s", KD_MSG_NO_RESOURCE);
      return;
    }
  ns = xstrndup (rest, (size_t) (slash - rest));
  name = slash + 1;
  pod = kd_pod_store_get_any (store, ns, name);
  if (pod == NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound", "pods \"%s\" not found", name);
      return;
    }
  kd_http_respond_json (conn, 200, kd_pod_to_json (pod));
}

json_t *
kd_daemon_version_json (void)
{
  /* k8s.io/apimachinery/pkg/version.Info, every field present as in Go;
     buildDate is Kubernetes' default for builds without stamping. */
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", KD_KUBE_MAJOR,
                    "minor", KD_KUBE_MINOR, "gitVersion", KD_KUBE_GIT_VERSION, "gitCommit",
                    KD_GIT_COMMIT, "gitTreeState", "", "buildDate", "1970-01-01T00:00:00Z",
                    "goVersion", "", "compiler", "gcc", "platform", "linux/" KD_GOARCH);
}

static void
handle_version (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond_json (conn, 200, kd_daemon_version_json ());
}

void
kd_daemon_routes_add (kd_server_t *srv, kd_pod_store_t *store)
{
  static const struct
  {
    const char *path;
    bool prefix;
    kd_http_handler_t fn;
  } routes[] = {
    { "/healthz", false, handle_healthz },
    { "/pods", false, handle_pods },
    { "/pods/", true, handle_pod },
    { "/version", false, handle_version },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (routes); i++)
    kd_server_route (srv, "GET", routes[i].path, routes[i].prefix, routes[i].fn, store);
}
