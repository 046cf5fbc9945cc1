/* py_write.c: _hoist.write_dataset, the C side of hoist.write_table — an
 * Arrow stream capsule and option lists become one hoist_write_dataset call
 * (python/hoist/write.py checks and names the options; this file only maps
 * names to hoist's option codes and runs the write).
 *
 * The write runs with the GIL released. The input stream's get_next runs on
 * this thread without the GIL; producers backed by Python code (pyarrow
 * readers over generators, polars, duckdb) take it themselves, as the Arrow
 * C stream interface requires of them. Ctrl-C cancels through the progress
 * callback (py_interrupt.h); the writer then aborts every upload. */
#include "py_common.h" /* Python.h first, as the C API asks */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py_interrupt.h"

/* ---------------------------------------------------------------------- */
/* Errors                                                                   */
/* ---------------------------------------------------------------------- */

/* The DatasetError family (hoist_py_raise: the one status -> exception path). */
static PyObject *raise_write_error(int status, const char *msg) { return hoist_py_raise(status, msg, "dataset"); }

/* ---------------------------------------------------------------------- */
/* Options by name                                                          */
/* ---------------------------------------------------------------------- */

struct opt_name {
    const char *name;
    int code;
};

static const struct opt_name pq_options[] = {
    {"compression", HOIST_PQW_COMPRESSION},
    {"row_group_rows", HOIST_PQW_ROW_GROUP_ROWS},
    {"row_group_bytes", HOIST_PQW_ROW_GROUP_BYTES},
    {"page_bytes", HOIST_PQW_PAGE_BYTES},
    {"dictionary_page_bytes", HOIST_PQW_DICT_PAGE_BYTES},
    {"dictionary", HOIST_PQW_DICTIONARY},
    {"data_page_version", HOIST_PQW_DATA_PAGE_VERSION},
    {"statistics", HOIST_PQW_STATISTICS},
    {"page_index", HOIST_PQW_PAGE_INDEX},
    {"page_crc", HOIST_PQW_PAGE_CRC},
    {"created_by", HOIST_PQW_CREATED_BY},
    {"threads", HOIST_PQW_THREADS},
    {"store_arrow_schema", HOIST_PQW_STORE_ARROW_SCHEMA},
    {NULL, 0},
};

static const struct opt_name write_options[] = {
    {"max_rows_per_file", HOIST_WRITE_MAX_ROWS_PER_FILE},
    {"max_bytes_per_file", HOIST_WRITE_MAX_BYTES_PER_FILE},
    {"existing", HOIST_WRITE_EXISTING},
    {"name_template", HOIST_WRITE_NAME_TEMPLATE},
    {"keep_partition_columns", HOIST_WRITE_KEEP_PARTITION_COLUMNS},
    {"memory_limit", HOIST_WRITE_MEMORY_LIMIT},
    {"max_open_files", HOIST_WRITE_MAX_OPEN_FILES},
    {"lineage", HOIST_WRITE_LINEAGE_JSON},
    {"manifest", HOIST_WRITE_MANIFEST},
    {"commit", HOIST_WRITE_COMMIT},
    {"write_id", HOIST_WRITE_ID},
    {NULL, 0},
};

static const struct opt_name store_options[] = {
    {"endpoint", HOIST_STORE_ENDPOINT},
    {"region", HOIST_STORE_REGION},
    {"profile", HOIST_STORE_PROFILE},
    {"access_key_id", HOIST_STORE_ACCESS_KEY_ID},
    {"secret_access_key", HOIST_STORE_SECRET_ACCESS_KEY},
    {"session_token", HOIST_STORE_SESSION_TOKEN},
    {"no_sign_request", HOIST_STORE_NO_SIGN_REQUEST},
    {"verify_tls", HOIST_STORE_VERIFY_TLS},
    {"concurrency", HOIST_STORE_CONCURRENCY},
    {"part_size", HOIST_STORE_PART_SIZE},
    {"max_retries", HOIST_STORE_MAX_RETRIES},
    {"stall_timeout", HOIST_STORE_STALL_TIMEOUT},
    {"min_rate", HOIST_STORE_MIN_RATE},
    {"connect_timeout", HOIST_STORE_CONNECT_TIMEOUT},
    {"addressing", HOIST_STORE_ADDRESSING},
    {NULL, 0},
};

