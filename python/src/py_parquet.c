/* _hoist.read_parquet: decode a Parquet file (path or bytes-like) with the GIL
 * released, and hand the record batches to any Arrow consumer through the
 * Arrow PyCapsule interface (__arrow_c_stream__ / __arrow_c_schema__).
 *
 * The decoded batches live in the ParquetTable object. Each exported stream
 * hands out shallow views of them whose release drops a reference to the
 * object (taking the GIL: consumers may release on any thread), so a table
 * can be exported any number of times without copying. */

#include "py_common.h" /* Python.h first, as the C API asks */

#include <stdbool.h>
#include <string.h>

typedef struct {
    PyObject_HEAD struct ArrowSchema schema;
    struct ArrowArray *batches;
    Py_ssize_t nbatches;
} PqTable;

static void pqtable_dealloc(PqTable *self) {
    if (self->schema.release) self->schema.release(&self->schema);
    for (Py_ssize_t i = 0; i < self->nbatches; i++)
        if (self->batches[i].release) self->batches[i].release(&self->batches[i]);
    PyMem_RawFree(self->batches);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A failed hoist_arrow_* call as a Python exception. */
static PyObject *arrow_error(enum hoist_status st) { return hoist_py_raise(st, hoist_errmsg(), "parquet"); }

/* ---- exports ------------------------------------------------------------ */

/* Releases and frees an exported struct: "arrow_schema" or
 * "arrow_array_stream" (PyCapsuleInterface.rst names). */
static void release_export(void *p, const char *name) {
    if (strcmp(name, "arrow_schema") == 0) {
        struct ArrowSchema *s = p;
        if (s->release) s->release(s);
    } else {
        struct ArrowArrayStream *s = p;
        if (s->release) s->release(s);
    }
    PyMem_RawFree(p);
}

/* A capsule a consumer renamed is not ours to interpret: left alone, as
 * PyCapsule_GetPointer with our name would. */
static void capsule_destructor(PyObject *cap) {
    const char *name = PyCapsule_GetName(cap);
    bool ours = name && (strcmp(name, "arrow_schema") == 0 || strcmp(name, "arrow_array_stream") == 0);
    void *p = ours ? PyCapsule_GetPointer(cap, name) : NULL;
    if (!p) {
        PyErr_Clear();
        return;
    }
    release_export(p, name);
}

/* The capsule owning a filled export; without one the export is released. */
static PyObject *capsule_wrap(void *p, const char *name) {
    PyObject *cap = PyCapsule_New(p, name, capsule_destructor);
    if (!cap) release_export(p, name);
    return cap;
}

static PyObject *pqtable_arrow_c_schema(PqTable *self, PyObject *unused) {
    (void)unused;
    struct ArrowSchema *s = PyMem_RawCalloc(1, sizeof *s);
    if (!s) return PyErr_NoMemory();
    enum hoist_status st = hoist_arrow_schema_copy(&self->schema, s);
    if (st != HOIST_OK) {
        PyMem_RawFree(s);
        return arrow_error(st);
    }
    return capsule_wrap(s, "arrow_schema");
}

/* Owner callbacks for hoist_arrow_stream_share: the table object stays
 * alive while a stream or batch view exists. Views may be released on any
 * thread, without the GIL, so both take it. */
static void table_ref(void *owner) {
    PyGILState_STATE g = PyGILState_Ensure();
    Py_INCREF((PyObject *)owner);
    PyGILState_Release(g);
}

static void table_unref(void *owner) {
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF((PyObject *)owner);
    PyGILState_Release(g);
}

static PyObject *pqtable_arrow_c_stream(PqTable *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"requested_schema", NULL};
    PyObject *requested = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", kwlist, &requested)) return NULL;
    /* requested_schema is best effort (PyCapsuleInterface.rst): we offer our own. */
    struct ArrowArrayStream *s = PyMem_RawCalloc(1, sizeof *s);
    if (!s) return PyErr_NoMemory();
    enum hoist_status st =
        hoist_arrow_stream_share(&self->schema, self->batches, (size_t)self->nbatches, self, table_ref, table_unref, s);
    if (st != HOIST_OK) {
        PyMem_RawFree(s);
        return arrow_error(st);
    }
    return capsule_wrap(s, "arrow_array_stream");
}

static PyObject *pqtable_num_rows(PqTable *self, void *closure) {
    (void)closure;
    long long n = 0;
    for (Py_ssize_t i = 0; i < self->nbatches; i++) n += self->batches[i].length;
    return PyLong_FromLongLong(n);
}

