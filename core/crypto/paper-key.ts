import QRCode from 'qrcode';
import { CryptConfig } from '../blob/crypt-config.js';
import { shortFingerprint } from './fingerprint.js';
import { keyFileJson, type KeyConfig } from './key-file.js';
import { localRfc3339 } from './rfc3339.js';

/**
 * A printable copy of a key file, as PBS's paperkey.rs makes it: the key file as pretty JSON between
 * `-----BEGIN/END PROXMOX BACKUP KEY-----`, and a QR code of that JSON (error correction M). The key stays as
 * encrypted as in the file: the page needs the passphrase too, unless the key has none.
 */

export type PaperKeyFormat = 'html' | 'text';

const BEGIN = '-----BEGIN PROXMOX BACKUP KEY-----';
const END = '-----END PROXMOX BACKUP KEY-----';
// The quiet zone around a QR code: 4 modules on the page; 2 in text, where lines are short.
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;
const TEXT_QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

/** What the QR code holds: the key file as pretty JSON (2-space indent, as serde_json's pretty printer). */
export function paperKeyData(config: KeyConfig): string {
  return JSON.stringify(keyFileJson(config), null, 2);
}

export async function paperKey(config: KeyConfig, format: PaperKeyFormat): Promise<string> {
  const data = paperKeyData(config);
  return format === 'html'
    ? paperKeyHtml(config, data, await QRCode.toString(data, { ...QR_OPTIONS, type: 'svg' }))
    : paperKeyPlain(config, data, await QRCode.toString(data, { ...TEXT_QR_OPTIONS, type: 'utf8' }));
}

/** The fingerprint, the dates and what the page is for; the same words in both formats. */
function headerLines(config: KeyConfig): string[] {
  const fingerprint = config.fingerprint ?? (config.kdf === null ? new CryptConfig(config.data).fingerprint() : '');
  const lines = [
    `Fingerprint: ${fingerprint ? shortFingerprint(fingerprint) : 'not recorded in the file'}`,
    `Created: ${localRfc3339(config.created)}`,
    'To restore the key, scan the QR code or type the text between the BEGIN and END lines into a file.',
    config.kdf === null
      ? 'This key has NO passphrase: whoever has this page can read the backups made with it.'
      : 'The key is encrypted with its passphrase: the page alone does not unlock the backups.',
  ];
  if (config.hint !== undefined) lines.push(`Passphrase hint: ${config.hint}`);
  return lines;
}

function paperKeyPlain(config: KeyConfig, data: string, qr: string): string {
  return ['Cairn encryption key', '', ...headerLines(config), '', BEGIN, data, END, '', qr, ''].join('\n');
}

function paperKeyHtml(config: KeyConfig, data: string, svg: string): string {
  const header = headerLines(config)
    .map((line) => `<p>${escapeHtml(line)}</p>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Cairn encryption key</title>
<style>
  body { font-family: sans-serif; margin: 2em; }
  pre { font-size: 11pt; white-space: pre-wrap; overflow-wrap: anywhere; }
  .qr { width: 12cm; height: 12cm; }
  .qr svg { width: 100%; height: 100%; }
</style>
</head>
<body>
<h1>Cairn encryption key</h1>
${header}
<div style="page-break-inside: avoid">
<pre>${escapeHtml(`${BEGIN}\n${data}\n${END}`)}</pre>
<div class="qr">${svg.trim()}</div>
</div>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
