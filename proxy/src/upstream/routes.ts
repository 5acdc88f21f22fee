/** What a route matches, parsed from its `match` text. */
export type RouteMatch =
  /** `/package.Service/Method` */
  | { readonly kind: "method"; readonly path: string }
  /** `package.Service` */
  | { readonly kind: "service"; readonly service: string }
  /** `package.*`: every service in package and the packages under it (the prefix keeps its dot). */
  | { readonly kind: "package"; readonly prefix: string }
  /** `*`: every call. */
  | { readonly kind: "any" };

export interface Route<T> {
  readonly match: RouteMatch;
  readonly target: T;
}

const NAME = "[A-Za-z_][\\w]*";
const DOTTED = `${NAME}(?:\\.${NAME})*`;
const METHOD = new RegExp(`^/(${DOTTED})/(${NAME})$`);
const SERVICE = new RegExp(`^${DOTTED}$`);
const PACKAGE = new RegExp(`^(${DOTTED}\\.)\\*$`);

export const MATCH_FORMS = "/package.Service/Method, package.Service, package.* or *";

/** Parses a route's `match`; a string says what is wrong with it. */
export function parseRouteMatch(text: string): RouteMatch | string {
  if (text === "*") return { kind: "any" };
  if (METHOD.test(text)) return { kind: "method", path: text };
  if (SERVICE.test(text)) return { kind: "service", service: text };
  const prefix = PACKAGE.exec(text)?.[1];
  if (prefix) return { kind: "package", prefix };
  return `expected ${MATCH_FORMS}, got "${text}"`;
}

/**
 * Paths come from browsers, so the cache is bounded in count and in each path's length (real method paths are
 * short; a hostile one may be 16 KB): at most about 2.5 MB. Past either bound, lookups still work, uncached.
 */
const MAX_CACHED_PATHS = 10_000;
const MAX_CACHED_PATH_LENGTH = 256;

/**
 * Which target serves a call, by its path: the route for its method, else for its service, else the
 * longest package prefix that holds the service, else `*`; no route, no target. Each path's answer
 * is remembered, so a call costs one Map lookup.
 */
export class RouteTable<T> {
  readonly #methods = new Map<string, T>();
  readonly #services = new Map<string, T>();
  /** Longest prefix first. */
  readonly #packages: { readonly prefix: string; readonly target: T }[] = [];
  readonly #any: T | undefined;
  readonly #cache = new Map<string, T | undefined>();

  constructor(routes: readonly Route<T>[]) {
    let any: T | undefined;
    for (const { match, target } of routes) {
      if (match.kind === "method") this.#methods.set(match.path, target);
      else if (match.kind === "service") this.#services.set(match.service, target);
      else if (match.kind === "package") this.#packages.push({ prefix: match.prefix, target });
      else any = target;
    }
    this.#packages.sort((a, b) => b.prefix.length - a.prefix.length);
    this.#any = any;
  }

  /** The target for `path` (`/package.Service/Method`, already checked to be one), if any. */
  lookup(path: string): T | undefined {
    const cached = this.#cache.get(path);
    if (cached !== undefined || this.#cache.has(path)) return cached;
    const target = this.#find(path);
    if (this.#cache.size < MAX_CACHED_PATHS && path.length <= MAX_CACHED_PATH_LENGTH)
      this.#cache.set(path, target);
    return target;
  }

  #find(path: string): T | undefined {
    const byMethod = this.#methods.get(path);
    if (byMethod !== undefined) return byMethod;
    const service = path.slice(1, path.lastIndexOf("/"));
    const byService = this.#services.get(service);
    if (byService !== undefined) return byService;
    for (const { prefix, target } of this.#packages) if (service.startsWith(prefix)) return target;
    return this.#any;
  }
}
