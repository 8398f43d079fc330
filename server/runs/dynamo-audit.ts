/**
 * The audit log in DynamoDB, shared by the server replicas of one store (docs/deploy.md): the same
 * chained records and signed digests as the file log (./audit.ts), one item per record in the table
 * `<prefix>audit`, keys `chain` (always "audit": one chain for the whole store, as the file log is
 * one chain per data folder) and `seq`.
 *
 * Each record is one PutItem with `attribute_not_exists(seq)` at the next sequence number, so two
 * replicas can never both write record n and the chain never forks. A replica that finds its number
 * taken reads what was appended since (a consistent Query), continues the chain from its real end —
 * the record not yet written gets its number, `prev` and hash anew, a digest is signed anew — and
 * tries again after a short jittered wait, for at most 30 s. A put refused whose item carries the
 * put's own random token is its own earlier attempt (the SDK retried after a lost answer): written.
 *
 * A record's value is its exact JSON text in `json`; one over DynamoDB's item limit is gzipped, or
 * split into parts, as ./dynamo-values.ts lays values out — the parts in this table too, under
 * `chain` `audit/<24 hex>`, so that every byte of the evidence is in one table without TTL.
 *
 * Appends that arrive while another is being written are written together after it, one put each.
 * Digests are signed as in the file log (./audit-chain.ts holds what both do alike): after a
 * `run.completed`, every `digestEvery` records of the chain (whichever replica wrote them), by a
 * timer while this process appends, and at close.
 *
 * Every replica signs with the audit key file (`keyPath`), and all must use the same key: a digest
 * signed with another one is `forged-digest` to `runbooks audit verify`. Deploy the key as a secret
 * that every replica reads (docs/deploy.md), rather than letting each create its own.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DescribeTableCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RbError } from '../errors.js';
import { chainRecord, digestEntry, GroupCommit, type DigestOptions, type PartWritten, type Waiting, type Written } from './audit-chain.js';
import type { DigestPointer } from './audit-digest.js';
import { defaultAuditKeyPath, loadOrCreateAuditKey, type AuditKey } from './audit-key.js';
import { DIGEST_TYPE, GENESIS_HASH, parseRecordLine, type AuditEntry, type AuditRecord } from './audit-record.js';
import type { AuditSink } from './audit.js';
import { eachLimited, queryAll, readParts, runIds, writeToken } from './dynamo-calls.js';
import { auditStoreError, storeError } from './dynamo-store-errors.js';
import { checkKeys, DEFAULT_STORE_PREFIX, storeTables } from './dynamo-tables.js';
import { decodeValue, encodeValue, type Encoded, type Item } from './dynamo-values.js';

/** The partition of the chain's records; parts of large records are under `audit/<hex>`. */
export const AUDIT_CHAIN = 'audit';

/**
 * How long one record is tried when other replicas keep taking its number. Each refusal is another
 * replica's record written, so this bounds only how long a replica waits behind others appending
 * without pause.
 */
const RETRY_FOR_MS = 30_000;
/** The jittered wait after a refusal, in ms: short and constant (see `put`). */
const JITTER_MS = 2;

