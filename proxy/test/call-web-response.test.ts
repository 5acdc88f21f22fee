// The browser side of a call over a real HTTP/1.1 socket, driven directly: what each of its
// operations puts on the wire, and the request events it passes to its listener.
import assert from "node:assert/strict";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { BrowserListener } from "../src/call/ports.js";
import { WebResponse } from "../src/call/web-response.js";
import { frame } from "./support/call-fakes.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe("WebResponse, the browser side over HTTP/1.1", () => {
  let server: http.Server;
  let url: string;
  let handle: Handler = () => {};

  before(async () => {
    server = http.createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/helloworld.Greeter/SayHello`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** POSTs `body` and resolves to the response's status, headers and whole body. */
  function post(body: Buffer, headers: http.OutgoingHttpHeaders = {}) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
      (resolve, reject) => {
        const req = http.request(url, { method: "POST", headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      },
    );
  }

  test("headers, messages as they come and a trailer frame; request events reach the listener", async () => {
    const seen: string[] = [];
    handle = (req, res) => {
      const web = new WebResponse(req, res, { text: false, suffix: "+proto" }, {}, "req-1");
      const listener: BrowserListener = {
        requestData: (chunk) => seen.push(`data ${chunk.length}`),
        requestFailed: () => assert.fail("over HTTP the call reads the body itself"),
        requestEnd: () => {
          seen.push("end");
          web.sendHeaders([["x-meta", "m"]]);
          assert.equal(web.headersSent, true);
          web.write(frame("one"));
          web.write(frame("two"));
          web.finish([["grpc-status", "0"]]);
        },
        browserGone: () => seen.push("gone"),
        browserDrained: () => seen.push("drained"),
      };
      assert.equal(web.headersSent, false);
      web.listen(listener);
    };
    const response = await post(frame("hello"));
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "application/grpc-web+proto");
    assert.equal(response.headers["x-meta"], "m");
    assert.equal(response.headers["x-request-id"], "req-1");
    assert.deepEqual(
      response.body,
      Buffer.concat([frame("one"), frame("two"), frame("grpc-status:0\r\n", 0x80)]),
    );
    assert.deepEqual(seen.slice(0, 2), ["data 10", "end"]);
  });

  test("text mode: every chunk and the trailer frame base64 on their own, padding and all", async () => {
    handle = (req, res) => {
      const web = new WebResponse(req, res, { text: true, suffix: "" }, {}, "req-2");
      web.sendHeaders([]);
      web.write(frame("a"));
      web.finish([["grpc-status", "0"]]);
    };
    const response = await post(Buffer.alloc(0));
    assert.equal(response.headers["content-type"], "application/grpc-web-text");
    assert.equal(
      response.body.toString(),
      frame("a").toString("base64") + frame("grpc-status:0\r\n", 0x80).toString("base64"),
    );
  });

  test("Trailers-Only: the status in the headers, an empty body, CORS exposing the status keys", async () => {
    handle = (req, res) => {
      const cors = { "access-control-allow-origin": "https://app.test" };
      const web = new WebResponse(req, res, { text: false, suffix: "" }, cors, "req-3");
      web.trailersOnly(
        [
          ["grpc-status", "5"],
          ["x-why", "gone"],
        ],
        false,
      );
    };
    const response = await post(frame("hello"), { connection: "keep-alive" });
    assert.equal(response.headers["grpc-status"], "5");
    assert.equal(response.headers["content-length"], "0");
    assert.equal(response.headers.connection, "keep-alive");
    assert.equal(
      response.headers["access-control-expose-headers"],
      "grpc-status, grpc-message, grpc-status-details-bin, x-request-id, x-why",
    );
    assert.equal(response.body.length, 0);
  });

  test("Trailers-Only while the body may still come closes the HTTP/1.1 connection", async () => {
    handle = (req, res) => {
      const web = new WebResponse(req, res, { text: false, suffix: "" }, {}, "req-4");
      web.trailersOnly([["grpc-status", "8"]], true);
    };
    const response = await post(frame("hello"), { connection: "keep-alive" });
    assert.equal(response.headers["grpc-status"], "8");
    assert.equal(response.headers.connection, "close");
  });

  test("a browser that goes away is reported to the listener", async () => {
    let listening: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      listening = resolve;
    });
    let gone: () => void = () => {};
    const wentAway = new Promise<void>((resolve) => {
      gone = resolve;
    });
    handle = (req, res) => {
      const web = new WebResponse(req, res, { text: false, suffix: "" }, {}, "req-6");
      web.listen({
        requestData: listening,
        requestEnd() {},
        requestFailed() {},
        browserGone: gone,
        browserDrained() {},
      });
    };
    const req = http.request(url, { method: "POST", agent: false });
    req.on("error", () => {});
    req.write(frame("hello").subarray(0, 3));
    await arrived;
    req.destroy();
    await wentAway;
  });
});
