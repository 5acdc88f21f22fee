// Certificates made for one test with the openssl CLI: a CA, and leaf certificates it signs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface KeyPairFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCa extends KeyPairFiles {
  readonly dir: string;
  /**
   * A certificate signed by this CA for `commonName`, valid for the given subject alternative names
   * (e.g. "IP:127.0.0.1", "DNS:backend.test"); written under `name`.
   */
  issue(name: string, commonName: string, altNames?: readonly string[]): KeyPairFiles;
  /** Deletes every file. */
  remove(): void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "test-ca-"));
  const ca = { certFile: join(dir, "ca.pem"), keyFile: join(dir, "ca-key.pem") };
  openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    ca.keyFile,
    "-out",
    ca.certFile,
    "-days",
    "2",
    "-subj",
    "/CN=Test CA",
  ]);
  let serial = 1;
  return {
    dir,
    ...ca,
    issue(name, commonName, altNames = []) {
      const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}-key.pem`) };
      const request = join(dir, `${name}.csr`);
      const extensions = join(dir, `${name}.ext`);
      openssl([
        "req",
        "-new",
        ...EC_KEY,
        "-keyout",
        files.keyFile,
        "-out",
        request,
        "-subj",
        `/CN=${commonName}`,
      ]);
      writeFileSync(
        extensions,
        `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n${
          altNames.length > 0 ? `subjectAltName=${altNames.join(",")}\n` : ""
        }`,
      );
      openssl([
        "x509",
        "-req",
        "-in",
        request,
        "-CA",
        ca.certFile,
        "-CAkey",
        ca.keyFile,
        "-set_serial",
        String(serial++),
        "-days",
        "2",
        "-out",
        files.certFile,
        "-extfile",
        extensions,
      ]);
      return files;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
