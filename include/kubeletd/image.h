/* image: references, a verified content store, registry pulls, layer
 * unpacking, import, and garbage collection.
 *
 * Why: containers start from OCI images, and an edge node has no other
 * engine to ask. Every byte stored is verified against its digest first, so
 * a crash or a bad registry can never leave a corrupt blob or a tag that
 * points at nothing.
 *
 * What it owns: <root-dir>/images/
 *     blobs/sha256/<hex>        content-addressed blobs (manifests, configs, layers)
 *     layers/<chain-hex>/       each layer unpacked once, by chain ID, shared by images
 *     images.json               the image records and the tag index (atomic rename)
 *     tmp/                      partial downloads and unpacks (cleared at open)
 *
 * Threads: functions marked [any thread] only touch the file system through
 * temp-file-and-rename and may run on libuv's pool (pulls, unpacks);
 * functions marked [loop] read or change the in-memory index and run on the
 * loop thread only.
 *
 * How to use:
 *  1. kd_image_ref_parse () a user's reference (InvalidImageName on error).
 *  2. kd_image_store_open () once at start.
 *  3. On the pool: kd_registry_pull () or kd_image_import_path () stores the
 *     blobs and returns the manifest digest; kd_image_store_prepare ()
 *     unpacks the layers.
 *  4. On the loop: kd_image_store_commit () records the image and its tag.
 *  5. kd_image_store_lookup () / _list () / _remove () / _gc () on the loop;
 *     kd_image_store_lowerdirs () gives the overlay lower directories.
 */
#ifndef KUBELETD_IMAGE_H
#define KUBELETD_IMAGE_H

#include <jansson.h>

#include "kubeletd/util.h"

/* ---- references (distribution/reference grammar) ------------------------- */

typedef struct
{
  char *domain; /* "docker.io", "127.0.0.1:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest" when neither tag nor digest was given; else NULL if none */
  char *digest; /* "sha256:<64 hex>" or NULL */
} kd_image_ref_t;

/* Parses and normalizes ("busybox" -> docker.io/library/busybox:latest).
   On error the message is the reason, for InvalidImageName. */
int kd_image_ref_parse (const char *s, kd_image_ref_t *ref, kd_error_t *err) KD_WUR;
/* "docker.io/library/busybox:1.35", "...@sha256:..", or "...:1.35@sha256:..". */
char *kd_image_ref_string (const kd_image_ref_t *ref);
/* "docker.io/library/busybox". */
char *kd_image_ref_repository (const kd_image_ref_t *ref);
void kd_image_ref_free (kd_image_ref_t *ref);

/* ---- image config (the parts applied to containers) ----------------------- */

typedef struct
{
  char *created_by;
  char *created; /* RFC 3339 or NULL */
  char *comment;
  bool empty_layer;
} kd_image_history_t;

typedef struct
{
  char **entrypoint;
  size_t n_entrypoint;
  char **cmd;
  size_t n_cmd;
  char **env; /* "K=V" */
  size_t n_env;
  char *working_dir;
  char *user;
  char *stop_signal;
  char *architecture;
  char *os;
  int64_t created_ns;
  char **diff_ids; /* "sha256:.." per layer */
  size_t n_diff_ids;
  kd_image_history_t *history;
  size_t n_history;
} kd_image_config_t;

int kd_image_config_parse (const char *json, size_t len, kd_image_config_t *cfg,
                           kd_error_t *err) KD_WUR;
void kd_image_config_free (kd_image_config_t *cfg);

/* ---- the store ----------------------------------------------------------- */

typedef struct
{
  char *id;              /* the config digest "sha256:.." (docker's image ID) */
  char *manifest_digest; /* "sha256:.." */
  char **repo_tags;      /* "docker.io/library/busybox:1.35" */
  size_t n_repo_tags;
  char **repo_digests; /* "docker.io/library/busybox@sha256:<manifest>" */
  size_t n_repo_digests;
  char **layers; /* compressed layer digests, base first */
  size_t n_layers;
  char **chain_ids; /* "sha256:.." per layer, base first */
  size_t n_chain_ids;
  int64_t size; /* bytes of the manifest, the config and the layer blobs */
  int64_t last_used_ns;
  int64_t last_used_saved_ns; /* last_used_ns as images.json last stored it */
  kd_image_config_t config;
  int in_use; /* containers using it (not persisted) */
} kd_image_t;

typedef struct kd_image_store kd_image_store_t;
typedef struct kd_blob_writer kd_blob_writer_t;

/* [loop] Opens (creating) <dir>, loads images.json, clears tmp/. */
int kd_image_store_open (const char *dir, kd_image_store_t **out, kd_error_t *err) KD_WUR;
void kd_image_store_free (kd_image_store_t *s);
const char *kd_image_store_dir (const kd_image_store_t *s);

/* [any thread] Blobs. A writer hashes what it writes into a temp file;
   commit verifies digest (and size when >= 0) and renames into place. */
bool kd_image_store_has_blob (const kd_image_store_t *s, const char *digest);
char *kd_image_store_blob_path (const kd_image_store_t *s, const char *digest);
int kd_blob_writer_new (const kd_image_store_t *s, kd_blob_writer_t **w, kd_error_t *err) KD_WUR;
int kd_blob_writer_write (kd_blob_writer_t *w, const void *data, size_t len,
                          kd_error_t *err) KD_WUR;
