/** DynamoDB: a rendered request and a session in, a normalised result (or a coded step error) out. */
export { executeRequest, isPaged, type Cursor, type ExecuteOptions, type ExecutionResult } from './execute.js';
export { describeKeySchema, type KeySchema } from './describe.js';
export { dynamoError } from './errors.js';
export { plain, plainNumber } from './values.js';
