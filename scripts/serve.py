#!/usr/bin/env python3
"""Serve the repository over HTTP for the www/ demo (and the browser tests).

    python3 scripts/serve.py [--port 8080] [--bind 127.0.0.1] [--no-csp] [--isolate] [--root DIR]

Sends a strict Content-Security-Policy (the package must work under it):
    default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; ...
--isolate adds COOP/COEP (cross-origin isolation), for benchmarks of threaded peers.
A service worker script (a file named sw.js) may take scope '/' (`Service-Worker-Allowed: /`): the
demo's worker script is /pkg/worker-entry.js, outside /www/, and a worker is controlled only by a
registration whose scope holds its script. --root serves another folder than the repository.
MINIRANK_SERVE_LOG=1 logs each request to stderr.
"""
import argparse, functools, http.server, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
       "connect-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
                      ".jsonl": "application/x-ndjson", ".onnx": "application/octet-stream",
                      ".webmanifest": "application/manifest+json"}
    csp = True
    isolate = False
    etag = None

    def send_head(self):
        # A strong validator (nanosecond mtime and size) instead of the base class's
        # If-Modified-Since check, whose one-second granularity answers 304 for a file replaced
        # within the second it was last fetched (the browser then keeps the old bytes).
        self.etag = None
        path = self.translate_path(self.path)
        if os.path.isfile(path):
            st = os.stat(path)
            self.etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            if self.headers.get("If-None-Match") == self.etag:
                self.send_response(304)
                self.end_headers()
                return None
        return super().send_head()

    def end_headers(self):
        if self.etag:
            self.send_header("ETag", self.etag)
        if self.csp:
            self.send_header("Content-Security-Policy", CSP)
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        if self.path.split("?")[0].endswith("/sw.js"):
            self.send_header("Service-Worker-Allowed", "/")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if os.environ.get("MINIRANK_SERVE_LOG"):
            super().log_message(fmt, *args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--no-csp", action="store_true")
    ap.add_argument("--isolate", action="store_true")
    ap.add_argument("--root", default=ROOT)
    a = ap.parse_args()
    Handler.csp = not a.no_csp
    Handler.isolate = a.isolate
    server = http.server.ThreadingHTTPServer((a.bind, a.port), functools.partial(Handler, directory=a.root))
    print(f"serving {a.root} at http://{a.bind}:{server.server_address[1]}/www/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
