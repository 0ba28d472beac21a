/* lazy: the heavy shared libraries, loaded when first needed.

   Why: libcurl and libarchive bring about forty shared objects with them
   (GnuTLS, Kerberos, LDAP, OpenSSL, libxml2, ICU, libstdc++...), whose
   relocated pages were two thirds of an idle kubeletd's resident memory. A
   node that runs pods from local images and has no httpGet probe never
   needs them. kubeletd links neither: each is opened with dlopen the first
   time one of its functions is called. (Digests use nettle, linked: small.)

   What it owns: one table of function pointers per library, filled once
   (pthread_once: callers may be the loop or the thread pool).

   How to use:
    1. Include "kubeletd/lazy-curl.h" or "kubeletd/lazy-archive.h" instead
       of the library's own header.
    2. Call the functions by their usual names: the header turns each into
       a call through the table (kd_lazy_curl ()->curl_easy_init ...).
    3. A new function goes into the header's KD_LAZY_<LIB>_FUNCS list and
       gets its #define there; one forgotten #define shows at link time
       (kubeletd does not link the library).
   A library that cannot be loaded is a broken installation (as it would be
   for the dynamic loader at start): the message names it, then abort. */
#ifndef KUBELETD_LAZY_H
#define KUBELETD_LAZY_H

/* One table slot: a pointer of the function's own type. */
#define KD_LAZY_SLOT(f) __typeof__ (f) *f;

#endif
