/* Capabilities: the names, Docker's default set, and applying the five
 * sets to the process (bounding first, while CAP_SETPCAP is still held;
 * capset after the user switch; ambient last, it needs the inheritable
 * and permitted bits in place). */
#include <fcntl.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

/* Indexed by capability number (include/uapi/linux/capability.h). */
static const char *const cap_names[] = {
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
};

/* Docker's (and containerd's) default set, DESIGN §8. */
static const int default_caps[] = {
  CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
  CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
  CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
  CAP_KILL,    CAP_AUDIT_WRITE,
};

uint64_t
kd_caps_default (void)
{
  uint64_t m = 0;
  for (size_t i = 0; i < KD_ARRAY_SIZE (default_caps); i++)
    m |= KD_CAPBIT (default_caps[i]);
  return m;
}

uint64_t
kd_caps_all (void)
{
  return (UINT64_C (1) << KD_ARRAY_SIZE (cap_names)) - 1;
}

int
kd_caps_from_name (const char *name, int *cap)
{
  if (strncasecmp (name, "CAP_", 4) == 0)
    name += 4;
  for (size_t i = 0; i < KD_ARRAY_SIZE (cap_names); i++)
    if (strcasecmp (name, cap_names[i]) == 0)
      {
        *cap = (int) i;
        return 0;
      }
  return -1;
}

int
kd_rt_cap_last (void)
{
  static int last = -1;
  char buf[16] = "";
  int fd;

  if (last >= 0)
    return last;
  fd = open ("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      ssize_t n = read (fd, buf, sizeof (buf) - 1);
      close (fd);
      if (n > 0)
        last = atoi (buf);
    }
  if (last <= 0 || last > 63)
    last = (int) KD_ARRAY_SIZE (cap_names) - 1;
  return last;
}

int
kd_rt_caps_drop_bounding (uint64_t bounding, kd_error_t *err)
{
  int last = kd_rt_cap_last ();
  for (int c = 0; c <= last; c++)
    {
      if (bounding & KD_CAPBIT (c))
        continue;
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return kd_make_error (err, errno, "capabilities: prctl PR_CAPBSET_DROP `%d`", c);
    }
  return 0;
}

int
kd_rt_caps_set (const kd_ctr_spec_t *spec, kd_error_t *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  uint64_t known
      = (kd_rt_cap_last () >= 63) ? UINT64_MAX : (UINT64_C (1) << (kd_rt_cap_last () + 1)) - 1;
  uint64_t have, eff, prm, inh, amb;

  /* Only what this process holds can be given: "ALL" on a node without,
     say, CAP_SYS_RESOURCE is every capability the node has (as with
     containerd, which derives ALL from its own sets). */
  if (syscall (SYS_capget, &hdr, data) < 0)
    return kd_make_error (err, errno, "capabilities: capget");
  have = ((uint64_t) data[1].permitted << 32 | data[0].permitted) & known;
  prm = spec->cap_permitted & have;
  eff = spec->cap_effective & prm;
  inh = spec->cap_inheritable & spec->cap_bounding & have;
  amb = spec->cap_ambient & prm & inh;

  data[0].effective = (uint32_t) eff;
  data[1].effective = (uint32_t) (eff >> 32);
  data[0].permitted = (uint32_t) prm;
  data[1].permitted = (uint32_t) (prm >> 32);
  data[0].inheritable = (uint32_t) inh;
  data[1].inheritable = (uint32_t) (inh >> 32);
  if (syscall (SYS_capset, &hdr, data) < 0)
    return kd_make_error (err, errno, "capabilities: capset `eff=%#llx prm=%#llx inh=%#llx`",
                          (unsigned long long) eff, (unsigned long long) prm,
                          (unsigned long long) inh);
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return kd_make_error (err, errno, "capabilities: prctl `PR_CAP_AMBIENT_CLEAR_ALL`");
  for (int c = 0; c <= kd_rt_cap_last (); c++)
    if ((amb & KD_CAPBIT (c)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      return kd_make_error (err, errno, "capabilities: prctl PR_CAP_AMBIENT_RAISE `%s`",
                            c < (int) KD_ARRAY_SIZE (cap_names) ? cap_names[c] : "?");
  return 0;
}
