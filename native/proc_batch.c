/* oomtop's native /proc reader: the open/read/close loop of one sample, in C, split over a
 * few threads. Node's per-call cost (a path string, a binding call, an error object for
 * every process that exited) is paid once per sample instead of once per file, and the
 * kernel's work runs on both cores: /proc reads scale across threads (measured here:
 * 5,000 processes x 5 files, 212 ms on one thread, 120 ms on two).
 *
 * readBatch(root, pids, names, want, skipForKthread, threads, keep) -> [data, meta, rows]
 *   root            string   the /proc root ("/proc" or a fixture tree)
 *   pids            Int32Array
 *   names           string[] file names under ROOT/PID/ (at most 16)
 *   want            number   bit mask over names: which files to read for every pid
 *   skipForKthread  number   bit mask: files not read when the stat file (names[0], which
 *                            must then be "stat") shows PF_KTHREAD in its flags field
 *   threads         number   reader threads (1..8)
 *   keep            (string[] | null)[] per name: when given, only the lines of that file
 *                   that start with one of these keys ("VmSwap:") are kept. The status file
 *                   is ~1.4 KiB, of which the model needs ~200 bytes: on this VM every 4 KiB
 *                   page touched costs ~19 us (a minor fault), more than reading the file.
 *   data            Buffer[] one per thread: its files' bytes, one after another (handed
 *                   to JavaScript without a copy)
 *   meta            Int32Array, 2 per (pid, name): [offset, length], where length < 0 is
 *                   -errno and NOT_READ means the file was not asked for or was skipped
 *   rows            Int32Array: thread t read pids[rows[t]] to pids[rows[t+1]-1] into data[t]
 * A file is read until a read comes back short: /proc files are generated whole per read.
 * The same pid's files are read one after another, in names order, by one thread.
 *
 * readBatchAsync(same arguments) -> Promise<[data, meta, rows]>
 *   readBatch on a thread of Node's pool (napi async work): the arguments are checked and
 *   copied at the call, the reads run while JavaScript goes on (the dashboard loads its
 *   screen meanwhile), the promise resolves with the same result. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 16
#define MAX_KEEP 32
#define MAX_THREADS 8
#define NOT_READ INT32_MIN
#define MIN_SPACE 16384
#define PF_KTHREAD 0x00200000UL

struct job {
  const char *root;
  const int32_t *pids;
  size_t npids;
  char names[MAX_NAMES][64];
  size_t nnames;
  uint32_t want, skip_kthread;
  char keep[MAX_NAMES][MAX_KEEP][32];
  size_t nkeep[MAX_NAMES];
  int32_t *meta; /* shared; each thread writes only its own pids' slots */
  size_t from, to;
  char *buf;
  size_t len, cap;
  int oom; /* out of memory: the caller reports it */
};

static int reserve_at(struct job *j, size_t space, size_t first) {
  if (j->cap - j->len >= space) return 1;
  size_t cap = j->cap ? j->cap : first;
  while (cap - j->len < space) cap *= 2;
  char *b = realloc(j->buf, cap);
  if (!b) { j->oom = 1; return 0; }
  j->buf = b;
  j->cap = cap;
  return 1;
}

static int reserve(struct job *j, size_t space) { return reserve_at(j, space, 1 << 20); }

/* Keeps the lines of s[0, n) that start with one of the keys, in place; returns the new length. */
static size_t keep_lines(char *s, size_t n, char keys[][32], size_t nkeys) {
  size_t out = 0, i = 0;
  while (i < n) {
    size_t end = i;
    while (end < n && s[end] != '\n') end++;
    if (end < n) end++; /* with its newline */
    for (size_t k = 0; k < nkeys; k++) {
      size_t kl = strlen(keys[k]);
      if (end - i >= kl && memcmp(s + i, keys[k], kl) == 0) {
        memmove(s + out, s + i, end - i);
        out += end - i;
        break;
      }
    }
    i = end;
  }
  return out;
}

/* The flags field (9th) of a stat line: after the last ')' come state (3rd) and then
 * fields 4..; flags is the 6th token after ')'. Returns 0 when it cannot tell. */
static unsigned long stat_flags(const char *s, size_t n) {
  size_t i = n;
  while (i > 0 && s[i - 1] != ')') i--;
  if (i == 0) return 0;
  int field = 2;
  for (; i < n; i++) {
    if (s[i] != ' ') continue;
    field++;
    if (field == 9) return strtoul(s + i + 1, NULL, 10);
  }
  return 0;
}

