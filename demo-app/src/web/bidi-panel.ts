import { ConnectError } from "@connectrpc/connect";
import { codeName } from "@grpc-web-bridge/client-web";
import type { BidiGreetings } from "./calls.js";
import { byId } from "./dom.js";
import { fillTable, setBadge } from "./result-view.js";

/**
 * The third panel: one SayHelloBidiStream call held open over a WebSocket. Names are sent one at a time
 * while the call runs; each greeting shows as it comes back.
 */
export class BidiPanel {
  private readonly name = byId("bidi-name", HTMLInputElement);
  private readonly openButton = byId("bidi-open", HTMLButtonElement);
  private readonly sendButton = byId("bidi-send", HTMLButtonElement);
  private readonly finishButton = byId("bidi-finish", HTMLButtonElement);
  private readonly cancelButton = byId("bidi-cancel", HTMLButtonElement);
  private readonly badge = byId("bidi-status", HTMLSpanElement);
  private readonly message = byId("bidi-message", HTMLParagraphElement);
  private readonly replies = byId("bidi-replies", HTMLOListElement);
  private readonly trailers = byId("bidi-trailers", HTMLTableElement);

  constructor(open: BidiGreetings) {
    this.openButton.addEventListener("click", () => void this.run(open));
  }

  private async run(open: BidiGreetings): Promise<void> {
    const abort = new AbortController();
    const call = open(abort.signal, {
      reply: (message) =>
        this.replies.append(Object.assign(document.createElement("li"), { textContent: message })),
      trailers: (trailers) => fillTable(this.trailers, trailers),
    });
    const send = () => call.send(this.name.value);
    const finish = () => {
      call.finish();
      this.sendButton.disabled = true;
      this.finishButton.disabled = true;
    };
    const cancel = () => abort.abort(new Error("cancelled from the page"));
    this.sendButton.addEventListener("click", send);
    this.finishButton.addEventListener("click", finish);
    this.cancelButton.addEventListener("click", cancel);
    this.setOpen(true);
    this.replies.replaceChildren();
    fillTable(this.trailers, new Headers());
    setBadge(this.badge, "OPEN", "running");
    this.message.textContent = "The call is open: send names.";
    try {
      await call.done;
      setBadge(this.badge, "OK", "ok");
      this.message.textContent = "The call completed.";
    } catch (thrown) {
      const error = ConnectError.from(thrown);
      fillTable(this.trailers, error.metadata);
      setBadge(this.badge, codeName(error.code), "error");
      this.message.textContent = error.rawMessage;
    } finally {
      this.sendButton.removeEventListener("click", send);
      this.finishButton.removeEventListener("click", finish);
      this.cancelButton.removeEventListener("click", cancel);
      this.setOpen(false);
    }
  }

  private setOpen(open: boolean): void {
    this.openButton.disabled = open;
    this.sendButton.disabled = !open;
    this.finishButton.disabled = !open;
    this.cancelButton.disabled = !open;
  }
}