int64_t kd_blob_writer_size (const kd_blob_writer_t *w);
int kd_blob_writer_commit (kd_blob_writer_t *w, const char *digest, int64_t size,
                           kd_error_t *err) KD_WUR; /* frees w */
void kd_blob_writer_abort (kd_blob_writer_t *w);    /* frees w, removes the temp */
int kd_image_store_put_blob (const kd_image_store_t *s, const void *data, size_t len,
                             const char *digest, kd_error_t *err) KD_WUR;
int kd_image_store_read_blob (const kd_image_store_t *s, const char *digest, size_t max,
                              char **data, size_t *len, kd_error_t *err) KD_WUR;

/* [any thread] Unpacks every layer of the image manifest `manifest_digest`
   (its manifest, config and layers must be stored) that is not unpacked
   yet, verifying each diff_id. */
int kd_image_store_prepare (const kd_image_store_t *s, const char *manifest_digest,
                            kd_error_t *err) KD_WUR;

/* [loop] Records the prepared image and (if ref is not NULL) tags it with
   the normalized ref; moves the tag off any other image. */
int kd_image_store_commit (kd_image_store_t *s, const char *manifest_digest,
                           const kd_image_ref_t *ref, kd_error_t *err) KD_WUR;
/* [loop] By normalized tag, by name@digest, by id or a unique id prefix
   (at least 12 hex digits). NULL when unknown. */
kd_image_t *kd_image_store_lookup (kd_image_store_t *s, const char *ref);
size_t kd_image_store_list (kd_image_store_t *s, kd_image_t ***out);
/* [loop] Untags `ref`; removes the image when no tag is left (or when ref
   is an id). Refused while in use. Unreferenced blobs and layers go too. */
int kd_image_store_remove (kd_image_store_t *s, const char *ref, kd_error_t *err) KD_WUR;
/* [loop] Overlay lower directories, top layer first. Caller frees. */
int kd_image_store_lowerdirs (kd_image_store_t *s, const kd_image_t *img, char ***dirs, size_t *n,
                              kd_error_t *err) KD_WUR;
void kd_image_store_touch (kd_image_store_t *s, kd_image_t *img); /* last used = now */

/* [loop] Image GC: when the file system holding the store is above
   high_pct used, removes unused images, least recently used first, until
   below low_pct. usage_pct_fn (NULL = statvfs) lets tests simulate usage. */
typedef int (*kd_disk_usage_fn) (const char *path, void *data);
int kd_image_store_gc (kd_image_store_t *s, int high_pct, int low_pct,
                       kd_disk_usage_fn usage_pct_fn, void *data, size_t *removed,
                       kd_error_t *err) KD_WUR;

/* ---- layers ---------------------------------------------------------------- */

/* [any thread] Extracts a layer blob (tar, gzip, zstd) into dest (which
   must not exist) with libarchive's secure extraction, turning OCI
   whiteouts into overlayfs whiteouts; when diff_id is not NULL the
   uncompressed stream must hash to it. Unpacks into a temp dir and renames. */
int kd_layer_unpack (const char *blob_path, const char *diff_id, const char *dest,
                     kd_error_t *err) KD_WUR;

/* ---- registry ---------------------------------------------------------------- */

typedef struct
{
  char **mirrors; /* "HOST=URL" (--registry-mirror), e.g. "docker.io=http://127.0.0.1:5000" */
  size_t n_mirrors;
  char **insecure; /* "HOST[:PORT]" (--insecure-registry): plain HTTP allowed */
  size_t n_insecure;
  const char *auth_file; /* docker config.json-style {"auths":{host:{auth|username,password}}} */
  const char *arch;      /* NULL = this machine's ("amd64", "arm64", ...) */
  long timeout_s;        /* per request without progress; default 30 */
} kd_registry_opts_t;

typedef void (*kd_pull_progress_fn) (void *data, int64_t done, int64_t total);

/* [any thread] Pulls ref into the store (manifest, config, layers, each
   verified) and returns the platform manifest's digest. Blocking. */
int kd_registry_pull (const kd_registry_opts_t *opts, const kd_image_store_t *s,
                      const kd_image_ref_t *ref, kd_pull_progress_fn progress, void *data,
                      char **manifest_digest, kd_error_t *err) KD_WUR;

/* ---- import ------------------------------------------------------------------- */

/* [any thread] Imports an OCI image layout directory, an OCI archive (tar
   of a layout) or a `docker save` tar. Returns the manifest digest and the
   reference found in the input (org.opencontainers.image.ref.name or
   RepoTags; NULL if none). */
int kd_image_import_path (const kd_image_store_t *s, const char *path, char **manifest_digest,
                          char **ref_name, kd_error_t *err) KD_WUR;
/* [any thread] The same, choosing among several images of the input the
   one named `want` (an org.opencontainers.image.ref.name or
   io.containerd.image.name annotation of a layout, a RepoTags entry of a
   docker save tar); NULL when the input holds one image (per platform). */
int kd_image_import_path_ref (const kd_image_store_t *s, const char *path, const char *want,
                              char **manifest_digest, char **ref_name, kd_error_t *err) KD_WUR;

/* ---- applying the image to a container -------------------------------------- */

/* Kubernetes' rule: command+args from the pod when command is set; else
   the image's Entrypoint + the pod's args when args are set; else
   Entrypoint + Cmd. The returned argv is NULL-terminated; caller frees it
   and its strings. */
char **kd_image_container_argv (const kd_image_config_t *cfg, char *const *command,
                                size_t n_command, char *const *args, size_t n_args);

#endif
