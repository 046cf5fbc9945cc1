"""Loopback stand-ins for the credential endpoints hoist's chain talks to
(IMDSv2, the ECS/EKS container endpoint, the SSO portal, and STS's
AssumeRoleWithWebIdentity, which moto's server cannot answer with
authentication on since the call is unsigned), backed by real
temporary credentials from moto's STS, which moto's S3 then checks.

Run as a script: starts moto's server with authentication on (IAM users,
roles and STS sessions are enforced), creates a role, a user with keys and a
bucket `hoist-cred` holding `hello.txt`, starts the stand-in on a free
127.0.0.1 port, prints one JSON line with the addresses and the user's keys,
and serves until stdin closes (the test that started it exits).

Every credential answer comes from a fresh moto AssumeRole, so two fetches
give two different access keys; the stand-in counts requests per endpoint
(GET /_count) and can claim an earlier Expiration than moto's
(POST /_config {"expires_in": N}) to exercise refresh ahead of expiry.
"""
import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE_ARN = "arn:aws:iam::123456789012:role/hoist-role"
IMDS_TOKEN = "imds-session-token-7f3a"
BUCKET = "hoist-cred"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_moto():
    port = free_port()
    env = dict(os.environ)
    # the setup below makes exactly 5 unauthenticated IAM calls
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    return proc, url


def setup_moto(url):
    import boto3
    kw = dict(endpoint_url=url, region_name="us-east-1",
              aws_access_key_id="AKIASETUP000000000", aws_secret_access_key="setup")
    iam = boto3.client("iam", **kw)
    allow_all = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="hoist-role", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="hoist-role", PolicyName="all", PolicyDocument=allow_all)
    iam.create_user(UserName="hoist-user")
    iam.put_user_policy(UserName="hoist-user", PolicyName="all", PolicyDocument=allow_all)
    key = iam.create_access_key(UserName="hoist-user")["AccessKey"]
    user = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"])
    s3 = boto3.client("s3", **user)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="hello.txt", Body=b"hello from moto\n")
    return key["AccessKeyId"], key["SecretAccessKey"], boto3.client("sts", **user)