export interface DynamoAuditLogOptions extends DigestOptions {
  /** signed as the server's identity; stays the caller's to destroy */
  client: DynamoDBClient;
  /** table name prefix, default `runbooks-` */
  prefix?: string;
  /** the signing key's file, created if missing (default: defaultAuditKeyPath()); the same on every replica */
  keyPath?: string;
  clock?: () => Date;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DynamoAuditLog implements AuditSink {
  private seq = 0;
  private last = GENESIS_HASH;
  private lastDigest: DigestPointer | null = null;
  private readonly commits: GroupCommit;
  private readonly client: DynamoDBClient;
  private readonly prefix: string;
  private readonly table: string;
  private readonly clock: () => Date;

  private constructor(
    private readonly key: AuditKey,
    private readonly options: DynamoAuditLogOptions,
  ) {
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_STORE_PREFIX;
    this.table = storeTables(this.prefix).audit;
    this.clock = options.clock ?? (() => new Date());
    this.commits = new GroupCommit(
      {
        where: `in ${this.table}`,
        sinceDigest: () => this.seq - (this.lastDigest?.seq ?? 0),
        writeWaiting: () => this.appendWaiting(),
        writeDigest: () => this.writeDigest(),
        flushDigest: () => this.flushDigest(),
      },
      options,
    );
  }

  /**
   * Opens the chain in `<prefix>audit` (created by `runbooks store init`), checking the table's keys,
   * and finds its end and its last digest. The signing key is read, or created, first: a chain that
   * cannot be signed is not opened.
   */
  static async open(options: DynamoAuditLogOptions): Promise<DynamoAuditLog> {
    const prefix = options.prefix ?? DEFAULT_STORE_PREFIX;
    const table = storeTables(prefix).audit;
    const key = await loadOrCreateAuditKey(options.keyPath ?? defaultAuditKeyPath());
    const described = await options.client.send(new DescribeTableCommand({ TableName: table })).catch((err: unknown) => {
      throw auditStoreError('DescribeTable', table, prefix, err);
    });
    checkKeys(table, 'audit', described.Table?.KeySchema ?? [], described.Table?.AttributeDefinitions ?? []);
    const log = new DynamoAuditLog(key, options);
    await log.findEnd();
    log.commits.startTimer();
    return log;
  }

  /** sha256 of the signing key's public key, hex */
  get fingerprint(): string {
    return this.key.fingerprint;
  }

  /**
   * Appends a record and resolves once DynamoDB holds it; signs a digest after it when one is due.
   * Appends made while a write is under way are written by the next one, in the order they came.
   */
  append(entry: AuditEntry): Promise<AuditRecord> {
    return this.commits.append(entry);
  }

  /** Writes a digest now if any record of the chain (from any replica) is not yet covered by one. */
  flushDigest(): Promise<void> {
    return this.commits.serialised(async () => {
      await this.refresh();
      await this.commits.sign();
    });
  }

  /** Signs what is not yet signed, then stops. Never rejects: a failed digest goes to onError. The client stays open. */
  close(): Promise<void> {
    return this.commits.close(async () => {
      try {
        await this.refresh();
        await this.commits.sign();
      } catch (err) {
        this.commits.onError(err);
      }
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** Writes every waiting append, one put each, in order; settles each of them. */
  private appendWaiting(): Promise<void> {
    return this.commits.commit((part) => this.putEach(part));
  }

  /**
   * Puts the part's appends one at a time, in order, and stops after the one where a digest falls
   * due: other replicas' records, read when a number was taken, count too.
   */
  private async putEach(part: Waiting[]): Promise<PartWritten> {
    const written: Written[] = [];
    for (const [i, waiting] of part.entries()) {
      let record: AuditRecord | undefined;
      try {
        record = await this.put(() => waiting.entry);
      } catch (err) {
        // DynamoDB refused: this record and those after it are not written.
        if (err instanceof RbError) return { written, failed: err };
        // This entry alone cannot be a record (its data is not JSON).
        waiting.reject(err);
        continue;
      }
      if (!record) continue;
      written.push({ waiting, record });
      if (this.commits.digestFalls()) return { written, took: i + 1 };
    }
    return { written };
  }

  /** Signs everything since the chain's last digest, if there is anything. */
  private async writeDigest(): Promise<void> {
    await this.put(() => digestEntry(this.lastDigest, this.seq, this.last, this.key));
  }

  /**
   * Puts the entry `next()` makes at the chain's end as this replica knows it. When another replica
   * took that number first, reads the chain up to its real end and tries again with the entry made
   * anew (a digest signs what is then unsigned, or nothing). Returns the record written, or
   * undefined when `next` has nothing to write. Throws RB_ERR_AUDIT_WRITE when DynamoDB refuses or
   * other replicas kept taking the number; the error JSON.stringify throws for an entry whose data
   * is not JSON.
   */
  private async put(next: () => AuditEntry | undefined): Promise<AuditRecord | undefined> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const entry = next();
      if (!entry) return undefined;
      const record = chainRecord(entry, this.seq + 1, this.clock().toISOString(), this.last);
      const text = JSON.stringify(record);
      if (await this.putItem(record, text)) {
        this.moveTo(record);
        return record;
      }
      if (Date.now() - started >= RETRY_FOR_MS) {
        throw new RbError(
          'RB_ERR_AUDIT_WRITE',
          `The audit log is not writable: other replicas took the next record of DynamoDB table ${this.table} ${attempt} times in a row, for ${Math.round(RETRY_FOR_MS / 1000)} s, so nothing was recorded. Try again; if it persists, fewer replicas should write at once.`,
        );
      }
      // A short wait that does not grow, then the real end: a replica behind takes a number as soon
      // as the others pause, which a growing wait would miss. Each refusal is another replica's
      // record written, so this cannot livelock; the jitter spreads replicas refused together.
      await sleep(Math.random() * JITTER_MS);
      await this.refresh();
    }
  }

  /** The chain's end is now `record`. */
  private moveTo(record: AuditRecord): void {
    this.seq = record.seq;
    this.last = record.hash;
    if (record.type === DIGEST_TYPE) this.lastDigest = { seq: record.seq, hash: record.hash };
  }

  /** Puts the record's item where none is: true when written (now, or by this put's earlier attempt), false when another's is there. */
  private async putItem(record: AuditRecord, text: string): Promise<boolean> {
    const value = await encodeValue(text, AUDIT_CHAIN, true);
    const key: Item = { chain: { S: AUDIT_CHAIN }, seq: { N: String(record.seq) } };
    const token = writeToken();
    const item: Item = { ...key, type: { S: record.type }, at: { S: record.at }, token: { S: token }, ...value.attributes };
    const what = `appending record ${record.seq}`;
    await this.putParts(value, what);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#seq)',
          ExpressionAttributeNames: { '#seq': 'seq' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (err) {
      // After the SDK's own retries the put may still have landed (its answer lost): look.
      const found = (err instanceof ConditionalCheckFailedException && err.Item) || (await this.tokenAt(key).catch(() => undefined));
      if (found?.token?.S === token) return true;
      if (!(err instanceof ConditionalCheckFailedException)) throw auditStoreError(`PutItem (${what})`, this.table, this.prefix, err);
      // This record lost its number: its parts belong to nothing.
      await this.dropParts(value).catch(() => undefined);
      return false;
    }
  }

  private async tokenAt(key: Item): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: key, ConsistentRead: true, ProjectionExpression: '#t', ExpressionAttributeNames: { '#t': 'token' } }),
    );
    return out.Item;
  }

  /** Stores a split value's parts first, so that no record ever names parts not yet there. */
  private async putParts(value: Encoded, what: string): Promise<void> {
    const parts = value.parts;
    if (!parts) return;
    for (const [i, data] of parts.data.entries()) {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: { chain: { S: parts.blob }, seq: { N: String(i) }, data: { B: data } } })).catch((err: unknown) => {
        throw auditStoreError(`PutItem (${what}, part ${i})`, this.table, this.prefix, err);
      });
    }
  }

  private async dropParts(value: Encoded): Promise<void> {
    const parts = value.parts;
    if (!parts) return;
    for (let i = 0; i < parts.data.length; i++) {
      await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { chain: { S: parts.blob }, seq: { N: String(i) } } }));
    }
  }

  /** The record an item holds; RB_ERR_AUDIT_BROKEN when it holds none, or another number than its key. */
  private async recordOf(item: Item): Promise<AuditRecord> {
    const seq = Number(item.seq?.N);
    let text = '';
    try {
      text = await decodeValue(item, (blob, parts) => readParts(this.client, this.table, { hash: 'chain', range: 'seq' }, blob, parts));
    } catch {
      // Not a value: reported below as not a record.
    }
    const record = parseRecordLine(text);
    if (!record || record.seq !== seq) {
      throw new RbError(
        'RB_ERR_AUDIT_BROKEN',
        `Item ${seq} of the audit chain in DynamoDB table ${this.table} holds no record numbered ${seq}: it was changed outside runbooks, and the chain cannot be continued. Run runbooks audit verify --store dynamodb --store-prefix ${this.prefix} for the first broken record.`,
      );
    }
    return record;
  }

  /** Reads the chain's end and its last digest, backwards from the end: what a digest covers, at most. */
  private async findEnd(): Promise<void> {
    const items = queryAll(this.client, {
      TableName: this.table,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'chain' },
      ExpressionAttributeValues: { ':c': { S: AUDIT_CHAIN } },
      ScanIndexForward: false,
      Limit: 100,
    });
    try {
      for await (const item of items) {
        if (this.seq === 0) {
          const record = await this.recordOf(item);
          this.seq = record.seq;
          this.last = record.hash;
        }
        // The `type` attribute says which items to read whole; the record itself must agree.
        if (item.type?.S === DIGEST_TYPE) {
          const digest = await this.recordOf(item);
          if (digest.type === DIGEST_TYPE) {
            this.lastDigest = { seq: digest.seq, hash: digest.hash };
            break;
          }
        }
      }
    } catch (err) {
      throw auditStoreError("Query (finding the chain's end)", this.table, this.prefix, err);
    } finally {
      await items.return(undefined);
    }
  }

  /** Brings the state up to the chain's end: what other replicas appended since this one last knew it. */
  private async refresh(): Promise<void> {
    let end: Item | undefined;
    let digest: Item | undefined;
    try {
      for await (const item of queryAll(this.client, {
        TableName: this.table,
        KeyConditionExpression: '#c = :c AND #s > :known',
        ExpressionAttributeNames: { '#c': 'chain', '#s': 'seq' },
        ExpressionAttributeValues: { ':c': { S: AUDIT_CHAIN }, ':known': { N: String(this.seq) } },
      })) {
        end = item;
        if (item.type?.S === DIGEST_TYPE) digest = item;
      }
      if (!end) return;
      const record = await this.recordOf(end);
      const signed = digest && (await this.recordOf(digest));
      this.seq = record.seq;
      this.last = record.hash;
      if (signed?.type === DIGEST_TYPE) this.lastDigest = { seq: signed.seq, hash: signed.hash };
    } catch (err) {
      throw auditStoreError('Query (reading what other replicas appended)', this.table, this.prefix, err);
    }
  }
}

