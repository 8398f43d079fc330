/**
 * How the sandbox talks to DynamoDB Local itself. Started with -sharedDb, DynamoDB Local serves one
 * database whatever the credentials, but still wants a well-formed SigV4 Authorization header (an
 * access key of letters and digits); it does not check the signature.
 */
export const LOCAL_ACCESS_KEY = 'sandboxlocal';

export const LOCAL_AUTHORIZATION = `AWS4-HMAC-SHA256 Credential=${LOCAL_ACCESS_KEY}/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`;

/** Fixed credentials for SDK clients that talk to DynamoDB Local directly (seeding, test set-up). */
export const LOCAL_CREDENTIALS = { accessKeyId: LOCAL_ACCESS_KEY, secretAccessKey: 'sandboxlocal' } as const;
