/*
 * py_iceberg.c — _hoist.iceberg_plan: hoist's native Iceberg read planning
 * (hoist_iceberg_plan_*) for python/hoist/iceberg.py, so reading a table
 * needs neither pyiceberg nor a catalog library.
 */
#include "py_common.h"

/* iceberg_plan(metadata_url, filter=None, snapshot_id=-1, endpoint=None,
 * region=None, profile=None) -> (files, schema_json, stats): files a list of
 * (path, record_count, file_size). */
static PyObject *py_iceberg_plan(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kw[] = {"metadata_url", "filter", "snapshot_id", "endpoint", "region", "profile", NULL};
    const char *url, *filter = NULL;
    long long snapshot_id = -1;
    PyObject *endpoint = NULL, *region = NULL, *profile = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|zLOOO", kw, &url, &filter, &snapshot_id, &endpoint, &region,
                                     &profile))
        return NULL;
    struct hoist_store_config *sc = NULL;
    struct hoist_store *store = NULL;
    struct hoist_iceberg_plan *plan = NULL;
    if (hoist_store_config_new(&sc) != HOIST_OK) return PyErr_NoMemory();
    if (hoist_py_store_set_str(sc, HOIST_STORE_ENDPOINT, endpoint, "endpoint") < 0 ||
        hoist_py_store_set_str(sc, HOIST_STORE_REGION, region, "region") < 0 ||
        hoist_py_store_set_str(sc, HOIST_STORE_PROFILE, profile, "profile") < 0) {
        hoist_store_config_free(sc);
        return NULL;
    }
    enum hoist_status st;
    char msg[2048] = "";
    Py_BEGIN_ALLOW_THREADS st = hoist_store_new(sc, &store);
    if (st == HOIST_OK) st = hoist_iceberg_plan_new(store, url, filter, snapshot_id, &plan);
    if (st != HOIST_OK) snprintf(msg, sizeof msg, "%s", hoist_errmsg());
    Py_END_ALLOW_THREADS hoist_store_config_free(sc);
    if (st != HOIST_OK) {
        hoist_store_free(store);
        return hoist_py_raise(st, msg, "");
    }
    PyObject *files = NULL, *stats = NULL, *out = NULL;
    size_t n = hoist_iceberg_plan_num_files(plan);
    files = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; files && i < n; i++) {
        int64_t rows = 0, size = 0;
        const char *path = hoist_iceberg_plan_file(plan, i, &rows, &size);
        PyObject *item = Py_BuildValue("(sLL)", path, (long long)rows, (long long)size);
        if (!item) {
            Py_CLEAR(files);
            break;
        }
        PyList_SET_ITEM(files, (Py_ssize_t)i, item);
    }
    struct hoist_iceberg_plan_stats s;
    hoist_iceberg_plan_get_stats(plan, &s, sizeof s);
    if (files)
        stats = Py_BuildValue(
            "{s:L,s:K,s:K,s:K,s:K,s:K,s:K}", "snapshot_id", (long long)s.snapshot_id, "manifests",
            (unsigned long long)s.manifests, "manifests_pruned", (unsigned long long)s.manifests_pruned, "data_files",
            (unsigned long long)s.data_files, "data_files_pruned", (unsigned long long)s.data_files_pruned,
            "delete_files", (unsigned long long)s.delete_files, "metadata_bytes", (unsigned long long)s.metadata_bytes);
    if (files && stats) out = Py_BuildValue("(OsO)", files, hoist_iceberg_plan_schema_json(plan), stats);
    Py_XDECREF(files);
    Py_XDECREF(stats);
    hoist_iceberg_plan_free(plan);
    hoist_store_free(store);
    return out;
}

static PyMethodDef iceberg_methods[] = {
    {"iceberg_plan", (PyCFunction)(void (*)(void))py_iceberg_plan, METH_VARARGS | METH_KEYWORDS,
     "iceberg_plan(metadata_url, filter=None, snapshot_id=-1, endpoint=None, region=None, profile=None) -> "
     "(files, schema_json, stats): the data files [(path, record_count, file_size)] of an Iceberg snapshot, "
     "planned by hoist (hoist_iceberg_plan_new)."},
    {NULL, NULL, 0, NULL},
};

int hoist_py_init_iceberg(PyObject *m) { return PyModule_AddFunctions(m, iceberg_methods); }
