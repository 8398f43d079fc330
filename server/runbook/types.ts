/** Plain data produced by the parser and consumed by every later stage. Positions are 1-based. */
import type { OperationName, PartiqlKind } from './operations.js';
import type { OutputRef } from './templates.js';

export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'date' | 'datetime';

export interface ParamDecl {
  name: string;
  type: ParamType;
  description?: string;
  /** string only: the whole value must match */
  pattern?: string;
  required: boolean;
  /** the declared default, already coerced to the parameter's type */
  default?: string | number | boolean;
  min?: number;
  max?: number;
  /** enum only */
  values?: string[];
  line: number;
}

export type ApprovalPolicy = 'none' | 'writes' | 'all';

export interface AccessDecl {
  /** role ARN; absent means the server's configured (or the sandbox's first) role */
  role?: string;
  /** seconds each STS session may live at most (minimum 900) */
  duration: number;
  approval: ApprovalPolicy;
  /** seconds an approval request or approval stays usable (default 3600, docs/format.md) */
  approvalTtl?: number;
}

export type StepLanguage = 'dynamodb' | 'partiql';

export interface Step {
  /** `[a-z0-9][a-z0-9-]*`, unique in the file; default `step-N` */
  name: string;
  /** the nearest heading above the block, else the name */
  title: string;
  language: StepLanguage;
  /** the block's text exactly as written */
  source: string;
  /** line of the opening fence */
  line: number;
  /** line of the first line of the block's body */
  bodyLine: number;
  /** the DynamoDB operation; PartiQL steps are `ExecuteStatement` */
  operation: OperationName | 'ExecuteStatement';
  /** PartiQL steps only: the statement kind (decides the IAM action and the write flag) */
  statementKind?: PartiqlKind;
  write: boolean;
  maxItems: number;
  /** the `approval` attribute as written, if any */
  approval?: boolean;
  /** true when this step needs a second person's approval (attribute or `access.approval`) */
  needsApproval: boolean;
  /** dynamodb steps: the parsed request without `operation`, templates still unrendered */
  request?: Record<string, unknown>;
  /** dynamodb steps whose values are typed DynamoDB JSON (docs/format.md, "Typed values") */
  values?: 'typed';
  /** the outputs of earlier steps its templates use (docs/format.md, "Step outputs"), each once */
  inputs?: OutputRef[];
}

export type Section = { kind: 'prose'; markdown: string; line: number } | { kind: 'step'; step: string };

export interface Runbook {
  /** path relative to the runbooks folder without `.md`, using `/` (absent for a lone file) */
  id?: string;
  file: string;
  title: string;
  description?: string;
  tags: string[];
  params: ParamDecl[];
  access: AccessDecl;
  /** front matter `redact`: attribute names and dotted paths masked in results (docs/format.md, "Redaction") */
  redact?: string[];
  sections: Section[];
  steps: Step[];
}

export interface RunbookProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A step rendered with parameter values: what the access layer and the executor receive. */
export type RenderedRequest =
  | {
      operation: OperationName;
      input: Record<string, unknown>;
      /**
       * paths in `input` of values kept in DynamoDB JSON (`{"SS": […]}`, `{"B": …}`, `{"N": …}`)
       * because plain JSON cannot hold them exactly; the executor sends them as their type
       */
      typedValues?: ValuePath[];
    }
  | {
      operation: 'ExecuteStatement';
      statementKind: PartiqlKind;
      input: { Statement: string; Parameters?: unknown[] };
    };

/** A path into a request: field names, attribute names and list indexes. */
export type ValuePath = Array<string | number>;

/** Parameter values after validation and coercion. */
export type ParamValues = Record<string, string | number | boolean>;
