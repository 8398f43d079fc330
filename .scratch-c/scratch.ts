import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { holdCredentials, forget, type Session } from '/work/main/server/access/credentials.js';
import { executeRequest } from '/work/main/server/dynamo/execute.js';
import { describeKeySchema } from '/work/main/server/dynamo/describe.js';

const endpoint = 'http://127.0.0.1:18123';
const creds = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secretsecretsecret', sessionToken: 'tok'.repeat(40) };
const base = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: creds });
const doc = DynamoDBDocumentClient.from(base);
const T = 'Scratch' + Date.now();
await base.send(new CreateTableCommand({ TableName: T, BillingMode: 'PAY_PER_REQUEST',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }] }));
for (let i = 0; i < 30; i++) await doc.send(new PutCommand({ TableName: T, Item: { pk: 'A', sk: i, big: 12345678901234567890n.toString(), tags: new Set(['x', 'y']), n: 1.5, bin: new Uint8Array([1,2,3]) } }));
const session: Session = { assumedRoleId: 'AROAX:rb-r1-s', arn: 'arn', expiration: new Date(Date.now() + 1e6), roleId: 'AROAX', roleArn: 'arn:aws:iam::000000000000:role/x', sessionName: 'rb-r1-s' };
holdCredentials(session, creds);
const opts = { region: 'us-east-1', endpoint, maxItems: 7 };
const q = { operation: 'Query' as const, input: { TableName: T, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'A' }, ReturnConsumedCapacity: 'TOTAL' } };
let r = await executeRequest(q, session, opts);
console.log(JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
console.log(JSON.stringify(r.items[0]));
r = await executeRequest(q, session, { ...opts, cursor: r.cursor });
console.log(JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
r = await executeRequest({ operation: 'Query', input: { ...q.input, Limit: 5 } }, session, { ...opts, maxItems: 100 });
console.log('limit5', JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
r = await executeRequest({ operation: 'Query', input: { ...q.input, Select: 'COUNT' } }, session, { ...opts, maxItems: 3 });
console.log('count', JSON.stringify(r));
r = await executeRequest({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: `SELECT * FROM "${T}" WHERE pk = ?`, Parameters: ['A'] } }, session, opts);
console.log('partiql', JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
r = await executeRequest({ operation: 'ExecuteStatement', statementKind: 'select', input: { Statement: `SELECT * FROM "${T}" WHERE pk = ?`, Parameters: ['A'] } }, session, { ...opts, cursor: r.cursor });
console.log('partiql2', JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
r = await executeRequest({ operation: 'DescribeTable', input: { TableName: T } }, session, opts);
console.log('describe', JSON.stringify(r).slice(0, 300));
console.log(await describeKeySchema(T, session, opts));
try { await executeRequest({ operation: 'PutItem', input: { TableName: T, Item: { pk: 'A', sk: 1 }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }, session, opts); } catch (e) { console.log('ccf', e.code, e.message, JSON.stringify(e.details).slice(0, 300)); }
try { await executeRequest({ operation: 'TransactWriteItems', input: { TransactItems: [{ ConditionCheck: { TableName: T, Key: { pk: 'A', sk: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } }, { Put: { TableName: T, Item: { pk: 'B', sk: 1 } } }] } }, session, opts); } catch (e) { console.log('tx', e.code, e.message, JSON.stringify(e.details).slice(0, 300)); }
try { await executeRequest({ operation: 'GetItem', input: { TableName: T, Key: { pk: 'A' } } }, session, opts); } catch (e) { console.log('val', e.code, e.message); }
try { await executeRequest({ operation: 'GetItem', input: { TableName: 'Nope', Key: { pk: 'A' } } }, session, opts); } catch (e) { console.log('nf', e.code, e.message); }
r = await executeRequest({ operation: 'BatchGetItem', input: { RequestItems: { [T]: { Keys: [{ pk: 'A', sk: 5 }, { pk: 'A', sk: 99 }, { pk: 'A', sk: 2 }] } } } }, session, opts);
console.log('bget', JSON.stringify({ ...r, items: r.items.map((i) => i.sk) }));
r = await executeRequest({ operation: 'UpdateItem', input: { TableName: T, Key: { pk: 'A', sk: 5 }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 }, ReturnValues: 'ALL_NEW' } }, session, opts);
console.log('upd', JSON.stringify(r));
r = await executeRequest({ operation: 'ExecuteStatement', statementKind: 'update', input: { Statement: `UPDATE "${T}" SET n = ? WHERE pk = ? AND sk = ? RETURNING ALL NEW *`, Parameters: [3, 'A', 5] } }, session, opts);
console.log('pupd', JSON.stringify(r));
forget(session);
try { await executeRequest(q, session, opts); } catch (e) { console.log('forgot', e.code, e.message); }
base.destroy();
