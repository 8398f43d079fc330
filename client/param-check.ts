/**
 * Parameter validation in the form, before anything runs. It applies the server's own rules
 * (server/runbook/params.ts is plain code without Node dependencies and is bundled in), so the
 * form and the server never disagree on what is valid.
 */
import { coerceParams } from '../server/runbook/params.js';
import type { ParamDecl } from './api-types.js';

/** Form values by parameter name, as typed (empty string = not given). */
export type FormValues = Record<string, string>;

/** Per-parameter error messages of a form, as sentences naming the parameter. */
export function checkParams(decls: ParamDecl[], values: FormValues): Map<string, string> {
  const given: Record<string, string> = {};
  for (const decl of decls) if (values[decl.name] !== undefined) given[decl.name] = values[decl.name];
  const errors = new Map<string, string>();
  for (const e of coerceParams(decls, given).errors) errors.set(e.param, paramMessage(e.param, e.message));
  return errors;
}

/** `is required: give a string` → `customerId is required: give a string`; a message naming a value stays as written. */
export function paramMessage(param: string, message: string): string {
  if (/^(is|must|contains) /.test(message)) return `${param} ${message}.`;
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** A short description of what a parameter accepts, shown under its field. */
export function paramHint(decl: ParamDecl): string {
  const parts: string[] = [];
  switch (decl.type) {
    case 'string':
      parts.push(decl.pattern ? `text matching ${decl.pattern}` : 'text');
      break;
    case 'integer':
      parts.push('whole number');
      break;
    case 'number':
      parts.push('number');
      break;
    case 'boolean':
      parts.push('true or false');
      break;
    case 'enum':
      parts.push('one of the listed values');
      break;
    case 'date':
      parts.push('date, YYYY-MM-DD');
      break;
    case 'datetime':
      parts.push('date and time with a zone, e.g. 2026-11-27T09:30:00Z');
      break;
  }
  if (decl.min !== undefined && decl.max !== undefined) parts.push(`${decl.min} to ${decl.max}`);
  else if (decl.min !== undefined) parts.push(`at least ${decl.min}`);
  else if (decl.max !== undefined) parts.push(`at most ${decl.max}`);
  if (decl.default !== undefined) parts.push(`default ${String(decl.default)}`);
  return parts.join(' · ');
}