static void *run(void *arg) {
  struct job *j = arg;
  char path[4096];
  for (size_t p = j->from; p < j->to; p++) {
    int kthread = 0;
    for (size_t f = 0; f < j->nnames; f++) {
      int32_t *m = j->meta + 2 * (p * j->nnames + f);
      m[0] = 0;
      m[1] = NOT_READ;
      if (!(j->want & (1u << f)) || (kthread && (j->skip_kthread & (1u << f)))) continue;
      snprintf(path, sizeof path, "%s/%d/%s", j->root, (int)j->pids[p], j->names[f]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) { m[1] = -errno; continue; }
      size_t start = j->len;
      int err = 0;
      for (;;) {
        if (!reserve(j, MIN_SPACE)) { err = ENOMEM; break; }
        size_t space = j->cap - j->len;
        ssize_t n = read(fd, j->buf + j->len, space);
        if (n < 0) { if (errno == EINTR) continue; err = errno; break; }
        j->len += (size_t)n;
        if ((size_t)n < space) break;
      }
      close(fd);
      if (err) { j->len = start; m[1] = -err; continue; }
      if (j->nkeep[f]) j->len = start + keep_lines(j->buf + start, j->len - start, j->keep[f], j->nkeep[f]);
      if (j->len - start > INT32_MAX) { j->len = start; m[1] = -EFBIG; continue; }
      m[0] = (int32_t)start; /* in this thread's buffer */
      m[1] = (int32_t)(j->len - start);
      if (f == 0 && j->skip_kthread && (stat_flags(j->buf + start, j->len - start) & PF_KTHREAD)) kthread = 1;
    }
  }
  return NULL;
}

static void release(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "oomtop_proc: " #call); return NULL; } } while (0)
#define ROOT_MAX 4096

/* Argument readers shared by the functions below: each returns 0, with a JavaScript
 * exception thrown that names fn, when the argument is not what fn takes. */
static int fail(napi_env env, int range, const char *fn, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", fn, what);
  if (range) napi_throw_range_error(env, NULL, msg);
  else napi_throw_type_error(env, NULL, msg);
  return 0;
}

/* The call's arguments into argv[0, n) (a missing one reads as undefined); at least min. */
static int get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t n, size_t min, const char *fn) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return fail(env, 0, fn, "cannot read the arguments");
  return argc >= min ? 1 : fail(env, 0, fn, "too few arguments");
}

/* A root path (a /proc or a fixture tree). */
static int arg_root(napi_env env, napi_value v, char root[ROOT_MAX], const char *fn) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, root, ROOT_MAX, &len) != napi_ok) return fail(env, 0, fn, "root must be a string");
  return len < ROOT_MAX - 1 ? 1 : fail(env, 1, fn, "root too long");
}

/* 1 to max file names. */
static int arg_names(napi_env env, napi_value v, char names[][64], uint32_t max, uint32_t *n, const char *fn) {
  if (napi_get_array_length(env, v, n) != napi_ok) return fail(env, 0, fn, "names must be an array");
  if (*n == 0 || *n > max) return fail(env, 1, fn, "too few or too many names");
  for (uint32_t i = 0; i < *n; i++) {
    napi_value e;
    size_t l;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_string_utf8(env, e, names[i], 64, &l) != napi_ok) return fail(env, 0, fn, "names must be strings");
  }
  return 1;
}

/* A typed array of type `want` with at least `min` elements; its length in *n when n is given. */
static int arg_typed(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data, size_t *n, const char *fn, const char *what) {
  napi_typedarray_type type;
  size_t len;
  if (napi_get_typedarray_info(env, v, &type, &len, data, NULL, NULL) != napi_ok || type != want || len < min) return fail(env, 0, fn, what);
  if (n) *n = len;
  return 1;
}

/* A new Int32Array of n elements (zeroed), its storage in *data. */
static napi_status new_int32s(napi_env env, size_t n, int32_t **data, napi_value *out) {
  napi_value ab;
  napi_status st = napi_create_arraybuffer(env, n * sizeof(int32_t) + 4, (void **)data, &ab);
  return st != napi_ok ? st : napi_create_typedarray(env, napi_int32_array, n, ab, 0, out);
}

/* One readBatch call: its arguments copied out of JavaScript, so that the reads can also run
 * off the main thread (readBatchAsync), and the threads' jobs. */
struct batch {
  char root[ROOT_MAX];
  int32_t *pids; /* a copy: JavaScript may let go of its array meanwhile */
  size_t npids, nnames;
  int32_t *meta; /* 2 per (pid, name); copied into an Int32Array at the end */
  uint32_t threads;
  struct job jobs[MAX_THREADS];
  napi_async_work work;
  napi_deferred deferred;
};

static void batch_free(struct batch *b) {
  if (!b) return;
  for (uint32_t t = 0; t < b->threads; t++) free(b->jobs[t].buf);
  free(b->pids);
  free(b->meta);
  free(b);
}

