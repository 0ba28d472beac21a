/* Private to the descriptor codec (codec.c) and its tables (types.c). */
#ifndef KUBELETD_API_CODEC_INTERNAL_H
#define KUBELETD_API_CODEC_INTERNAL_H

#include "kubeletd/api.h"

/* Called by the decoder for a key that `type` has no field for. Returns true
   when the key is a known Kubernetes field that the tables record in their
   own way (a volume source other than hostPath/emptyDir, the deprecated
   spec.serviceAccount), so no unknown-field warning is due. */
bool kd_api_decode_extra_key (const kd_type_t *type, const char *key, const kd_node_t *value,
                              void *obj);

/* Releases what one field of the struct at base owns and zeroes the field
   (codec.c; the decoder uses it so a repeated key replaces the value). */
void kd_api_free_field (const kd_field_t *f, void *base);

#endif
