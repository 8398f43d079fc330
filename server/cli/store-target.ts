/**
 * Reaching the DynamoDB store (docs/deploy.md) from a command: `--store dynamodb` and
 * `--store-prefix`, with the client built from the standard AWS chain, as for real AWS. Region from
 * AWS_REGION (or AWS_DEFAULT_REGION, or the profile's), credentials from the chain, and the endpoint
 * from AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL as the SDK reads them — so that the sandbox, or
 * DynamoDB Local, stands in for AWS by environment alone.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RbError } from '../errors.js';

/** `--store`: the data folder's files, or the DynamoDB store replicas share */
export type StoreKind = 'file' | 'dynamodb';

export interface StoreClient {
  /** the caller's to destroy */
  client: DynamoDBClient;
  region: string;
  /** the endpoint the environment names, if any (else the region's AWS endpoint) */
  endpoint?: string;
}

/**
 * A DynamoDB client for the store, from the standard chain; RB_ERR_CLI_USAGE when no region is set
 * (the SDK would only fail at the first call, with a message that names no variable).
 */
export async function storeClientFromEnv(): Promise<StoreClient> {
  const env = process.env;
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  // AWS_DEFAULT_REGION is the AWS CLI's name, which the SDK does not read by itself.
  const named = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const client = new DynamoDBClient(named ? { region: named } : {});
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    region = '';
  }
  if (!region) {
    client.destroy();
    throw new RbError(
      'RB_ERR_CLI_USAGE',
      "With --store dynamodb, set the region of the store's tables: AWS_REGION=eu-west-1 (or AWS_DEFAULT_REGION, or region in the AWS profile).",
    );
  }
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  return { client, region, ...(endpoint ? { endpoint } : {}) };
}
