const out = [];
for (const [path, init] of [['/echo', { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } }], ['/gzip'], ['/deflate'], ['/br'], ['/binary'], ['/text'], ['/empty'], ['/redirect/2'], ['/status/404']]) {
  try {
    const r = await fetch(`${testServer}${path}`, init);
    out.push([path, r.status, (await r.text()).slice(0, 40)]);
  } catch (e) { out.push([path, 'ERR', String(e), e.cause && String(e.cause)]); }
}
check('debug', out, 0);
