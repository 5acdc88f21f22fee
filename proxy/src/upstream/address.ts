/** One entry of an upstream's `addresses`. */
export type UpstreamAddress =
  /** `http://host:port` (h2c) or `https://host:port`. */
  | { readonly kind: "static"; readonly url: URL }
  /**
   * `dns:///host:port` (h2c) or `dns+https:///host:port` (TLS, checked against host): every A/AAAA
   * record of host, resolved again and again.
   */
  | { readonly kind: "dns"; readonly host: string; readonly port: number; readonly tls: boolean };

export const ADDRESS_FORMS =
  "http://host:port, https://host:port, dns:///host:port or dns+https:///host:port";

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d+$/;

/** Parses an upstream address; a string says what is wrong with it. */
export function parseUpstreamAddress(text: string | URL): UpstreamAddress | string {
  // "localhost:50051" parses as a URL of scheme "localhost:", which would hide the real mistake.
  if (typeof text === "string" && HOST_PORT.test(text)) {
    return `missing the scheme: try http://${text} (h2c) or https://${text} (TLS)`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected ${ADDRESS_FORMS}, got "${text}"`;
  }
  if (url.protocol === "dns:" || url.protocol === "dns+https:") return parseDnsAddress(String(text));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `expected ${ADDRESS_FORMS}, got "${url.protocol}" in "${text}"`;
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
    return `expected only scheme://host:port, got "${text}" (the call's path is the gRPC method's)`;
  }
  return { kind: "static", url };
}

const DNS_ADDRESS = /^dns(\+https)?:\/\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

function parseDnsAddress(text: string): UpstreamAddress | string {
  const match = DNS_ADDRESS.exec(text);
  const port = Number(match?.[3]);
  if (!match?.[2] || port < 1 || port > 65535) {
    return `expected dns:///host:port or dns+https:///host:port (three slashes: no DNS server in the address, and a port), got "${text}"`;
  }
  return { kind: "dns", host: match[2].replace(/^\[(.*)\]$/, "$1"), port, tls: match[1] !== undefined };
}

/** `host:port` as in a URL: an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether calls to the address go over TLS, and so need the upstream's TLS settings. */
export function usesTls(address: UpstreamAddress): boolean {
  return address.kind === "static" ? address.url.protocol === "https:" : address.tls;
}

/** What the address looks like in logs and health reports. */
export function describeAddress(address: UpstreamAddress): string {
  if (address.kind === "static") return address.url.host;
  return `${address.tls ? "dns+https" : "dns"}:///${hostPort(address.host, address.port)}`;
}
