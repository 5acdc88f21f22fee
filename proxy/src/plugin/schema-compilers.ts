import { createRequire } from "node:module";
import type { FastifyServerOptions } from "fastify";

const require = createRequire(import.meta.url);

type SchemaController = NonNullable<FastifyServerOptions["schemaController"]>;
type CompilersFactory = Required<NonNullable<SchemaController["compilersFactory"]>>;
type Factory = (...args: unknown[]) => unknown;

/** The factory that the module `name` makes, loaded and made at the first call, then shared by every call. */
function madeOnFirstCall<F>(name: string): F {
  let factory: Factory | undefined;
  return ((...args: unknown[]) => {
    factory ??= (require(name) as () => Factory)();
    return factory(...args);
  }) as F;
}

/**
 * Fastify's own schema compilers (ajv, fast-json-stringify), loaded when a route first has a schema. Fastify loads
 * ajv as it makes an app, and the apps that `buildServer` and `buildAdminServer` make have no schemas: about 3 MiB
 * of RSS at start on Node 22, 2 MiB on Node 20. Fastify counts any given factory as custom, which has one effect: a
 * route's header schema is compiled as written, its keys not lower-cased, so a route added to these apps with one
 * names its headers in lower case.
 */
export const lazySchemaCompilers: SchemaController = {
  compilersFactory: {
    buildValidator: madeOnFirstCall<CompilersFactory["buildValidator"]>("@fastify/ajv-compiler"),
    buildSerializer: madeOnFirstCall<CompilersFactory["buildSerializer"]>(
      "@fastify/fast-json-stringify-compiler",
    ),
  },
};
