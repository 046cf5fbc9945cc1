/* py_dataset.c: the dataset loader and the zero-copy table behind hoist.Table.
 *
 * A loaded table is a `struct batch_set`: the schema and the record batches
 * exactly as the C stream produced them (their buffers are never copied).
 * Consumers (pyarrow, polars, duckdb, numpy) get *views*: ArrowArrays whose
 * buffer pointers are the batch's own and whose release callbacks only drop
 * a reference on the set (hoist_arrow_stream_share makes them). That is what lets one Table be imported any number
 * of times, by any number of consumers, while every consumer points at the
 * same bytes; the bytes go away when the last view and the Table are gone.
 *
 * Release callbacks may run on any thread and without the GIL (Arrow C data
 * interface), so the set uses an atomic count and raw malloc, never Python
 * objects. */

#include "py_common.h" /* Python.h first, as the C API asks */

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hoist_py_init_dataset(PyObject *m);

/* Ctrl-C during a load: py_interrupt.h. */
#include "py_interrupt.h"

/* ---------------------------------------------------------------------- */
/* The shared, refcounted batch set                                        */
/* ---------------------------------------------------------------------- */

struct batch_set {
    atomic_long refs;
    struct ArrowSchema schema; /* a struct schema ("+s"), one child per column */
    struct ArrowArray *batches;
    size_t n, cap;
    int64_t num_rows;
};

static struct batch_set *set_new(void) {
    struct batch_set *s = calloc(1, sizeof *s);
    if (s) atomic_init(&s->refs, 1);
    return s;
}

static void set_ref(struct batch_set *s) { atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); }

static void set_unref(struct batch_set *s) {
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < s->n; i++)
        if (s->batches[i].release) s->batches[i].release(&s->batches[i]);
    free(s->batches);
    if (s->schema.release) s->schema.release(&s->schema);
    free(s);
}

/* Takes ownership of *a (moved: a->release is cleared). */
static int set_push(struct batch_set *s, struct ArrowArray *a) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct ArrowArray *b = realloc(s->batches, cap * sizeof *b);
        if (!b) return -1;
        s->batches = b;
        s->cap = cap;
    }
    s->batches[s->n++] = *a;
    s->num_rows += a->length;
    a->release = NULL;
    return 0;
}

/* Owner callbacks for hoist_arrow_stream_share: every exported stream and
 * batch holds the set (its release may run on any thread, hence atomics). */
static void set_ref_cb(void *s) { set_ref(s); }
static void set_unref_cb(void *s) { set_unref(s); }

