/*
 * py_interrupt.h — Ctrl-C and SIGTERM during a long C call that runs with
 * the GIL released (a dataset load, a table write, a store transfer).
 *
 * While the main thread waits in such a call, Python cannot run its SIGINT
 * handler, and the call's progress callback may run on a thread where Python
 * never runs signal handlers. So for the length of the call a C handler of
 * ours records the signal in a flag; hoist_py_cancel_on_sigint (a
 * hoist_progress_fn) sees it and asks the C call to cancel (it then cleans up
 * and fails with HOIST_ERR_CANCELLED); the caller raises KeyboardInterrupt.
 *
 * SIGTERM (what Batch and Kubernetes send) is handled the same way while it
 * has its default action, which would kill the process before the call
 * could abort its uploads and remove its temp files; after the cleanup the
 * caller raises SystemExit(143).
 */
#ifndef HOIST_PY_INTERRUPT_H
#define HOIST_PY_INTERRUPT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <signal.h>

#include "hoist.h"

struct hoist_py_sigint_guard {
    int installed, installed_term;
    struct sigaction previous, previous_term;
};

/* Installs the handlers (SIGINT, and SIGTERM while it has its default
 * action) if this is Python's main thread (only it receives signals for
 * Python); clears the flag. Needs the GIL. */
void hoist_py_sigint_enter(struct hoist_py_sigint_guard *g);
/* Only the SIGTERM part, for calls whose Ctrl-C goes through Python's own
 * handler (PyErr_CheckSignals in py_store.c). Needs the GIL. */
void hoist_py_sigterm_enter(struct hoist_py_sigint_guard *g);
/* Restores the previous handlers; returns 1 with KeyboardInterrupt (Ctrl-C)
 * or SystemExit(143) (SIGTERM) set if one arrived since enter. Needs the GIL. */
int hoist_py_sigint_leave(struct hoist_py_sigint_guard *g);
/* 1 once a signal arrived inside a guard (any thread, no GIL needed). */
int hoist_py_sigint_pending(void);
/* A progress callback that cancels the operation once Ctrl-C was pressed. */
int hoist_py_cancel_on_sigint(const struct hoist_progress *p, void *userdata);

#endif
