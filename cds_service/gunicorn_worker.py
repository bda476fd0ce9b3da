"""The gunicorn worker `cds-service serve` runs: gthread, with two changes (docs/deployment.md).

1. The answers gunicorn writes itself, before the app sees a request (400 bad request line,
   414 request line too long, 431 header fields too large, ...), are JSON OperationOutcomes,
   not HTML pages. The diagnostics never echo the request (it may hold a token).
2. A client that goes silent mid-request (a slow body, or fewer bytes than it promised) is
   cut off after `idle_timeout` seconds of silence, instead of holding a thread for ever.
"""
from __future__ import annotations

import errno
import json
import socket

from gunicorn import util
from gunicorn.workers import gthread

from cds_service.errors import operation_outcome

ISSUE_CODES = {400: "invalid", 413: "too-costly", 414: "too-costly", 431: "too-costly", 501: "not-supported"}


def json_error_bytes(status: int, reason: str) -> bytes:
    message = f"{status} {reason}: the HTTP server could not read this request."
    body = json.dumps(operation_outcome(message, code=ISSUE_CODES.get(status, "exception"))).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/fhir+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock, status_int: int, reason: str, _message: str) -> None:
    util.write_nonblock(sock, json_error_bytes(status_int, reason))


class IdleTimeoutSocket(socket.socket):
    """A client socket for which "blocking" means "blocking for at most `idle_timeout` seconds"."""

    idle_timeout = 10.0

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.idle_timeout)
        else:
            super().setblocking(False)


class CdsWorker(gthread.ThreadWorker):
    idle_timeout = 10.0  # set by `cds-service serve` from CDS_CLIENT_IDLE_TIMEOUT before the fork

    def init_process(self) -> None:
        util.write_error = write_json_error  # gunicorn's error answers go through this one function
        IdleTimeoutSocket.idle_timeout = self.idle_timeout
        super().init_process()

    def accept(self, listener) -> None:
        """gthread's accept, with the client socket made an IdleTimeoutSocket."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        timed = IdleTimeoutSocket(client_sock.family, client_sock.type, client_sock.proto, fileno=client_sock.detach())
        self.nr_conns += 1
        timed.setblocking(True)
        self.enqueue_req(gthread.TConn(self.cfg, timed, client_addr, listener.getsockname()))
