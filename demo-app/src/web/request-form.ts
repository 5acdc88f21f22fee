import { byId } from "./dom.js";
import { type GreetRequest, metadataFromRows, parseDeadline } from "./form-values.js";

// Rows a first-time visitor sees: one to watch come back as an echo- header, two that pace the stream.
const initialMetadata: [string, string][] = [
  ["x-client", "greeter-page"],
  ["x-reply-count", "5"],
  ["x-reply-delay-ms", "500"],
];

/** The request half of the page: name, deadline, editable metadata rows, and the buttons' state. */
export class RequestForm {
  readonly form = byId("request", HTMLFormElement);
  readonly streamButton = byId("stream", HTMLButtonElement);
  readonly cancelButton = byId("cancel", HTMLButtonElement);
  private readonly sayHelloButton = byId("say-hello", HTMLButtonElement);
  private readonly name = byId("name", HTMLInputElement);
  private readonly deadline = byId("deadline", HTMLInputElement);
  private readonly rows = byId("metadata-rows", HTMLDivElement);
  private readonly rowTemplate = byId("metadata-row", HTMLTemplateElement);

  constructor() {
    for (const [key, value] of initialMetadata) this.addRow(key, value);
    byId("add-metadata", HTMLButtonElement).addEventListener("click", () => this.addRow("", ""));
  }

  /** The request to send, or why the form can't be sent as it is. */
  read(): GreetRequest | Error {
    const timeoutMs = parseDeadline(this.deadline.value);
    if (timeoutMs instanceof Error) return timeoutMs;
    const rows = [...this.rows.querySelectorAll(".metadata-row")].map(
      (row) => [inputValue(row, ".key"), inputValue(row, ".value")] as const,
    );
    return { name: this.name.value, timeoutMs, metadata: metadataFromRows(rows) };
  }

  /** While a call runs only Cancel makes sense. */
  setBusy(busy: boolean): void {
    this.sayHelloButton.disabled = busy;
    this.streamButton.disabled = busy;
    this.cancelButton.disabled = !busy;
  }

  private addRow(key: string, value: string): void {
    const fragment = this.rowTemplate.content.cloneNode(true) as DocumentFragment;
    const row = fragment.querySelector(".metadata-row");
    if (!(row instanceof HTMLElement)) throw new Error("the metadata-row template has no .metadata-row");
    setInputValue(row, ".key", key);
    setInputValue(row, ".value", value);
    row.querySelector(".remove")?.addEventListener("click", () => row.remove());
    this.rows.append(row);
  }
}

function inputValue(row: Element, selector: string): string {
  return row.querySelector<HTMLInputElement>(selector)?.value ?? "";
}

function setInputValue(row: Element, selector: string, value: string): void {
  const input = row.querySelector<HTMLInputElement>(selector);
  if (input) input.value = value;
}
