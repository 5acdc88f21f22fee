// An OTLP/HTTP trace receiver for tests: a real HTTP server on loopback that decodes what the exporter posts, JSON
// or protobuf (read field by field against opentelemetry-proto's numbers), and keeps the spans.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { waitFor } from "../../../testing/net.js";

/** One span as the receiver decoded it, whichever the encoding. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: ReadonlyMap<string, string | number | boolean>;
  readonly events: readonly string[];
  readonly status: { readonly code: number; readonly message: string };
  readonly serviceName: string | undefined;
}

/** OTLP's Span.SpanKind and Status.StatusCode. */
export const SPAN_KIND_CLIENT = 3;
export const STATUS_CODE_ERROR = 2;
export const STATUS_CODE_UNSET = 0;

/** An OTLP/HTTP trace receiver: a real server on loopback that keeps the spans it is sent. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes: string[] = [];
  readonly #server: Server;
  /** The status code it answers with. */
  status = 200;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const type = req.headers["content-type"] ?? "";
        this.contentTypes.push(type);
        if (req.url === "/v1/traces" && this.status === 200) {
          const body = Buffer.concat(chunks);
          this.spans.push(...(type === "application/json" ? spansFromJson(body) : spansFromProtobuf(body)));
        }
        res.writeHead(this.status, { "content-type": type }).end();
      });
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves to the spans once `count` have arrived. */
  waitForSpans(count: number, timeoutMs = 15_000): Promise<ReceivedSpan[]> {
    return waitFor(() => (this.spans.length >= count ? this.spans : undefined), timeoutMs);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- OTLP JSON (opentelemetry-proto's JSON mapping: ids in hex, enums as numbers)

interface JsonValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value: JsonValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  events?: { name: string }[];
  status?: { code?: number; message?: string };
}
interface JsonExport {
  resourceSpans: { resource: { attributes: JsonKeyValue[] }; scopeSpans: { spans: JsonSpan[] }[] }[];
}

function spansFromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString()) as JsonExport;
  return request.resourceSpans.flatMap(({ resource, scopeSpans }) => {
    const serviceName = jsonAttributes(resource.attributes).get("service.name") as string | undefined;
    return scopeSpans.flatMap(({ spans }) =>
      spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? "",
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes ?? []),
        events: (span.events ?? []).map((event) => event.name),
        status: { code: span.status?.code ?? STATUS_CODE_UNSET, message: span.status?.message ?? "" },
        serviceName,
      })),
    );
  });
}

function jsonAttributes(list: readonly JsonKeyValue[]): Map<string, string | number | boolean> {
  return new Map(
    list.map(({ key, value }) => [
      key,
      value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue),
    ]),
  );
}

// ---- OTLP protobuf, read with the wire reader against opentelemetry-proto's field numbers

type Fields = Map<number, (Uint8Array | bigint)[]>;

/** A message's fields by number: length-delimited ones as bytes, varints as numbers. */
function fields(bytes: Uint8Array): Fields {
  const reader = new BinaryReader(bytes);
  const result: Fields = new Map();
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    let value: Uint8Array | bigint;
    if (wireType === WireType.LengthDelimited) value = reader.bytes();
    else if (wireType === WireType.Varint) value = BigInt(reader.uint64());
    else {
      reader.skip(wireType, number);
      continue;
    }
    result.set(number, [...(result.get(number) ?? []), value]);
  }
  return result;
}

const messages = (f: Fields, n: number) => (f.get(n) ?? []).map((v) => fields(v as Uint8Array));
const text = (f: Fields, n: number) =>
  Buffer.from((f.get(n)?.[0] as Uint8Array | undefined) ?? []).toString();
const hex = (f: Fields, n: number) =>
  Buffer.from((f.get(n)?.[0] as Uint8Array | undefined) ?? []).toString("hex");
const varint = (f: Fields, n: number) => Number((f.get(n)?.[0] as bigint | undefined) ?? 0n);

function protobufAttributes(list: Fields[]): Map<string, string | number | boolean> {
  // KeyValue { key = 1; value = 2 }, AnyValue { string_value = 1; bool_value = 2; int_value = 3 }
  return new Map(
    list.map((keyValue) => {
      const value = messages(keyValue, 2)[0] ?? new Map();
      const decoded = value.has(1)
        ? text(value, 1)
        : value.has(2)
          ? varint(value, 2) === 1
          : varint(value, 3);
      return [text(keyValue, 1), decoded];
    }),
  );
}

function spansFromProtobuf(body: Buffer): ReceivedSpan[] {
  // ExportTraceServiceRequest { resource_spans = 1 }, ResourceSpans { resource = 1; scope_spans = 2 },
  // Resource { attributes = 1 }, ScopeSpans { spans = 2 }
  return messages(fields(body), 1).flatMap((resourceSpans) => {
    const resource = messages(resourceSpans, 1)[0] ?? new Map();
    const serviceName = protobufAttributes(messages(resource, 1)).get("service.name") as string | undefined;
    return messages(resourceSpans, 2).flatMap((scopeSpans) =>
      // Span { trace_id = 1; span_id = 2; parent_span_id = 4; name = 5; kind = 6; attributes = 9; events = 11;
      //        status = 15 }, Span.Event { name = 2 }, Status { message = 2; code = 3 }
      messages(scopeSpans, 2).map((span) => {
        const status = messages(span, 15)[0] ?? new Map();
        return {
          traceId: hex(span, 1),
          spanId: hex(span, 2),
          parentSpanId: hex(span, 4),
          name: text(span, 5),
          kind: varint(span, 6),
          attributes: protobufAttributes(messages(span, 9)),
          events: messages(span, 11).map((event) => text(event, 2)),
          status: { code: varint(status, 3), message: text(status, 2) },
          serviceName,
        };
      }),
    );
  });
}
