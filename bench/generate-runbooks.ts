/**
 * Realistic runbooks in bulk, for the `check` benchmark and its test: variations of the sample
 * domain (customers, orders, payments) with front matter, prose and three or four steps each.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const AREAS = ['customers', 'orders', 'payments', 'refunds', 'shipping'];
const STATUSES = ['PENDING', 'PAYMENT_FAILED', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

/**
 * The request lines of a step that queries a customer's orders of the last `days` days (parameters
 * customerId and days), without its options; the tests of the parser and renderer use it too.
 */
export const RECENT_ORDERS = `operation: Query
TableName: Orders
KeyConditionExpression: "pk = :pk AND sk >= :since"
ExpressionAttributeValues:
  ":pk": "CUSTOMER#{{customerId}}"
  ":since": "ORDER#{{daysAgo days}}"`;

/** The text of runbook number `i`; every one is valid. */
export function runbookText(i: number): string {
  const status = STATUSES[i % STATUSES.length];
  const approval = i % 3 === 0 ? 'writes' : 'none';
  return `---
title: Investigate ${status.toLowerCase()} orders (${i})
description: Generated runbook ${i} for the check benchmark.
tags: [orders, generated]
params:
  customerId:
    type: string
    description: Customer id as shown in the support console
    pattern: "^C[0-9]{4,}$"
  days:
    type: integer
    default: ${1 + (i % 30)}
    min: 1
    max: 365
  status:
    type: enum
    values: [${STATUSES.join(', ')}]
    default: ${status}
  orderId:
    type: string
    pattern: "^[A-Z0-9]{1,12}$"
    required: false
access:
  approval: ${approval}
---

# Investigate ${status.toLowerCase()} orders

When a customer reports a problem with an order, start with the customer's recent orders, then
look at the status index and the payments. Escalate to **Fulfilment** when an order is pending for
more than a day, and to **Payments** when a card was charged twice.

## Recent orders of the customer

\`\`\`dynamodb {"name": "recent-orders", "maxItems": 100}
${RECENT_ORDERS}
ProjectionExpression: "orderId, sk, #status, #total"
ExpressionAttributeNames:
  "#status": status
  "#total": total
ScanIndexForward: false
Limit: 25
\`\`\`

| status | meaning |
| --- | --- |
| \`PENDING\` | not yet picked |
| \`SHIPPED\` | with the carrier |

## Orders in the same status

\`\`\`dynamodb {"name": "by-status"}
operation: Query
TableName: Orders
IndexName: ByStatus
KeyConditionExpression: "#status = :status AND createdAt >= :since"
ExpressionAttributeNames:
  "#status": status
ExpressionAttributeValues:
  ":status": "{{status}}"
  ":since": "{{daysAgo days}}"
Limit: 100
\`\`\`

## Payments of one order

\`\`\`partiql {"name": "payments"}
SELECT paymentId, "state", amount FROM "Payments" WHERE orderId = {{orderId}}
\`\`\`

## Mark the order as checked

\`\`\`dynamodb {"name": "mark-checked"}
operation: UpdateItem
TableName: Orders
Key:
  pk: "CUSTOMER#{{customerId}}"
  sk: "ORDER#{{today}}#{{orderId}}"
UpdateExpression: "SET checkedAt = :now"
ConditionExpression: "attribute_exists(pk)"
ExpressionAttributeValues:
  ":now": "{{now}}"
\`\`\`
`;
}

/** Writes `count` runbooks under `dir`, spread over a few folders; returns their paths. */
export async function generateRunbooks(dir: string, count: number): Promise<string[]> {
  const files: string[] = [];
  for (const area of AREAS) await mkdir(join(dir, area), { recursive: true });
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const file = join(dir, AREAS[i % AREAS.length], `runbook-${String(i).padStart(4, '0')}.md`);
      files.push(file);
      await writeFile(file, runbookText(i));
    }),
  );
  return files.sort();
}
