import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonFile } from '../../../core/fs/json-file.js';
import { useTempDirs } from '../../support/temp.js';

describe('readJsonFile', () => {
  const temp = useTempDirs();
  const schema = z.object({ version: z.literal(1) });

  it('a file that is not JSON is one line of CORRUPT naming the file (V8 quotes the text, newlines and all)', () => {
    const file = join(temp('json'), 'plans.json');
    writeFileSync(file, 'nonsense\n{ "version": 1 }\n');
    let error: unknown;
    try {
      readJsonFile(file, schema, 'a plans file');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'CORRUPT' });
    const message = (error as Error).message;
    expect(message).toContain(`${file} (a plans file) is not valid JSON`);
    expect(message).not.toContain('\n');
  });

  it('a missing file is undefined; a file of another shape names where it is wrong', () => {
    const dir = temp('json');
    expect(readJsonFile(join(dir, 'none.json'), schema, 'a plans file')).toBeUndefined();
    writeFileSync(join(dir, 'v2.json'), '{"version":2}');
    expect(() => readJsonFile(join(dir, 'v2.json'), schema, 'a plans file')).toThrow(
      /v2\.json is not a plans file Cairn can read at version/,
    );
  });
});
