/* Private to pkg/daemon: the status API routes (routes.c) that daemon.c
   installs on its server. */
#ifndef KUBELETD_DAEMON_INTERNAL_H
#define KUBELETD_DAEMON_INTERNAL_H

#include "kubeletd/daemon.h"
#include "kubeletd/imagesvc.h"
#include "kubeletd/podmgr.h"
#include "kubeletd/server.h"

/* Adds GET /healthz, /pods, /pods/<namespace>/<name> and /version. The
   store must outlive the server. */
void kd_daemon_routes_add (kd_server_t *srv, kd_pod_store_t *store);

/* Adds the image routes (routes_images.c); svc must outlive the server. */
void kd_daemon_image_routes_add (kd_server_t *srv, kd_image_service_t *svc);

/* Adds GET /containerLogs/<namespace>/<pod>/<container> (routes_logs.c),
   reading under pod_logs_dir; store and loop must outlive the server. */
void kd_daemon_logs_routes_add (kd_server_t *srv, uv_loop_t *loop, kd_pod_store_t *store,
                                const char *pod_logs_dir);

/* auth.c: true for a root peer; otherwise answers 403 Forbidden with the
   message (a v1 Status), logs the refusal with the peer's uid and returns
   false. */
bool kd_daemon_require_root (kd_http_conn_t *conn, const kd_http_request_t *req, const char *fmt,
                             ...) KD_PRINTF (3, 4);

/* Adds POST /exec/<namespace>/<pod>/<container> (routes_exec.c) and GET
   /containers, /containers/<id> (routes_containers.c); everything passed
   must outlive the server. */
void kd_daemon_exec_routes_add (kd_server_t *srv, uv_loop_t *loop, kd_podmgr_t *pods);
void kd_daemon_containers_routes_add (kd_server_t *srv, kd_pod_store_t *store, kd_podmgr_t *pods,
                                      const char *pod_logs_dir);

/* The version.Info object of GET /version. */
json_t *kd_daemon_version_json (void);

/* sd_notify: "READY=1" once serving, "STOPPING=1" on a stop signal. */
void kd_daemon_notify (const char *state);

#endif
