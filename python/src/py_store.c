/* _hoist.Store: the object store client (hoist.h "Object store client") as a
 * CPython type, and _hoist.Buffer, bytes hoist allocated, exposed through the
 * buffer protocol so memoryview/pyarrow can read them without a copy.
 *
 * Only the public API is used (STYLE.md: the Python extension sees hoist.h).
 * Every store call runs with the GIL released. Calls that take a progress
 * callback can be cancelled with Ctrl-C: the callback briefly takes the GIL
 * and runs the Python signal handlers (they only run on the main thread).
 * SIGTERM with its default action cancels them the same way (py_interrupt.h). */

#include "py_common.h" /* Python.h first, as the C API asks */

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "hoist.h"
#include "py_interrupt.h" /* SIGTERM during a transfer */

/* ---------------------------------------------------------------- errors */

/* A str of a C message, or None for NULL. hoist caps its messages at a fixed
 * size, which can cut a multi-byte character in two (a long non-ASCII key):
 * strict decoding would then replace the real error by UnicodeDecodeError. */
static PyObject *text_or_none(const char *s) {
    if (s == NULL) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "backslashreplace");
}

/* Raises the exception hoist.exceptions maps `status` to (metaflow.S3's
 * classes), with the C message. */
static PyObject *raise_status(enum hoist_status status, const char *msg) { return hoist_py_raise(status, msg, "s3"); }

/* Copies the thread-local message before anything else can call hoist. */
static void copy_errmsg(char *dst, size_t cap) {
    const char *m = hoist_errmsg();
    snprintf(dst, cap, "%s", m ? m : "");
}

/* ---------------------------------------------------------------- Buffer */

typedef struct {
    PyObject_HEAD void *data;
    Py_ssize_t size;
} BufferObject;

static void buffer_dealloc(BufferObject *self) {
    hoist_free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int buffer_getbuffer(BufferObject *self, Py_buffer *view, int flags) {
    /* Read-only: the bytes may back several S3Objects (duplicate keys). */
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data ? self->data : (void *)"", self->size, 1, flags);
}

static Py_ssize_t buffer_len(BufferObject *self) { return self->size; }

static PyBufferProcs buffer_as_buffer = {
    .bf_getbuffer = (getbufferproc)buffer_getbuffer,
    .bf_releasebuffer = NULL,
};

static PySequenceMethods buffer_as_sequence = {
    .sq_length = (lenfunc)buffer_len,
};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = (destructor)buffer_dealloc,
    .tp_as_buffer = &buffer_as_buffer,
    .tp_as_sequence = &buffer_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes downloaded by hoist, readable through the buffer protocol (memoryview) "
              "without a copy. Freed when the last view is gone.",
};

/* Takes ownership of data (allocated by hoist). */
static PyObject *buffer_new(void *data, uint64_t size) {
    BufferObject *b = PyObject_New(BufferObject, &BufferType);
    if (b == NULL) {
        hoist_free(data);
        return NULL;
    }
    b->data = data;
    b->size = (Py_ssize_t)size;
    return (PyObject *)b;
}

/* ---------------------------------------------------------------- progress / Ctrl-C */

struct cancel_state {
    PyObject *exc_type, *exc_value, *exc_tb; /* captured KeyboardInterrupt etc. */
    struct hoist_py_sigint_guard term;       /* SIGTERM: py_interrupt.h */
    double next_check;                       /* monotonic seconds */
    int cancelled;
};

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs without the GIL. Taking the GIL on every callback would slow large
 * transfers, so signals are checked at most every 20 ms. */
static int progress_check_signals(const struct hoist_progress *progress, void *userdata) {
    (void)progress;
    struct cancel_state *st = userdata;
    if (st->cancelled || hoist_py_sigint_pending()) return 1;
    double now = monotonic_s();
    if (now < st->next_check) return 0;
    st->next_check = now + 0.02;
    if (!Py_IsInitialized()) return 0;
    PyGILState_STATE g = PyGILState_Ensure();
    /* A no-op off the main thread, where Python never runs signal handlers. */
    if (PyErr_CheckSignals() != 0) {
        PyErr_Fetch(&st->exc_type, &st->exc_value, &st->exc_tb);
        st->cancelled = 1;
    }
    PyGILState_Release(g);
    return st->cancelled;
}

/* With the GIL, before the call. */
static void cancel_state_init(struct cancel_state *st) {
    memset(st, 0, sizeof *st);
    st->next_check = 0.0;
    hoist_py_sigterm_enter(&st->term);
}

/* With the GIL held after the call: if a signal handler raised, that
 * exception wins over the call's own status (the user asked to stop). */
static int cancel_state_restore(struct cancel_state *st) {
    if (hoist_py_sigint_leave(&st->term)) {
        /* SIGTERM (SystemExit is set) ends the program whatever else happened. */
        Py_XDECREF(st->exc_type);
        Py_XDECREF(st->exc_value);
        Py_XDECREF(st->exc_tb);
        st->exc_type = st->exc_value = st->exc_tb = NULL;
        return 1;
    }
    if (st->exc_type == NULL) return 0;
    PyErr_Restore(st->exc_type, st->exc_value, st->exc_tb);
    st->exc_type = st->exc_value = st->exc_tb = NULL;
    return 1;
}

/* ---------------------------------------------------------------- Store */

