/* _hoist.read_csv: parse a CSV file or S3 object (plain, gzip or zstd; the
 * store comes from the environment) with the GIL released and hand the batches back as an
 * 'arrow_array_stream' capsule, which hoist.csv wraps in a hoist.Table (TableData.from_stream takes
 * the batches without copying); _hoist.csv_options: the same options as a capsule for a CSV dataset
 * (_hoist.Dataset's csv=). Options arrive already normalised by python/hoist/csv.py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "hoist.h"

static PyObject *CsvError;

static void stream_capsule_free(PyObject *cap) {
    struct ArrowArrayStream *s = PyCapsule_GetPointer(cap, "arrow_array_stream");
    if (!s) {
        PyErr_Clear();
        return;
    }
    if (s->release) s->release(s);
    PyMem_RawFree(s);
}

static PyObject *raise_status(enum hoist_status st) {
    const char *msg = hoist_errmsg();
    PyObject *type = st == HOIST_ERR_CSV_PARSE          ? CsvError
                     : st == HOIST_ERR_COLUMN_NOT_FOUND ? PyExc_KeyError
                     : st == HOIST_ERR_NOT_FOUND        ? PyExc_FileNotFoundError
                     : st == HOIST_ERR_NOMEM            ? PyExc_MemoryError
                     : st == HOIST_ERR_INVALID_ARG      ? PyExc_ValueError
                                                        : PyExc_OSError;
    PyErr_SetString(type, msg && *msg ? msg : hoist_strerror(st));
    return NULL;
}

/* A list of str (or None: leave the default) into a list option. */
static int set_list(struct hoist_csv_options *o, enum hoist_csv_list which, PyObject *list) {
    if (list == Py_None) return 0;
    Py_ssize_t n = PyList_Size(list);
    if (n < 0) return -1;
    const char **v = PyMem_RawCalloc((size_t)n + 1, sizeof *v);
    if (!v) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        v[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i));
        if (!v[i]) {
            PyMem_RawFree(v);
            return -1;
        }
    }
    enum hoist_status st = hoist_csv_options_set_strings(o, which, v, (size_t)n);
    PyMem_RawFree(v);
    if (st != HOIST_OK) {
        raise_status(st);
        return -1;
    }
    return 0;
}

/* The reader options of read_csv / csv_options from their keywords (after
 * `lead` leading positional arguments, which the caller parses). */
static struct hoist_csv_options *options_from(PyObject *args, PyObject *kwargs, const char **path) {
    static char *kwlist[] = {"path",         "delimiter",     "quote",
                             "escape",       "double_quote",  "header",
                             "comment",      "null_values",   "true_values",
                             "false_values", "columns",       "column_names",
                             "column_types", "skip_bad_rows", "strings_can_be_null",
                             "threads",      "quote_strings", NULL};
    int quote_strings = 0;
    int delimiter = -1, quote = '"', escape = 0, double_quote = 1, header = -1, comment = 0;
    int skip_bad = 0, strings_null = 0, threads = 0;
    PyObject *nulls = Py_None, *trues = Py_None, *falses = Py_None, *columns = Py_None, *names = Py_None,
             *types = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, path ? "s|iiiiiiOOOOOOiiii" : "|siiiiiiOOOOOOiiii", kwlist,
                                     path ? path : &(const char *){NULL}, &delimiter, &quote, &escape, &double_quote,
                                     &header, &comment, &nulls, &trues, &falses, &columns, &names, &types, &skip_bad,
                                     &strings_null, &threads, &quote_strings))
        return NULL;
    struct hoist_csv_options *o;
    enum hoist_status st = hoist_csv_options_new(&o);
    if (st != HOIST_OK) return (void *)raise_status(st);
    const struct {
        enum hoist_csv_option opt;
        int value;
    } ints[] = {{HOIST_CSV_DELIMITER, delimiter},    {HOIST_CSV_QUOTE, quote},
                {HOIST_CSV_ESCAPE, escape},          {HOIST_CSV_DOUBLE_QUOTE, double_quote},
                {HOIST_CSV_HEADER, header},          {HOIST_CSV_COMMENT, comment},
                {HOIST_CSV_SKIP_BAD_ROWS, skip_bad}, {HOIST_CSV_STRINGS_CAN_BE_NULL, strings_null},
                {HOIST_CSV_THREADS, threads},        {HOIST_CSV_QUOTE_STRINGS, quote_strings}};
    for (size_t i = 0; st == HOIST_OK && i < sizeof ints / sizeof ints[0]; i++)
        st = hoist_csv_options_set_int(o, ints[i].opt, ints[i].value);
    if (st != HOIST_OK) {
        hoist_csv_options_free(o);
        return (void *)raise_status(st);
    }
    if (set_list(o, HOIST_CSV_NULL_VALUES, nulls) || set_list(o, HOIST_CSV_TRUE_VALUES, trues) ||
        set_list(o, HOIST_CSV_FALSE_VALUES, falses) || set_list(o, HOIST_CSV_COLUMNS, columns) ||
        set_list(o, HOIST_CSV_COLUMN_NAMES, names)) {
        hoist_csv_options_free(o);
        return NULL;
    }
    /* column_types: a list of (name, type) pairs of str */
    for (Py_ssize_t i = 0; types != Py_None && i < PyList_Size(types); i++) {
        const char *n, *t;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(types, i), "ss", &n, &t)) {
            hoist_csv_options_free(o);
            return NULL;
        }
        if ((st = hoist_csv_options_set_column_type(o, n, t)) != HOIST_OK) {
            hoist_csv_options_free(o);
            return (void *)raise_status(st);
        }
    }
    return o;
}

