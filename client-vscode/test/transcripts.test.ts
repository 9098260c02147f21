import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOwnOutputChannel, quotePath, transcriptUri } from '../src/transcripts';

test("quotes like the server's urllib.parse.quote(name, safe='')", () => {
  // python3 -c 'from urllib.parse import quote; print(quote("Claude Code (1): ✳ a/b!*~\x27", safe=""))'
  assert.equal(quotePath("Claude Code (1): ✳ a/b!*~'"), 'Claude%20Code%20%281%29%3A%20%E2%9C%B3%20a%2Fb%21%2A~%27');
  assert.equal(transcriptUri('12', 'claude'), 'hiccup-terminal:/12/claude');
});

test('own output channel is recognised', () => {
  assert.ok(isOwnOutputChannel('output', 'extension-output-hiccup.hiccup-#1-Hiccup', 'hiccup.hiccup'));
  assert.ok(!isOwnOutputChannel('output', 'extension-output-ms-python.python-#1-Python', 'hiccup.hiccup'));
  assert.ok(!isOwnOutputChannel('file', '/x/hiccup.hiccup.log', 'hiccup.hiccup'));
});