/* Calls run with the GIL released, so close() (or a signal handler run by
 * the progress callback) can come from another thread while one is in
 * flight; freeing the client then would pull it from under the running
 * call. close() therefore only detaches it, and whoever finishes last frees
 * it. busy and closing change only with the GIL held. */
typedef struct {
    PyObject_HEAD struct hoist_store *store; /* NULL once closed */
    struct hoist_store *closing;             /* closed while calls were in flight */
    Py_ssize_t busy;                         /* calls in flight without the GIL */
} StoreObject;

static void store_free_nogil(struct hoist_store *s) {
    if (s == NULL) return;
    Py_BEGIN_ALLOW_THREADS hoist_store_free(s);
    Py_END_ALLOW_THREADS
}

static void store_dealloc(StoreObject *self) {
    /* busy is 0 here: every call in flight holds a reference to self. */
    struct hoist_store *s = self->store, *c = self->closing;
    self->store = self->closing = NULL;
    store_free_nogil(s);
    store_free_nogil(c);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int store_check(StoreObject *self) {
    if (self->store == NULL) {
        PyErr_SetString(PyExc_ValueError, "the hoist store client is closed");
        return -1;
    }
    return 0;
}

/* With the GIL, right before releasing it: the client for one call, or NULL
 * with ValueError if closed (argument conversion can run Python code that
 * closes it, so the check at the top of a method is not enough). */
static struct hoist_store *store_enter(StoreObject *self) {
    if (store_check(self) < 0) return NULL;
    self->busy++;
    Py_INCREF(self);
    return self->store;
}

/* With the GIL, after the call. */
static void store_leave(StoreObject *self) {
    if (--self->busy == 0 && self->closing) {
        struct hoist_store *c = self->closing;
        self->closing = NULL;
        store_free_nogil(c);
    }
    Py_DECREF(self);
}

/* One libhoist call, run by store_call without the GIL: ctx holds its
 * arguments; progress/userdata are what a cancellable call passes on (NULL
 * otherwise). */
typedef enum hoist_status (*store_call_fn)(struct hoist_store *store, void *ctx, hoist_progress_fn progress,
                                           void *userdata);

/* Runs call with the GIL released on self's client (store_enter/leave), or
 * with store NULL when self is NULL (Store.__init__, making the client). A
 * cancellable call gets a progress callback that Ctrl-C (and SIGTERM) stop,
 * and then that exception wins over the call's status. Returns 0, or -1 with
 * the Python exception set: the one hoist.exceptions maps the status to,
 * with the message copied before anything else could call hoist. */
static int store_call(StoreObject *self, store_call_fn call, void *ctx, int cancellable) {
    struct hoist_store *store = NULL;
    if (self != NULL && (store = store_enter(self)) == NULL) return -1;
    struct cancel_state cs;
    if (cancellable)
        cancel_state_init(&cs);
    else
        memset(&cs, 0, sizeof cs);
    enum hoist_status st;
    char msg[2048] = "";
    Py_BEGIN_ALLOW_THREADS st = call(store, ctx, cancellable ? progress_check_signals : NULL, cancellable ? &cs : NULL);
    if (st != HOIST_OK) copy_errmsg(msg, sizeof msg);
    Py_END_ALLOW_THREADS if (self != NULL) store_leave(self);
    if (cancellable && cancel_state_restore(&cs)) return -1;
    if (st != HOIST_OK) {
        raise_status(st, msg);
        return -1;
    }
    return 0;
}

/* ---- the store calls as store_call_fn, each over its arguments */

struct many_args {
    void *items; /* the call's item array (for delete_many, its URLs) */
    size_t n;
    unsigned flags;
};

static enum hoist_status call_get_many(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    const struct many_args *a = ctx;
    return hoist_store_get_many(s, a->items, a->n, a->flags, p, ud);
}

static enum hoist_status call_put_many(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    const struct many_args *a = ctx;
    return hoist_store_put_many(s, a->items, a->n, a->flags, p, ud);
}

static enum hoist_status call_copy_many(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    const struct many_args *a = ctx;
    return hoist_store_copy_many(s, a->items, a->n, a->flags, p, ud);
}

static enum hoist_status call_info_many(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)p;
    (void)ud;
    const struct many_args *a = ctx;
    return hoist_store_info_many(s, a->items, a->n, a->flags);
}

static enum hoist_status call_delete_many(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)p;
    (void)ud;
    const struct many_args *a = ctx;
    return hoist_store_delete_many(s, (const char *const *)a->items, a->n);
}

struct list_args {
    const char *const *prefixes;
    size_t n;
    int recursive;
    struct hoist_list *out;
};

static enum hoist_status call_list(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)p;
    (void)ud;
    const struct list_args *a = ctx;
    return hoist_store_list(s, a->prefixes, a->n, a->recursive, a->out);
}

struct prefix_args {
    const char *prefix, *dest;
    unsigned flags;
    struct hoist_prefix_files *out;
};

static enum hoist_status call_get_prefix(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    const struct prefix_args *a = ctx;
    return hoist_store_get_prefix(s, a->prefix, a->dest, a->flags, p, ud, a->out);
}

/* ctx: the bucket's URL */
static enum hoist_status call_bucket_create(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)p;
    (void)ud;
    return hoist_store_bucket_create(s, ctx);
}

static enum hoist_status call_bucket_delete(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)p;
    (void)ud;
    return hoist_store_bucket_delete(s, ctx);
}

struct new_args {
    const struct hoist_store_config *cfg;
    struct hoist_store *out;
};

