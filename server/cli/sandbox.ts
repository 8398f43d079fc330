/**
 * `runbooks sandbox [DIR]`: runs the local stack alone (DynamoDB Local behind the STS/IAM/DynamoDB
 * gateway) until SIGINT or SIGTERM, and prints its endpoint and the base credentials so that the AWS
 * CLI or an SDK can use it. Printing those credentials is this command's purpose: they exist only
 * in this sandbox, and can do nothing but assume its roles and use its run store tables.
 */
import { join } from 'node:path';
import { isRbError } from '../errors.js';

export interface SandboxCommandOptions {
  port?: number;
  data?: string;
  sandboxFile?: string;
  json?: boolean;
}

/** Runs the sandbox until a signal; resolves to the exit code. */
export async function sandboxCommand(dir: string, opts: SandboxCommandOptions): Promise<number> {
  const { startSandbox, describeSupervisionEvent } = await import('./local-sandbox.js');
  const file = opts.sandboxFile ?? join(dir, 'sandbox.yaml');
  let sandbox;
  try {
    sandbox = await startSandbox({ sandboxFile: file, port: opts.port ?? 0, dataDir: opts.data });
  } catch (err) {
    process.stderr.write(`runbooks: ${isRbError(err) ? err.message : String(err)}\n`);
    return isRbError(err) && err.code === 'RB_ERR_SANDBOX_FILE_INVALID' ? 2 : 1;
  }
  sandbox.onDynamoLocalEvent((event) => process.stderr.write(`runbooks: ${describeSupervisionEvent(event)}\n`));
  const { endpoint, region, baseCredentials, roles, timings } = sandbox;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ endpoint, region, accessKeyId: baseCredentials.accessKeyId, secretAccessKey: baseCredentials.secretAccessKey, roles: roles.map((r) => r.arn) })}\n`,
    );
  } else {
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      [
        `Sandbox ready in ${seconds(timings.totalMs)} (DynamoDB Local ${seconds(timings.dynamoLocalMs)}, seeding ${seconds(timings.seedMs)}) from ${file}${opts.data ? `, data in ${opts.data}` : ', in memory'}`,
        '',
        `  endpoint  ${endpoint}   (STS, IAM and DynamoDB)`,
        `  region    ${region}`,
        ...roles.map((r, i) => `  ${i === 0 ? 'roles   ' : '        '}  ${r.arn}`),
        '',
        `The base credentials below can only assume these roles (and edit their inline policies) and use the run store's tables ${sandbox.store.prefix}*:`,
        '',
        `  export AWS_ENDPOINT_URL=${endpoint}`,
        `  export AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
        `  export AWS_ACCESS_KEY_ID=${baseCredentials.accessKeyId}`,
        `  export AWS_SECRET_ACCESS_KEY=${baseCredentials.secretAccessKey}`,
        '',
        `  aws sts assume-role --role-arn ${roles[0].arn} --role-session-name me   # AWS CLI < 2.13: add --endpoint-url ${endpoint}`,
        '',
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
  }
  // The handlers stay until the stack is down: a second Ctrl+C (or a signal sent to both a wrapper
  // and this process) must not cut the shutdown short.
  const signalled = new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  await signalled;
  await sandbox.stop();
  if (!opts.json) process.stdout.write('Sandbox stopped.\n');
  return 0;
}
