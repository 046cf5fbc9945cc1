/* Prefaulting large HOIST_DEST_ALLOC destinations off the I/O thread.
 *
 * A download into fresh memory pays a page fault (zeroing, and with huge
 * pages often a direct compaction) for every page it writes. On the single
 * event-loop thread that stalls every connection of the call while the
 * kernel finds memory. MADV_POPULATE_WRITE does the same work from a helper
 * thread, ahead of the writes, without changing a byte: the data race with
 * the event loop's memcpy is harmless by construction (the kernel only maps
 * pages; a page the loop already wrote is skipped). */
#include "store_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Populate in steps of one huge page so a stop request is seen quickly. */
#define STEP ((size_t)2 << 20)

static void *prefault_main(void *arg) {
    struct hx_prefault *pf = arg;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (pf->head == NULL && !pf->stop) pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop) break;
        struct hx_prefault_item *it = pf->head;
        pf->head = it->next;
        if (pf->head == NULL) pf->tail = NULL;
        it->next = NULL;
        uintptr_t a = (uintptr_t)it->ptr, e = a + it->len;
        pthread_mutex_unlock(&pf->mu);
        int broken = 0;
        /* whole pages inside the block only: with allocator hooks the
         * neighbouring bytes may belong to someone else */
        a = (a + pf->page - 1) & ~(uintptr_t)(pf->page - 1);
        e &= ~(uintptr_t)(pf->page - 1);
        while (a < e && !atomic_load_explicit(&pf->stop_fast, memory_order_relaxed)) {
            size_t n = e - a < STEP ? e - a : STEP;
            if (madvise((void *)a, n, MADV_POPULATE_WRITE) != 0 && (errno == EINVAL || errno == ENOSYS)) {
                broken = 1; /* kernel before 5.14: the writes fault pages in themselves */
                break;
            }
            a += n;
        }
        pthread_mutex_lock(&pf->mu);
        if (broken) pf->unsupported = 1;
        if (broken) break;
    }
    pf->running = 0;
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

void hx_prefault_init(struct hx_prefault *pf) {
    memset(pf, 0, sizeof *pf);
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    long ps = sysconf(_SC_PAGESIZE);
    pf->page = ps > 0 ? (size_t)ps : 4096;
}

void hx_prefault_push(struct hx_prefault *pf, struct hx_prefault_item *it, void *ptr, size_t len) {
    if (len < 2 * STEP) return; /* not worth a thread hop */
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
    if (pf->running) {
        it->ptr = ptr;
        it->len = len;
        it->next = NULL;
        if (pf->tail)
            pf->tail->next = it;
        else
            pf->head = it;
        pf->tail = it;
        pthread_cond_signal(&pf->cv);
    }
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
