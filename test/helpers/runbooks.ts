/** Runbook texts more than one test file runs or checks. */

/** Two reads of the sample tables: a customer (GetItem), then their orders (Query); customerId must look like C1001. */
export const CUSTOMER_READS = `---
title: Customer reads
params:
  customerId: { type: string, pattern: "^C[0-9]{4,}$" }
---
# Customer
\`\`\`dynamodb {"name":"customer"}
operation: GetItem
TableName: Customers
Key: { customerId: "{{customerId}}" }
\`\`\`
# Orders
\`\`\`dynamodb {"name":"orders"}
operation: Query
TableName: Orders
KeyConditionExpression: "pk = :pk"
ExpressionAttributeValues: { ":pk": "CUSTOMER#{{customerId}}" }
\`\`\`
`;

const NAMES = ['one', 'two', 'three'];

/**
 * GetItem steps on table T named one, two (and three): the second keyed by `ref` (a template such as
 * `{{steps.one.first.id}}`), the others by "x"; `front` adds lines to the front matter, after the
 * title. Without them, the second step's key is on line 14, its value at column 15.
 */
export function lookupSteps(ref: string, { steps = 2, front = [] as string[] } = {}): string {
  const step = (name: string, key: string) => `# ${name[0].toUpperCase()}${name.slice(1)}
\`\`\`dynamodb {"name":"${name}"}
operation: GetItem
TableName: T
Key: { id: "${key}" }
\`\`\`
`;
  return (
    ['---', 'title: T', ...front, '---', ''].join('\n') +
    NAMES.slice(0, steps)
      .map((name, i) => step(name, i === 1 ? ref : 'x'))
      .join('')
  );
}
