/* kd-payload: one static helper put inside test images, so that tests look
 * at a container from the inside without depending on what a shell in the
 * image supports. Plain libc, no dependencies.
 *
 *   kd-payload exit N | sleep SECS | exit-after SECS N
 *   kd-payload serve-http PORT [BODY | --status CODE] | serve-tcp PORT
 *   kd-payload print-env | echo ARGS... | log LINES [--partial]
 *   kd-payload write FILE TEXT | read FILE | ls DIR
 *   kd-payload getuid | hostname | status | mounts | pid
 *   kd-payload alloc MIB | fork-bomb N | ignore-term | try-mount
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int
usage (void)
{
  fprintf (stderr, "usage: kd-payload COMMAND [ARGS...] (see payload.c)\n");
  return 2;
}

static int
cat_file (const char *path, const char *const *keep)
{
  FILE *f = fopen (path, "r");
  char line[4096];

  if (f == NULL)
    {
      fprintf (stderr, "read %s: %s\n", path, strerror (errno));
      return 1;
    }
  while (fgets (line, sizeof (line), f) != NULL)
    {
      if (keep != NULL)
        {
          int ok = 0;
          for (const char *const *k = keep; *k != NULL; k++)
            if (strncmp (line, *k, strlen (*k)) == 0)
              ok = 1;
          if (!ok)
            continue;
        }
      fputs (line, stdout);
    }
  if (ferror (f))
    {
      fprintf (stderr, "read %s: %s\n", path, strerror (errno));
      fclose (f);
      return 1;
    }
  fclose (f);
  return 0;
}

/* Byte for byte (NULs included: /proc/PID/cmdline). */
static int
copy_file (const char *path)
{
  char buf[65536];
  ssize_t n;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      fprintf (stderr, "read %s: %s\n", path, strerror (errno));
      return 1;
    }
  while ((n = read (fd, buf, sizeof (buf))) > 0)
    if (fwrite (buf, 1, (size_t) n, stdout) != (size_t) n)
      break;
  if (n < 0)
    {
      fprintf (stderr, "read %s: %s\n", path, strerror (errno));
      close (fd);
      return 1;
    }
  close (fd);
  fflush (stdout);
  return 0;
}

static int
listen_on (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((unsigned short) port) };
  int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      perror ("socket");
      exit (1);
    }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  a.sin_addr.s_addr = htonl (INADDR_ANY);
  if (bind (fd, (struct sockaddr *) &a, sizeof (a)) < 0 || listen (fd, 64) < 0)
    {
      perror ("bind/listen");
      exit (1);
    }
  return fd;
}

static const char *
reason (int code)
{
  switch (code)
    {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
    }
}

static void __attribute__ ((noreturn)) serve_http (int port, int code, const char *body)
{
  int fd = listen_on (port);

  printf ("listening on %d\n", port);
  fflush (stdout);
  for (;;)
    {
      char req[8192], head[256];
      size_t got = 0;
      int c = accept (fd, NULL, NULL);

      if (c < 0)
        continue;
      /* Read the request head (up to the blank line), then answer. */
      while (got < sizeof (req) - 1)
        {
          ssize_t n = read (c, req + got, sizeof (req) - 1 - got);
          if (n <= 0)
            break;
          got += (size_t) n;
          req[got] = '\0';
          if (strstr (req, "\r\n\r\n") != NULL || strstr (req, "\n\n") != NULL)
            break;
        }
      snprintf (head, sizeof (head),
                "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n",
                code, reason (code), strlen (body));
      if (write (c, head, strlen (head)) < 0 || write (c, body, strlen (body)) < 0)
        {
          /* the client went away */
        }
      close (c);
    }
}

static void __attribute__ ((noreturn)) serve_tcp (int port)
{
  int fd = listen_on (port);

  printf ("listening on %d\n", port);
  fflush (stdout);
  for (;;)
    {
      /* Accepts and closes: enough for tcpSocket probes. */
      int c = accept (fd, NULL, NULL);
      if (c >= 0)
        close (c);
    }
}

static int
print_ids (void)
{
  gid_t groups[256];
  int n = getgroups (256, groups);

  printf ("uid=%u gid=%u groups=", (unsigned) getuid (), (unsigned) getgid ());
  for (int i = 0; i < n; i++)
    printf ("%s%u", i ? "," : "", (unsigned) groups[i]);
  printf ("\n");
  return 0;
}

