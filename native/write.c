/*
 * flat6's native file writer: creates a batch of files (one rendered unit,
 * src/render/units.ts collect) under a directory on a thread of its own (one
 * per lane, below), so the thread that renders never waits on the file
 * system, and without the per-call cost of Node's fs bindings (each
 * directory and file is one mkdirat, or one openat, write and close,
 * relative to the output root).
 *
 *   writeDirectAsync(fd, data, offset) -> Promise<bytes>
 *     writes all of data at `offset` (pwrite: writes in flight side by side
 *     land where they belong), on a thread of libuv's pool, through a
 *     4 KiB-aligned copy, so fd may have been opened with O_DIRECT (archives
 *     of a large render: src/sinks/archive.ts); data must stay untouched
 *     until it settles. Where the file system refuses an O_DIRECT write of
 *     that size (EINVAL: its block is larger than the write's alignment),
 *     O_DIRECT is turned off on fd and the write goes through the page
 *     cache.
 *
 *   write(root, umask, paths, meta, data, stop, lane) -> Promise<[files, bytes]>
 *     root   the output directory (it exists)
 *     umask  the process umask: a file whose mode it would change is fchmod'ed
 *     paths  the files' relative paths, each followed by "\0"; a path that
 *            is absolute or has an empty, "." or ".." part fails the batch
 *            before anything is written
 *     meta   Uint32Array: mode and size of each file, in turn
 *     data   Uint8Array: the files' contents back to back
 *     stop   Int32Array(1), one per writer: set by its first failed batch;
 *            its later batches then write nothing
 *     lane   0-3: batches of one lane are written one at a time in the
 *            process, batches of different lanes side by side
 *
 * Directories are made as needed (mode 0777 less the umask, as mkdir(2) does
 * for Node's mkdirSync), each once per batch; an existing one is fine. A file
 * that exists is an error (O_EXCL), as for the JavaScript writer. The first
 * error stops the batch and rejects the promise with an Error whose code and
 * message read like Node's: "EACCES: permission denied, open '<path>'".
 * src/sinks/native-writer.ts loads this; a build without it writes from
 * JavaScript.
 */
#define _GNU_SOURCE /* O_DIRECT */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MADE 64

typedef struct batch_s {
  struct batch_s *next; /* the lane's queue */
  struct env_state_s *env;
  napi_deferred deferred;
  napi_ref meta_ref;
  napi_ref data_ref;
  napi_ref stop_ref;
  int32_t *stop;     /* the writer's stop flag: set by the first failure */
  char *root;
  char *paths;
  size_t paths_len;
  const uint32_t *meta;
  size_t count;
  const uint8_t *data;
  size_t data_len;
  unsigned umask;
  uint32_t lane;     /* batches of one lane are written one at a time */
  /* results */
  size_t files;
  double bytes;
  int err;           /* errno of the first failure, 0 if none */
  const char *op;    /* its system call */
  char *err_path;    /* its path, relative to root */
  char *err_detail;  /* or a message of flat6's own */
} batch_t;

/* Directories made in this batch: only those under the current group (the first two parts, hosts/<host>), plus top-level ones. */
typedef struct {
  char *made[MAX_MADE];
  size_t n;
} dirset_t;

typedef struct {
  dirset_t top;  /* top-level directories (hosts, fabric): kept for the whole batch */
  dirset_t made; /* directories inside the current group */
  char group[4096];
} tracker_t;

static int set_has(dirset_t *s, const char *d, size_t len) {
  for (size_t i = 0; i < s->n; i++)
    if (strlen(s->made[i]) == len && memcmp(s->made[i], d, len) == 0) return 1;
  return 0;
}

static void set_add(dirset_t *s, const char *d, size_t len) {
  if (s->n == MAX_MADE) free(s->made[--s->n]); /* forget the newest: at worst one more mkdirat that finds it there */
  char *c = malloc(len + 1);
  if (!c) return;
  memcpy(c, d, len);
  c[len] = 0;
  s->made[s->n++] = c;
}

static void set_free(dirset_t *s) {
  for (size_t i = 0; i < s->n; i++) free(s->made[i]);
  s->n = 0;
}

static int tracker_has(tracker_t *t, const char *d, size_t len) {
  return memchr(d, '/', len) ? set_has(&t->made, d, len) : set_has(&t->top, d, len);
}

static void tracker_add(tracker_t *t, const char *d, size_t len) {
  set_add(memchr(d, '/', len) ? &t->made : &t->top, d, len);
}

static void tracker_free(tracker_t *t) {
  set_free(&t->top);
  set_free(&t->made);
}