/**
 * The chain in `<prefix>audit`, for the verifier (./audit-verify.ts): each record's text in order of
 * its item's `seq`, and that `seq`. An item whose value cannot be read gives '' (not a record).
 */
export async function readAuditChain(client: DynamoDBClient, prefix = DEFAULT_STORE_PREFIX): Promise<{ table: string; lines: string[]; positions: number[] }> {
  const table = storeTables(prefix).audit;
  const lines: string[] = [];
  const positions: number[] = [];
  try {
    for await (const item of queryAll(client, {
      TableName: table,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'chain' },
      ExpressionAttributeValues: { ':c': { S: AUDIT_CHAIN } },
    })) {
      positions.push(Number(item.seq?.N));
      lines.push(await decodeValue(item, (blob, parts) => readParts(client, table, { hash: 'chain', range: 'seq' }, blob, parts)).catch(() => ''));
    }
  } catch (err) {
    throw storeError('Query (reading the audit chain)', table, prefix, err);
  }
  return { table, lines, positions };
}

/**
 * Each run's last recorded audit hash in the DynamoDB run store: the last journal record of each run
 * that names one (`auditHash`), read backwards from the journal's end. Sorted by run id.
 */
export async function runAuditHashes(client: DynamoDBClient, prefix = DEFAULT_STORE_PREFIX): Promise<Array<{ id: string; auditHash: string }>> {
  const tables = storeTables(prefix);
  const ids = await runIds(client, tables.runs).catch((err: unknown) => {
    throw storeError('Scan (listing runs)', tables.runs, prefix, err);
  });

  const lastHash = async (id: string): Promise<string | undefined> => {
    const items = queryAll(client, {
      TableName: tables.journal,
      // Records are numbered from 1; anything else under the run is not a record.
      KeyConditionExpression: '#run = :run AND #seq >= :one',
      ExpressionAttributeNames: { '#run': 'run', '#seq': 'seq' },
      ExpressionAttributeValues: { ':run': { S: id }, ':one': { N: '1' } },
      ScanIndexForward: false,
      Limit: 25,
    });
    try {
      for await (const item of items) {
        const text = await decodeValue(item, (blob, parts) => readParts(client, tables.items, { hash: 'id', range: 'chunk' }, blob, parts)).catch(() => '');
        try {
          const auditHash = (JSON.parse(text) as { auditHash?: unknown }).auditHash;
          if (typeof auditHash === 'string') return auditHash;
        } catch {
          // An unreadable record names no hash; the one before it may.
        }
      }
      return undefined;
    } catch (err) {
      throw storeError(`Query (reading run ${id}'s journal)`, tables.journal, prefix, err);
    } finally {
      await items.return(undefined);
    }
  };

  const hashes = new Array<string | undefined>(ids.length);
  await eachLimited(ids, async (id, i) => {
    hashes[i] = await lastHash(id);
  });
  return ids.flatMap((id, i) => (hashes[i] ? [{ id, auditHash: hashes[i] }] : []));
}
