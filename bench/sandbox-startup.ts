/**
 * Sandbox benchmark: `npm run bench:sandbox [-- --runs N --requests N]`.
 * 1. start-to-ready of the whole sandbox (DynamoDB Local spawn to first answer, seeding from
 *    runbooks/sandbox.yaml, gateway) and stop, over a few runs;
 * 2. the gateway's overhead per request: the same Query sent straight to DynamoDB Local and through
 *    the gateway with an STS session (signature check, IAM evaluation with a LeadingKeys condition,
 *    forwarding), sequentially, after a warm-up.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { LOCAL_CREDENTIALS, startSandbox, type Sandbox } from '../server/cli/local-sandbox.js';
import { numberOption } from './common.js';

const RUNS = numberOption('runs', 3);
const REQUESTS = numberOption('requests', 500);
const WARMUP = 100;

const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

async function startup(): Promise<Array<{ dynamoLocalMs: number; seedMs: number; totalMs: number; stopMs: number }>> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
    const t = performance.now();
    await sandbox.stop();
    runs.push({ ...sandbox.timings, stopMs: performance.now() - t });
    process.stdout.write(
      `  run ${i + 1}: ready in ${ms(sandbox.timings.totalMs)} (DynamoDB Local ${ms(sandbox.timings.dynamoLocalMs)}, seeding ${ms(sandbox.timings.seedMs)}), stopped in ${ms(runs[i].stopMs)}\n`,
    );
  }
  return runs;
}

async function overhead(sandbox: Sandbox): Promise<{ direct: number[]; gateway: number[] }> {
  const sts = new STSClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.baseCredentials });
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: `arn:aws:dynamodb:${sandbox.region}:${sandbox.account}:table/Orders`,
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['CUSTOMER#C1001'] } },
      },
    ],
  };
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: sandbox.roles[0].arn, RoleSessionName: 'bench', Policy: JSON.stringify(policy) }));
  sts.destroy();
  const c = out.Credentials!;
  const viaGateway = new DynamoDBClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
  });
  const direct = new DynamoDBClient({ endpoint: sandbox.dynamoLocalEndpoint, region: sandbox.region, credentials: LOCAL_CREDENTIALS });
  const query = new QueryCommand({ TableName: 'Orders', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'CUSTOMER#C1001' } } });
  const time = async (client: DynamoDBClient, n: number): Promise<number[]> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await client.send(query);
      xs.push(performance.now() - t);
      if (r.Count !== 3) throw new Error(`unexpected answer: ${r.Count} items`);
    }
    return xs;
  };
  await time(direct, WARMUP);
  await time(viaGateway, WARMUP);
  // Interleaved rounds so that JIT and machine load affect both paths alike.
  const result = { direct: [] as number[], gateway: [] as number[] };
  for (let round = 0; round < 5; round++) {
    result.direct.push(...(await time(direct, REQUESTS / 5)));
    result.gateway.push(...(await time(viaGateway, REQUESTS / 5)));
  }
  direct.destroy();
  viaGateway.destroy();
  return result;
}

process.stdout.write(`Sandbox start-up (${RUNS} runs, ${process.platform}, Node ${process.version})\n`);
const runs = await startup();
const sandbox = await startSandbox({ sandboxFile: 'runbooks/sandbox.yaml' });
try {
  process.stdout.write(`\nGateway overhead (${REQUESTS} Query requests each way, after ${WARMUP} warm-up)\n`);
  const { direct, gateway } = await overhead(sandbox);
  const summary = {
    startup: {
      runs: RUNS,
      dynamoLocalMedianMs: Math.round(median(runs.map((r) => r.dynamoLocalMs))),
      seedMedianMs: Math.round(median(runs.map((r) => r.seedMs))),
      totalMedianMs: Math.round(median(runs.map((r) => r.totalMs))),
      stopMedianMs: Math.round(median(runs.map((r) => r.stopMs))),
    },
    query: {
      requests: REQUESTS,
      directMedianMs: +median(direct).toFixed(2),
      gatewayMedianMs: +median(gateway).toFixed(2),
      directP95Ms: +p95(direct).toFixed(2),
      gatewayP95Ms: +p95(gateway).toFixed(2),
      overheadMedianMs: +(median(gateway) - median(direct)).toFixed(2),
      ratio: +(median(gateway) / median(direct)).toFixed(2),
    },
  };
  process.stdout.write(
    `  direct to DynamoDB Local: median ${ms(summary.query.directMedianMs)}, p95 ${ms(summary.query.directP95Ms)}\n` +
      `  through the gateway:      median ${ms(summary.query.gatewayMedianMs)}, p95 ${ms(summary.query.gatewayP95Ms)}\n` +
      `  overhead: ${ms(summary.query.overheadMedianMs)} per request (ratio ${summary.query.ratio})\n\n` +
      `${JSON.stringify(summary)}\n`,
  );
} finally {
  await sandbox.stop();
}
