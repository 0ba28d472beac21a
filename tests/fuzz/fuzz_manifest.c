/* libFuzzer target for the manifest reader: YAML/JSON bytes through the
   whole pipeline (parse, decode, defaults, static identity, validation,
   positions, printing), then everything freed. */

#include <stdint.h>

#include "kubeletd/manifest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const kd_manifest_opts_t opts = {
    .node_name = "fuzz-node",
    .make_static = true,
    .seen_ns = 1700000000000000000LL,
  };
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;
  FILE *devnull;

  if (kd_manifest_load_buffer ("fuzz.yaml", (const char *) data, size, &opts, &m, &err) < 0)
    {
      kd_error_release (&err);
      return 0;
    }
  /* Formatting every message is part of the surface too. */
  devnull = fopen ("/dev/null", "w");
  if (devnull)
    {
      kd_manifest_print (m, devnull);
      fclose (devnull);
    }
  (void) kd_manifest_ok (m);
  kd_manifest_free (m);
  return 0;
}
