/* GET /events: the kubelet's events as a v1 EventList (?namespace= to
   filter), for `kubeletctl describe` and scripts. */
#include "worker-internal.h"

static void
handle_events (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_podmgr_t *m = data;
  cleanup_free char *ns = kd_http_query_get (req, "namespace");

  kd_http_respond_json (conn, 200, kd_events_to_json (m->events, ns && *ns ? ns : NULL));
}

void
kd_podmgr_routes_add (kd_server_t *srv, kd_podmgr_t *m)
{
  kd_server_route (srv, "GET", "/events", false, handle_events, m);
}
