/**
 * The parameter form, generated from the runbook's declarations: a select for enums and booleans,
 * a date input for dates, text for the rest (typed numbers stay visible when invalid, so the
 * message can say what is wrong with them). Each field is checked as it is left and again before
 * anything runs, with the server's own rules; a message appears under the field that has it.
 */
import type { ParamDecl } from '../api-types.js';
import { h, uniqueId } from '../dom.js';
import { checkParams, paramHint, paramMessage, type FormValues } from '../param-check.js';

interface Field {
  decl: ParamDecl;
  control: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  touched: boolean;
}

export class ParamForm {
  readonly element: HTMLFormElement;
  private readonly fields: Field[] = [];
  private readonly formError: HTMLElement;
  private submitted = false;

  constructor(
    private readonly decls: ParamDecl[],
    initial: FormValues,
    submitLabel: string,
    onSubmit: () => void,
  ) {
    const titleId = uniqueId('params-title');
    this.formError = h('div', { class: 'form-error' });
    const submit = h('button', { type: 'submit', class: 'button primary' }, submitLabel);
    this.element = h(
      'form',
      { class: 'card params', novalidate: true, 'aria-labelledby': titleId },
      h('h2', { id: titleId }, 'Parameters'),
      decls.length === 0 ? h('p', { class: 'muted' }, 'This runbook takes no parameters.') : null,
      h(
        'div',
        { class: 'param-grid' },
        decls.map((decl) => this.field(decl, initial[decl.name])),
      ),
      this.formError,
      h('div', { class: 'form-actions' }, submit, h('span', { class: 'muted' }, 'or run any step: a run starts with these values.')),
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      onSubmit();
    });
  }

  private field(decl: ParamDecl, initial: string | undefined): HTMLElement {
    const id = uniqueId(`param-${decl.name}`);
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const value = initial ?? (decl.default !== undefined ? String(decl.default) : '');
    let control: HTMLInputElement | HTMLSelectElement;
    if (decl.type === 'enum' || decl.type === 'boolean') {
      const values = decl.type === 'enum' ? (decl.values ?? []) : ['true', 'false'];
      const blank = decl.default === undefined ? [h('option', { value: '' }, decl.required ? 'Choose…' : '(none)')] : [];
      control = h(
        'select',
        { id, name: decl.name },
        blank,
        values.map((v) => h('option', { value: v }, v)),
      );
      control.value = value;
    } else {
      control = h('input', {
        id,
        name: decl.name,
        type: decl.type === 'date' ? 'date' : 'text',
        inputmode: decl.type === 'integer' ? 'numeric' : decl.type === 'number' ? 'decimal' : undefined,
        placeholder: decl.type === 'datetime' ? '2026-11-27T09:30:00Z' : undefined,
        autocomplete: 'off',
        spellcheck: 'false',
        class: decl.type === 'string' || decl.type === 'datetime' ? 'mono' : undefined,
      });
      control.value = value;
    }
    control.setAttribute('aria-describedby', `${hintId} ${errorId}`);
    if (decl.required && decl.default === undefined) control.setAttribute('aria-required', 'true');
    const error = h('p', { id: errorId, class: 'field-error' });
    const field: Field = { decl, control, error, touched: false };
    this.fields.push(field);
    control.addEventListener('blur', () => {
      field.touched = true;
      this.check([field]);
    });
    control.addEventListener('input', () => {
      if (field.touched || this.submitted) this.check([field]);
    });
    control.addEventListener('change', () => {
      field.touched = true;
      this.check([field]);
    });
    return h(
      'div',
      { class: 'field' },
      h('label', { for: id }, h('span', { class: 'mono' }, decl.name), decl.required && decl.default === undefined ? h('span', { class: 'required' }, 'required') : null),
      control,
      h('p', { id: hintId, class: 'field-hint' }, [decl.description, paramHint(decl)].filter(Boolean).join(' — ')),
      error,
    );
  }

  /** The values as typed; empty means not given. */
  values(): FormValues {
    const out: FormValues = {};
    for (const f of this.fields) out[f.decl.name] = f.control.value.trim() === '' ? '' : f.control.value;
    return out;
  }

  private check(fields: Field[]): Map<string, string> {
    const errors = checkParams(this.decls, this.values());
    for (const f of fields) this.show(f, errors.get(f.decl.name));
    return errors;
  }

  private show(field: Field, message: string | undefined): void {
    field.error.textContent = message ?? '';
    if (message) field.control.setAttribute('aria-invalid', 'true');
    else field.control.removeAttribute('aria-invalid');
  }

  /** Checks every field; on errors shows them, focuses the first bad field and returns false. */
  validate(): boolean {
    this.submitted = true;
    this.formError.replaceChildren();
    const errors = this.check(this.fields);
    const first = this.fields.find((f) => errors.has(f.decl.name));
    first?.control.focus();
    return !first;
  }

  /** Shows the server's per-parameter errors (a 400 on start). */
  showServerErrors(errors: Array<{ param: string; message: string }>): void {
    for (const e of errors) {
      const field = this.fields.find((f) => f.decl.name === e.param);
      if (field) this.show(field, paramMessage(e.param, e.message));
    }
    this.fields.find((f) => errors.some((e) => e.param === f.decl.name))?.control.focus();
  }

  /** Shows an error that belongs to the form as a whole. */
  showError(node: Node | null): void {
    this.formError.replaceChildren(...(node ? [node] : []));
  }
}