static PyMethodDef pqtable_methods[] = {
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))pqtable_arrow_c_stream, METH_VARARGS | METH_KEYWORDS,
     "Export the batches as an Arrow C stream (PyCapsule 'arrow_array_stream')."},
    {"__arrow_c_schema__", (PyCFunction)pqtable_arrow_c_schema, METH_NOARGS,
     "Export the schema (PyCapsule 'arrow_schema')."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pqtable_getset[] = {
    {"num_rows", (getter)pqtable_num_rows, NULL, "number of rows", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject PqTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "hoist._hoist.ParquetTable",
    .tp_basicsize = sizeof(PqTable),
    .tp_dealloc = (destructor)pqtable_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Record batches decoded from a Parquet file; export with __arrow_c_stream__.",
    .tp_methods = pqtable_methods,
    .tp_getset = pqtable_getset,
};

/* ---- read_parquet -------------------------------------------------------- */

struct decode_job {
    const char *path;
    const void *data;
    size_t size;
    const char *const *columns;
    size_t ncolumns;
    unsigned threads;
    unsigned flags;
    enum hoist_status status;
    char error[1024];
    struct ArrowSchema schema;
    struct ArrowArray *batches;
    Py_ssize_t nbatches;
};

/* Runs without the GIL. */
static void decode(struct decode_job *j) {
    struct hoist_pq_reader *r = NULL;
    struct ArrowArrayStream st = {0};
    j->status = j->path ? hoist_pq_reader_open_file(j->path, j->flags, &r)
                        : hoist_pq_reader_open_memory(j->data, j->size, "<bytes>", j->flags, &r);
    if (j->status == HOIST_OK) j->status = hoist_pq_reader_stream(r, j->columns, j->ncolumns, NULL, 0, j->threads, &st);
    if (j->status != HOIST_OK) {
        snprintf(j->error, sizeof j->error, "%s", hoist_errmsg());
        hoist_pq_reader_close(r);
        return;
    }
    int rc = st.get_schema(&st, &j->schema);
    Py_ssize_t cap = 0;
    while (rc == 0) {
        if (j->nbatches == cap) {
            cap = cap ? cap * 2 : 8;
            struct ArrowArray *b = PyMem_RawRealloc(j->batches, (size_t)cap * sizeof *b);
            if (!b) {
                rc = 12;
                break;
            }
            j->batches = b;
        }
        struct ArrowArray *out = &j->batches[j->nbatches];
        rc = st.get_next(&st, out);
        if (rc != 0 || !out->release) break;
        j->nbatches++;
    }
    if (rc != 0) {
        const char *e = st.get_last_error(&st);
        snprintf(j->error, sizeof j->error, "%s", e ? e : "Parquet decoding failed");
        j->status = HOIST_ERR_PARQUET_CORRUPT;
        if (rc == 12) j->status = HOIST_ERR_NOMEM;
    }
    st.release(&st);
    hoist_pq_reader_close(r);
}

static PyObject *py_read_parquet(PyObject *mod, PyObject *args, PyObject *kwargs) {
    (void)mod;
    static char *kwlist[] = {"source", "columns", "threads", "verify_crc", "dictionary", NULL};
    PyObject *source, *columns = Py_None;
    int threads = 0, verify_crc = 1, dictionary = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Oipp", kwlist, &source, &columns, &threads, &verify_crc,
                                     &dictionary))
        return NULL;
    if (threads < 0) {
        PyErr_SetString(PyExc_ValueError, "threads must be >= 0");
        return NULL;
    }
    struct decode_job j;
    memset(&j, 0, sizeof j);
    j.threads = (unsigned)threads;
    j.flags = (verify_crc ? 0 : HOIST_PQ_NO_CRC) | (dictionary ? HOIST_PQ_DICT_AS_DICTIONARY : 0);
    PyObject *path_bytes = NULL, *col_list = NULL;
    Py_buffer view = {0};
    int have_view = 0;
    const char **cols = NULL;
    PyObject *result = NULL;
    if (PyUnicode_Check(source) || PyObject_HasAttrString(source, "__fspath__")) {
        if (!PyUnicode_FSConverter(source, &path_bytes)) return NULL;
        j.path = PyBytes_AS_STRING(path_bytes);
    } else {
        if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) != 0) return NULL;
        have_view = 1;
        j.data = view.buf;
        j.size = (size_t)view.len;
    }
    if (columns != Py_None) {
        /* A tuple copy (not the caller's list, which another thread could
         * empty while the GIL is released and the names are in use). */
        col_list = PySequence_Tuple(columns);
        if (!col_list) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(col_list);
        cols = PyMem_RawCalloc((size_t)(n ? n : 1), sizeof *cols);
        if (!cols) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *c = PySequence_Fast_GET_ITEM(col_list, i);
            cols[i] = PyUnicode_Check(c) ? PyUnicode_AsUTF8(c) : NULL;
            if (!cols[i]) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "columns must be str");
                goto done;
            }
        }
        j.columns = cols;
        j.ncolumns = (size_t)n;
        if (n == 0) j.columns = NULL; /* hoist.h: an empty selection means all */
    }
    Py_BEGIN_ALLOW_THREADS decode(&j);
    Py_END_ALLOW_THREADS if (j.status != HOIST_OK) {
        hoist_py_raise(j.status, j.error, "parquet");
        goto done;
    }
    PqTable *t = PyObject_New(PqTable, &PqTableType);
    if (!t) goto done;
    t->schema = j.schema;
    t->batches = j.batches;
    t->nbatches = j.nbatches;
    j.schema.release = NULL;
    j.batches = NULL;
    j.nbatches = 0;
    result = (PyObject *)t;
done:
    if (j.schema.release) j.schema.release(&j.schema);
    for (Py_ssize_t i = 0; i < j.nbatches; i++)
        if (j.batches[i].release) j.batches[i].release(&j.batches[i]);
    PyMem_RawFree(j.batches);
    PyMem_RawFree(cols);
    Py_XDECREF(col_list);
    Py_XDECREF(path_bytes);
    if (have_view) PyBuffer_Release(&view);
    return result;
}

static PyMethodDef parquet_methods[] = {
    {"read_parquet", (PyCFunction)(void (*)(void))py_read_parquet, METH_VARARGS | METH_KEYWORDS,
     "read_parquet(source, columns=None, threads=0, verify_crc=True, dictionary=False) -> ParquetTable\n"
     "Decodes a Parquet file (a path or a bytes-like object) into Arrow record batches."},
    {NULL, NULL, 0, NULL},
};

int hoist_py_init_parquet(PyObject *m) {
    if (PyType_Ready(&PqTableType) < 0) return -1;
    Py_INCREF(&PqTableType);
    if (PyModule_AddObject(m, "ParquetTable", (PyObject *)&PqTableType) < 0) {
        Py_DECREF(&PqTableType);
        return -1;
    }
    return PyModule_AddFunctions(m, parquet_methods);
}
