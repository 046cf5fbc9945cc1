/*
 * py_common.h — what the files of the _hoist extension share: their module
 * init functions and the one way a hoist status becomes a Python exception.
 * The extension is a client of libhoist: it includes hoist.h only.
 */
#ifndef HOIST_PY_COMMON_H
#define HOIST_PY_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define HOIST_EXPERIMENTAL_API /* Arrow helpers (hoist.h, experimental tier) */
#include "hoist.h"

int hoist_py_init_dataset(PyObject *m);
int hoist_py_init_parquet(PyObject *m);
int hoist_py_init_store(PyObject *m);
int hoist_py_init_write(PyObject *m);
int hoist_py_init_csv(PyObject *m);
int hoist_py_init_iceberg(PyObject *m);

/* Raises hoist.exceptions.from_status(status, msg, domain) and returns NULL.
 * `msg` is the text copied right after the failing call (hoist_errmsg is
 * reset by the next hoist call on the thread); NULL or "" uses
 * hoist_strerror. `domain` picks the class family: "s3", "dataset",
 * "parquet" or "" (python/hoist/exceptions.py). Needs the GIL. */
PyObject *hoist_py_raise(int status, const char *msg, const char *domain);
/* Sets a string store option from a Python argument: NULL or None leaves it
 * unset; not a str is TypeError, a value the library refuses ValueError
 * (naming argname). 0, or -1 with the exception set. (py_store.c) */
int hoist_py_store_set_str(struct hoist_store_config *cfg, enum hoist_store_option opt, PyObject *v,
                           const char *argname);

#endif