/* One setter per kind of config object: (object, code, str or NULL, int). */
typedef enum hoist_status (*set_fn)(void *obj, int code, const char *s, int64_t v);

static enum hoist_status set_pq(void *o, int code, const char *s, int64_t v) {
    return s ? hoist_pq_write_options_set_str(o, (enum hoist_pq_write_option)code, s)
             : hoist_pq_write_options_set_int(o, (enum hoist_pq_write_option)code, v);
}

static enum hoist_status set_write(void *o, int code, const char *s, int64_t v) {
    return s ? hoist_write_config_set_str(o, (enum hoist_write_option)code, s)
             : hoist_write_config_set_int(o, (enum hoist_write_option)code, v);
}

static enum hoist_status set_store(void *o, int code, const char *s, int64_t v) {
    return s ? hoist_store_config_set_str(o, (enum hoist_store_option)code, s)
             : hoist_store_config_set_int(o, (enum hoist_store_option)code, v);
}

/* A rejected value is the caller's mistake: ValueError naming the option
 * with hoist's reason. */
static int setter_failed(enum hoist_status st, const char *what) {
    if (st == HOIST_ERR_NOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    char msg[1200];
    snprintf(msg, sizeof msg, "%s: %s", what, hoist_errmsg());
    raise_write_error(st, msg);
    return -1;
}

/* Applies [(name, value), ...] with value a str, bool or int. */
static int apply_options(PyObject *list, const struct opt_name *names, set_fn set, void *obj, const char *argname) {
    if (list == NULL || list == Py_None) return 0;
    PyObject *fast = PySequence_Fast(list, "options: expected a list of (name, value) pairs");
    if (!fast) return -1;
    int rc = -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        const char *name;
        PyObject *value;
        if (!PyArg_ParseTuple(item, "sO;options: expected (name, value)", &name, &value)) goto done;
        const struct opt_name *n = names;
        while (n->name && strcmp(n->name, name) != 0) n++;
        if (!n->name) {
            PyErr_Format(PyExc_TypeError, "%s: unknown option '%s'", argname, name);
            goto done;
        }
        enum hoist_status st;
        if (PyUnicode_Check(value)) {
            const char *s = PyUnicode_AsUTF8(value);
            if (!s) goto done;
            st = set(obj, n->code, s, 0);
        } else if (PyLong_Check(value)) {
            long long v = PyLong_AsLongLong(value);
            if (v == -1 && PyErr_Occurred()) goto done;
            st = set(obj, n->code, NULL, (int64_t)v);
        } else {
            PyErr_Format(PyExc_TypeError, "%s: expected str or int, got %.100s", name, Py_TYPE(value)->tp_name);
            goto done;
        }
        if (st != HOIST_OK) {
            setter_failed(st, name);
            goto done;
        }
    }
    rc = 0;
done:
    Py_DECREF(fast);
    return rc;
}

/* Per-column options: [(column, kind, value), ...]; kind "compression"
 * (str), "dictionary" (int), "encoding" (str), "bloom_filter" ((fpp, ndv)). */
