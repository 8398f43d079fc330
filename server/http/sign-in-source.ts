/**
 * Who asked for `/?token=…`, from the Fetch metadata headers browsers send (`Sec-Fetch-Site`,
 * `-Mode`, `-Dest`): the user — the address typed or pasted, opened from outside the browser, or
 * followed from this server's own page — or another page: a link on another site, or an `<img>`,
 * frame or script that any page can point here. Another port on the same host is another origin of
 * the same site (`same-site`), so a page on localhost:8000 counts as another page too. Requests
 * without the headers (scripts, curl, older browsers) count as the user's.
 *
 * Another page's request is answered without looking at its token, so it neither signs anyone in
 * nor counts as a failure, and a script that sends the headers itself learns nothing from it.
 */
export type SignInSource = 'user' | 'other-page-link' | 'other-page-load';

export function signInSource(headers: Record<string, string | string[] | undefined>): SignInSource {
  const value = (name: string) => {
    const v = headers[name];
    return typeof v === 'string' ? v.trim().toLowerCase() : undefined;
  };
  const site = value('sec-fetch-site');
  if (site === undefined || site === 'none' || site === 'same-origin') return 'user';
  // A top-level navigation can be the user following a link; frames and subresources never are.
  const dest = value('sec-fetch-dest');
  return value('sec-fetch-mode') === 'navigate' && (dest === undefined || dest === 'document') ? 'other-page-link' : 'other-page-load';
}