/* A failed hoist_arrow_* call as a Python exception. */
static PyObject *arrow_error(enum hoist_status st) {
    if (st == HOIST_ERR_NOMEM) return PyErr_NoMemory();
    PyErr_SetString(PyExc_RuntimeError, hoist_errmsg());
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Capsules (the Arrow PyCapsule interface)                                 */
/* ---------------------------------------------------------------------- */

#define SCHEMA_CAPSULE "arrow_schema"
#define STREAM_CAPSULE "arrow_array_stream"

/* Releases and frees a malloc'ed export named by its capsule name. */
static void release_export(void *p, const char *name) {
    if (strcmp(name, SCHEMA_CAPSULE) == 0) {
        struct ArrowSchema *s = p;
        if (s->release) s->release(s);
    } else {
        struct ArrowArrayStream *s = p;
        if (s->release) s->release(s);
    }
    free(p);
}

/* A capsule a consumer renamed is not ours to interpret: left alone, as
 * PyCapsule_GetPointer with our name would. */
static void capsule_free(PyObject *cap) {
    const char *name = PyCapsule_GetName(cap);
    if (!name || (strcmp(name, SCHEMA_CAPSULE) != 0 && strcmp(name, STREAM_CAPSULE) != 0)) return;
    void *p = PyCapsule_GetPointer(cap, name);
    if (p) release_export(p, name);
}

/* The capsule owning a filled export; without one the export is released. */
static PyObject *capsule_wrap(void *p, const char *name) {
    PyObject *cap = PyCapsule_New(p, name, capsule_free);
    if (!cap) release_export(p, name);
    return cap;
}

/* Zero-copy views of the set's batches (hoist_arrow_stream_share). */
static PyObject *stream_capsule_new(struct batch_set *set) {
    struct ArrowArrayStream *st = calloc(1, sizeof *st);
    if (!st) return PyErr_NoMemory();
    enum hoist_status rc =
        hoist_arrow_stream_share(&set->schema, set->batches, set->n, set, set_ref_cb, set_unref_cb, st);
    if (rc != HOIST_OK) {
        free(st);
        return arrow_error(rc);
    }
    return capsule_wrap(st, STREAM_CAPSULE);
}

static PyObject *schema_capsule_new(const struct ArrowSchema *schema) {
    struct ArrowSchema *s = calloc(1, sizeof *s);
    if (!s) return PyErr_NoMemory();
    enum hoist_status rc = hoist_arrow_schema_copy(schema, s);
    if (rc != HOIST_OK) {
        free(s);
        return arrow_error(rc);
    }
    return capsule_wrap(s, SCHEMA_CAPSULE);
}

/* Drains a stream into a new set (the GIL is released while pulling: the
 * producer decodes on its own threads or, for pyarrow readers backed by
 * Python, takes the GIL itself). Takes ownership of *stream. Returns NULL
 * with a Python exception set on failure. */
static struct batch_set *set_from_stream(struct ArrowArrayStream *stream) {
    struct batch_set *set = set_new();
    if (!set) {
        stream->release(stream);
        PyErr_NoMemory();
        return NULL;
    }
    int rc = 0, oom = 0;
    Py_BEGIN_ALLOW_THREADS rc = stream->get_schema(stream, &set->schema);
    if (rc == 0) {
        for (;;) {
            struct ArrowArray a;
            memset(&a, 0, sizeof a);
            rc = stream->get_next(stream, &a);
            if (rc != 0 || !a.release) break;
            if (set_push(set, &a) != 0) {
                a.release(&a);
                oom = 1;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS if (rc != 0 || oom) {
        if (oom) {
            PyErr_NoMemory();
        } else {
            const char *msg = stream->get_last_error ? stream->get_last_error(stream) : NULL;
            PyErr_Format(PyExc_RuntimeError, "%s", msg && msg[0] ? msg : strerror(rc));
        }
        stream->release(stream);
        set_unref(set);
        return NULL;
    }
    stream->release(stream);
    if (!set->schema.format || strcmp(set->schema.format, "+s") != 0) {
        PyErr_Format(PyExc_TypeError, "an Arrow stream of record batches (struct \"+s\") is needed, got format %s",
                     set->schema.format ? set->schema.format : "(null)");
        set_unref(set);
        return NULL;
    }
    return set;
}

/* ---------------------------------------------------------------------- */
/* _hoist.BufferView: a read-only Python buffer over one Arrow buffer       */
/* ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD struct batch_set *set;
    const void *ptr;
    Py_ssize_t len;
} BufferView;

static void bv_dealloc(BufferView *self) {
    set_unref(self->set);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int bv_getbuffer(BufferView *self, Py_buffer *view, int flags) {
    /* Arrow buffers are immutable once shared. */
    return PyBuffer_FillInfo(view, (PyObject *)self, (void *)self->ptr, self->len, 1, flags);
}

static PyObject *bv_address(BufferView *self, void *closure) {
    (void)closure;
    return PyLong_FromVoidPtr((void *)self->ptr);
}

static PyBufferProcs bv_as_buffer = {(getbufferproc)bv_getbuffer, NULL};

static PyGetSetDef bv_getset[] = {
    {"address", (getter)bv_address, NULL, "Address of the first byte.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject BufferViewType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.BufferView",
    .tp_basicsize = sizeof(BufferView),
    .tp_dealloc = (destructor)bv_dealloc,
    .tp_as_buffer = &bv_as_buffer,
    .tp_getset = bv_getset,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Read-only view of one Arrow buffer of a hoist table (keeps the table's memory alive).",
};

/* ---------------------------------------------------------------------- */
/* _hoist.TableData: the Python owner of a batch set                        */
/* ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD struct batch_set *set;
} TableData;

static PyTypeObject TableDataType;

static PyObject *table_data_wrap(struct batch_set *set) {
    TableData *t = PyObject_New(TableData, &TableDataType);
    if (!t) {
        set_unref(set);
        return NULL;
    }
    t->set = set;
    return (PyObject *)t;
}

static void td_dealloc(TableData *self) {
    set_unref(self->set);
    PyObject_Free(self);
}

static PyObject *td_from_stream(PyObject *cls, PyObject *obj) {
    (void)cls;
    PyObject *cap = NULL;
    if (PyCapsule_CheckExact(obj)) {
        Py_INCREF(obj);
        cap = obj;
    } else if (PyObject_HasAttrString(obj, "__arrow_c_stream__")) {
        cap = PyObject_CallMethod(obj, "__arrow_c_stream__", NULL);
        if (!cap) return NULL;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "data: expected an object with __arrow_c_stream__ or an "
                     "'arrow_array_stream' capsule, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    struct ArrowArrayStream *src = PyCapsule_GetPointer(cap, "arrow_array_stream");
    if (!src) {
        Py_DECREF(cap);
        return NULL;
    }
    if (!src->release) {
        Py_DECREF(cap);
        PyErr_SetString(PyExc_ValueError, "data: the Arrow stream was already consumed");
        return NULL;
    }
    struct ArrowArrayStream stream = *src; /* move: the capsule keeps a released husk */
    src->release = NULL;
    Py_DECREF(cap);
    struct batch_set *set = set_from_stream(&stream);
    return set ? table_data_wrap(set) : NULL;
}

static PyObject *td_arrow_c_stream(TableData *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"requested_schema", NULL};
    PyObject *requested = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", kw, &requested)) return NULL;
    /* The PyCapsule protocol lets a producer ignore a requested schema it
     * cannot honour without a copy; hoist never casts behind the caller. */
    return stream_capsule_new(self->set);
}

static PyObject *td_arrow_c_schema(TableData *self, PyObject *unused) {
    (void)unused;
    return schema_capsule_new(&self->set->schema);
}

static PyObject *td_num_rows(TableData *self, void *c) {
    (void)c;
    return PyLong_FromLongLong(self->set->num_rows);
}

static PyObject *td_num_batches(TableData *self, void *c) {
    (void)c;
    return PyLong_FromSize_t(self->set->n);
}

static PyObject *td_columns(TableData *self, void *c) {
    (void)c;
    const struct ArrowSchema *s = &self->set->schema;
    PyObject *list = PyList_New(s->n_children);
    if (!list) return NULL;
    for (int64_t i = 0; i < s->n_children; i++) {
        const struct ArrowSchema *f = s->children[i];
        PyObject *t = Py_BuildValue("(ss)", f->name ? f->name : "", f->format);
        if (!t) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, t);
    }
    return list;
}

static const struct ArrowArray *td_column(TableData *self, Py_ssize_t batch, Py_ssize_t column) {
    struct batch_set *s = self->set;
    if (batch < 0 || (size_t)batch >= s->n) {
        PyErr_Format(PyExc_IndexError, "batch: %zd is out of range (table has %zu batches)", batch, s->n);
        return NULL;
    }
    const struct ArrowArray *b = &s->batches[batch];
    if (column < 0 || column >= b->n_children) {
        PyErr_Format(PyExc_IndexError, "column: %zd is out of range (table has %lld columns)", column,
                     (long long)b->n_children);
        return NULL;
    }
    return b->children[column];
}

/* (length, offset, null_count, [buffer addresses]) of one column chunk: how
 * tests and callers check that a consumer points at hoist's bytes. */
static PyObject *td_chunk_info(TableData *self, PyObject *args) {
    Py_ssize_t batch, column;
    if (!PyArg_ParseTuple(args, "nn", &batch, &column)) return NULL;
    const struct ArrowArray *a = td_column(self, batch, column);
    if (!a) return NULL;
    PyObject *bufs = PyList_New(a->n_buffers);
    if (!bufs) return NULL;
    for (int64_t i = 0; i < a->n_buffers; i++) {
        PyObject *v = PyLong_FromVoidPtr((void *)a->buffers[i]);
        if (!v) {
            Py_DECREF(bufs);
            return NULL;
        }
        PyList_SET_ITEM(bufs, i, v);
    }
    return Py_BuildValue("(LLLN)", (long long)a->length, (long long)a->offset, (long long)a->null_count, bufs);
}

/* A BufferView over buffer `index` of a column chunk, `nbytes` long (the
 * caller computes the size from the type; Arrow arrays do not store it). */
static PyObject *td_buffer(TableData *self, PyObject *args) {
    Py_ssize_t batch, column, index, nbytes;
    if (!PyArg_ParseTuple(args, "nnnn", &batch, &column, &index, &nbytes)) return NULL;
    const struct ArrowArray *a = td_column(self, batch, column);
    if (!a) return NULL;
    if (index < 0 || index >= a->n_buffers) {
        PyErr_Format(PyExc_IndexError, "index: buffer %zd out of range (%lld buffers)", index, (long long)a->n_buffers);
        return NULL;
    }
    if (nbytes < 0) {
        PyErr_SetString(PyExc_ValueError, "nbytes: must be >= 0");
        return NULL;
    }
    BufferView *v = PyObject_New(BufferView, &BufferViewType);
    if (!v) return NULL;
    set_ref(self->set);
    v->set = self->set;
    v->ptr = a->buffers[index];
    v->len = v->ptr ? nbytes : 0;
    if (!v->ptr) v->ptr = "";
    return (PyObject *)v;
}

static PyObject *td_refcount(TableData *self, void *c) {
    (void)c;
    return PyLong_FromLong(atomic_load(&self->set->refs));
}

static PyMethodDef td_methods[] = {
    {"from_stream", (PyCFunction)td_from_stream, METH_O | METH_CLASS,
     "from_stream(obj) -> TableData: drain an Arrow stream (object with __arrow_c_stream__ or capsule)."},
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))td_arrow_c_stream, METH_VARARGS | METH_KEYWORDS,
     "Export the batches as an ArrowArrayStream capsule (zero-copy views)."},
    {"__arrow_c_schema__", (PyCFunction)td_arrow_c_schema, METH_NOARGS, "Export the schema as a capsule."},
    {"chunk_info", (PyCFunction)td_chunk_info, METH_VARARGS,
     "chunk_info(batch, column) -> (length, offset, null_count, [buffer addresses])."},
    {"buffer", (PyCFunction)td_buffer, METH_VARARGS,
     "buffer(batch, column, index, nbytes) -> BufferView over that Arrow buffer."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef td_getset[] = {
    {"num_rows", (getter)td_num_rows, NULL, "Rows in all batches.", NULL},
    {"num_batches", (getter)td_num_batches, NULL, "Number of record batches.", NULL},
    {"columns", (getter)td_columns, NULL, "[(name, Arrow format string)] of the top-level columns.", NULL},
    {"_refcount", (getter)td_refcount, NULL, "References to the shared batches (tests).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject TableDataType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.TableData",
    .tp_basicsize = sizeof(TableData),
    .tp_dealloc = (destructor)td_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Record batches held in C memory and exported to consumers without copies.",
    .tp_methods = td_methods,
    .tp_getset = td_getset,
};

/* ---------------------------------------------------------------------- */
/* Errors: a status and hoist's message become a Python exception           */
/* ---------------------------------------------------------------------- */

/* Raises for `status` with the message copied right after the failing call
 * (hoist_errmsg is reset by the next hoist call on this thread). */
static PyObject *raise_status(int status, const char *msg) { return hoist_py_raise(status, msg, "dataset"); }

/* The message of the last failure on this thread, copied. */
struct errcopy {
    char text[1024];
};
static void errcopy_take(struct errcopy *e) { snprintf(e->text, sizeof e->text, "%s", hoist_errmsg()); }

/* ---------------------------------------------------------------------- */
/* _hoist.Dataset: an opened dataset (listing and footers already read)     */
/* ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD struct hoist_dataset *ds;
} Dataset;

static void dataset_dealloc(Dataset *self) {
    if (self->ds) {
        struct hoist_dataset *ds = self->ds;
        self->ds = NULL;
        Py_BEGIN_ALLOW_THREADS hoist_dataset_close(ds);
        Py_END_ALLOW_THREADS
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Fills a NULL-terminated-free array of borrowed UTF-8 pointers from a
 * sequence of str; *keep holds the references that keep them valid. */
static const char **utf8_array(PyObject *seq, const char *argname, PyObject **keep, Py_ssize_t *n_out) {
    *keep = NULL;
    if (PyUnicode_Check(seq) || PyBytes_Check(seq)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a list of str, not a single string", argname);
        return NULL;
    }
    /* A tuple copy, not PySequence_Fast (which returns a list itself): the
     * strings must outlive the GIL-released open even if another thread
     * empties the caller's list meanwhile. */
    PyObject *fast = PySequence_Tuple(seq);
    if (!fast) {
        PyErr_Format(PyExc_TypeError, "%s: expected a list of str, got %.100s", argname, Py_TYPE(seq)->tp_name);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    const char **out = PyMem_Calloc(n ? (size_t)n : 1, sizeof(char *));
    if (!out) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "%s: item %zd is %.100s, not str", argname, i, Py_TYPE(item)->tp_name);
            goto fail;
        }
        out[i] = PyUnicode_AsUTF8(item);
        if (!out[i]) goto fail;
    }
    *keep = fast;
    *n_out = n;
    return out;
fail:
    PyMem_Free(out);
    Py_DECREF(fast);
    return NULL;
}

