/* Private to pkg/daemon: the status API routes (routes.c) that daemon.c
   installs on its server. */
#ifndef KUBELETD_DAEMON_INTERNAL_H
#define KUBELETD_DAEMON_INTERNAL_H

#include "kubeletd/daemon.h"
#include "kubeletd/server.h"

/* Adds GET /healthz, /pods, /pods/<namespace>/<name> and /version. The
   store must outlive the server. */
void kd_daemon_routes_add (kd_server_t *srv, kd_pod_store_t *store);

/* The version.Info object of GET /version. */
json_t *kd_daemon_version_json (void);

#endif