class State:
    def __init__(self, sts):
        self.sts = sts
        self.lock = threading.Lock()
        self.counts = {}
        self.expires_in = None
        self.container_token = "container-auth-token-91b2"
        self.sso_token = "sso-access-token-55c1"
        # the OIDC client registration and refresh token `aws sso login` caches
        self.oidc_client = ["oidc-client-id-7e", "oidc-client-secret-3f0a"]
        self.sso_refresh_token = "sso-refresh-token-a1"
        self.sso_refreshes = 0
        self.web_identity_token = "eyJ-web-identity-token-0d9e"
        self.delay = 0.0
        self.issued = []  # access key ids handed out, in order
        self.expired = set()  # keys the S3 relay answers ExpiredToken for
        self.secrets = []  # their secret keys and session tokens (tests check none leaks)

    def count(self, name):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1

    def creds(self):
        c = self.sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="standin")["Credentials"]
        exp = c["Expiration"]
        if self.expires_in is not None:
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.expires_in)
        with self.lock:
            self.issued.append(c["AccessKeyId"])
            self.secrets += [c["SecretAccessKey"], c["SessionToken"]]
        return c, exp.strftime("%Y-%m-%dT%H:%M:%SZ"), int(exp.timestamp() * 1000)


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body, ctype="text/plain"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_PUT(self):
            self.read_body()
            if self.path == "/latest/api/token":
                state.count("imds_token")
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self.send(400, "missing ttl")
                return self.send(200, IMDS_TOKEN)
            self.send(404, "not found")

        def sts_error(self, code, message):
            self.send(400, f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                           f"<Message>{message}</Message></Error></ErrorResponse>", "text/xml")

        def web_identity(self, form):
            """STS AssumeRoleWithWebIdentity: unsigned, the token proves who asks."""
            state.count("sts_web_identity")
            if self.headers.get("Authorization") or self.headers.get("X-Amz-Security-Token"):
                return self.sts_error("InvalidRequest", "AssumeRoleWithWebIdentity must not be signed")
            if form.get("Version") != ["2011-06-15"] or not form.get("RoleSessionName"):
                return self.sts_error("ValidationError", "missing Version or RoleSessionName")
            if form.get("WebIdentityToken") != [state.web_identity_token]:
                return self.sts_error("InvalidIdentityToken", "bad token")
            if form.get("RoleArn") != [ROLE_ARN]:
                return self.sts_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
            time.sleep(state.delay)
            c, exp, _ = state.creds()
            self.send(200, f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:hoist</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>{ROLE_ARN}/{form["RoleSessionName"][0]}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>{c["SessionToken"]}</SessionToken>
      <SecretAccessKey>{c["SecretAccessKey"]}</SecretAccessKey>
      <Expiration>{exp}</Expiration>
      <AccessKeyId>{c["AccessKeyId"]}</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>""", "text/xml")

        def do_POST(self):
            body = self.read_body()
            if self.path == "/":
                form = urllib.parse.parse_qs(body.decode())
                if form.get("Action") == ["AssumeRoleWithWebIdentity"]:
                    return self.web_identity(form)
                return self.sts_error("InvalidAction", "only AssumeRoleWithWebIdentity here")
            if self.path == "/token":
                return self.oidc_create_token(body)
            if self.path == "/_config":
                cfg = json.loads(body or b"{}")
                with state.lock:
                    for k, v in cfg.items():
                        if k == "expire_issued":
                            state.expired |= set(state.issued)
                        else:
                            setattr(state, k, v)
                return self.send(200, "{}")
            if self.path == "/_reset":
                with state.lock:
                    state.counts = {}
                    state.issued = []
                    state.secrets = []
                    state.expired = set()
                    state.sso_token = "sso-access-token-55c1"
                    state.sso_refresh_token = "sso-refresh-token-a1"
                return self.send(200, "{}")
            self.send(404, "not found")

        def oidc_create_token(self, body):
            """SSO OIDC CreateToken, grant type refresh_token (unsigned JSON;
            OAuth error codes as the service answers them). Hands out a new
            access token (the portal accepts only it from then on) and a new
            refresh token."""
            state.count("oidc")
            if self.headers.get("Authorization"):
                return self.send(400, json.dumps({"error": "invalid_request"}), "application/json")
            req = json.loads(body or b"{}")
            if req.get("grantType") != "refresh_token":
                return self.send(400, json.dumps({"error": "unsupported_grant_type"}), "application/json")
            if [req.get("clientId"), req.get("clientSecret")] != state.oidc_client:
                return self.send(401, json.dumps({"error": "invalid_client"}), "application/json")
            if req.get("refreshToken") != state.sso_refresh_token:
                return self.send(400, json.dumps({"error": "invalid_grant"}), "application/json")
            with state.lock:
                state.sso_refreshes += 1
                state.sso_token = "sso-access-token-r%d" % state.sso_refreshes
                state.sso_refresh_token = "sso-refresh-token-r%d" % state.sso_refreshes
                state.secrets += [state.sso_token, state.sso_refresh_token]
            self.send(200, json.dumps({"accessToken": state.sso_token, "tokenType": "Bearer", "expiresIn": 28800,
                                       "refreshToken": state.sso_refresh_token}), "application/json")

        def imds(self, path):
            # IMDSv2 only: no token, no answer (like an instance with
            # HttpTokens=required)
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.send(401, "")
            base = "/latest/meta-data/iam/security-credentials/"
            if path == base:
                state.count("imds_role")
                return self.send(200, "hoist-role")
            if path == base + "hoist-role":
                state.count("imds_creds")
                time.sleep(state.delay)
                c, exp, _ = state.creds()
                return self.send(200, json.dumps({
                    "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": c["AccessKeyId"],
                    "SecretAccessKey": c["SecretAccessKey"], "Token": c["SessionToken"],
                    "Expiration": exp}), "application/json")
            if path == "/latest/meta-data/placement/region":
                state.count("imds_region")
                return self.send(200, "eu-north-1")
            return self.send(404, "")

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            if u.path == "/_count":
                with state.lock:
                    return self.send(200, json.dumps({"counts": state.counts, "issued": state.issued,
                                                 "secrets": state.secrets}),
                                     "application/json")
            if u.path.startswith("/latest/"):
                return self.imds(u.path)
            if u.path == "/container/creds":
                state.count("container")
                if self.headers.get("Authorization") != state.container_token:
                    return self.send(403, json.dumps({"code": "AccessDenied", "message": "bad token"}))
                time.sleep(state.delay)
                c, exp, _ = state.creds()
                return self.send(200, json.dumps({
                    "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                    "Token": c["SessionToken"], "Expiration": exp, "RoleArn": ROLE_ARN}),
                    "application/json")
            if u.path == "/federation/credentials":
                state.count("sso")
                q = urllib.parse.parse_qs(u.query)
                if self.headers.get("x-amz-sso_bearer_token") != state.sso_token:
                    return self.send(401, json.dumps({"message": "Session token not found or invalid"}))
                if q.get("account_id") != ["123456789012"] or q.get("role_name") != ["hoist-role"]:
                    return self.send(403, json.dumps({"message": "No access"}))
                c, _, exp_ms = state.creds()
                return self.send(200, json.dumps({"roleCredentials": {
                    "accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"],
                    "sessionToken": c["SessionToken"], "expiration": exp_ms}}), "application/json")
            self.send(404, "not found")

    return Handler


EXPIRED = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ExpiredToken</Code>"
           b"<Message>The provided token has expired.</Message></Error>")


def make_relay(state, moto_url):
    """An S3 relay in front of moto that answers 400 ExpiredToken for the
    keys marked expired (POST /_config {"expire_issued": true} on the
    stand-in), as S3 does when temporary credentials run out mid-transfer.
    Everything else is forwarded unchanged (Host included, so signatures
    stay valid)."""
    host, port = urllib.parse.urlparse(moto_url).netloc.split(":")

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def relay(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            auth = self.headers.get("Authorization") or ""
            akid = auth.split("Credential=")[1].split("/")[0] if "Credential=" in auth else ""
            with state.lock:
                expired = akid in state.expired
                if expired:
                    state.counts["expired_answers"] = state.counts.get("expired_answers", 0) + 1
            if expired:
                self.send_response(400)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(EXPIRED)))
                self.end_headers()
                self.wfile.write(EXPIRED)
                return
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            length = r.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    return Relay


def main():
    moto, moto_url = start_moto()
    try:
        user_key, user_secret, sts = setup_moto(moto_url)
        state = State(sts)
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        relay = ThreadingHTTPServer(("127.0.0.1", 0), make_relay(state, moto_url))
        relay.daemon_threads = True
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        print(json.dumps({
            "moto": moto_url, "standin": f"http://127.0.0.1:{server.server_address[1]}",
            "s3_relay": f"http://127.0.0.1:{relay.server_address[1]}",
            "user_key": user_key, "user_secret": user_secret, "role_arn": ROLE_ARN,
            "bucket": BUCKET, "imds_token": IMDS_TOKEN, "container_token": state.container_token,
            "sso_token": state.sso_token,
            "web_identity_token": state.web_identity_token}), flush=True)
        sys.stdin.read()  # until the parent goes away
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
