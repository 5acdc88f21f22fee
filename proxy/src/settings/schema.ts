// The shape of the config file (`--config bridge.yaml`, YAML or JSON): the settings' keys from the registry, and
// `upstreams` and `routes`. The schema checks names and shapes; each setting's value is checked by its row's kind,
// as a flag's is, so a bad value says the same thing wherever it came from.
import Type, { type TSchema } from "typebox";
import type { RouteOptions, UpstreamOptions } from "../upstream/routing.js";
import { PER_UPSTREAM_KEYS, SETTING_KEYS, SETTINGS, type Setting, type SettingKey } from "./registry.js";

/** The file's keys that are settings: every row's but the flags that pick the file. */
export const FILE_KEYS = SETTING_KEYS.filter((key) => !(SETTINGS[key] as Setting).flagOnly);

const settings = (keys: readonly SettingKey[]): Record<string, TSchema> =>
  Object.fromEntries(keys.map((key) => [key, Type.Optional(Type.Unknown())]));

const UpstreamSchema = Type.Object(
  {
    addresses: Type.Array(Type.String(), { minItems: 1 }),
    authority: Type.Optional(Type.String({ minLength: 1 })),
    ...settings(PER_UPSTREAM_KEYS),
  },
  { additionalProperties: false },
);

const RouteSchema = Type.Object(
  { match: Type.String(), upstream: Type.String() },
  { additionalProperties: false },
);

export const ConfigFileSchema: TSchema = Type.Object(
  {
    ...settings(FILE_KEYS),
    upstreams: Type.Optional(Type.Record(Type.String(), UpstreamSchema, { minProperties: 1 })),
    routes: Type.Optional(Type.Array(RouteSchema)),
  },
  { additionalProperties: false },
);

/** A file that fits the schema: its settings still to be checked, its upstreams and routes in the plugin's terms. */
export type ConfigFile = { readonly [K in SettingKey]?: unknown } & {
  readonly upstreams?: Readonly<Record<string, UpstreamOptions>>;
  readonly routes?: readonly RouteOptions[];
};
