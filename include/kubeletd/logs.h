/* logs: reading the CRI log files the shim writes, as the kubelet serves
 * them to `kubectl logs`.
 *
 * Why: a container's output lives in
 * <pod-logs-dir>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log,
 * one "<RFC 3339 nano> <stream> <P|F> <content>" line per piece, rotated by
 * the shim to "<restartCount>.log.<yyyymmdd-hhmmss>[.NNNN]" files (name
 * order is time order). Readers want plain text: the content only, long
 * lines joined again, the selection kubectl asks for (tailLines,
 * sinceSeconds/sinceTime, limitBytes, timestamps), over every file of one
 * container instance, and while following, new lines as they are written.
 *
 * What it owns: the CRI line parser; the sink, which turns physical CRI
 * lines into output (joining P pieces per stream, filtering, prefixing,
 * cutting at the byte limit); the file listing of one instance; the one-shot
 * read; and the follower (pkg/logs/follow.c), an inotify watch
 * (uv_fs_event) on the container's log directory that reads what was
 * appended, follows the live file across a rotation, and ends when the
 * instance is over.
 *
 * Differences from the kubelet, on purpose: tailLines counts whole lines
 * (P pieces joined), not physical CRI lines; the rotated files of the
 * instance are read too, not only the live one; a line is kept or dropped
 * by sinceTime as a whole, by the time of its first piece.
 *
 * How to use:
 *  1. kd_logs_instance_files (dir, restart, &files, &n, &err): the files of
 *     one instance, oldest first, the live "<restart>.log" last.
 *  2. kd_logs_read (files, n, &opts, emit, data, NULL, NULL, &err): writes
 *     the selected output through emit.
 *  3. Following: kd_logs_follower_new (&fopts, &f, &err) (starts the watch),
 *     then kd_logs_follower_run (f) (the read so far, then new lines as they
 *     come); fopts.done tells when the follow is over (limit reached, a new
 *     restart file appeared, the directory went away, fopts.ended said so);
 *     kd_logs_follower_free (f) at any time, also from inside done.
 */
#ifndef KUBELETD_LOGS_H
#define KUBELETD_LOGS_H

#include <uv.h>

#include "kubeletd/util.h"

typedef enum
{
  KD_LOG_STDOUT,
  KD_LOG_STDERR,
} kd_log_stream_t;

/* One physical CRI line. content points into the parsed line. */
typedef struct
{
  int64_t ts_ns;
  kd_log_stream_t stream;
  bool partial; /* tag P: the line goes on in the next piece of this stream */
  const char *content;
  size_t len;
} kd_cri_line_t;

/* Parses one line (without its '\n'). Tags may carry more after ':'
   ("F:x"), as the CRI allows. Returns 0, or -1 when it is not a CRI line. */
int kd_cri_parse_line (const char *line, size_t len, kd_cri_line_t *out);

typedef struct
{
  int64_t tail_lines;  /* < 0: every line */
  int64_t limit_bytes; /* <= 0: no limit */
  int64_t since_ns;    /* lines stamped before this are left out; 0: none */
  bool timestamps;     /* prefix each line with its RFC 3339 nano time and a space */
} kd_logs_opts_t;

/* Output, in pieces as large as convenient. */
typedef void (*kd_logs_emit_fn) (const char *data, size_t len, void *data_);

/* ---- the sink: CRI lines in, text out ---------------------------------- */

typedef struct kd_logs_sink kd_logs_sink_t;

/* emit NULL: count only (kd_logs_sink_lines), no byte limit. skip_lines
   whole lines that pass the since filter are dropped first (the tail). */
kd_logs_sink_t *kd_logs_sink_new (const kd_logs_opts_t *opts, int64_t skip_lines,
                                  kd_logs_emit_fn emit, void *data);
/* Raw file bytes: whole physical lines are handled, an unfinished last one
   waits for the next call. Returns true once the byte limit is reached. */
bool kd_logs_sink_feed (kd_logs_sink_t *s, const char *data, size_t len);
/* The file fed so far will not grow: its unfinished last line is whole. */
bool kd_logs_sink_end_file (kd_logs_sink_t *s);
/* Writes lines still waiting for their last piece (without a newline). */
void kd_logs_sink_flush (kd_logs_sink_t *s);
bool kd_logs_sink_done (const kd_logs_sink_t *s);
/* Lines begun so far that pass the since filter, skipped ones included. */
int64_t kd_logs_sink_lines (const kd_logs_sink_t *s);
void kd_logs_sink_free (kd_logs_sink_t *s);

/* ---- files ----------------------------------------------------------- */

/* "<pod_logs_dir>/<namespace>_<pod>_<uid>/<container>". Caller frees. */
char *kd_logs_container_dir (const char *pod_logs_dir, const char *namespace_, const char *pod,
                             const char *uid, const char *container);
/* The files of instance `restart` in dir: rotated ones in name (= time)
   order, then "<restart>.log" when it exists. A missing dir is no files. */
int kd_logs_instance_files (const char *dir, int restart, char ***files, size_t *n,
                            kd_error_t *err) KD_WUR;
void kd_logs_files_free (char **files, size_t n);
/* The highest restart count with a file in dir, or -1. */
int kd_logs_latest_restart (const char *dir);

/* Reads files in order through a sink (two passes when tail_lines >= 0:
   count, then write the last ones). With live_fd NULL every file is whole
   and everything is written, pending pieces included. With live_fd, the
   last file is the live one: it is left open at the end of what was read
   (*live_fd; -1 when it could not be opened), its unfinished line and the
   pieces still waiting stay in the sink handed over in *sink_out. */
int kd_logs_read (char *const *files, size_t n, const kd_logs_opts_t *opts, kd_logs_emit_fn emit,
                  void *data, kd_logs_sink_t **sink_out, int *live_fd, kd_error_t *err) KD_WUR;

/* ---- following ------------------------------------------------------- */

typedef struct kd_logs_follower kd_logs_follower_t;

typedef struct
{
  uv_loop_t *loop;
  const char *dir; /* the container's log directory */
  int restart;     /* the instance followed */
  kd_logs_opts_t opts;
  kd_logs_emit_fn emit;
  /* The follow is over (after the last emit); not called after
     kd_logs_follower_free. */
  void (*done) (void *data);
  /* Asked every KD_LOGS_STATE_CHECK_MS while nothing is written: true when
     the instance has ended (as the kubelet checks the container state).
     NULL: never. */
  bool (*ended) (void *data);
  void *data;
} kd_logs_follow_opts_t;

#define KD_LOGS_STATE_CHECK_MS 1000

/* Starts watching opts->dir; nothing is read or emitted yet. */
int kd_logs_follower_new (const kd_logs_follow_opts_t *opts, kd_logs_follower_t **out,
                          kd_error_t *err) KD_WUR;
/* Emits what the files hold now (with the selection), then follows. May
   call done before it returns. */
void kd_logs_follower_run (kd_logs_follower_t *f);
/* Stops and releases (the memory goes after the close callbacks). */
void kd_logs_follower_free (kd_logs_follower_t *f);

#endif
