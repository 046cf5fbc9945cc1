"""The credential chain end to end through the CLI: each provider obtains
credentials from a loopback stand-in (IMDSv2, container endpoint, SSO
portal: cred_standin.py) or from moto's STS (web identity, assume role),
and a real S3 request signed with them succeeds against moto's S3, which
checks users, roles and sessions (auth on). Errors name the provider;
secrets never appear on stdout/stderr, even at HOIST_LOG=debug."""
import datetime
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import urllib.request

import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def standin():
    pytest.importorskip("moto")
    pytest.importorskip("boto3")
    proc = subprocess.Popen([sys.executable, str(HERE / "cred_standin.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line, "cred_standin.py did not start"
    info = json.loads(line)
    yield info
    proc.stdin.close()
    proc.wait(timeout=30)


def post(standin, path, body):
    req = urllib.request.Request(standin["standin"] + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).read()


def counts(standin):
    return json.loads(urllib.request.urlopen(standin["standin"] + "/_count", timeout=5).read())


@pytest.fixture()
def fresh(standin):
    post(standin, "/_reset", {})
    post(standin, "/_config", {"expires_in": None, "delay": 0.0, "container_token": standin["container_token"]})
    return standin


@pytest.fixture()
def base_env(tmp_path, standin):
    """No credentials anywhere: an empty HOME, IMDS off, S3 at moto."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": standin["moto"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOIST_LOG": "debug",
    }


def hoist(cli, env, *args):
    p = subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=120)
    return p


def secrets_of(standin, *extra):
    return [s for s in counts(standin)["secrets"] + [standin["user_secret"], *extra] if s]


def assert_no_secret(p, secrets):
    for s in secrets:
        assert s not in p.stdout and s not in p.stderr, "a secret reached the output"


def ls_ok(cli, env, standin, *extra_secrets):
    p = hoist(cli, env, "ls", f"s3://{standin['bucket']}/")
    assert p.returncode == 0, p.stderr
    assert f"s3://{standin['bucket']}/hello.txt" in p.stdout
    assert_no_secret(p, secrets_of(standin, *extra_secrets))
    return p


def test_moto_checks_credentials(hoist_cli, fresh, base_env):
    """The check is real: moto refuses a made-up key and a wrong secret."""
    env = dict(base_env, AWS_ACCESS_KEY_ID="ASIAMADEUP000000", AWS_SECRET_ACCESS_KEY="nope")
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "403" in p.stderr
    env = dict(base_env, AWS_ACCESS_KEY_ID=fresh["user_key"], AWS_SECRET_ACCESS_KEY="wrong")
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "SignatureDoesNotMatch" in p.stderr
    env = dict(base_env, AWS_ACCESS_KEY_ID=fresh["user_key"], AWS_SECRET_ACCESS_KEY=fresh["user_secret"])
    ls_ok(hoist_cli, env, fresh)


# ---- IMDSv2 -------------------------------------------------------------------


def test_imds_v2(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT=fresh["standin"])
    del env["AWS_EC2_METADATA_DISABLED"]
    p = ls_ok(hoist_cli, env, fresh, fresh["imds_token"])
    c = counts(fresh)["counts"]
    assert c == {"imds_token": 1, "imds_role": 1, "imds_creds": 1}
    assert "found by IMDS" in p.stderr


def test_imds_disabled_and_errors_name_the_providers(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT=fresh["standin"])
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0
    assert "no S3 credentials found" in p.stderr
    assert "IMDS disabled by AWS_EC2_METADATA_DISABLED" in p.stderr
    assert "AWS_WEB_IDENTITY_TOKEN_FILE not set" in p.stderr
    assert counts(fresh)["counts"] == {}


def test_imds_unreachable_is_named(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9")
    del env["AWS_EC2_METADATA_DISABLED"]
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0
    assert "no S3 credentials found" in p.stderr and "IMDS http://127.0.0.1:9" in p.stderr


def test_region_from_imds_when_none_is_set(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_EC2_METADATA_SERVICE_ENDPOINT=fresh["standin"])
    for k in ("AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_ENDPOINT_URL_S3"):
        del env[k]
    # no endpoint: the request goes to AWS in the instance's region (this
    # sandbox has no route there; the URL in the message is what we check)
    p = hoist(hoist_cli, env, "ls", "s3://hoist-cred/")
    assert "region eu-north-1 from IMDS" in p.stderr
    assert counts(fresh)["counts"].get("imds_region") == 1


# ---- container endpoint ---------------------------------------------------------


def test_container_full_uri_with_token_file(hoist_cli, fresh, base_env, tmp_path):
    tok = tmp_path / "pod-identity-token"
    tok.write_text(fresh["container_token"] + "\n")
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_FULL_URI=fresh["standin"] + "/container/creds",
               AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tok))
    p = ls_ok(hoist_cli, env, fresh, fresh["container_token"])
    assert counts(fresh)["counts"] == {"container": 1}
    assert "found by container" in p.stderr


def test_container_bad_token_fails_and_stops_the_chain(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_FULL_URI=fresh["standin"] + "/container/creds",
               AWS_CONTAINER_AUTHORIZATION_TOKEN="not-the-token-3e1")
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0
    assert "container credentials" in p.stderr and "HTTP 403" in p.stderr
    assert "not-the-token-3e1" not in p.stderr
    assert counts(fresh)["counts"] == {"container": 1}  # a client error is not retried


def test_container_http_host_not_allowed(hoist_cli, fresh, base_env):
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.com/creds",
               AWS_CONTAINER_AUTHORIZATION_TOKEN="x")
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0
    assert "not allowed over http" in p.stderr and "example.com" in p.stderr


ECS_HOST = "169.254.170.2"


def _pump(a, b):
    import select
    socks = [a, b]
    try:
        while True:
            r, _, _ = select.select(socks, [], [], 30)
            if not r:
                return
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        pass
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="module")
def ecs_endpoint(standin):
    """The ECS agent's address for real: 169.254.170.2/32 on the loopback
    interface (root only; removed afterwards) and port 80 there forwarded to
    the stand-in, so AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is resolved by
    hoist exactly as on ECS and AWS Batch."""
    import shutil
    import socket
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to put 169.254.170.2 on the loopback interface")
    have = ECS_HOST in subprocess.run(["ip", "-4", "addr", "show", "dev", "lo"], capture_output=True,
                                      text=True).stdout
    if not have:
        p = subprocess.run(["ip", "addr", "add", ECS_HOST + "/32", "dev", "lo"], capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip("cannot add 169.254.170.2 to lo: " + p.stderr.strip())
    try:
        lsock = socket.create_server((ECS_HOST, 80))
    except OSError as e:
        if not have:
            subprocess.run(["ip", "addr", "del", ECS_HOST + "/32", "dev", "lo"])
        pytest.skip(f"cannot listen on {ECS_HOST}:80: {e}")
    up_host, up_port = standin["standin"].split("://")[1].rsplit(":", 1)
    stop = []

    def accept():
        import threading
        while not stop:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            u = socket.create_connection((up_host, int(up_port)))
            threading.Thread(target=_pump, args=(c, u), daemon=True).start()

    import threading
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield ECS_HOST
    stop.append(1)
    lsock.close()
    if not have:
        subprocess.run(["ip", "addr", "del", ECS_HOST + "/32", "dev", "lo"], check=True)


def test_container_relative_uri(hoist_cli, fresh, base_env, ecs_endpoint):
    """ECS / AWS Batch: only a relative URI, resolved against 169.254.170.2, no token."""
    post(fresh, "/_config", {"container_token": None})
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/container/creds")
    p = ls_ok(hoist_cli, env, fresh)
    assert counts(fresh)["counts"] == {"container": 1}
    assert "container endpoint http://169.254.170.2/container/creds" in p.stderr
    assert "found by container" in p.stderr


def test_container_relative_uri_with_token_file(hoist_cli, fresh, base_env, ecs_endpoint, tmp_path):
    """botocore sends the authorization token with a relative URI too; the
    file is read on every fetch (a new process sees a rotated token)."""
    tok = tmp_path / "token"
    tok.write_text("stale-token-0\n")
    env = dict(base_env, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/container/creds",
               AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tok))
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "HTTP 403" in p.stderr and "stale-token-0" not in p.stderr
    tok.write_text(fresh["container_token"] + "\n")
    ls_ok(hoist_cli, env, fresh, fresh["container_token"])
    assert counts(fresh)["counts"] == {"container": 2}


# ---- STS: web identity and assume role --------------------------------------------


def test_web_identity(hoist_cli, fresh, base_env, tmp_path):
    # moto's STS cannot answer the unsigned AssumeRoleWithWebIdentity with
    # auth on; the stand-in checks the call and hands out moto credentials
    tok = tmp_path / "token"
    tok.write_text(fresh["web_identity_token"] + "\n")
    env = dict(base_env, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok), AWS_ROLE_ARN=fresh["role_arn"],
               AWS_ROLE_SESSION_NAME="hoist-test", AWS_ENDPOINT_URL_STS=fresh["standin"])
    p = ls_ok(hoist_cli, env, fresh, fresh["web_identity_token"])
    assert "found by web identity" in p.stderr
    assert counts(fresh)["counts"] == {"sts_web_identity": 1}


def test_web_identity_without_role_arn(hoist_cli, fresh, base_env, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("t")
    env = dict(base_env, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok))
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "AWS_ROLE_ARN is not" in p.stderr


def test_web_identity_sts_error_is_named(hoist_cli, fresh, base_env, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("t")
    env = dict(base_env, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok), AWS_ROLE_ARN=fresh["role_arn"],
               AWS_ENDPOINT_URL_STS=fresh["standin"])
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0
    assert "web identity credentials" in p.stderr and "HTTP 400 InvalidIdentityToken" in p.stderr


def write_aws_files(env, credentials, config):
    aws = pathlib.Path(env["HOME"]) / ".aws"
    (aws / "credentials").write_text(textwrap.dedent(credentials))
    (aws / "config").write_text(textwrap.dedent(config))


def test_profile_role_with_source_profile(hoist_cli, fresh, base_env):
    write_aws_files(base_env, f"""\
        [base]
        aws_access_key_id = {fresh['user_key']}
        aws_secret_access_key = {fresh['user_secret']}
        """, f"""\
        [profile app]
        role_arn = {fresh['role_arn']}
        source_profile = base
        role_session_name = hoist-app
        """)
    env = dict(base_env, AWS_PROFILE="app", AWS_ENDPOINT_URL_STS=fresh["moto"])
    p = ls_ok(hoist_cli, env, fresh)
    assert "found by profile (profile app role)" in p.stderr


def test_profile_role_with_credential_source_environment(hoist_cli, fresh, base_env):
    write_aws_files(base_env, "", f"""\
        [profile app]
        role_arn = {fresh['role_arn']}
        credential_source = Environment
        """)
    env = dict(base_env, AWS_ENDPOINT_URL_STS=fresh["moto"], AWS_ACCESS_KEY_ID=fresh["user_key"],
               AWS_SECRET_ACCESS_KEY=fresh["user_secret"])
    p = hoist(hoist_cli, env, "ls", "--profile", "app", f"s3://{fresh['bucket']}/")
    assert p.returncode == 0, p.stderr
    assert "found by profile (profile app role)" in p.stderr
    assert_no_secret(p, secrets_of(fresh))


def test_profile_role_source_cycle(hoist_cli, fresh, base_env):
    write_aws_files(base_env, "", f"""\
        [profile a]
        role_arn = {fresh['role_arn']}
        source_profile = b
        [profile b]
        role_arn = {fresh['role_arn']}
        source_profile = a
        """)
    env = dict(base_env, AWS_PROFILE="a", AWS_ENDPOINT_URL_STS=fresh["moto"])
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "profile credentials" in p.stderr and "a cycle" in p.stderr


PROCESS_SCRIPT = """\
import json, sys, boto3
sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
c = sts.assume_role(RoleArn=sys.argv[4], RoleSessionName="proc")["Credentials"]
print(json.dumps({"Version": 1, "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                  "SessionToken": c["SessionToken"],
                  "Expiration": c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}))
"""


def test_credential_process(hoist_cli, fresh, base_env, tmp_path):
    script = tmp_path / "creds helper.py"  # a space: the command is split like a shell would
    script.write_text(PROCESS_SCRIPT)
    write_aws_files(base_env, "", f"""\
        [default]
        credential_process = {sys.executable} "{script}" {fresh['moto']} {fresh['user_key']} {fresh['user_secret']} {fresh['role_arn']}
        """)
    p = hoist(hoist_cli, base_env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode == 0, p.stderr
    assert "found by profile (credential_process)" in p.stderr
    assert fresh["user_secret"] not in p.stderr + p.stdout


def test_credential_process_failure(hoist_cli, fresh, base_env, tmp_path):
    write_aws_files(base_env, "", f"""\
        [default]
        credential_process = {sys.executable} -c "import sys; sys.exit(3)"
        """)
    p = hoist(hoist_cli, base_env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "credential_process" in p.stderr and "status 3" in p.stderr
    write_aws_files(base_env, "", f"""\
        [default]
        credential_process = {sys.executable} -c "print('{{\\"Version\\": 2}}')"
        """)
    p = hoist(hoist_cli, base_env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "Version must be 1" in p.stderr


# ---- SSO ------------------------------------------------------------------------


def write_sso(env, fresh, expires, refresh=None):
    write_aws_files(env, "", """\
        [profile dev]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = hoist-role
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1
        """)
    cache = pathlib.Path(env["HOME"]) / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(b"corp").hexdigest() + ".json"
    doc = {"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
           "accessToken": fresh["sso_token"], "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if refresh:
        doc.update(refresh)
    (cache / name).write_text(json.dumps(doc))
    return cache / name


def test_sso_token_cache(hoist_cli, fresh, base_env):
    write_sso(base_env, fresh, datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    env = dict(base_env, AWS_PROFILE="dev", AWS_ENDPOINT_URL_SSO=fresh["standin"])
    p = ls_ok(hoist_cli, env, fresh, fresh["sso_token"])
    assert counts(fresh)["counts"] == {"sso": 1}
    assert "found by profile (SSO profile dev)" in p.stderr


def test_sso_expired_token(hoist_cli, fresh, base_env):
    write_sso(base_env, fresh, datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1))
    env = dict(base_env, AWS_PROFILE="dev", AWS_ENDPOINT_URL_SSO=fresh["standin"])
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and "aws sso login" in p.stderr and "profile credentials" in p.stderr
    assert counts(fresh)["counts"] == {}


def sso_refresh_fields(refresh_token="sso-refresh-token-a1", registration_days=30):
    """What `aws sso login` caches for a refresh (the stand-in's registration)."""
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=registration_days)
    return {"refreshToken": refresh_token, "clientId": "oidc-client-id-7e", "clientSecret": "oidc-client-secret-3f0a",
            "registrationExpiresAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


SSO_SECRETS = ("sso-refresh-token-a1", "oidc-client-secret-3f0a")


@pytest.mark.parametrize("left_min", [5, -30])
def test_sso_token_refreshed(hoist_cli, fresh, base_env, left_min):
    """A token with less than 15 minutes left (botocore's window), or one that
    has expired, is refreshed with CreateToken; the portal then accepts only
    the new token, and the cache file holds it (and the new refresh token)
    for the next process, written privately, keeping its other fields."""
    now = datetime.datetime.now(datetime.timezone.utc)
    path = write_sso(base_env, fresh, now + datetime.timedelta(minutes=left_min), sso_refresh_fields())
    env = dict(base_env, AWS_PROFILE="dev", AWS_ENDPOINT_URL_SSO=fresh["standin"],
               AWS_ENDPOINT_URL_SSO_OIDC=fresh["standin"])
    p = ls_ok(hoist_cli, env, fresh, fresh["sso_token"], *SSO_SECRETS)
    assert counts(fresh)["counts"] == {"oidc": 1, "sso": 1}
    doc = json.loads(path.read_text())
    assert doc["accessToken"].startswith("sso-access-token-r") and doc["refreshToken"].startswith("sso-refresh-token-r")
    exp = datetime.datetime.strptime(doc["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((exp - now).total_seconds() - 28800) < 120
    assert doc["clientId"] == "oidc-client-id-7e" and doc["startUrl"] == "https://corp.awsapps.com/start"
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [f for f in path.parent.iterdir() if f != path] == []  # no temp file left
    assert "refreshed" in p.stderr
    # the next process finds the fresh token: no refresh
    post(fresh, "/_reset", {})
    post(fresh, "/_config", {"sso_token": doc["accessToken"]})
    ls_ok(hoist_cli, env, fresh, doc["accessToken"], doc["refreshToken"], *SSO_SECRETS)
    assert counts(fresh)["counts"] == {"sso": 1}


def test_sso_refresh_fails_but_token_still_valid(hoist_cli, fresh, base_env):
    """botocore keeps a still-valid token when the refresh fails."""
    now = datetime.datetime.now(datetime.timezone.utc)
    path = write_sso(base_env, fresh, now + datetime.timedelta(minutes=5), sso_refresh_fields("revoked"))
    before = path.read_text()
    env = dict(base_env, AWS_PROFILE="dev", AWS_ENDPOINT_URL_SSO=fresh["standin"],
               AWS_ENDPOINT_URL_SSO_OIDC=fresh["standin"])
    p = ls_ok(hoist_cli, env, fresh, "revoked", *SSO_SECRETS)
    assert counts(fresh)["counts"] == {"oidc": 1, "sso": 1}
    assert "invalid_grant" in p.stderr and path.read_text() == before


@pytest.mark.parametrize("why,fields", [
    ("invalid_grant", sso_refresh_fields("revoked")),
    ("registration", sso_refresh_fields(registration_days=-1)),
    ("no refreshToken", None),
])
def test_sso_expired_and_not_refreshable(hoist_cli, fresh, base_env, why, fields):
    now = datetime.datetime.now(datetime.timezone.utc)
    write_sso(base_env, fresh, now - datetime.timedelta(minutes=1), fields)
    env = dict(base_env, AWS_PROFILE="dev", AWS_ENDPOINT_URL_SSO=fresh["standin"],
               AWS_ENDPOINT_URL_SSO_OIDC=fresh["standin"])
    p = hoist(hoist_cli, env, "ls", f"s3://{fresh['bucket']}/")
    assert p.returncode != 0 and why in p.stderr and "aws sso login" in p.stderr, p.stderr
    assert counts(fresh)["counts"] == ({"oidc": 1} if why == "invalid_grant" else {})
    assert_no_secret(p, [fresh["sso_token"], *SSO_SECRETS])


# ---- order ----------------------------------------------------------------------


def test_environment_beats_web_identity_and_imds(hoist_cli, fresh, base_env, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("t")
    env = dict(base_env, AWS_ACCESS_KEY_ID=fresh["user_key"], AWS_SECRET_ACCESS_KEY=fresh["user_secret"],
               AWS_WEB_IDENTITY_TOKEN_FILE=str(tok), AWS_ROLE_ARN="arn:aws:iam::1:role/x",
               AWS_ENDPOINT_URL_STS="http://127.0.0.1:9", AWS_EC2_METADATA_SERVICE_ENDPOINT=fresh["standin"])
    del env["AWS_EC2_METADATA_DISABLED"]
    ls_ok(hoist_cli, env, fresh)
    assert counts(fresh)["counts"] == {}


def test_web_identity_beats_profile_keys(hoist_cli, fresh, base_env, tmp_path):
    write_aws_files(base_env, """\
        [default]
        aws_access_key_id = AKIAWRONGWRONG00000
        aws_secret_access_key = wrong
        """, "")
    tok = tmp_path / "token"
    tok.write_text(fresh["web_identity_token"])
    env = dict(base_env, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok), AWS_ROLE_ARN=fresh["role_arn"],
               AWS_ENDPOINT_URL_STS=fresh["standin"])
    p = ls_ok(hoist_cli, env, fresh)
    assert "found by web identity" in p.stderr
