/* The process-wide credential cache against tests/s3/cred_standin.py (an
 * IMDSv2 stand-in handing out real moto STS sessions, an S3 relay in front
 * of moto's S3 that can answer ExpiredToken): many threads and clients, one
 * fetch; refresh ahead of expiry while the others keep signing; an
 * ExpiredToken answer refreshes and retries. Every check ends in a real S3
 * request that moto authenticates. */
#include "s3_cred.h"
#include "store_internal.h"
#include "test_harness.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char moto_url[128], standin_url[128], relay_url[128], user_key[128], user_secret[128], role_arn[128];
static pid_t standin_pid;
static int standin_stdin = -1;

/* Starts the stand-in; 0 when Python or moto is missing (the test skips). */
static int start_standin(void) {
    const char *src = getenv("HOIST_SOURCE_DIR");
    char py[1024], script[1024];
    snprintf(py, sizeof py, "%s/.venv/bin/python", src ? src : ".");
    snprintf(script, sizeof script, "%s/tests/s3/cred_standin.py", src ? src : ".");
    if (access(py, X_OK) != 0) return 0;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {py, script, NULL};
    int rc = posix_spawn(&standin_pid, py, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0) return 0;
    standin_stdin = in[1];
    FILE *f = fdopen(out[0], "r");
    char line[4096];
    int ok = f && fgets(line, sizeof line, f) != NULL;
    if (f) fclose(f);
    if (!ok) return 0;
    json_t *j = json_loads(line, 0, NULL);
    if (j == NULL) return 0;
    snprintf(moto_url, sizeof moto_url, "%s", json_string_value(json_object_get(j, "moto")));
    snprintf(standin_url, sizeof standin_url, "%s", json_string_value(json_object_get(j, "standin")));
    snprintf(relay_url, sizeof relay_url, "%s", json_string_value(json_object_get(j, "s3_relay")));
    snprintf(user_key, sizeof user_key, "%s", json_string_value(json_object_get(j, "user_key")));
    snprintf(user_secret, sizeof user_secret, "%s", json_string_value(json_object_get(j, "user_secret")));
    snprintf(role_arn, sizeof role_arn, "%s", json_string_value(json_object_get(j, "role_arn")));
    json_decref(j);
    return 1;
}

static void stop_standin(void) {
    if (standin_stdin >= 0) close(standin_stdin); /* it exits when stdin closes */
    int st;
    if (standin_pid > 0) waitpid(standin_pid, &st, 0);
}

static void standin_post(const char *path, const char *json) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", standin_url, path);
    struct hx_buf b;
    hx_buf_init(&b);
    long status = 0;
    CHECK_EQ_INT(hx_s3_cred_http("POST", url, NULL, json, 5000, 65536, &status, &b), HOIST_OK);
    CHECK_EQ_INT(status, 200);
    hx_buf_reset(&b);
}

/* counts[name] from the stand-in; issued: how many keys it handed out. */
static long standin_count(const char *name, long *issued) {
    char url[256];
    snprintf(url, sizeof url, "%s/_count", standin_url);
    struct hx_buf b;
    hx_buf_init(&b);
    long status = 0, n = -1;
    if (hx_s3_cred_http("GET", url, NULL, NULL, 5000, 1 << 20, &status, &b) == HOIST_OK && status == 200) {
        json_t *j = json_loads(b.data, 0, NULL);
        json_t *v = json_object_get(json_object_get(j, "counts"), name);
        n = json_is_integer(v) ? (long)json_integer_value(v) : 0;
        if (issued) *issued = (long)json_array_size(json_object_get(j, "issued"));
        json_decref(j);
    }
    hx_buf_reset(&b);
    return n;
}

/* Frees what a call put into an item (by hand: the reset helpers' public
 * names are being renamed on main). */
static void free_info(struct hoist_object_info *in) {
    hoist_free(in->url);
    hoist_free(in->etag);
    hoist_free(in->content_type);
    hoist_free(in->metadata_json);
    hoist_free(in->encryption);
    memset(in, 0, sizeof *in);
}
static void free_info_item(struct hoist_info_item *it) {
    hoist_free(it->error);
    it->error = NULL;
    free_info(&it->info);
}

