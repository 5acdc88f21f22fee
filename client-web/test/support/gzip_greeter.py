"""The grpcio test greeter of proxy/test/support/greeter_server.py, served with message compression.

Usage: /usr/bin/python3 gzip_greeter.py DESCRIPTOR_BASE64 ACCEPT

Replies are gzip-compressed for clients whose grpc-accept-encoding allows it; ACCEPT is the
comma-separated list of encodings it takes requests in ("identity,gzip", or "identity" for a backend
that answers a gzip request UNIMPLEMENTED). Prints {"listening": port} once it serves, and exits when
its stdin closes.
"""

import os
import sys
import threading
from concurrent import futures

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../proxy/test/support"))
import greeter_server  # noqa: E402

ENCODINGS = {"identity": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip}


def serve(descriptor_base64, accept):
    handlers = greeter_server.make_handlers(*greeter_server.message_classes(descriptor_base64))
    enabled = sum(1 << ENCODINGS[name].value for name in accept.split(","))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16),
        handlers=[handlers],
        options=[("grpc.so_reuseport", 0), ("grpc.compression_enabled_algorithms_bitset", enabled)],
        compression=grpc.Compression.Gzip,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    threading.Thread(target=greeter_server.exit_when_stdin_closes, daemon=True).start()
    greeter_server.emit({"listening": port})
    server.wait_for_termination()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
