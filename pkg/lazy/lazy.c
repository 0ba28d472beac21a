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

static kd_lazy_curl_t curl_table;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
load_curl (void)
{
  static const char *const names[] = { KD_LAZY_CURL_FUNCS (KD_LAZY_NAME) };
  _Static_assert(sizeof curl_table == sizeof names / sizeof names[0] * sizeof (void *),
                 "one name per slot");
  load (KD_LIBCURL_SONAME, names, (void **) &curl_table, sizeof names / sizeof names[0]);
}

const kd_lazy_curl_t *
kd_lazy_curl (void)
{
  pthread_once (&curl_once, load_curl);
  return &curl_table;
}

#ifndef KD_LIBARCHIVE_SONAME
#define KD_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

static kd_lazy_archive_t archive_table;
static pthread_once_t archive_once = PTHREAD_ONCE_INIT;

static void
load_archive (void)
{
  static const char *const names[] = { KD_LAZY_ARCHIVE_FUNCS (KD_LAZY_NAME) };
  _Static_assert(sizeof archive_table == sizeof names / sizeof names[0] * sizeof (void *),
                 "one name per slot");
  load (KD_LIBARCHIVE_SONAME, names, (void **) &archive_table, sizeof names / sizeof names[0]);
}

const kd_lazy_archive_t *
kd_lazy_archive (void)
{
  pthread_once (&archive_once, load_archive);
  return &archive_table;
}