static int
alloc_mib (long mib)
{
  for (long i = 0; i < mib; i++)
    {
      char *p = mmap (NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        {
          perror ("mmap");
          return 1;
        }
      memset (p, 0x5a, 1 << 20);
    }
  printf ("allocated %ld MiB\n", mib);
  fflush (stdout);
  pause ();
  return 0;
}

static int
fork_bomb (long n)
{
  long ok = 0, failed = 0;
  for (long i = 0; i < n; i++)
    {
      pid_t p = fork ();
      if (p == 0)
        {
          pause ();
          _exit (0);
        }
      if (p < 0)
        failed++;
      else
        ok++;
    }
  printf ("forked %ld failed %ld\n", ok, failed);
  fflush (stdout);
  kill (0, SIGKILL);
  return 0;
}

static int
log_lines (long lines, int partial)
{
  for (long i = 1; i <= lines; i++)
    printf ("line %ld\n", i);
  if (partial)
    printf ("partial line without newline");
  fflush (stdout);
  return 0;
}

static int
try_mount (void)
{
  const char *dir = "/tmp";
  if (mount ("tmpfs", dir, "tmpfs", 0, NULL) == 0)
    {
      umount (dir);
      printf ("mount: ok\n");
      return 0;
    }
  printf ("mount: %s (errno %d)\n", strerror (errno), errno);
  return 0;
}

static int
list_dir (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *de;

  if (d == NULL)
    {
      fprintf (stderr, "ls %s: %s\n", path, strerror (errno));
      return 1;
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      printf ("%s\n", de->d_name);
  closedir (d);
  return 0;
}

int
main (int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "";
  int r = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (strcmp (cmd, "exit") == 0 && argc == 3)
    return atoi (argv[2]);
  if (strcmp (cmd, "sleep") == 0 && argc == 3)
    {
      double s = atof (argv[2]);
      struct timespec ts = { (time_t) s, (long) ((s - (double) (time_t) s) * 1e9) };
      while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
      return 0;
    }
  if (strcmp (cmd, "exit-after") == 0 && argc == 4)
    {
      sleep ((unsigned) atoi (argv[2]));
      return atoi (argv[3]);
    }
  if (strcmp (cmd, "serve-http") == 0 && argc >= 3)
    {
      if (argc == 5 && strcmp (argv[3], "--status") == 0)
        serve_http (atoi (argv[2]), atoi (argv[4]), reason (atoi (argv[4])));
      serve_http (atoi (argv[2]), 200, argc >= 4 ? argv[3] : "ok");
    }
  if (strcmp (cmd, "serve-tcp") == 0 && argc == 3)
    serve_tcp (atoi (argv[2]));
  if (strcmp (cmd, "print-env") == 0)
    {
      for (char **e = environ; *e != NULL; e++)
        printf ("%s\n", *e);
      return 0;
    }
  if (strcmp (cmd, "echo") == 0)
    {
      for (int i = 2; i < argc; i++)
        printf ("%s%s", i > 2 ? " " : "", argv[i]);
      printf ("\n");
      return 0;
    }
  if (strcmp (cmd, "write") == 0 && argc == 4)
    {
      FILE *f = fopen (argv[2], "w");
      if (f == NULL || fputs (argv[3], f) < 0 || fclose (f) != 0)
        {
          printf ("write %s: %s\n", argv[2], strerror (errno));
          return 1;
        }
      printf ("write %s: ok\n", argv[2]);
      return 0;
    }
  if (strcmp (cmd, "read") == 0 && argc == 3)
    return copy_file (argv[2]);
  if (strcmp (cmd, "ls") == 0 && argc == 3)
    return list_dir (argv[2]);
  if (strcmp (cmd, "getuid") == 0)
    return print_ids ();
  if (strcmp (cmd, "hostname") == 0)
    {
      char h[256] = "";
      gethostname (h, sizeof (h) - 1);
      printf ("%s\n", h);
      return 0;
    }
  if (strcmp (cmd, "status") == 0)
    {
      static const char *const keep[] = { "CapBnd:", "CapEff:",     "CapPrm:",  "CapInh:",
                                          "CapAmb:", "NoNewPrivs:", "Seccomp:", NULL };
      return cat_file ("/proc/self/status", keep);
    }
  if (strcmp (cmd, "mounts") == 0)
    return cat_file ("/proc/self/mountinfo", NULL);
  if (strcmp (cmd, "pid") == 0)
    {
      printf ("pid=%d ppid=%d\n", (int) getpid (), (int) getppid ());
      return 0;
    }
  if (strcmp (cmd, "alloc") == 0 && argc == 3)
    return alloc_mib (atol (argv[2]));
  if (strcmp (cmd, "fork-bomb") == 0 && argc == 3)
    return fork_bomb (atol (argv[2]));
  if (strcmp (cmd, "ignore-term") == 0)
    {
      signal (SIGTERM, SIG_IGN);
      printf ("ignoring SIGTERM\n");
      fflush (stdout);
      for (;;)
        pause ();
    }
  if (strcmp (cmd, "log") == 0 && argc >= 3)
    return log_lines (atol (argv[2]), argc == 4 && strcmp (argv[3], "--partial") == 0);
  if (strcmp (cmd, "try-mount") == 0)
    return try_mount ();
  r = usage ();
  return r;
}
