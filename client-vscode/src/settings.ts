// Settings: `contributes.configuration` is generated from the server's schema
// (schemas/settings.schema.json) plus the client's own settings; and the section the server
// receives gets `trustedWorkspace` added.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  [key: string]: Json | Record<string, SchemaNode> | undefined;
}

export type ConfigurationProperty = Record<string, Json>;

export interface Configuration {
  title: string;
  properties: Record<string, ConfigurationProperty>;
}

export const SECTION = 'hiccup';

/** Schema keywords VS Code understands in a setting; everything else in the schema stays out. */
const KEYWORDS = [
  'type',
  'default',
  'description',
  'markdownDescription',
  'enum',
  'enumDescriptions',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'items',
  'uniqueItems',
  'pattern',
  'patternErrorMessage',
];

/** Set by the client, never by the user: an untrusted workspace must not be able to claim trust. */
export const CLIENT_SET = new Set(['trustedWorkspace']);

/** Settings only the VS Code client reads. */
export const CLIENT_SETTINGS: Record<string, ConfigurationProperty> = {
  'hiccup.serverCommand': {
    type: 'array',
    items: { type: 'string' },
    default: [],
    scope: 'machine-overridable',
    markdownDescription:
      'Command that starts the language server, e.g. `["/opt/hiccup/bin/hiccup", "serve"]`. Overrides `#hiccup.interpreter#`. Ignored in untrusted workspaces.',
  },
  'hiccup.interpreter': {
    type: 'string',
    default: '',
    scope: 'machine-overridable',
    markdownDescription:
      'Python interpreter with the `hiccup` package; the server runs as `<interpreter> -m hiccup serve`. Empty: the Python extension\'s interpreter, else `hiccup` on PATH. `~` and `${workspaceFolder}` are expanded. Ignored in untrusted workspaces.',
  },
  'hiccup.terminalBridge.enabled': {
    type: 'boolean',
    default: true,
    markdownDescription:
      'Send the output of commands run in integrated terminals (through shell integration) to Hiccup, so errors printed by Claude Code there are recognised.',
  },
  'hiccup.trace.server': {
    type: 'string',
    enum: ['off', 'messages', 'verbose'],
    default: 'messages',
    markdownDescription:
      'LSP messages to log in the Hiccup output channel when its log level is Trace (Output panel → gear icon → Trace).',
  },
};

function leaf(node: SchemaNode): ConfigurationProperty {
  const out: ConfigurationProperty = {};
  for (const key of KEYWORDS) {
    const value = node[key];
    if (value !== undefined) {
      out[key] = value as Json;
    }
  }
  return out;
}

function flatten(node: SchemaNode, prefix: string, out: Record<string, ConfigurationProperty>): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (prefix === `${SECTION}.` && CLIENT_SET.has(name)) {
      continue;
    }
    const key = `${prefix}${name}`;
    if (child.type === 'object' && child.properties !== undefined) {
      flatten(child, `${key}.`, out);
    } else {
      out[key] = leaf(child);
    }
  }
}

/** `statusPage: {url}` → `hiccup.statusPage.url`, plus the client's settings; keys sorted. */
export function configurationFromSchema(schema: SchemaNode): Configuration {
  const properties: Record<string, ConfigurationProperty> = {};
  flatten(schema, `${SECTION}.`, properties);
  Object.assign(properties, CLIENT_SETTINGS);
  const sorted: Record<string, ConfigurationProperty> = {};
  for (const [key, value] of Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : 1))) {
    sorted[key] = value;
  }
  return { title: 'Hiccup', properties: sorted };
}

/**
 * Middleware for `workspace/configuration`: the `hiccup` section the server pulls gets
 * `trustedWorkspace` (false in an untrusted workspace, which disables workspace rule packs).
 */
export function addTrust(
  items: ReadonlyArray<{ section?: string | null }>,
  results: readonly unknown[],
  trusted: boolean,
): unknown[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  return results.map((result, i) => {
    const section = items[i]?.section;
    if (section === SECTION && isObject(result)) {
      return { ...result, trustedWorkspace: trusted };
    }
    // A request for the whole configuration (no section) holds ours under its name.
    if ((section === undefined || section === null) && isObject(result) && isObject(result[SECTION])) {
      return { ...result, [SECTION]: { ...result[SECTION], trustedWorkspace: trusted } };
    }
    return result;
  });
}
