// The test's side of a page script: load it, then drive calls in it with page.evaluate.
import type { Browser, Page } from "playwright-core";
import type { CallOutcome, CallRequest, PageGlobals } from "./page-api.js";

/** Loads `url` in a fresh page and waits until its script has installed `interop`. */
export async function openInteropPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const scriptErrors: string[] = [];
  page.on("pageerror", (error) => scriptErrors.push(error.message));
  await page.goto(url);
  try {
    await page.waitForFunction(() => "interop" in globalThis, undefined, { timeout: 5000 });
  } catch {
    await page.close();
    throw new Error(
      `the page at ${url} never became ready; script errors: ${scriptErrors.join("; ") || "none"}`,
    );
  }
  return page;
}

/** Makes one call from inside the page and returns what the client exposed. */
export function callFrom(page: Page, request: CallRequest): Promise<CallOutcome> {
  return page.evaluate((request) => (globalThis as unknown as PageGlobals).interop.call(request), request);
}
