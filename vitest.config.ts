import { defineConfig } from 'vitest/config';

// As in bin/runbooks.js: the SDK's notice about its future Node support is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One sandbox (DynamoDB Local + gateway) for the whole suite: DynamoDB Local takes seconds to start.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