static int check_cfg(enum hoist_status st, const char *argname) {
    if (st == HOIST_OK) return 0;
    struct errcopy e;
    errcopy_take(&e);
    if (st == HOIST_ERR_FILTER || st == HOIST_ERR_USAGE) {
        raise_status(st, e.text);
        return -1;
    }
    if (st == HOIST_ERR_NOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    PyErr_Format(PyExc_ValueError, "%s: %s", argname, e.text[0] ? e.text : hoist_strerror(st));
    return -1;
}

/* partition_types={column: type} into the config; -1 with an exception set. */
static int set_partition_types(struct hoist_dataset_config *cfg, PyObject *partition_types) {
    if (!PyDict_Check(partition_types)) {
        PyErr_Format(PyExc_TypeError, "partition_types: expected a dict {column: type}, got %.100s",
                     Py_TYPE(partition_types)->tp_name);
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(partition_types, &pos, &k, &v)) {
        if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) {
            PyErr_SetString(PyExc_TypeError, "partition_types: keys and values must be str");
            return -1;
        }
        const char *ks = PyUnicode_AsUTF8(k), *vs = PyUnicode_AsUTF8(v);
        if (!ks || !vs) return -1;
        if (check_cfg(hoist_dataset_config_set_partition_type(cfg, ks, vs), "partition_types") < 0) return -1;
    }
    return 0;
}

