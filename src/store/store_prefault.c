/* Prefaulting large HOIST_DEST_ALLOC destinations off the I/O thread.
 *
 * A download into fresh memory pays a page fault (zeroing, and with huge
 * pages often a direct compaction) for every page it writes. On the single
 * event-loop thread that stalls every connection of the call while the
 * kernel finds memory. MADV_POPULATE_WRITE does the same work from a helper
 * thread, ahead of the writes, without changing a byte: the data race with
 * the event loop's memcpy is harmless by construction (the kernel only maps
 * pages; a page the loop already wrote is skipped).
 *
 * The writers are the requests in flight, each filling its range front to
 * back at about the same speed. Populating one range after the other (as
 * this did until 2026-12-02) leaves every other writer to fault its own
 * pages on the loop thread meanwhile: with 8 x 64 MiB from nginx, 24% of the
 * loop thread's CPU was page faults. So the thread takes one step of each of
 * the first `window` queued ranges in turn. */
#include "store_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Populate in steps of one huge page: a turn is short, so no writer waits
 * long for its next step, and a stop request is seen quickly. */
#define STEP ((size_t)2 << 20)

int hx_prefault_queue(struct hx_prefault *pf, struct hx_prefault_item *it, void *ptr, size_t len) {
    if (len < 2 * STEP) return 0; /* not worth a thread hop */
    /* whole pages inside the range only: with allocator hooks the
     * neighbouring bytes may belong to someone else */
    uintptr_t a = (uintptr_t)ptr, e = a + len;
    it->pos = (a + pf->page - 1) & ~(uintptr_t)(pf->page - 1);
    it->end = e & ~(uintptr_t)(pf->page - 1);
    it->next = NULL;
    if (pf->tail)
        pf->tail->next = it;
    else
        pf->head = it;
    pf->tail = it;
    return 1;
}

int hx_prefault_take(struct hx_prefault *pf, uintptr_t *at, size_t *len) {
    if (pf->head == NULL) return 0;
    struct hx_prefault_item *it = pf->cursor, *prev = pf->cursor_prev;
    if (it == NULL || pf->cursor_index >= pf->window) {
        it = pf->head;
        prev = NULL;
        pf->cursor_index = 0;
    }
    size_t n = it->end - it->pos < STEP ? it->end - it->pos : STEP;
    *at = it->pos;
    *len = n;
    it->pos += n;
    if (it->pos < it->end) {
        pf->cursor = it->next;
        pf->cursor_prev = it;
        pf->cursor_index++;
        return 1;
    }
    /* done: unlink it; the next range moves up into its place */
    if (prev)
        prev->next = it->next;
    else
        pf->head = it->next;
    if (pf->tail == it) pf->tail = prev;
    pf->cursor = it->next;
    pf->cursor_prev = prev;
    it->next = NULL;
    return 1;
}

static void *prefault_main(void *arg) {
    struct hx_prefault *pf = arg;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (pf->head == NULL && !pf->stop) pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop) break;
        uintptr_t a;
        size_t n;
        if (!hx_prefault_take(pf, &a, &n)) continue;
        pthread_mutex_unlock(&pf->mu);
        int broken = n && !atomic_load_explicit(&pf->stop_fast, memory_order_relaxed) &&
                     madvise((void *)a, n, MADV_POPULATE_WRITE) != 0 && (errno == EINVAL || errno == ENOSYS);
        pthread_mutex_lock(&pf->mu);
        if (broken) {
            pf->unsupported = 1; /* kernel before 5.14: the writes fault pages in themselves */
            break;
        }
    }
    pf->running = 0;
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

void hx_prefault_init(struct hx_prefault *pf, int window) {
    memset(pf, 0, sizeof *pf);
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    long ps = sysconf(_SC_PAGESIZE);
    pf->page = ps > 0 ? (size_t)ps : 4096;
    pf->window = window > 0 ? window : 1;
}

void hx_prefault_push(struct hx_prefault *pf, struct hx_prefault_item *it, void *ptr, size_t len) {
    if (len < 2 * STEP) return;
    pthread_mutex_lock(&pf->mu);
    if (pf->unsupported || pf->stop) {
        pthread_mutex_unlock(&pf->mu);
        return;
    }
    if (!pf->started) {
        pf->started = 1;
        /* no thread (resource limits): the writes fault the pages in */
        if (pthread_create(&pf->thread, NULL, prefault_main, pf) == 0)
            pf->running = pf->joinable = 1;
        else
            pf->unsupported = 1;
    }
    if (pf->running && hx_prefault_queue(pf, it, ptr, len)) pthread_cond_signal(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
}

void hx_prefault_stop(struct hx_prefault *pf) {
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    atomic_store(&pf->stop_fast, 1);
    pthread_cond_signal(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    if (pf->joinable) pthread_join(pf->thread, NULL);
    pf->joinable = 0;
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
}