/* One HEAD of s3://hoist-cred/hello.txt through a new client; its status. */
static enum hoist_status head_hello(void) {
    struct hoist_store *st = NULL;
    enum hoist_status s = hoist_store_new(NULL, &st);
    if (s != HOIST_OK) return s;
    struct hoist_info_item it;
    memset(&it, 0, sizeof it);
    it.url = "s3://hoist-cred/hello.txt";
    s = hoist_store_info_many(st, &it, 1, 0);
    if (s == HOIST_OK) s = it.status;
    if (s == HOIST_OK && it.info.size != 16) s = HOIST_ERR_INTERNAL;
    if (s != HOIST_OK) fprintf(stderr, "head_hello: %s\n", it.error ? it.error : hoist_errmsg());
    free_info_item(&it);
    hoist_store_free(st);
    return s;
}

static void *thread_head(void *arg) {
    *(enum hoist_status *)arg = head_hello();
    return NULL;
}

/* Each test uses its own region: the cache keys on the configuration, so a
 * new region is a new entry (and a first fetch). */
static void use_region(const char *region) { setenv("AWS_REGION", region, 1); }

static void test_many_threads_one_fetch(void) {
    use_region("us-west-1");
    standin_post("/_reset", "{}");
    standin_post("/_config", "{\"delay\": 0.5}"); /* the threads pile up behind the first fetch */
    enum { N = 16 };
    pthread_t th[N];
    enum hoist_status res[N];
    for (int i = 0; i < N; i++) pthread_create(&th[i], NULL, thread_head, &res[i]);
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(res[i], HOIST_OK);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 1);
    CHECK_EQ_INT(standin_count("imds_token", NULL), 1);
    /* later clients too */
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 1);
    standin_post("/_config", "{\"delay\": 0.0}");
}

static void *slow_refresher(void *arg) {
    double t0 = hx_now();
    *(enum hoist_status *)arg = head_hello();
    fprintf(stderr, "refreshing request took %.2f s\n", hx_now() - t0);
    return NULL;
}

static void test_refresh_ahead_of_expiry(void) {
    use_region("us-west-2");
    standin_post("/_reset", "{}");
    /* 12 s credentials: refreshed from 6 s before expiry, used until 1.2 s before */
    standin_post("/_config", "{\"expires_in\": 12}");
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 1);
    sleep(7);
    /* inside the window: one thread refreshes (slowly), another request
     * meanwhile signs with the still-valid credentials without waiting */
    standin_post("/_config", "{\"delay\": 1.5}");
    pthread_t th;
    enum hoist_status r1 = HOIST_ERR_INTERNAL;
    pthread_create(&th, NULL, slow_refresher, &r1);
    usleep(300000);
    double t0 = hx_now();
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    double waited = hx_now() - t0;
    CHECK(waited < 1.0);
    pthread_join(th, NULL);
    CHECK_EQ_INT(r1, HOIST_OK);
    long issued = 0;
    CHECK_EQ_INT(standin_count("imds_creds", &issued), 2);
    CHECK_EQ_INT(issued, 2);
    standin_post("/_config", "{\"delay\": 0.0, \"expires_in\": null}");
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 2);
}

static void test_expired_token_refreshes_and_retries(void) {
    use_region("eu-west-1");
    setenv("AWS_ENDPOINT_URL_S3", relay_url, 1);
    standin_post("/_reset", "{}");
    CHECK_EQ_INT(head_hello(), HOIST_OK);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 1);
    /* S3 now says the handed-out session expired (before its Expiration) */
    standin_post("/_config", "{\"expire_issued\": true}");
    /* HEAD answers have no body: a GET carries the ExpiredToken code */
    struct hoist_store *st = NULL;
    CHECK_EQ_INT(hoist_store_new(NULL, &st), HOIST_OK);
    char buf[64];
    struct hoist_get_item it;
    memset(&it, 0, sizeof it);
    it.url = "s3://hoist-cred/hello.txt";
    it.length = -1;
    it.dest = HOIST_DEST_BUFFER;
    it.buffer = buf;
    it.buffer_size = sizeof buf;
    CHECK_EQ_INT(hoist_store_get_many(st, &it, 1, 0, NULL, NULL), HOIST_OK);
    CHECK_EQ_INT(it.status, HOIST_OK);
    if (it.error) fprintf(stderr, "get: %s\n", it.error);
    CHECK_EQ_INT(it.size, 16);
    CHECK(memcmp(buf, "hello from moto\n", 16) == 0);
    hoist_free(it.error);
    free_info(&it.info);
    hoist_store_free(st);
    CHECK_EQ_INT(standin_count("expired_answers", NULL), 1);
    CHECK_EQ_INT(standin_count("imds_creds", NULL), 2);
    setenv("AWS_ENDPOINT_URL_S3", moto_url, 1);
}

