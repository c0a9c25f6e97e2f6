import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteBook } from '../../../core/remote/remote-book.js';
import { useTempDirs } from '../../support/temp.js';

describe('remote credentials', () => {
  const temp = useTempDirs();

  it('takes CAIRN_S3_* first, then the stored ones, and AWS_* only for a remote with none stored', () => {
    const book = new RemoteBook(join(temp('remotes'), 'config'));
    const remote = { endpoint: 'https://s3.example.com', region: 'eu', bucket: 'backups', prefix: '', pathStyle: true };
    book.add({ ...remote, name: 'stored' }, { accessKeyId: 'STORED', secretAccessKey: 's' });
    book.add({ ...remote, name: 'bare' });
    const aws = { AWS_ACCESS_KEY_ID: 'AWS', AWS_SECRET_ACCESS_KEY: 'a' };
    expect(book.credentials('stored', aws).accessKeyId).toBe('STORED');
    expect(book.credentials('bare', aws).accessKeyId).toBe('AWS');
    const cairn = { ...aws, CAIRN_S3_ACCESS_KEY_ID: 'CAIRN', CAIRN_S3_SECRET_ACCESS_KEY: 'c' };
    expect(book.credentials('stored', cairn).accessKeyId).toBe('CAIRN');
    expect(() => book.credentials('bare', {})).toThrow(/no credentials for the remote "bare"/);
  });
});
