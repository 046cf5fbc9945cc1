/* Status text, status classes and the thread-local error message
 * (sqlite3_errmsg model). */
#include "util_internal.h"

#include <stdio.h>
#include <string.h>

#define HX_ERRMSG_CAP 1024

static _Thread_local char errmsg[HX_ERRMSG_CAP];

const char *hoist_strerror(enum hoist_status status) {
    switch (status) {
    case HOIST_OK: return "ok";
    case HOIST_ERR_NOMEM: return "out of memory";
    case HOIST_ERR_INVALID_ARG: return "invalid argument";
    case HOIST_ERR_IO: return "local I/O error";
    case HOIST_ERR_UNSUPPORTED: return "not supported";
    case HOIST_ERR_CANCELLED: return "cancelled";
    case HOIST_ERR_INTERNAL: return "internal error";
    case HOIST_ERR_LIMIT: return "limit exceeded";
    case HOIST_ERR_USAGE: return "usage error";
    case HOIST_ERR_NOT_FOUND: return "not found";
    case HOIST_ERR_EXISTS: return "already exists";
    case HOIST_ERR_NET: return "network error";
    case HOIST_ERR_TLS: return "TLS error";
    case HOIST_ERR_HTTP: return "unexpected HTTP response";
    case HOIST_ERR_S3_NO_SUCH_KEY: return "no such key";
    case HOIST_ERR_S3_NO_SUCH_BUCKET: return "no such bucket";
    case HOIST_ERR_S3_ACCESS_DENIED: return "access denied";
    case HOIST_ERR_S3_BAD_SIGNATURE: return "authentication refused (signature, access key or token)";
    case HOIST_ERR_S3_INVALID_RANGE: return "invalid range";
    case HOIST_ERR_S3_SLOW_DOWN: return "server asked to slow down";
    case HOIST_ERR_S3_SERVER: return "server error";
    case HOIST_ERR_S3_TIMEOUT: return "request timed out";
    case HOIST_ERR_S3_PRECONDITION: return "precondition failed (object exists)";
    case HOIST_ERR_S3_BAD_RESPONSE: return "malformed or corrupted response";
    case HOIST_ERR_BAD_URL: return "bad URL";
    case HOIST_ERR_CREDENTIALS: return "credentials error";
    case HOIST_ERR_UNSAFE_KEY: return "unsafe key";
    case HOIST_ERR_S3_BUCKET_NOT_EMPTY: return "bucket not empty";
    case HOIST_ERR_S3_BUCKET_EXISTS: return "bucket already exists";
    case HOIST_ERR_S3_OTHER: return "S3 error";
    case HOIST_ERR_PARQUET_CORRUPT: return "corrupt Parquet file";
    case HOIST_ERR_PARQUET_UNSUPPORTED: return "unsupported Parquet feature";
    case HOIST_ERR_PARQUET_ENCRYPTED: return "encrypted Parquet is not supported";
    case HOIST_ERR_PARQUET_CHECKSUM: return "Parquet page checksum mismatch";
    case HOIST_ERR_PARQUET_NOT_PARQUET: return "not a Parquet file";
    case HOIST_ERR_COLUMN_NOT_FOUND: return "column not found";
    case HOIST_ERR_CSV_PARSE: return "CSV parse error";
    case HOIST_ERR_ARROW_INVALID: return "invalid Arrow data";
    case HOIST_ERR_ARROW_TYPE: return "unsupported Arrow type";
    case HOIST_ERR_SCHEMA_MISMATCH: return "schema mismatch";
    case HOIST_ERR_FILTER: return "invalid filter";
    case HOIST_ERR_EMPTY_DATASET: return "empty dataset";
    case HOIST_ERR_ICEBERG_CORRUPT: return "corrupt Iceberg metadata";
    }
    return "unknown status";
}

/* One class per status (hoist.h): the exact code says which case, the
 * class says how to react. No default, so -Wswitch flags a new status that
 * was given no class. */