/* s is NULL: the client is being made. */
static enum hoist_status call_store_new(struct hoist_store *s, void *ctx, hoist_progress_fn p, void *ud) {
    (void)s;
    (void)p;
    (void)ud;
    struct new_args *a = ctx;
    return hoist_store_new(a->cfg, &a->out);
}

int hoist_py_store_set_str(struct hoist_store_config *cfg, enum hoist_store_option opt, PyObject *v,
                           const char *argname) {
    if (v == NULL || v == Py_None) return 0;
    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", argname, Py_TYPE(v)->tp_name);
        return -1;
    }
    const char *s = PyUnicode_AsUTF8(v);
    if (s == NULL) return -1;
    enum hoist_status st = hoist_store_config_set_str(cfg, opt, s);
    if (st != HOIST_OK) {
        PyErr_Format(PyExc_ValueError, "%s: %s", argname, hoist_errmsg());
        return -1;
    }
    return 0;
}

static int set_int_opt(struct hoist_store_config *cfg, enum hoist_store_option opt, PyObject *v, const char *argname,
                       int is_bool) {
    if (v == NULL || v == Py_None) return 0;
    long long x;
    if (is_bool) {
        int t = PyObject_IsTrue(v);
        if (t < 0) return -1;
        x = t;
    } else {
        if (PyBool_Check(v) || !PyLong_Check(v)) {
            PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", argname, Py_TYPE(v)->tp_name);
            return -1;
        }
        x = PyLong_AsLongLong(v);
        if (x == -1 && PyErr_Occurred()) return -1;
        if (x < 0) {
            PyErr_Format(PyExc_ValueError, "%s must be >= 0, got %lld", argname, x);
            return -1;
        }
    }
    enum hoist_status st = hoist_store_config_set_int(cfg, opt, (int64_t)x);
    if (st != HOIST_OK) {
        PyErr_Format(PyExc_ValueError, "%s: %s", argname, hoist_errmsg());
        return -1;
    }
    return 0;
}

static int store_init(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"endpoint",   "region",          "profile",   "credentials", "no_sign_request",
                             "verify_tls", "concurrency",     "part_size", "max_retries", "connect_timeout",
                             "addressing", "tmpdir",          "role",      "sse",         "sse_kms_key_id",
                             "ca_bundle",  "inject_failures", NULL};
    PyObject *endpoint = NULL, *region = NULL, *profile = NULL, *credentials = NULL;
    PyObject *no_sign = NULL, *verify = NULL, *concurrency = NULL, *part_size = NULL;
    PyObject *max_retries = NULL, *connect_timeout = NULL, *addressing = NULL, *tmpdir = NULL;
    PyObject *role = NULL, *sse = NULL, *sse_kms_key_id = NULL, *ca_bundle = NULL, *inject = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OOOOOOOOOOOOOOOOO", kwlist, &endpoint, &region, &profile,
                                     &credentials, &no_sign, &verify, &concurrency, &part_size, &max_retries,
                                     &connect_timeout, &addressing, &tmpdir, &role, &sse, &sse_kms_key_id, &ca_bundle,
                                     &inject))
        return -1;
    if (self->store) {
        PyErr_SetString(PyExc_RuntimeError, "Store.__init__ called twice");
        return -1;
    }

    struct hoist_store_config *cfg = NULL;
    enum hoist_status st = hoist_store_config_new(&cfg);
    if (st != HOIST_OK) {
        raise_status(st, hoist_errmsg());
        return -1;
    }
    int rc = -1;
    if (hoist_py_store_set_str(cfg, HOIST_STORE_ENDPOINT, endpoint, "endpoint") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_REGION, region, "region") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_PROFILE, profile, "profile") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_ADDRESSING, addressing, "addressing") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_TMPDIR, tmpdir, "tmpdir") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_ROLE_ARN, role, "role") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_SSE, sse, "encryption") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_SSE_KMS_KEY_ID, sse_kms_key_id, "sse_kms_key_id") < 0 ||
        hoist_py_store_set_str(cfg, HOIST_STORE_CA_BUNDLE, ca_bundle, "verify (CA bundle)") < 0 ||
        set_int_opt(cfg, HOIST_STORE_NO_SIGN_REQUEST, no_sign, "no_sign_request", 1) < 0 ||
        set_int_opt(cfg, HOIST_STORE_VERIFY_TLS, verify, "verify_tls", 1) < 0 ||
        set_int_opt(cfg, HOIST_STORE_CONCURRENCY, concurrency, "concurrency", 0) < 0 ||
        set_int_opt(cfg, HOIST_STORE_PART_SIZE, part_size, "part_size", 0) < 0 ||
        set_int_opt(cfg, HOIST_STORE_MAX_RETRIES, max_retries, "max_retries", 0) < 0 ||
        set_int_opt(cfg, HOIST_STORE_CONNECT_TIMEOUT, connect_timeout, "connect_timeout", 0) < 0 ||
        set_int_opt(cfg, HOIST_STORE_INJECT_FAILURES, inject, "inject_failure_rate", 0) < 0)
        goto done;
    if (credentials != NULL && credentials != Py_None) {
        /* (access_key_id, secret_access_key[, session_token]) */
        if (!PyTuple_Check(credentials) || PyTuple_GET_SIZE(credentials) < 2 || PyTuple_GET_SIZE(credentials) > 3) {
            PyErr_SetString(PyExc_TypeError,
                            "credentials must be a tuple (access_key_id, secret_access_key[, session_token])");
            goto done;
        }
        if (hoist_py_store_set_str(cfg, HOIST_STORE_ACCESS_KEY_ID, PyTuple_GET_ITEM(credentials, 0),
                                   "credentials[0] (access_key_id)") < 0 ||
            hoist_py_store_set_str(cfg, HOIST_STORE_SECRET_ACCESS_KEY, PyTuple_GET_ITEM(credentials, 1),
                                   "credentials[1] (secret_access_key)") < 0)
            goto done;
        if (PyTuple_GET_SIZE(credentials) == 3 &&
            hoist_py_store_set_str(cfg, HOIST_STORE_SESSION_TOKEN, PyTuple_GET_ITEM(credentials, 2),
                                   "credentials[2] (session_token)") < 0)
            goto done;
    }

    struct new_args made = {cfg, NULL};
    if (store_call(NULL, call_store_new, &made, 0) < 0) goto done;
    self->store = made.out;
    rc = 0;
