import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { createKey, type KeyConfig } from '../../../core/crypto/key-file.js';
import { paperKey, paperKeyData } from '../../../core/crypto/paper-key.js';
import { decodeQrText } from '../../support/qr.js';

const BEGIN = '-----BEGIN PROXMOX BACKUP KEY-----';
const END = '-----END PROXMOX BACKUP KEY-----';

/** The lines after the END marker: the QR code in block characters. */
function qrLines(text: string): string[] {
  return text
    .slice(text.indexOf(END) + END.length)
    .split('\n')
    .filter((line) => line.length > 0);
}

describe('paper keys', () => {
  async function key(hint?: string): Promise<KeyConfig> {
    return (await createKey({ kdf: 'pbkdf2', passphrase: Buffer.from('paper key'), hint })).config;
  }

  it('the data is the key file as pretty JSON, as PBS puts it on paper', async () => {
    const config = await key('in the drawer');
    const data = paperKeyData(config);
    expect(data).toContain('\n  "kdf": {\n    "PBKDF2": {\n      "iter": 65535,');
    expect(Object.keys(JSON.parse(data) as object)).toEqual([
      'kdf',
      'created',
      'modified',
      'data',
      'fingerprint',
      'hint',
    ]);
  });

  it('text: the JSON between the markers, and a QR code that reads back as the JSON', async () => {
    const config = await key();
    const page = await paperKey(config, 'text');
    const data = paperKeyData(config);
    expect(page).toContain(`${BEGIN}\n${data}\n${END}\n`);
    expect(page).toContain('encrypted with its passphrase');
    expect(decodeQrText(qrLines(page))).toBe(data);
  });

  it('HTML: self-contained, the JSON escaped, the QR code an inline SVG of the JSON', async () => {
    const config = await key('<b>&</b>');
    const page = await paperKey(config, 'html');
    const data = paperKeyData(config);
    const escaped = data
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;');
    expect(page).toContain(`<pre>${BEGIN}\n${escaped}\n${END}</pre>`);
    expect(page).not.toContain('<b>');
    // Nothing to fetch: no scripts, stylesheets, images or links (the SVG's xmlns is a name, not a fetch).
    expect(page).not.toMatch(/<(script|link|img|a)\b|\b(src|href)=/);
    const svg = (await QRCode.toString(data, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })).trim();
    expect(page).toContain(`<div class="qr">${svg}</div>`);
  });

  it('says so when the key has no passphrase', async () => {
    const { config } = await createKey({ kdf: 'none' });
    const page = await paperKey(config, 'text');
    expect(page).toContain('This key has NO passphrase');
    expect(decodeQrText(qrLines(page))).toBe(paperKeyData(config));
  });
});
