/* The bench's process table: N idle processes at a few pages each (a sleep(1) costs more),
 * so that 20,000 of them fit on a small machine. Each child blocks in pause(); the parent
 * prints "up N" once all are forked, then waits for its standard input to close and kills
 * exactly the children it forked, by pid, and reaps them.
 *   idle N   (N up to 30000) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  if (n < 0 || n > 30000) {
    fprintf(stderr, "idle: N must be 0..30000\n");
    return 2;
  }
  pid_t *pids = calloc((size_t)(n ? n : 1), sizeof *pids);
  if (!pids) return 1;
  long made = 0;
  for (; made < n; made++) {
    pid_t p = fork();
    if (p < 0) break;
    if (p == 0) {
      /* the child dies with the parent, whatever happens to it */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() == 1) _exit(0);
      for (;;) pause();
    }
    pids[made] = p;
  }
  printf("up %ld\n", made);
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  for (long i = 0; i < made; i++) kill(pids[i], SIGKILL);
  for (long i = 0; i < made; i++) waitpid(pids[i], NULL, 0);
  return made == n ? 0 : 1;
}