static int fail(batch_t *b, int err, const char *op, const char *path, size_t len) {
  b->err = err;
  b->op = op;
  b->err_path = malloc(len + 1);
  if (b->err_path) {
    memcpy(b->err_path, path, len);
    b->err_path[len] = 0;
  }
  return -1;
}

/* Make the directories of path[0..len) that this batch has not made, outermost first. */
static int make_dirs(batch_t *b, int rootfd, tracker_t *t, char *path, size_t len) {
  /* a new group (hosts/<host>): forget the last one's directories */
  const char *s1 = memchr(path, '/', len);
  size_t glen = len;
  if (s1) {
    const char *s2 = memchr(s1 + 1, '/', len - (size_t)(s1 + 1 - path));
    if (s2) glen = (size_t)(s2 - path);
  }
  if (glen >= sizeof t->group) return fail(b, ENAMETOOLONG, "mkdir", path, len);
  if (strlen(t->group) != glen || memcmp(t->group, path, glen) != 0) {
    set_free(&t->made);
    memcpy(t->group, path, glen);
    t->group[glen] = 0;
  }
  /* walk up to the first directory already made, then down again making each */
  size_t ends[256];
  size_t n = 0;
  for (size_t l = len; l > 0 && !tracker_has(t, path, l);) {
    if (n == 256) return fail(b, ENAMETOOLONG, "mkdir", path, len);
    ends[n++] = l;
    while (l > 0 && path[l - 1] != '/') l--;
    if (l > 0) l--; /* drop the "/" */
  }
  while (n > 0) {
    size_t l = ends[--n];
    char saved = path[l];
    path[l] = 0;
    int r = mkdirat(rootfd, path, 0777);
    int e = errno;
    path[l] = saved;
    if (r != 0 && e != EEXIST) return fail(b, e, "mkdir", path, l);
    tracker_add(t, path, l);
  }
  return 0;
}

/* A path the JavaScript writer would take: relative, no empty, "." or ".." part (src/sinks/dir.ts checkRel). */
static int path_ok(const char *p, size_t len) {
  if (len == 0 || p[0] == '/' || p[len - 1] == '/') return 0;
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && p[j] != '/') j++;
    size_t n = j - i;
    if (n == 0 || (n == 1 && p[i] == '.') || (n == 2 && p[i] == '.' && p[i + 1] == '.')) return 0;
    i = j + 1;
  }
  return 1;
}

/* Every path NUL-terminated and acceptable, as many as there are files, and the sizes within the data: checked before anything is written. */
static int batch_ok(batch_t *b) {
  char *p = b->paths;
  char *end = b->paths + b->paths_len;
  size_t total = 0;
  for (size_t i = 0; i < b->count; i++) {
    char *z = memchr(p, 0, (size_t)(end - p));
    if (!z) {
      b->err_detail = strdup("native writer: paths and sizes disagree");
      return 0;
    }
    if (!path_ok(p, (size_t)(z - p))) {
      size_t n = strlen("refusing to write outside the output directory: ") + (size_t)(z - p) + 1;
      b->err_detail = malloc(n);
      if (b->err_detail) snprintf(b->err_detail, n, "refusing to write outside the output directory: %s", p);
      return 0;
    }
    total += b->meta[2 * i + 1];
    p = z + 1;
  }
  if (p != end) {
    b->err_detail = strdup("native writer: paths and sizes disagree");
    return 0;
  }
  if (total > b->data_len) {
    b->err_detail = strdup("native writer: sizes exceed the data");
    return 0;
  }
  return 1;
}

static void write_all(batch_t *b) {
  if (!batch_ok(b)) return;
  int rootfd = open(b->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    fail(b, errno, "open", ".", 1);
    return;
  }
  tracker_t t;
  memset(&t, 0, sizeof t);
  char *p = b->paths;
  char *end = b->paths + b->paths_len;
  size_t off = 0;
  size_t last_dir_len = (size_t)-1;
  const char *last_dir = NULL;
  for (size_t i = 0; i < b->count; i++) {
    char *z = memchr(p, 0, (size_t)(end - p)); /* found: batch_ok checked every path */
    size_t plen = (size_t)(z - p);
    uint32_t mode = b->meta[2 * i];
    uint32_t size = b->meta[2 * i + 1];
    char *slash = NULL;
    for (char *c = z; c > p;)
      if (*--c == '/') {
        slash = c;
        break;
      }
    if (slash) {
      size_t dlen = (size_t)(slash - p);
      if (!(last_dir && dlen == last_dir_len && memcmp(last_dir, p, dlen) == 0)) {
        if (make_dirs(b, rootfd, &t, p, dlen) != 0) break;
        last_dir = p;
        last_dir_len = dlen;
      }
    }
    int fd;
    do fd = openat(rootfd, p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)(mode & 07777));
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      fail(b, errno, "open", p, plen);
      break;
    }
    const uint8_t *c = b->data + off;
    size_t left = size;
    int werr = 0;
    while (left > 0) {
      ssize_t w = write(fd, c, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        werr = errno;
        break;
      }
      c += w;
      left -= (size_t)w;
    }
    if (!werr && (mode & b->umask) != 0 && fchmod(fd, (mode_t)(mode & 07777)) != 0) werr = errno;
    if (close(fd) != 0 && !werr && errno != EINTR) werr = errno;
    if (werr) {
      fail(b, werr, "write", p, plen);
      break;
    }
    off += size;
    b->files++;
    b->bytes += size;
    p = z + 1;
  }
  tracker_free(&t);
  close(rootfd);
}

