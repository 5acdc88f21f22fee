"""The test greeter on Python's C-core grpcio, after the gRPC examples' helloworld greeter_server.py.

Usage: /usr/bin/python3 greeter_server.py PORT DESCRIPTOR_BASE64 [COMPRESSION_JSON]   (PORT 0: any free port)

COMPRESSION_JSON: {"reply": "gzip"} compresses replies for clients that accept gzip; {"accept": ["identity"]}
limits the encodings requests may use (others get UNIMPLEMENTED). Default: identity replies, any request.

Behaves as greeter-plan.ts and greetings.ts describe (keep them in step). Prints one JSON line per
observation on stdout ({"method", "event", "metadata", "timeoutMs"?}) and {"listening": port} once
it serves. Exits when its stdin closes, so it never outlives the test process that started it.

Messages: there is no protoc here, so the caller passes the serialized FileDescriptorProto that
protoc-gen-es embedded in the generated TypeScript, and the message classes are built from it with
descriptor_pool + message_factory. Real protobuf parsing, rather than a hand-written decoder, means
a proxy that mangles message bytes cannot pass just because two home-made codecs agree.
"""

import base64
import json
import os
import sys
import threading
from concurrent import futures
from urllib.parse import unquote

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

ECHO_PREFIX = "x-echo-"
# request-metadata.ts drops the same keys, which grpc-js hides from handlers.
TRANSPORT_HEADERS = {"te", "content-type", "grpc-encoding", "grpc-accept-encoding", "accept-encoding"}
# Tests run up to a hundred calls at once, many of them sleeping: one thread each.
MAX_WORKERS = 128
NO_DEADLINE_S = 1e9

_print_lock = threading.Lock()