/* The arguments of readBatch (argv[0..6]) into a new batch; NULL with an exception thrown. */
static struct batch *batch_prepare(napi_env env, napi_value *argv, const char *fn) {
  struct batch *b = calloc(1, sizeof *b);
  if (!b) { napi_throw_error(env, NULL, "readBatch: out of memory"); return NULL; }
  struct job *proto = &b->jobs[0];
  size_t npids;
  void *pidData;
  uint32_t nnames;
  char msg[128];
  if (!arg_root(env, argv[0], b->root, fn)
    || !arg_typed(env, argv[1], napi_int32_array, 0, &pidData, &npids, fn, "pids must be an Int32Array")
    || !arg_names(env, argv[2], proto->names, MAX_NAMES, &nnames, fn)) goto fail;
  uint32_t nkeepLists = 0;
  bool keepIsArray = false;
  if (napi_is_array(env, argv[6], &keepIsArray) != napi_ok) goto bad;
  if (keepIsArray && napi_get_array_length(env, argv[6], &nkeepLists) != napi_ok) goto bad;
  for (uint32_t i = 0; i < nkeepLists && i < nnames; i++) {
    napi_value list;
    bool isArray = false;
    uint32_t nkeys = 0;
    if (napi_get_element(env, argv[6], i, &list) != napi_ok || napi_is_array(env, list, &isArray) != napi_ok) goto bad;
    if (!isArray) continue;
    if (napi_get_array_length(env, list, &nkeys) != napi_ok) goto bad;
    if (nkeys > MAX_KEEP) { snprintf(msg, sizeof msg, "%s: at most 32 keys per file", fn); napi_throw_range_error(env, NULL, msg); goto fail; }
    for (uint32_t k = 0; k < nkeys; k++) {
      napi_value v;
      size_t l;
      if (napi_get_element(env, list, k, &v) != napi_ok
        || napi_get_value_string_utf8(env, v, proto->keep[i][k], sizeof proto->keep[i][k], &l) != napi_ok) goto bad;
    }
    proto->nkeep[i] = nkeys;
  }
  uint32_t threads;
  if (napi_get_value_uint32(env, argv[3], &proto->want) != napi_ok
    || napi_get_value_uint32(env, argv[4], &proto->skip_kthread) != napi_ok
    || napi_get_value_uint32(env, argv[5], &threads) != napi_ok) goto bad;
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (npids < (size_t)threads * 64) threads = 1; /* a thread costs more than it saves */
  b->npids = npids;
  b->nnames = nnames;
  b->threads = threads;
  b->pids = malloc(npids * sizeof(int32_t) + 4);
  b->meta = malloc(2 * npids * nnames * sizeof(int32_t) + 4);
  if (!b->pids || !b->meta) { napi_throw_error(env, NULL, "readBatch: out of memory"); goto fail; }
  if (npids) memcpy(b->pids, pidData, npids * sizeof(int32_t));
  for (uint32_t t = 0; t < threads; t++) {
    if (t) b->jobs[t] = *proto;
    b->jobs[t].root = b->root;
    b->jobs[t].pids = b->pids;
    b->jobs[t].npids = npids;
    b->jobs[t].nnames = nnames;
    b->jobs[t].meta = b->meta;
    b->jobs[t].from = npids * t / threads;
    b->jobs[t].to = npids * (t + 1) / threads;
  }
  return b;
bad:
  snprintf(msg, sizeof msg, "%s: bad arguments", fn);
  napi_throw_type_error(env, NULL, msg);
fail:
  batch_free(b);
  return NULL;
}

/* The reads, on this thread and threads-1 more. */
static void batch_run(struct batch *b) {
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (uint32_t t = 1; t < b->threads; t++) started[t] = pthread_create(&tids[t], NULL, run, &b->jobs[t]) == 0;
  run(&b->jobs[0]);
  for (uint32_t t = 1; t < b->threads; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else run(&b->jobs[t]); /* no thread: do its share here */
  }
}

/* [data per thread, meta, rows] in *out; the batch's buffers pass to JavaScript. NULL, or
 * what went wrong (nothing thrown). */