/*
 * Per Node environment (the main thread, or a worker thread that loaded the
 * writer): the thread-safe function that hands finished batches back to its
 * JavaScript thread, and how many of its batches are still queued or being
 * written (the environment's teardown waits for them: they read its buffers).
 */
typedef struct env_state_s {
  napi_threadsafe_function done;
  pthread_mutex_t mu;
  pthread_cond_t idle;
  size_t in_flight; /* handed to a lane, not yet handed back */
  size_t pending;   /* not yet settled on the JavaScript thread: while any, `done` keeps the event loop alive */
} env_state_t;

/*
 * Lanes: one thread each, started on first use, that writes the batches
 * queued to it one at a time, in order, for every environment of the
 * process. A batch is queued by appending it to a list: when the lane's
 * thread is busy, handing it a batch wakes nothing (a thread woken only to
 * wait for the lane took the rendering thread's core from it).
 */
#define LANES 4
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t work;
  batch_t *head, *tail;
  int started;
} lane_t;
static lane_t lanes[LANES] = {
  {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0},
  {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0},
  {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0},
  {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0},
};

static void batch_free(batch_t *b) {
  free(b->root);
  free(b->paths);
  free(b->err_path);
  free(b->err_detail);
  free(b);
}

static void *lane_main(void *arg) {
  lane_t *l = arg;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    while (!l->head) pthread_cond_wait(&l->work, &l->mu);
    batch_t *b = l->head;
    l->head = b->next;
    if (!l->head) l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    if (__atomic_load_n(b->stop, __ATOMIC_ACQUIRE)) {
      b->err_detail = strdup("native writer: stopped, an earlier batch failed");
    } else {
      write_all(b);
      if (b->err || b->err_detail) __atomic_store_n(b->stop, 1, __ATOMIC_RELEASE);
    }
    env_state_t *st = b->env;
    /* hand it back before counting it done: the environment's teardown waits for the count, then closes `done` */
    if (napi_call_threadsafe_function(st->done, b, napi_tsfn_nonblocking) != napi_ok) batch_free(b);
    pthread_mutex_lock(&st->mu);
    if (--st->in_flight == 0) pthread_cond_broadcast(&st->idle);
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_lock(&l->mu);
  }
  return NULL;
}

/* Queue a batch to its lane (the JavaScript thread); 0, or the error of starting the lane's thread. */
static int lane_push(batch_t *b) {
  lane_t *l = &lanes[b->lane];
  int err = 0;
  pthread_mutex_lock(&l->mu);
  if (!l->started) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&t, &a, lane_main, l);
    pthread_attr_destroy(&a);
    if (!err) l->started = 1;
  }
  if (!err) {
    b->next = NULL;
    if (l->tail) l->tail->next = b;
    else l->head = b;
    l->tail = b;
    pthread_cond_signal(&l->work);
  }
  pthread_mutex_unlock(&l->mu);
  return err;
}

/* On the JavaScript thread: settle a finished batch's promise. env is NULL when the environment is being torn down. */
static void settle(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  env_state_t *st = context;
  batch_t *b = data;
  if (env == NULL) {
    batch_free(b);
    return;
  }
  napi_value result;
  if (!b->err && !b->err_detail) {
    napi_value files, bytes;
    napi_create_array_with_length(env, 2, &result);
    napi_create_double(env, (double)b->files, &files);
    napi_create_double(env, b->bytes, &bytes);
    napi_set_element(env, result, 0, files);
    napi_set_element(env, result, 1, bytes);
    napi_resolve_deferred(env, b->deferred, result);
  } else {
    char msg[8192];
    napi_value code = NULL, message, error;
    if (b->err) {
      const char *name = uv_err_name(-b->err);
      snprintf(msg, sizeof msg, "%s: %s, %s '%s/%s'", name, uv_strerror(-b->err), b->op, b->root, b->err_path ? b->err_path : "");
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
    } else {
      snprintf(msg, sizeof msg, "%s", b->err_detail);
    }
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, code, message, &error);
    if (code) napi_set_named_property(env, error, "code", code);
    napi_reject_deferred(env, b->deferred, error);
  }
  napi_delete_reference(env, b->meta_ref);
  napi_delete_reference(env, b->data_ref);
  napi_delete_reference(env, b->stop_ref);
  batch_free(b);
  if (--st->pending == 0) napi_unref_threadsafe_function(env, st->done);
}

