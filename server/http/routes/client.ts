/**
 * The browser notebook: `/` serves client/index.html and exchanges `/?token=…` for the sign-in
 * cookie (then redirects to `/`, so the token leaves the address bar and the history); the bundle
 * in client/dist/ and the style sheets in client/ are served with their types. Nothing outside
 * those two folders is ever read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFile, realpath } from 'node:fs/promises';
import { extname, isAbsolute, join, relative } from 'node:path';
import type { Gate } from '../guard.js';
import { PUBLIC_ROUTE, setCookieHeader } from '../guard.js';
import { signInSource } from '../sign-in-source.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

// Plain file names in plain folders: no dot files, no `..`, nothing a path could be bent with.
const ASSET_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page(title: string, text: string, link?: { href: string; text: string }): string {
  const a = link ? `<p><a href="${esc(link.href)}">${esc(link.text)}</a></p>` : '';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(text)}</p>${a}</body></html>\n`;
}

async function readInside(folder: string, path: string): Promise<Buffer | undefined> {
  try {
    const [root, file] = await Promise.all([realpath(folder), realpath(join(folder, path))]);
    const rel = relative(root, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}

export function clientRoutes(app: FastifyInstance, options: { clientDir?: string; gate: Gate }): void {
  const { clientDir, gate } = options;

  app.get<{ Querystring: { token?: string } }>('/', PUBLIC_ROUTE, async (request, reply) => {
    const token = typeof request.query.token === 'string' ? request.query.token : undefined;
    if (token !== undefined) return exchange(request, reply, token);
    const html = clientDir ? await readInside(clientDir, 'index.html') : undefined;
    if (!html) {
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(page('Client not built', 'The browser notebook is not built: run `npm run build` in the project folder, then reload. The API under /api works without it.'));
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });

  async function exchange(request: FastifyRequest, reply: FastifyReply, token: string) {
    const html = (code: number) => reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    // Another page's request is answered without looking at the token (sign-in-source.ts): it can
    // neither sign the browser in nor spend the failure limit. A link the user followed from
    // another site gets one click to go on, from this server's own page.
    const source = signInSource(request.headers);
    if (source === 'other-page-load') {
      return html(401).send(page('Sign-in refused', 'A sign-in link works only when opened as a page: paste the URL printed by `runbooks serve` into the address bar.'));
    }
    if (source === 'other-page-link') {
      return html(200).send(
        page('Sign in to runbooks', 'This sign-in link was opened from another site. Go on only if you opened it yourself.', {
          href: `/?token=${encodeURIComponent(token)}`,
          text: 'Sign in',
        }),
      );
    }
    const principal = gate.auth.byToken(token);
    if (!principal) {
      if (gate.limiter.fail({ ip: request.ip, token })) {
        return html(429).send(page('Too many attempts', 'Too many failed sign-in attempts: wait a minute, then open the URL printed by `runbooks serve`.'));
      }
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(page('Invalid token', 'This token is not valid: open the URL printed by `runbooks serve` (the token changes at every start unless --token is given).'));
    }
    return reply.header('set-cookie', setCookieHeader(gate.auth.cookieFor(principal), gate.auth.config.secureCookie === true)).redirect('/', 302);
  }

  if (!clientDir) return;

  app.get<{ Params: { '*': string } }>('/*', PUBLIC_ROUTE, async (request, reply) => {
    const path = request.params['*'];
    const ext = extname(path).toLowerCase();
    const type = TYPES[ext];
    if (!ASSET_PATH.test(path) || !type) return reply.callNotFound();
    // The bundle lives in client/dist/; style sheets sit in client/ itself.
    const body = (await readInside(join(clientDir, 'dist'), path)) ?? (ext === '.css' ? await readInside(clientDir, path) : undefined);
    if (!body) return reply.callNotFound();
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });
}