static const char *batch_result(napi_env env, struct batch *b, napi_value *out) {
  int oom = 0;
  for (uint32_t t = 0; t < b->threads; t++) oom |= b->jobs[t].oom;
  if (oom) return "readBatch: out of memory";
  napi_value result, datas, rows, meta;
  int32_t *rowData, *metaData;
  size_t nmeta = 2 * b->npids * b->nnames;
  if (napi_create_array_with_length(env, 3, &result) != napi_ok
    || napi_create_array_with_length(env, b->threads, &datas) != napi_ok
    || new_int32s(env, b->threads + 1, &rowData, &rows) != napi_ok
    || new_int32s(env, nmeta, &metaData, &meta) != napi_ok) return "readBatch: cannot make the result";
  if (nmeta) memcpy(metaData, b->meta, nmeta * sizeof(int32_t));
  for (uint32_t t = 0; t < b->threads; t++) {
    napi_value data;
    rowData[t] = (int32_t)b->jobs[t].from;
    if (b->jobs[t].len > 0 && napi_create_external_buffer(env, b->jobs[t].len, b->jobs[t].buf, release, NULL, &data) == napi_ok) {
      b->jobs[t].buf = NULL; /* JavaScript owns it now */
    } else if (napi_create_buffer(env, 0, NULL, &data) != napi_ok) {
      return "readBatch: out of memory";
    }
    if (napi_set_element(env, datas, t, data) != napi_ok) return "readBatch: cannot make the result";
  }
  rowData[b->threads] = (int32_t)b->npids;
  if (napi_set_element(env, result, 0, datas) != napi_ok || napi_set_element(env, result, 1, meta) != napi_ok
    || napi_set_element(env, result, 2, rows) != napi_ok) return "readBatch: cannot make the result";
  *out = result;
  return NULL;
}

static napi_value read_batch(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, argv, 7, 7, "readBatch")) return NULL;
  struct batch *b = batch_prepare(env, argv, "readBatch");
  if (!b) return NULL;
  batch_run(b);
  napi_value out = NULL;
  const char *err = batch_result(env, b, &out);
  batch_free(b);
  if (err) { napi_throw_error(env, NULL, err); return NULL; }
  return out;
}

static void batch_execute(napi_env env, void *data) {
  (void)env;
  batch_run(data);
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  struct batch *b = data;
  napi_value out = NULL, error, msg;
  const char *err = status == napi_ok ? batch_result(env, b, &out) : "readBatchAsync: cancelled";
  if (err) {
    if (napi_create_string_utf8(env, err, NAPI_AUTO_LENGTH, &msg) == napi_ok && napi_create_error(env, NULL, msg, &error) == napi_ok)
      napi_reject_deferred(env, b->deferred, error);
  } else {
    napi_resolve_deferred(env, b->deferred, out);
  }
  napi_delete_async_work(env, b->work);
  batch_free(b);
}

/* readBatch on a thread of Node's pool: a Promise of the same result. The caller goes on
 * meanwhile (the dashboard loads its modules while the first sample is read). */
static napi_value read_batch_async(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, argv, 7, 7, "readBatchAsync")) return NULL;
  struct batch *b = batch_prepare(env, argv, "readBatchAsync");
  if (!b) return NULL;
  napi_value promise, name;
  if (napi_create_promise(env, &b->deferred, &promise) != napi_ok
    || napi_create_string_utf8(env, "oomtop.readBatch", NAPI_AUTO_LENGTH, &name) != napi_ok
    || napi_create_async_work(env, NULL, name, batch_execute, batch_complete, b, &b->work) != napi_ok
    || napi_queue_async_work(env, b->work) != napi_ok) {
    batch_free(b);
    napi_throw_error(env, NULL, "readBatchAsync: cannot start the reads");
    return NULL;
  }
  return promise;
}

/* One file into buf (at most size bytes): from fd at offset 0 when fd >= 0, else from
 * ROOT/PID/NAME by path (open, one read, close). The byte count, or -1 with errno set. */
static ssize_t read_one(int fd, const char *root, int32_t pid, const char *name, char *buf, size_t size) {
  ssize_t got;
  if (fd >= 0) {
    do got = pread(fd, buf, size, 0); while (got < 0 && errno == EINTR);
    return got;
  }
  char path[4096 + 96];
  snprintf(path, sizeof path, "%s/%d/%s", root, (int)pid, name);
  int own = open(path, O_RDONLY | O_CLOEXEC);
  if (own < 0) return -1;
  do got = read(own, buf, size); while (got < 0 && errno == EINTR);
  int e = errno;
  close(own);
  errno = e;
  return got;
}

/* readSlots(root, name, pids, fds, slot, out, at, lastLens, same) -> lengths
 * The dashboard's held files, every process every tick, in one call. Row i is read from
 * fds[i] (>= 0) with one pread at offset 0, or, holding no descriptor (past the open-file
 * budget, or not opened), from ROOT/pids[i]/NAME with open, one read and close; into out at
 * at[i]*slot: each process keeps its own slot from call to call, wherever its row is.
 * lengths[i] is the byte count (== slot: longer than the slot, read it again) or -errno.
 * lastLens[at[i]] is the length that slot holds from the last call (-1: nothing yet):
 * same[i] = 1 when row i read exactly those bytes (compared in place; a read that fills the
 * slot is never the same), else 0; lastLens is updated in place. */