done:
    hoist_store_config_free(cfg);
    return rc;
}

/* Keeps Python objects alive (and their UTF-8 or buffer memory valid) while
 * the GIL is released: another thread could otherwise drop the last ref. */
struct keep {
    PyObject *list;
};

static const char *keep_utf8(struct keep *k, PyObject *s, const char *what, Py_ssize_t i) {
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s[%zd] must be a str, not %.100s", what, i, Py_TYPE(s)->tp_name);
        return NULL;
    }
    const char *u = PyUnicode_AsUTF8(s);
    if (u == NULL) return NULL;
    if (PyList_Append(k->list, s) < 0) return NULL;
    return u;
}

static const char *keep_opt_utf8(struct keep *k, PyObject *s, const char *what, Py_ssize_t i, int *err) {
    if (s == Py_None) return NULL;
    const char *u = keep_utf8(k, s, what, i);
    if (u == NULL) *err = 1;
    return u;
}

static PyObject *info_to_tuple(const struct hoist_object_info *info) {
    return Py_BuildValue("(sKLzzzz)", info->url ? info->url : "", (unsigned long long)info->size,
                         (long long)info->last_modified, info->etag, info->content_type, info->metadata_json,
                         info->encryption);
}

PyDoc_STRVAR(store_get_many_doc, "get_many(items, paths=None, flags=0) -> list\n\n"
                                 "items: sequence of (url, offset, length, suffix). With paths (one str per item) the\n"
                                 "bytes go to those files (written under a temp name, renamed when whole); without,\n"
                                 "into memory. Returns one (status, error, data, size, range_start, info) per item,\n"
                                 "data a Buffer (memory) or None; info (url, size, last_modified, etag,\n"
                                 "content_type, metadata_json, encryption) or None. Raises on failure of the call.");

static PyObject *store_get_many(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"items", "paths", "flags", NULL};
    PyObject *items_obj, *paths_obj = Py_None;
    unsigned int flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OI", kwlist, &items_obj, &paths_obj, &flags)) return NULL;
    if (store_check(self) < 0) return NULL;
    PyObject *items = PySequence_Tuple(items_obj);
    if (items == NULL) return NULL;
    PyObject *paths = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    if (paths_obj != Py_None) {
        paths = PySequence_Tuple(paths_obj);
        if (paths == NULL) {
            Py_DECREF(items);
            return NULL;
        }
        if (PyTuple_GET_SIZE(paths) != n) {
            PyErr_Format(PyExc_ValueError, "paths has %zd entries but items has %zd", PyTuple_GET_SIZE(paths), n);
            Py_DECREF(items);
            Py_DECREF(paths);
            return NULL;
        }
    }
    struct keep k = {PyList_New(0)};
    struct hoist_get_item *gi = PyMem_Calloc((size_t)(n ? n : 1), sizeof *gi);
    PyObject *result = NULL;
    if (k.list == NULL || gi == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyTuple_GET_ITEM(items, i);
        PyObject *url;
        long long off, len;
        int suffix;
        if (!PyTuple_Check(it) || !PyArg_ParseTuple(it, "OLLp", &url, &off, &len, &suffix)) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "items[%zd] must be (url, offset, length, suffix)", i);
            }
            goto out;
        }
        gi[i].url = keep_utf8(&k, url, "items", i);
        if (gi[i].url == NULL) goto out;
        if (off < 0) {
            PyErr_Format(PyExc_ValueError, "items[%zd]: offset must be >= 0, got %lld", i, off);
            goto out;
        }
        gi[i].offset = off;
        gi[i].length = len;
        gi[i].suffix = suffix;
        if (paths) {
            gi[i].dest = HOIST_DEST_FILE;
            gi[i].path = keep_utf8(&k, PyTuple_GET_ITEM(paths, i), "paths", i);
            if (gi[i].path == NULL) goto out;
        } else {
            gi[i].dest = HOIST_DEST_ALLOC;
        }
    }

    struct many_args call = {gi, (size_t)n, flags};
    if (n > 0 && store_call(self, call_get_many, &call, 1) < 0) goto out;
    result = PyList_New(n);
    if (result == NULL) goto out;
    for (Py_ssize_t i = 0; i < n; i++) {
        struct hoist_get_item *g = &gi[i];
        PyObject *data = Py_None, *info = Py_None;
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
        if (g->status == HOIST_OK) {
            if (g->dest == HOIST_DEST_ALLOC) {
                Py_DECREF(data);
                data = buffer_new(g->data, g->size);
                g->data = NULL; /* the Buffer owns it now */
            }
            Py_DECREF(info);
            info = info_to_tuple(&g->info);
        }
        PyObject *error = text_or_none(g->error);
        if (data == NULL || info == NULL || error == NULL) {
            Py_XDECREF(data);
            Py_XDECREF(info);
            Py_XDECREF(error);
            Py_CLEAR(result);
            goto out;
        }
        /* "N" consumes its object even when Py_BuildValue fails. */
        PyObject *t = Py_BuildValue("(iNNKKN)", (int)g->status, error, data, (unsigned long long)g->size,
                                    (unsigned long long)g->range_start, info);
        if (t == NULL) {
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, i, t);
    }
