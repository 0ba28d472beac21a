/* Digests and base64 through nettle: small (a few pages mapped, where
   libcrypto's providers cost an idle daemon 3 MiB), with the CPU's SHA
   extensions when it has them (Debian builds nettle "fat"). */
#include <nettle/base64.h>
#include <nettle/md5.h>
#include <nettle/sha2.h>

#include "kubeletd/util.h"

struct kd_digest
{
  kd_digest_alg_t alg;
  union
  {
    struct md5_ctx md5;
    struct sha256_ctx sha256;
    struct sha512_ctx sha512;
  } u;
};

static void
kd_digest_init (kd_digest_t *d, kd_digest_alg_t alg)
{
  d->alg = alg;
  switch (alg)
    {
    case KD_MD5:
      md5_init (&d->u.md5);
      break;
    case KD_SHA256:
      sha256_init (&d->u.sha256);
      break;
    case KD_SHA512:
      sha512_init (&d->u.sha512);
      break;
    }
}

kd_digest_t *
kd_digest_new (kd_digest_alg_t alg)
{
  kd_digest_t *d = xmalloc (sizeof *d);
  kd_digest_init (d, alg);
  return d;
}

void
kd_digest_update (kd_digest_t *d, const void *data, size_t len)
{
  switch (d->alg)
    {
    case KD_MD5:
      md5_update (&d->u.md5, len, data);
      break;
    case KD_SHA256:
      sha256_update (&d->u.sha256, len, data);
      break;
    case KD_SHA512:
      sha512_update (&d->u.sha512, len, data);
      break;
    }
}

size_t
kd_digest_final (kd_digest_t *d, unsigned char out[KD_DIGEST_MAX])
{
  switch (d->alg)
    {
    case KD_MD5:
      md5_digest (&d->u.md5, MD5_DIGEST_SIZE, out);
      return MD5_DIGEST_SIZE;
    case KD_SHA256:
      sha256_digest (&d->u.sha256, SHA256_DIGEST_SIZE, out);
      return SHA256_DIGEST_SIZE;
    case KD_SHA512:
      sha512_digest (&d->u.sha512, SHA512_DIGEST_SIZE, out);
      return SHA512_DIGEST_SIZE;
    }
  abort ();
}

void
kd_digest_free (kd_digest_t *d)
{
  free (d);
}

size_t
kd_digest (kd_digest_alg_t alg, const void *data, size_t len, unsigned char out[KD_DIGEST_MAX])
{
  kd_digest_t d;

  kd_digest_init (&d, alg);
  kd_digest_update (&d, data, len);
  return kd_digest_final (&d, out);
}

void
kd_hex (const unsigned char *bytes, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < n; i++)
    {
      out[2 * i] = digits[bytes[i] >> 4];
      out[2 * i + 1] = digits[bytes[i] & 15];
    }
  out[2 * n] = '\0';
}

char *
kd_base64_encode (const void *data, size_t len)
{
  char *out = xmalloc (BASE64_ENCODE_RAW_LENGTH (len) + 1);

  base64_encode_raw (out, len, data);
  out[BASE64_ENCODE_RAW_LENGTH (len)] = '\0';
  return out;
}

char *
kd_base64_decode (const char *s, size_t *len)
{
  struct base64_decode_ctx ctx;
  size_t n = strlen (s), k = BASE64_DECODE_LENGTH (n);
  char *out = xmalloc (k + 1);

  base64_decode_init (&ctx);
  if (!base64_decode_update (&ctx, &k, (uint8_t *) out, n, s) || !base64_decode_final (&ctx))
    {
      free (out);
      return NULL;
    }
  out[k] = '\0';
  if (len)
    *len = k;
  return out;
}
