/* server-internal: what server.c (listening, accepting, routing) and conn.c
 * (one connection: parsing, responses, streams, timeouts) share.
 *
 * Life of a connection:
 *  1. server.c accepts (or adopts) a socket and calls kd_conn_start.
 *  2. conn.c reads into a buffer and runs http_parser over it; a complete
 *     request pauses the parser, so later pipelined requests wait in the
 *     buffer until the current one is answered (answers stay in order).
 *  3. conn.c asks kd_server_dispatch to route the request; the handler
 *     answers now or later with kd_http_respond* on the connection.
 *  4. The connection is freed when its handles are closed and no handler
 *     still holds it (a handler that did not register kd_http_on_close keeps
 *     the memory alive until it answers; its answer is then a no-op).
 */
#ifndef KD_SERVER_INTERNAL_H
#define KD_SERVER_INTERNAL_H

#include <http_parser.h>

#include "kubeletd/server.h"

/* A client that does not read its answers may not make the daemon buffer
   more than this per connection. */
#define KD_HTTP_MAX_QUEUED_WRITE (8u * 1024 * 1024)
/* While this much is queued, later pipelined requests wait (backpressure). */
#define KD_HTTP_PAUSE_QUEUED_WRITE (1u * 1024 * 1024)
/* Request line plus headers; http_parser_parse_url keeps 16-bit offsets, so
   the URL must stay below 64 KiB anyway. */
#define KD_HTTP_MAX_HEADER_BYTES (60u * 1024)

typedef struct kd_route
{
  char *method;
  char *path;
  bool prefix;
  kd_http_handler_t fn;
  void *data;
} kd_route_t;

struct kd_server
{
  uv_loop_t *loop;
  uv_pipe_t listener;
  bool listening; /* the listener handle was initialised */
  kd_server_opts_t opts;
  char *socket_path; /* NULL when the server only adopts fds */
  dev_t sock_dev;    /* the socket file we created, so close removes */
  ino_t sock_ino;    /* ours and not a newer daemon's */
  kd_route_t *routes;
  size_t n_routes, cap_routes;
  kd_http_conn_t *conns; /* open connections, doubly linked */
  size_t n_conns;
  uint64_t refused_logged_ms; /* rate limit of the "too many" warning */
  size_t refused;
  bool closing;
};

typedef enum
{
  KD_CONN_IDLE,      /* between requests: idle timeout */
  KD_CONN_READING,   /* a request has begun: header timeout */
  KD_CONN_HANDLING,  /* the handler owns the answer */
  KD_CONN_STREAMING, /* a chunked answer is in progress */
  KD_CONN_FINISHING, /* last answer queued: flush, shut down, close */
} kd_conn_state_t;

struct kd_http_conn
{
  kd_server_t *srv; /* NULL once closed: the server may be gone */
  kd_http_conn_t *next, *prev;
  uv_loop_t *loop;
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_shutdown_t shutdown_req;
  int refs; /* pipe handle, timer handle, an active handler */
  bool closed;
  size_t sndbuf;       /* the socket's send buffer as raised for a large answer */
  bool handler_active; /* holds a ref until it answers or is told of the close */
  bool in_process;     /* kd_conn_process is on the stack */
  bool reading;
  bool peer_eof;
  kd_conn_state_t state;

  /* limits, copied so that a closed connection needs no server */
  size_t max_request_bytes;
  uint64_t header_timeout_ms;
  uint64_t idle_timeout_ms;

  /* bytes read and not yet parsed: rbuf[roff, rlen) */
  char *rbuf;
  size_t roff, rlen, rcap;

  http_parser parser;
  /* the request being parsed */
  kd_buf_t url;
  kd_buf_t body;
  size_t header_bytes;
  char hname[16]; /* the current header name when short enough to matter */
  size_t hname_len;
  bool hname_too_long;
  bool in_value;
  bool expect_continue;
  int parse_status; /* set by a callback that rejects the request */
  const char *parse_reason;
  char *parse_message;
  bool message_done;

  /* the request being answered */
  kd_http_request_t req;
  char *req_path;
  char *req_query;
  bool head;         /* HEAD: headers only */
  bool keep_alive;   /* after this answer */
  bool chunked;      /* the stream uses chunked coding (HTTP/1.1) */
  int64_t start_ns;  /* monotonic, first byte of the request */
  int status;        /* of the answer, for the log */
  const char *route; /* the matched route's pattern (metrics), NULL if none */

  uid_t peer_uid;
  gid_t peer_gid;
  pid_t peer_pid;

  void (*on_close) (void *data);
  void *on_close_data;
};

/* conn.c */
/* Allocates a connection with an initialised (unconnected) pipe and links
   it into srv; the caller accepts or opens the pipe, then calls
   kd_conn_start, or kd_conn_close on failure. */
kd_http_conn_t *kd_conn_new (kd_server_t *srv);
void kd_conn_start (kd_http_conn_t *conn);
/* Closes now: pending writes are dropped; an active handler is told from
   the handle's close callback, never from inside its own call. */
void kd_conn_close (kd_http_conn_t *conn);
/* An answer with extra header lines ("Name: value\r\n"...), or NULL. */
void kd_conn_respond_headers (kd_http_conn_t *conn, int status, const char *content_type,
                              const char *headers, const char *body, size_t len);
/* server.c */
/* A v1 Status answer, with extra header lines or NULL. */
void kd_conn_respond_status_headers (kd_http_conn_t *conn, int status, const char *reason,
                                     const char *headers, const char *message);
/* Routes conn->req and calls the handler (or answers 404/405). */
void kd_server_dispatch (kd_server_t *srv, kd_http_conn_t *conn);
void kd_server_unlink_conn (kd_server_t *srv, kd_http_conn_t *conn);

/* Hands an already connected stream socket to the server as a new
   connection (tests, fuzzing, socket activation). Takes the fd. */
int kd_server_adopt_fd (kd_server_t *srv, int fd, kd_error_t *err) KD_WUR;
/* Connections allocated and not yet freed, in the whole process (tests use
   it to wait for teardown and to prove nothing leaks). */
size_t kd_server_live_conns (void);

/* Percent-decodes s[0, len) into a new string. '+' becomes a space when
   plus_space. Returns NULL on an invalid escape or an encoded NUL. */
char *kd_http_unescape (const char *s, size_t len, bool plus_space);

#endif
