/**
 * The run store in DynamoDB, for several server replicas sharing one store (docs/deploy.md). The
 * same contract as the embedded file store (./store.ts), on three tables (./dynamo-tables.ts):
 *
 *   <prefix>runs      key run            the header, put once: attribute_not_exists(run)
 *   <prefix>journal   keys run, seq      one item per record, put once: attribute_not_exists(seq),
 *                                        so two replicas can never both write record n of a run;
 *                                        seq 0 is the run's lease, never a record (`hold`)
 *   <prefix>items     keys id, chunk     result items: id `<run>#<step>#<n>`, chunk the position of
 *                                        the chunk's first item; and the parts of large values
 *
 * Values are laid out as ./dynamo-values.ts says. Every read is strongly consistent: a replica
 * reads what another has just written, or it would append at a taken number. A put refused because
 * its key is taken succeeds all the same if the item there carries the call's own random token: the
 * SDK retried a put whose answer was lost. Anything else there is RB_ERR_STORE_CONFLICT. DynamoDB
 * failures are RB_ERR_STORE_WRITE with the AWS code (./dynamo-store-errors.ts).
 *
 * `list()` is a Scan of the runs table's keys: one small item per run, read rarely (at start-up).
 * Headers and records carry the change feed's keys (`feed`, `feedAt`: ./dynamo-tables.ts), which
 * `changes` queries.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { RbError } from '../errors.js';
import { eachLimited, queryAll, readParts, runIds, writeToken } from './dynamo-calls.js';
import { storeError } from './dynamo-store-errors.js';
import { checkKeys, DEFAULT_STORE_PREFIX, FEED_INDEX, FEED_TABLES, storeTables, TTL_ATTRIBUTE, type StoreTables } from './dynamo-tables.js';
import { blobOf, chunkItems, decodeValue, encodeValue, type Encoded, type Item } from './dynamo-values.js';
import { checkExecution, checkRunId } from './store-ids.js';
import type { JournalRecord, RunHeader, RunStore, SharedStore } from './store.js';

export interface DynamoStoreOptions {
  /** signed as the server's identity (the sandbox's base principal); stays the caller's to destroy */
  client: DynamoDBClient;
  /** table name prefix, default `runbooks-` */
  prefix?: string;
  /** when set, result items carry `expiresAt` this many seconds ahead, for the items table's TTL */
  itemRetentionSeconds?: number;
  /** how long a run's lease lasts unless renewed (default 6 s), and how long `hold` waits for it (default 30 s) */
  leaseMs?: number;
  leaseWaitMs?: number;
}

// Headers kept in memory, most recently used last.
const HEADERS_KEPT = 1_000;

/** The change feed's keys of a change at `at` (ISO time) to record `seq` of run `run` (0: its creation). */
function feedKeys(at: string, run: string, seq: number): Item {
  return { feed: { S: at.slice(0, 10) }, feedAt: { S: `${at}#${run}#${String(seq).padStart(10, '0')}` } };
}