static int apply_column_options(PyObject *list, struct hoist_pq_write_options *o) {
    if (list == NULL || list == Py_None) return 0;
    PyObject *fast = PySequence_Fast(list, "columns: expected a list of (column, kind, value)");
    if (!fast) return -1;
    int rc = -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        const char *col, *kind;
        PyObject *value;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "ssO;columns: expected (column, kind, value)", &col,
                              &kind, &value))
            goto done;
        enum hoist_status st;
        if (strcmp(kind, "compression") == 0 || strcmp(kind, "encoding") == 0) {
            const char *s = PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
            if (!s) {
                if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "column '%s': %s must be a str", col, kind);
                goto done;
            }
            st = kind[0] == 'c' ? hoist_pq_write_options_set_column_str(o, col, HOIST_PQW_COMPRESSION, s)
                                : hoist_pq_write_options_set_column_encoding(o, col, s);
        } else if (strcmp(kind, "dictionary") == 0) {
            int on = PyObject_IsTrue(value);
            if (on < 0) goto done;
            st = hoist_pq_write_options_set_column_int(o, col, HOIST_PQW_DICTIONARY, on);
        } else if (strcmp(kind, "bloom_filter") == 0) {
            double fpp;
            long long ndv;
            if (!PyArg_ParseTuple(value, "dL;bloom_filter: expected (fpp, ndv)", &fpp, &ndv)) goto done;
            st = hoist_pq_write_options_set_column_bloom_filter(o, col, fpp, (int64_t)ndv);
        } else {
            PyErr_Format(PyExc_TypeError, "columns: unknown kind '%s'", kind);
            goto done;
        }
        if (st != HOIST_OK) {
            char what[300];
            snprintf(what, sizeof what, "column '%s' %s", col, kind);
            setter_failed(st, what);
            goto done;
        }
    }
    rc = 0;
done:
    Py_DECREF(fast);
    return rc;
}

/* [(key, value), ...] into the files' key-value metadata. */
static int apply_metadata(PyObject *list, struct hoist_pq_write_options *o) {
    if (list == NULL || list == Py_None) return 0;
    PyObject *fast = PySequence_Fast(list, "metadata: expected a list of (key, value)");
    if (!fast) return -1;
    int rc = -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        const char *k, *v;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "ss;metadata: expected (str, str)", &k, &v)) goto done;
        enum hoist_status st = hoist_pq_write_options_add_metadata(o, k, v);
        if (st != HOIST_OK) {
            setter_failed(st, "metadata");
            goto done;
        }
    }
    rc = 0;
done:
    Py_DECREF(fast);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The input stream, wrapped to count rows for the progress callback        */
/* ---------------------------------------------------------------------- */

/* Both the writer's get_next and its progress callback run on the writing
 * thread, so the count needs no atomics. It lives in the caller's frame, not
 * in the stream, which the writer may release before its last progress call.
 * Plain malloc: the writer releases the stream without the GIL. */
struct counted_stream {
    struct ArrowArrayStream inner;
    int64_t *rows;
};

static int cs_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out) {
    struct counted_stream *c = st->private_data;
    return c->inner.get_schema(&c->inner, out);
}

static int cs_get_next(struct ArrowArrayStream *st, struct ArrowArray *out) {
    struct counted_stream *c = st->private_data;
    int rc = c->inner.get_next(&c->inner, out);
    if (rc == 0 && out->release) *c->rows += out->length;
    return rc;
}

static const char *cs_get_last_error(struct ArrowArrayStream *st) {
    struct counted_stream *c = st->private_data;
    return c->inner.get_last_error ? c->inner.get_last_error(&c->inner) : NULL;
}

static void cs_release(struct ArrowArrayStream *st) {
    struct counted_stream *c = st->private_data;
    if (c->inner.release) c->inner.release(&c->inner);
    free(c);
    st->release = NULL;
}

/* Moves the capsule's stream into *out (wrapped); the capsule keeps a
 * released stream, as the PyCapsule protocol asks of consumers. */
