/* Fixed-size worker pool with task groups (one FIFO queue, one mutex: the
 * tasks it runs are decode jobs of 10 µs to 100 ms, so queue contention is
 * not where time goes). */
#include "util_internal.h"

#include <errno.h>
#include <pthread.h>

struct task {
    hx_task_fn fn;
    void *arg;
    struct hx_task_group *group;
    struct task *next;
};

struct hx_pool {
    pthread_mutex_t mu;
    pthread_cond_t has_work;
    struct task *head, *tail;
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
};

struct hx_task_group {
    struct hx_pool *pool;
    pthread_cond_t done;
    uint64_t pending; /* guarded by pool->mu */
};

static void *worker_main(void *arg) {
    struct hx_pool *pool = arg;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->head == NULL && !pool->stopping) pthread_cond_wait(&pool->has_work, &pool->mu);
        if (pool->head == NULL) break; /* stopping and drained */
        struct task *t = pool->head;
        pool->head = t->next;
        if (pool->head == NULL) pool->tail = NULL;
        pthread_mutex_unlock(&pool->mu);
        t->fn(t->arg);
        pthread_mutex_lock(&pool->mu);
        struct hx_task_group *g = t->group;
        if (--g->pending == 0) pthread_cond_broadcast(&g->done);
        hx_free(t);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

hx_status hx_pool_new(unsigned nthreads, struct hx_pool **out) {
    *out = NULL;
    if (nthreads == 0) nthreads = hx_cpu_count();
    struct hx_pool *pool = hx_calloc(1, sizeof *pool);
    if (!pool) HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating a thread pool");
    pool->threads = hx_calloc(nthreads, sizeof *pool->threads);
    if (!pool->threads) {
        hx_free(pool);
        HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating a thread pool");
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->has_work, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        int rc = pthread_create(&pool->threads[i], NULL, worker_main, pool);
        if (rc != 0) {
            pool->nthreads = i;
            hx_pool_free(pool);
            HX_FAIL(HOIST_ERR_INTERNAL, "cannot start worker thread %u: error %d", i, rc);
        }
        pool->nthreads = i + 1;
    }
    *out = pool;
    return HOIST_OK;
}

unsigned hx_pool_size(const struct hx_pool *pool) { return pool->nthreads; }

void hx_pool_free(struct hx_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->has_work);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned i = 0; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->has_work);
    hx_free(pool->threads);
    hx_free(pool);
}

hx_status hx_task_group_new(struct hx_pool *pool, struct hx_task_group **out) {
    *out = NULL;
    struct hx_task_group *g = hx_calloc(1, sizeof *g);
    if (!g) HX_FAIL(HOIST_ERR_NOMEM, "out of memory creating a task group");
    g->pool = pool;
    pthread_cond_init(&g->done, NULL);
    *out = g;
    return HOIST_OK;
}

hx_status hx_task_group_submit(struct hx_task_group *group, hx_task_fn fn, void *arg) {
    struct task *t = hx_malloc(sizeof *t);
    if (!t) HX_FAIL(HOIST_ERR_NOMEM, "out of memory queueing a task");
    *t = (struct task){fn, arg, group, NULL};
    struct hx_pool *pool = group->pool;
    pthread_mutex_lock(&pool->mu);
    group->pending++;
    if (pool->tail)
        pool->tail->next = t;
    else
        pool->head = t;
    pool->tail = t;
    pthread_cond_signal(&pool->has_work);
    pthread_mutex_unlock(&pool->mu);
    return HOIST_OK;
}

void hx_task_group_wait(struct hx_task_group *group) {
    struct hx_pool *pool = group->pool;
    pthread_mutex_lock(&pool->mu);
    while (group->pending != 0) pthread_cond_wait(&group->done, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void hx_task_group_free(struct hx_task_group *group) {
    if (!group) return;
    hx_task_group_wait(group);
    pthread_cond_destroy(&group->done);
    hx_free(group);
}
