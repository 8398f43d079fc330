// Placeholder until this command is built; replaced by its implementation.
export async function checkCommand(..._args: unknown[]): Promise<number> {
  process.stderr.write('runbooks: this command is not built yet\n');
  return 2;
}