enum hoist_status_class hoist_status_class(enum hoist_status status) {
    switch (status) {
    case HOIST_OK: return HOIST_CLASS_OK;
    case HOIST_ERR_NOT_FOUND:
    case HOIST_ERR_S3_NO_SUCH_KEY:
    case HOIST_ERR_S3_NO_SUCH_BUCKET:
    case HOIST_ERR_COLUMN_NOT_FOUND:
    case HOIST_ERR_EMPTY_DATASET: return HOIST_CLASS_NOT_FOUND;
    case HOIST_ERR_S3_ACCESS_DENIED:
    case HOIST_ERR_S3_BAD_SIGNATURE:
    case HOIST_ERR_CREDENTIALS:
    case HOIST_ERR_TLS: return HOIST_CLASS_ACCESS;
    case HOIST_ERR_INVALID_ARG:
    case HOIST_ERR_USAGE:
    case HOIST_ERR_BAD_URL:
    case HOIST_ERR_UNSAFE_KEY:
    case HOIST_ERR_S3_INVALID_RANGE:
    case HOIST_ERR_FILTER:
    case HOIST_ERR_ARROW_INVALID:
    case HOIST_ERR_SCHEMA_MISMATCH: return HOIST_CLASS_INVALID_INPUT;
    case HOIST_ERR_PARQUET_CORRUPT:
    case HOIST_ERR_ICEBERG_CORRUPT:
    case HOIST_ERR_PARQUET_CHECKSUM:
    case HOIST_ERR_PARQUET_NOT_PARQUET:
    case HOIST_ERR_CSV_PARSE:
    case HOIST_ERR_S3_BAD_RESPONSE: return HOIST_CLASS_CORRUPT_DATA;
    case HOIST_ERR_NET:
    case HOIST_ERR_S3_SLOW_DOWN:
    case HOIST_ERR_S3_SERVER:
    case HOIST_ERR_S3_TIMEOUT: return HOIST_CLASS_TRANSIENT;
    case HOIST_ERR_CANCELLED: return HOIST_CLASS_CANCELLED;
    case HOIST_ERR_NOMEM:
    case HOIST_ERR_LIMIT: return HOIST_CLASS_RESOURCE;
    case HOIST_ERR_UNSUPPORTED:
    case HOIST_ERR_PARQUET_UNSUPPORTED:
    case HOIST_ERR_PARQUET_ENCRYPTED:
    case HOIST_ERR_ARROW_TYPE: return HOIST_CLASS_UNSUPPORTED;
    case HOIST_ERR_EXISTS:
    case HOIST_ERR_S3_PRECONDITION:
    case HOIST_ERR_S3_BUCKET_EXISTS:
    case HOIST_ERR_S3_BUCKET_NOT_EMPTY: return HOIST_CLASS_EXISTS;
    case HOIST_ERR_INTERNAL: return HOIST_CLASS_INTERNAL;
    case HOIST_ERR_IO: return HOIST_CLASS_IO;
    case HOIST_ERR_HTTP:
    case HOIST_ERR_S3_OTHER: return HOIST_CLASS_REMOTE;
    }
    return HOIST_CLASS_INTERNAL;
}

const char *hoist_status_class_name(enum hoist_status_class cls) {
    switch (cls) {
    case HOIST_CLASS_OK: return "ok";
    case HOIST_CLASS_NOT_FOUND: return "not_found";
    case HOIST_CLASS_ACCESS: return "access";
    case HOIST_CLASS_INVALID_INPUT: return "invalid_input";
    case HOIST_CLASS_CORRUPT_DATA: return "corrupt_data";
    case HOIST_CLASS_TRANSIENT: return "transient";
    case HOIST_CLASS_CANCELLED: return "cancelled";
    case HOIST_CLASS_RESOURCE: return "resource";
    case HOIST_CLASS_UNSUPPORTED: return "unsupported";
    case HOIST_CLASS_EXISTS: return "exists";
    case HOIST_CLASS_INTERNAL: return "internal";
    case HOIST_CLASS_IO: return "io";
    case HOIST_CLASS_REMOTE: return "remote";
    }
    return "unknown";
}

const char *hoist_errmsg(void) { return errmsg; }

const char *hoist_version(void) { return HOIST_VERSION_STRING; }

hx_status hx_errorv(hx_status status, const char *fmt, va_list ap) {
    int n = vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    if (n < 0) errmsg[0] = '\0';
    hx_log(HOIST_LOG_DEBUG, "error %d (%s): %s", (int)status, hoist_strerror(status), errmsg);
    return status;
}

hx_status hx_error(hx_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hx_status s = hx_errorv(status, fmt, ap);
    va_end(ap);
    return s;
}

hx_status hx_error_prefix(hx_status status, const char *fmt, ...) {
    char prefix[512];
    char old[HX_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0) return status;
    memcpy(old, errmsg, sizeof old);
    if (old[0] == '\0')
        snprintf(errmsg, sizeof errmsg, "%s: %s", prefix, hoist_strerror(status));
    else
        snprintf(errmsg, sizeof errmsg, "%s: %s", prefix, old);
    return status;
}

void hx_error_clear(void) { errmsg[0] = '\0'; }

void hx_error_copy(char *buf, size_t cap) {
    if (cap == 0) return;
    snprintf(buf, cap, "%s", errmsg);
}