static napi_value read_slots(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, argv, 9, 9, "readSlots")) return NULL;
  char root[ROOT_MAX];
  char name[1][64];
  uint32_t nnames;
  size_t n, nslots;
  const int32_t *pids, *fds, *at;
  int32_t *lastLens;
  uint8_t *same;
  uint32_t slot;
  if (!arg_root(env, argv[0], root, "readSlots")
    || !arg_names(env, argv[1], name, 1, &nnames, "readSlots")
    || !arg_typed(env, argv[2], napi_int32_array, 0, (void **)&pids, &n, "readSlots", "pids must be an Int32Array")
    || !arg_typed(env, argv[3], napi_int32_array, n, (void **)&fds, NULL, "readSlots", "fds must be an Int32Array, one per pid")) return NULL;
  CHECK(napi_get_value_uint32(env, argv[4], &slot));
  char *out;
  size_t outLen;
  CHECK(napi_get_buffer_info(env, argv[5], (void **)&out, &outLen));
  if (nnames != 1) { napi_throw_type_error(env, NULL, "readSlots: name must be one file name"); return NULL; }
  if (slot == 0 || slot > (1u << 24)) { napi_throw_range_error(env, NULL, "readSlots: a slot is 1 byte to 16 MiB"); return NULL; }
  if (!arg_typed(env, argv[6], napi_int32_array, n, (void **)&at, NULL, "readSlots", "at must be an Int32Array, one per pid")
    || !arg_typed(env, argv[7], napi_int32_array, 0, (void **)&lastLens, &nslots, "readSlots", "lastLens must be an Int32Array, one per slot")
    || !arg_typed(env, argv[8], napi_uint8_array, n, (void **)&same, NULL, "readSlots", "same must be a Uint8Array, one per pid")) return NULL;
  size_t fit = outLen / slot < nslots ? outLen / slot : nslots;
  for (size_t i = 0; i < n; i++)
    if (at[i] < 0 || (size_t)at[i] >= fit) { napi_throw_range_error(env, NULL, "readSlots: a slot index is past out or lastLens"); return NULL; }
  char *scratch = malloc(slot);
  if (!scratch) { napi_throw_error(env, NULL, "readSlots: out of memory"); return NULL; }
  napi_value lens;
  int32_t *lenData;
  if (new_int32s(env, n, &lenData, &lens) != napi_ok) {
    free(scratch);
    napi_throw_error(env, NULL, "readSlots: cannot make the lengths");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    same[i] = 0;
    ssize_t got = read_one(fds[i], root, pids[i], name[0], scratch, slot);
    int32_t k = at[i];
    lenData[i] = got < 0 ? -errno : (int32_t)got;
    if (got < 0) { lastLens[k] = -1; continue; }
    char *dst = out + (size_t)k * slot;
    if (lastLens[k] == got && (size_t)got < slot && memcmp(scratch, dst, (size_t)got) == 0) same[i] = 1;
    else memcpy(dst, scratch, (size_t)got);
    lastLens[k] = (int32_t)got;
  }
  free(scratch);
  return lens;
}

/* A keyed 64-bit hash of n bytes (wyhash's multiply-fold), to tell whether a file reads as
 * it did last time without keeping its bytes. The key is random per process: a local user
 * who shapes a process's comm cannot aim two different stat lines at one value. */
static uint64_t hash_key;

static uint64_t fold(uint64_t a, uint64_t b) {
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = hash_key ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = fold(h ^ w, 0xa0761d6478bd642full);
  }
  uint64_t w = 0;
  memcpy(&w, p + i, n - i);
  return fold(fold(h ^ w, 0xe7037ed1a0b428dbull), hash_key | 1);
}

/* readHashed(root, name, pids, fds, slot, at, lastLens, lastHash, same, always) -> [lengths, offsets, data]
 * readSlots without the slots' bytes: the dashboard's stat of every process every tick,
 * where keeping each process's last ~300 bytes cost 7-10 MiB at 20,000 processes. Row i is
 * read as in readSlots (at most slot bytes); lastLens[at[i]] and lastHash[at[i]] (a
 * BigUint64Array) are the length and the hash of that slot's process's last read: same[i]
 * is 1 when row i read as many bytes with the same hash (a read that fills the slot is never
 * the same), and both are updated. The bytes of every row that is not the same, and of every
 * row i with always[i] set, are in data, one after another, row i's at offsets[i]; a row
 * that is the same (and not always), or failed, has -1. */
