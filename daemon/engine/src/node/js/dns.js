// node:dns: loads, but bolt's sandbox resolves no names itself (its HTTP client does).

import { refusing } from 'bolt:node/internal/errors';

const WHY = "resolves names itself, which bolt's sandbox does not allow (bolt's HTTP client resolves the hosts it connects to)";
const NAMES = ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname',
  'resolveMx', 'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse',
  'setServers'];

const dns = {};
for (const name of NAMES) dns[name] = refusing(`dns.${name}`, WHY);
dns.getServers = () => [];
dns.setDefaultResultOrder = () => {};
dns.getDefaultResultOrder = () => 'ipv4first';
dns.Resolver = refusing('dns.Resolver', WHY);
dns.promises = {};
for (const name of NAMES) dns.promises[name] = async (...args) => refusing(`dns.promises.${name}`, WHY)(...args);
dns.promises.getServers = () => [];
dns.promises.Resolver = refusing('dns.promises.Resolver', WHY);
Object.assign(dns, {
  ADDRCONFIG: 1024, V4MAPPED: 2048, ALL: 256, NODATA: 'ENODATA', FORMERR: 'EFORMERR', SERVFAIL: 'ESERVFAIL',
  NOTFOUND: 'ENOTFOUND', NOTIMP: 'ENOTIMP', REFUSED: 'EREFUSED', BADQUERY: 'EBADQUERY', BADNAME: 'EBADNAME',
  BADFAMILY: 'EBADFAMILY', BADRESP: 'EBADRESP', CONNREFUSED: 'ECONNREFUSED', TIMEOUT: 'ETIMEOUT', EOF: 'EOF',
  FILE: 'EFILE', NOMEM: 'ENOMEM', DESTRUCTION: 'EDESTRUCTION', BADSTR: 'EBADSTR', BADFLAGS: 'EBADFLAGS',
  NONAME: 'ENONAME', BADHINTS: 'EBADHINTS', NOTINITIALIZED: 'ENOTINITIALIZED', LOADIPHLPAPI: 'ELOADIPHLPAPI',
  ADDRGETNETWORKPARAMS: 'EADDRGETNETWORKPARAMS', CANCELLED: 'ECANCELLED',
});

export const {
  lookup, lookupService, resolve, resolve4, resolve6, resolveAny, resolveCaa, resolveCname, resolveMx, resolveNaptr,
  resolveNs, resolvePtr, resolveSoa, resolveSrv, resolveTxt, reverse, setServers, getServers, setDefaultResultOrder,
  getDefaultResultOrder, Resolver, promises,
} = dns;
export default dns;
