/**
 * DynamoDB Local's own launcher binds every network interface and has no option to say otherwise,
 * while the gateway must be the only way in. java/LoopbackDynamoDBLocal.java starts the same server
 * with its connector bound to 127.0.0.1; it is compiled once with the JDK's javac into dist/java/
 * (atomically, since several sandboxes may start at once) and reused.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLASS = 'LoopbackDynamoDBLocal';

/** The project's root: the folder above this module holding package.json (source or dist/ layout). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'server', 'sandbox')) === false) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package root not found');
    dir = parent;
  }
  return dir;
}

let cached: Promise<string | undefined> | undefined;

/**
 * The class folder holding the loopback launcher, compiling it if needed; undefined when no javac
 * is available (a JRE without a JDK), in which case DynamoDB Local is started with its own launcher.
 */
export function loopbackLauncher(java: string, jar: string): Promise<string | undefined> {
  cached ??= build(java, jar);
  return cached;
}

async function build(java: string, jar: string): Promise<string | undefined> {
  const root = packageRoot();
  const source = join(root, 'server', 'sandbox', 'java', `${CLASS}.java`);
  const out = join(root, 'dist', 'java');
  const compiled = join(out, `${CLASS}.class`);
  if (!existsSync(source)) return undefined;
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs) return out;
  const javac = join(dirname(java === 'java' ? '' : java), 'javac');
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    mkdirSync(tmp, { recursive: true });
    await new Promise<void>((done, fail) =>
      execFile(java === 'java' ? 'javac' : javac, ['--release', '17', '-nowarn', '-cp', jar, '-d', tmp, source], { timeout: 60_000 }, (err) =>
        err ? fail(new Error(err.message, { cause: err })) : done(),
      ),
    );
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return out;
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    // Another process may have compiled it meanwhile.
    return existsSync(compiled) ? out : undefined;
  }
}