static napi_value read_hashed(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!get_args(env, info, argv, 10, 10, "readHashed")) return NULL;
  char root[ROOT_MAX];
  char name[1][64];
  uint32_t nnames, slot;
  size_t n, nslots, nhashes;
  const int32_t *pids, *fds, *at;
  int32_t *lastLens;
  uint64_t *lastHash;
  uint8_t *same;
  const uint8_t *always;
  if (!arg_root(env, argv[0], root, "readHashed")
    || !arg_names(env, argv[1], name, 1, &nnames, "readHashed")
    || !arg_typed(env, argv[2], napi_int32_array, 0, (void **)&pids, &n, "readHashed", "pids must be an Int32Array")
    || !arg_typed(env, argv[3], napi_int32_array, n, (void **)&fds, NULL, "readHashed", "fds must be an Int32Array, one per pid")) return NULL;
  CHECK(napi_get_value_uint32(env, argv[4], &slot));
  if (nnames != 1) { napi_throw_type_error(env, NULL, "readHashed: name must be one file name"); return NULL; }
  if (slot == 0 || slot > (1u << 24)) { napi_throw_range_error(env, NULL, "readHashed: a slot is 1 byte to 16 MiB"); return NULL; }
  if (!arg_typed(env, argv[5], napi_int32_array, n, (void **)&at, NULL, "readHashed", "at must be an Int32Array, one per pid")
    || !arg_typed(env, argv[6], napi_int32_array, 0, (void **)&lastLens, &nslots, "readHashed", "lastLens must be an Int32Array, one per slot")
    || !arg_typed(env, argv[7], napi_biguint64_array, nslots, (void **)&lastHash, &nhashes, "readHashed", "lastHash must be a BigUint64Array, one per slot")
    || !arg_typed(env, argv[8], napi_uint8_array, n, (void **)&same, NULL, "readHashed", "same must be a Uint8Array, one per pid")
    || !arg_typed(env, argv[9], napi_uint8_array, n, (void **)&always, NULL, "readHashed", "always must be a Uint8Array, one per pid")) return NULL;
  for (size_t i = 0; i < n; i++)
    if (at[i] < 0 || (size_t)at[i] >= nslots) { napi_throw_range_error(env, NULL, "readHashed: a slot index is past lastLens"); return NULL; }
  while (!hash_key) if (getentropy(&hash_key, sizeof hash_key) != 0) hash_key = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull | 1;
  napi_value lens, offs;
  int32_t *lenData, *offData;
  CHECK(new_int32s(env, n, &lenData, &lens));
  CHECK(new_int32s(env, n, &offData, &offs));
  struct job out;
  memset(&out, 0, sizeof out);
  for (size_t i = 0; i < n; i++) {
    same[i] = 0;
    offData[i] = -1;
    int32_t k = at[i];
    if (!reserve_at(&out, slot, 65536)) break;
    char *dst = out.buf + out.len;
    ssize_t got = read_one(fds[i], root, pids[i], name[0], dst, slot);
    lenData[i] = got < 0 ? -errno : (int32_t)got;
    if (got < 0) { lastLens[k] = -1; continue; }
    uint64_t h = hash_bytes(dst, (size_t)got);
    if (lastLens[k] == got && (size_t)got < slot && lastHash[k] == h) same[i] = 1;
    if (!same[i] || always[i]) {
      offData[i] = (int32_t)out.len;
      out.len += (size_t)got;
    }
    lastLens[k] = (int32_t)got;
    lastHash[k] = h;
  }
  if (out.oom) {
    free(out.buf);
    napi_throw_error(env, NULL, "readHashed: out of memory");
    return NULL;
  }
  napi_value data, result;
  if (out.len > 0) {
    if (napi_create_external_buffer(env, out.len, out.buf, release, NULL, &data) != napi_ok) {
      free(out.buf);
      napi_throw_error(env, NULL, "readHashed: cannot hand over the bytes");
      return NULL;
    }
  } else {
    free(out.buf);
    CHECK(napi_create_buffer(env, 0, NULL, &data));
  }
  CHECK(napi_create_array_with_length(env, 3, &result));
  CHECK(napi_set_element(env, result, 0, lens));
  CHECK(napi_set_element(env, result, 1, offs));
  CHECK(napi_set_element(env, result, 2, data));
  return result;
}

/* readEach(root, pids, names, want, slots, out) -> lengths
 * For the dashboard's rolling refresh (a few hundred files a tick, opened by path): for
 * each pid i and name f with bit f set in want[i], reads ROOT/PID/NAME with open, one read
 * and close into out at i*stride + (slots[0] + ... + slots[f-1]), where stride is the sum
 * of slots. lengths[i*nnames+f] is the byte count (== slots[f]: the file is longer than its
 * slot, read it again), -errno, or NOT_READ. The caller keeps out from call to call: its
 * pages are touched once, not once per tick as a fresh buffer's are. */
