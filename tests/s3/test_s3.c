/* Unit tests of the S3 protocol layer: SigV4 vectors, encoding, XML
 * (including hostile documents), error mapping, settings and profiles. */
#include "s3.h"
#include "test_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_sigv4_aws_example(void) {
    /* AWS docs, "Signature calculation: GET object" example. */
    struct hx_s3_header h[] = {
        {"host", "examplebucket.s3.amazonaws.com"},
        {"range", "bytes=0-9"},
        {"x-amz-content-sha256", EMPTY_SHA},
        {"x-amz-date", "20130524T000000Z"},
    };
    uint8_t key[32];
    hx_s3_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", key);
    struct hx_buf out;
    hx_buf_init(&out);
    CHECK_EQ_INT(hx_s3_sigv4_authorization("GET", "/test.txt", "", h, 4, EMPTY_SHA, "20130524T000000Z", "us-east-1",
                                           "AKIAIOSFODNN7EXAMPLE", key, &out),
                 HOIST_OK);
    CHECK_STR(out.data, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* AWS docs, ListObjects example: GET /?max-keys=2&prefix=J */
    struct hx_s3_header h2[] = {
        {"host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", EMPTY_SHA},
        {"x-amz-date", "20130524T000000Z"},
    };
    CHECK_EQ_INT(hx_s3_sigv4_authorization("GET", "/", "max-keys=2&prefix=J", h2, 3, EMPTY_SHA, "20130524T000000Z",
                                           "us-east-1", "AKIAIOSFODNN7EXAMPLE", key, &out),
                 HOIST_OK);
    CHECK_CONTAINS(out.data, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    hx_buf_reset(&out);
}

/* Header values are signed as SigV4's canonical form has them: trimmed,
 * each run of blanks one space ("x  y" used to be signed verbatim and
 * refused with SignatureDoesNotMatch). The signature is botocore's
 * (S3SigV4Auth) for the same request. */
static void test_sigv4_header_blanks(void) {
    struct hx_s3_header h[] = {
        {"content-type", "text/plain;  charset=utf-8"},
        {"host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", EMPTY_SHA},
        {"x-amz-date", "20261202T095123Z"},
        {"x-amz-meta-a", "  x  y\tz "},
    };
    uint8_t key[32];
    hx_s3_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20261202", "us-east-1", key);
    struct hx_buf out;
    hx_buf_init(&out);
    CHECK_EQ_INT(hx_s3_sigv4_authorization("PUT", "/k", "", h, 5, EMPTY_SHA, "20261202T095123Z", "us-east-1",
                                           "AKIAIOSFODNN7EXAMPLE", key, &out),
                 HOIST_OK);
    CHECK_CONTAINS(out.data, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a, "
                             "Signature=7ed6b05505e0b44c54bac6cb4297848fe71ed77755bda0c2de295657e54c76ec");
    /* the collapsed values sign the same */
    struct hx_s3_header c[5];
    memcpy(c, h, sizeof h);
    c[0].value = "text/plain; charset=utf-8";
    c[4].value = "x y z";
    struct hx_buf out2;
    hx_buf_init(&out2);
    CHECK_EQ_INT(hx_s3_sigv4_authorization("PUT", "/k", "", c, 5, EMPTY_SHA, "20261202T095123Z", "us-east-1",
                                           "AKIAIOSFODNN7EXAMPLE", key, &out2),
                 HOIST_OK);
    CHECK_STR(out.data, out2.data);
    hx_buf_reset(&out);
    hx_buf_reset(&out2);
}

static void test_encoding(void) {
    struct hx_buf b;
    hx_buf_init(&b);
    CHECK_EQ_INT(hx_s3_uri_encode(&b, "a b+c%d#e?f/g~h", 15, 1), HOIST_OK);
    CHECK_STR(b.data, "a%20b%2Bc%25d%23e%3Ff/g~h");
    b.len = 0;
    CHECK_EQ_INT(hx_s3_uri_encode(&b, "x/y", 3, 0), HOIST_OK);
    CHECK_STR(b.data, "x%2Fy");
    b.len = 0;
    const char *uni = "d\xc3\xa9j\xc3\xa0/\xe2\x82\xac\x01\x7f";
    CHECK_EQ_INT(hx_s3_uri_encode(&b, uni, strlen(uni), 1), HOIST_OK);
    CHECK_STR(b.data, "d%C3%A9j%C3%A0/%E2%82%AC%01%7F");
    struct hx_buf d;
    hx_buf_init(&d);
    CHECK_EQ_INT(hx_s3_url_decode(&d, b.data, b.len, 0), HOIST_OK);
    CHECK_STR(d.data, uni);
    d.len = 0;
    CHECK_EQ_INT(hx_s3_url_decode(&d, "a+b%2", 5, 1), HOIST_ERR_S3_BAD_RESPONSE);
    d.len = 0;
    CHECK_EQ_INT(hx_s3_url_decode(&d, "a+b%zz", 6, 1), HOIST_ERR_S3_BAD_RESPONSE);
    d.len = 0;
    CHECK_EQ_INT(hx_s3_url_decode(&d, "a+b", 3, 1), HOIST_OK);
    CHECK_STR(d.data, "a b");
    /* an encoded NUL would cut the key short ("evil/a%00/b" -> "evil/a") */
    d.len = 0;
    CHECK_EQ_INT(hx_s3_url_decode(&d, "evil/a%00/b", 11, 1), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(hoist_errmsg(), "'evil/a%00/b' has an encoded NUL byte");
    d.len = 0;
    CHECK_EQ_INT(hx_s3_url_decode(&d, "a%01", 4, 1), HOIST_OK);
    /* the same in a listing and an upload listing */
    struct hx_s3_list_page lp;
    memset(&lp, 0, sizeof lp);
    const char *lx = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>evil/a%00/b</Key><Size>1</Size>"
                     "</Contents></ListBucketResult>";
    CHECK_EQ_INT(hx_s3_parse_list(lx, strlen(lx), 1, &lp), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_EQ_INT(lp.count, 0);
    hx_s3_list_page_reset(&lp);
    struct hx_s3_upload_page up;
    memset(&up, 0, sizeof up);
    const char *ux = "<ListMultipartUploadsResult><Upload><Key>a%00</Key><UploadId>u</UploadId></Upload>"
                     "</ListMultipartUploadsResult>";
    CHECK_EQ_INT(hx_s3_parse_uploads(ux, strlen(ux), 1, &up), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_upload_page_reset(&up);
    /* a 1024-byte key encodes without truncation */
    char key[1025];
    memset(key, 'k', 1024);
    key[1024] = '\0';
    b.len = 0;
    CHECK_EQ_INT(hx_s3_uri_encode(&b, key, 1024, 1), HOIST_OK);
    CHECK_EQ_INT(b.len, 1024);
    hx_buf_reset(&b);
    hx_buf_reset(&d);
}

static void test_hashes(void) {
    char hex[65], b64[25], crc[9];
    hx_sha256_hex("", 0, hex);
    CHECK_STR(hex, EMPTY_SHA);
    hx_md5_base64("", 0, b64);
    CHECK_STR(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
    CHECK_EQ_INT(hx_crc32c_update(0, "123456789", 9), 0xE3069283u);
    hx_crc_base64(0xE3069283u, crc);
    CHECK_STR(crc, "4waSgw==");
    /* incremental == one shot */
    uint32_t c = hx_crc32c_update(0, "1234", 4);
    CHECK_EQ_INT(hx_crc32c_update(c, "56789", 5), 0xE3069283u);
}

static const char *list_xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
                              "<Prefix>log%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</"
                              "IsTruncated>"
                              "<NextContinuationToken>tok/+=</NextContinuationToken><EncodingType>url</EncodingType>"
                              "<Contents><Key>log%2Fa+b.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
                              "<ETag>&quot;abc&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></"
                              "Contents>"
                              "<Contents><Key>log%2F%C3%A9t%C3%A9%25</Key><LastModified>2009-10-12T17:50:31.000Z</"
                              "LastModified>"
                              "<ETag>&quot;def&quot;</ETag><Size>0</Size></Contents>"
                              "<CommonPrefixes><Prefix>log%2Fsub%2F</Prefix></CommonPrefixes>"
                              "</ListBucketResult>";

static void test_xml_list(void) {
    struct hx_s3_list_page p;
    memset(&p, 0, sizeof p);
    CHECK_EQ_INT(hx_s3_parse_list(list_xml, strlen(list_xml), 1, &p), HOIST_OK);
    CHECK_EQ_INT(p.count, 3);
    CHECK_EQ_INT(p.is_truncated, 1);
    CHECK_STR(p.next_token, "tok/+=");
    if (p.count == 3) {
        CHECK_STR(p.items[0].key, "log/a b.txt");
        CHECK_EQ_INT(p.items[0].size, 434234);
        CHECK_EQ_INT(p.items[0].last_modified, 1255369830);
        CHECK_STR(p.items[0].etag, "\"abc\"");
        CHECK_STR(p.items[1].key, "log/\xc3\xa9t\xc3\xa9%");
        CHECK_EQ_INT(p.items[2].is_prefix, 1);
        CHECK_STR(p.items[2].key, "log/sub/");
    }
    hx_s3_list_page_reset(&p);
    /* truncated without a token is an error, not an endless loop */
    const char *bad = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    CHECK_EQ_INT(hx_s3_parse_list(bad, strlen(bad), 1, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
    const char *badsize = "<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents></ListBucketResult>";
    CHECK_EQ_INT(hx_s3_parse_list(badsize, strlen(badsize), 1, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
}

static void test_xml_hostile(void) {
    struct hx_s3_list_page p;
    memset(&p, 0, sizeof p);
    const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                         "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
                         "<ListBucketResult><Contents><Key>&lol2;</Key></Contents></ListBucketResult>";
    CHECK_EQ_INT(hx_s3_parse_list(laughs, strlen(laughs), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(hoist_errmsg(), "DOCTYPE");
    hx_s3_list_page_reset(&p);
    const char *ext = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                      "<ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>";
    CHECK_EQ_INT(hx_s3_parse_list(ext, strlen(ext), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
    char deep[4096];
    for (int i = 0; i < 100; i++) memcpy(deep + 3 * i, "<a>", 3);
    deep[300] = '\0';
    CHECK_EQ_INT(hx_s3_parse_list(deep, strlen(deep), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(hoist_errmsg(), "deep");
    hx_s3_list_page_reset(&p);
    const char *trunc = "<ListBucketResult><Contents><Key>a</Key>";
    CHECK_EQ_INT(hx_s3_parse_list(trunc, strlen(trunc), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
    const char *garbage = "\x01\x02 not xml at all";
    CHECK_EQ_INT(hx_s3_parse_list(garbage, strlen(garbage), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
    /* huge text node */
    size_t big = 200 * 1024;
    char *doc = malloc(big + 100);
    const char *head = "<ListBucketResult><Contents><Key>", *tail = "</Key></Contents></ListBucketResult>";
    size_t at = strlen(head);
    memcpy(doc, head, at);
    memset(doc + at, 'x', big);
    memcpy(doc + at + big, tail, strlen(tail) + 1);
    CHECK_EQ_INT(hx_s3_parse_list(doc, strlen(doc), 0, &p), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_list_page_reset(&p);
    free(doc);
}

static void test_xml_error_and_find(void) {
    const char *e = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                    "<Message>The specified key does not exist.</Message><Key>a</Key></Error>";
    char code[64], msg[256];
    CHECK_EQ_INT(hx_s3_parse_error(e, strlen(e), code, sizeof code, msg, sizeof msg), 1);
    CHECK_STR(code, "NoSuchKey");
    CHECK_STR(msg, "The specified key does not exist.");
    CHECK_EQ_INT(hx_s3_parse_error("<html>", 6, code, sizeof code, msg, sizeof msg), 0);
    CHECK_EQ_INT(hx_s3_parse_error(NULL, 0, code, sizeof code, msg, sizeof msg), 0);
    char *id = NULL;
    const char *init = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</"
                       "Key><UploadId>VXBsb2Fk+/=</UploadId>"
                       "</InitiateMultipartUploadResult>";
    CHECK_EQ_INT(hx_s3_xml_find(init, strlen(init), "UploadId", &id), HOIST_OK);
    CHECK_STR(id, "VXBsb2Fk+/=");
    hoist_free(id);
    CHECK_EQ_INT(hx_s3_xml_find("<a/>", 4, "UploadId", &id), HOIST_ERR_S3_BAD_RESPONSE);
    const char *del = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
                      "<Message>no</Message></Error></DeleteResult>";
    struct hx_s3_delete_error *errs;
    size_t ne;
    CHECK_EQ_INT(hx_s3_parse_delete(del, strlen(del), &errs, &ne), HOIST_OK);
    CHECK_EQ_INT(ne, 1);
    if (ne == 1) {
        CHECK_STR(errs[0].key, "b");
        CHECK_STR(errs[0].code, "AccessDenied");
    }
    hx_s3_delete_errors_free(errs, ne);
    struct hx_buf b;
    hx_buf_init(&b);
    CHECK_EQ_INT(hx_s3_xml_escape(&b, "a<&>\"'\tb"), HOIST_OK);
    CHECK_STR(b.data, "a&lt;&amp;&gt;&quot;&apos;&#x9;b");
    CHECK_EQ_INT(hx_s3_xml_escape(&b, "bad\x01"), HOIST_ERR_BAD_URL);
    hx_buf_reset(&b);
}

static void test_error_mapping(void) {
    CHECK_EQ_INT(hx_s3_status_for(404, "NoSuchKey"), HOIST_ERR_S3_NO_SUCH_KEY);
    CHECK_EQ_INT(hx_s3_status_for(404, "NoSuchBucket"), HOIST_ERR_S3_NO_SUCH_BUCKET);
    CHECK_EQ_INT(hx_s3_status_for(404, ""), HOIST_ERR_S3_NO_SUCH_KEY);
    CHECK_EQ_INT(hx_s3_status_for(403, "AccessDenied"), HOIST_ERR_S3_ACCESS_DENIED);
    CHECK_EQ_INT(hx_s3_status_for(403, "SignatureDoesNotMatch"), HOIST_ERR_S3_BAD_SIGNATURE);
    CHECK_EQ_INT(hx_s3_status_for(403, "InvalidAccessKeyId"), HOIST_ERR_S3_BAD_SIGNATURE);
    CHECK_EQ_INT(hx_s3_status_for(416, "InvalidRange"), HOIST_ERR_S3_INVALID_RANGE);
    CHECK_EQ_INT(hx_s3_status_for(503, "SlowDown"), HOIST_ERR_S3_SLOW_DOWN);
    CHECK_EQ_INT(hx_s3_status_for(500, "InternalError"), HOIST_ERR_S3_SERVER);
    CHECK_EQ_INT(hx_s3_status_for(400, "RequestTimeout"), HOIST_ERR_S3_TIMEOUT);
    CHECK_EQ_INT(hx_s3_status_for(412, "PreconditionFailed"), HOIST_ERR_S3_PRECONDITION);
    CHECK_EQ_INT(hx_s3_status_for(409, "BucketNotEmpty"), HOIST_ERR_S3_BUCKET_NOT_EMPTY);
    CHECK_EQ_INT(hx_s3_status_for(400, "WeirdNewCode"), HOIST_ERR_S3_OTHER);
    CHECK_EQ_INT(hx_s3_status_for(418, ""), HOIST_ERR_HTTP);
    CHECK(hx_s3_transient(503, "SlowDown"));
    CHECK(hx_s3_transient(400, "RequestTimeout"));
    CHECK(hx_s3_transient(500, ""));
    CHECK(!hx_s3_transient(403, "AccessDenied"));
    CHECK(!hx_s3_transient(404, "NoSuchKey"));
    CHECK(!hx_s3_transient(400, "InvalidArgument"));
    CHECK_EQ_INT(hx_s3_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    CHECK_EQ_INT(hx_s3_parse_http_date("garbage"), 0);
    CHECK_EQ_INT(hx_s3_parse_iso8601("1994-11-06T08:49:37.000Z"), 784111777);
    CHECK_EQ_INT(hx_s3_parse_iso8601("1994-11"), 0);
}

static char tmp_home[256];

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void clear_env(void) {
    const char *vars[] = {"AWS_ACCESS_KEY_ID",        "AWS_SECRET_ACCESS_KEY",
                          "AWS_SESSION_TOKEN",        "AWS_REGION",
                          "AWS_DEFAULT_REGION",       "AWS_ENDPOINT_URL",
                          "AWS_ENDPOINT_URL_S3",      "AWS_PROFILE",
                          "METAFLOW_S3_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE",
                          "AWS_CONFIG_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

static void test_settings(void) {
    snprintf(tmp_home, sizeof tmp_home, "/tmp/hoist-s3-test-%d", (int)getpid());
    char path[400];
    mkdir(tmp_home, 0700);
    snprintf(path, sizeof path, "%s/.aws", tmp_home);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.aws/credentials", tmp_home);
    write_file(path, "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n\n"
                     "# comment\n[other]\naws_access_key_id=OTHERKEY\naws_secret_access_key=othersecret\n"
                     "aws_session_token = othertoken\n");
    snprintf(path, sizeof path, "%s/.aws/config", tmp_home);
    write_file(path, "[default]\nregion = eu-west-1\n\n[profile other]\nregion = ap-south-1\ns3 =\n"
                     "  endpoint_url = http://127.0.0.1:9999\n  addressing_style = path\n"
                     "[profile ep]\nendpoint_url = https://minio.example:9000/\nregion=us-west-2\n");
    clear_env();
    setenv("HOME", tmp_home, 1);

    struct hx_s3_settings s;
    struct hx_s3_explicit ex = {0};
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.access_key, "DEFAULTKEY");
    CHECK_STR(s.region, "eu-west-1");
    CHECK_STR(s.endpoint, "https://s3.eu-west-1.amazonaws.com");
    CHECK_EQ_INT(s.endpoint_is_aws, 1);
    hx_s3_settings_reset(&s);

    /* environment beats the default profile */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_REGION", "us-east-2", 1);
    setenv("AWS_DEFAULT_REGION", "ignored-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://generic:1", 1);
    setenv("AWS_ENDPOINT_URL_S3", "http://s3only:2", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.access_key, "ENVKEY");
    CHECK_STR(s.region, "us-east-2");
    CHECK_STR(s.endpoint, "http://s3only:2");
    CHECK_STR(s.creds_source, "environment");
    hx_s3_settings_reset(&s);
    /* endpoint order: option > AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL >
     * profile > METAFLOW_S3_ENDPOINT_URL (issue 14) */
    setenv("METAFLOW_S3_ENDPOINT_URL", "http://metaflow:3/", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "http://s3only:2");
    hx_s3_settings_reset(&s);
    unsetenv("AWS_ENDPOINT_URL_S3");
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "http://generic:1");
    hx_s3_settings_reset(&s);
    unsetenv("AWS_ENDPOINT_URL");
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "http://metaflow:3");
    hx_s3_settings_reset(&s);
    setenv("AWS_PROFILE", "ep", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "https://minio.example:9000");
    hx_s3_settings_reset(&s);
    struct hx_s3_explicit exe = {.endpoint = "http://opt:5"};
    CHECK_EQ_INT(hx_s3_settings_resolve(&exe, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "http://opt:5");
    hx_s3_settings_reset(&s);
    unsetenv("AWS_PROFILE");
    unsetenv("METAFLOW_S3_ENDPOINT_URL");
    setenv("AWS_ENDPOINT_URL_S3", "http://s3only:2", 1);
    setenv("AWS_ENDPOINT_URL", "http://generic:1", 1);

    /* explicit options beat everything; an explicit profile beats env creds */
    struct hx_s3_explicit ex2 = {
        .access_key = "OPTKEY", .secret_key = "optsecret", .endpoint = "http://opt:4", .region = "sa-east-1"};
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex2, &s), HOIST_OK);
    CHECK_STR(s.access_key, "OPTKEY");
    CHECK_STR(s.endpoint, "http://opt:4");
    CHECK_STR(s.region, "sa-east-1");
    hx_s3_settings_reset(&s);
    clear_env();
    struct hx_s3_explicit ex3 = {.profile = "other"};
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex3, &s), HOIST_OK);
    CHECK_STR(s.access_key, "OTHERKEY");
    CHECK_STR(s.session_token, "othertoken");
    CHECK_STR(s.region, "ap-south-1");
    CHECK_STR(s.endpoint, "http://127.0.0.1:9999");
    CHECK_EQ_INT(s.addressing, HX_S3_ADDR_PATH);
    hx_s3_settings_reset(&s);
    /* AWS_PROFILE picks the profile; a top-level endpoint_url works too */
    clear_env();
    setenv("AWS_PROFILE", "ep", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK_STR(s.endpoint, "https://minio.example:9000");
    CHECK_STR(s.region, "us-west-2");
    CHECK_EQ_INT(s.have_credentials, 0);
    CHECK_CONTAINS(s.missing_why, "profile 'ep'");
    hx_s3_settings_reset(&s);
    /* no credentials: building a request fails clearly, anonymous works */
    struct hx_s3 s3;
    CHECK_EQ_INT(hx_s3_init(&s3, &ex), HOIST_OK);
    struct hx_net_req req;
    memset(&req, 0, sizeof req);
    CHECK_EQ_INT(hx_s3_build_request(&s3, &req, "GET", "b", "k", NULL, NULL, NULL, 0), HOIST_ERR_CREDENTIALS);
    hx_s3_cleanup(&s3);
    struct hx_s3_explicit anon = {.no_sign = 1};
    CHECK_EQ_INT(hx_s3_init(&s3, &anon), HOIST_OK);
    CHECK_EQ_INT(hx_s3_build_request(&s3, &req, "GET", "b", "a b/c", NULL, NULL, NULL, 0), HOIST_OK);
    CHECK_STR(req.url.data, "https://minio.example:9000/b/a%20b/c");
    int has_auth = 0;
    for (struct curl_slist *l = req.headers; l; l = l->next) has_auth |= strncmp(l->data, "Authorization", 13) == 0;
    CHECK(!has_auth);
    hx_net_req_cleanup(&req);
    hx_s3_cleanup(&s3);
    /* bad endpoints */
    struct hx_s3_explicit badep = {.endpoint = "ftp://x"};
    CHECK_EQ_INT(hx_s3_settings_resolve(&badep, &s), HOIST_ERR_BAD_URL);
    struct hx_s3_explicit badep2 = {.endpoint = "http://x/path"};
    CHECK_EQ_INT(hx_s3_settings_resolve(&badep2, &s), HOIST_ERR_BAD_URL);
    struct hx_s3_explicit half = {.access_key = "A"};
    CHECK_EQ_INT(hx_s3_settings_resolve(&half, &s), HOIST_ERR_CREDENTIALS);
    clear_env();
}

/* Issue 12: a region is checked before it goes into a hostname; profile
 * lines longer than 4,095 bytes (session tokens) are read whole (fgets cut
 * them and read the tail as a line of its own). */
static void test_settings_limits(void) {
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "/tmp/hoist-s3-limits-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/credentials", dir);
    size_t tl = 10000;
    char *token = malloc(tl + 1);
    for (size_t i = 0; i < tl; i++) token[i] = (char)('A' + i % 26);
    token[tl] = '\0';
    /* the cut used to land on "x = y" inside the token: a key of its own */
    memcpy(token + 4095, "region=evil", 11);
    char *text = malloc(tl + 200);
    snprintf(text, tl + 200, "[default]\naws_access_key_id = K\naws_secret_access_key = S\naws_session_token = %s\n",
             token);
    write_file(path, text);
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof path, "%s/config", dir);
    write_file(path, "[default]\n");
    setenv("AWS_CONFIG_FILE", path, 1);
    struct hx_s3_settings s;
    struct hx_s3_explicit ex = {0};
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_OK);
    CHECK(s.session_token != NULL && strlen(s.session_token) == tl);
    CHECK(s.session_token != NULL && strcmp(s.session_token, token) == 0);
    CHECK_STR(s.region, "us-east-1");
    hx_s3_settings_reset(&s);

    const char *bad[] = {"us-east-1/x",
                         "evil.com#",
                         "a b",
                         "",
                         "-us",
                         "us-",
                         "eu_west_1",
                         "us-east-1.attacker.net",
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hx_s3_explicit e = {.region = bad[i]};
        CHECK_EQ_INT(hx_s3_settings_resolve(&e, &s), HOIST_ERR_INVALID_ARG);
        CHECK_CONTAINS(hoist_errmsg(), "is not a region name");
    }
    setenv("AWS_REGION", "us-east-1@evil", 1);
    CHECK_EQ_INT(hx_s3_settings_resolve(&ex, &s), HOIST_ERR_INVALID_ARG);
    unsetenv("AWS_REGION");
    const char *good[] = {"us-east-1", "cn-north-1", "us-gov-west-1", "eu-isoe-west-1", "garage", "RegionOne"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct hx_s3_explicit e = {.region = good[i]};
        CHECK_EQ_INT(hx_s3_settings_resolve(&e, &s), HOIST_OK);
        CHECK_STR(s.region, good[i]);
        hx_s3_settings_reset(&s);
    }
    clear_env();
    th_remove_tree(dir);
    free(token);
    free(text);
}

static void test_build_request(void) {
    clear_env();
    struct hx_s3_explicit ex = {
        .access_key = "AKID", .secret_key = "SECRETVALUE", .session_token = "TOKENVALUE", .region = "us-east-1"};
    struct hx_s3 s3;
    CHECK_EQ_INT(hx_s3_init(&s3, &ex), HOIST_OK);
    struct hx_net_req req;
    memset(&req, 0, sizeof req);
    struct hx_s3_header h[] = {{"range", "bytes=0-9"}};
    CHECK_EQ_INT(hx_s3_build_request(&s3, &req, "GET", "mybucket", "dir/k ey#?.txt", NULL, NULL, h, 1), HOIST_OK);
    /* AWS endpoint + DNS-safe bucket: virtual-hosted */
    CHECK_STR(req.url.data, "https://mybucket.s3.us-east-1.amazonaws.com/dir/k%20ey%23%3F.txt");
    int saw_token = 0, saw_secret = 0, saw_auth = 0;
    for (struct curl_slist *l = req.headers; l; l = l->next) {
        saw_token |= strstr(l->data, "x-amz-security-token: TOKENVALUE") != NULL;
        saw_secret |= strstr(l->data, "SECRETVALUE") != NULL;
        if (strncmp(l->data, "Authorization: ", 15) == 0) {
            saw_auth = 1;
            CHECK_CONTAINS(l->data, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token");
        }
    }
    CHECK(saw_token && saw_auth && !saw_secret);
    /* dotted bucket: path style */
    CHECK_EQ_INT(hx_s3_build_request(&s3, &req, "GET", "my.bucket", "k", "list-type=2", NULL, NULL, 0), HOIST_OK);
    CHECK_STR(req.url.data, "https://s3.us-east-1.amazonaws.com/my.bucket/k?list-type=2");
    hx_net_req_cleanup(&req);
    hx_s3_cleanup(&s3);
}

/* Transport failures and finished requests to statuses (moved here from
 * the net layer, which knows HTTP only). */
static void test_transport_and_classify(void) {
    CHECK_EQ_INT(hx_s3_transport_status(CURLE_PEER_FAILED_VERIFICATION), HOIST_ERR_TLS);
    CHECK_EQ_INT(hx_s3_transport_status(CURLE_OPERATION_TIMEDOUT), HOIST_ERR_S3_TIMEOUT);
    CHECK_EQ_INT(hx_s3_transport_status(CURLE_COULDNT_CONNECT), HOIST_ERR_NET);
    CHECK_EQ_INT(hx_s3_transport_status(CURLE_COULDNT_RESOLVE_HOST), HOIST_ERR_BAD_URL);
    CHECK_EQ_INT(hx_s3_transport_status(CURLE_PARTIAL_FILE), HOIST_ERR_S3_BAD_RESPONSE);

    struct hx_net_req req;
    memset(&req, 0, sizeof req);
    struct hx_s3_resp s3r;
    memset(&s3r, 0, sizeof s3r);
    hx_s3_resp_attach(&s3r, &req);
    CHECK(hx_s3_resp_of(&req) == &s3r);
    hx_status st;
    char *err;
    /* a body over the cap: net stopped it; S3 calls it a bad response, no retry */
    req.max_retries = 3;
    req.body_too_long = 1;
    snprintf(req.abort_msg, sizeof req.abort_msg, "response body larger than 16 bytes");
    CHECK_EQ_INT(hx_s3_classify(&req, CURLE_WRITE_ERROR, "s3://b/k", &st, &err), HX_S3_FAIL);
    CHECK_EQ_INT(st, HOIST_ERR_S3_BAD_RESPONSE);
    CHECK_CONTAINS(err, "s3://b/k: response body larger");
    hx_free(err);
    req.body_too_long = 0;
    /* transient transport failure with retries left, then without */
    CHECK_EQ_INT(hx_s3_classify(&req, CURLE_RECV_ERROR, "s3://b/k", &st, &err), HX_S3_RETRY);
    req.attempt = 3;
    CHECK_EQ_INT(hx_s3_classify(&req, CURLE_OPERATION_TIMEDOUT, "s3://b/k", &st, &err), HX_S3_FAIL);
    CHECK_EQ_INT(st, HOIST_ERR_S3_TIMEOUT);
    CHECK_CONTAINS(err, "after 4 attempts");
    hx_free(err);
    /* a wrong-region answer names the bucket's region from x-amz-bucket-region */
    CHECK_EQ_INT(hx_s3_resp_header(&s3r, "X-Amz-Bucket-Region", 19, "eu-west-1", 9), HOIST_OK);
    req.resp.status = 301;
    CHECK_EQ_INT(hx_s3_classify(&req, CURLE_OK, "s3://b/k", &st, &err), HX_S3_FAIL);
    CHECK_CONTAINS(err, "region eu-west-1");
    hx_free(err);
    req.resp.status = 200;
    CHECK_EQ_INT(hx_s3_classify(&req, CURLE_OK, "s3://b/k", &st, &err), HX_S3_OK);
    hx_s3_resp_cleanup(&s3r);
    hx_net_req_cleanup(&req);
}

/* The header hook: x-amz-* names in any case, the metadata header, and a
 * reset when a new response starts. */
static void test_resp_headers(void) {
    struct hx_s3_resp r;
    memset(&r, 0, sizeof r);
#define HDR(n, v) CHECK_EQ_INT(hx_s3_resp_header(&r, n, strlen(n), v, strlen(v)), HOIST_OK)
    HDR("x-amz-checksum-crc32c", "yZRlqg==");
    HDR("X-AMZ-CHECKSUM-CRC32", "NSRBwg==");
    HDR("x-amz-checksum-type", "FULL_OBJECT");
    HDR("x-amz-request-id", "REQ1");
    HDR("x-amz-meta-metaflow-user-attributes", "{\"a\": 1}");
    HDR("x-amz-checksum-crc32c-extra", "ignored");
    HDR("content-type", "text/plain");
    CHECK(strcmp(r.checksum_crc32c, "yZRlqg==") == 0);
    CHECK(strcmp(r.checksum_crc32, "NSRBwg==") == 0);
    CHECK(strcmp(r.checksum_type, "FULL_OBJECT") == 0);
    CHECK(strcmp(r.request_id, "REQ1") == 0);
    CHECK(r.meta_json.len == 8 && strcmp(r.meta_json.data, "{\"a\": 1}") == 0);
    /* over-long values are cut at the field's size, never overrun */
    HDR("x-amz-bucket-region", "a-region-name-much-longer-than-thirty-two-bytes");
    CHECK_EQ_INT(strlen(r.bucket_region), sizeof r.bucket_region - 1);
    CHECK_EQ_INT(hx_s3_resp_header(&r, NULL, 0, NULL, 0), HOIST_OK);
    CHECK(r.checksum_crc32c[0] == '\0' && r.request_id[0] == '\0' && r.meta_json.len == 0);
#undef HDR
    hx_s3_resp_cleanup(&r);
}

/* ListMultipartUploads pages: keys URL-decoded, markers for the next page,
 * and a truncated page without a marker refused. */
static void test_xml_uploads(void) {
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult><Bucket>b</Bucket>"
                      "<IsTruncated>true</IsTruncated><NextKeyMarker>a%20b</NextKeyMarker>"
                      "<NextUploadIdMarker>U2</NextUploadIdMarker>"
                      "<Upload><Key>a%20b</Key><UploadId>U1</UploadId><Initiated>2026-01-02T03:04:05.000Z</"
                      "Initiated></Upload>"
                      "<Upload><Key>c</Key><UploadId>U2</UploadId></Upload></ListMultipartUploadsResult>";
    struct hx_s3_upload_page page;
    memset(&page, 0, sizeof page);
    CHECK_EQ_INT(hx_s3_parse_uploads(xml, strlen(xml), 1, &page), HOIST_OK);
    CHECK_EQ_INT(page.count, 2);
    CHECK(page.count == 2 && strcmp(page.items[0].key, "a b") == 0 && strcmp(page.items[0].upload_id, "U1") == 0);
    CHECK(page.count == 2 && page.items[0].initiated == 1767323045 && page.items[1].initiated == 0);
    CHECK(page.is_truncated && strcmp(page.next_key_marker, "a b") == 0);
    CHECK(strcmp(page.next_upload_id_marker, "U2") == 0);
    hx_s3_upload_page_reset(&page);
    const char *bad = "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>";
    CHECK_EQ_INT(hx_s3_parse_uploads(bad, strlen(bad), 1, &page), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_upload_page_reset(&page);
    const char *nokey = "<ListMultipartUploadsResult><Upload><UploadId>U</UploadId></Upload></"
                        "ListMultipartUploadsResult>";
    CHECK_EQ_INT(hx_s3_parse_uploads(nokey, strlen(nokey), 1, &page), HOIST_ERR_S3_BAD_RESPONSE);
    hx_s3_upload_page_reset(&page);
}

int main(void) {
    RUN(test_sigv4_aws_example);
    RUN(test_sigv4_header_blanks);
    RUN(test_encoding);
    RUN(test_hashes);
    RUN(test_xml_list);
    RUN(test_xml_hostile);
    RUN(test_xml_error_and_find);
    RUN(test_error_mapping);
    RUN(test_settings);
    RUN(test_settings_limits);
    RUN(test_build_request);
    RUN(test_transport_and_classify);
    RUN(test_resp_headers);
    RUN(test_xml_uploads);
    if (tmp_home[0]) th_remove_tree(tmp_home);
    TEST_MAIN_END();
}
