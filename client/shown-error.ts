/** A failure as the page shows it (error-box.ts): what went wrong and the code to search for. No DOM here. */
import { ApiError } from './api.js';

export interface ShownError {
  code: string;
  message: string;
  awsCode?: string;
}

/** The error of a failed call or execution in a shape an error box shows. */
export function toShownError(err: unknown): ShownError {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) return err as ShownError;
  return { code: 'CLIENT', message: err instanceof Error ? err.message : String(err) };
}
