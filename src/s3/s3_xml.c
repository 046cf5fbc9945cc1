/* S3 XML responses (expat), error mapping and dates.
 * Hostile XML: any DOCTYPE (and so any entity declaration) stops the parse,
 * so no entity is ever expanded (billion laughs, external entities); depth
 * and text size are bounded; the caller bounds the document size. */
#include "s3.h"

#include <expat.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define XML_MAX_DEPTH 16
#define XML_MAX_TEXT (64 * 1024)

struct xml_walk;
/* text is NULL at the end of an element that had child elements. */
typedef hx_status (*xml_leaf_fn)(struct xml_walk *w, const char *parent, const char *name, const char *text,
                                 size_t len);

struct xml_walk {
    XML_Parser parser;
    int depth;
    char names[XML_MAX_DEPTH][64];
    int had_child[XML_MAX_DEPTH];
    struct hx_buf text;
    xml_leaf_fn leaf;
    void *ctx;
    hx_status status;
    const char *why;
};

static void stop(struct xml_walk *w, hx_status st, const char *why) {
    if (w->status == HOIST_OK) {
        w->status = st;
        w->why = why;
    }
    XML_StopParser(w->parser, XML_FALSE);
}

static const char *local_name(const char *n) {
    /* expat without namespace processing gives "prefix:name" at most */
    const char *c = strrchr(n, ':');
    return c ? c + 1 : n;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
    (void)attrs;
    struct xml_walk *w = ud;
    if (w->status != HOIST_OK) return;
    if (w->depth >= XML_MAX_DEPTH) {
        stop(w, HOIST_ERR_S3_BAD_RESPONSE, "XML nested too deeply");
        return;
    }
    if (w->depth > 0) w->had_child[w->depth - 1] = 1;
    snprintf(w->names[w->depth], sizeof w->names[0], "%s", local_name(name));
    w->had_child[w->depth] = 0;
    w->depth++;
    w->text.len = 0;
}

static void XMLCALL on_end(void *ud, const XML_Char *name) {
    (void)name;
    struct xml_walk *w = ud;
    if (w->status != HOIST_OK || w->depth == 0) return;
    w->depth--;
    const char *parent = w->depth > 0 ? w->names[w->depth - 1] : "";
    hx_status st;
    if (w->had_child[w->depth]) {
        st = w->leaf(w, parent, w->names[w->depth], NULL, 0);
    } else {
        if (w->text.data == NULL && hx_buf_reserve(&w->text, 0) != HOIST_OK) {
            stop(w, HOIST_ERR_NOMEM, "out of memory");
            return;
        }
        w->text.data[w->text.len] = '\0';
        st = w->leaf(w, parent, w->names[w->depth], w->text.data, w->text.len);
    }
    w->text.len = 0;
    if (st != HOIST_OK) stop(w, st, NULL);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
    struct xml_walk *w = ud;
    if (w->status != HOIST_OK) return;
    if (w->text.len + (size_t)len > XML_MAX_TEXT) {
        stop(w, HOIST_ERR_S3_BAD_RESPONSE, "XML text node too long");
        return;
    }
    if (hx_buf_append(&w->text, s, (size_t)len) != HOIST_OK) stop(w, HOIST_ERR_NOMEM, "out of memory");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal) {
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    stop(ud, HOIST_ERR_S3_BAD_RESPONSE, "XML with a DOCTYPE (entities are refused)");
}

static void XMLCALL on_entity(void *ud, const XML_Char *n, int pe, const XML_Char *v, int vl, const XML_Char *b,
                              const XML_Char *s, const XML_Char *p, const XML_Char *nn) {
    (void)n, (void)pe, (void)v, (void)vl, (void)b, (void)s, (void)p, (void)nn;
    stop(ud, HOIST_ERR_S3_BAD_RESPONSE, "XML entity declarations are refused");
}

