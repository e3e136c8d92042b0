"""A TCP relay in front of the API server that ends every connection after `max_seconds`, as the
load balancer in front of an EKS endpoint ends long-lived connections. TLS passes through untouched
(the client still checks the API server's certificate). A watch cut this way makes kubectl come
back with a new request, which the API server authenticates again."""

import contextlib
import socket
import threading
import time


class ConnectionCutoff:
    def __init__(self, upstream_port: int, max_seconds: float):
        self.upstream_port = upstream_port
        self.max_seconds = max_seconds
        self.cut = 0  # connections ended by the deadline
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "ConnectionCutoff":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        deadline = time.monotonic() + self.max_seconds
        done = threading.Event()

        def pump(source: socket.socket, target: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    target.sendall(data)
            done.set()

        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(source, target), daemon=True).start()
        # Either side closing ends the relay; so does the deadline (the wait is the relay's timer,
        # not a synchronisation).
        if not done.wait(max(0.0, deadline - time.monotonic())):
            with self._lock:
                self.cut += 1
        for end in (client, upstream):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
