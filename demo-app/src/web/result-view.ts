import { codeName } from "@grpc-web-bridge/client-web";
import { byId } from "./dom.js";
import { hintFor } from "./hints.js";

/** How a call ended, as the page shows it. */
export interface Outcome {
  /** A gRPC status code, 0 for OK. */
  code: number;
  message: string;
}

/** The response half of the page: status, elapsed time, replies as they arrive, headers and trailers. */
export class ResultView {
  private readonly badge = byId("status-code", HTMLSpanElement);
  private readonly elapsed = byId("elapsed", HTMLSpanElement);
  private readonly message = byId("status-message", HTMLParagraphElement);
  private readonly hint = byId("status-hint", HTMLParagraphElement);
  private readonly replies = byId("replies", HTMLOListElement);
  private readonly headers = byId("headers", HTMLTableElement);
  private readonly trailers = byId("trailers", HTMLTableElement);

  start(what: string): void {
    this.setBadge("RUNNING", "running");
    this.message.textContent = `${what}…`;
    this.hint.textContent = "";
    this.replies.replaceChildren();
    this.showHeaders(new Headers());
    this.showTrailers(new Headers());
    this.showElapsed(0);
  }

  showElapsed(ms: number): void {
    this.elapsed.textContent = `${Math.round(ms)} ms`;
  }

  addReply(message: string, atMs: number): void {
    const item = document.createElement("li");
    const at = document.createElement("span");
    at.className = "at";
    at.textContent = `+${Math.round(atMs)} ms`;
    item.append(message, at);
    this.replies.append(item);
  }

  showHeaders(headers: Headers): void {
    fillTable(this.headers, headers);
  }

  showTrailers(trailers: Headers): void {
    fillTable(this.trailers, trailers);
  }

  finish(outcome: Outcome): void {
    this.setBadge(codeName(outcome.code), outcome.code === 0 ? "ok" : "error");
    this.message.textContent = outcome.code === 0 ? "The call completed." : outcome.message;
    this.hint.textContent = hintFor(outcome.code);
  }

  /** The form can't be sent as it is: say why without making a call. */
  reject(reason: string): void {
    this.setBadge("NOT SENT", "error");
    this.message.textContent = reason;
    this.hint.textContent = "";
  }

  private setBadge(text: string, kind: BadgeKind): void {
    setBadge(this.badge, text, kind);
  }
}

export type BadgeKind = "running" | "ok" | "error";

/** Shows a call's state in a badge. */
export function setBadge(badge: HTMLElement, text: string, kind: BadgeKind): void {
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

/** Fills a two-column table with `headers`, or "none". */
export function fillTable(table: HTMLTableElement, headers: Headers): void {
  const rows = [...headers].map(([key, value]) => {
    const row = document.createElement("tr");
    for (const text of [key, value]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement("tr");
    const cell = document.createElement("td");
    cell.textContent = "none";
    row.append(cell);
    rows.push(row);
  }
  table.tBodies[0]?.replaceChildren(...rows);
}
