import jsqr from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is a CommonJS bundle whose types declare an ES default export; its module.exports has that `default` too.
const jsQR = jsqr.default;

/** The text of the QR code in a PNG (a screenshot), or undefined when jsQR finds none. */
export function decodeQrPng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

/** Dark halves of the block characters qrcode's utf8 renderer draws: [top, bottom]. */
const BLOCKS: Record<string, [boolean, boolean]> = {
  ' ': [false, false],
  '█': [true, true],
  '▀': [true, false],
  '▄': [false, true],
};

/**
 * The text of a QR code drawn with block characters, two modules a character (dark is drawn). The code is painted
 * as pixels, 4 a module with a white border, and read by jsQR as a camera picture would be.
 */
export function decodeQrText(lines: string[]): string | undefined {
  const rows: boolean[][] = [];
  for (const line of lines) {
    const chars = [...line];
    rows.push(
      chars.map((c) => BLOCKS[c]?.[0] ?? false),
      chars.map((c) => BLOCKS[c]?.[1] ?? false),
    );
  }
  const scale = 4;
  const border = 8;
  const width = Math.max(...rows.map((r) => r.length)) * scale + 2 * border;
  const height = rows.length * scale + 2 * border;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  rows.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const at = ((border + y * scale + dy) * width + border + x * scale + dx) * 4;
          rgba[at] = rgba[at + 1] = rgba[at + 2] = 0;
        }
    }),
  );
  return jsQR(rgba, width, height)?.data;
}
