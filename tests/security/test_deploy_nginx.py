"""deploy/nginx.conf in front of gunicorn, on loopback with a self-signed certificate.

Skipped when nginx is not installed (it is not one of the test's Debian packages: installing
it starts a system service). Checks: the file passes ``nginx -t``; static files come from
nginx itself; /sw.js comes from the app, uncached; with SURVEYAPP_PROXY_FIX=1 the app sees
HTTPS and the browser's host, so the session cookie is Secure and the offline app's
same-origin session requests to the sync API pass the origin check.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
from urllib.parse import urlencode

import pytest

from ..conftest import PG_URL, ROOT
from .test_fault_sigkill import Server, _free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
    pytest.mark.skipif(bool(PG_URL), reason="runs on its own SQLite file"),
]
HOST = "survey.example.org"


def _site(tmp, app_port: int, http_port: int, https_port: int) -> str:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server 127.0.0.1:5000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/survey.example.org/": f"{tmp}/",
        "/srv/surveyapp/": f"{ROOT}/",
        "/etc/nginx/surveyapp_proxy_params.conf": str(
            ROOT / "deploy" / "surveyapp_proxy_params.conf"
        ),
        "/var/www/letsencrypt": str(tmp),
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx.conf no longer has {old!r}; update this test"
        site = site.replace(old, new)
    # IPv6 may be missing on the test machine.
    return "\n".join(line for line in site.splitlines() if "listen [::]" not in line)


def _main_conf(tmp, site: str) -> str:
    user = "user root root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
{temp}
{site}
}}
"""


def _https(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": f"{HOST}:{port}", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_nginx_sample_in_front_of_gunicorn(demo_database, tmp_path):
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_main_conf(tmp_path, _site(tmp_path, app_port, http_port, https_port)))
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr

    db_file = tmp_path / "nginx.sqlite"
    shutil.copy(demo_database, db_file)
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{db_file}",
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYAPP_SECRET_KEY": "nginx-test",
        "SURVEYAPP_PROXY_FIX": "1",
        "SURVEYAPP_SECURE_COOKIES": "true",
    }
    env.pop("SURVEYAPP_TEST_DATABASE_URL", None)
    server = Server(app_port, env, tmp_path / "gunicorn.log")
    nginx = None
    try:
        server.start()
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                status, headers, body = _https(https_port, "GET", "/static/css/app.css")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                time.sleep(0.1)
        # Static files: from nginx (the app would add its CSP header).
        assert status == 200 and body == (ROOT / "surveyapp/static/css/app.css").read_bytes()
        assert "Content-Security-Policy" not in headers
        assert headers["Strict-Transport-Security"].startswith("max-age=")

        # Plain HTTP redirects to HTTPS.
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        conn.request("GET", "/auth/login", headers={"Host": HOST})
        redirect = conn.getresponse()
        assert redirect.status == 301
        assert redirect.getheader("Location") == f"https://{HOST}/auth/login"
        conn.close()

        # The service worker: generated by the app, never cached.
        status, headers, body = _https(https_port, "GET", "/sw.js")
        assert status == 200 and b"__VERSION__" not in body
        assert "no-cache" in headers["Cache-Control"]

        # Log in through the proxy: the app knows it is HTTPS (Secure cookie) and the host.
        status, headers, page = _https(https_port, "GET", "/auth/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        status, headers, _ = _https(
            https_port,
            "POST",
            "/auth/login",
            urlencode(
                {"csrf_token": token, "username": "enumerator", "password": "enumerator-demo-2026"}
            ).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Origin": f"https://{HOST}:{https_port}",
                "Referer": f"https://{HOST}:{https_port}/auth/login",
            },
        )
        assert status == 302, headers
        session_cookie = headers["Set-Cookie"]
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        # A same-origin session request of the offline app reaches the API's checks.
        status, _, body = _https(
            https_port,
            "POST",
            "/api/v1/submissions",
            b"[]",
            {
                "Content-Type": "application/json",
                "Cookie": session_cookie.split(";", 1)[0],
                "Origin": f"https://{HOST}:{https_port}",
            },
        )
        assert status == 400, body  # an empty batch, past the origin check
        # A large upload is refused by nginx before the app (client_max_body_size 16m).
        status, _, _ = _https(
            https_port,
            "POST",
            "/api/v1/submissions",
            b"x" * (17 << 20),
            {"Content-Type": "application/json"},
        )
        assert status == 413
    finally:
        if nginx is not None:
            os.killpg(nginx.pid, signal.SIGTERM)
            nginx.wait(timeout=10)
        server.stop()
