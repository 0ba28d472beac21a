/* client: HTTP requests (GET, POST, DELETE) to kubeletd's status API over
 * its Unix socket.
 *
 * Why: kubeletctl (and the tests) talk to the daemon only through the
 * socket; every command needs the same connect, timeout and error handling,
 * and the same turning of an error answer (a v1 Status) into one line.
 *
 * What it owns: a libcurl easy handle per request (CURLOPT_UNIX_SOCKET_PATH,
 * URL http://localhost/...), the connect and total timeouts, and the
 * wording of the connect error ("cannot connect to kubeletd at PATH:
 * No such file or directory").
 *
 * How to use:
 *  1. kd_client_socket_path (flag) picks the socket: the --socket value,
 *     else $KUBELETD_SOCKET, else KD_CLIENT_DEFAULT_SOCKET.
 *  2. kd_client_get_json (socket, "/pods", &json, &code, &err): 0 with the
 *     parsed body on a 2xx answer; on any other answer -1 with the Status'
 *     message in err and the HTTP code in *code (0 when nothing answered).
 *  3. kd_client_get when the body is not JSON (healthz, logs).
 */
#ifndef KUBELETD_CLIENT_H
#define KUBELETD_CLIENT_H

#include <jansson.h>

#include "kubeletd/util.h"

#define KD_CLIENT_DEFAULT_SOCKET "/run/kubeletd/kubeletd.sock"

typedef struct
{
  long code;  /* HTTP status */
  char *body; /* NUL-terminated, never NULL after a successful call */
  size_t len;
} kd_client_response_t;

typedef struct
{
  long connect_timeout_ms; /* 0 = 5000 */
  long timeout_ms;         /* whole request; 0 = 30000 */
} kd_client_opts_t;

/* The socket to use: flag_value when not NULL, else $KUBELETD_SOCKET when
   set and not empty, else KD_CLIENT_DEFAULT_SOCKET. */
const char *kd_client_socket_path (const char *flag_value);

/* Timeouts for the requests of this process (opts NULL = defaults). */
void kd_client_set_opts (const kd_client_opts_t *opts);

/* GET path (starting with '/', already escaped) on the socket. Any HTTP
   answer is a success (resp->code tells which); -1 only when no answer
   came (connect refused, socket missing, timeout, broken reply). */
int kd_client_get (const char *socket_path, const char *path, kd_client_response_t *resp,
                   kd_error_t *err) KD_WUR;
void kd_client_response_free (kd_client_response_t *resp);

/* Any method ("GET", "POST" without a body, "DELETE"); timeout_ms 0 = the
   timeout of kd_client_set_opts (a pull may need much longer). Safe to
   call from two threads at once (each request has its own handle). */
int kd_client_request (const char *socket_path, const char *method, const char *path,
                       long timeout_ms, kd_client_response_t *resp, kd_error_t *err) KD_WUR;
/* kd_client_get_json for any method. */
int kd_client_request_json (const char *socket_path, const char *method, const char *path,
                            long timeout_ms, json_t **out, long *code, kd_error_t *err) KD_WUR;

/* Takes each piece of a streamed body as it arrives; false stops the
   transfer (the call then fails). */
typedef bool (*kd_client_stream_fn) (const char *data, size_t len, void *user);
/* GET path with no total timeout (only the connect timeout): a 2xx body
   goes to fn piece by piece as the server sends it (`logs -f`); any other
   answer is collected into resp->body as kd_client_get does. resp->code
   tells which; resp->body is "" after a 2xx. */
int kd_client_get_stream (const char *socket_path, const char *path, kd_client_stream_fn fn,
                          void *user, kd_client_response_t *resp, kd_error_t *err) KD_WUR;

/* GET and parse a JSON body. Non-2xx answers fail with the message of the
   v1 Status body (or "the server returned HTTP 500: <body>"). code may be
   NULL. */
int kd_client_get_json (const char *socket_path, const char *path, json_t **out, long *code,
                        kd_error_t *err) KD_WUR;

/* The one-line message of an error answer: a Status' "message", else
   "the server returned HTTP <code>" plus the first line of the body. Caller
   frees. */
char *kd_client_status_message (long code, const char *body, size_t len);

/* Percent-escapes one path segment (a pod or namespace name). Caller
   frees. */
char *kd_client_escape (const char *segment);

#endif
