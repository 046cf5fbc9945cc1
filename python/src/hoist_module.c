/* _hoist: the CPython extension over libhoist's public API. Other parts of the
 * module (S3 client, Parquet reader, datasets) live in sibling files and are
 * registered from here. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "hoist.h"

static PyObject *py_version(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyUnicode_FromString(hoist_version());
}

static PyMethodDef hoist_methods[] = {
    {"version", py_version, METH_NOARGS, "hoist's C library version."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hoist_module = {
    PyModuleDef_HEAD_INIT, "_hoist", "libhoist bindings", -1, hoist_methods,
    NULL, NULL, NULL, NULL,
};

int hoist_py_init_dataset(PyObject *m);
int hoist_py_init_parquet(PyObject *m);
int hoist_py_init_store(PyObject *m);
int hoist_py_init_csv(PyObject *m);

PyMODINIT_FUNC PyInit__hoist(void) {
    PyObject *m = PyModule_Create(&hoist_module);
    if (!m)
        return NULL;
    if (hoist_py_init_dataset(m) < 0 || hoist_py_init_parquet(m) < 0 || hoist_py_init_store(m) < 0 || hoist_py_init_csv(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