static int take_stream(PyObject *capsule, struct ArrowArrayStream *out, int64_t *rows) {
    if (!PyCapsule_IsValid(capsule, "arrow_array_stream")) {
        PyErr_SetString(PyExc_TypeError, "data: expected an 'arrow_array_stream' PyCapsule");
        return -1;
    }
    struct ArrowArrayStream *src = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (!src || !src->release) {
        PyErr_SetString(PyExc_ValueError, "data: the Arrow stream was already consumed");
        return -1;
    }
    struct counted_stream *c = calloc(1, sizeof *c);
    if (!c) {
        PyErr_NoMemory();
        return -1;
    }
    c->inner = *src;
    src->release = NULL;
    memset(out, 0, sizeof *out);
    out->get_schema = cs_get_schema;
    out->get_next = cs_get_next;
    out->get_last_error = cs_get_last_error;
    out->release = cs_release;
    out->private_data = c;
    c->rows = rows;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Progress: Ctrl-C, and the caller's callable(rows, bytes_encoded, files)  */
/* ---------------------------------------------------------------------- */

struct write_progress {
    PyObject *fn;    /* or NULL */
    int64_t rows;    /* read from the input so far */
    PyObject *error; /* what the callable raised (cancels the write) */
};

static PyObject *fetch_exception(void) {
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb) PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

static int on_write_progress(const struct hoist_progress *p, void *userdata) {
    struct write_progress *wp = userdata;
    if (hoist_py_sigint_pending()) return 1;
    if (!wp->fn) return 0;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction(wp->fn, "LKK", (long long)wp->rows, (unsigned long long)p->bytes_done,
                                        (unsigned long long)p->objects_done);
    int cancel = 0;
    if (r) {
        Py_DECREF(r);
    } else {
        Py_XDECREF(wp->error);
        wp->error = fetch_exception();
        cancel = 1;
    }
    PyGILState_Release(g);
    return cancel;
}

/* ---------------------------------------------------------------------- */
/* write_dataset                                                            */
/* ---------------------------------------------------------------------- */

struct write_args {
    PyObject *stream, *partition_by, *parquet, *columns, *metadata, *write, *store, *progress;
    const char *url;
};

/* The configs from the option lists; 0 or -1 with an exception set. */
static int build_configs(const struct write_args *a, struct hoist_write_config *cfg, struct hoist_store_config *scfg,
                         struct write_progress *wp) {
    struct hoist_pq_write_options *pq = NULL;
    if (hoist_pq_write_options_new(&pq) != HOIST_OK) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = -1;
    if (apply_options(a->parquet, pq_options, set_pq, pq, "parquet") < 0 || apply_column_options(a->columns, pq) < 0 ||
        apply_metadata(a->metadata, pq) < 0 || apply_options(a->write, write_options, set_write, cfg, "write") < 0 ||
        apply_options(a->store, store_options, set_store, scfg, "store") < 0)
        goto done;
    enum hoist_status st = hoist_write_config_set_parquet_options(cfg, pq);
    if (st == HOIST_OK) st = hoist_write_config_set_progress(cfg, on_write_progress, wp);
    if (st != HOIST_OK) {
        setter_failed(st, "write options");
        goto done;
    }
    if (a->partition_by != Py_None) {
        PyObject *fast = PySequence_Fast(a->partition_by, "partition_by: expected a list of column names");
        if (!fast) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
        const char **cols = PyMem_Calloc(n ? (size_t)n : 1, sizeof *cols);
        int ok = cols != NULL;
        for (Py_ssize_t i = 0; ok && i < n; i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
            cols[i] = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            if (!cols[i]) {
                if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "partition_by: item %zd is not a str", i);
                ok = 0;
            }
        }
        if (ok && n > 0) {
            st = hoist_write_config_set_partition_by(cfg, cols, (size_t)n);
            if (st != HOIST_OK) {
                setter_failed(st, "partition_by");
                ok = 0;
            }
        }
        if (!cols && !PyErr_Occurred()) PyErr_NoMemory();
        PyMem_Free(cols);
        Py_DECREF(fast);
        if (!ok) goto done;
    }
    rc = 0;
done:
    hoist_pq_write_options_free(pq);
    return rc;
}

