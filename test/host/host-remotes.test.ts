import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostService } from '../../host/host-service.js';
import { RemoteBook } from '../../core/remote/remote-book.js';
import { call } from '../support/host-calls.js';
import { useTempDirs } from '../support/temp.js';

describe('the host: remotes', () => {
  const temp = useTempDirs();
  let service: HostService | undefined;
  afterEach(async () => {
    await service?.shutdown();
  });

  it('lists the remotes of the config folder without their credentials', async () => {
    const base = temp('host-remotes');
    const configDir = join(base, 'config');
    new RemoteBook(configDir).add(
      {
        name: 'offsite',
        endpoint: 'https://s3.example.com',
        region: 'eu',
        bucket: 'backups',
        prefix: 'laptop/',
        pathStyle: true,
      },
      { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'very-secret-value' },
    );
    service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data'),
      allowedRoots: [base],
      plans: { configDir, where: 'the test' },
    });
    const remotes = await call<unknown[]>(service, 'remotes.list', {});
    expect(remotes).toEqual([
      { name: 'offsite', endpoint: 'https://s3.example.com', bucket: 'backups', prefix: 'laptop/' },
    ]);
    expect(JSON.stringify(remotes)).not.toMatch(/very-secret-value|AKIAEXAMPLE/);
  });
});
