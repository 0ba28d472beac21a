/* Private to the image store (blob.c, prepare.c, store.c, store-json.c). */
#ifndef KUBELETD_IMAGE_STORE_INTERNAL_H
#define KUBELETD_IMAGE_STORE_INTERNAL_H

#include "kubeletd/image.h"

/* "sha256:" + 64 hex + NUL */
#define KD_DIGEST_LEN 72

struct kd_image_store
{
  char *dir; /* immutable after open: pool threads read it */
  kd_image_t **images;
  size_t n_images;
  size_t cap_images;
};

/* An image manifest (OCI or Docker schema2), the parts the store needs. */
typedef struct
{
  char *media_type;
  char *config_digest;
  int64_t config_size;
  char **layers; /* digests, base first */
  int64_t *layer_sizes;
  size_t n_layers;
  size_t raw_len; /* bytes of the manifest blob */
} kd_store_manifest_t;

/* "sha256:<64 lowercase hex>": the only digests the store accepts, and the
   only ones that may become part of a path. */
bool kd_store_digest_ok (const char *digest);
void kd_store_sha256 (const void *data, size_t len, char out[KD_DIGEST_LEN]);

/* Reads and verifies the manifest and its config. */
int kd_store_load_manifest (const kd_image_store_t *s, const char *manifest_digest,
                            kd_store_manifest_t *m, kd_image_config_t *cfg, kd_error_t *err);
void kd_store_manifest_free (kd_store_manifest_t *m);
/* chain(L0) = diff_id(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)). */
char **kd_store_chain_ids (char *const *diff_ids, size_t n);
char *kd_store_layer_dir (const kd_image_store_t *s, const char *chain_id);

/* Removes a tree, making directories writable first. Missing is fine. */
int kd_store_rm_rf (const char *path, kd_error_t *err);
/* fsync a directory so that a rename into it is durable. */
void kd_store_sync_dir (const char *dir);

/* images.json */
int kd_store_load_index (kd_image_store_t *s, kd_error_t *err);
int kd_store_save_index (const kd_image_store_t *s, kd_error_t *err);
void kd_store_image_free (kd_image_t *img);

/* The layer media types an image may have (OCI and Docker; plain, gzip,
   zstd): what a pull accepts and what the store prepares (prepare.c). */
extern const char *const kd_store_layer_types[];
extern const size_t kd_store_n_layer_types;

#endif