/* Runs the write with the GIL released; returns the manifest str. */
static PyObject *run_write(const struct write_args *a, const struct hoist_write_config *cfg,
                           const struct hoist_store_config *scfg, struct write_progress *wp) {
    struct ArrowArrayStream stream;
    if (take_stream(a->stream, &stream, &wp->rows) < 0) return NULL;
    struct hoist_store *store = NULL;
    char *manifest = NULL;
    char msg[1024] = "";
    enum hoist_status st;
    struct hoist_py_sigint_guard guard;
    hoist_py_sigint_enter(&guard);
    PyThreadState *ts = PyEval_SaveThread();
    st = hoist_store_new(scfg, &store);
    if (st == HOIST_OK) {
        st = hoist_write_dataset(store, a->url, &stream, cfg, &manifest);
    } else {
        stream.release(&stream);
    }
    if (st != HOIST_OK) snprintf(msg, sizeof msg, "%s", hoist_errmsg());
    hoist_store_free(store);
    PyEval_RestoreThread(ts);
    /* Ctrl-C wins over whatever else ended the write: the user asked to
     * stop. A signal during the commit (no progress call left to see it)
     * lands after the data became visible: say so. */
    if (hoist_py_sigint_leave(&guard)) {
        hoist_free(manifest);
        if (st == HOIST_OK) PyErr_Format(PyExc_KeyboardInterrupt, "%s: the write was already committed", a->url);
        return NULL;
    }
    if (wp->error) {
        hoist_free(manifest);
        PyErr_SetObject((PyObject *)Py_TYPE(wp->error), wp->error);
        return NULL;
    }
    if (st != HOIST_OK) return raise_write_error(st, msg);
    PyObject *out = PyUnicode_FromString(manifest ? manifest : "{}");
    hoist_free(manifest);
    return out;
}

PyDoc_STRVAR(write_dataset_doc,
             "write_dataset(stream, url, partition_by=None, parquet=None, columns=None, metadata=None,\n"
             "              write=None, store=None, progress=None) -> str\n\n"
             "Writes an 'arrow_array_stream' capsule (consumed) under url with hoist_write_dataset\n"
             "and returns the manifest JSON. parquet/write/store: [(option name, str or int)];\n"
             "columns: [(column, 'compression'|'dictionary'|'encoding'|'bloom_filter', value)];\n"
             "metadata: [(key, value)]; progress: callable(rows, bytes_encoded, files_done).\n"
             "Use hoist.write_table.");

static PyObject *py_write_dataset(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kw[] = {"stream",   "url",   "partition_by", "parquet",  "columns",
                         "metadata", "write", "store",        "progress", NULL};
    struct write_args a = {.partition_by = Py_None,
                           .parquet = Py_None,
                           .columns = Py_None,
                           .metadata = Py_None,
                           .write = Py_None,
                           .store = Py_None,
                           .progress = Py_None};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Os|OOOOOOO", kw, &a.stream, &a.url, &a.partition_by, &a.parquet,
                                     &a.columns, &a.metadata, &a.write, &a.store, &a.progress))
        return NULL;
    if (a.progress != Py_None && !PyCallable_Check(a.progress)) {
        PyErr_SetString(PyExc_TypeError, "progress: expected a callable(rows, bytes_encoded, files_done)");
        return NULL;
    }
    struct hoist_write_config *cfg = NULL;
    struct hoist_store_config *scfg = NULL;
    if (hoist_write_config_new(&cfg) != HOIST_OK || hoist_store_config_new(&scfg) != HOIST_OK) {
        hoist_write_config_free(cfg);
        return PyErr_NoMemory();
    }
    struct write_progress wp = {.fn = a.progress == Py_None ? NULL : a.progress};
    PyObject *out = NULL;
    if (build_configs(&a, cfg, scfg, &wp) == 0) out = run_write(&a, cfg, scfg, &wp);
    Py_XDECREF(wp.error);
    hoist_write_config_free(cfg);
    hoist_store_config_free(scfg);
    return out;
}

/* ---------------------------------------------------------------------- */
/* commit_pending / abort_pending                                           */
/* ---------------------------------------------------------------------- */

/* The descriptions as C strings borrowed from the list's str items (the
 * list is kept alive by the caller); NULL with an exception set. */
static const char **pending_texts(PyObject *fast, size_t *n) {
    Py_ssize_t k = PySequence_Fast_GET_SIZE(fast);
    const char **texts = PyMem_Calloc(k ? (size_t)k : 1, sizeof *texts);
    if (!texts) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        texts[i] = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (!texts[i]) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "pending: item %zd is not a str", i);
            PyMem_Free(texts);
            return NULL;
        }
    }
    *n = (size_t)k;
    return texts;
}