/* The store settings load_table takes, as a store config the dataset config
 * copies (*scfg is the caller's to free); -1 with an exception set. */
static int set_store_settings(struct hoist_dataset_config *cfg, struct hoist_store_config **scfg, PyObject *endpoint,
                              PyObject *region, PyObject *profile, long long concurrency) {
    if (hoist_store_config_new(scfg) != HOIST_OK) {
        PyErr_NoMemory();
        return -1;
    }
    if (hoist_py_store_set_str(*scfg, HOIST_STORE_ENDPOINT, endpoint, "endpoint") < 0 ||
        hoist_py_store_set_str(*scfg, HOIST_STORE_REGION, region, "region") < 0 ||
        hoist_py_store_set_str(*scfg, HOIST_STORE_PROFILE, profile, "profile") < 0)
        return -1;
    if (concurrency && hoist_store_config_set_int(*scfg, HOIST_STORE_CONCURRENCY, concurrency) != HOIST_OK) {
        PyErr_Format(PyExc_ValueError, "concurrency: %s", hoist_errmsg());
        return -1;
    }
    return check_cfg(hoist_dataset_config_set_store_config(cfg, *scfg), "store");
}

static int dataset_init(Dataset *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"urls",
                         "columns",
                         "filter",
                         "sample",
                         "seed",
                         "limit",
                         "memory_limit",
                         "threads",
                         "skip_bad",
                         "hive",
                         "partition_types",
                         "decode_flags",
                         "endpoint",
                         "region",
                         "profile",
                         "concurrency",
                         "format",
                         "csv",
                         NULL};
    PyObject *urls_obj, *columns_obj = Py_None, *partition_types = Py_None;
    PyObject *endpoint = Py_None, *region = Py_None, *profile = Py_None;
    const char *filter = NULL;
    double sample = -1.0;
    unsigned long long seed = 0, memory_limit = 0;
    long long limit = -1, concurrency = 0;
    unsigned int threads = 0, decode_flags = 0;
    int skip_bad = 0, hive = 1, format = HOIST_DATASET_PARQUET;
    PyObject *csv = Py_None; /* a 'hoist.csv_options' capsule (py_csv.c) */
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OzdKLKIppOIOOOLiO", kw, &urls_obj, &columns_obj, &filter, &sample,
                                     &seed, &limit, &memory_limit, &threads, &skip_bad, &hive, &partition_types,
                                     &decode_flags, &endpoint, &region, &profile, &concurrency, &format, &csv))
        return -1;
    if (self->ds) {
        PyErr_SetString(PyExc_RuntimeError, "Dataset is already open");
        return -1;
    }

    PyObject *urls_keep = NULL, *cols_keep = NULL;
    const char **urls = NULL, **cols = NULL;
    Py_ssize_t n_urls = 0, n_cols = 0;
    struct hoist_dataset_config *cfg = NULL;
    struct hoist_store_config *scfg = NULL;
    int rc = -1;

    urls = utf8_array(urls_obj, "urls", &urls_keep, &n_urls);
    if (!urls) goto done;
    if (n_urls == 0) {
        PyErr_SetString(PyExc_ValueError, "urls: give at least one URL, prefix or glob");
        goto done;
    }
    if (columns_obj != Py_None) {
        cols = utf8_array(columns_obj, "columns", &cols_keep, &n_cols);
        if (!cols) goto done;
    }
    if (hoist_dataset_config_new(&cfg) != HOIST_OK) {
        PyErr_NoMemory();
        goto done;
    }
    /* columns=[]: no columns, only the row counts (pyarrow's read_table(columns=[]) too) */
    if (cols && n_cols == 0 && check_cfg(hoist_dataset_config_set_rows_only(cfg, 1), "columns") < 0) goto done;
    if (cols && check_cfg(hoist_dataset_config_set_columns(cfg, cols, (size_t)n_cols), "columns") < 0) goto done;
    if (filter && filter[0] && check_cfg(hoist_dataset_config_set_filter(cfg, filter), "filter") < 0) goto done;
    if (check_cfg(hoist_dataset_config_set_progress(cfg, hoist_py_cancel_on_sigint, NULL), "progress") < 0) goto done;
    if (sample >= 0.0 || sample != sample) {
        if (!(sample > 0.0 && sample <= 1.0)) {
            PyErr_Format(PyExc_ValueError, "sample: a fraction in (0, 1] is needed, got %g", sample);
            goto done;
        }
        if (check_cfg(hoist_dataset_config_set_sample(cfg, sample, (uint64_t)seed), "sample") < 0) goto done;
    }
    if (limit != -1 && check_cfg(hoist_dataset_config_set_limit(cfg, (int64_t)limit), "limit") < 0) goto done;
    if (memory_limit &&
        check_cfg(hoist_dataset_config_set_memory_limit(cfg, (uint64_t)memory_limit), "memory_limit") < 0)
        goto done;
    if (threads && check_cfg(hoist_dataset_config_set_threads(cfg, threads), "threads") < 0) goto done;
    if (skip_bad && check_cfg(hoist_dataset_config_set_skip_bad(cfg, 1), "skip_bad") < 0) goto done;
    if (!hive && check_cfg(hoist_dataset_config_set_hive(cfg, 0), "hive") < 0) goto done;
    if (decode_flags && check_cfg(hoist_dataset_config_set_decode_flags(cfg, decode_flags), "decode_flags") < 0)
        goto done;
    if (partition_types != Py_None && set_partition_types(cfg, partition_types) < 0) goto done;
    if (format != HOIST_DATASET_PARQUET && check_cfg(hoist_dataset_config_set_format(cfg, format), "format") < 0)
        goto done;
    if (csv != Py_None) {
        const struct hoist_csv_options *co = PyCapsule_GetPointer(csv, "hoist.csv_options");
        if (!co || check_cfg(hoist_dataset_config_set_csv_options(cfg, co), "csv") < 0) goto done;
    }
    if ((endpoint != Py_None || region != Py_None || profile != Py_None || concurrency) &&
        set_store_settings(cfg, &scfg, endpoint, region, profile, concurrency) < 0)
        goto done;
    struct hoist_dataset *ds = NULL;
    enum hoist_status st;
    struct errcopy e;
    Py_BEGIN_ALLOW_THREADS st = hoist_dataset_open(NULL, urls, (size_t)n_urls, cfg, &ds);
    if (st != HOIST_OK) errcopy_take(&e);
    Py_END_ALLOW_THREADS if (st != HOIST_OK) {
        raise_status(st, e.text);
        goto done;
    }
    self->ds = ds;
    rc = 0;
