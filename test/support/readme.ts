// The README's quick starts, read from README.md itself, so that the packed-install test runs what a user
// copies from the first screen and fails when the two part ways.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const README = new URL("../../README.md", import.meta.url);

export interface QuickStart {
  /** The `npm install …` lines of "Call it from your page", in order. */
  readonly installs: string[];
  /** The command that generates code from the `.proto` files. */
  readonly generate: string;
  /** The `buf.gen.yaml` the README shows. */
  readonly bufGenYaml: string;
  /** The arguments of the quick start's `npx grpc-web-bridge`, with the test's addresses in place of its own. */
  proxyArgs(addresses: { upstream: string; allowedOrigin: string; listen: string }): string[];
  /** The page's code, calling the proxy at `baseUrl`. */
  clientCode(baseUrl: string): string;
}

/** The text under the heading `title` (any level), up to the next heading of the same or a higher level. */
function section(markdown: string, title: string): string {
  const lines = markdown.split("\n");
  let inCode = false;
  let start = -1;
  let level = 0;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith("```")) inCode = !inCode;
    const heading = inCode ? null : /^(#+) (.*)$/.exec(line);
    if (!heading) continue;
    const depth = heading[1]?.length ?? 0;
    if (start >= 0 && depth <= level) return lines.slice(start, i).join("\n");
    if (start < 0 && heading[2]?.includes(title)) [start, level] = [i + 1, depth];
  }
  assert.ok(start >= 0, `README has a heading with "${title}"`);
  return lines.slice(start).join("\n");
}

/** The fenced code blocks of `markdown` in the language `lang`. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map(
    (m) => m[1] ?? "",
  );
}

/** The command lines of the `sh` blocks, without comments. */
function commands(markdown: string): string[] {
  return blocks(markdown, "sh")
    .flatMap((block) => block.replaceAll("\\\n", " ").split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

export function readmeQuickStart(): QuickStart {
  const markdown = readFileSync(README, "utf8");
  const quickStart = section(markdown, "Quick start");
  const proxy = commands(section(quickStart, "in front of your backend"));
  const page = section(quickStart, "from your page");
  const pageCommands = commands(page);

  const npx = proxy.find((line) => line.startsWith("npx grpc-web-bridge --upstream "));
  assert.ok(npx, "the proxy's quick start runs npx grpc-web-bridge --upstream …");
  const installs = pageCommands.filter((line) => line.startsWith("npm install "));
  assert.ok(installs.length > 0, "the page's quick start installs packages");
  const generate = pageCommands.find((line) => line.startsWith("npx buf generate"));
  assert.ok(generate, "the page's quick start runs npx buf generate");
  const bufGenYaml = blocks(page, "yaml").find((block) => block.startsWith("# buf.gen.yaml\n"));
  assert.ok(bufGenYaml, "the page's quick start shows buf.gen.yaml");

  return {
    installs,
    generate,
    bufGenYaml,
    proxyArgs({ upstream, allowedOrigin, listen }) {
      const args = npx.split(/\s+/).slice(2);
      const replaced = args.map((arg, i) => {
        if (args[i - 1] === "--upstream") return upstream;
        if (args[i - 1] === "--allowed-origin") return allowedOrigin;
        return arg;
      });
      return [...replaced, "--listen", listen];
    },
    clientCode(baseUrl) {
      const code = blocks(page, "ts").find((block) => block.includes("createGrpcWebTransport"));
      assert.ok(code, "the page's quick start shows the client code");
      const proxy = '"http://localhost:8080"';
      assert.ok(code.includes(proxy), `the client code calls the proxy at ${proxy}`);
      return code.replace(proxy, JSON.stringify(baseUrl));
    },
  };
}
