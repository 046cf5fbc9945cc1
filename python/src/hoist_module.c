/* _hoist: the CPython extension over libhoist's public API. Other parts of the
 * module (S3 client, Parquet reader, datasets) live in sibling files and are
 * registered from here. */
#include "py_common.h"

static PyObject *py_version(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyUnicode_FromString(hoist_version());
}

static PyObject *py_status_class(PyObject *self, PyObject *arg) {
    (void)self;
    long status = PyLong_AsLong(arg);
    if (status == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(hoist_status_class_name(hoist_status_class((enum hoist_status)status)));
}

PyObject *hoist_py_raise(int status, const char *msg, const char *domain) {
    const char *text = msg && msg[0] ? msg : hoist_strerror((enum hoist_status)status);
    /* hoist caps messages at a fixed size, which can split a multi-byte
     * character of a long non-ASCII URL; names from a corrupt footer may not
     * be UTF-8 at all: decode leniently, or the real error would turn into
     * UnicodeDecodeError. */
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "backslashreplace");
    PyObject *mod = str ? PyImport_ImportModule("hoist.exceptions") : NULL;
    if (str && !mod) {
        /* The package is broken; still report the C error, not the import one. */
        PyErr_Clear();
        PyErr_Format(PyExc_RuntimeError, "hoist error %d: %s", status, text);
    }
    PyObject *exc = mod ? PyObject_CallMethod(mod, "from_status", "iOs", status, str, domain) : NULL;
    if (exc) PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_XDECREF(exc);
    Py_XDECREF(mod);
    Py_XDECREF(str);
    return NULL;
}

static PyMethodDef hoist_methods[] = {
    {"version", py_version, METH_NOARGS, "hoist's C library version."},
    {"status_class", py_status_class, METH_O,
     "status_class(status) -> str: the class name of a hoist status (hoist_status_class_name)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hoist_module = {
    PyModuleDef_HEAD_INIT, "_hoist", "libhoist bindings", -1, hoist_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__hoist(void) {
    PyObject *m = PyModule_Create(&hoist_module);
    if (!m) return NULL;
    if (hoist_py_init_dataset(m) < 0 || hoist_py_init_parquet(m) < 0 || hoist_py_init_store(m) < 0 ||
        hoist_py_init_write(m) < 0 || hoist_py_init_csv(m) < 0 || hoist_py_init_iceberg(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