done:
    hoist_dataset_config_free(cfg);
    hoist_store_config_free(scfg);
    PyMem_Free(urls);
    PyMem_Free(cols);
    Py_XDECREF(urls_keep);
    Py_XDECREF(cols_keep);
    return rc;
}

static int dataset_check(Dataset *self) {
    if (!self->ds) {
        PyErr_SetString(PyExc_ValueError, "the dataset is closed");
        return -1;
    }
    return 0;
}

/* The dataset's schema (a quick call, made with the GIL held) or a new
 * scan, a stream the consumer drains at its own pace (opened with the GIL
 * released: it starts fetching; batches are decoded ahead within the memory
 * budget), as a capsule. */
static PyObject *dataset_export(Dataset *self, int scan) {
    if (dataset_check(self) < 0) return NULL;
    void *out = calloc(1, scan ? sizeof(struct ArrowArrayStream) : sizeof(struct ArrowSchema));
    if (!out) return PyErr_NoMemory();
    enum hoist_status st;
    struct errcopy e;
    if (scan) {
        Py_BEGIN_ALLOW_THREADS st = hoist_dataset_scan(self->ds, out);
        if (st != HOIST_OK) errcopy_take(&e);
        Py_END_ALLOW_THREADS
    } else {
        st = hoist_dataset_schema(self->ds, out);
        if (st != HOIST_OK) errcopy_take(&e);
    }
    if (st != HOIST_OK) {
        free(out);
        return raise_status(st, e.text);
    }
    return capsule_wrap(out, scan ? STREAM_CAPSULE : SCHEMA_CAPSULE);
}