/** Opens the store on existing tables (`runbooks store init` creates them); checks their keys. */
export async function openDynamoStore(options: DynamoStoreOptions): Promise<RunStore> {
  const { client } = options;
  const prefix = options.prefix ?? DEFAULT_STORE_PREFIX;
  const tables = storeTables(prefix);
  // The headers of the runs this store created or read (written once, never changed): reading such
  // a run again queries its journal only.
  const headers = new Map<string, RunHeader>();

  /** Keeps a header, the last HEADERS_KEPT of them (a header holds its runbook's text). */
  function remember(id: string, header: RunHeader): void {
    headers.delete(id);
    headers.set(id, header);
    if (headers.size > HEADERS_KEPT) headers.delete(headers.keys().next().value!);
  }

  async function send<T>(what: string, table: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw storeError(what, table, prefix, err);
    }
  }

  await Promise.all(
    (Object.keys(tables) as Array<keyof StoreTables>).map(async (kind) => {
      const out = await send('DescribeTable', tables[kind], () => client.send(new DescribeTableCommand({ TableName: tables[kind] })));
      checkKeys(tables[kind], kind, out.Table?.KeySchema ?? [], out.Table?.AttributeDefinitions ?? []);
    }),
  );

  async function* query(what: string, input: QueryCommandInput): AsyncGenerator<Item> {
    try {
      yield* queryAll(client, input);
    } catch (err) {
      throw storeError(what, input.TableName!, prefix, err);
    }
  }

  async function decode(item: Item, table: string): Promise<string> {
    try {
      return await decodeValue(item, (blob, parts) =>
        send('reading a large value', tables.items, () => readParts(client, tables.items, { hash: 'id', range: 'chunk' }, blob, parts)),
      );
    } catch (err) {
      if (err instanceof RbError) throw err;
      throw new RbError('RB_ERR_STORE_WRITE', `The run store holds an unreadable value in DynamoDB table ${table} (${(err as Error).message}); it was changed outside the server.`);
    }
  }

  const expiry = (): Item => (options.itemRetentionSeconds ? { [TTL_ATTRIBUTE]: { N: String(Math.floor(Date.now() / 1000) + options.itemRetentionSeconds) } } : {});

  /** Stores a split value's parts; they go first, so that no item ever names parts not yet there. */
  async function putParts(value: Encoded, extra: Item = {}): Promise<void> {
    const parts = value.parts;
    if (!parts) return;
    await eachLimited(parts.data, async (data, i) => {
      await send('storing part of a large value', tables.items, () =>
        client.send(new PutItemCommand({ TableName: tables.items, Item: { id: { S: parts.blob }, chunk: { N: String(i) }, data: { B: data }, ...extra } })),
      );
    });
  }

  async function dropParts(split: { blob: string; parts: number } | undefined): Promise<void> {
    if (!split) return;
    await eachLimited(
      Array.from({ length: split.parts }, (_, i) => i),
      (i) =>
        send('removing a part of a replaced value', tables.items, () =>
          client.send(new DeleteItemCommand({ TableName: tables.items, Key: { id: { S: split.blob }, chunk: { N: String(i) } } })),
        ),
    );
  }

  /**
   * Puts an item only where none is at its key. True when written, now or by an earlier attempt of
   * the same call (the SDK retries a put whose answer was lost: its token is at the key); false when
   * another writer's item is there.
   */
  async function putOnce(what: string, table: string, item: Item, keyName: string, key: Item, value: Encoded): Promise<boolean> {
    await putParts(value);
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': keyName },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw storeError(what, table, prefix, err);
      const found =
        err.Item ??
        (
          await send(what, table, () =>
            client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true, ProjectionExpression: '#t', ExpressionAttributeNames: { '#t': 'token' } })),
          )
        ).Item;
      if (found?.token?.S === item.token.S) return true;
      // This value lost: its parts belong to nothing.
      await dropParts(value.parts && { blob: value.parts.blob, parts: value.parts.data.length }).catch(() => undefined);
      return false;
    }
  }

  const executionId = (id: string, step: string, n: number) => {
    checkExecution(id, step, n);
    return `${id}#${step}#${n}`;
  };

  async function putChunk(id: string, runId: string, first: number, texts: string[]): Promise<void> {
    const value = await encodeValue(`[${texts.join(',')}]`, runId, false);
    const extra = expiry();
    await putParts(value, extra);
    await send('storing result items', tables.items, () =>
      client.send(
        new PutItemCommand({
          TableName: tables.items,
          Item: { id: { S: id }, chunk: { N: String(first) }, count: { N: String(texts.length) }, ...value.attributes, ...extra },
        }),
      ),
    );
  }

  async function chunkItemsOf(item: Item): Promise<Record<string, unknown>[]> {
    return JSON.parse(await decode(item, tables.items)) as Record<string, unknown>[];
  }

  const store: RunStore = {
    itemsExpire: options.itemRetentionSeconds !== undefined,
    async create(header) {
      checkRunId(header.id);
      const text = JSON.stringify(header);
      const value = await encodeValue(text, header.id, true);
      const key = { run: { S: header.id } };
      const item: Item = {
        ...key,
        runbook: { S: header.runbook },
        user: { S: header.user },
        startedAt: { S: header.startedAt },
        ...feedKeys(new Date().toISOString(), header.id, 0),
        token: { S: writeToken() },
        ...value.attributes,
      };
      if (!(await putOnce(`creating run ${header.id}`, tables.runs, item, 'run', key, value))) {
        throw new RbError('RB_ERR_STORE_CONFLICT', `A run with id ${header.id} exists already.`);
      }
      remember(header.id, header);
    },

    async append(id, record) {
      checkRunId(id);
      if (!Number.isSafeInteger(record.seq) || record.seq < 1) {
        throw new RbError('RB_ERR_STORE_CONFLICT', `Record ${JSON.stringify(record.seq)} of run ${id} is not a sequence number; reload the run and try again.`);
      }
      const text = JSON.stringify(record);
      const value = await encodeValue(text, id, true);
      const key = { run: { S: id }, seq: { N: String(record.seq) } };
      // The feed is keyed by this replica's clock at the append, not the record's (an engine's clock may be a test's).
      const item: Item = {
        ...key,
        type: { S: record.type },
        at: { S: record.at },
        ...feedKeys(new Date().toISOString(), id, record.seq),
        token: { S: writeToken() },
        ...value.attributes,
      };
      if (!(await putOnce(`appending to run ${id}'s journal`, tables.journal, item, 'seq', key, value))) {
        throw new RbError('RB_ERR_STORE_CONFLICT', `Run ${id} changed in another process (another writer took record ${record.seq}); reload it and try again.`);
      }
    },

    async read(id, fromSeq = 1) {
      checkRunId(id);
      const journal = async () => {
        const items: Item[] = [];
        const input = {
          TableName: tables.journal,
          KeyConditionExpression: '#run = :run AND #seq >= :from',
          ExpressionAttributeNames: { '#run': 'run', '#seq': 'seq' },
          ExpressionAttributeValues: { ':run': { S: id }, ':from': { N: String(Math.max(1, Math.floor(fromSeq))) } },
        };
        for await (const item of query(`reading run ${id}'s journal`, input)) items.push(item);
        return items;
      };
      const readHeader = async (): Promise<RunHeader | undefined> => {
        const found = await send(`reading run ${id}`, tables.runs, () =>
          client.send(new GetItemCommand({ TableName: tables.runs, Key: { run: { S: id } }, ConsistentRead: true })),
        );
        return found.Item && (JSON.parse(await decode(found.Item, tables.runs)) as RunHeader);
      };
      const [header, items] = await Promise.all([headers.get(id) ?? readHeader(), journal()]);
      if (!header) return undefined;
      // Written once, never changed: later reads of the run query its journal only.
      remember(id, header);
      const records = await Promise.all(items.map(async (item) => JSON.parse(await decode(item, tables.journal)) as JournalRecord));
      return { header, records };
    },

    async list() {
      return send('listing runs', tables.runs, () => runIds(client, tables.runs));
    },

    async putItems(runId, step, n, offset, items) {
      const id = executionId(runId, step, n);
      if (items.length === 0) return;
      // What an earlier write left at or after `offset` (a first page starts afresh: offset 0).
      const stale: Item[] = [];
      for await (const item of query(`reading the items of step ${step} in run ${runId}`, {
        TableName: tables.items,
        KeyConditionExpression: '#id = :id AND #chunk >= :at',
        ProjectionExpression: '#chunk, #blob, #parts',
        ExpressionAttributeNames: { '#id': 'id', '#chunk': 'chunk', '#blob': 'blob', '#parts': 'parts' },
        ExpressionAttributeValues: { ':id': { S: id }, ':at': { N: String(offset) } },
      })) {
        stale.push(item);
      }
      // A chunk that began before `offset` and runs past it keeps only its items before it.
      let straddling: { item: Item; keep: Record<string, unknown>[] } | undefined;
      if (offset > 0) {
        const before = query(`reading the items of step ${step} in run ${runId}`, {
          TableName: tables.items,
          KeyConditionExpression: '#id = :id AND #chunk < :at',
          ExpressionAttributeNames: { '#id': 'id', '#chunk': 'chunk' },
          ExpressionAttributeValues: { ':id': { S: id }, ':at': { N: String(offset) } },
          ScanIndexForward: false,
          Limit: 1,
        });
        const last = (await before.next()).value as Item | undefined;
        await before.return(undefined);
        const first = Number(last?.chunk?.N);
        if (last && first + Number(last.count.N) > offset) straddling = { item: last, keep: (await chunkItemsOf(last)).slice(0, offset - first) };
      }
      const chunks = chunkItems(items, offset);
      const rewritten = new Set(chunks.map((c) => c.first));
      try {
        // Items past the new ones go before anything is written, so no reader ever follows new
        // items into old ones.
        await eachLimited(
          stale.filter((item) => !rewritten.has(Number(item.chunk.N))),
          async (item) => {
            await client.send(new DeleteItemCommand({ TableName: tables.items, Key: { id: { S: id }, chunk: item.chunk } }));
            await dropParts(blobOf(item));
          },
        );
        if (straddling) {
          await putChunk(
            id,
            runId,
            Number(straddling.item.chunk.N),
            straddling.keep.map((x) => JSON.stringify(x)),
          );
          await dropParts(blobOf(straddling.item));
        }
        await eachLimited(chunks, (c) => putChunk(id, runId, c.first, c.texts));
        await eachLimited(
          stale.filter((item) => rewritten.has(Number(item.chunk.N))),
          (item) => dropParts(blobOf(item)),
        );
      } catch (err) {
        throw storeError(`storing the items of step ${step} in run ${runId}`, tables.items, prefix, err);
      }
    },

    async readItems(runId, step, n, offset, limit) {
      const id = executionId(runId, step, n);
      const out: Record<string, unknown>[] = [];
      if (limit <= 0 || offset < 0) return out;
      const what = `reading the items of step ${step} in run ${runId}`;
      // The chunk holding `offset`: the last one that begins at or before it.
      const holding = query(what, {
        TableName: tables.items,
        KeyConditionExpression: '#id = :id AND #chunk <= :at',
        ExpressionAttributeNames: { '#id': 'id', '#chunk': 'chunk' },
        ExpressionAttributeValues: { ':id': { S: id }, ':at': { N: String(offset) } },
        ScanIndexForward: false,
        Limit: 1,
      });
      const first = (await holding.next()).value as Item | undefined;
      await holding.return(undefined);
      if (!first) return out;
      let next = Number(first.chunk.N);
      const take = async (chunk: Item): Promise<boolean> => {
        // A gap means the items end here (a later page never written).
        if (Number(chunk.chunk.N) !== next) return false;
        const items = await chunkItemsOf(chunk);
        for (let i = Math.max(0, offset - next); i < items.length && out.length < limit; i++) out.push(items[i]);
        next += items.length;
        return out.length < limit;
      };
      if (!(await take(first)) || next <= offset) return out;
      for await (const chunk of query(what, {
        TableName: tables.items,
        KeyConditionExpression: '#id = :id AND #chunk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#id': 'id', '#chunk': 'chunk' },
        ExpressionAttributeValues: { ':id': { S: id }, ':from': { N: String(next) }, ':to': { N: String(offset + limit - 1) } },
      })) {
        if (!(await take(chunk))) break;
      }
      return out;
    },

    async *items(runId, step, n) {
      const id = executionId(runId, step, n);
      let next = 0;
      for await (const chunk of query(`reading the items of step ${step} in run ${runId}`, {
        TableName: tables.items,
        KeyConditionExpression: '#id = :id',
        ExpressionAttributeNames: { '#id': 'id' },
        ExpressionAttributeValues: { ':id': { S: id } },
      })) {
        if (Number(chunk.chunk.N) !== next) return;
        const items = await chunkItemsOf(chunk);
        yield* items;
        next += items.length;
      }
    },

    async close() {
      // The client is the caller's: it may serve other stores or calls.
      headers.clear();
    },

    shared: sharedStore(),
  };
  return store;

  function sharedStore(): SharedStore {
    // Short, so that a dead replica's runs are free again within seconds; renewed every third of it.
    const leaseMs = options.leaseMs ?? 6_000;
    const waitMs = options.leaseWaitMs ?? 30_000;
    const leaseKey = (id: string) => ({ run: { S: id }, seq: { N: '0' } });

    /** Takes the lease if it is free or its holder let it lapse; false while another holds it. */
    async function take(id: string, holder: string): Promise<boolean> {
      const now = Date.now();
      try {
        await client.send(
          new PutItemCommand({
            TableName: tables.journal,
            Item: { ...leaseKey(id), holder: { S: holder }, until: { N: String(now + leaseMs) } },
            ConditionExpression: 'attribute_not_exists(#seq) OR #until < :now OR #holder = :me',
            ExpressionAttributeNames: { '#seq': 'seq', '#until': 'until', '#holder': 'holder' },
            ExpressionAttributeValues: { ':now': { N: String(now) }, ':me': { S: holder } },
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) return false;
        throw storeError(`taking run ${id}'s lease`, tables.journal, prefix, err);
      }
    }

    async function give(id: string, holder: string): Promise<void> {
      await client
        .send(
          new DeleteItemCommand({
            TableName: tables.journal,
            Key: leaseKey(id),
            ConditionExpression: '#holder = :me',
            ExpressionAttributeNames: { '#holder': 'holder' },
            ExpressionAttributeValues: { ':me': { S: holder } },
          }),
        )
        // Lapsed and taken by another, or unreachable: either way it ends by itself.
        .catch(() => undefined);
    }

    return {
      async hold(id, fn) {
        checkRunId(id);
        const holder = writeToken();
        const deadline = Date.now() + waitMs;
        for (let attempt = 0; !(await take(id, holder)); attempt++) {
          if (Date.now() > deadline) {
            throw new RbError('RB_ERR_RUN_BUSY', `Run ${id} is busy: another replica has been changing it for ${Math.round(waitMs / 1000)} s. Try again in a moment.`);
          }
          // Backs off up to 100 ms, jittered, so that waiting replicas do not take turns in lockstep.
          await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 2 ** attempt) * (0.5 + Math.random())));
        }
        const renew = setInterval(() => void take(id, holder).catch(() => undefined), leaseMs / 3);
        try {
          return await fn();
        } finally {
          clearInterval(renew);
          await give(id, holder);
        }
      },

      async changes(since) {
        const from = since.toISOString();
        const days = new Set([from.slice(0, 10), new Date().toISOString().slice(0, 10)]);
        const out: Array<{ run: string; seq: number }> = [];
        for (const kind of FEED_TABLES) {
          for (const day of days) {
            // Index reads cannot be strongly consistent: a change shows up a moment late, never lost,
            // as long as the caller's `since` looks back past that moment.
            let start: Item | undefined;
            do {
              const page = await send('following the change feed', tables[kind], () =>
                client.send(
                  new QueryCommand({
                    TableName: tables[kind],
                    IndexName: FEED_INDEX,
                    KeyConditionExpression: '#feed = :day AND #feedAt >= :from',
                    ExpressionAttributeNames: { '#feed': 'feed', '#feedAt': 'feedAt' },
                    ExpressionAttributeValues: { ':day': { S: day }, ':from': { S: from } },
                    ExclusiveStartKey: start,
                  }),
                ),
              );
              for (const item of page.Items ?? []) if (item.run?.S) out.push({ run: item.run.S, seq: kind === 'runs' ? 0 : Number(item.seq?.N ?? 0) });
              start = page.LastEvaluatedKey;
            } while (start);
          }
        }
        return out;
      },
    };
  }
}
