// URIs of the server's terminal transcripts: `hiccup-terminal:/<terminalId>/<url-quoted name>`.

import { TRANSCRIPT_SCHEME } from './protocol';

/**
 * Percent-encodes like the server's `urllib.parse.quote(name, safe='')`, so the URI we build is
 * byte-identical to the one it publishes diagnostics on: only `A-Z a-z 0-9 - . _ ~` stay as they are.
 */
export function quotePath(text: string): string {
  let out = '';
  for (const ch of encodeURIComponent(text)) {
    out += "!'()*".includes(ch) ? `%${ch.charCodeAt(0).toString(16).toUpperCase()}` : ch;
  }
  return out;
}

export function transcriptUri(terminalId: string, name: string): string {
  return `${TRANSCRIPT_SCHEME}:/${quotePath(terminalId)}/${quotePath(name)}`;
}

/**
 * Our own output channel must not be sent to the server: with LSP tracing on, every diagnostic
 * the server publishes would be logged there and classified again. Output-channel documents look
 * like `output:extension-output-hiccup.hiccup-%231-Hiccup`.
 */
export function isOwnOutputChannel(scheme: string, path: string, extensionId: string): boolean {
  return scheme === 'output' && path.toLowerCase().includes(extensionId.toLowerCase());
}