static PyObject *dataset_schema(Dataset *self, PyObject *unused) {
    (void)unused;
    return dataset_export(self, 0);
}

static PyObject *dataset_scan(Dataset *self, PyObject *unused) {
    (void)unused;
    return dataset_export(self, 1);
}

/* Loads everything (GIL released) and returns the TableData that owns it. */
static PyObject *dataset_load(Dataset *self, PyObject *unused) {
    (void)unused;
    if (dataset_check(self) < 0) return NULL;
    struct ArrowArrayStream stream;
    memset(&stream, 0, sizeof stream);
    enum hoist_status st;
    struct errcopy e;
    struct hoist_py_sigint_guard guard;
    hoist_py_sigint_enter(&guard);
    Py_BEGIN_ALLOW_THREADS st = hoist_dataset_load(self->ds, &stream);
    if (st != HOIST_OK) errcopy_take(&e);
    Py_END_ALLOW_THREADS if (hoist_py_sigint_leave(&guard)) {
        if (st == HOIST_OK && stream.release) stream.release(&stream);
        return NULL;
    }
    if (st != HOIST_OK) return raise_status(st, e.text);
    struct batch_set *set = set_from_stream(&stream);
    return set ? table_data_wrap(set) : NULL;
}

static PyObject *dataset_shards(Dataset *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"n", "split_row_groups", NULL};
    Py_ssize_t n;
    int split = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n|p", kw, &n, &split)) return NULL;
    if (dataset_check(self) < 0) return NULL;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n: the number of shards must be >= 1, got %zd", n);
        return NULL;
    }
    struct hoist_shard *shards = NULL;
    size_t count = 0;
    enum hoist_status st;
    struct errcopy e;
    Py_BEGIN_ALLOW_THREADS st =
        hoist_dataset_shards(self->ds, (size_t)n, split ? HOIST_SHARD_ROW_GROUPS : 0u, &shards, &count);
    if (st != HOIST_OK) errcopy_take(&e);
    Py_END_ALLOW_THREADS if (st != HOIST_OK) return raise_status(st, e.text);
    PyObject *out = PyList_New((Py_ssize_t)count);
    if (!out) goto done;
    for (size_t i = 0; i < count; i++) {
        PyObject *urls = PyList_New((Py_ssize_t)shards[i].count);
        if (!urls) {
            Py_CLEAR(out);
            goto done;
        }
        for (size_t j = 0; j < shards[i].count; j++) {
            PyObject *u = PyUnicode_FromString(shards[i].urls[j]);
            if (!u) {
                Py_DECREF(urls);
                Py_CLEAR(out);
                goto done;
            }
            PyList_SET_ITEM(urls, (Py_ssize_t)j, u);
        }
        PyObject *t = Py_BuildValue("(NKL)", urls, (unsigned long long)shards[i].bytes, (long long)shards[i].rows);
        if (!t) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, t);
    }
