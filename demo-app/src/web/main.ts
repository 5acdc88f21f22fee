import { ConnectError } from "@connectrpc/connect";
import { BidiPanel } from "./bidi-panel.js";
import { type GreeterCall, greeterCalls } from "./calls.js";
import { RequestForm } from "./request-form.js";
import { ResultView } from "./result-view.js";

// Set by the bundler: "" when the page is served by the proxy itself (same origin, no CORS), or the
// proxy's address when a dev server serves the page from another origin.
declare const PROXY_URL: string;
// Set by the server of the page alone (page-server.ts), when the proxy runs apart.
const proxyMeta = document.querySelector<HTMLMetaElement>('meta[name="grpc-web-proxy"]');

const calls = greeterCalls(PROXY_URL || proxyMeta?.content || location.origin);
const form = new RequestForm();
const view = new ResultView();
let running: AbortController | undefined;
new BidiPanel(calls.bidiGreetings);

form.form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run("Saying hello", calls.sayHello);
});
form.streamButton.addEventListener("click", () => void run("Streaming greetings", calls.streamGreetings));
form.cancelButton.addEventListener("click", () => running?.abort(new Error("cancelled from the page")));

async function run(what: string, call: GreeterCall): Promise<void> {
  const request = form.read();
  if (request instanceof Error) return view.reject(request.message);
  const abort = new AbortController();
  running = abort;
  form.setBusy(true);
  view.start(what);
  const startedAt = performance.now();
  const since = () => performance.now() - startedAt;
  const ticker = setInterval(() => view.showElapsed(since()), 50);
  try {
    await call(request, abort.signal, {
      headers: (headers) => view.showHeaders(headers),
      reply: (message) => view.addReply(message, since()),
      trailers: (trailers) => view.showTrailers(trailers),
    });
    view.finish({ code: 0, message: "" });
  } catch (thrown) {
    // Every call fails with a ConnectError; anything else is a bug in this page, shown all the same. A
    // failed call's response headers and trailers come merged, as the error's metadata.
    const error = ConnectError.from(thrown);
    view.showTrailers(error.metadata);
    view.finish({ code: error.code, message: error.rawMessage });
  } finally {
    clearInterval(ticker);
    view.showElapsed(since());
    running = undefined;
    form.setBusy(false);
  }
}
