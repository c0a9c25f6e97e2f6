// Renders the tray icons to electron/assets/: tray-<state>.png (16×16) and tray-<state>@2x.png (32×32, which
// Electron picks on HiDPI screens) for the states idle, running and attention. Plain Node, no dependencies:
// the app icon's stones on its navy tile, with a green (running) or red (attention) dot. Run after a change:
// node build/render-tray-icons.mjs
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const out = new URL('../electron/assets/', import.meta.url).pathname;
const TILE = [0x1e, 0x3a, 0x8a];
const STONES = [
  { cx: 0.5, cy: 0.76, rx: 0.33, ry: 0.11, color: [0x93, 0xc5, 0xfd] },
  { cx: 0.5, cy: 0.55, rx: 0.25, ry: 0.1, color: [0xbf, 0xdb, 0xfe] },
  { cx: 0.5, cy: 0.35, rx: 0.16, ry: 0.09, color: [0xff, 0xff, 0xff] },
];
const BADGES = { idle: undefined, running: [0x22, 0xc5, 0x5e], attention: [0xef, 0x44, 0x44] };
const BADGE = { cx: 0.76, cy: 0.76, r: 0.24 };

const inEllipse = (x, y, e) => ((x - e.cx) / e.rx) ** 2 + ((y - e.cy) / e.ry) ** 2 <= 1;
const inTile = (x, y) => {
  const r = 0.22; // rounded corners
  const dx = Math.max(Math.abs(x - 0.5) - (0.5 - r), 0);
  const dy = Math.max(Math.abs(y - 0.5) - (0.5 - r), 0);
  return dx * dx + dy * dy <= r * r;
};

/** The colour at a point of the unit square, or undefined where the icon is transparent. */
function colorAt(x, y, badge) {
  const d = Math.hypot(x - BADGE.cx, y - BADGE.cy);
  if (badge && d <= BADGE.r) return badge;
  if (badge && d <= BADGE.r + 0.07) return undefined; // a clear ring keeps the dot apart from the tile
  if (!inTile(x, y)) return undefined;
  return STONES.find((s) => inEllipse(x, y, s))?.color ?? TILE;
}

/** RGBA pixels, 4×4 samples per pixel for smooth edges. */
function render(size, badge) {
  const pixels = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = colorAt((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, badge);
          if (!c) continue;
          for (let i = 0; i < 3; i++) sum[i] += c[i];
          sum[3]++;
        }
      }
      const o = (py * size + px) * 4;
      for (let i = 0; i < 3; i++) pixels[o + i] = sum[3] ? Math.round(sum[i] / sum[3]) : 0;
      pixels[o + 3] = Math.round((255 * sum[3]) / (n * n));
    }
  }
  return pixels;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

function png(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const rows = [];
  for (let y = 0; y < size; y++) rows.push(Buffer.from([0]), pixels.subarray(y * size * 4, (y + 1) * size * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const [state, badge] of Object.entries(BADGES)) {
  writeFileSync(join(out, `tray-${state}.png`), png(16, render(16, badge)));
  writeFileSync(join(out, `tray-${state}@2x.png`), png(32, render(32, badge)));
}