done:
    hoist_dataset_shards_free(shards, count);
    return out;
}

static PyObject *dataset_stats(Dataset *self, PyObject *unused) {
    (void)unused;
    if (dataset_check(self) < 0) return NULL;
    struct hoist_dataset_stats s;
    memset(&s, 0, sizeof s);
    hoist_dataset_get_stats(self->ds, &s, sizeof s);
    return Py_BuildValue(
        "{sKsKsKsKsKsKsKsLsLsKsKsdsdsdsdsdsKsLsK}", "files", (unsigned long long)s.files, "files_skipped",
        (unsigned long long)s.files_skipped, "row_groups", (unsigned long long)s.row_groups, "row_groups_pruned",
        (unsigned long long)s.row_groups_pruned, "dataset_bytes", (unsigned long long)s.dataset_bytes, "bytes_fetched",
        (unsigned long long)s.bytes_fetched, "requests", (unsigned long long)s.requests, "rows", (long long)s.rows,
        "columns", (long long)s.columns, "output_bytes", (unsigned long long)s.output_bytes, "peak_pipeline_bytes",
        (unsigned long long)s.peak_pipeline_bytes, "list_seconds", s.list_seconds, "footer_seconds", s.footer_seconds,
        "download_seconds", s.download_seconds, "decode_seconds", s.decode_seconds, "scan_seconds", s.scan_seconds,
        "pages_skipped", (unsigned long long)s.pages_skipped, "rows_skipped_by_page_index",
        (long long)s.rows_skipped_by_page_index, "files_pruned", (unsigned long long)s.files_pruned);
}