out:
    if (gi) {
        for (Py_ssize_t i = 0; i < n; i++) hoist_store_get_item_reset(&gi[i]);
        PyMem_Free(gi);
    }
    Py_XDECREF(k.list);
    Py_DECREF(items);
    Py_XDECREF(paths);
    return result;
}

PyDoc_STRVAR(store_put_many_doc, "put_many(items, flags=0) -> list\n\n"
                                 "items: sequence of (url, data, path, content_type, metadata_json); data is any\n"
                                 "C-contiguous buffer (or str, sent as UTF-8) read in place without a copy, or None\n"
                                 "to upload the file at path. Returns one (status, error) per item; with\n"
                                 "HOIST_NO_OVERWRITE an existing object gives HOIST_ERR_EXISTS there.");

static PyObject *store_put_many(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"items", "flags", NULL};
    PyObject *items_obj;
    unsigned int flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|I", kwlist, &items_obj, &flags)) return NULL;
    if (store_check(self) < 0) return NULL;
    PyObject *items = PySequence_Tuple(items_obj);
    if (items == NULL) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    struct keep k = {PyList_New(0)};
    struct hoist_put_item *pi = PyMem_Calloc((size_t)(n ? n : 1), sizeof *pi);
    Py_buffer *views = PyMem_Calloc((size_t)(n ? n : 1), sizeof *views);
    char *have_view = PyMem_Calloc((size_t)(n ? n : 1), 1);
    PyObject *result = NULL;
    if (k.list == NULL || pi == NULL || views == NULL || have_view == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyTuple_GET_ITEM(items, i);
        PyObject *url, *data, *path, *ctype, *meta;
        if (!PyTuple_Check(it) || !PyArg_ParseTuple(it, "OOOOO", &url, &data, &path, &ctype, &meta)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "items[%zd] must be (url, data, path, content_type, metadata_json)", i);
            goto out;
        }
        int err = 0;
        pi[i].url = keep_utf8(&k, url, "items", i);
        if (pi[i].url == NULL) goto out;
        pi[i].content_type = keep_opt_utf8(&k, ctype, "content_type of items", i, &err);
        pi[i].metadata_json = keep_opt_utf8(&k, meta, "metadata_json of items", i, &err);
        if (err) goto out;
        if (data != Py_None) {
            if (PyUnicode_Check(data)) {
                Py_ssize_t len;
                const char *u = PyUnicode_AsUTF8AndSize(data, &len);
                if (u == NULL || PyList_Append(k.list, data) < 0) goto out;
                pi[i].data = u;
                pi[i].size = (uint64_t)len;
            } else {
                if (PyObject_GetBuffer(data, &views[i], PyBUF_C_CONTIGUOUS) < 0) {
                    PyErr_Clear();
                    PyErr_Format(PyExc_TypeError,
                                 "items[%zd]: data must be str or a contiguous bytes-like object, not %.100s", i,
                                 Py_TYPE(data)->tp_name);
                    goto out;
                }
                have_view[i] = 1;
                /* hoist reads a NULL data pointer as "upload the file": give an
                 * empty body a valid pointer. */
                pi[i].data = views[i].len ? views[i].buf : (const void *)"";
                pi[i].size = (uint64_t)views[i].len;
            }
        } else {
            if (path == Py_None) {
                PyErr_Format(PyExc_ValueError, "items[%zd]: neither data nor path given", i);
                goto out;
            }
            pi[i].path = keep_utf8(&k, path, "path of items", i);
            if (pi[i].path == NULL) goto out;
        }
    }

    struct many_args call = {pi, (size_t)n, flags};
    if (n > 0 && store_call(self, call_put_many, &call, 1) < 0) goto out;
    result = PyList_New(n);
    if (result == NULL) goto out;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *error = text_or_none(pi[i].error);
        PyObject *t = error ? Py_BuildValue("(iN)", (int)pi[i].status, error) : NULL;
        if (t == NULL) {
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, i, t);
    }
out:
    if (pi) {
        for (Py_ssize_t i = 0; i < n; i++) hoist_store_put_item_reset(&pi[i]);
        PyMem_Free(pi);
    }
    if (views && have_view) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (have_view[i]) PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
    PyMem_Free(have_view);
    Py_XDECREF(k.list);
    Py_DECREF(items);
    return result;
}

