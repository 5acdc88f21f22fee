// Fails when the committed generated code differs from what `npm run generate`
// makes from protos/ now, so a .proto edit cannot land without its code.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const committed = "client-web/src/gen";
const scratch = mkdtempSync(join(tmpdir(), "gen-check-"));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  execFileSync("npx", ["buf", "generate", "--template", "protos/buf.gen.yaml", "-o", scratch], {
    stdio: "inherit",
  });
  const fresh = join(scratch, committed);
  const want = new Map(files(fresh).map((f) => [relative(fresh, f), readFileSync(f, "utf8")]));
  const have = new Map(files(committed).map((f) => [relative(committed, f), readFileSync(f, "utf8")]));
  const stale = [...new Set([...want.keys(), ...have.keys()])].filter((k) => want.get(k) !== have.get(k));
  if (stale.length > 0) {
    console.error(`Generated code is stale: ${stale.join(", ")}. Run \`npm run generate\` and commit.`);
    process.exit(1);
  }
  console.log(`Generated code is up to date (${want.size} files).`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
