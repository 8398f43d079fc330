/**
 * A request sent as it is with the SDK's Document Client, as any caller outside the tool would send
 * it: what the tests compare the tool's answers and writes with.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  ExecuteStatementCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { RenderedRequest } from '../../server/runbook/types.js';

const COMMANDS: Record<RenderedRequest['operation'], new (input: never) => unknown> = {
  GetItem: GetCommand,
  Query: QueryCommand,
  Scan: ScanCommand,
  PutItem: PutCommand,
  UpdateItem: UpdateCommand,
  DeleteItem: DeleteCommand,
  BatchGetItem: BatchGetCommand,
  BatchWriteItem: BatchWriteCommand,
  TransactGetItems: TransactGetCommand,
  TransactWriteItems: TransactWriteCommand,
  ExecuteStatement: ExecuteStatementCommand,
  DescribeTable: DescribeTableCommand,
};

/** The SDK's answer to the request: its operation's command with its input. */
export async function sendDirect(client: DynamoDBDocumentClient, request: { operation: RenderedRequest['operation']; input: object }): Promise<Record<string, any>> {
  const Command = COMMANDS[request.operation];
  return (await client.send(new Command(request.input as never) as never)) as Record<string, any>;
}