/* The environment is going away: wait until the lanes are done with its batches, then close `done` (queued results are freed unsettled). */
static void env_teardown(void *arg) {
  env_state_t *st = arg;
  pthread_mutex_lock(&st->mu);
  while (st->in_flight > 0) pthread_cond_wait(&st->idle, &st->mu);
  pthread_mutex_unlock(&st->mu);
  napi_release_threadsafe_function(st->done, napi_tsfn_abort);
}

static void env_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  env_state_t *st = data;
  pthread_mutex_destroy(&st->mu);
  pthread_cond_destroy(&st->idle);
  free(st);
}

static char *string_arg(napi_env env, napi_value v, size_t *len) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, n + 1, &n);
  if (len) *len = n;
  return s;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) return throw_type(env, "write(root, umask, paths, meta, data, stop, lane)");
  batch_t *b = calloc(1, sizeof *b);
  if (!b) return throw_type(env, "out of memory");
  uint32_t umask;
  napi_typedarray_type mt, dt;
  size_t mlen, dlen;
  void *mdata, *ddata;
  napi_typedarray_type st;
  size_t slen;
  void *sdata;
  napi_value mbuf, dbuf, sbuf;
  size_t moff, doff, soff;
  b->root = string_arg(env, argv[0], NULL);
  b->paths = string_arg(env, argv[2], &b->paths_len);
  if (!b->root || !b->paths || napi_get_value_uint32(env, argv[1], &umask) != napi_ok ||
      napi_get_value_uint32(env, argv[6], &b->lane) != napi_ok || b->lane >= LANES ||
      napi_get_typedarray_info(env, argv[3], &mt, &mlen, &mdata, &mbuf, &moff) != napi_ok || mt != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[4], &dt, &dlen, &ddata, &dbuf, &doff) != napi_ok || dt != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[5], &st, &slen, &sdata, &sbuf, &soff) != napi_ok || st != napi_int32_array || slen != 1) {
    free(b->root);
    free(b->paths);
    free(b);
    return throw_type(env, "write(root: string, umask: number, paths: string, meta: Uint32Array, data: Uint8Array, stop: Int32Array(1), lane: 0-3)");
  }
  b->umask = umask;
  b->meta = mdata;
  b->count = mlen / 2;
  b->data = ddata;
  b->data_len = dlen;
  b->stop = sdata;
  env_state_t *es = NULL;
  napi_get_instance_data(env, (void **)&es);
  b->env = es;
  napi_value promise;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_reference(env, argv[3], 1, &b->meta_ref);
  napi_create_reference(env, argv[4], 1, &b->data_ref);
  napi_create_reference(env, argv[5], 1, &b->stop_ref);
  if (es->pending++ == 0) napi_ref_threadsafe_function(env, es->done);
  pthread_mutex_lock(&es->mu);
  es->in_flight++;
  pthread_mutex_unlock(&es->mu);
  int err = lane_push(b);
  if (err) {
    pthread_mutex_lock(&es->mu);
    es->in_flight--;
    pthread_mutex_unlock(&es->mu);
    b->err = err;
    b->op = "start a writing thread for";
    settle(env, NULL, es, b); /* rejects the promise */
  }
  return promise;
}

/* writeDirectAsync's aligned copy, one per thread of libuv's pool, freed when the thread ends. */
#define DIRECT_CHUNK (1u << 20)
static pthread_key_t bounce_key;
static pthread_once_t bounce_once = PTHREAD_ONCE_INIT;
static void bounce_key_make(void) { pthread_key_create(&bounce_key, free); }

static char *bounce_buffer(void) {
  pthread_once(&bounce_once, bounce_key_make);
  char *b = pthread_getspecific(bounce_key);
  if (!b) {
    void *p = NULL;
    if (posix_memalign(&p, 4096, DIRECT_CHUNK) != 0) return NULL;
    b = p;
    pthread_setspecific(bounce_key, b);
  }
  return b;
}