static PyObject *dataset_skipped(Dataset *self, PyObject *unused) {
    (void)unused;
    if (dataset_check(self) < 0) return NULL;
    char *text = hoist_dataset_skipped(self->ds);
    if (!text) return PyErr_NoMemory();
    PyObject *out = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    hoist_free(text);
    return out;
}

static PyObject *dataset_close(Dataset *self, PyObject *unused) {
    (void)unused;
    if (self->ds) {
        struct hoist_dataset *ds = self->ds;
        self->ds = NULL;
        Py_BEGIN_ALLOW_THREADS hoist_dataset_close(ds);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyMethodDef dataset_methods[] = {
    {"schema", (PyCFunction)dataset_schema, METH_NOARGS, "The output schema as an 'arrow_schema' capsule."},
    {"scan", (PyCFunction)dataset_scan, METH_NOARGS, "A new scan as an 'arrow_array_stream' capsule."},
    {"load", (PyCFunction)dataset_load, METH_NOARGS, "Load every batch into a TableData (GIL released)."},
    {"shards", (PyCFunction)(void (*)(void))dataset_shards, METH_VARARGS | METH_KEYWORDS,
     "shards(n, split_row_groups=False) -> [(urls, bytes, rows)]."},
    {"stats", (PyCFunction)dataset_stats, METH_NOARGS, "What open and the scans so far cost (dict)."},
    {"skipped", (PyCFunction)dataset_skipped, METH_NOARGS, "Bad files skipped (skip_bad), one per line."},
    {"close", (PyCFunction)dataset_close, METH_NOARGS, "Free the dataset (streams made from it stay valid)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DatasetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.Dataset",
    .tp_basicsize = sizeof(Dataset),
    .tp_dealloc = (destructor)dataset_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Dataset(urls, columns=None, filter=None, sample=None, seed=0, limit=-1, memory_limit=0, "
              "threads=0, skip_bad=False, hive=True, partition_types=None, decode_flags=0, endpoint=None, "
              "region=None, profile=None, concurrency=0): an opened Parquet dataset.",
    .tp_methods = dataset_methods,
    .tp_init = (initproc)dataset_init,
    .tp_new = PyType_GenericNew,
};

/* ---------------------------------------------------------------------- */
/* Module registration                                                      */
/* ---------------------------------------------------------------------- */

int hoist_py_init_dataset(PyObject *m) {
    if (PyType_Ready(&BufferViewType) < 0 || PyType_Ready(&TableDataType) < 0) return -1;
    Py_INCREF(&BufferViewType);
    if (PyModule_AddObject(m, "BufferView", (PyObject *)&BufferViewType) < 0) {
        Py_DECREF(&BufferViewType);
        return -1;
    }
    if (PyType_Ready(&DatasetType) < 0) return -1;
    Py_INCREF(&DatasetType);
    if (PyModule_AddObject(m, "Dataset", (PyObject *)&DatasetType) < 0) {
        Py_DECREF(&DatasetType);
        return -1;
    }
    Py_INCREF(&TableDataType);
    if (PyModule_AddObject(m, "TableData", (PyObject *)&TableDataType) < 0) {
        Py_DECREF(&TableDataType);
        return -1;
    }
    return 0;
}
