#!/usr/bin/env python3
"""A local stand-in for the Artisan service and its neighbours, for demos on loopback only.

Serves, on 127.0.0.1:PORT:
  GET  /health/llm?model=NAME     503 for a failed model, else 200
  POST /admin/fail/NAME           mark a model failed   (the demo fails qwen at start)
  POST /admin/recover/NAME        mark a model healthy  ("the on-call restarted it")
  GET  /api/v1/query?query=...    a Prometheus-compatible instant query answer (vector, one sample)
  POST /slack                     a Slack incoming webhook ("ok")
  POST /pagerduty                 PagerDuty Events API v2 (202 with dedup_key)
  GET  /requests                  what was received, as JSON lines

It is a demo prop, not a test double: the project's tests use real Prometheus and PostgreSQL.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

failed = {"qwen"} if "--qwen-down" in sys.argv else set()
received = []
lock = threading.Lock()

# Values for the PromQL the Artisan runbooks ask, by a word in the query.
METRICS = [
    ("llm_errors_total", lambda: 0.82 if "qwen" in failed else 0.01),  # Qwen error rate
    ("mode=\"balanced\"", lambda: 3.1),                                # balanced p95 latency (s)
    ("api_response_seconds_bucket", lambda: 1.8),                      # API p95 latency (s)
    ("reward_mean", lambda: 140.0),
    ("reward_std", lambda: 61.0),
]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, body=b""):
        with lock:
            received.append({"method": self.command, "path": self.path, "body": body.decode(errors="replace")})

    def do_GET(self):
        self.record()
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/health/llm":
            model = query.get("model", [""])[0]
            if model in failed:
                return self.reply(503, json.dumps({"model": model, "status": "unavailable"}))
            return self.reply(200, json.dumps({"model": model, "status": "ok"}))
        if url.path == "/api/v1/query":
            promql = query.get("query", [""])[0]
            value = next((f() for word, f in METRICS if word in promql), 0.0)
            result = {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {}, "value": [time.time(), str(value)]}]}}
            return self.reply(200, json.dumps(result))
        if url.path == "/requests":
            with lock:
                return self.reply(200, "\n".join(json.dumps(r) for r in received) + "\n")
        self.reply(404, json.dumps({"error": "not found"}))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.record(body)
        path = urlparse(self.path).path
        if path.startswith("/admin/fail/"):
            failed.add(path.rsplit("/", 1)[1])
            return self.reply(200, "{}")
        if path.startswith("/admin/recover/"):
            failed.discard(path.rsplit("/", 1)[1])
            return self.reply(200, "{}")
        if path == "/slack":
            return self.reply(200, "ok", "text/plain")
        if path == "/pagerduty":
            try:
                event = json.loads(body or b"{}")
            except ValueError:
                return self.reply(400, json.dumps({"status": "invalid event"}))
            return self.reply(202, json.dumps({"status": "success", "message": "Event processed",
                                               "dedup_key": event.get("dedup_key", "demo")}))
        self.reply(404, json.dumps({"error": "not found"}))


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 18080
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"sandbox listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