/* HOIST_STORE_ROLE_ARN: the environment's user keys assume the role at
 * moto's STS; every client with the same source and role shares one
 * AssumeRole, and the requests are signed by the role's session. */
static struct hoist_store *role_store(void) {
    struct hoist_store_config *cfg = NULL;
    struct hoist_store *st = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ROLE_ARN, role_arn), HOIST_OK);
    CHECK_EQ_INT(hoist_store_new(cfg, &st), HOIST_OK);
    hoist_store_config_free(cfg);
    return st;
}

static void test_role_option(void) {
    use_region("ap-south-1");
    setenv("AWS_ACCESS_KEY_ID", user_key, 1);
    setenv("AWS_SECRET_ACCESS_KEY", user_secret, 1);
    setenv("AWS_ENDPOINT_URL_STS", moto_url, 1);
    struct hoist_store *a = role_store(), *b = role_store();
    for (int i = 0; i < 2 && a && b; i++) {
        struct hoist_store *st = i ? b : a;
        struct hoist_info_item it;
        memset(&it, 0, sizeof it);
        it.url = "s3://hoist-cred/hello.txt";
        CHECK_EQ_INT(hoist_store_info_many(st, &it, 1, 0), HOIST_OK);
        CHECK_EQ_INT(it.info.size, 16);
        free_info_item(&it);
    }
    if (a && b) {
        CHECK(a->s3.cred_cache == b->s3.cred_cache);
        CHECK_EQ_INT(hx_s3_cred_cache_fetches(a->s3.cred_cache), 1);
        struct hx_s3_creds *c = NULL;
        CHECK_EQ_INT(hx_s3_creds_acquire(&a->s3, &c), HOIST_OK);
        if (c) {
            CHECK(strcmp(c->v.access_key, user_key) != 0);
            CHECK(strncmp(c->v.access_key, "ASIA", 4) == 0);
            CHECK(c->v.session_token != NULL);
            CHECK_CONTAINS(c->v.source, "role");
        }
        hx_s3_creds_release(c);
    }
    hoist_store_free(a);
    hoist_store_free(b);
    struct hoist_store_config *cfg = NULL;
    CHECK_EQ_INT(hoist_store_config_new(&cfg), HOIST_OK);
    CHECK_EQ_INT(hoist_store_config_set_str(cfg, HOIST_STORE_ROLE_ARN, "my-role"), HOIST_ERR_INVALID_ARG);
    hoist_store_config_free(cfg);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_ENDPOINT_URL_STS");
}

int main(void) {
    char home[256];
    snprintf(home, sizeof home, "/tmp/hoist-cred-cache-%d", (int)getpid());
    const char *unset[] = {"AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY",
                           "AWS_SESSION_TOKEN",
                           "AWS_PROFILE",
                           "AWS_ENDPOINT_URL",
                           "METAFLOW_S3_ENDPOINT_URL",
                           "AWS_WEB_IDENTITY_TOKEN_FILE",
                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                           "AWS_EC2_METADATA_DISABLED",
                           "AWS_SHARED_CREDENTIALS_FILE",
                           "AWS_CONFIG_FILE"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) unsetenv(unset[i]);
    setenv("HOME", home, 1);
    signal(SIGPIPE, SIG_IGN);
    if (!start_standin()) TEST_SKIP("tests/s3/cred_standin.py did not start (needs .venv with moto and boto3)");
    setenv("AWS_ENDPOINT_URL_S3", moto_url, 1);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", standin_url, 1);
    RUN(test_many_threads_one_fetch);
    RUN(test_refresh_ahead_of_expiry);
    RUN(test_expired_token_refreshes_and_retries);
    RUN(test_role_option);
    stop_standin();
    TEST_MAIN_END();
}