static hx_status xml_walk(const char *xml, size_t len, xml_leaf_fn leaf, void *ctx, const char *what) {
    struct xml_walk w;
    memset(&w, 0, sizeof w);
    w.leaf = leaf;
    w.ctx = ctx;
    w.parser = XML_ParserCreate("UTF-8");
    HX_FAIL_IF(w.parser == NULL, HOIST_ERR_NOMEM, "out of memory creating an XML parser");
    XML_SetUserData(w.parser, &w);
    XML_SetElementHandler(w.parser, on_start, on_end);
    XML_SetCharacterDataHandler(w.parser, on_text);
    XML_SetStartDoctypeDeclHandler(w.parser, on_doctype);
    XML_SetEntityDeclHandler(w.parser, on_entity);
    XML_SetParamEntityParsing(w.parser, XML_PARAM_ENTITY_PARSING_NEVER);
    hx_status st = HOIST_OK;
    if (len > (size_t)INT32_MAX) {
        st = hx_error(HOIST_ERR_S3_BAD_RESPONSE, "%s: XML response too large", what);
    } else if (XML_Parse(w.parser, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR || w.status != HOIST_OK) {
        if (w.status != HOIST_OK && w.why == NULL)
            st = w.status; /* a leaf callback failed and set the message */
        else if (w.status != HOIST_OK)
            st = hx_error(w.status, "%s: %s", what, w.why);
        else
            st = hx_error(HOIST_ERR_S3_BAD_RESPONSE, "%s: malformed XML at line %lu: %s", what,
                          (unsigned long)XML_GetCurrentLineNumber(w.parser),
                          XML_ErrorString(XML_GetErrorCode(w.parser)));
    }
    XML_ParserFree(w.parser);
    hx_buf_reset(&w.text);
    return st;
}

/* ---- listings: ListObjectsV2 and ListMultipartUploads --------------------
 * Both answers are one walk: a root element holding IsTruncated and the
 * marker of the next page, and repeated entry elements whose children fill
 * one entry (keys URL-encoded when encoding-type=url was sent). A shape
 * table says where each child's text goes; the walk is written once. */

enum field_kind {
    F_KEY,  /* char *: decoded when the listing is URL-encoded */
    F_TEXT, /* char *: as sent */
    F_SIZE, /* uint64_t: decimal */
    F_TIME, /* int64_t: ISO 8601 */
    F_TRUE  /* int: 1 for "true" */
};

struct list_field {
    const char *parent, *name;
    enum field_kind kind;
    int in_page; /* a field of the page (offset into it), else of the current entry */
    size_t at;
};

union list_entry {
    struct hx_s3_list_item object;
    struct hx_s3_upload upload;
};

struct list_shape {
    const char *what;     /* for messages */
    const char *entry[2]; /* elements that hold one entry; kind = the index */
    const struct list_field *fields;
    size_t nfields;
    size_t truncated_at, marker_at; /* page: IsTruncated, and the marker a truncated page must have */
    const char *marker_name;
    /* Appends the entry to the page, taking what it holds, or says what it lacks. */
    hx_status (*push)(void *page, union list_entry *e, int kind);
    void (*entry_free)(union list_entry *e);
};

struct list_ctx {
    const struct list_shape *shape;
    void *page;
    int url_encoded;
    union list_entry cur;
};

static void *grow(void *items, size_t *cap, size_t elem) {
    size_t n = *cap ? *cap * 2 : 256;
    void *p = hx_realloc(items, n * elem);
    if (p) *cap = n;
    return p;
}

static char *get_str(const char *slot) {
    char *v;
    memcpy(&v, slot, sizeof v);
    return v;
}

static void set_str(char *slot, char *v) {
    hx_free(get_str(slot));
    memcpy(slot, &v, sizeof v);
}

/* Fields are reached by offset, so values go through memcpy (no
 * assumption about the slot's alignment or type beyond its size). */
static hx_status set_field(const struct list_ctx *c, const struct list_field *f, char *slot, const char *text,
                           size_t len) {
    switch (f->kind) {
    case F_KEY:
    case F_TEXT: {
        char *v;
        if (f->kind == F_KEY && c->url_encoded) {
            struct hx_buf b;
            hx_buf_init(&b);
            hx_status st = hx_s3_url_decode(&b, text, len, 1);
            if (st != HOIST_OK) {
                hx_buf_reset(&b);
                return st;
            }
            v = hx_buf_detach(&b);
        } else {
            v = hx_strndup(text, len);
        }
        HX_FAIL_IF(v == NULL, HOIST_ERR_NOMEM, "out of memory");
        set_str(slot, v);
        return HOIST_OK;
    }
    case F_SIZE: {
        char *end;
        uint64_t v = strtoull(text, &end, 10);
        HX_FAIL_IF(end == text || *end || text[0] == '-', HOIST_ERR_S3_BAD_RESPONSE, "%s: bad <%s> '%.40s'",
                   c->shape->what, f->name, text);
        memcpy(slot, &v, sizeof v);
        return HOIST_OK;
    }
    case F_TIME: {
        int64_t v = hx_s3_parse_iso8601(text);
        memcpy(slot, &v, sizeof v);
        return HOIST_OK;
    }
    case F_TRUE: {
        int v = strcmp(text, "true") == 0;
        memcpy(slot, &v, sizeof v);
        return HOIST_OK;
    }
    }
    return HOIST_OK;
}

static hx_status list_leaf(struct xml_walk *w, const char *parent, const char *name, const char *text, size_t len) {
    struct list_ctx *c = w->ctx;
    const struct list_shape *sh = c->shape;
    if (text == NULL) {
        for (int k = 0; k < 2; k++) {
            if (sh->entry[k] == NULL || strcmp(name, sh->entry[k]) != 0) continue;
            hx_status st = sh->push(c->page, &c->cur, k);
            if (st != HOIST_OK) sh->entry_free(&c->cur);
            return st;
        }
        return HOIST_OK;
    }
    for (size_t i = 0; i < sh->nfields; i++) {
        const struct list_field *f = &sh->fields[i];
        if (strcmp(name, f->name) != 0 || strcmp(parent, f->parent) != 0) continue;
        char *base = f->in_page ? (char *)c->page : (char *)&c->cur;
        return set_field(c, f, base + f->at, text, len);
    }
    return HOIST_OK;
}

/* Parses one page into `page` (entries appended; its own fields reset). */
static hx_status parse_listing(const struct list_shape *sh, const char *xml, size_t len, int url_encoded, void *page) {
    struct list_ctx c;
    memset(&c, 0, sizeof c);
    c.shape = sh;
    c.page = page;
    c.url_encoded = url_encoded;
    for (size_t i = 0; i < sh->nfields; i++) {
        const struct list_field *f = &sh->fields[i];
        if (f->in_page && (f->kind == F_KEY || f->kind == F_TEXT)) set_str((char *)page + f->at, NULL);
    }
    int no = 0;
    memcpy((char *)page + sh->truncated_at, &no, sizeof no);
    hx_status st = xml_walk(xml, len, list_leaf, &c, sh->what);
    sh->entry_free(&c.cur);
    int truncated;
    memcpy(&truncated, (char *)page + sh->truncated_at, sizeof truncated);
    const char *marker = get_str((char *)page + sh->marker_at);
    if (st == HOIST_OK && truncated && (marker == NULL || marker[0] == '\0'))
        st = hx_error(HOIST_ERR_S3_BAD_RESPONSE, "%s: truncated page without a %s", sh->what, sh->marker_name);
    return st;
}

static void object_free(union list_entry *e) {
    hx_free(e->object.key);
    hx_free(e->object.etag);
    memset(&e->object, 0, sizeof e->object);
}

static hx_status push_object(void *page, union list_entry *e, int kind) {
    struct hx_s3_list_page *p = page;
    HX_FAIL_IF(e->object.key == NULL, HOIST_ERR_S3_BAD_RESPONSE, "listing: an entry without a key");
    if (p->count == p->cap) {
        struct hx_s3_list_item *n = grow(p->items, &p->cap, sizeof *n);
        HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory listing");
        p->items = n;
    }
    e->object.is_prefix = kind == 1; /* a CommonPrefixes entry */
    p->items[p->count++] = e->object;
    memset(&e->object, 0, sizeof e->object);
    return HOIST_OK;
}

#define OBJ(f) offsetof(struct hx_s3_list_item, f)
#define LPAGE(f) offsetof(struct hx_s3_list_page, f)
static const struct list_field object_fields[] = {
    {"Contents", "Key", F_KEY, 0, OBJ(key)},
    {"Contents", "Size", F_SIZE, 0, OBJ(size)},
    {"Contents", "LastModified", F_TIME, 0, OBJ(last_modified)},
    {"Contents", "ETag", F_TEXT, 0, OBJ(etag)},
    {"CommonPrefixes", "Prefix", F_KEY, 0, OBJ(key)},
    {"ListBucketResult", "IsTruncated", F_TRUE, 1, LPAGE(is_truncated)},
    {"ListBucketResult", "NextContinuationToken", F_TEXT, 1, LPAGE(next_token)},
};
static const struct list_shape object_shape = {
    .what = "listing",
    .entry = {"Contents", "CommonPrefixes"},
    .fields = object_fields,
    .nfields = sizeof object_fields / sizeof object_fields[0],
    .truncated_at = LPAGE(is_truncated),
    .marker_at = LPAGE(next_token),
    .marker_name = "continuation token",
    .push = push_object,
    .entry_free = object_free,
};

hx_status hx_s3_parse_list(const char *xml, size_t len, int url_encoded, struct hx_s3_list_page *page) {
    return parse_listing(&object_shape, xml, len, url_encoded, page);
}

void hx_s3_list_page_reset(struct hx_s3_list_page *page) {
    for (size_t i = 0; i < page->count; i++) {
        union list_entry e = {.object = page->items[i]};
        object_free(&e);
    }
    hx_free(page->items);
    hx_free(page->next_token);
    memset(page, 0, sizeof *page);
}

static void upload_free(union list_entry *e) {
    hx_free(e->upload.key);
    hx_free(e->upload.upload_id);
    memset(&e->upload, 0, sizeof e->upload);
}

static hx_status push_upload(void *page, union list_entry *e, int kind) {
    (void)kind;
    struct hx_s3_upload_page *p = page;
    HX_FAIL_IF(e->upload.key == NULL || e->upload.upload_id == NULL, HOIST_ERR_S3_BAD_RESPONSE,
               "upload listing: an upload without a key or UploadId");
    if (p->count == p->cap) {
        struct hx_s3_upload *n = grow(p->items, &p->cap, sizeof *n);
        HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory listing uploads");
        p->items = n;
    }
    p->items[p->count++] = e->upload;
    memset(&e->upload, 0, sizeof e->upload);
    return HOIST_OK;
}

#define UPL(f) offsetof(struct hx_s3_upload, f)
#define UPAGE(f) offsetof(struct hx_s3_upload_page, f)
static const struct list_field upload_fields[] = {
    {"Upload", "Key", F_KEY, 0, UPL(key)},
    {"Upload", "UploadId", F_TEXT, 0, UPL(upload_id)},
    {"Upload", "Initiated", F_TIME, 0, UPL(initiated)},
    {"ListMultipartUploadsResult", "IsTruncated", F_TRUE, 1, UPAGE(is_truncated)},
    {"ListMultipartUploadsResult", "NextKeyMarker", F_KEY, 1, UPAGE(next_key_marker)},
    {"ListMultipartUploadsResult", "NextUploadIdMarker", F_TEXT, 1, UPAGE(next_upload_id_marker)},
};
static const struct list_shape upload_shape = {
    .what = "upload listing",
    .entry = {"Upload", NULL},
    .fields = upload_fields,
    .nfields = sizeof upload_fields / sizeof upload_fields[0],
    .truncated_at = UPAGE(is_truncated),
    .marker_at = UPAGE(next_key_marker),
    .marker_name = "NextKeyMarker",
    .push = push_upload,
    .entry_free = upload_free,
};

hx_status hx_s3_parse_uploads(const char *xml, size_t len, int url_encoded, struct hx_s3_upload_page *page) {
    return parse_listing(&upload_shape, xml, len, url_encoded, page);
}

void hx_s3_upload_page_reset(struct hx_s3_upload_page *page) {
    for (size_t i = 0; i < page->count; i++) {
        union list_entry e = {.upload = page->items[i]};
        upload_free(&e);
    }
    hx_free(page->items);
    hx_free(page->next_key_marker);
    hx_free(page->next_upload_id_marker);
    memset(page, 0, sizeof *page);
}

hx_status hx_s3_pager_next(struct hx_s3_pager *p, const char *what, const char *name, const char *marker) {
    p->pages++;
    HX_FAIL_IF(p->mark && strcmp(marker, p->mark) == 0, HOIST_ERR_S3_BAD_RESPONSE,
               "%s: the server repeated %s '%.60s' after %llu pages: the listing does not advance (a server bug), "
               "stopped",
               what, name, marker, (unsigned long long)p->pages);
    if (++p->since_mark >= p->power) {
        char *m = hx_strdup(marker);
        HX_FAIL_IF(m == NULL, HOIST_ERR_NOMEM, "%s: out of memory listing", what);
        hx_free(p->mark);
        p->mark = m;
        p->power = p->power ? p->power * 2 : 2;
        p->since_mark = 0;
    }
    return HOIST_OK;
}

void hx_s3_pager_reset(struct hx_s3_pager *p) {
    hx_free(p->mark);
    memset(p, 0, sizeof *p);
}

/* ---- errors and single elements ---------------------------------------- */

struct find_ctx {
    const char *name;
    char *found;
    int is_error_doc;
    char *code, *msg;
    size_t code_cap, msg_cap;
};

static hx_status error_leaf(struct xml_walk *w, const char *parent, const char *name, const char *text, size_t len) {
    (void)len;
    struct find_ctx *c = w->ctx;
    if (text == NULL) {
        if (strcmp(name, "Error") == 0) c->is_error_doc = 1;
        return HOIST_OK;
    }
    if (strcmp(parent, "Error") != 0) return HOIST_OK;
    c->is_error_doc = 1;
    if (strcmp(name, "Code") == 0) snprintf(c->code, c->code_cap, "%s", text);
    if (strcmp(name, "Message") == 0) snprintf(c->msg, c->msg_cap, "%s", text);
    return HOIST_OK;
}

int hx_s3_parse_error(const char *xml, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap) {
    if (code_cap) code[0] = '\0';
    if (msg_cap) msg[0] = '\0';
    if (xml == NULL || len == 0) return 0;
    struct find_ctx c = {.code = code, .msg = msg, .code_cap = code_cap, .msg_cap = msg_cap};
    /* An unparseable error body only loses detail: keep the caller's error. */
    char saved[1024];
    hx_error_copy(saved, sizeof saved);
    hx_status st = xml_walk(xml, len, error_leaf, &c, "error response");
    if (st != HOIST_OK) {
        hx_status ignored = hx_error(HOIST_OK, "%s", saved);
        (void)ignored;
    }
    return st == HOIST_OK && c.is_error_doc;
}

static hx_status find_leaf(struct xml_walk *w, const char *parent, const char *name, const char *text, size_t len) {
    (void)parent;
    struct find_ctx *c = w->ctx;
    if (text && c->found == NULL && strcmp(name, c->name) == 0) {
        c->found = hx_strndup(text, len);
        HX_FAIL_IF(c->found == NULL, HOIST_ERR_NOMEM, "out of memory");
    }
    return HOIST_OK;
}

hx_status hx_s3_xml_find(const char *xml, size_t len, const char *name, char **out) {
    struct find_ctx c = {.name = name};
    *out = NULL;
    hx_status st = xml_walk(xml, len, find_leaf, &c, name);
    if (st != HOIST_OK) {
        hx_free(c.found);
        return st;
    }
    HX_FAIL_IF(c.found == NULL, HOIST_ERR_S3_BAD_RESPONSE, "response has no <%s>", name);
    *out = c.found;
    return HOIST_OK;
}

/* ---- DeleteObjects ------------------------------------------------------ */

struct del_ctx {
    struct hx_s3_delete_error *errs;
    size_t count, cap;
    struct hx_s3_delete_error cur;
};

static hx_status del_leaf(struct xml_walk *w, const char *parent, const char *name, const char *text, size_t len) {
    struct del_ctx *c = w->ctx;
    if (text == NULL) {
        if (strcmp(name, "Error") == 0) {
            if (c->count == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct hx_s3_delete_error *n = hx_realloc(c->errs, cap * sizeof *n);
                HX_FAIL_IF(n == NULL, HOIST_ERR_NOMEM, "out of memory");
                c->errs = n;
                c->cap = cap;
            }
            c->errs[c->count++] = c->cur;
            memset(&c->cur, 0, sizeof c->cur);
        }
        return HOIST_OK;
    }
    if (strcmp(parent, "Error") != 0) return HOIST_OK;
    char **dst = strcmp(name, "Key") == 0       ? &c->cur.key
                 : strcmp(name, "Code") == 0    ? &c->cur.code
                 : strcmp(name, "Message") == 0 ? &c->cur.message
                                                : NULL;
    if (dst) {
        hx_free(*dst);
        *dst = hx_strndup(text, len);
        HX_FAIL_IF(*dst == NULL, HOIST_ERR_NOMEM, "out of memory");
    }
    return HOIST_OK;
}

hx_status hx_s3_parse_delete(const char *xml, size_t len, struct hx_s3_delete_error **errors, size_t *count) {
    struct del_ctx c;
    memset(&c, 0, sizeof c);
    hx_status st = xml_walk(xml, len, del_leaf, &c, "delete response");
    hx_free(c.cur.key);
    hx_free(c.cur.code);
    hx_free(c.cur.message);
    if (st != HOIST_OK) {
        hx_s3_delete_errors_free(c.errs, c.count);
        *errors = NULL;
        *count = 0;
        return st;
    }
    *errors = c.errs;
    *count = c.count;
    return HOIST_OK;
}

void hx_s3_delete_errors_free(struct hx_s3_delete_error *errors, size_t count) {
    for (size_t i = 0; i < count; i++) {
        hx_free(errors[i].key);
        hx_free(errors[i].code);
        hx_free(errors[i].message);
    }
    hx_free(errors);
}

hx_status hx_s3_xml_escape(struct hx_buf *out, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': HX_TRY(hx_buf_append_str(out, "&amp;")); break;
        case '<': HX_TRY(hx_buf_append_str(out, "&lt;")); break;
        case '>': HX_TRY(hx_buf_append_str(out, "&gt;")); break;
        case '"': HX_TRY(hx_buf_append_str(out, "&quot;")); break;
        case '\'': HX_TRY(hx_buf_append_str(out, "&apos;")); break;
        case '\t':
        case '\n':
        case '\r': HX_TRY(hx_buf_printf(out, "&#x%X;", *p)); break;
        default:
            if (*p < 0x20) HX_FAIL(HOIST_ERR_BAD_URL, "key has a control character XML cannot carry");
            HX_TRY(hx_buf_append(out, p, 1));
        }
    }
    return HOIST_OK;
}

