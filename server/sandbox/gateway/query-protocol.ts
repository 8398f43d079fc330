/**
 * The AWS Query protocol of STS and IAM: form-encoded `Action=…&Version=…` requests, XML answers,
 * and errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 */

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** A reply of the gateway: status, headers and body. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A Query-protocol error as AWS names it (`ValidationError`, `AccessDenied`, `NoSuchEntity`…). */
export class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** An XML element: text is escaped; children are already-built XML. */
export function el(name: string, content: string | number | boolean | undefined, raw = false): string {
  if (content === undefined) return '';
  return `<${name}>${raw ? content : escapeXml(String(content))}</${name}>`;
}

/** The list shape of the Query protocol: `<member>…</member>` items. */
export function members(items: readonly string[]): string {
  return items.map((i) => el('member', i)).join('');
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` (no Result for actions without one). */
export function queryResponse(action: string, namespace: string, result: string | undefined, requestId: string): Reply {
  const body =
    `<${action}Response xmlns="${namespace}">` +
    (result === undefined ? '' : `<${action}Result>${result}</${action}Result>`) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

/** An error reply; `Type` is Sender for the caller's faults, as for everything the sandbox refuses. */
export function queryError(code: string, message: string, status: number, namespace: string, requestId: string): Reply {
  const body =
    `<ErrorResponse xmlns="${namespace}">` +
    `<Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>${el('Code', code)}${el('Message', message)}</Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

/** Reads the `Prefix.member.N` list (or `Prefix.member.N.Field` structures) of a Query request. */
export function memberList(params: URLSearchParams, prefix: string): Array<Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  const head = `${prefix}.member.`;
  for (const [k, v] of params) {
    if (!k.startsWith(head)) continue;
    const rest = k.slice(head.length);
    const dot = rest.indexOf('.');
    const index = Number(dot === -1 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(index) || index < 1) continue;
    const entry = out.get(index) ?? {};
    entry[dot === -1 ? '' : rest.slice(dot + 1)] = v;
    out.set(index, entry);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}
