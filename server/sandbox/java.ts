/** Finds a Java runtime for DynamoDB Local, which needs Java 17 or newer. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { RbError } from '../errors.js';

export interface JavaRuntime {
  command: string;
  major: number;
  version: string;
}

const MIN_MAJOR = 17;
const HOW = 'install Java 17 or newer (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`; macOS: `brew install openjdk@17`) or set JAVA_HOME';

let found: Promise<JavaRuntime> | undefined;

/** The `java` of JAVA_HOME, else the one on PATH; throws RB_ERR_SANDBOX_JAVA_MISSING if absent or too old. */
export function findJava(): Promise<JavaRuntime> {
  found ??= probe(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java');
  found.catch(() => (found = undefined));
  return found;
}

/** Runs `<command> -version` and reads the major version from its banner. */
export function probe(command: string): Promise<JavaRuntime> {
  return new Promise((resolve, reject) => {
    execFile(command, ['-version'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new RbError('RB_ERR_SANDBOX_JAVA_MISSING', `DynamoDB Local needs Java, and \`${command}\` was not found: ${HOW}.`));
        return;
      }
      // `java -version` writes to stderr: `openjdk version "17.0.15" 2025-04-15` or `java version "1.8.0_392"`.
      const m = /version "([^"]+)"/.exec(`${stderr}${stdout}`);
      if (err || !m) {
        reject(new RbError('RB_ERR_SANDBOX_JAVA_MISSING', `\`${command} -version\` failed (${err ? err.message : 'no version in its output'}): ${HOW}.`));
        return;
      }
      const parts = m[1].split(/[._+-]/).map(Number);
      const major = parts[0] === 1 ? parts[1] : parts[0];
      if (!(major >= MIN_MAJOR)) {
        reject(new RbError('RB_ERR_SANDBOX_JAVA_MISSING', `DynamoDB Local needs Java ${MIN_MAJOR} or newer, and \`${command}\` is Java ${m[1]}: ${HOW}.`));
        return;
      }
      resolve({ command, major, version: m[1] });
    });
  });
}
