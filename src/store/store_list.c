/* The streaming listing (hoist_store_list_open/next/close): one page of
 * entries in memory at a time, however many keys the prefix holds, so
 * `hoist ls` and `hoist rm -r` of 10 million keys need no 10-million-entry
 * array. Backends without pages (file://) are listed in one go and handed
 * out from that list. */
#include "store_internal.h"

#include <string.h>

struct hoist_list_iter {
    struct hoist_store *st;
    const struct hx_store_backend *be;
    char *prefix_url;
    struct hx_url u;
    int recursive;
    struct hoist_list page; /* the entries in hand */
    size_t next;            /* index of the next entry to hand out */
    char *token;            /* the next page's continuation token */
    int last_page;          /* no page after this one */
};

hx_status hoist_store_list_open(struct hoist_store *st, const char *prefix, int recursive,
                                struct hoist_list_iter **out) {
    HX_FAIL_IF(out == NULL, HOIST_ERR_INVALID_ARG, "list_open: out is NULL");
    *out = NULL;
    HX_FAIL_IF(st == NULL || prefix == NULL, HOIST_ERR_INVALID_ARG, "list_open: NULL argument");
    struct hoist_list_iter *it = hx_calloc(1, sizeof *it);
    HX_FAIL_IF(it == NULL, HOIST_ERR_NOMEM, "out of memory");
    it->st = st;
    it->recursive = recursive != 0;
    hx_status s = hx_store_parse_url(prefix, &it->u);
    if (s == HOIST_OK && (it->prefix_url = hx_strdup(prefix)) == NULL) s = hx_error(HOIST_ERR_NOMEM, "out of memory");
    if (s == HOIST_OK && (it->be = hx_store_backend_for(it->u.kind)) == NULL)
        s = hx_error(HOIST_ERR_BAD_URL, "%s: cannot be listed", prefix);
    if (s == HOIST_OK && it->be->list_page == NULL) {
        /* One go: the backend's list of this one prefix. */
        const char *const prefixes[1] = {it->prefix_url};
        s = it->be->list(st, prefixes, 1, &it->u, it->recursive, &it->page);
        it->last_page = 1;
    }
    if (s != HOIST_OK) {
        hoist_store_list_close(it);
        return s;
    }
    *out = it;
    hx_error_clear();
    return HOIST_OK;
}

hx_status hoist_store_list_next(struct hoist_list_iter *it, const struct hoist_list_entry **entry) {
    HX_FAIL_IF(entry == NULL, HOIST_ERR_INVALID_ARG, "list_next: entry is NULL");
    *entry = NULL;
    HX_FAIL_IF(it == NULL, HOIST_ERR_INVALID_ARG, "list_next: NULL iterator");
    /* Empty pages can come before the last one (a page of only deleted
     * markers on some servers): keep asking until entries or the end. */
    while (it->next == it->page.count && !it->last_page) {
        hoist_store_list_reset(&it->page);
        it->next = 0;
        HX_TRY(it->be->list_page(it->st, it->prefix_url, &it->u, it->recursive, &it->token, &it->page));
        it->last_page = it->token == NULL;
    }
    if (it->next < it->page.count) *entry = &it->page.entries[it->next++];
    hx_error_clear();
    return HOIST_OK;
}

void hoist_store_list_close(struct hoist_list_iter *it) {
    if (it == NULL) return;
    hoist_store_list_reset(&it->page);
    hx_url_reset(&it->u);
    hx_free(it->prefix_url);
    hx_free(it->token);
    hx_free(it);
}
