/**
 * The local sandbox as the tool runs on it: the sandbox (server/sandbox/, a stand-in for AWS that
 * knows nothing of the tool) with the run store's tables created in it, at start and after every
 * restart of DynamoDB Local, as `runbooks store init` creates them on AWS. `npm start`, `runbooks
 * sandbox`, the `--sandbox` targets, the tests and the benches start it from here.
 */
import { createStoreTables, DEFAULT_STORE_PREFIX, storeTables } from '../runs/dynamo-tables.js';
import { startBareSandbox, type Sandbox, type SandboxOptions } from '../sandbox/index.js';

export * from '../sandbox/index.js';

/** Starts the sandbox with the run store's tables under `storePrefix` (default runbooks-). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const prefix = options.storePrefix ?? DEFAULT_STORE_PREFIX;
  // A prefix no table name can start with fails here, before anything starts.
  storeTables(prefix);
  return startBareSandbox({ ...options, storePrefix: prefix, createTables: (client) => createStoreTables({ client, prefix }) });
}
