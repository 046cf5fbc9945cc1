/*
 * net.h — the net module's interface (the s3 and store layers include it):
 * the HTTP engine: one libcurl multi handle per call
 * (an event loop), many requests in flight, retries with capped full-jitter
 * backoff, bodies written straight to where they live.
 *
 * Threads: a struct hx_net is shared by every thread of a client (DNS cache
 * and TLS sessions in a locked CURLSH; keep-alive connections in a pool of
 * idle multi handles, so they are reused across calls). A struct hx_net_loop
 * belongs to the one thread that runs it; every callback of a request runs
 * on that thread, inside hx_net_loop_run().
 *
 * Ownership: requests are owned by the caller of hx_net_loop_submit(), which
 * keeps them alive until their on_done returned HX_NET_DONE (or the loop was
 * cancelled or finished).
 */
#ifndef HOIST_NET_H
#define HOIST_NET_H

#include "util_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

struct hx_net_config {
    int concurrency;        /* requests in flight per loop (>= 1) */
    int connect_timeout_s;  /* TCP+TLS connect */
    int stall_timeout_s;    /* no bytes for this long: the transfer fails (then retried) */
    int64_t min_rate;       /* bytes/s: an attempt gets stall_timeout_s + (its request body + 64 KiB for the
                               response head + a 2xx body landing in memory or a file) / min_rate seconds,
                               then fails as a timeout (then retried); XML bodies are exempt; 0: no limit */
    int max_retries;        /* attempts after the first */
    int verify_tls;         /* 0 disables certificate checks (explicit option only) */
    const char *ca_file;    /* PEM bundle to trust instead of the system's, or NULL (borrowed: outlives the net) */
    int inject_failure_pct; /* tests: this % of first attempts fail before sending (a retried send error) */
};

/* An idle event loop's multi handle with its connection cache and easy
 * handles, kept for the next call. */
struct hx_net_idle_multi {
    CURLM *multi;
    CURL **idle;
    int nidle;
};
#define HX_NET_POOL 8

struct hx_net {
    struct hx_net_config cfg;
    /* DNS and TLS sessions are shared through a locked CURLSH. Connections
     * are not: libcurl does not support one connection cache used by
     * concurrent threads, so each call takes a multi handle (and with it a
     * connection cache of keep-alive connections) from this pool and gives
     * it back at the end: sequential calls reuse warm connections, and
     * concurrent calls each get their own. */
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    struct hx_net_idle_multi pool[HX_NET_POOL];
    int npool;
    _Atomic uint64_t bytes_received, bytes_sent, requests, retries;
};

HOIST_NODISCARD hx_status hx_net_new(const struct hx_net_config *cfg, struct hx_net **out);
void hx_net_free(struct hx_net *net);

/* Where a 2xx response body goes. */
enum hx_sink {
    HX_SINK_NONE = 0, /* body discarded (HEAD, DELETE, PUT responses) */
    HX_SINK_MEM = 1,  /* sink_mem[sink_off + i] */
    HX_SINK_FD = 2,   /* pwrite(sink_fd, ..., sink_off + i) */
    HX_SINK_BUF = 3   /* appended to `body` (XML responses), capped at body_cap */
};

enum hx_net_action { HX_NET_DONE = 0, HX_NET_RETRY = 1 };

/* The HTTP headers net itself needs of the last response. Strings are
 * truncated at their capacity (none of them is ever that long from a sane
 * server). Other headers reach the request's on_header_line hook. */
struct hx_net_resp {
    long status;
    int64_t content_length;                      /* -1 if absent */
    int64_t range_start, range_end, range_total; /* Content-Range; -1 if absent */
    char etag[136];
    char content_type[256];
    char last_modified[64];
    int headers_done;
};

struct hx_net_req;
typedef hx_status (*hx_net_prepare_fn)(struct hx_net_req *req);
/* Sees every response header line: name (as sent, not NUL-terminated) and
 * value (trimmed), or name NULL when a new response starts (after a
 * 100 Continue or on a retry), so the owner can forget the last one. Runs on
 * the loop thread; a non-OK status aborts the transfer with it. */
typedef hx_status (*hx_net_header_fn)(void *ctx, const char *name, size_t name_len, const char *value,
                                      size_t value_len);
typedef hx_status (*hx_net_headers_fn)(struct hx_net_req *req);
typedef enum hx_net_action (*hx_net_done_fn)(struct hx_net_req *req, CURLcode code);
typedef void (*hx_net_stored_fn)(struct hx_net_req *req);

struct hx_net_req {
    /* Set by prepare() before every attempt: method, url, headers. */
    const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    struct hx_buf url;  /* NUL-terminated */
    struct curl_slist *headers;

    /* Request body (PUT/POST), read from memory. */
    const uint8_t *body_data;
    uint64_t body_len;
    int has_body;

