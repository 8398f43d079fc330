/**
 * Hash routes, so that a reload keeps the place and the server needs to serve only `/`:
 * `#/` (runbooks), `#/runbooks/<id with slashes>`, `#/runs`, `#/runs/<run>`, `#/approvals`.
 */

export type Route =
  { name: 'runbooks' } | { name: 'runbook'; id: string } | { name: 'runs' } | { name: 'run'; id: string } | { name: 'approvals' } | { name: 'not-found'; path: string };

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses a location hash (`#/runs/ab12`) into a route. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (path === '' || path === 'runbooks') return { name: 'runbooks' };
  const parts = path.split('/');
  const decoded = parts.map(decode);
  if (decoded.some((p) => p === undefined || p === '')) return { name: 'not-found', path };
  const [head, ...rest] = decoded as string[];
  if (head === 'runbooks' && rest.length > 0) return { name: 'runbook', id: rest.join('/') };
  if (head === 'runs' && rest.length === 0) return { name: 'runs' };
  if (head === 'runs' && rest.length === 1) return { name: 'run', id: rest[0] };
  if (head === 'approvals' && rest.length === 0) return { name: 'approvals' };
  return { name: 'not-found', path };
}

/** The hash of a route; the inverse of {@link parseRoute}. */
export function routeHash(route: Route): string {
  switch (route.name) {
    case 'runbooks':
      return '#/';
    case 'runbook':
      return `#/runbooks/${route.id.split('/').map(encodeURIComponent).join('/')}`;
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${encodeURIComponent(route.id)}`;
    case 'approvals':
      return '#/approvals';
    case 'not-found':
      return `#/${route.path}`;
  }
}
