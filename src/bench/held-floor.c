/* held-floor: the cost floor of one dashboard refresh's reads, for `npm run bench` to set
 * beside oomtop's refresh tick. Like the dashboard it keeps stat and oom_score_adj of every
 * process open; each line read on stdin is one refresh: list /proc (only when /proc/stat's
 * fork count moved, as oomtop does), open the files of new processes, pread both files of
 * every process at offset 0. It answers each line with the
 * CPU time (user + system, ms) that refresh took. It reads nothing else (no status, no
 * cmdline, no cgroup, no ranking): what is left of oomtop's tick above it is oomtop's own.
 * Build: gcc -O2 -o held-floor held-floor.c     Run: held-floor [PROC_ROOT] */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_PID (1 << 22) /* pid_max's ceiling */

static int *fd_stat, *fd_adj;

static double cpu_ms(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : "/proc";
  fd_stat = calloc(MAX_PID, sizeof *fd_stat);
  fd_adj = calloc(MAX_PID, sizeof *fd_adj);
  if (!fd_stat || !fd_adj) return 2;
  static int pids[MAX_PID];
  int npids = 0;
  long forks = -1;
  char line[64], path[512], buf[4096];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    double t0 = cpu_ms();
    /* The fork count, as oomtop reads it: the list is walked only when it moved. */
    long now = -2;
    snprintf(path, sizeof path, "%s/stat", root);
    FILE *st = fopen(path, "r");
    while (st && fgets(buf, sizeof buf, st)) if (sscanf(buf, "processes %ld", &now) == 1) break;
    if (st) fclose(st);
    if (now != forks || now < 0) {
      DIR *d = opendir(root);
      if (!d) { perror(root); return 2; }
      struct dirent *e;
      npids = 0;
      while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid > 0 && pid < MAX_PID) pids[npids++] = (int)pid;
      }
      closedir(d);
      forks = now;
    }
    int procs = 0;
    for (int i = 0; i < npids; i++) {
      int pid = pids[i];
      if (!fd_stat[pid]) {
        snprintf(path, sizeof path, "%s/%d/stat", root, pid);
        fd_stat[pid] = open(path, O_RDONLY) + 1; /* 0: not opened yet */
        snprintf(path, sizeof path, "%s/%d/oom_score_adj", root, pid);
        fd_adj[pid] = open(path, O_RDONLY) + 1;
      }
      if (fd_stat[pid] > 0) pread(fd_stat[pid] - 1, buf, sizeof buf, 0);
      if (fd_adj[pid] > 0) pread(fd_adj[pid] - 1, buf, sizeof buf, 0);
      procs++;
    }
    printf("%.3f %d\n", cpu_ms() - t0, procs);
  }
  return 0;
}