/* Write all of data at offset `at` through the thread's aligned copy; 0 or an errno. */
static int direct_write_all(int fd, const char *data, size_t length, int64_t at) {
  char *bounce = bounce_buffer();
  if (!bounce) return ENOMEM;
  size_t done = 0;
  int buffered = 0;
  while (done < length) {
    size_t n = length - done < DIRECT_CHUNK ? length - done : DIRECT_CHUNK;
    memcpy(bounce, data + done, n);
    size_t off = 0;
    while (off < n) {
      ssize_t w = pwrite(fd, bounce + off, n - off, (off_t)(at + (int64_t)(done + off)));
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EINVAL && !buffered) {
          /* An unaligned direct write: through the page cache from here on. Once more only, and whether or not
             O_DIRECT is still set: a write in flight beside this one may have turned it off already. */
          int flags = fcntl(fd, F_GETFL);
          if (flags >= 0 && (flags & O_DIRECT)) fcntl(fd, F_SETFL, flags & ~O_DIRECT);
          buffered = 1;
          continue;
        }
        return errno;
      }
      off += (size_t)w;
    }
    done += n;
  }
  return 0;
}

static napi_value make_errno_error(napi_env env, int err, const char *op) {
  char msg[256];
  const char *name = uv_err_name(-err);
  snprintf(msg, sizeof msg, "%s: %s, %s", name, uv_strerror(-err), op);
  napi_value code, message, error;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_set_named_property(env, error, "code", code);
  return error;
}

/* (fd, data, offset: a whole number of bytes) */
static bool direct_args(napi_env env, napi_callback_info info, int32_t *fd, napi_value *array, const char **data, size_t *length, int64_t *at) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_typed = false;
  if (argc != 3 || napi_get_value_int32(env, argv[0], fd) != napi_ok || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed) return false;
  double d;
  if (napi_get_value_double(env, argv[2], &d) != napi_ok || !(d >= 0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) return false;
  *at = (int64_t)d;
  napi_typedarray_type type;
  void *p;
  napi_get_typedarray_info(env, argv[1], &type, length, &p, NULL, NULL);
  if (type != napi_uint8_array) return false;
  *array = argv[1];
  *data = p;
  return true;
}

/* writeDirectAsync: direct_write_all on a thread of libuv's pool; data is held until the write is done. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  int fd;
  const char *data;
  size_t length;
  int64_t at;
  int err;
} direct_job_t;

static void direct_execute(napi_env env, void *arg) {
  (void)env;
  direct_job_t *j = arg;
  j->err = direct_write_all(j->fd, j->data, j->length, j->at);
}

static void direct_complete(napi_env env, napi_status status, void *arg) {
  direct_job_t *j = arg;
  if (status == napi_ok && !j->err) {
    napi_value result;
    napi_create_double(env, (double)j->length, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_reject_deferred(env, j->deferred, make_errno_error(env, j->err ? j->err : ECANCELED, "write"));
  }
  napi_delete_reference(env, j->data_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value write_direct_async(napi_env env, napi_callback_info info) {
  int32_t fd;
  napi_value array;
  const char *data;
  size_t length;
  int64_t at;
  if (!direct_args(env, info, &fd, &array, &data, &length, &at)) return throw_type(env, "writeDirectAsync(fd: number, data: Uint8Array, offset: number)");
  direct_job_t *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw(env, make_errno_error(env, ENOMEM, "write"));
    return NULL;
  }
  j->fd = fd;
  j->data = data;
  j->length = length;
  j->at = at;
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_reference(env, array, 1, &j->data_ref);
  napi_create_string_utf8(env, "flat6.writeDirect", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, direct_execute, direct_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

NAPI_MODULE_INIT() {
  env_state_t *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  pthread_mutex_init(&st->mu, NULL);
  pthread_cond_init(&st->idle, NULL);
  napi_value name;
  napi_create_string_utf8(env, "flat6.write", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, st, settle, &st->done) != napi_ok) {
    env_free(env, st, NULL);
    return NULL;
  }
  napi_unref_threadsafe_function(env, st->done); /* only batches awaiting their result keep the process alive */
  napi_set_instance_data(env, st, env_free, NULL);
  napi_add_env_cleanup_hook(env, env_teardown, st);
  napi_value fn;
  napi_create_function(env, "write", NAPI_AUTO_LENGTH, write_batch, NULL, &fn);
  napi_set_named_property(env, exports, "write", fn);
  napi_create_function(env, "writeDirectAsync", NAPI_AUTO_LENGTH, write_direct_async, NULL, &fn);
  napi_set_named_property(env, exports, "writeDirectAsync", fn);
  return exports;
}
