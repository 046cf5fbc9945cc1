/* py_interrupt.c — Ctrl-C and SIGTERM for C calls that run with the GIL
 * released: C handlers that set a flag for the call's progress callback
 * (py_interrupt.h says why). */
#include "py_interrupt.h"

#include <string.h>

/* The signal that arrived inside a guard (SIGINT or SIGTERM), else 0. */
static volatile sig_atomic_t caught;

static void on_signal(int sig) { caught = sig; }

int hoist_py_sigint_pending(void) { return caught != 0; }

int hoist_py_cancel_on_sigint(const struct hoist_progress *p, void *userdata) {
    (void)p;
    (void)userdata;
    return caught != 0;
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

static void install(int sig, struct sigaction *previous, int *installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, previous) == 0) *installed = 1;
}

/* SIGTERM is taken only while it still has its default action (the process
 * would die at once, leaving temp files and pending multipart uploads): a
 * handler the program installed itself stays in charge. */
static void enter(struct hoist_py_sigint_guard *g, int take_sigint) {
    memset(g, 0, sizeof *g);
    caught = 0;
    if (PyThread_get_thread_ident() != main_thread_ident()) return;
    if (take_sigint) install(SIGINT, &g->previous, &g->installed);
    struct sigaction cur;
    if (sigaction(SIGTERM, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL)
        install(SIGTERM, &g->previous_term, &g->installed_term);
}

void hoist_py_sigint_enter(struct hoist_py_sigint_guard *g) { enter(g, 1); }

void hoist_py_sigterm_enter(struct hoist_py_sigint_guard *g) { enter(g, 0); }

int hoist_py_sigint_leave(struct hoist_py_sigint_guard *g) {
    if (g->installed) sigaction(SIGINT, &g->previous, NULL);
    if (g->installed_term) sigaction(SIGTERM, &g->previous_term, NULL);
    int sig = caught;
    caught = 0;
    if (sig == SIGTERM && g->installed_term) {
        /* The call has cleaned up; leave as the default action would, but
         * through SystemExit so `with` blocks and finally clauses run too
         * (exit status 128 + SIGTERM, like a killed process in a shell). */
        PyObject *code = PyLong_FromLong(128 + SIGTERM);
        if (code) {
            PyErr_SetObject(PyExc_SystemExit, code);
            Py_DECREF(code);
        }
        return 1;
    }
    if (sig == SIGINT && g->installed) {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        return 1;
    }
    return 0;
}