/* A tuple of str kept alive for the call, as a C array of UTF-8 pointers. */
static const char **utf8_array(PyObject *seq_obj, const char *what, PyObject **tuple_out, Py_ssize_t *n_out) {
    PyObject *t = PySequence_Tuple(seq_obj);
    if (t == NULL) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    const char **a = PyMem_Calloc((size_t)(n ? n : 1), sizeof *a);
    if (a == NULL) {
        Py_DECREF(t);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(t, i);
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "%s[%zd] must be a str, not %.100s", what, i, Py_TYPE(s)->tp_name);
            goto fail;
        }
        a[i] = PyUnicode_AsUTF8(s);
        if (a[i] == NULL) goto fail;
    }
    *tuple_out = t;
    *n_out = n;
    return a;
fail:
    PyMem_Free(a);
    Py_DECREF(t);
    return NULL;
}

PyDoc_STRVAR(store_info_many_doc, "info_many(urls, flags=0) -> list of (status, error, info)\n\n"
                                  "HEAD of each URL; info as in get_many, or None when the item failed.");

static PyObject *store_info_many(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"urls", "flags", NULL};
    PyObject *urls_obj, *t = NULL;
    unsigned int flags = 0;
    Py_ssize_t n = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|I", kwlist, &urls_obj, &flags)) return NULL;
    if (store_check(self) < 0) return NULL;
    const char **urls = utf8_array(urls_obj, "urls", &t, &n);
    if (urls == NULL) return NULL;
    PyObject *result = NULL;
    struct hoist_info_item *ii = PyMem_Calloc((size_t)(n ? n : 1), sizeof *ii);
    if (ii == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) ii[i].url = urls[i];
    struct many_args call = {ii, (size_t)n, flags};
    if (n > 0 && store_call(self, call_info_many, &call, 0) < 0) goto out;
    result = PyList_New(n);
    if (result == NULL) goto out;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *info;
        if (ii[i].status == HOIST_OK) {
            info = info_to_tuple(&ii[i].info);
        } else {
            info = Py_None;
            Py_INCREF(info);
        }
        PyObject *error = info ? text_or_none(ii[i].error) : NULL;
        if (error == NULL) Py_XDECREF(info);
        PyObject *tup = error ? Py_BuildValue("(iNN)", (int)ii[i].status, error, info) : NULL;
        if (tup == NULL) {
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, i, tup);
    }
out:
    if (ii) {
        for (Py_ssize_t i = 0; i < n; i++) hoist_store_info_item_reset(&ii[i]);
        PyMem_Free(ii);
    }
    PyMem_Free(urls);
    Py_DECREF(t);
    return result;
}

PyDoc_STRVAR(store_list_doc,
             "list(prefixes, recursive=False) -> list of (url, prefix, size, last_modified, etag, is_prefix)\n\n"
             "Lists each prefix as a directory (a trailing '/' is implied), grouped by prefix\n"
             "in input order and sorted by key within a prefix.");

static PyObject *store_list(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"prefixes", "recursive", NULL};
    PyObject *pref_obj, *t = NULL;
    int recursive = 0;
    Py_ssize_t n = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &pref_obj, &recursive)) return NULL;
    if (store_check(self) < 0) return NULL;
    const char **prefixes = utf8_array(pref_obj, "prefixes", &t, &n);
    if (prefixes == NULL) return NULL;
    struct hoist_list lst = {0};
    PyObject *result = NULL;
    struct list_args call = {prefixes, (size_t)n, recursive, &lst};
    if (n > 0 && store_call(self, call_list, &call, 0) < 0) goto out;
    result = PyList_New((Py_ssize_t)lst.count);
    if (result == NULL) goto out;
    for (size_t i = 0; i < lst.count; i++) {
        const struct hoist_list_entry *e = &lst.entries[i];
        PyObject *tup =
            Py_BuildValue("(ssKLzO)", e->url ? e->url : "", e->prefix ? e->prefix : "", (unsigned long long)e->size,
                          (long long)e->last_modified, e->etag, e->is_prefix ? Py_True : Py_False);
        if (tup == NULL) {
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, tup);
    }
out:
    hoist_store_list_reset(&lst);
    PyMem_Free(prefixes);
    Py_DECREF(t);
    return result;
}

PyDoc_STRVAR(store_get_prefix_doc,
             "get_prefix(prefix, dest_dir, flags=0) -> list\n\n"
             "Downloads every object under prefix (a directory) into files under dest_dir at\n"
             "their keys' relative names (hoist_store_get_prefix). A key that would land outside\n"
             "dest_dir raises before anything is written. Returns one (url, path, size, status,\n"
             "error) per object; with HOIST_NO_OVERWRITE an existing file is skipped with\n"
             "HOIST_ERR_EXISTS there. Raises on failure of the call.");

static PyObject *store_get_prefix(StoreObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"prefix", "dest_dir", "flags", NULL};
    const char *prefix, *dest;
    unsigned int flags = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss|I", kwlist, &prefix, &dest, &flags)) return NULL;
    if (store_check(self) < 0) return NULL;
    struct hoist_prefix_files files = {0};
    PyObject *result = NULL;
    /* prefix and dest point into argument strings the caller keeps alive. */
    struct prefix_args call = {prefix, dest, flags, &files};
    if (store_call(self, call_get_prefix, &call, 1) < 0) goto out;
    result = PyList_New((Py_ssize_t)files.count);
    if (result == NULL) goto out;
    for (size_t i = 0; i < files.count; i++) {
        const struct hoist_prefix_file *f = &files.files[i];
        PyObject *tup =
            Py_BuildValue("(ssKiz)", f->url, f->path, (unsigned long long)f->size, (int)f->status, f->error);
        if (tup == NULL) {
            Py_CLEAR(result);
            goto out;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, tup);
    }
