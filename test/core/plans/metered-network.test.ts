import { describe, expect, it } from 'vitest';
import { parseMetered } from '../../../core/plans/metered-network.js';

describe('metered network (NetworkManager)', () => {
  it('reads busctl’s answer: yes and guessed yes are metered, the rest not', () => {
    expect(parseMetered('u 1\n')).toBe(true);
    expect(parseMetered('u 3')).toBe(true);
    for (const out of ['u 0', 'u 2', 'u 4', '', 'Failed to get property', 'u x']) expect(parseMetered(out)).toBe(false);
  });
});
