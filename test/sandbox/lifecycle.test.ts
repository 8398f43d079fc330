/**
 * DynamoDB Local's life: it needs Java 17+, starts on a free loopback port, keeps data in a folder
 * when asked, and never outlives its parent, not even a parent killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { RbError } from '../../server/errors.js';
import { probe } from '../../server/sandbox/java.js';
import { startDynamoLocal, startSandbox, type SandboxConfig } from '../../server/cli/local-sandbox.js';
import { localDynamo } from '../helpers/sandbox.js';
import { eventually, liveInGroup, liveJvms } from './processes.js';

const root = new URL('../../', import.meta.url).pathname;

describe('Java', () => {
  it('is required: a clear error saying how to install it', async () => {
    const err = await probe('/nonexistent/bin/java').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RbError);
    expect((err as RbError).code).toBe('RB_ERR_SANDBOX_JAVA_MISSING');
    expect((err as RbError).message).toMatch(/`\/nonexistent\/bin\/java` was not found: install Java 17 or newer \(Debian\/Ubuntu: `apt-get install openjdk-17-jdk-headless`/);
  });

  it('must be 17 or newer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-java-'));
    const old = join(dir, 'java');
    writeFileSync(old, '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    chmodSync(old, 0o755);
    const err = (await probe(old).catch((e: unknown) => e)) as RbError;
    expect(err.code).toBe('RB_ERR_SANDBOX_JAVA_MISSING');
    expect(err.message).toContain('needs Java 17 or newer, and');
    expect(err.message).toContain('is Java 1.8.0_392');
    expect(await probe('java')).toMatchObject({ command: 'java', major: expect.any(Number) });
  });
});

describe('DynamoDB Local', () => {
  it('starts on a loopback port and stops with its whole process group', async () => {
    const local = await startDynamoLocal();
    expect(local.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(liveInGroup(local.pgid).length).toBeGreaterThanOrEqual(2); // the wrapper and the JVM
    expect(liveJvms('-port', String(local.port))).not.toEqual([]);
    await local.stop();
    expect(liveInGroup(local.pgid)).toEqual([]);
    await local.stop(); // idempotent
  });

  it('dies with its parent, even when the parent is killed with SIGKILL', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'rb-orphan-')), 'start.ts');
    writeFileSync(
      script,
      `import { startDynamoLocal } from ${JSON.stringify(join(root, 'server/sandbox/dynamo-local.ts'))};\n` +
        'const local = await startDynamoLocal();\n' +
        'console.log(JSON.stringify({ pgid: local.pgid, port: local.port }));\n' +
        'setInterval(() => {}, 1000);\n',
    );
    const child = spawn(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (l) => l.startsWith('{') && resolve(l));
        child.once('exit', (code) => reject(new Error(`the child exited (${code}) before DynamoDB Local was ready`)));
      });
      const { pgid, port } = JSON.parse(line) as { pgid: number; port: number };
      expect(liveJvms('-port', String(port), '-sharedDb')).toHaveLength(1);
      child.kill('SIGKILL');
      expect(await eventually(() => liveInGroup(pgid).length === 0, 10_000)).toBe(true);
      expect(liveJvms('-port', String(port))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps its data in --data DIR across restarts; seeding leaves an existing table alone', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'rb-data-')), 'db');
    const config: SandboxConfig = {
      account: '000000000000',
      region: 'us-east-1',
      roles: [{ name: 'r', maxSessionDuration: 3600, policies: [{ Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }] }],
      tables: [
        {
          input: {
            TableName: 'Notes',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          },
          items: [{ id: 'seed', text: 'from the sandbox file' }],
        },
      ],
    };
    const first = await startSandbox({ config, dataDir });
    const ids = async (endpoint: string): Promise<string[]> => {
      const client = localDynamo({ dynamoLocalEndpoint: endpoint, region: 'us-east-1' } as never);
      const out = await client.send(new ScanCommand({ TableName: 'Notes' }));
      client.destroy();
      return (out.Items ?? []).map((i) => i.id.S!).sort();
    };
    const writer = localDynamo({ dynamoLocalEndpoint: first.dynamoLocalEndpoint, region: 'us-east-1' } as never);
    await writer.send(new PutItemCommand({ TableName: 'Notes', Item: { id: { S: 'added' } } }));
    writer.destroy();
    await first.stop();
    expect(existsSync(join(dataDir, 'shared-local-instance.db'))).toBe(true);

    const second = await startSandbox({ config, dataDir });
    try {
      expect(await ids(second.dynamoLocalEndpoint)).toEqual(['added', 'seed']);
    } finally {
      await second.stop();
    }
  });
});
