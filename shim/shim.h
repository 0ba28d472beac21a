/* kubeletd-shim's private header: the log writer, the container table and
 * the socket server, all driven by one epoll loop (see include/kubeletd/shim.h
 * for the files and the protocol).
 *
 * Why no libuv: the shim lives as long as its pod and must stay well under a
 * MiB of memory; a plain epoll loop, a signalfd and a few buffers suffice.
 *
 * How the pieces fit:
 *  1. main.c parses `start` / `exec`, sets up the namespaces, detaches.
 *  2. server.c owns the epoll fd, the listening socket, the one client and
 *     the signalfd; it calls containers.c for each request and each SIGCHLD.
 *  3. containers.c spawns containers (kd_runtime_spawn) with pipes for
 *     stdout/stderr, feeds the pipes to logs.c, reaps, writes state.json and
 *     asks server.c to send the exit event.
 */
#ifndef KUBELETD_SHIM_PRIVATE_H
#define KUBELETD_SHIM_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "kubeletd/util.h"

/* ---- logs.c: the CRI log writer ----------------------------------------- */

/* A line longer than this is written in pieces tagged P (containerd's
   default max_container_log_line_size). */
#define SHIM_LOG_MAX_LINE 16384

typedef enum
{
  SHIM_STDOUT = 0,
  SHIM_STDERR = 1,
} shim_stream_t;

typedef struct shim_log shim_log_t;

/* Opens (appends to) path. max_size 0: never rotate. max_files counts the
   live file too, as the kubelet's --container-log-max-files does. */
int shim_log_open (const char *path, int64_t max_size, int max_files, shim_log_t **out,
                   kd_error_t *err) KD_WUR;
/* Feeds bytes read from a stream; complete lines are written tagged F,
   pieces of over-long lines tagged P, all stamped with now_ns. */
void shim_log_feed (shim_log_t *l, shim_stream_t s, const char *data, size_t n, int64_t now_ns);
/* The stream reached EOF: a pending line without newline is written as P. */
void shim_log_eof (shim_log_t *l, shim_stream_t s, int64_t now_ns);
/* Write failures so far (a full disk never stops the container). */
uint64_t shim_log_errors (const shim_log_t *l);
void shim_log_close (shim_log_t *l);

/* ---- containers.c ------------------------------------------------------- */

typedef struct shim_ctr shim_ctr_t;

/* What epoll reports on: data.ptr of every registered fd points to one. */
typedef enum
{
  SHIM_SRC_LISTEN,
  SHIM_SRC_CLIENT,
  SHIM_SRC_SIGNAL,
  SHIM_SRC_PIPE,
} shim_src_kind_t;

typedef struct
{
  shim_src_kind_t kind;
  int fd;
  shim_ctr_t *ctr; /* SHIM_SRC_PIPE */
  shim_stream_t stream;
} shim_src_t;

/* Each returns a reply object ({"ok":true,...}) or fills err. */
int shim_ctr_create (const char *pod_dir, const char *id, json_t **reply, kd_error_t *err) KD_WUR;
int shim_ctr_kill (const char *id, int sig, kd_error_t *err) KD_WUR;
int shim_ctr_delete (const char *id, kd_error_t *err) KD_WUR;
/* Frees the containers deleted during the last epoll batch. */
void shim_ctr_collect (void);
json_t *shim_ctr_list (void);
/* Calls fn with the event of every exited container still known. */
void shim_ctr_foreach_exited (void (*fn) (json_t *event));
/* A pipe of ctr is readable (or hung up). */
void shim_ctr_on_pipe (shim_src_t *src);
/* SIGCHLD: reaps every child; finishes exits whose pipes are drained. */
void shim_ctr_reap (void);
/* Finishes exits whose pipes did not reach EOF in time; returns the epoll
   timeout (ms) until the next deadline, or -1. */
int shim_ctr_timeouts (void);
/* SIGKILL to every container, reaps them (bounded), records their exits. */
void shim_ctr_kill_all (void);

/* ---- server.c ----------------------------------------------------------- */

int shim_server_add_fd (shim_src_t *src) KD_WUR;
void shim_server_del_fd (shim_src_t *src);
/* Sends {"event":"exit",...} when a client is connected; takes the ref. */
void shim_server_send_event (json_t *event);
/* Runs the loop until `shutdown`; never returns. */
void shim_server_run (const char *pod_dir, int listen_fd) __attribute__ ((noreturn));

/* ---- main.c, exec.c ----------------------------------------------------- */

/* `kubeletd-shim exec`: becomes CMD, or exits 126/127. */
int shim_exec_main (int argc, char **argv) __attribute__ ((noreturn));

/* Unmounts the namespace handles and removes shim.sock and shim.pid. */
void shim_cleanup_files (const char *pod_dir);

#endif
