/* execstream: the framing of `POST /exec/...` answers, shared by the daemon
 * (pkg/daemon/routes_exec.c) and kubeletctl (pkg/cli/exec.c).
 *
 * Why: an exec answer carries two output streams and an exit code over one
 * HTTP body. The kubelet multiplexes them over SPDY or WebSocket channels;
 * on a local socket a chunked body of small frames does the same with
 * nothing but curl on the client side.
 *
 * The body (Content-Type KD_EXEC_STREAM_CONTENT_TYPE) is a sequence of
 * frames, each:
 *   1 byte   stream: 1 stdout, 2 stderr, 3 exit
 *   4 bytes  payload length, big-endian (at most KD_EXEC_FRAME_MAX)
 *   N bytes  payload
 * The exit frame comes last, once; its payload is the decimal exit code
 * ("0", "3", "127"; 128+N for a command killed by signal N). A body that
 * ends without an exit frame means the exec was cut short. HTTP chunk
 * boundaries have no relation to frame boundaries.
 *
 * How to use:
 *  1. Writer: kd_exec_frame_header (hdr, stream, len), then hdr and the
 *     payload; or kd_exec_frame_encode to build one frame in a kd_buf_t.
 *  2. Reader: kd_exec_decoder_init, then kd_exec_decoder_feed with each
 *     piece of the body as it arrives; the callback gets every whole frame.
 *     kd_exec_decoder_done tells whether the body ended between frames.
 */
#ifndef KUBELETD_EXECSTREAM_H
#define KUBELETD_EXECSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubeletd/util.h"

#define KD_EXEC_STREAM_CONTENT_TYPE "application/vnd.kubeletd.exec-stream"
#define KD_EXEC_FRAME_HEADER        5
/* A larger length is a corrupt stream, not a big frame. */
#define KD_EXEC_FRAME_MAX (1u << 20)

typedef enum
{
  KD_EXEC_STDOUT = 1,
  KD_EXEC_STDERR = 2,
  KD_EXEC_EXIT = 3,
} kd_exec_stream_t;

/* Fills the 5 header bytes of a frame. */
void kd_exec_frame_header (unsigned char hdr[KD_EXEC_FRAME_HEADER], kd_exec_stream_t stream,
                           uint32_t len);
/* Appends one whole frame to b. */
void kd_exec_frame_encode (kd_buf_t *b, kd_exec_stream_t stream, const void *data, size_t len);
/* Appends the exit frame of code to b. */
void kd_exec_frame_encode_exit (kd_buf_t *b, int code);
/* Parses an exit frame's payload; -1 when it is not a decimal in 0..255. */
int kd_exec_parse_exit (const char *data, size_t len, int *code);

/* Called with each whole frame; returning false stops the decoder (feed
   then fails with err unset by it: the caller knows why it stopped). */
typedef bool (*kd_exec_frame_fn) (kd_exec_stream_t stream, const char *data, size_t len,
                                  void *user);

typedef struct
{
  kd_buf_t pending; /* bytes of an incomplete frame */
  kd_exec_frame_fn fn;
  void *user;
  bool stopped;
} kd_exec_decoder_t;

void kd_exec_decoder_init (kd_exec_decoder_t *d, kd_exec_frame_fn fn, void *user);
/* Feeds bytes; fails on an unknown stream byte or an oversized length. */
int kd_exec_decoder_feed (kd_exec_decoder_t *d, const char *data, size_t len,
                          kd_error_t *err) KD_WUR;
/* True when no partial frame is pending. */
bool kd_exec_decoder_done (const kd_exec_decoder_t *d);
void kd_exec_decoder_free (kd_exec_decoder_t *d);

#endif
