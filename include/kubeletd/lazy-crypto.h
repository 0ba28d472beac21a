/* libcrypto (digests and base64), loaded at first use: see kubeletd/lazy.h.
   Include this instead of the library's header; calls keep their names. */
#ifndef KUBELETD_LAZY_CRYPTO_H
#define KUBELETD_LAZY_CRYPTO_H

#include <openssl/evp.h>

#include "kubeletd/lazy.h"

#define KD_LAZY_CRYPTO_FUNCS(X)                                                                    \
  X (EVP_MD_CTX_new)                                                                               \
  X (EVP_MD_CTX_free)                                                                              \
  X (EVP_DigestInit_ex)                                                                            \
  X (EVP_DigestUpdate)                                                                             \
  X (EVP_DigestFinal_ex)                                                                           \
  X (EVP_Digest)                                                                                   \
  X (EVP_md5)                                                                                      \
  X (EVP_sha256)                                                                                   \
  X (EVP_sha512)                                                                                   \
  X (EVP_EncodeBlock)                                                                              \
  X (EVP_DecodeBlock)

typedef struct
{
  KD_LAZY_CRYPTO_FUNCS (KD_LAZY_SLOT)
} kd_lazy_crypto_t;

/* The table, loaded on the first call (any thread); aborts with the
   loader's message when libcrypto.so.3 cannot be loaded. */
const kd_lazy_crypto_t *kd_lazy_crypto (void);

#ifndef KD_LAZY_NO_MACROS
#undef EVP_MD_CTX_new
#define EVP_MD_CTX_new (kd_lazy_crypto ()->EVP_MD_CTX_new)
#undef EVP_MD_CTX_free
#define EVP_MD_CTX_free (kd_lazy_crypto ()->EVP_MD_CTX_free)
#undef EVP_DigestInit_ex
#define EVP_DigestInit_ex (kd_lazy_crypto ()->EVP_DigestInit_ex)
#undef EVP_DigestUpdate
#define EVP_DigestUpdate (kd_lazy_crypto ()->EVP_DigestUpdate)
#undef EVP_DigestFinal_ex
#define EVP_DigestFinal_ex (kd_lazy_crypto ()->EVP_DigestFinal_ex)
#undef EVP_Digest
#define EVP_Digest (kd_lazy_crypto ()->EVP_Digest)
#undef EVP_md5
#define EVP_md5 (kd_lazy_crypto ()->EVP_md5)
#undef EVP_sha256
#define EVP_sha256 (kd_lazy_crypto ()->EVP_sha256)
#undef EVP_sha512
#define EVP_sha512 (kd_lazy_crypto ()->EVP_sha512)
#undef EVP_EncodeBlock
#define EVP_EncodeBlock (kd_lazy_crypto ()->EVP_EncodeBlock)
#undef EVP_DecodeBlock
#define EVP_DecodeBlock (kd_lazy_crypto ()->EVP_DecodeBlock)
#endif

#endif
