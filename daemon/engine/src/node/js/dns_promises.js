// node:dns/promises: every lookup rejects with ERR_BOLT_SANDBOX.
import { promises } from 'node:dns';

export const {
  lookup, lookupService, resolve, resolve4, resolve6, resolveAny, resolveCaa, resolveCname, resolveMx, resolveNaptr,
  resolveNs, resolvePtr, resolveSoa, resolveSrv, resolveTxt, reverse, setServers, getServers, Resolver,
} = promises;
export default promises;