/* Runs hoist_write_commit_pending (abort: write_id set or NULL, cfg NULL)
 * with the GIL released. */
static PyObject *run_pending(const char *url, PyObject *pending, PyObject *write, PyObject *store_opts,
                             const char *write_id, int commit) {
    PyObject *fast = PySequence_Fast(pending, "pending: expected a list of str");
    if (!fast) return NULL;
    size_t n = 0;
    const char **texts = pending_texts(fast, &n);
    struct hoist_write_config *cfg = NULL;
    struct hoist_store_config *scfg = NULL;
    struct hoist_store *store = NULL;
    char *manifest = NULL;
    char msg[1024] = "";
    enum hoist_status st;
    PyObject *out = NULL;
    if (!texts) goto done;
    if (hoist_write_config_new(&cfg) != HOIST_OK || hoist_store_config_new(&scfg) != HOIST_OK) {
        PyErr_NoMemory();
        goto done;
    }
    if (apply_options(write, write_options, set_write, cfg, "write") < 0 ||
        apply_options(store_opts, store_options, set_store, scfg, "store") < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS;
    st = hoist_store_new(scfg, &store);
    if (st == HOIST_OK)
        st = commit ? hoist_write_commit_pending(store, url, texts, n, cfg, &manifest)
                    : hoist_write_abort_pending(store, url, write_id, texts, n);
    if (st != HOIST_OK) snprintf(msg, sizeof msg, "%s", hoist_errmsg());
    hoist_store_free(store);
    Py_END_ALLOW_THREADS;
    if (st != HOIST_OK) {
        raise_write_error(st, msg);
    } else if (commit) {
        out = PyUnicode_FromString(manifest ? manifest : "{}");
    } else {
        Py_INCREF(Py_None);
        out = Py_None;
    }
    hoist_free(manifest);
done:
    hoist_write_config_free(cfg);
    hoist_store_config_free(scfg);
    PyMem_Free(texts);
    Py_DECREF(fast);
    return out;
}

PyDoc_STRVAR(commit_pending_doc, "commit_pending(url, pending, write=None, store=None) -> str\n\n"
                                 "hoist_write_commit_pending of the pending descriptions (list of str) under url;\n"
                                 "returns the manifest JSON. Use hoist.commit_pending.");

static PyObject *py_commit_pending(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kw[] = {"url", "pending", "write", "store", NULL};
    const char *url;
    PyObject *pending, *write = Py_None, *store = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|OO", kw, &url, &pending, &write, &store)) return NULL;
    return run_pending(url, pending, write, store, NULL, 1);
}

PyDoc_STRVAR(abort_pending_doc, "abort_pending(url, write_id, pending, store=None) -> None\n\n"
                                "hoist_write_abort_pending: aborts the descriptions' uploads and every pending\n"
                                "upload of write_id (str or None) under url. Use hoist.abort_pending.");

static PyObject *py_abort_pending(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kw[] = {"url", "write_id", "pending", "store", NULL};
    const char *url, *write_id;
    PyObject *pending, *store = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "szO|O", kw, &url, &write_id, &pending, &store)) return NULL;
    return run_pending(url, pending, Py_None, store, write_id, 0);
}

static PyMethodDef write_methods[] = {
    {"write_dataset", (PyCFunction)(void (*)(void))py_write_dataset, METH_VARARGS | METH_KEYWORDS, write_dataset_doc},
    {"commit_pending", (PyCFunction)(void (*)(void))py_commit_pending, METH_VARARGS | METH_KEYWORDS,
     commit_pending_doc},
    {"abort_pending", (PyCFunction)(void (*)(void))py_abort_pending, METH_VARARGS | METH_KEYWORDS, abort_pending_doc},
    {NULL, NULL, 0, NULL},
};

int hoist_py_init_write(PyObject *m) { return PyModule_AddFunctions(m, write_methods); }