/* ---- error mapping (AWS "Error responses" list; ErrorBestPractices) ----- */

hx_status hx_s3_status_for(long http, const char *code) {
    static const struct {
        const char *code;
        hx_status st;
    } map[] = {
        {"NoSuchKey", HOIST_ERR_S3_NO_SUCH_KEY},
        {"NoSuchBucket", HOIST_ERR_S3_NO_SUCH_BUCKET},
        {"AccessDenied", HOIST_ERR_S3_ACCESS_DENIED},
        {"AllAccessDisabled", HOIST_ERR_S3_ACCESS_DENIED},
        {"AccountProblem", HOIST_ERR_S3_ACCESS_DENIED},
        {"SignatureDoesNotMatch", HOIST_ERR_S3_BAD_SIGNATURE},
        {"InvalidAccessKeyId", HOIST_ERR_S3_BAD_SIGNATURE},
        {"InvalidToken", HOIST_ERR_S3_BAD_SIGNATURE},
        {"ExpiredToken", HOIST_ERR_S3_BAD_SIGNATURE},
        {"TokenRefreshRequired", HOIST_ERR_S3_BAD_SIGNATURE},
        {"AuthorizationHeaderMalformed", HOIST_ERR_S3_BAD_SIGNATURE},
        {"RequestTimeTooSkewed", HOIST_ERR_S3_BAD_SIGNATURE},
        {"InvalidRange", HOIST_ERR_S3_INVALID_RANGE},
        {"SlowDown", HOIST_ERR_S3_SLOW_DOWN},
        {"Throttling", HOIST_ERR_S3_SLOW_DOWN},
        {"ThrottlingException", HOIST_ERR_S3_SLOW_DOWN},
        {"ServiceUnavailable", HOIST_ERR_S3_SLOW_DOWN},
        {"InternalError", HOIST_ERR_S3_SERVER},
        {"RequestTimeout", HOIST_ERR_S3_TIMEOUT},
        {"PreconditionFailed", HOIST_ERR_S3_PRECONDITION},
        {"BucketNotEmpty", HOIST_ERR_S3_BUCKET_NOT_EMPTY},
        {"BucketAlreadyExists", HOIST_ERR_S3_BUCKET_EXISTS},
        {"BucketAlreadyOwnedByYou", HOIST_ERR_S3_BUCKET_EXISTS},
        {"InvalidBucketName", HOIST_ERR_BAD_URL},
        {"KeyTooLongError", HOIST_ERR_BAD_URL},
        {"XAmzContentSHA256Mismatch", HOIST_ERR_S3_BAD_RESPONSE},
        {"BadDigest", HOIST_ERR_S3_BAD_RESPONSE},
        {"InvalidDigest", HOIST_ERR_S3_BAD_RESPONSE},
    };
    if (code && code[0]) {
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcmp(map[i].code, code) == 0) return map[i].st;
    }
    switch (http) {
    case 404: return HOIST_ERR_S3_NO_SUCH_KEY;
    case 403: return HOIST_ERR_S3_ACCESS_DENIED;
    case 416: return HOIST_ERR_S3_INVALID_RANGE;
    case 412: return HOIST_ERR_S3_PRECONDITION;
    case 503: return HOIST_ERR_S3_SLOW_DOWN;
    default: break;
    }
    if (http >= 500) return HOIST_ERR_S3_SERVER;
    if (code && code[0]) return HOIST_ERR_S3_OTHER;
    return HOIST_ERR_HTTP;
}

