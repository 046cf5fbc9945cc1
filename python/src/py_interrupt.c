/* py_interrupt.c — Ctrl-C for C calls that run with the GIL released: a
 * SIGINT handler that sets a flag for the call's progress callback
 * (py_interrupt.h says why). */
#include "py_interrupt.h"

#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

int hoist_py_sigint_pending(void) { return interrupted != 0; }

int hoist_py_cancel_on_sigint(const struct hoist_progress *p, void *userdata) {
    (void)p;
    (void)userdata;
    return interrupted != 0;
}

/* threading.main_thread().ident, or 0 if it cannot be found. */
static unsigned long main_thread_ident(void) {
    unsigned long ident = 0;
    PyObject *mod = PyImport_ImportModule("threading");
    PyObject *t = mod ? PyObject_CallMethod(mod, "main_thread", NULL) : NULL;
    PyObject *id = t ? PyObject_GetAttrString(t, "ident") : NULL;
    if (id && PyLong_Check(id)) ident = PyLong_AsUnsignedLong(id);
    Py_XDECREF(id);
    Py_XDECREF(t);
    Py_XDECREF(mod);
    if (PyErr_Occurred()) PyErr_Clear();
    return ident;
}

void hoist_py_sigint_enter(struct hoist_py_sigint_guard *g) {
    g->installed = 0;
    interrupted = 0;
    if (PyThread_get_thread_ident() != main_thread_ident()) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, &g->previous) == 0) g->installed = 1;
}

int hoist_py_sigint_leave(struct hoist_py_sigint_guard *g) {
    if (g->installed) sigaction(SIGINT, &g->previous, NULL);
    if (g->installed && interrupted) {
        interrupted = 0;
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        return 1;
    }
    return 0;
}