static void options_capsule_free(PyObject *cap) {
    struct hoist_csv_options *o = PyCapsule_GetPointer(cap, "hoist.csv_options");
    if (!o) PyErr_Clear();
    hoist_csv_options_free(o);
}

/* csv_options(**kw) -> a 'hoist.csv_options' capsule, which _hoist.Dataset
 * takes as its csv= argument (format CSV). */
static PyObject *py_csv_options(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    struct hoist_csv_options *o = options_from(args, kwargs, NULL);
    if (!o) return NULL;
    PyObject *cap = PyCapsule_New(o, "hoist.csv_options", options_capsule_free);
    if (!cap) hoist_csv_options_free(o);
    return cap;
}

static PyObject *py_read_csv(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    const char *path;
    struct hoist_csv_options *o = options_from(args, kwargs, &path);
    if (!o) return NULL;
    enum hoist_status st;
    struct ArrowArrayStream *s = PyMem_RawCalloc(1, sizeof *s);
    if (!s) {
        hoist_csv_options_free(o);
        return PyErr_NoMemory();
    }
    struct hoist_csv_stats stats;
    Py_BEGIN_ALLOW_THREADS st = hoist_csv_read_url(NULL, path, o, s, &stats, sizeof stats);
    Py_END_ALLOW_THREADS hoist_csv_options_free(o);
    if (st != HOIST_OK) {
        PyMem_RawFree(s);
        return raise_status(st);
    }
    PyObject *cap = PyCapsule_New(s, "arrow_array_stream", stream_capsule_free);
    if (!cap) {
        s->release(s);
        PyMem_RawFree(s);
        return NULL;
    }
    PyObject *lines = PyList_New(0);
    for (int64_t i = 0; lines && i < stats.bad_rows && i < 8; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(stats.bad_lines[i]);
        if (!v || PyList_Append(lines, v) < 0) Py_CLEAR(lines);
        Py_XDECREF(v);
    }
    PyObject *d = lines ? Py_BuildValue("{s:L,s:K,s:L,s:N}", "rows", (long long)stats.rows, "bytes",
                                        (unsigned long long)stats.bytes, "bad_rows", (long long)stats.bad_rows,
                                        "bad_lines", lines)
                        : NULL;
    if (!d) {
        Py_DECREF(cap);
        return NULL;
    }
    return Py_BuildValue("(NN)", cap, d);
}

/* write_csv(stream capsule, url, options capsule or None) -> rows written.
 * The capsule's stream is moved out (the capsule keeps a released one) and
 * written with the GIL released, as write_dataset does. */
static PyObject *py_write_csv(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *capsule, *opts_obj;
    const char *url;
    if (!PyArg_ParseTuple(args, "OsO", &capsule, &url, &opts_obj)) return NULL;
    if (!PyCapsule_IsValid(capsule, "arrow_array_stream")) {
        PyErr_SetString(PyExc_TypeError, "data: expected an 'arrow_array_stream' PyCapsule");
        return NULL;
    }
    const struct hoist_csv_options *o = NULL;
    if (opts_obj != Py_None && !(o = PyCapsule_GetPointer(opts_obj, "hoist.csv_options"))) return NULL;
    struct ArrowArrayStream *src = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (!src || !src->release) {
        PyErr_SetString(PyExc_ValueError, "data: the Arrow stream was already consumed");
        return NULL;
    }
    struct ArrowArrayStream s = *src;
    src->release = NULL;
    enum hoist_status st;
    int64_t rows = 0;
    Py_BEGIN_ALLOW_THREADS st = hoist_csv_write_url(NULL, url, &s, o, &rows);
    Py_END_ALLOW_THREADS if (st != HOIST_OK) return raise_status(st);
    return PyLong_FromLongLong((long long)rows);
}

static PyMethodDef csv_methods[] = {
    {"write_csv", (PyCFunction)(void (*)(void))py_write_csv, METH_VARARGS,
     "write_csv(stream capsule, url, options) -> rows; see hoist.write_csv."},
    {"read_csv", (PyCFunction)(void (*)(void))py_read_csv, METH_VARARGS | METH_KEYWORDS,
     "read_csv(path, ...) -> (arrow_array_stream capsule, stats dict); see hoist.read_csv."},
    {"csv_options", (PyCFunction)(void (*)(void))py_csv_options, METH_VARARGS | METH_KEYWORDS,
     "csv_options(...) -> CSV reader options for Dataset(format=1, csv=...); see hoist.load_table."},
    {NULL, NULL, 0, NULL},
};

int hoist_py_init_csv(PyObject *m) {
    if (!CsvError) {
        CsvError = PyErr_NewException("hoist._hoist.CsvError", PyExc_ValueError, NULL);
        if (!CsvError) return -1;
    }
    Py_INCREF(CsvError);
    if (PyModule_AddObject(m, "CsvError", CsvError) < 0) {
        Py_DECREF(CsvError);
        return -1;
    }
    return PyModule_AddFunctions(m, csv_methods);
}