int hx_s3_transient(long http, const char *code) {
    static const char *const transient[] = {"SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable",
                                            "Throttling", "ThrottlingException", "ConditionalRequestConflict",
                                            "OperationAborted", "PriorRequestNotComplete", "RequestThrottled",
                                            /* the body was damaged on the way: sending it again fixes it */
                                            "BadDigest", "XAmzContentSHA256Mismatch"};
    if (code && code[0]) {
        for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
            if (strcmp(transient[i], code) == 0) return 1;
    }
    return http == 500 || http == 502 || http == 503 || http == 504 || http == 429;
}

/* ---- dates --------------------------------------------------------------- */

static int num(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int64_t hx_s3_parse_iso8601(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, se;
    if (strlen(s) < 19 || !num(s, 4, &y) || s[4] != '-' || !num(s + 5, 2, &mo) || s[7] != '-' || !num(s + 8, 2, &d) ||
        s[10] != 'T' || !num(s + 11, 2, &h) || !num(s + 14, 2, &mi) || !num(s + 17, 2, &se))
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

int64_t hx_s3_parse_http_date(const char *s) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    const char *c = strchr(s, ',');
    if (c == NULL) return 0;
    c++;
    while (*c == ' ') c++;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int d, y, h, mi, se;
    if (strlen(c) < 20 || !num(c, 2, &d) || !num(c + 7, 4, &y) || !num(c + 12, 2, &h) || !num(c + 15, 2, &mi) ||
        !num(c + 18, 2, &se))
        return 0;
    const char *m = NULL;
    for (int i = 0; i < 12; i++)
        if (strncmp(months + 3 * i, c + 3, 3) == 0) m = months + 3 * i;
    if (m == NULL) return 0;
    tm.tm_mday = d;
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_year = y - 1900;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

/* ---- GetObjectAttributes (ETag, ObjectParts) ------------------------------ */

struct parts_ctx {
    uint64_t *sizes;
    int cap;
    struct hx_s3_object_parts *out;
    long number; /* of the <Part> being read, -1 before its <PartNumber> */
    uint64_t size;
    int has_size;
};

static int parse_count(const char *text, long max, long *v) {
    char *end;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < 0 || n > max) return 0;
    *v = n;
    return 1;
}

static hx_status parts_leaf(struct xml_walk *w, const char *parent, const char *name, const char *text, size_t len) {
    struct parts_ctx *c = w->ctx;
    long v;
    if (text == NULL) {
        if (strcmp(name, "Part") != 0) return HOIST_OK;
        HX_FAIL_IF(c->number < 1 || c->number > c->cap || !c->has_size, HOIST_ERR_S3_BAD_RESPONSE,
                   "GetObjectAttributes: a <Part> numbered %ld (of %d) or without a <Size>", c->number, c->cap);
        c->sizes[c->number - 1] = c->size;
        c->out->listed++;
        c->number = -1;
        c->has_size = 0;
        return HOIST_OK;
    }
    if (strcmp(parent, "Part") == 0) {
        if (strcmp(name, "PartNumber") == 0) {
            HX_FAIL_IF(!parse_count(text, 10000, &c->number), HOIST_ERR_S3_BAD_RESPONSE,
                       "GetObjectAttributes: bad <PartNumber> '%.40s'", text);
        } else if (strcmp(name, "Size") == 0) {
            char *end;
            c->size = strtoull(text, &end, 10);
            HX_FAIL_IF(end == text || *end || text[0] == '-', HOIST_ERR_S3_BAD_RESPONSE,
                       "GetObjectAttributes: bad <Size> '%.40s'", text);
            c->has_size = 1;
        }
    } else if (strcmp(parent, "ObjectParts") == 0) {
        if (strcmp(name, "PartsCount") == 0 || strcmp(name, "TotalPartsCount") == 0) {
            HX_FAIL_IF(!parse_count(text, 10000, &v), HOIST_ERR_S3_BAD_RESPONSE,
                       "GetObjectAttributes: bad <%s> '%.40s'", name, text);
            c->out->parts_count = (int)v;
        } else if (strcmp(name, "IsTruncated") == 0) {
            c->out->is_truncated = strcmp(text, "true") == 0;
        } else if (strcmp(name, "NextPartNumberMarker") == 0) {
            HX_FAIL_IF(!parse_count(text, 10000, &v), HOIST_ERR_S3_BAD_RESPONSE,
                       "GetObjectAttributes: bad <NextPartNumberMarker> '%.40s'", text);
            c->out->next_marker = (int)v;
        }
    } else if (strcmp(name, "ETag") == 0 && strcmp(parent, "GetObjectAttributesResponse") == 0) {
        /* unquoted here, quoted in GET answers */
        const char *s = text;
        size_t n = len;
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"') s++, n -= 2;
        snprintf(c->out->etag, sizeof c->out->etag, "%.*s", (int)n, s);
    }
    return HOIST_OK;
}

hx_status hx_s3_parse_object_parts(const char *xml, size_t len, uint64_t *sizes, int cap,
                                   struct hx_s3_object_parts *out) {
    memset(out, 0, sizeof *out);
    struct parts_ctx c = {.sizes = sizes, .cap = cap, .out = out, .number = -1};
    return xml_walk(xml, len, parts_leaf, &c, "GetObjectAttributes");
}
