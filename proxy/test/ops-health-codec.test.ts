// The grpc.health.v1 messages, checked against @bufbuild/protobuf's own wire encoder and decoder.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from "../src/ops/health-codec.js";
import { Code } from "../src/protocol/status.js";
import { assertGrpcError } from "./support/assert-grpc-error.js";
import { frame } from "./support/chunks.js";

function serviceIn(request: Buffer): string | undefined {
  assert.equal(request[0], 0, "uncompressed");
  assert.equal(request.readUInt32BE(1), request.length - 5);
  const reader = new BinaryReader(request.subarray(5));
  let service: string | undefined;
  while (reader.pos < reader.len) {
    const [field] = reader.tag();
    assert.equal(field, 1);
    service = reader.string();
  }
  return service;
}

describe("grpc.health.v1 HealthCheckRequest", () => {
  for (const service of ["helloworld.Greeter", "", "ünïcödé.Service", "x".repeat(300)]) {
    test(`service ${JSON.stringify(service.slice(0, 20))} (${service.length} chars) reads back`, () => {
      // proto3 leaves an empty string out: the whole server is the empty message.
      assert.equal(serviceIn(encodeHealthCheckRequest(service)) ?? "", service);
    });
  }
});

describe("grpc.health.v1 HealthCheckResponse", () => {
  const response = (write: (w: BinaryWriter) => void) => {
    const writer = new BinaryWriter();
    write(writer);
    return frame(0, Buffer.from(writer.finish()));
  };

  test("each serving status by number", () => {
    const names = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
    for (const [status, name] of names.entries()) {
      assert.equal(decodeHealthCheckResponse(response((w) => w.tag(1, 0).int32(status))), name);
    }
  });

  test("an empty message is UNKNOWN (proto3 leaves the zero value out)", () => {
    assert.equal(decodeHealthCheckResponse(frame(0, Buffer.alloc(0))), "UNKNOWN");
  });

  test("an enum number from a newer server is UNKNOWN", () => {
    assert.equal(decodeHealthCheckResponse(response((w) => w.tag(1, 0).int32(300))), "UNKNOWN");
  });

  test("unknown fields of every wire type are skipped", () => {
    const body = response((w) =>
      w
        .tag(7, 2)
        .string("later field")
        .tag(8, 1)
        .fixed64(1n)
        .tag(9, 5)
        .fixed32(2)
        .tag(10, 0)
        .uint64(2n ** 40n)
        .tag(1, 0)
        .int32(1),
    );
    assert.equal(decodeHealthCheckResponse(body), "SERVING");
  });

  const serving = response((w) => w.tag(1, 0).int32(1));
  const badBodies: Array<[string, Buffer]> = [
    ["no frame", Buffer.alloc(0)],
    ["half a frame header", serving.subarray(0, 3)],
    ["a compressed frame", Buffer.concat([Buffer.from([1]), serving.subarray(1)])],
    ["a frame cut short", serving.subarray(0, serving.length - 1)],
    ["a varint cut short", frame(0, Buffer.from([0x08, 0x80]))],
    ["a length past the end", frame(0, Buffer.from([0x3a, 0x05, 0x61]))],
    ["wire type 3 (groups)", frame(0, Buffer.from([0x0b]))],
  ];
  for (const [name, body] of badBodies) {
    test(`${name} is an INTERNAL error, never a status`, () => {
      assertGrpcError(decodeHealthCheckResponse(body), Code.INTERNAL, /HealthCheckResponse/);
    });
  }
});
