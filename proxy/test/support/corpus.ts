// The malformed-input corpus: checked-in JSON files of raw HTTP/1.1 requests, each with the answer the proxy must
// give. The format is described in proxy/test/corpus/README.md.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { framedHelloRequest } from "./hello-messages.js";

export interface CorpusExpectation {
  /** The HTTP status, or "none": the connection closes without any response. */
  readonly http: number | "none";
  /** grpc-status from the headers or the trailer frame; not checked when absent. */
  readonly grpcStatus?: number;
  /** The server closes the connection after answering; when false the connection must serve another call. */
  readonly closes: boolean;
  /** The request reached the backend (refused by its framework or not); "either" when timing decides (a deadline
   *  racing the call). Default false. */
  readonly forwarded?: boolean | "either";
  /** The HelloReply message of a successful call. */
  readonly reply?: string;
  /** Request header names that must not reach the backend. */
  readonly upstreamLacks?: readonly string[];
  /** Response headers, by lower-case name: the value, or null for absent. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

export interface CorpusCase {
  readonly name: string;
  /** Why the answer is right: the rule or the attack behind the case. */
  readonly why?: string;
  /** Request line and header lines: joined with CRLF and ended with a blank line. */
  readonly head?: readonly string[];
  /** The exact request bytes (latin1) instead of head + body, for line endings no client would send. */
  readonly raw?: string;
  /** "hello" (a framed HelloRequest for "Ada"), "hello-text" (the same, base64), "hex:…" or "text:…". */
  readonly body?: string;
  readonly expect: CorpusExpectation;
}

export interface CorpusFile {
  readonly file: string;
  readonly about: string;
  readonly cases: readonly CorpusCase[];
}

const CORPUS_DIR = new URL("../corpus/", import.meta.url);
const HELLO = framedHelloRequest("Ada");

export function loadCorpus(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((file) => {
      const parsed = JSON.parse(readFileSync(new URL(file, CORPUS_DIR), "utf8")) as Omit<CorpusFile, "file">;
      for (const c of parsed.cases) checkCase(file, c);
      return { file: path.basename(file, ".json"), ...parsed };
    });
}

/** The request bytes of a case: `{length}` becomes the body's length, `<<N*TEXT>>` N copies of TEXT (# = index). */
export function requestBytes(c: CorpusCase): Buffer {
  if (c.raw !== undefined) return Buffer.from(expand(c.raw, 0), "latin1");
  const body = bodyBytes(c.body);
  const head = expand(`${(c.head ?? []).join("\r\n")}\r\n\r\n`, body.length);
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

export function isHead(c: CorpusCase): boolean {
  return (c.raw ?? c.head?.[0] ?? "").startsWith("HEAD ");
}

function bodyBytes(body: string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (body === "hello") return HELLO;
  if (body === "hello-text") return Buffer.from(HELLO.toString("base64"), "latin1");
  if (body.startsWith("hex:")) return Buffer.from(body.slice(4).replace(/\s/g, ""), "hex");
  if (body.startsWith("text:")) return Buffer.from(expand(body.slice(5), 0), "latin1");
  throw new Error(`unknown corpus body ${JSON.stringify(body)}`);
}

function expand(text: string, length: number): string {
  return text
    .replace(/<<(\d+)\*(.*?)>>/gs, (_, count: string, unit: string) =>
      Array.from({ length: Number(count) }, (_, i) => unit.replaceAll("#", String(i))).join(""),
    )
    .replaceAll("{length}", String(length));
}

function checkCase(file: string, c: CorpusCase): void {
  const where = `${file}: "${c.name}"`;
  if ((c.head === undefined) === (c.raw === undefined))
    throw new Error(`${where}: give head or raw, not both`);
  if (c.raw !== undefined && c.body !== undefined) throw new Error(`${where}: raw holds the body too`);
  if (c.expect.http === "none" && !c.expect.closes)
    throw new Error(`${where}: no response means a closed connection`);
}
