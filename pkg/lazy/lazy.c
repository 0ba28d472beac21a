/* The heavy libraries, loaded at first use (see kubeletd/lazy.h). */
#define KD_LAZY_NO_MACROS
#include <dlfcn.h>
#include <pthread.h>

#include "kubeletd/lazy-archive.h"
#include "kubeletd/lazy-curl.h"
#include "kubeletd/util.h"

#define KD_LAZY_NAME(f) #f,

/* Resolves every name of a table; a missing library or symbol is a broken
   installation, as it would be for the dynamic loader at start. */
static void
load (const char *soname, const char *const *names, void **slots, size_t n)
{
  void *h = dlopen (soname, RTLD_NOW | RTLD_LOCAL);

  if (h == NULL)
    {
      kd_err ("cannot load %s: %s", soname, dlerror ());
      abort ();
    }
  for (size_t i = 0; i < n; i++)
    if ((slots[i] = dlsym (h, names[i])) == NULL)
      {
        kd_err ("cannot load %s: no symbol %s", soname, names[i]);
        abort ();
      }
  kd_vlog (3, "loaded %s", soname);
}

#ifndef KD_LIBCURL_SONAME
#define KD_LIBCURL_SONAME "libcurl.so.4"
#endif
#ifndef KD_LIBARCHIVE_SONAME
#define KD_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

/* One library: its table, filled once by kd_lazy_<lib> (). */
#define KD_LAZY_LIBRARY(lib, soname, funcs)                                                        \
  static kd_lazy_##lib##_t lib##_table;                                                            \
  static pthread_once_t lib##_once = PTHREAD_ONCE_INIT;                                            \
                                                                                                   \
  static void load_##lib (void)                                                                    \
  {                                                                                                \
    static const char *const names[] = { funcs (KD_LAZY_NAME) };                                   \
    _Static_assert(sizeof lib##_table == sizeof names / sizeof names[0] * sizeof (void *),         \
                   "one name per slot");                                                           \
    load (soname, names, (void **) &lib##_table, sizeof names / sizeof names[0]);                  \
  }                                                                                                \
                                                                                                   \
  const kd_lazy_##lib##_t *kd_lazy_##lib (void)                                                    \
  {                                                                                                \
    pthread_once (&lib##_once, load_##lib);                                                        \
    return &lib##_table;                                                                           \
  }

KD_LAZY_LIBRARY (curl, KD_LIBCURL_SONAME, KD_LAZY_CURL_FUNCS)
KD_LAZY_LIBRARY (archive, KD_LIBARCHIVE_SONAME, KD_LAZY_ARCHIVE_FUNCS)
