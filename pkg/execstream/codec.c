/* The exec stream's frames: see include/kubeletd/execstream.h. */
#include <inttypes.h>

#include "kubeletd/execstream.h"

void
kd_exec_frame_header (unsigned char hdr[KD_EXEC_FRAME_HEADER], kd_exec_stream_t stream,
                      uint32_t len)
{
  hdr[0] = (unsigned char) stream;
  hdr[1] = (unsigned char) (len >> 24);
  hdr[2] = (unsigned char) (len >> 16);
  hdr[3] = (unsigned char) (len >> 8);
  hdr[4] = (unsigned char) len;
}

void
kd_exec_frame_encode (kd_buf_t *b, kd_exec_stream_t stream, const void *data, size_t len)
{
  unsigned char hdr[KD_EXEC_FRAME_HEADER];

  /* Writers split larger pieces: a reader refuses them. */
  if (len > KD_EXEC_FRAME_MAX)
    abort ();
  kd_exec_frame_header (hdr, stream, (uint32_t) len);
  kd_buf_append (b, (const char *) hdr, sizeof (hdr));
  if (len)
    kd_buf_append (b, data, len);
}

void
kd_exec_frame_encode_exit (kd_buf_t *b, int code)
{
  char s[16];
  int n = snprintf (s, sizeof (s), "%d", code);

  kd_exec_frame_encode (b, KD_EXEC_EXIT, s, (size_t) n);
}

int
kd_exec_parse_exit (const char *data, size_t len, int *code)
{
  int v = 0;

  if (len == 0 || len > 3)
    return -1;
  for (size_t i = 0; i < len; i++)
    {
      if (data[i] < '0' || data[i] > '9')
        return -1;
      v = v * 10 + (data[i] - '0');
    }
  if (v > 255)
    return -1;
  *code = v;
  return 0;
}

void
kd_exec_decoder_init (kd_exec_decoder_t *d, kd_exec_frame_fn fn, void *user)
{
  memset (d, 0, sizeof (*d));
  d->fn = fn;
  d->user = user;
}

static uint32_t
frame_len (const unsigned char *h)
{
  return ((uint32_t) h[1] << 24) | ((uint32_t) h[2] << 16) | ((uint32_t) h[3] << 8) | h[4];
}

/* Checks a whole header; 0 when it may be followed. */
static int
check_header (const unsigned char *h, kd_error_t *err)
{
  if (h[0] < KD_EXEC_STDOUT || h[0] > KD_EXEC_EXIT)
    return kd_make_error (err, EPROTO, "exec stream: unknown stream %u", h[0]);
  if (frame_len (h) > KD_EXEC_FRAME_MAX)
    return kd_make_error (err, EPROTO, "exec stream: frame of %" PRIu32 " bytes is too large",
                          frame_len (h));
  return 0;
}

int
kd_exec_decoder_feed (kd_exec_decoder_t *d, const char *data, size_t len, kd_error_t *err)
{
  if (d->stopped)
    return -1;
  /* The common case keeps no copy: whole frames are handed over from data;
     only the tail of an incomplete frame waits in pending. */
  while (len > 0)
    {
      const unsigned char *h;
      const char *payload;
      size_t have, need;
      uint32_t n;

      if (d->pending.len > 0 || len < KD_EXEC_FRAME_HEADER)
        {
          /* Complete the header first, then the payload, in pending. */
          size_t take;

          if (d->pending.len < KD_EXEC_FRAME_HEADER)
            {
              take = KD_EXEC_FRAME_HEADER - d->pending.len;
              if (take > len)
                take = len;
              kd_buf_append (&d->pending, data, take);
              data += take;
              len -= take;
              if (d->pending.len < KD_EXEC_FRAME_HEADER)
                return 0;
              if (check_header ((const unsigned char *) d->pending.s, err) < 0)
                return -1;
            }
          n = frame_len ((const unsigned char *) d->pending.s);
          have = d->pending.len - KD_EXEC_FRAME_HEADER;
          take = n - have;
          if (take > len)
            take = len;
          kd_buf_append (&d->pending, data, take);
          data += take;
          len -= take;
          if (d->pending.len - KD_EXEC_FRAME_HEADER < n)
            return 0;
          d->pending.len = 0;
          if (!d->fn ((kd_exec_stream_t) d->pending.s[0], d->pending.s + KD_EXEC_FRAME_HEADER, n,
                      d->user))
            {
              d->stopped = true;
              return -1;
            }
          continue;
        }
      h = (const unsigned char *) data;
      if (check_header (h, err) < 0)
        return -1;
      n = frame_len (h);
      need = KD_EXEC_FRAME_HEADER + (size_t) n;
      if (len < need)
        {
          kd_buf_append (&d->pending, data, len);
          return 0;
        }
      payload = data + KD_EXEC_FRAME_HEADER;
      data += need;
      len -= need;
      if (!d->fn ((kd_exec_stream_t) h[0], payload, n, d->user))
        {
          d->stopped = true;
          return -1;
        }
    }
  return 0;
}

bool
kd_exec_decoder_done (const kd_exec_decoder_t *d)
{
  return d->pending.len == 0;
}

void
kd_exec_decoder_free (kd_exec_decoder_t *d)
{
  kd_buf_free (&d->pending);
}
