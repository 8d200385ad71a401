/* A memory holder for real-kernel OOM tests. Waits for a byte on stdin before touching
 * memory (so it can be moved into a cgroup first), touches MIB MiB of anonymous memory,
 * says "ready", then, given GROW, waits for another byte and touches GROW MiB more every
 * 10 ms until BUDGET MiB were added (0: no budget). Deterministic rss: two holders with
 * the same arguments have the same badness, for tie tests. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void touch(long mib) {
  if (mib <= 0) return;
  char *p = mmap(0, (size_t)mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(3); }
  for (long i = 0; i < (mib << 20); i += 4096) p[i] = 1;
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 0, grow = argc > 2 ? atol(argv[2]) : 0, budget = argc > 3 ? atol(argv[3]) : 0;
  char c;
  if (read(0, &c, 1) != 1) return 2;
  touch(mib);
  printf("ready\n");
  fflush(stdout);
  if (grow > 0) {
    if (read(0, &c, 1) != 1) return 2;
    for (long done = 0; budget == 0 || done < budget; done += grow) { touch(grow); usleep(10000); }
  }
  for (;;) pause();
}
