/* Private to image import (import.c, import-source.c).
 *
 * A source is where an import reads files from: an OCI layout directory
 * (files opened beneath it, never outside) or a tar (an OCI archive or a
 * `docker save` tar, read with libarchive: small files are kept in memory
 * by the first pass, large ones are streamed by a second pass).
 *
 * A plan is the list of blobs an import stores. Every item is hashed while
 * it is copied into a blob writer and checked against its expected digest;
 * the writers are committed only once every item checked out, so a bad
 * input stores nothing. */
#ifndef KUBELETD_IMAGE_IMPORT_INTERNAL_H
#define KUBELETD_IMAGE_IMPORT_INTERNAL_H

#include "kubeletd/image.h"

#define KD_IMPORT_MAX_JSON (4 << 20)

typedef struct kd_import_src kd_import_src_t;

int kd_import_src_open (const char *path, kd_import_src_t **out, kd_error_t *err) KD_WUR;
void kd_import_src_free (kd_import_src_t *src);
bool kd_import_src_has (kd_import_src_t *src, const char *name);
/* Reads a whole (small) file of the source. */
int kd_import_src_read (kd_import_src_t *src, const char *name, size_t max, char **data,
                        size_t *len, kd_error_t *err) KD_WUR;

typedef struct
{
  char *name;       /* in the source */
  char *digest;     /* expected "sha256:..", or NULL when it is computed */
  int64_t size;     /* expected, or -1 */
  const char *data; /* when not NULL, the bytes (already read), not the source */
  size_t data_len;

  /* filled in by kd_import_plan_run */
  char got[80]; /* "sha256:.." of what was read */
  int64_t got_size;
  unsigned char magic[4]; /* the first bytes, to tell a compressed layer */
  size_t n_magic;
  kd_blob_writer_t *w;
  void *md; /* the item's own hash while it is copied */
  bool done;
} kd_import_item_t;

typedef struct
{
  kd_import_item_t *items;
  size_t n, cap;
} kd_import_plan_t;

/* Adds an item (deduplicated by name); returns its index. */
size_t kd_import_plan_add (kd_import_plan_t *p, const char *name, const char *digest, int64_t size,
                           const char *data, size_t data_len);
/* Copies every item into a blob writer, checking digests and sizes. */
int kd_import_plan_run (kd_import_plan_t *p, const kd_image_store_t *s, kd_import_src_t *src,
                        kd_error_t *err) KD_WUR;
/* Commits every writer (in plan order). */
int kd_import_plan_commit (kd_import_plan_t *p, kd_error_t *err) KD_WUR;
/* Aborts what is left and frees the plan. */
void kd_import_plan_free (kd_import_plan_t *p);

#endif
