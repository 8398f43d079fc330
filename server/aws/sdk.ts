/** Settings shared by every AWS SDK client the server builds (STS, IAM, DynamoDB). */

/** Where a client talks to: the region and, for the sandbox or a custom endpoint, its URL. */
export interface AwsTarget {
  region: string;
  /** e.g. the sandbox gateway; absent means the SDK's own endpoint resolution (AWS_ENDPOINT_URL_* honoured) */
  endpoint?: string;
}

// The SDK warns on stderr, once per process, that its future versions will need a newer Node. The
// server runs on the Node it declares and its output must stay clean, so the notice is switched off
// as soon as this module loads, before any client exists.
quietSdk();

function quietSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** Client options common to all clients. */
export function clientOptions(target: AwsTarget): { region: string; endpoint?: string; maxAttempts: number } {
  quietSdk();
  return {
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    // The SDK retries throttling and transient faults itself; three attempts keeps a step responsive.
    maxAttempts: 3,
  };
}

/** Replaces every occurrence of the given secrets (and anything shaped like a session token) in a text. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  // Session tokens are long base64 runs; no AWS error message needs one to be understood.
  return out.replace(/[A-Za-z0-9+/=]{100,}/g, '[redacted]');
}