out:
    hoist_store_prefix_files_reset(&files);
    return result;
}

static PyObject *store_delete_many(StoreObject *self, PyObject *urls_obj) {
    if (store_check(self) < 0) return NULL;
    PyObject *t = NULL;
    Py_ssize_t n = 0;
    const char **urls = utf8_array(urls_obj, "urls", &t, &n);
    if (urls == NULL) return NULL;
    struct many_args call = {urls, (size_t)n, 0};
    int rc = n > 0 ? store_call(self, call_delete_many, &call, 0) : 0;
    PyMem_Free(urls);
    Py_DECREF(t);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(store_copy_many_doc, "copy_many(srcs, dsts) -> list of (status, error, size)\n\n"
                                  "Server-side copy of each srcs[i] to dsts[i] (s3:// URLs on this client's\n"
                                  "endpoint): no byte passes through this process. Ctrl-C cancels.");

static PyObject *store_copy_many(StoreObject *self, PyObject *args) {
    PyObject *srcs_obj, *dsts_obj, *ts = NULL, *td = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "OO", &srcs_obj, &dsts_obj)) return NULL;
    if (store_check(self) < 0) return NULL;
    Py_ssize_t n = 0, nd = 0;
    const char **srcs = utf8_array(srcs_obj, "srcs", &ts, &n);
    if (srcs == NULL) return NULL;
    const char **dsts = utf8_array(dsts_obj, "dsts", &td, &nd);
    struct hoist_copy_item *items = NULL;
    if (dsts == NULL) goto out;
    if (nd != n) {
        PyErr_Format(PyExc_ValueError, "%zd sources but %zd destinations", n, nd);
        goto out;
    }
    items = PyMem_Calloc((size_t)(n ? n : 1), sizeof *items);
    if (items == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        items[i].src_url = srcs[i];
        items[i].dst_url = dsts[i];
    }
    struct many_args call = {items, (size_t)n, 0};
    if (n > 0 && store_call(self, call_copy_many, &call, 1) < 0) goto out;
    result = PyList_New(n);
    for (Py_ssize_t i = 0; result && i < n; i++) {
        PyObject *error = text_or_none(items[i].error);
        PyObject *tup =
            error ? Py_BuildValue("(iNK)", (int)items[i].status, error, (unsigned long long)items[i].size) : NULL;
        if (tup == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, tup);
    }
out:
    if (items) {
        for (Py_ssize_t i = 0; i < n; i++) hoist_store_copy_item_reset(&items[i]);
        PyMem_Free(items);
    }
    PyMem_Free(srcs);
    PyMem_Free(dsts);
    Py_XDECREF(ts);
    Py_XDECREF(td);
    return result;
}