static napi_value read_each(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, argv, 6, 6, "readEach")) return NULL;
  char root[ROOT_MAX];
  size_t npids;
  const int32_t *pids;
  const uint8_t *want;
  const uint32_t *slots;
  char names[8][64];
  uint32_t nnames;
  if (!arg_root(env, argv[0], root, "readEach")
    || !arg_typed(env, argv[1], napi_int32_array, 0, (void **)&pids, &npids, "readEach", "pids must be an Int32Array")
    || !arg_names(env, argv[2], names, 8, &nnames, "readEach")
    || !arg_typed(env, argv[3], napi_uint8_array, npids, (void **)&want, NULL, "readEach", "want must be a Uint8Array, one per pid")
    || !arg_typed(env, argv[4], napi_uint32_array, nnames, (void **)&slots, NULL, "readEach", "slots must be a Uint32Array, one per name")) return NULL;
  size_t start[8], stride = 0;
  for (uint32_t f = 0; f < nnames; f++) {
    if (slots[f] == 0 || slots[f] > (1u << 24)) { napi_throw_range_error(env, NULL, "readEach: a slot is 1 byte to 16 MiB"); return NULL; }
    start[f] = stride;
    stride += slots[f];
  }
  char *out;
  size_t outLen;
  CHECK(napi_get_buffer_info(env, argv[5], (void **)&out, &outLen));
  if (outLen / stride < npids) { napi_throw_range_error(env, NULL, "readEach: out is smaller than pids x the sum of slots"); return NULL; }
  napi_value lens;
  int32_t *lenData;
  CHECK(new_int32s(env, npids * nnames, &lenData, &lens));
  char path[4096 + 96];
  for (size_t i = 0; i < npids; i++) {
    for (uint32_t f = 0; f < nnames; f++) {
      size_t k = i * nnames + f;
      if (!(want[i] & (1u << f))) { lenData[k] = NOT_READ; continue; }
      snprintf(path, sizeof path, "%s/%d/%s", root, (int)pids[i], names[f]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) { lenData[k] = -errno; continue; }
      ssize_t n;
      do n = read(fd, out + i * stride + start[f], slots[f]); while (n < 0 && errno == EINTR);
      lenData[k] = n < 0 ? -errno : (int32_t)n;
      close(fd);
    }
  }
  return lens;
}

/* openMany(root, pids, names, max) -> Int32Array fds, nnames per pid
 * Opens ROOT/PID/NAME read-only (O_CLOEXEC) for every pid and name, at most `max` files:
 * fds[i*nnames+f] is the descriptor, -errno, or NOT_READ past `max`. The dashboard holds
 * these open and readSlots() them each tick; opening 40,000 from JavaScript took ~1.1 s
 * of a 20,000-process first sample (a call, a path string and an error object each). */
static napi_value open_many(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, argv, 4, 4, "openMany")) return NULL;
  char root[ROOT_MAX];
  size_t npids;
  const int32_t *pids;
  char names[8][64];
  uint32_t nnames, max;
  if (!arg_root(env, argv[0], root, "openMany")
    || !arg_typed(env, argv[1], napi_int32_array, 0, (void **)&pids, &npids, "openMany", "pids must be an Int32Array")
    || !arg_names(env, argv[2], names, 8, &nnames, "openMany")) return NULL;
  CHECK(napi_get_value_uint32(env, argv[3], &max));
  napi_value fds;
  int32_t *fdData;
  CHECK(new_int32s(env, npids * nnames, &fdData, &fds));
  char path[4096 + 96];
  uint32_t opened = 0;
  for (size_t i = 0; i < npids; i++) {
    for (uint32_t f = 0; f < nnames; f++) {
      size_t k = i * nnames + f;
      if (opened >= max) { fdData[k] = NOT_READ; continue; }
      snprintf(path, sizeof path, "%s/%d/%s", root, (int)pids[i], names[f]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      fdData[k] = fd < 0 ? -errno : fd;
      if (fd >= 0) opened++;
    }
  }
  return fds;
}

/* listPids(root) -> Int32Array: the numeric entries of a /proc root in directory order,
 * without a JavaScript string per entry. */
