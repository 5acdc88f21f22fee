import type { DestinationStream } from "pino";
import type { MessageFormatFunc, PrettyOptions } from "pino-pretty";

/** `--log-format`: JSON lines for collectors, or pino-pretty's lines for a person. */
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The message of a call's access-log line (ops/access-log.ts), by which the pretty format knows one. */
export const ACCESS_LINE_MESSAGE = "call";

/** Without a choice: pretty for a person at a terminal, JSON for anything that collects stdout. */
export function defaultLogFormat(stdout: { readonly isTTY?: boolean } = process.stdout): LogFormat {
  return stdout.isTTY === true ? "pretty" : "json";
}

/** Fastify's `logger` option. */
export interface LoggerOptions {
  readonly level: string;
  readonly stream: DestinationStream;
}

/**
 * The logger options that write `format` lines to `destination`. pino-pretty is
 * loaded for the pretty format only. Its lines are made as each log call
 * happens and handed to `destination` at once, so a batching destination
 * (cli/log-destination.ts) still batches them and writes them all at exit; the
 * pino-pretty transport would make them in a stream of its own instead, and
 * lose what it still held when the process exits.
 */
export async function loggerOptions(
  format: LogFormat,
  level: string,
  destination: DestinationStream,
  colors = defaultColors(),
): Promise<LoggerOptions> {
  if (format === "json") return { level, stream: destination };
  const { prettyFactory } = await import("pino-pretty");
  return { level, stream: new PrettyLines(prettyFactory, destination, colors) };
}

/**
 * Colors on a terminal unless NO_COLOR (no-color.org) is set. pino-pretty's own
 * guess also turns them on wherever CI is set, into logs that are files.
 */
function defaultColors(): boolean {
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}

type Prettify = (log: object) => string;

/** A pino destination that turns each JSON line into pino-pretty's. */
class PrettyLines implements DestinationStream {
  readonly #destination: DestinationStream;
  readonly #line: Prettify;
  readonly #accessLine: Prettify;

  constructor(
    factory: (options: PrettyOptions) => Prettify,
    destination: DestinationStream,
    colors: boolean,
  ) {
    this.#destination = destination;
    const common: PrettyOptions = {
      colorize: colors,
      ignore: "pid,hostname",
      translateTime: "SYS:HH:MM:ss.l",
    };
    this.#line = factory(common);
    // Everything the access line says is in its message: its fields would take a line each.
    this.#accessLine = factory({ ...common, hideObject: true, messageFormat: accessLine });
  }

  write(json: string): void {
    let log: Record<string, unknown>;
    try {
      log = JSON.parse(json);
    } catch {
      // Not from pino: passed on as it is.
      this.#destination.write(json);
      return;
    }
    this.#destination.write(log.msg === ACCESS_LINE_MESSAGE ? this.#accessLine(log) : this.#line(log));
  }
}

/**
 * `<request id> /pkg.Service/Method OK 3.2 ms 15 B in, 30 B out via greeter`: what a person scans for, in
 * the access line's fields (ops/access-log.ts); the JSON line has more (client address, user agent).
 */
const accessLine: MessageFormatFunc = (log, _messageKey, _levelLabel, { colors }) => {
  const code = text(log.grpcCode);
  const status = code === "OK" ? colors.green(code) : colors.red(code);
  // A backend's own status is the ordinary ending: only the proxy's reasons (a limit, the client gone...) are shown.
  const why = log.causeError === undefined ? "" : `: ${text(log.causeError)}`;
  const cause = log.cause === undefined || log.cause === "backend" ? "" : ` (${text(log.cause)}${why})`;
  const upstream = log.upstream === undefined ? "answered by the proxy" : `via ${text(log.upstream)}`;
  return (
    `${text(log.requestId ?? log.reqId)} ${text(log.path)} ${status}${cause} ${text(log.durationMs)} ms ` +
    `${text(log.bytesIn)} B in, ${text(log.bytesOut)} B out ${upstream}`
  );
};

/** Control characters could move a terminal's cursor or break the line: a path or request id is the browser's. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what it removes.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function text(value: unknown): string {
  return String(value).replace(CONTROL, "");
}
