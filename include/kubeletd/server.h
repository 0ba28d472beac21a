/* server: HTTP/1.1 on a Unix socket, on the libuv loop, with http-parser.
 *
 * Why: the status API (DESIGN §5) and kubeletctl talk over this socket. It
 * must answer in microseconds, and no client (slow, garbage, huge,
 * disconnecting) may stall the loop or crash the daemon.
 *
 * What it owns: the listening socket, the connections, request parsing,
 * keep-alive and pipelining (one request at a time per connection, later
 * ones wait in the buffer), limits and timeouts, routing, and the v1 Status
 * error bodies.
 *
 * How to use:
 *  1. kd_server_new (loop, &opts, &srv, &err) binds and listens.
 *  2. kd_server_route (srv, "GET", "/pods/", false, handler, data) for each
 *     route (exact path or prefix; the first match wins; a path that matches
 *     with another method gives 405, none gives 404).
 *  3. A handler answers now or later with exactly one kd_http_respond* call
 *     (or a stream: begin, write..., end) on the connection it was given.
 *  4. kd_server_close (srv) stops listening and closes every connection.
 */
#ifndef KUBELETD_SERVER_H
#define KUBELETD_SERVER_H

#include <jansson.h>
#include <sys/types.h>
#include <uv.h>

#include "kubeletd/util.h"

typedef struct kd_server kd_server_t;
typedef struct kd_http_conn kd_http_conn_t;

typedef struct
{
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* percent-decoded, without the query */
  const char *query;  /* raw query string without '?', "" when none */
  const char *body;
  size_t body_len;
  uid_t peer_uid; /* SO_PEERCRED of the connection */
  gid_t peer_gid;
  pid_t peer_pid;
} kd_http_request_t;

typedef void (*kd_http_handler_t) (kd_http_conn_t *conn, const kd_http_request_t *req, void *data);

typedef struct
{
  const char *socket_path;
  mode_t socket_mode;         /* default 0660 */
  size_t max_connections;     /* default 256 */
  size_t max_request_bytes;   /* headers + body; default 1 MiB */
  uint64_t header_timeout_ms; /* a request must arrive whole within; default 10000 */
  uint64_t idle_timeout_ms;   /* keep-alive idle; default 60000 */
} kd_server_opts_t;

int kd_server_new (uv_loop_t *loop, const kd_server_opts_t *opts, kd_server_t **out,
                   kd_error_t *err) KD_WUR;
void kd_server_route (kd_server_t *srv, const char *method, const char *path, bool prefix,
                      kd_http_handler_t fn, void *data);
/* Stops listening, closes all connections, frees srv after the close
   callbacks (the loop must run once more). */
void kd_server_close (kd_server_t *srv);

/* The value of a query parameter, percent-decoded, or NULL. Caller frees. */
char *kd_http_query_get (const kd_http_request_t *req, const char *key);

/* Responses. Each takes ownership of nothing except `json` (stolen). */
void kd_http_respond (kd_http_conn_t *conn, int status, const char *content_type, const char *body,
                      size_t len);
void kd_http_respond_json (kd_http_conn_t *conn, int status, json_t *json);
/* The same as kd_http_respond with a shared body: sent without a copy,
   held (a reference) until written. */
void kd_http_respond_shared (kd_http_conn_t *conn, int status, const char *content_type,
                             kd_shared_t *body);
/* A v1 Status body: {"kind":"Status","apiVersion":"v1","metadata":{},
   "status":"Failure","message":...,"reason":reason,"code":status}. */
void kd_http_respond_status (kd_http_conn_t *conn, int status, const char *reason, const char *fmt,
                             ...) KD_PRINTF (4, 5);
/* Chunked streaming: begin once, write any number of times, end once. */
void kd_http_stream_begin (kd_http_conn_t *conn, int status, const char *content_type);
void kd_http_stream_write (kd_http_conn_t *conn, const char *data, size_t len);
void kd_http_stream_end (kd_http_conn_t *conn);
/* Called when the peer goes away during a delayed response or a stream;
   after it the handler must not use conn. */
void kd_http_on_close (kd_http_conn_t *conn, void (*cb) (void *data), void *data);

#endif
