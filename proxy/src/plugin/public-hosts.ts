import { isIP } from "node:net";

/**
 * The names a proxy on loopback answers to when none are configured. A page on a rebinding domain
 * (evil.test resolving to 127.0.0.1) sends its own name as Host, so it is refused; `*.localhost`
 * always resolves to loopback in browsers, so no outside party controls one.
 */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "*.localhost", "127.0.0.1", "::1"];

/** The Host (or `:authority`) a request named, when it is not one the proxy answers to. */
export type HostVerdict = { readonly allowed: true } | { readonly allowed: false; readonly host: string };

const ALLOWED: HostVerdict = { allowed: true };

/**
 * The names the proxy answers to, against DNS rebinding: the same-origin check compares Origin with
 * Host, and both are the attacker's name on a rebinding domain. Names match case-insensitively,
 * without the port; `*.example.com` matches every name under example.com (not example.com itself).
 * An empty list answers to every name.
 */
export class PublicHosts {
  readonly #exact: ReadonlySet<string>;
  readonly #suffixes: readonly string[];
  readonly any: boolean;

  constructor(names: readonly string[]) {
    const lower = names.map((name) => stripBrackets(name.toLowerCase()));
    this.#exact = new Set(lower.filter((name) => !name.startsWith("*.")));
    this.#suffixes = lower.filter((name) => name.startsWith("*.")).map((name) => name.slice(1));
    this.any = names.length === 0;
  }

  /** The verdict on a request's Host or `:authority`; a request that names none is not from a browser. */
  check(authority: string | undefined): HostVerdict {
    if (this.any || authority === undefined) return ALLOWED;
    const name = hostName(authority).toLowerCase();
    if (this.#exact.has(name)) return ALLOWED;
    for (const suffix of this.#suffixes) if (name.endsWith(suffix)) return ALLOWED;
    return { allowed: false, host: authority };
  }
}

/** What the proxy answers to by default: loopback names when every address it listens on is loopback. */
export function defaultPublicHosts(listening: readonly string[]): readonly string[] {
  return listening.length > 0 && listening.every(isLoopback) ? LOOPBACK_HOSTS : [];
}

function isLoopback(address: string): boolean {
  const host = stripBrackets(address);
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** `example.com:8080` → `example.com`; `[::1]:8080` → `::1`. */
function hostName(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end < 0 ? authority : authority.slice(1, end);
  }
  const colon = authority.lastIndexOf(":");
  return colon < 0 ? authority : authority.slice(0, colon);
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