def emit(line):
    with _print_lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def message_classes(descriptor_base64):
    file_proto = descriptor_pb2.FileDescriptorProto.FromString(
        base64.b64decode(descriptor_base64 + "=" * (-len(descriptor_base64) % 4))
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    factory = message_factory.MessageFactory(pool)
    return tuple(
        factory.GetPrototype(pool.FindMessageTypeByName(f"{file_proto.package}.{name}"))
        for name in ("HelloRequest", "HelloReply")
    )


class GreeterFailure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Cancelled(Exception):
    pass


class Plan:
    """greeter-plan.ts's planGreeting."""

    def __init__(self, metadata):
        def count(key, fallback):
            value = metadata.get(key)
            return int(value) if isinstance(value, str) and value.isdigit() else fallback

        echoed = [(k, v) for k, v in metadata.items() if k.startswith(ECHO_PREFIX)]
        self.headers = echoed
        self.trailers = [("x-trailer-" + k[len(ECHO_PREFIX):], v) for k, v in echoed]
        self.sleep_ms = count("x-sleep-ms", 0)
        self.stream_count = count("x-stream-count", 3)
        self.interval_ms = count("x-stream-interval-ms", 0)
        self.reply_bytes = count("x-reply-bytes", 0) if "x-reply-bytes" in metadata else None
        self.empty = metadata.get("x-empty") == "1"
        self.failure = None
        if "x-fail-code" in metadata:
            self.failure = (
                int(metadata["x-fail-code"]),
                unquote(metadata.get("x-fail-message", ""), errors="replace"),
                count("x-fail-after", 0),
            )

    def reply(self, greeting):
        return greeting if self.reply_bytes is None else "x" * self.reply_bytes

    def trailers_after(self, messages_sent):
        """With no message sent, headers join the trailers: one Trailers-Only frame."""
        return self.trailers if messages_sent else self.headers + self.trailers


class Call:
    """One call: its observations, its plan, and a cancellable pause."""

    def __init__(self, method, context):
        self.context = context
        metadata = {}
        for key, value in context.invocation_metadata():
            if key not in TRANSPORT_HEADERS:
                metadata.setdefault(key, value)
        self.plan = Plan(metadata)
        self.seen = {
            "method": method,
            "metadata": {
                k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in metadata.items()
            },
        }
        remaining = context.time_remaining()
        # Without a deadline C-core reports one in the far future (about 2^63 ns away).
        if remaining is not None and remaining < NO_DEADLINE_S:
            self.seen["timeoutMs"] = max(0, round(remaining * 1000))
        self._lock = threading.Lock()
        self._ended = False
        self._done = threading.Event()
        emit({**self.seen, "event": "started"})
        # Runs when the RPC terminates: after a normal end, or on a client reset or passed deadline.
        context.add_callback(self._terminated)

    def end(self, event):
        with self._lock:
            if self._ended:
                return
            self._ended = True
        emit({**self.seen, "event": event})

    def _terminated(self):
        self._done.set()
        self.end("cancelled")

    def pause(self, ms):
        if self._done.is_set() or (ms > 0 and self._done.wait(ms / 1000)):
            raise Cancelled()

    def fail(self, failure, messages_sent):
        code, message = failure
        self.context.set_trailing_metadata(self.plan.trailers_after(messages_sent))
        self.end("finished")
        self.context.abort(status_code(code), message)


def status_code(number):
    # grpcio can only send the 17 known codes; the Node backends pass any x-fail-code through.
    return next(code for code in grpc.StatusCode if code.value[0] == number)


def unary_greeting(call, name):
    """greetings.ts's unaryGreeting."""
    plan = call.plan
    call.pause(plan.sleep_ms)
    if plan.failure:
        raise GreeterFailure(plan.failure[0], plan.failure[1])
    return "" if plan.empty else plan.reply(f"Hello, {name}!")


def stream_greetings(call, name):
    """greetings.ts's streamGreetings."""
    plan = call.plan
    call.pause(plan.sleep_ms)
    count = 0 if plan.empty else plan.stream_count
    fail_at = min(plan.failure[2], count) if plan.failure else count
    for i in range(fail_at):
        if i > 0:
            call.pause(plan.interval_ms)
        yield plan.reply(f"Hello, {name}! #{i + 1}")
    if plan.failure:
        if fail_at > 0:
            call.pause(plan.interval_ms)
        raise GreeterFailure(plan.failure[0], plan.failure[1])


def make_handlers(HelloRequest, HelloReply):
    def say_hello(request, context):
        call = Call("SayHello", context)
        try:
            message = unary_greeting(call, request.name)
        except GreeterFailure as failure:
            call.fail((failure.code, failure.message), 0)
        except Cancelled:
            return None
        context.send_initial_metadata(call.plan.headers)
        context.set_trailing_metadata(call.plan.trailers)
        call.end("finished")
        return HelloReply(message=message)

    def reply_all(call, replies):
        """Headers go out with the first message."""
        sent = 0
        try:
            for message in replies:
                if sent == 0:
                    call.context.send_initial_metadata(call.plan.headers)
                sent += 1
                yield HelloReply(message=message)
        except GreeterFailure as failure:
            call.fail((failure.code, failure.message), sent)
        except Cancelled:
            return
        call.context.set_trailing_metadata(call.plan.trailers_after(sent))
        call.end("finished")

    def say_hello_stream_reply(request, context):
        call = Call("SayHelloStreamReply", context)
        yield from reply_all(call, stream_greetings(call, request.name))

    def say_hello_bidi_stream(request_iterator, context):
        call = Call("SayHelloBidiStream", context)
        yield from reply_all(call, (f"Hello, {request.name}!" for request in request_iterator))

    codec = {"request_deserializer": HelloRequest.FromString, "response_serializer": HelloReply.SerializeToString}
    return grpc.method_handlers_generic_handler(
        "helloworld.Greeter",
        {
            "SayHello": grpc.unary_unary_rpc_method_handler(say_hello, **codec),
            "SayHelloStreamReply": grpc.unary_stream_rpc_method_handler(say_hello_stream_reply, **codec),
            "SayHelloBidiStream": grpc.stream_stream_rpc_method_handler(say_hello_bidi_stream, **codec),
        },
    )


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


COMPRESSIONS = {"identity": grpc.Compression.NoCompression, "deflate": grpc.Compression.Deflate,
                "gzip": grpc.Compression.Gzip}


def serve(port, descriptor_base64, compression):
    handlers = make_handlers(*message_classes(descriptor_base64))
    # A restarted backend must own its port alone, not share it with a leftover one.
    options = [("grpc.so_reuseport", 0)]
    if "accept" in compression:
        bits = sum(1 << COMPRESSIONS[name].value for name in compression["accept"])
        options.append(("grpc.compression_enabled_algorithms_bitset", bits))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS),
        handlers=[handlers],
        options=options,
        compression=COMPRESSIONS[compression.get("reply", "identity")],
    )
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    if bound == 0:
        sys.exit(f"greeter_server.py: cannot listen on 127.0.0.1:{port}")
    server.start()
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    emit({"listening": bound})
    server.wait_for_termination()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