    /* Response sink for 2xx bodies. */
    enum hx_sink sink;
    uint8_t *sink_mem;
    int sink_fd;
    uint64_t sink_off;    /* where byte 0 of the body lands */
    uint64_t sink_cap;    /* max body bytes stored (MEM/FD); more is a bad response */
    uint64_t sink_skip;   /* leading body bytes to drop (server ignored a Range) */
    int sink_lenient;     /* 1: bytes past sink_cap are dropped, not an error */
    int sink_stop_at_cap; /* 1: end the transfer successfully once sink_cap bytes are stored */
    int stopped_early;    /* set when sink_stop_at_cap ended the transfer */
    size_t body_cap;      /* HX_SINK_BUF limit */
    int big_body;         /* set by prepare: the 2xx body may be large, though its sink is settled only
                             in on_headers (a GET that learns the size) */
    struct hx_buf body;   /* HX_SINK_BUF body, or the error body of a non-2xx */
    uint64_t received;    /* body bytes seen this attempt (including skipped) */
    uint64_t stored;      /* bytes written to the sink this attempt */
    uint64_t sent;        /* request body bytes handed to libcurl this attempt */

    /* CRC of the stored bytes, when on_headers asked for it (crc_kind). */
    int crc_kind; /* enum hx_crc_kind: 0 none, 1 CRC32C, 2 CRC32, 3 CRC64NVME */
    uint64_t crc;

    struct hx_net_resp resp;
    hx_status abort_status; /* set when prepare or a callback aborted the transfer */
    int body_too_long;      /* the body overran body_cap or sink_cap: net stopped it (abort_msg says) */
    char abort_msg[256];

    hx_net_prepare_fn prepare;
    hx_net_header_fn on_header_line; /* optional: every header, with header_ctx */
    void *header_ctx;
    hx_net_headers_fn on_headers; /* after the headers of a 2xx response */
    /* Optional: once stored reaches on_stored_at (a MEM/FD sink), inside the
     * write callback, so even a stream read whole in one libcurl call is
     * seen midway. It may move on_stored_at on (or clear on_stored) and
     * lower sink_cap to no less than stored. Set by the owner per attempt. */
    hx_net_stored_fn on_stored;
    uint64_t on_stored_at;
    hx_net_done_fn on_done;
    void *owner;
    int must_finish; /* on cancel, let this transfer complete (its on_done runs) */
    int attempt;     /* 0 for the first try */
    int max_retries; /* copied from the config by submit; callers may lower it */

    /* loop-private */
    struct hx_net_loop *loop;
    struct hx_net_req *next;
    double not_before;
    double started; /* when this attempt started (the min_rate deadline counts from it) */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
};

/* Frees what the request holds (url, headers, body buffers); not the struct. */
void hx_net_req_cleanup(struct hx_net_req *req);
/* Resets per-attempt response state (called by the loop before each attempt). */
void hx_net_req_reset_response(struct hx_net_req *req);

struct hx_net_loop;
/* Called once per loop iteration; non-zero cancels the loop. */
typedef int (*hx_net_tick_fn)(struct hx_net_loop *loop, void *userdata);

struct hx_net_loop {
    struct hx_net *net;
    CURLM *multi;
    struct hx_net_req *queue_head, *queue_tail; /* ready to start */
    struct hx_net_req *waiting;                 /* backing off (unsorted) */
    int running;
    int concurrency;
    struct hx_net_req **active; /* in flight, `running` of them */
    CURL **idle;                /* easy handles kept for reuse */
    int nidle;
    uint64_t bytes_in, bytes_out;
    hx_net_tick_fn tick;
    void *tick_data;
    int cancelled;
};

HOIST_NODISCARD hx_status hx_net_loop_init(struct hx_net_loop *loop, struct hx_net *net);
void hx_net_loop_cleanup(struct hx_net_loop *loop);
/* Queues a request (at the back, or at the front when urgent: parts of an
 * object already started go first, so objects finish in order and memory and
 * open files stay bounded). */
void hx_net_loop_submit(struct hx_net_loop *loop, struct hx_net_req *req, int urgent);
/* Runs until no request is queued, backing off or in flight.
 * HOIST_ERR_CANCELLED when tick asked to stop (in-flight transfers are then
 * dropped without calling on_done, except must_finish ones, which complete
 * first with loop->cancelled set; retries are not started), else HOIST_OK:
 * per-request results are delivered through on_done. */
HOIST_NODISCARD hx_status hx_net_loop_run(struct hx_net_loop *loop);

/* Backoff before retry `attempt` (1-based): full jitter over
 * min(cap, base * 2^attempt) (AWS architecture blog "Exponential Backoff And
 * Jitter"; aws-c-io uses the same with a 25 ms scale). */
double hx_net_backoff_seconds(int attempt);

/* True while the request has retries left (on_done uses it before asking
 * for HX_NET_RETRY). */
static inline int hx_net_can_retry(const struct hx_net_req *req) { return req->attempt < req->max_retries; }

/* CRC32C (Castagnoli) of data, continuing from crc (0 to start). */
uint32_t hx_crc32c_update(uint32_t crc, const void *data, size_t n);

/* True for transport errors worth retrying (resets, timeouts, stalls,
 * truncated bodies); false for misconfiguration (bad host, TLS, bad URL). */
int hx_net_curl_transient(CURLcode code);

#endif /* HOIST_NET_H */
