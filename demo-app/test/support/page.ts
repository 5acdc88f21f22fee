import type { Page } from "playwright-core";

/** Each test sets the fields it relies on, so one that fails leaves nothing behind for the next. */
export async function fillRequest(page: Page, fields: { name: string; deadline: string }): Promise<void> {
  await page.fill("#name", fields.name);
  await page.fill("#deadline", fields.deadline);
}

/** Sets the value of the metadata row with this key; the page starts with x-client, x-reply-count, x-reply-delay-ms. */
export async function setMetadata(page: Page, key: string, value: string): Promise<void> {
  const rows = page.locator(".metadata-row");
  for (let index = 0; index < (await rows.count()); index++) {
    const row = rows.nth(index);
    if ((await row.locator(".key").inputValue()) === key) return row.locator(".value").fill(value);
  }
  throw new Error(`the page has no metadata row ${key}`);
}

/** Waits until the call in progress has ended, and returns the status badge and message as shown. */
export async function outcome(page: Page): Promise<{ code: string; message: string; hint: string }> {
  await page.waitForFunction(() => !document.querySelector("#status-code")?.classList.contains("running"));
  return {
    code: await text(page, "#status-code"),
    message: await text(page, "#status-message"),
    hint: await text(page, "#status-hint"),
  };
}

/** The text of the element, as a person reads it. */
export async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent())?.trim() ?? "";
}

export function replies(page: Page): Promise<string[]> {
  return page.locator("#replies li").allTextContents();
}

/** The rows of a headers or trailers table, as "key: value". */
export async function tableRows(page: Page, id: "headers" | "trailers" | "bidi-trailers"): Promise<string[]> {
  const rows = await page
    .locator(`#${id} tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
  return rows.filter((cells) => cells.length === 2).map(([key, value]) => `${key}: ${value}`);
}
