// node:net: loads (HTTP libraries import it at the top of their files), but bolt's sandbox
// opens no raw sockets, so every socket and server function throws ERR_BOLT_SANDBOX.

import { refusing } from 'bolt:node/internal/errors';

const WHY = "opens raw TCP sockets, which bolt's sandbox does not allow";
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const isIPv4 = (input) => IPV4.test(String(input));
export function isIPv6(input) {
  const text = String(input).replace(/%[0-9A-Za-z._~-]+$/, '');
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return false;
  const doubles = text.split('::').length - 1;
  if (doubles > 1) return false;
  const parts = text.split(':');
  const last = parts[parts.length - 1];
  const hasV4 = last.includes('.');
  if (hasV4 && !isIPv4(last)) return false;
  const groups = parts.filter((p) => p !== '').length + (hasV4 ? 1 : 0);
  if (doubles === 0 && groups !== 8) return false;
  if (doubles === 1 && groups > 7) return false;
  return parts.every((p, i) => p === '' ? true : (hasV4 && i === parts.length - 1) || /^[0-9a-fA-F]{1,4}$/.test(p));
}
export const isIP = (input) => (isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0);

export const Socket = refusing('net.Socket', WHY);
export const Stream = Socket;
export const Server = refusing('net.Server', WHY);
export const connect = refusing('net.connect', WHY);
export const createConnection = refusing('net.createConnection', WHY);
export const createServer = refusing('net.createServer', WHY);
export const BlockList = refusing('net.BlockList', WHY);
export const SocketAddress = refusing('net.SocketAddress', WHY);
export const getDefaultAutoSelectFamily = () => true;
export const setDefaultAutoSelectFamily = () => {};
export const getDefaultAutoSelectFamilyAttemptTimeout = () => 250;
export const setDefaultAutoSelectFamilyAttemptTimeout = () => {};

export default {
  isIP, isIPv4, isIPv6, Socket, Stream, Server, connect, createConnection, createServer, BlockList, SocketAddress,
  getDefaultAutoSelectFamily, setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
};