static napi_value list_pids(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char root[ROOT_MAX];
  if (!get_args(env, info, argv, 1, 1, "listPids") || !arg_root(env, argv[0], root, "listPids")) return NULL;
  DIR *d = opendir(root);
  if (!d) {
    int e = errno;
    napi_value err, code, text;
    CHECK(napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &text));
    CHECK(napi_create_error(env, NULL, text, &err));
    CHECK(napi_create_int32(env, e, &code));
    CHECK(napi_set_named_property(env, err, "errno", code));
    napi_throw(env, err);
    return NULL;
  }
  size_t n = 0, cap = 4096;
  int32_t *pids = malloc(cap * sizeof *pids);
  struct dirent *e;
  while (pids && (e = readdir(d))) {
    const char *s = e->d_name;
    if (*s < '0' || *s > '9') continue;
    long v = 0;
    for (; *s >= '0' && *s <= '9' && v <= INT32_MAX; s++) v = v * 10 + (*s - '0');
    if (*s || v > INT32_MAX) continue;
    if (n == cap) {
      int32_t *p = realloc(pids, (cap *= 2) * sizeof *pids);
      if (!p) { free(pids); pids = NULL; break; }
      pids = p;
    }
    pids[n++] = (int32_t)v;
  }
  closedir(d);
  if (!pids) { napi_throw_error(env, NULL, "listPids: out of memory"); return NULL; }
  napi_value arr;
  int32_t *data;
  napi_status st = new_int32s(env, n, &data, &arr);
  if (st == napi_ok) memcpy(data, pids, n * sizeof(int32_t));
  free(pids);
  if (st != napi_ok) { napi_throw_error(env, NULL, "listPids: cannot make the array"); return NULL; }
  return arr;
}

/* getXattr(path, name) -> Buffer with the value, or a number: -errno (ENODATA: not set).
 * Node has no xattr call; systemd-oomd's ManagedOOMPreference lives in cgroup xattrs. */
static napi_value get_xattr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[ROOT_MAX], name[256];
  size_t len;
  if (!get_args(env, info, argv, 2, 2, "getXattr")) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok || len >= sizeof name - 1) {
    napi_throw_type_error(env, NULL, "getXattr: (path, name) strings, path shorter than 4096 bytes");
    return NULL;
  }
  char buf[4096];
  ssize_t n = getxattr(path, name, buf, sizeof buf);
  napi_value out;
  if (n < 0) {
    CHECK(napi_create_int32(env, -errno, &out));
    return out;
  }
  void *data;
  CHECK(napi_create_buffer_copy(env, (size_t)n, buf, &data, &out));
  return out;
}

/* One mapping of /proc/self/smaps, as far as trimFilePages needs it. */
struct mapping {
  unsigned long start, end;
  int candidate; /* not writable, and backed by a file */
  long rss_kb, anon_kb;
};

/* Drops the mapping's resident pages when they are all clean file pages; returns the kB dropped. */
static long drop_mapping(const struct mapping *m) {
  if (!m->candidate || m->rss_kb <= 0 || m->anon_kb != 0) return 0;
  return madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) == 0 ? m->rss_kb : 0;
}

/* trimFilePages() -> kB dropped, or -errno: takes out of this process's page tables the
 * resident pages of its read-only file mappings (the node binary's code and read-only data,
 * the shared libraries, this reader), with madvise(MADV_DONTNEED). They stay in the page
 * cache: a page touched again is mapped back by a minor fault, so what stays resident is
 * what runs, not everything start-up touched (~30 MiB of the node binary). A mapping is
 * touched only when smaps counts no anonymous page in it: a copied-on-write page (a
 * relocated read-only section) would lose its content; the others read back the same. */
static napi_value trim_file_pages(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  FILE *f = fopen("/proc/self/smaps", "re");
  if (!f) {
    CHECK(napi_create_int64(env, -errno, &out));
    return out;
  }
  char line[4608];
  struct mapping m = {0, 0, 0, 0, -1};
  long dropped = 0;
  while (fgets(line, sizeof line, f)) {
    if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
      dropped += drop_mapping(&m);
      char perms[8] = "", path[8] = "";
      unsigned long start, end, off, inode;
      unsigned dmaj, dmin;
      int got = sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %7s", &start, &end, perms, &off, &dmaj, &dmin, &inode, path);
      m = (struct mapping){start, end, got >= 8 && perms[1] == '-' && inode != 0 && path[0] == '/', 0, -1};
    } else if (strncmp(line, "Rss:", 4) == 0) {
      m.rss_kb = strtol(line + 4, NULL, 10);
    } else if (strncmp(line, "Anonymous:", 10) == 0) {
      m.anon_kb = strtol(line + 10, NULL, 10);
    }
  }
  dropped += drop_mapping(&m);
  fclose(f);
  CHECK(napi_create_int64(env, dropped, &out));
  return out;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    {"readBatch", read_batch}, {"readBatchAsync", read_batch_async}, {"readSlots", read_slots}, {"readHashed", read_hashed}, {"listPids", list_pids}, {"readEach", read_each},
    {"getXattr", get_xattr}, {"openMany", open_many}, {"trimFilePages", trim_file_pages},
  };
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