static PyObject *bucket_op(StoreObject *self, PyObject *arg, int create) {
    if (store_check(self) < 0) return NULL;
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "url must be a str, not %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    const char *url = PyUnicode_AsUTF8(arg);
    if (url == NULL) return NULL;
    Py_INCREF(arg); /* url points into it while the GIL is released */
    int rc = store_call(self, create ? call_bucket_create : call_bucket_delete, (void *)url, 0);
    Py_DECREF(arg);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *store_bucket_create(StoreObject *self, PyObject *arg) { return bucket_op(self, arg, 1); }
static PyObject *store_bucket_delete(StoreObject *self, PyObject *arg) { return bucket_op(self, arg, 0); }

static PyObject *store_stats(StoreObject *self, PyObject *noargs) {
    (void)noargs;
    if (store_check(self) < 0) return NULL;
    struct hoist_store_stats s;
    memset(&s, 0, sizeof s);
    hoist_store_get_stats(self->store, &s, sizeof s);
    return Py_BuildValue("{sKsKsKsK}", "bytes_received", (unsigned long long)s.bytes_received, "bytes_sent",
                         (unsigned long long)s.bytes_sent, "requests", (unsigned long long)s.requests, "retries",
                         (unsigned long long)s.retries);
}

/* After fork() the client's I/O threads do not exist in the child; freeing
 * it there could wait on them forever, so the child forgets it instead. */
static PyObject *store_abandon(StoreObject *self, PyObject *noargs) {
    (void)noargs;
    self->store = NULL;
    self->closing = NULL;
    Py_RETURN_NONE;
}

/* With calls in flight (other threads), the last of them frees the client. */
static PyObject *store_close(StoreObject *self, PyObject *noargs) {
    (void)noargs;
    struct hoist_store *s = self->store;
    self->store = NULL;
    if (s && self->busy > 0)
        self->closing = s;
    else
        store_free_nogil(s);
    Py_RETURN_NONE;
}

static PyMethodDef store_methods[] = {
    {"get_many", (PyCFunction)(void (*)(void))store_get_many, METH_VARARGS | METH_KEYWORDS, store_get_many_doc},
    {"put_many", (PyCFunction)(void (*)(void))store_put_many, METH_VARARGS | METH_KEYWORDS, store_put_many_doc},
    {"info_many", (PyCFunction)(void (*)(void))store_info_many, METH_VARARGS | METH_KEYWORDS, store_info_many_doc},
    {"list", (PyCFunction)(void (*)(void))store_list, METH_VARARGS | METH_KEYWORDS, store_list_doc},
    {"get_prefix", (PyCFunction)(void (*)(void))store_get_prefix, METH_VARARGS | METH_KEYWORDS, store_get_prefix_doc},
    {"delete_many", (PyCFunction)store_delete_many, METH_O, "delete_many(urls): missing objects are not an error."},
    {"copy_many", (PyCFunction)store_copy_many, METH_VARARGS, store_copy_many_doc},
    {"bucket_create", (PyCFunction)store_bucket_create, METH_O, "bucket_create('s3://name')"},
    {"bucket_delete", (PyCFunction)store_bucket_delete, METH_O, "bucket_delete('s3://name')"},
    {"stats", (PyCFunction)store_stats, METH_NOARGS, "Transfer counters since the client was created."},
    {"close", (PyCFunction)store_close, METH_NOARGS, "Frees the client; later calls raise ValueError."},
    {"_abandon", (PyCFunction)store_abandon, METH_NOARGS, "Forget the client without freeing it (after fork)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.Store",
    .tp_basicsize = sizeof(StoreObject),
    .tp_dealloc = (destructor)store_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Store(*, endpoint=None, region=None, profile=None, credentials=None, no_sign_request=None,\n"
              "      verify_tls=None, concurrency=None, part_size=None, max_retries=None,\n"
              "      connect_timeout=None, addressing=None, tmpdir=None)\n\n"
              "A libhoist object store client (thread-safe). Unset options come from the\n"
              "environment and ~/.aws files.",
    .tp_methods = store_methods,
    .tp_init = (initproc)store_init,
    .tp_new = PyType_GenericNew,
};

int hoist_py_init_store(PyObject *m);

int hoist_py_init_store(PyObject *m) {
    if (PyType_Ready(&BufferType) < 0 || PyType_Ready(&StoreType) < 0) return -1;
    Py_INCREF(&BufferType);
    if (PyModule_AddObject(m, "Buffer", (PyObject *)&BufferType) < 0) {
        Py_DECREF(&BufferType);
        return -1;
    }
    Py_INCREF(&StoreType);
    if (PyModule_AddObject(m, "Store", (PyObject *)&StoreType) < 0) {
        Py_DECREF(&StoreType);
        return -1;
    }
    if (PyModule_AddIntConstant(m, "RETURN_MISSING", HOIST_RETURN_MISSING) < 0 ||
        PyModule_AddIntConstant(m, "NO_OVERWRITE", HOIST_NO_OVERWRITE) < 0)
        return -1;
    /* The status numbers, so Python maps them by name, not by magic number. */
    static const struct {
        const char *name;
        int value;
    } codes[] = {
        {"OK", HOIST_OK},
        {"ERR_NOMEM", HOIST_ERR_NOMEM},
        {"ERR_INVALID_ARG", HOIST_ERR_INVALID_ARG},
        {"ERR_IO", HOIST_ERR_IO},
        {"ERR_UNSUPPORTED", HOIST_ERR_UNSUPPORTED},
        {"ERR_CANCELLED", HOIST_ERR_CANCELLED},
        {"ERR_INTERNAL", HOIST_ERR_INTERNAL},
        {"ERR_LIMIT", HOIST_ERR_LIMIT},
        {"ERR_USAGE", HOIST_ERR_USAGE},
        {"ERR_NOT_FOUND", HOIST_ERR_NOT_FOUND},
        {"ERR_EXISTS", HOIST_ERR_EXISTS},
        {"ERR_NET", HOIST_ERR_NET},
        {"ERR_TLS", HOIST_ERR_TLS},
        {"ERR_HTTP", HOIST_ERR_HTTP},
        {"ERR_S3_NO_SUCH_KEY", HOIST_ERR_S3_NO_SUCH_KEY},
        {"ERR_S3_NO_SUCH_BUCKET", HOIST_ERR_S3_NO_SUCH_BUCKET},
        {"ERR_S3_ACCESS_DENIED", HOIST_ERR_S3_ACCESS_DENIED},
        {"ERR_S3_BAD_SIGNATURE", HOIST_ERR_S3_BAD_SIGNATURE},
        {"ERR_S3_INVALID_RANGE", HOIST_ERR_S3_INVALID_RANGE},
        {"ERR_S3_SLOW_DOWN", HOIST_ERR_S3_SLOW_DOWN},
        {"ERR_S3_SERVER", HOIST_ERR_S3_SERVER},
        {"ERR_S3_TIMEOUT", HOIST_ERR_S3_TIMEOUT},
        {"ERR_S3_PRECONDITION", HOIST_ERR_S3_PRECONDITION},
        {"ERR_S3_BAD_RESPONSE", HOIST_ERR_S3_BAD_RESPONSE},
        {"ERR_BAD_URL", HOIST_ERR_BAD_URL},
        {"ERR_CREDENTIALS", HOIST_ERR_CREDENTIALS},
        {"ERR_UNSAFE_KEY", HOIST_ERR_UNSAFE_KEY},
        {"ERR_S3_BUCKET_NOT_EMPTY", HOIST_ERR_S3_BUCKET_NOT_EMPTY},
        {"ERR_S3_BUCKET_EXISTS", HOIST_ERR_S3_BUCKET_EXISTS},
        {"ERR_S3_OTHER", HOIST_ERR_S3_OTHER},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (PyModule_AddIntConstant(m, codes[i].name, codes[i].value) < 0) return -1;
    return 0;
}
