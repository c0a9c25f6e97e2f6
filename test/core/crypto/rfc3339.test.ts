import { describe, expect, it } from 'vitest';
import { normalFingerprint, parseFingerprint, shortFingerprint } from '../../../core/crypto/fingerprint.js';
import { localRfc3339, parseRfc3339 } from '../../../core/crypto/rfc3339.js';
import { usePinnedTimeZone } from '../../support/timezone.js';

describe('key file times: local RFC 3339 with offset, as proxmox-time writes them', () => {
  describe('in Berlin', () => {
    usePinnedTimeZone('Europe/Berlin');
    it('writes local time and the offset of that moment (summer +02:00, winter +01:00)', () => {
      expect(localRfc3339(1593179765)).toBe('2020-06-26T15:56:05+02:00');
      expect(localRfc3339(1606398965)).toBe('2020-11-26T14:56:05+01:00');
    });
  });

  describe('in UTC and west of it', () => {
    usePinnedTimeZone('UTC');
    it('writes +00:00, never Z', () => {
      expect(localRfc3339(0)).toBe('1970-01-01T00:00:00+00:00');
    });
    it('writes a negative offset with its minutes', () => {
      process.env.TZ = 'America/St_Johns';
      expect(localRfc3339(1593179765)).toBe('2020-06-26T11:26:05-02:30');
    });
  });

  it('reads the forms PBS reads: an offset or Z, whole seconds', () => {
    expect(parseRfc3339('2020-06-26T15:56:05+02:00')).toBe(1593179765);
    expect(parseRfc3339('2020-06-26T11:26:05-02:30')).toBe(1593179765);
    expect(parseRfc3339('2020-06-26T13:56:05Z')).toBe(1593179765);
    expect(parseRfc3339('0099-12-31T23:59:59Z')).toBe(-59011459201);
    for (const bad of [
      '2020-06-26T13:56:05.5Z',
      '2020-06-26 13:56:05Z',
      '2020-06-26T13:56:05',
      '2020-06-26T13:56:05+0200',
      '2020-13-26T13:56:05Z',
      '2020-06-26T24:00:00Z',
      '2020-06-26T13:56:05+24:00',
      ' 2020-06-26T13:56:05Z',
    ])
      expect(parseRfc3339(bad), bad).toBeUndefined();
  });
});

describe('fingerprint text', () => {
  const fp = '0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b';
  it('short form is the first 8 bytes; any case and colons are read, 32 bytes exactly', () => {
    expect(shortFingerprint(fp)).toBe('0e:ab:d4:46:0b:6e:b9:ca');
    expect(normalFingerprint(fp.toUpperCase())).toBe(fp);
    expect(normalFingerprint(fp.replaceAll(':', ''))).toBe(fp);
    expect(parseFingerprint(fp.slice(3))).toBeUndefined();
    expect(parseFingerprint(`${fp}:00`)).toBeUndefined();
    expect(parseFingerprint(fp.replace('0e', 'zz'))).toBeUndefined();
  });
});
