"""A local stand-in for the ad platforms' APIs on 127.0.0.1, started by the tests. Each request takes the
next scripted answer for its path prefix (default: a success in that platform's format); every request
is recorded with its headers and JSON body."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlparse


def created_answer(path: str, ids) -> dict | list:
    """A success the way each platform answers a write (ids count up so chained ids can be checked)."""
    n = next(ids)
    if "googleAds:mutate" in path:
        return {
            "mutateOperationResponses": [
                {"campaignBudgetResult": {"resourceName": f"customers/1/campaignBudgets/{n}"}},
                {"campaignResult": {"resourceName": f"customers/1/campaigns/{n}"}},
            ]
        }
    if "/customers/" in path:
        kind = path.rsplit("/", 1)[-1].split(":")[0]
        return {"results": [{"resourceName": f"customers/1/{kind}/{n}"}], "resourceName": f"customers/1/{kind}/{n}"}
    if path.startswith("/open_api/"):
        key = (
            "adgroup_id"
            if "/adgroup/" in path
            else "ad_ids"
            if "/ad/" in path
            else "audience_id"
            if "/segment/" in path
            else "campaign_id"
        )
        return {"code": 0, "message": "OK", "data": {key: [str(n)] if key == "ad_ids" else str(n)}}
    return {"id": str(n)}


@contextmanager
def platform_server():
    """Yields (base_url, state): state.script maps a path prefix to a list of answers
    (status, body, headers), ("sleep", seconds) before the default answer, or ("drop",): the connection
    closed after the request was read, before any answer; state.requests lists what arrived, each with
    its ``outcome`` (the status answered, or "dropped")."""

    class State:
        script: dict = {}
        requests: list = []

    state = State()
    state.script, state.requests = {}, []
    ids = count(100)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parsed = urlparse(self.path)
            record = {
                "method": self.command,
                "path": parsed.path,
                "query": parse_qs(parsed.query),
                "headers": dict(self.headers),
                "body": json.loads(raw) if raw else None,
                "at": time.monotonic(),
            }
            with lock:
                state.requests.append(record)
                queue = next((q for prefix, q in state.script.items() if parsed.path.startswith(prefix) and q), None)
                action = queue.pop(0) if queue else None
            if action and action[0] == "drop":
                record["outcome"] = "dropped"
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)  # applied, but the client never hears so
                return
            if action and action[0] == "sleep":
                time.sleep(action[1])
                action = None
            status, body, headers = action if action else (200, created_answer(parsed.path, ids), {})
            record["outcome"] = status
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        server.shutdown()
        server.server_close()
